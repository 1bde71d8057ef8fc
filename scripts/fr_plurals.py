"""French is the source language: its catalog only needs the plural entries filled (msgstr[0] =
singular, msgstr[1] = plural), so that French plural rules (0 and 1 are singular) apply.

    .venv/bin/python scripts/fr_plurals.py     (run after scripts/i18n.sh update)
"""

from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parents[1] / "wallet/translations/fr/LC_MESSAGES/messages.po"

with PO.open("rb") as handle:
    catalog = read_po(handle)
for message in catalog:
    if message.id and isinstance(message.id, (tuple, list)):
        message.string = (message.id[0], message.id[1])
        message.flags.discard("fuzzy")
with PO.open("wb") as handle:
    write_po(handle, catalog, width=100)
