"""The French catalog. French is the source language: the msgids are French, and the French
catalog only says what the msgid cannot:

- plural entries (msgstr[0] = singular, msgstr[1] = plural), so that French plural rules apply
  (0 and 1 are singular);
- French typography: a no-break space where the source has a plain one before « : » (U+00A0),
  before « ; ! ? » (U+202F, narrow) and inside « » (U+00A0), so that a line never starts with a
  colon or a closing guillemet. The msgid keeps plain spaces (easy to type and to search); the
  msgstr carries the no-break ones. Other entries keep an empty msgstr.

    .venv/bin/python scripts/fr_catalog.py     (scripts/i18n.sh update runs it)
"""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from wallet.text.typography import french_spacing as typography

PO = ROOT / "wallet/translations/fr/LC_MESSAGES/messages.po"


def main() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, (tuple, list)):
            # French has three forms: 0 singular (0, 1), 1 "de" for millions, 2 the others.
            plural = typography(message.id[1])
            message.string = (typography(message.id[0]), plural, plural)
        else:
            fixed = typography(message.id)
            message.string = fixed if fixed != message.id else ""
        message.flags.discard("fuzzy")
    with PO.open("wb") as handle:
        write_po(handle, catalog)  # width 76, as pybabel update writes it


if __name__ == "__main__":
    main()
