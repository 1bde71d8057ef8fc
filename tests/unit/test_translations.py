"""The English catalog covers every French string in the code, and the catalogs follow the code.

French is the source language: the msgids are French and the en catalog carries the English.
These tests extract the strings the same way `scripts/i18n.sh update` does (babel.cfg's method
map, whose patterns are relative to the repository root, and the keywords `_`, `gettext`,
`ngettext`, `_l`, `lazy_gettext`), so they fail when someone adds a string and forgets to run
`scripts/i18n.sh update` or to translate it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

try:  # Babel >= 2.14
    from babel.messages.frontend import parse_mapping_cfg
except ImportError:  # pragma: no cover - older Babel
    from babel.messages.frontend import parse_mapping as parse_mapping_cfg

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "wallet" / "translations"
POT = TRANSLATIONS / "messages.pot"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
# `pybabel extract -k _l -k lazy_gettext` adds these to Babel's defaults (_, gettext, ngettext, ...).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
# A printf-style named placeholder, flags and all: %(name)s, %(n)d, %(ratio).1f.
PLACEHOLDER = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")


def _only_the_code(dirpath: str) -> bool:
    """Walk wallet/ only (babel.cfg maps nothing else); skip hidden and private directories."""
    rel = Path(dirpath).resolve().relative_to(ROOT)
    parts = rel.parts
    if parts and parts[0] != "wallet":
        return False
    return not (parts and parts[-1].startswith((".", "_")))


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    """What `pybabel extract -F babel.cfg -k _l -k lazy_gettext .` finds, as a catalog."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(ROOT / "babel.cfg"))
    catalog = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=_only_the_code
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    # An extraction that finds nothing would make every check below pass vacuously.
    assert catalog.get("Se connecter") is not None, "extraction found no strings: check babel.cfg"
    return catalog


@pytest.fixture(scope="module")
def english() -> Catalog:
    with open(EN_PO, "rb") as fh:
        return read_po(fh, locale="en")


def _ids(catalog: Catalog) -> set[tuple]:
    return {(m.id if isinstance(m.id, str) else tuple(m.id), m.context) for m in catalog if m.id}


def _forms(message) -> tuple[str, ...]:
    return (message.string,) if isinstance(message.string, str) else tuple(message.string)


def _show(msgid) -> str:
    text = msgid if isinstance(msgid, str) else msgid[0]
    return repr(text if len(text) <= 80 else text[:77] + "...")


def test_every_french_string_has_an_english_translation(extracted, english):
    missing = []
    for source in extracted:
        if not source.id:
            continue
        entry = english.get(source.id, source.context)
        if (entry is None or entry.fuzzy or entry.pluralizable != source.pluralizable
                or not all(form.strip() for form in _forms(entry))
                or len(_forms(entry)) != (english.num_plurals if source.pluralizable else 1)):
            missing.append(_show(source.id))
    assert not missing, (
        f"{len(missing)} string(s) lack an English translation in {EN_PO.relative_to(ROOT)}; "
        "run `scripts/i18n.sh update` and fill their msgstr:\n  " + "\n  ".join(missing))


def test_english_keeps_the_placeholders_of_the_french(english):
    wrong = []
    for entry in english:
        if not entry.id:
            continue
        sources = [entry.id] if isinstance(entry.id, str) else list(entry.id)
        for index, form in enumerate(_forms(entry)):
            if not form:
                continue  # reported by the completeness test
            source = sources[min(index, len(sources) - 1)]  # English: form 0 = singular, then plural
            expected, found = set(PLACEHOLDER.findall(source)), set(PLACEHOLDER.findall(form))
            if expected != found:
                wrong.append(f"{_show(entry.id)}: expected {sorted(expected)}, found {sorted(found)}")
    assert not wrong, "English msgstrs whose placeholders differ from the French:\n  " + "\n  ".join(wrong)


def test_committed_template_is_up_to_date_with_the_code(extracted):
    with open(POT, "rb") as fh:
        committed = _ids(read_po(fh))
    current = _ids(extracted)
    new = sorted(_show(i) for i, _ in current - committed)
    gone = sorted(_show(i) for i, _ in committed - current)
    assert not new and not gone, (
        "wallet/translations/messages.pot is out of date; run `scripts/i18n.sh update`.\n"
        f"In the code, not in the template: {new}\nIn the template, not in the code: {gone}")


def test_english_catalog_is_one_that_pybabel_compile_accepts(english):
    # Without a real header a catalog reads as fuzzy and `pybabel compile` silently skips it:
    # the site would then show French to everyone who chose English.
    assert not english.fuzzy, f"{EN_PO.relative_to(ROOT)} has no header or a fuzzy one"
    assert str(english.locale) == "en"
    assert english.num_plurals == 2


FR_PO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"
# A plain space where French needs a no-break one: before « : ; ! ? », inside « ».
FRENCH_SPACING = re.compile(r" [:;!?]|« | »")


def test_french_text_holds_its_punctuation_with_no_break_spaces():
    # What a French reader gets for each msgid: its msgstr, or the msgid itself when that is empty.
    with open(FR_PO, "rb") as fh:
        french = read_po(fh, locale="fr")
    wrong = []
    for entry in french:
        if not entry.id:
            continue
        sources = [entry.id] if isinstance(entry.id, str) else list(entry.id)
        forms = [f for f in _forms(entry) if f] or sources
        if isinstance(entry.id, tuple) and len([f for f in _forms(entry) if f]) < 2:
            forms = sources  # a plural entry scripts/fr_catalog.py has not filled
        wrong += [_show(entry.id) for form in forms if FRENCH_SPACING.search(form)]
    assert not wrong, (f"{len(wrong)} French string(s) with a plain space before « : ; ! ? » or inside « »; "
                       "run `scripts/i18n.sh update` (scripts/fr_catalog.py fills the no-break spaces):\n  "
                       + "\n  ".join(sorted(set(wrong))))
    assert french.get("Raison :").string == "Raison\u00a0:"  # the check reads what the site shows
