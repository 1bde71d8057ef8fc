"""How a verification status reads on a card: a label and a chip style."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS = {
    "valid": (_l("Valide"), "ok"),
    "expired": (_l("Expiré"), "warn"),
    "revoked": (_l("Révoqué"), "err"),
    "suspended": (_l("Suspendu"), "err"),
    "invalid": (_l("Invalide"), "err"),
    "unverifiable": (_l("À vérifier"), "warn"),
    "not_yet_valid": (_l("Pas encore valide"), "warn"),
}


def status_label(status: str) -> tuple[str, str]:
    label, style = STATUS.get(status, (_l("Inconnu"), "warn"))
    return str(label), style
