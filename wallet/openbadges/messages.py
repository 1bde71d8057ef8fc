"""The message catalog of the Open Badges core, in French (default) and English.

Written for a learner or an employer, not for a developer: the technical detail stays in the
check's params. `render(check, lang)` picks the sentence for the check id and its outcome
(`params["reason"]`, else ok / fail) and fills in the params it names. `render_error(code, lang)`
does the same for `BadgeInputError` codes (input that is not a badge at all).
"""

from __future__ import annotations

from typing import Any

from ..text.typography import french_spacing

LANGS = ("fr", "en")

# check id → outcome → (fr, en). "ok" and "fail" are the defaults for an outcome without a reason.
CATALOG: dict[str, dict[str, tuple[str, str]]] = {
    "input": {
        "ok": ("Badge lu ({format}), version Open Badges {version}.",
               "Badge read ({format}), Open Badges version {version}."),
        "no_version": ("Badge lu ({format}).", "Badge read ({format})."),
    },
    "structure": {
        "ok": ("Le badge est complet.", "The badge is complete."),
        "fail": ("Le badge est mal formé.", "The badge is malformed."),
        "missing": ("Il manque une information obligatoire au badge ({field}).",
                    "The badge lacks a required piece of information ({field})."),
        "wrong_type": ("Une partie du badge n'est pas du type attendu ({field}).",
                       "Part of the badge is not of the expected type ({field})."),
        "bad_date": ("Une date du badge est illisible ({field}).",
                     "A date in the badge cannot be read ({field})."),
        "context_order": ("Le badge ne suit pas le format Open Badges 3.0 (en-tête @context).",
                          "The badge does not follow the Open Badges 3.0 format (@context header)."),
        "not_json": ("Un document lié au badge est illisible ({url}).",
                     "A document linked to the badge cannot be read ({url})."),
        "not_a_badge": ("L'adresse du badge ne renvoie pas de badge ({url}).",
                        "The badge address does not return a badge ({url})."),
        "not_an_assertion": ("L'adresse du badge renvoie autre chose qu'un badge attribué ({url}).",
                             "The badge address returns something other than an awarded badge ({url})."),
        "verification_type": ("Le badge n'indique pas correctement comment le vérifier.",
                              "The badge does not say properly how to verify it."),
        "signed_without_jws": ("Ce badge se dit signé, mais sa signature manque.",
                               "This badge says it is signed, but its signature is missing."),
        "no_hosted_url": (("Ce badge n'indique pas d'adresse où l'émetteur le publie : il ne peut pas "
                          "être vérifié."),
                          ("This badge gives no address where its issuer publishes it: it cannot be "
                          "verified.")),
        "malformed": ("Le badge est mal formé.", "The badge is malformed."),
    },
    "context": {
        "ok": ("Le vocabulaire du badge est reconnu.", "The badge's vocabulary is recognised."),
        "fail": ("Une partie du vocabulaire du badge n'est pas reconnue.",
                 "Part of the badge's vocabulary is not recognised."),
        "unknown": ("Une extension du badge n'est pas reconnue ; ses informations sont ignorées ({url}).",
                    "A badge extension is not recognised; its information is ignored ({url})."),
        "inline": ("Le badge redéfinit son vocabulaire ; ces définitions sont ignorées.",
                   "The badge redefines its vocabulary; these definitions are ignored."),
        "inline_read": ("Le badge définit lui-même une partie de son vocabulaire ; il a été lu selon ces définitions.",
                        "The badge defines part of its vocabulary itself; it was read by those definitions."),
        "unreadable": (("Le vocabulaire du badge est contradictoire : il ne peut pas être lu de façon sûre."),
                       ("The badge's vocabulary contradicts itself: it cannot be read safely.")),
        "no_store": (("Les définitions de vocabulaire nécessaires ne sont pas installées : la signature "
                     "ne peut pas être vérifiée."),
                     ("The vocabulary definitions needed are not installed: the signature cannot be "
                     "checked.")),
        "missing_for_proof": (("La signature utilise un vocabulaire inconnu de ce portefeuille ({url}) : "
                              "elle ne peut pas être vérifiée."),
                              ("The signature uses a vocabulary this wallet does not know ({url}): it "
                              "cannot be checked.")),
    },
    "fetch": {
        "ok": ("Document récupéré.", "Document fetched."),
        "fail": ("Un document nécessaire à la vérification n'a pas pu être récupéré ({url}).",
                 "A document needed for verification could not be fetched ({url})."),
        "http_status": ("Le site de l'émetteur a répondu par une erreur ({status}) pour {url}.",
                        "The issuer's site answered with an error ({status}) for {url}."),
        "timeout": ("Le site de l'émetteur ne répond pas ({url}) : réessayez plus tard.",
                    "The issuer's site does not answer ({url}): try again later."),
        "network": ("Le site de l'émetteur est injoignable ({url}) : réessayez plus tard.",
                    "The issuer's site cannot be reached ({url}): try again later."),
        "blocked": ("Cette adresse n'est pas autorisée ({url}).", "This address is not allowed ({url})."),
        "scheme": ("Cette adresse n'est pas autorisée ({url}).", "This address is not allowed ({url})."),
        "redirects": ("Le site de l'émetteur redirige trop de fois ({url}).",
                      "The issuer's site redirects too many times ({url})."),
        "too_large": ("Le site de l'émetteur renvoie une réponse trop volumineuse ({url}).",
                      "The issuer's site sends an answer that is too large ({url})."),
        "offline": ("Vérification hors ligne : le site de l'émetteur n'a pas été consulté ({url}).",
                    "Offline verification: the issuer's site was not consulted ({url})."),
        "budget": ("Ce badge renvoie vers trop de documents pour être vérifié.",
                   "This badge links to too many documents to be verified."),
        "depth": ("Ce badge renvoie vers trop de documents pour être vérifié.",
                  "This badge links to too many documents to be verified."),
    },
    "hosted_id": {
        "ok": ("Le badge est bien publié à son adresse officielle.",
               "The badge is published at its official address."),
        "refetch": ("Le badge a été relu à l'adresse qu'il déclare ({id}).",
                    "The badge was read again from the address it declares ({id})."),
        "mismatch": ("Le badge publié à cette adresse déclare une autre adresse ({id}).",
                     "The badge published at this address declares another address ({id})."),
    },
    "authority": {
        "ok": ("Chaque document du badge vient bien de sa propre adresse.",
               "Each document of the badge comes from its own address."),
        "refetch": (("Un document du badge ({field}) a été relu à l'adresse qu'il déclare ({id}) : "
                    "seule la copie publiée à cette adresse compte."),
                    ("A document of the badge ({field}) was read again from the address it declares "
                    "({id}): only the copy published there counts.")),
        "mismatch": (("Un document du badge ({field}) n'est pas publié à l'adresse qu'il déclare "
                     "({id}) : il peut s'agir d'une contrefaçon."),
                     ("A document of the badge ({field}) is not published at the address it declares "
                     "({id}): it may be forged.")),
    },
    "hosted_origin": {
        "ok": ("Le badge est publié sur le site de son émetteur ({origin}).",
               "The badge is published on its issuer's site ({origin})."),
        "fail": ("Le badge n'est pas publié sur le site de son émetteur.",
                 "The badge is not published on its issuer's site."),
        "origin": (("Le badge est publié sur {origin}, qui n'est pas un site de son émetteur : "
                   "il peut s'agir d'une contrefaçon."),
                   ("The badge is published on {origin}, which is not one of its issuer's sites: "
                   "it may be forged.")),
        "starts_with": ("Le badge n'est pas publié à un emplacement autorisé par son émetteur.",
                        "The badge is not published at a location its issuer allows."),
        "issuer_not_http": (("L'émetteur n'a pas d'adresse web : l'origine du badge n'a pas pu être "
                            "contrôlée."),
                            "The issuer has no web address: the badge's origin could not be checked."),
    },
    "proof": {
        "ok": ("La signature du badge est valide.", "The badge's signature is valid."),
        "fail": ("La signature du badge n'est pas valide.", "The badge's signature is not valid."),
        "missing": ("Ce badge n'est pas signé : son authenticité ne peut pas être prouvée.",
                    "This badge is not signed: its authenticity cannot be proven."),
        "bad_signature": (("La signature ne correspond pas au contenu : le badge a été modifié ou "
                          "falsifié."),
                          "The signature does not match the content: the badge was altered or forged."),
        "bad_key": ("La clé de signature annoncée est inutilisable.",
                    "The announced signing key is unusable."),
        "no_key": ("Le badge n'indique pas quelle clé l'a signé.",
                   "The badge does not say which key signed it."),
        "unsupported": ("Ce badge utilise un type de signature que ce portefeuille ne sait pas vérifier.",
                        "This badge uses a kind of signature this wallet cannot check."),
        "unsupported_did": ("L'identifiant de la clé de signature n'est pas pris en charge.",
                            "The signing key's identifier is not supported."),
        "refused_jws": ("La signature de ce badge utilise une méthode refusée pour raison de sécurité.",
                        "This badge's signature uses a method refused for security reasons."),
        "claims_mismatch": ("Les informations signées ne correspondent pas au badge ({claim}).",
                            "The signed information does not match the badge ({claim})."),
        "jsonld": ("Le contenu signé du badge est mal formé.", "The badge's signed content is malformed."),
    },
    "key_owner": {
        "ok": ("La clé de signature appartient bien à l'émetteur.",
               "The signing key belongs to the issuer."),
        "fail": ("La clé de signature n'appartient pas à l'émetteur.",
                 "The signing key does not belong to the issuer."),
        "not_listed": ("La clé qui a signé ce badge ne fait pas partie des clés déclarées par l'émetteur.",
                       "The key that signed this badge is not one the issuer declares."),
        "owner_mismatch": ("La clé qui a signé ce badge appartient à quelqu'un d'autre que l'émetteur.",
                           "The key that signed this badge belongs to someone other than the issuer."),
        "controller_mismatch": (("La clé qui a signé ce badge appartient à quelqu'un d'autre que "
                                "l'émetteur."),
                                ("The key that signed this badge belongs to someone other than the "
                                "issuer.")),
        "not_published": (("L'émetteur ne publie pas la clé qui a signé ce badge : on ne peut pas "
                          "savoir qui l'a signé."),
                          ("The issuer does not publish the key that signed this badge: there is no "
                          "knowing who signed it.")),
        "iss_mismatch": ("La clé publiée est réservée à un autre émetteur.",
                         "The published key is reserved for another issuer."),
        "no_key": ("L'émetteur ne déclare aucune clé de signature.", "The issuer declares no signing key."),
        "not_assertion_method": ("La clé qui a signé ce badge n'est pas autorisée à signer des badges.",
                                 "The key that signed this badge is not allowed to sign badges."),
        "controller_unconfirmed": (("La clé qui a signé ce badge se dit celle de l'émetteur, mais "
                                   "l'émetteur ne la déclare pas : on ne peut pas savoir qui l'a signé."),
                                   ("The key that signed this badge claims to be the issuer's, but the "
                                   "issuer does not declare it: there is no knowing who signed it.")),
        "method_not_found": ("La clé qui a signé ce badge est introuvable chez l'émetteur.",
                             "The key that signed this badge cannot be found at the issuer."),
    },
    "revocation": {
        "ok": ("Le badge n'est pas révoqué.", "The badge is not revoked."),
        "fail": ("L'état de révocation du badge n'a pas pu être vérifié.",
                 "The badge's revocation status could not be checked."),
        "hosted": ("L'émetteur publie toujours ce badge : il n'est pas révoqué.",
                   "The issuer still publishes this badge: it is not revoked."),
        "no_list": ("L'émetteur ne publie pas de liste de révocation.",
                    "The issuer publishes no revocation list."),
        "no_status": ("L'émetteur n'a pas prévu de révocation pour ce badge.",
                      "The issuer provides no revocation for this badge."),
        "not_listed": ("Le badge ne figure pas parmi les badges révoqués par l'émetteur.",
                       "The badge is not among those the issuer revoked."),
        "revoked": ("L'émetteur a révoqué ce badge.", "The issuer has revoked this badge."),
        "suspended": ("L'émetteur a suspendu ce badge.", "The issuer has suspended this badge."),
        "unsupported": (("Le service de révocation de ce badge n'est pas pris en charge : son état "
                        "est inconnu."),
                        "This badge's revocation service is not supported: its status is unknown."),
        "list_not_at_its_id": (("La liste de révocation n'est pas publiée à l'adresse qu'elle déclare : "
                               "l'état du badge est inconnu."),
                               ("The revocation list is not published at the address it declares: the "
                               "badge's status is unknown.")),
        "bad_entry": ("Les informations de révocation du badge sont incomplètes : son état est inconnu.",
                      "The badge's revocation information is incomplete: its status is unknown."),
        "bad_list": ("La liste de révocation de l'émetteur est illisible : l'état du badge est inconnu.",
                     "The issuer's revocation list cannot be read: the badge's status is unknown."),
        "purpose_mismatch": ("La liste de révocation ne correspond pas au badge : son état est inconnu.",
                             "The revocation list does not match the badge: its status is unknown."),
        "list_not_authentic": (("La liste de révocation n'a pas pu être authentifiée : l'état du badge "
                               "est inconnu."),
                               ("The revocation list could not be authenticated: the badge's status "
                               "is unknown.")),
        "list_out_of_date": ("La liste de révocation n'est plus à jour : l'état du badge est inconnu.",
                             "The revocation list is out of date: the badge's status is unknown."),
    },
    "dates": {
        "ok": ("Le badge est en cours de validité.", "The badge is within its validity period."),
        "fail": ("Les dates du badge posent problème.", "The badge's dates are a problem."),
        "issued_in_future": ("La date de délivrance du badge est dans le futur.",
                             "The badge's issue date is in the future."),
        "expires_before_issued": ("Le badge expire avant d'avoir été délivré.",
                                  "The badge expires before it was issued."),
        "expired": ("Ce badge a expiré ({expires}).", "This badge has expired ({expires})."),
        "not_yet_valid": ("Ce badge n'est pas encore valable (à partir du {valid_from}).",
                          "This badge is not valid yet (from {valid_from})."),
    },
    "recipient": {
        "ok": ("Ce badge a bien été attribué à cette personne.", "This badge was awarded to this person."),
        "fail": ("Ce badge n'a pas été attribué à cette personne.", "This badge was not awarded to this person."),
        "not_matched": ("Ce badge n'est attribué à aucune des adresses indiquées.",
                        "This badge is not awarded to any of the addresses given."),
    },
}

