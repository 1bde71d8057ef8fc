"""The import doctor: for every way an import can fail, what happened and what to do, in plain words."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# code → (what happened, what to do)
DIAGNOSES = {
    "no_badge": (_l("Cette image ne contient pas de badge."),
                 _l("Elle a peut-être été enregistrée par clic droit, par capture d'écran ou depuis un réseau "
                    "social, ce qui efface le badge. Téléchargez-la depuis le site de l'émetteur (bouton "
                    "« Télécharger » ou « Exporter »), ou collez le lien du badge.")),
    "not_an_image": (_l("Ce fichier n'est pas une image de badge (format %(format)s)."),
                     _l("Seules les images PNG et SVG peuvent contenir un badge. Téléchargez le badge depuis le "
                        "site de l'émetteur, au format PNG ou SVG.")),
    "corrupt_image": (_l("Cette image est abîmée ou incomplète."),
                      _l("Le téléchargement a peut-être été interrompu. Téléchargez-la à nouveau.")),
    "ambiguous_badge": (_l("Cette image contient deux badges différents."),
                        _l("On ne peut pas savoir lequel est le bon. Demandez une nouvelle image à l'émetteur.")),
    "too_large": (_l("Le badge contenu dans ce fichier est trop volumineux."),
                  _l("Demandez à l'émetteur le lien du badge et collez-le ici.")),
    "file_too_large": (_l("Fichier trop lourd (plus de %(max_mb)s Mo)."),
                       _l("Une image de badge pèse en général moins de 1 Mo. Vérifiez que vous avez choisi la "
                          "bonne image.")),
    "too_many_files": (_l("Trop de fichiers d'un coup (%(max)s au plus)."),
                       _l("Importez les autres dans un second envoi.")),
    "unsafe_svg": (_l("Cette image SVG contient des éléments dangereux et a été refusée."),
                   _l("Téléchargez le badge à nouveau depuis le site de l'émetteur, ou choisissez le format PNG.")),
    "bad_encoding": (_l("Le badge dans ce fichier est illisible (encodage incorrect)."),
                     _l("Demandez à l'émetteur une nouvelle image ou le lien du badge.")),
    "empty_badge": (_l("L'emplacement du badge dans cette image est vide."),
                    _l("Téléchargez le badge à nouveau depuis le site de l'émetteur.")),
    "not_json": (_l("Ce texte n'est pas un badge lisible."),
                 _l("Collez le badge en entier (il commence par « { ») ou son lien (https://…).")),
    "duplicate_keys": (_l("Ce badge est mal formé (un champ apparaît deux fois)."),
                       _l("Demandez à l'émetteur une version corrigée du badge.")),
    "too_deep": (_l("Ce badge est mal formé (structure trop profonde)."),
                 _l("Demandez à l'émetteur une version corrigée du badge.")),
    "endorsement": (_l("Ce document est une recommandation (« endorsement ») d'un badge ou d'un organisme, "
                       "pas un badge."),
                    _l("Une recommandation ne se range pas dans le portefeuille. Importez le badge lui-même : "
                       "son image PNG ou SVG, ou son lien.")),
    "not_a_badge": (_l("Ce contenu n'est pas un Open Badge."),
                    _l("Vérifiez que vous avez choisi le bon fichier ou copié le bon lien.")),
    "bad_jws": (_l("La signature de ce badge est illisible ou utilise une méthode refusée."),
                _l("Demandez à l'émetteur une nouvelle version du badge.")),
    "unsupported": (_l("Format non pris en charge."),
                    _l("Importez une image PNG ou SVG, un lien de badge, ou le texte du badge.")),
    "bad_url": (_l("Ce lien n'est pas valide."),
                _l("Copiez le lien complet du badge ; il commence par https://.")),
    "fetch_failed": (_l("Le site de l'émetteur n'a pas répondu."),
                     _l("Vérifiez le lien, ou réessayez plus tard.")),
    # A URL that gave nothing to read: nothing is stored (SECURITY.md T63).
    "url_unreachable": (_l("Le site de l'émetteur est injoignable : le badge n'a pas pu être lu, rien n'a "
                           "été enregistré."),
                        _l("Vérifiez le lien (une faute de frappe ?) ou réessayez plus tard. Si cela dure, "
                           "téléchargez l'image du badge sur le site de l'émetteur et importez-la ici.")),
    "url_timeout": (_l("Le site de l'émetteur ne répond pas assez vite : rien n'a été enregistré."),
                    _l("Réessayez dans quelques minutes, ou importez l'image du badge.")),
    "url_blocked": (_l("Cette adresse est refusée : le portefeuille ne consulte que des sites publics, en "
                       "https. Rien n'a été enregistré."),
                    _l("Copiez le lien public du badge tel que l'émetteur le donne (il commence par https://), "
                       "ou importez l'image du badge.")),
    "url_too_large": (_l("Le site de l'émetteur renvoie une réponse trop volumineuse pour être un badge : rien "
                         "n'a été enregistré."),
                      _l("Vérifiez que le lien mène bien au badge et pas à une page ou à un gros fichier.")),
    "url_redirects": (_l("Le site de l'émetteur renvoie vers trop d'autres adresses : rien n'a été enregistré."),
                      _l("Vérifiez le lien, ou importez l'image du badge.")),
    "url_not_found": (_l("Le site de l'émetteur ne trouve pas ce badge (erreur %(status)s) : rien n'a été "
                         "enregistré."),
                      _l("Vérifiez que le lien est complet. Si le badge a été supprimé, demandez-le à "
                         "l'émetteur.")),
    "url_server_error": (_l("Le site de l'émetteur est en panne (erreur %(status)s) : rien n'a été enregistré."),
                         _l("Réessayez plus tard.")),
    "url_gone": (_l("L'émetteur a retiré ce badge : rien n'a été enregistré."),
                 _l("Si c'est une erreur, contactez l'émetteur.")),
    "url_not_a_badge": (_l("Ce lien ne mène pas à un badge : rien n'a été enregistré."),
                        _l("Vérifiez que vous avez copié le lien du badge, et pas celui d'une page du site.")),
    "empty_file": (_l("Ce fichier est vide."), _l("Choisissez à nouveau le fichier.")),
    "empty_text": (_l("Aucun texte collé."), _l("Collez le lien ou le texte du badge.")),
}


def diagnose(code: str | None, params: dict | None = None) -> tuple[str, str]:
    problem, advice = DIAGNOSES.get(code or "", DIAGNOSES["not_a_badge"])
    params = {"format": "?", "max_mb": 2, "max": 20, "status": "?", **(params or {})}
    try:
        return str(problem) % params, str(advice) % params
    except (KeyError, TypeError, ValueError):
        return str(problem), str(advice)
