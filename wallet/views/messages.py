"""What a person reads when a use case refuses: one message per error code."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..keys.passwords import MIN_LENGTH

ACCOUNT_ERRORS = {
    "bad_email": _l("Cette adresse e-mail n'est pas valide. Vérifiez-la (exemple : prenom.nom@exemple.fr)."),
    "bad_name": _l("Indiquez votre prénom ou votre nom (120 caractères au plus)."),
    "password_too_long": _l("Ce mot de passe est trop long (1 024 caractères au plus)."),
    "password_too_common": _l("Ce mot de passe est trop courant et facile à deviner. Choisissez-en un autre, "
                              "par exemple une phrase de plusieurs mots."),
    "password_personal": _l("Ce mot de passe contient votre nom ou votre adresse e-mail. Choisissez-en un autre."),
    "bad_credentials": _l("Adresse e-mail ou mot de passe incorrect."),
    "bad_current_password": _l("Le mot de passe actuel est incorrect."),
    "link_expired": _l("Ce lien a expiré. Demandez-en un nouveau."),
    "link_invalid": _l("Ce lien n'est pas valide ou a déjà servi. Vérifiez que vous avez copié le lien entier, "
                       "ou demandez-en un nouveau."),
    "link_used": _l("Ce lien a déjà servi : chaque lien ne marche qu'une seule fois. Si vous l'avez déjà "
                    "utilisé, c'est fait ; sinon, demandez-en un nouveau."),
    "address_owned_elsewhere": _l("Cette adresse est déjà confirmée sur un autre compte. Si ce compte est le vôtre, "
                                  "utilisez « Mot de passe oublié » avec cette adresse pour le retrouver."),
    "email_already_yours": _l("Cette adresse est déjà dans votre compte."),
    "too_many_emails": _l("Vous avez atteint le nombre maximum d'adresses (10). Retirez-en une d'abord."),
    "cannot_remove_primary": _l("Vous ne pouvez pas retirer votre adresse principale. Choisissez d'abord une autre "
                                "adresse principale."),
    "email_not_confirmed": _l("Confirmez d'abord cette adresse."),
    "not_found": _l("Cet élément n'existe pas."),
    "password_mismatch": _l("Les deux mots de passe ne sont pas identiques."),
    "last_admin": _l("Vous êtes le dernier compte administrateur : donnez d'abord ce rôle à une autre personne, "
                     "puis supprimez votre compte."),
}


def account_error(code: str) -> str:
    if code == "password_too_short":
        return _("Ce mot de passe est trop court : il faut au moins %(n)s caractères. Astuce : une phrase de "
                 "plusieurs mots est facile à retenir et difficile à deviner.", n=MIN_LENGTH)
    message = ACCOUNT_ERRORS.get(code)
    return str(message) if message else _("Cette demande n'a pas pu aboutir.")
