"""Fill English translations given as a JSON object {msgid or [singular, plural]: text or [one, other]}.

    .venv/bin/python scripts/translate_missing.py list            # what is still untranslated
    .venv/bin/python scripts/translate_missing.py apply FILE.json # write them into the en catalog
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parents[1] / "wallet/translations/en/LC_MESSAGES/messages.po"


def missing(catalog):
    for message in catalog:
        if not message.id:
            continue
        string = message.string
        empty = not string or (isinstance(string, (tuple, list)) and not all(string))
        if empty or message.fuzzy:
            yield message


def main() -> int:
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    if sys.argv[1:2] == ["list"]:
        print(json.dumps([m.id if isinstance(m.id, str) else list(m.id) for m in missing(catalog)],
                         ensure_ascii=False, indent=1))
        return 0
    if sys.argv[1:2] == ["apply"]:
        answers = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
        for message in missing(catalog):
            key = message.id if isinstance(message.id, str) else message.id[0]
            if key in answers:
                value = answers[key]
                message.string = tuple(value) if isinstance(value, list) else value
                message.flags.discard("fuzzy")
        with PO.open("wb") as handle:
            write_po(handle, catalog)  # width 76, as pybabel update writes it
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