SUFFIXES: dict[str, tuple[str, str]] = {
    "revocationReason": (" Motif : {revocationReason}.", " Reason: {revocationReason}."),
}

GENERIC = ("Vérification : {id}.", "Check: {id}.")

# BadgeInputError codes → (fr, en).
ERRORS: dict[str, tuple[str, str]] = {
    "endorsement": (("Ce document est une recommandation (« endorsement ») d'un badge ou d'un "
                    "émetteur, pas un badge : importez le badge lui-même."),
                    ("This document is an endorsement of a badge or an issuer, not a badge: import "
                    "the badge itself.")),
    "no_badge": (("Cette image ne contient pas de badge : elle a peut-être été enregistrée par clic "
                 "droit. Téléchargez-la depuis le site de l'émetteur."),
                 ("This image holds no badge: it may have been saved with a right click. Download it "
                 "from the issuer's site.")),
    "not_an_image": ("Ce fichier n'est pas une image de badge (PNG ou SVG attendu).",
                     "This file is not a badge image (PNG or SVG expected)."),
    "corrupt_image": ("Cette image est abîmée ou incomplète.", "This image is damaged or incomplete."),
    "ambiguous_badge": ("Cette image contient plusieurs badges différents : elle est refusée.",
                        "This image holds several different badges: it is refused."),
    "too_large": ("Ce fichier est trop volumineux.", "This file is too large."),
    "unsafe_svg": ("Cette image SVG contient des éléments dangereux : elle est refusée.",
                   "This SVG image contains dangerous elements: it is refused."),
    "bad_encoding": ("Le badge contenu dans cette image est illisible.",
                     "The badge in this image cannot be read."),
    "not_json": ("Ce fichier n'est pas un badge lisible.", "This file is not a readable badge."),
    "duplicate_keys": ("Ce badge est ambigu (informations en double) : il est refusé.",
                       "This badge is ambiguous (duplicated information): it is refused."),
    "too_deep": ("Ce badge est trop complexe pour être lu.", "This badge is too complex to be read."),
    "bad_jws": ("La signature de ce badge est illisible.", "This badge's signature cannot be read."),
    "not_a_badge": ("Ce fichier ou cette adresse ne contient pas de badge.",
                    "This file or address holds no badge."),
    "unreadable": ("Ce fichier est illisible.", "This file cannot be read."),
}


