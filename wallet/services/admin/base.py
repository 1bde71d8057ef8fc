"""What every part of the staff console shares: AdminError, the messages Region staff (or an
invited person) read for its codes, and the audit record of a staff action."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ...eligibility import Problem
from ...models import AuditEvent, User


class AdminError(Exception):
    """A refusal Region staff (or an invited person) can act on; `code` picks the message."""

    def __init__(self, code: str, problems: list[Problem] | None = None, text: str = "") -> None:
        self.code = code
        self.problems = problems or []
        self.text = text
        super().__init__(code)


MESSAGES = {
    "not_found": _l("Cette personne n'existe pas (ou plus)."),
    "bad_role": _l("Ce rôle n'existe pas : choisissez titulaire d'un portefeuille, personne qui accompagne ou "
                    "membre de l'équipe régionale."),
    "last_admin": _l("C'est le dernier compte administrateur : nommez d'abord une autre personne "
                     "administratrice, sinon plus personne ne pourrait gérer le portefeuille."),
    "bad_email": _l("Cette adresse e-mail n'est pas valide. Vérifiez-la (exemple : prenom.nom@exemple.fr)."),
    "address_has_account": _l("Cette adresse a déjà un compte confirmé : changez plutôt son rôle dans la "
                              "liste des personnes."),
    "invitation_invalid": _l("Ce lien d'invitation n'est pas valide. Vérifiez que vous avez copié le lien "
                             "entier, ou demandez une nouvelle invitation à la Région."),
    "invitation_used": _l("Ce lien d'invitation a déjà servi. Connectez-vous avec le compte créé, ou "
                          "demandez une nouvelle invitation à la Région."),
    "invitation_expired": _l("Ce lien d'invitation a expiré (il est valable 7 jours). Demandez une nouvelle "
                             "invitation à la Région."),
    "address_owned_elsewhere": _l("Cette adresse est déjà confirmée sur un autre compte. Connectez-vous avec ce "
                                  "compte, ou demandez à la Région de changer son rôle."),
    "bad_name": _l("Indiquez votre prénom ou votre nom (120 caractères au plus)."),
    "unknown_partner": _l("Ce partenaire n'est pas dans le référentiel en vigueur."),
    "unknown_entry": _l("Cet élément n'est pas dans le référentiel en vigueur."),
    "missing_field": _l("Remplissez les champs demandés."),
    "invalid": _l("Le référentiel modifié n'est pas valide : rien n'a été publié."),
    "unchanged": _l("Cette modification ne change rien au référentiel en vigueur."),
    "no_text": _l("Choisissez un fichier TOML ou collez son contenu."),
}


def message_for(code: str) -> str:
    if code.startswith("password_"):
        from ...views.messages import account_error

        return account_error(code)
    message = MESSAGES.get(code)
    return str(message) if message else _("Cette demande n'a pas pu aboutir.")


def audit(session: Session, actor: User | None, action: str, subject_id: int | None = None,
          detail: str = "") -> None:
    session.add(AuditEvent(actor_id=actor.id if actor else None, subject_id=subject_id, action=action,
                           detail=detail))
