"""Every sentence the partner-backpack journeys show, in French first (English in the catalogue):
for the learner (`message_for`) and for Region staff (`admin_message`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l


class ConnectionProblem(Exception):
    """A step of the learner's journey that cannot go on; `message` is for the person."""

    def __init__(self, code: str, status: int = 400, **params: Any) -> None:
        self.code = code
        self.status = status
        self.params = params
        super().__init__(code)

    @property
    def message(self) -> str:
        return message_for(self.code, self.params)


# ------------------------------------------------------------------------------------ messages

MESSAGES = {
    "url_refused": _l("L'adresse « %(url)s » (%(field)s) a été refusée : elle n'est pas sûre (adresse privée, "
                      "protocole non autorisé ou port inhabituel). Vérifiez l'adresse du partenaire."),
    "other_origin": _l("Le document du partenaire pointe vers un autre site (« %(url)s », %(field)s). Par "
                       "sécurité, les adresses où le portefeuille envoie ses secrets (inscription, jetons, API) "
                       "doivent être sur le site du partenaire. Contactez-le."),
    "too_large": _l("Le document de découverte du partenaire est trop volumineux (plus de %(max_kib)s Kio). "
                    "Contactez le partenaire."),
    "not_json": _l("Le document de découverte du partenaire est illisible. Vérifiez l'adresse ou contactez "
                   "le partenaire."),
    "bad_document": _l("Le document de découverte du partenaire est incomplet (champ %(field)s). Contactez "
                       "le partenaire."),
    "issuer_mismatch": _l("Le partenaire déclare une autre identité (« %(declared)s ») que son adresse "
                          "(« %(expected)s »). Par sécurité, il n'a pas été enregistré."),
    "no_protocol": _l("Aucun service Open Badges 3.0 ni Badge Connect 2.1 n'a été trouvé à cette adresse. "
                      "Vérifiez l'adresse de base du partenaire."),
    "unreachable": _l("Le partenaire n'a pas pu être joint. Réessayez plus tard."),
    "registration_failed": _l("Le partenaire a refusé l'inscription du portefeuille. Sa réponse : « %(error)s ». "
                              "Rien n'a été enregistré. Contactez-le avec ce message."),
    "scope_refused": _l("Le partenaire refuse de laisser le portefeuille lire les badges, même quand il ne demande "
                        "que cela. Sa réponse : « %(error)s ». Rien n'a été enregistré. Contactez-le avec ce "
                        "message."),
    "secret_expired": _l("Le partenaire a donné un secret déjà expiré. Réessayez ou contactez-le."),
    "already_registered": _l("Ce partenaire est déjà enregistré."),
    "unknown_partner": _l("Ce partenaire n'est plus proposé."),
    "missing_state": _l("Ce retour du partenaire est incomplet. Recommencez depuis la page « Mes comptes "
                        "chez les partenaires »."),
    "bad_state": _l("Ce retour du partenaire ne correspond à aucune demande de votre part. Recommencez depuis "
                    "la page « Mes comptes chez les partenaires »."),
    "used_state": _l("Ce lien de retour a déjà servi. Recommencez depuis la page « Mes comptes chez "
                   "les partenaires »."),
    "expired_state": _l("La demande a expiré (plus de 10 minutes). Recommencez depuis la page « Mes comptes "
                        "chez les partenaires »."),
    "wrong_partner": _l("Ce retour ne vient pas du partenaire attendu. Par sécurité, rien n'a été enregistré. "
                        "Recommencez."),
    "wrong_issuer": _l("Ce retour ne vient pas du serveur attendu. Par sécurité, rien n'a été enregistré. "
                       "Recommencez."),
    "denied": _l("Vous n'avez pas autorisé l'accès : rien n'a été importé. Vous pouvez recommencer quand vous "
                 "voulez."),
    "partner_refused": _l("Le partenaire n'a pas accordé l'accès (%(error)s). Réessayez plus tard."),
    "missing_code": _l("Le partenaire n'a pas renvoyé d'autorisation. Recommencez."),
    "token_failed": _l("Le partenaire a refusé l'autorisation. Recommencez dans quelques minutes."),
    "invalid_grant": _l("Le partenaire a mis fin à l'accès. Reconnectez votre compte chez ce partenaire pour reprendre."),
    "access_ended": _l("L'accès que vous aviez donné chez %(partner)s est terminé : ce partenaire ne le prolonge "
                       "pas tout seul. Reconnectez-vous pour recevoir vos nouveaux badges ; ceux déjà importés "
                       "restent ici."),
    "unknown_page": _l("Le partenaire a envoyé une liste de badges que le portefeuille ne sait pas lire. Rien "
                       "n'est perdu : nous réessaierons après %(until)s, et la Région est prévenue."),
    "reconnect_needed": _l("Ce compte doit être reconnecté avant de synchroniser."),
    "unauthorized": _l("Le partenaire n'accepte plus l'accès. Reconnectez votre compte chez ce partenaire."),
    "partner_down": _l("Le partenaire ne répond pas pour le moment. Vos badges déjà importés sont conservés ; "
                       "nous réessaierons plus tard."),
    "rate_limited": _l("Le partenaire demande d'attendre avant de réessayer. Nous réessaierons après "
                       "%(until)s."),
    "bad_response": _l("Le partenaire a envoyé une réponse illisible. Vos badges déjà importés sont conservés ; "
                       "nous réessaierons plus tard."),
    "busy": _l("Une autre synchronisation est en cours. Réessayez dans une minute."),
    "secret_unreadable": _l("Les secrets de ce partenaire ne peuvent plus être lus (clé de chiffrement changée). "
                            "Un administrateur doit réenregistrer le partenaire."),
}


def message_for(code: str, params: Mapping[str, Any] | None = None) -> str:
    text = MESSAGES.get(code, MESSAGES["bad_response"])
    values = {"url": "", "field": "", "max_kib": 256, "declared": "", "expected": "", "error": "?",
              "until": "", "partner": "", "keys": "", **{k: v for k, v in (params or {}).items() if v is not None}}
    if isinstance(values.get("until"), datetime):
        values["until"] = values["until"].astimezone(UTC).strftime("%d/%m/%Y %H:%M UTC")
    try:
        return str(text) % values
    except (KeyError, TypeError, ValueError):
        return str(text)




# What Region staff read on the partner backpacks page about the latest failed sync: the partner's
# side of the story, to pass on to it. Codes not listed here use the learner's sentence.
ADMIN_MESSAGES = {
    "unknown_page": _l("Le partenaire a envoyé une page de badges sans aucune des clés prévues par Badge "
                       "Connect ou Open Badges 3.0 (clés reçues : %(keys)s). Elle n'a pas été lue et sera "
                       "redemandée. Signalez-le au partenaire."),
    "bad_response": _l("Le partenaire a envoyé une réponse illisible (HTTP %(status)s). Elle sera redemandée. "
                       "Signalez-le au partenaire si cela dure."),
    "partner_down": _l("Le partenaire ne répondait pas. La synchronisation sera refaite plus tard."),
}


def admin_message(code: str, params: Mapping[str, Any] | None = None) -> str:
    text = ADMIN_MESSAGES.get(code)
    if text is None:
        return message_for(code, params)
    values = {"keys": "", "status": "?", **{k: v for k, v in (params or {}).items() if v is not None}}
    try:
        return str(text) % values
    except (KeyError, TypeError, ValueError):
        return str(text)