class _Params(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _display(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return "?" if value is None else str(value)


def _fill(template: str, params: dict[str, Any]) -> str:
    return template.format_map(_Params({k: _display(v) for k, v in params.items()}))


def _index(lang: str) -> int:
    return 1 if lang == "en" else 0


def _pick(pair: tuple[str, str], lang: str) -> str:
    """The sentence in `lang`; French with its no-break spaces (wallet/text/typography.py)."""
    return pair[1] if _index(lang) else french_spacing(pair[0])


FORMATS: dict[str, tuple[str, str]] = {
    "png": ("image PNG", "PNG image"), "svg": ("image SVG", "SVG image"),
    "json": ("fichier JSON", "JSON file"), "jws": ("badge signé", "signed badge"),
    "url": ("adresse web", "web address"),
}


def _input_params(params: dict[str, Any], lang: str) -> tuple[str | None, dict[str, Any]]:
    label = FORMATS.get(str(params.get("format")))
    shown = dict(params, format=label[_index(lang)] if label else params.get("format"))
    return (None if params.get("version") else "no_version"), shown


def render(check: Any, lang: str = "fr") -> str:
    """The sentence for a Check (id, ok, params) in `lang` ("fr" default, "en")."""
    entry = CATALOG.get(check.id, {})
    reason = check.params.get("reason")
    params = check.params
    if check.id == "input":
        reason, params = _input_params(params, lang)
    outcome = "ok" if check.ok else "fail"
    pair = entry.get(reason) if isinstance(reason, str) else None
    pair = pair or entry.get(outcome) or entry.get("ok" if check.ok else "fail") or GENERIC
    text = _fill(_pick(pair, lang), {"id": check.id, **params})
    for name, suffix in SUFFIXES.items():
        if check.params.get(name):
            text += _fill(_pick(suffix, lang), check.params)
    return text


def render_error(code: str, lang: str = "fr") -> str:
    """The sentence for a BadgeInputError code."""
    pair = ERRORS.get(code, ERRORS["not_a_badge"])
    return _pick(pair, lang)


STATUS_LABELS: dict[str, tuple[str, str]] = {
    "valid": ("Badge authentique et valide", "Authentic and valid badge"),
    "invalid": ("Badge non valide", "Invalid badge"),
    "unverifiable": ("Vérification impossible pour le moment", "Cannot be verified at the moment"),
    "revoked": ("Badge révoqué par l'émetteur", "Badge revoked by the issuer"),
    "suspended": ("Badge suspendu par l'émetteur", "Badge suspended by the issuer"),
    "expired": ("Badge expiré", "Expired badge"),
    "not_yet_valid": ("Badge pas encore valable", "Badge not valid yet"),
}


def render_status(status: str, lang: str = "fr") -> str:
    """A short label for a verdict status."""
    pair = STATUS_LABELS.get(status, (status, status))
    return _pick(pair, lang)
