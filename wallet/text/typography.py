"""French spacing (pure; no Flask): a no-break space, not a plain one, before « : » (U+00A0),
before « ; ! ? » (U+202F, narrow) and inside « » (U+00A0), so that a line never starts with a
colon, a question mark or a closing guillemet.

Applied to the French catalog by scripts/fr_catalog.py, to the verifier's French messages
(wallet/openbadges/messages.py) and to the referential's French texts (wallet/eligibility/model.py).
Only plain spaces already there are replaced: « https://…», « 10:30 » and « ?next= » are left alone.
"""

from __future__ import annotations

import re

NBSP, NNBSP = "\u00a0", "\u202f"
_BEFORE_COLON = re.compile(r" +:")
_BEFORE_MARK = re.compile(r" +([;!?])")
_AFTER_OPENING = re.compile(r"« +")
_BEFORE_CLOSING = re.compile(r" +»")


def french_spacing(text: str) -> str:
    """« Raison : » → « Raison\u00a0: », « Vraiment ? » → « Vraiment\u202f? »."""
    if not text:
        return text
    text = _BEFORE_COLON.sub(NBSP + ":", text)
    text = _BEFORE_MARK.sub(NNBSP + r"\1", text)
    text = _AFTER_OPENING.sub("«" + NBSP, text)
    return _BEFORE_CLOSING.sub(NBSP + "»", text)
