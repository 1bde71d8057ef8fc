"""The words of the interface: one word per thing, in French first and in English, chosen for a
reader who reads with effort (short, everyday, no jargon, no median point). Use these when you
write a new page; tests/web/test_every_page.py reads every rendered page against AVOID.

French guidance followed: plain language (« FALC » spirit) and, for gender, words that need no
median point (« la personne qui vous accompagne », « titulaire », « membre ») rather than
« conseiller·ère », which screen readers spell out and weak readers stumble on.
"""

from __future__ import annotations

import re

# thing → (French, English)
WORDS: dict[str, tuple[str, str]] = {
    "the app": ("portefeuille de badges", "badge wallet"),
    "learner (as the admin counts them)": ("titulaire d'un portefeuille", "wallet holder"),
    "counsellor (to the learner)": ("la personne qui vous accompagne", "your counsellor"),
    "counsellor (as a role)": ("personne qui accompagne", "counsellor"),
    "admin (as a role)": ("membre de l'équipe régionale", "member of the Region's team"),
    "partner badge": ("badge d'un partenaire", "partner badge"),
    "regional badge": ("badge régional", "regional badge"),
    "claim": ("demande", "claim"),
    "share link": ("lien de partage", "share link"),
    "partner platform connection (backpack)": ("compte chez un partenaire", "account with a partner"),
    "the learner's connections page": ("Mes comptes chez les partenaires", "My partner accounts"),
    "pasted badge (JSON or JWS)": ("le texte du badge", "the badge's text"),
    "original file (baked PNG / OB 3.0 JSON)": ("le badge original, le fichier que lisent les logiciels de vérification",
                                                "the original badge, the file verification software reads"),
    "skill and level": ("« S'intégrer — Je pratique » (never the key « s-integrer, niveau 1 »)",
                        "\"Fitting in — I practise\""),
    "app password (Moodle)": ("mot de passe d'application", "app password"),
}

# What a learner, a counsellor or an employer never reads (pages outside /admin/, where Region
# staff may meet the standards' names; and outside the folded technical details of a
# verification, class "technical"): (pattern, why).
AVOID: tuple[tuple[str, str], ...] = (
    (r"\bsacs? à badges\b", "jargon: say « compte chez un partenaire »"),
    (r"\bOpen Badges\s+v?\d", "jargon: the standard's version means nothing to the reader"),
    (r"\bBadge Connect\b", "jargon: a protocol's name"),
    (r"\bJSON\b", "jargon: say « le texte du badge » or « le fichier »"),
    (r"\bdeux points\b", "jargon: a signed badge is « le texte du badge »"),
    (r"\b[a-z]+(?:-[a-z]+)+, niveau \d", "a raw key: show the skill's name and its level's words"),
)
# Quotes of another product's own menus, which the reader must find as written there.
QUOTED = ("Paramètres du sac à badges",)
# Everywhere, admin pages included: a median point inside a word (« conseiller·ère »).
MEDIAN_POINT = re.compile(r"\w[·•∙⋅]\w")


def avoided(text: str) -> list[tuple[str, str]]:
    """The (words, why) of AVOID found in `text`."""
    for quote in QUOTED:
        text = text.replace(quote, "")
    return [(m.group(0), why) for pattern, why in AVOID for m in re.finditer(pattern, text)]
