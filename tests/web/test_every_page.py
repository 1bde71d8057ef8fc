"""Every page, with data in it, in French and in English (tests/web/filled_site.py walks every GET
route as an employer, the learner, the counsellor and the admin see it, error pages included):

- dates are written for a person: no ISO timestamp, no UTC offset (T-dates below);
- no format placeholder is left unfilled ({base_url}, %(name)s);
- French punctuation: a no-break space before « ; : ? ! » and inside « » ;
- the words of the glossary (wallet/text/glossary.py): no jargon, no median point, no raw key.

What is read is what a person reads or hears: the text of the page (not scripts or styles) and the
attributes shown or spoken (alt, title, aria-label, placeholder, data-label shown by the CSS on a
phone). URLs and e-mail addresses are left out: they are addresses, not sentences.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from tests.fakes.server import FakeServer
from tests.web.filled_site import NEW_YEAR, SUMMER_EVENING, fill, walk
from tests.web.test_regional import regional_config
from wallet.text import glossary

SPOKEN_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder", "data-label", "aria-description")
NOT_READ = {"script", "style", "template", "textarea"}  # a textarea holds a file being edited
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?![\d-])")
ISO_TIME = re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b|\b\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})")
UTC_OFFSET = re.compile(r"\b(?:UTC|GMT)\b|[+\-−]\d{2}:?\d{2}\b")
FRENCH_SPACING = re.compile(r" [:;!?]|« | »")
# A format placeholder left unfilled: {base_url}, %(name)s, %s.
PLACEHOLDER = re.compile(r"\{[A-Za-z_]\w*\}|%\(\w+\)[sd]|(?<!%)%[sd]\b")
ADDRESS = re.compile(r"\S*://\S*|\S+@\S+")


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Reader(HTMLParser):
    """The text a person reads or hears on a page, in document order, each part with whether it
    lies in folded technical details (an element of class "technical")."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[tuple[str, bool]] = []
        self._open: list[tuple[str, bool]] = []  # (tag, opens technical details)

    def _in(self, kinds) -> bool:
        return any(tag in kinds for tag, _ in self._open)

    def _technical(self) -> bool:
        return any(technical for _, technical in self._open)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag not in VOID:
            self._open.append((tag, "technical" in (attributes.get("class") or "").split()))
        for name in SPOKEN_ATTRIBUTES:
            if attributes.get(name):
                self.parts.append((attributes[name], self._technical()))
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.parts.append((attributes["value"], self._technical()))

    def handle_endtag(self, tag):
        if any(open_tag == tag for open_tag, _ in self._open):  # closes what HTML left open inside
            while self._open and self._open.pop()[0] != tag:
                pass

    def handle_data(self, data):
        if data.strip() and not self._in(NOT_READ):
            self.parts.append((data, self._technical()))


def read(html: str, *, technical: bool = True) -> list[str]:
    """The page's texts, URLs and addresses taken out (without the folded technical details when
    `technical` is False)."""
    reader = _Reader()
    reader.feed(html)
    return [ADDRESS.sub(" ", text) for text, folded in reader.parts if technical or not folded]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Every page of the filled site, in French and in English: {"fr": [Page], "en": [Page]}.

    Built once for the module (the fill takes seconds): the app is made as tests/conftest.py's
    `app` fixture makes it, with the regional referential of the test partners."""
    from wallet import create_app
    from wallet.app.extensions import limiter
    from wallet.db import Base, engine
    from wallet.mail import outbox as mail_outbox

    tmp = tmp_path_factory.mktemp("every-page")
    with pytest.MonkeyPatch.context() as mp, FakeServer() as one, FakeServer() as two:
        mp.setenv("WALLET_INSTANCE_PATH", str(tmp / "instance"))
        config = {"TESTING": True, "SECRET_KEY": "test-secret-key-" + "x" * 32,
                  "DATABASE_URL": f"sqlite:///{tmp / 'wallet.db'}", "BASE_URL": "http://127.0.0.1:5000",
                  "MAIL_BACKEND": "memory", "MAIL_SEND_INLINE": True, "RATELIMIT_STORAGE_URI": "memory://",
                  "CLAIM_FIRST_ATTEMPT": "inline"}
        regional_config(config, (one, two), tmp)
        app = create_app(config)
        with app.app_context():
            Base.metadata.create_all(engine())
        limiter.reset()
        site = fill(app, mail_outbox(app), (one, two))
        walked = {"fr": walk(app, site)}
        for client in site.clients.values():
            with client.session_transaction() as session:
                session["lang"] = "en"
        walked["en"] = walk(app, site)
        with app.app_context():
            engine().dispose()
    assert len(walked["fr"]) >= 100 and len(walked["en"]) == len(walked["fr"])
    return walked


def _findings(pages, pattern: re.Pattern) -> list[str]:
    found = []
    for page in pages:
        for text in read(page.html):
            for match in pattern.finditer(text):
                found.append(f"{page.role} {page.path}: {match.group(0)!r} in {text.strip()[:120]!r}")
    return found


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_page_shows_an_iso_timestamp_or_a_utc_offset(pages, lang):
    found = (_findings(pages[lang], ISO_DATE) + _findings(pages[lang], ISO_TIME)
             + _findings(pages[lang], UTC_OFFSET))
    assert not found, f"{len(found)} machine date(s) on {lang} pages:\n  " + "\n  ".join(sorted(set(found))[:60])


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_page_shows_an_unfilled_placeholder(pages, lang):
    # Visible text and screen-reader text alike (the partners page once said "Retirer {base_url}/…").
    found = _findings(pages[lang], PLACEHOLDER)
    assert not found, f"{len(found)} unfilled placeholder(s) on {lang} pages:\n  " + "\n  ".join(sorted(set(found))[:60])


EMPTY_LINK = re.compile(r"<a\b(?![^>]*\baria-label=)[^>]*>(?:\s|<img\b[^>]*\balt=\"\"[^>]*>)*</a>")


def test_no_link_without_a_name_and_a_nameless_badge_is_told_apart(pages):
    # axe "link-name": the nameless badge once gave an empty link on « Mes badges régionaux ».
    empty = [f"{p.role} {p.path}: {m.group(0)[:120]}" for p in pages["fr"] for m in EMPTY_LINK.finditer(p.html)]
    assert not empty, "links with no accessible name:\n  " + "\n  ".join(sorted(set(empty)))
    assert EMPTY_LINK.search('<li><a href="/badges/7"></a></li>') and EMPTY_LINK.search('<a href="/x"> <img alt=""> </a>')
    # Its issuer is unknown (a badge with no name fails verification): the date tells it apart.
    nameless = "Badge sans nom, délivré le "
    for path in ("/badges/", "/badges-regionaux/"):
        page = next(p for p in pages["fr"] if p.role == "learner" and p.path == path)
        assert nameless in page.html.replace("\u00a0", " "), path
    shared = [p for p in pages["en"] if p.role == "anonymous" and re.fullmatch(r"/p/[\w-]+", p.path)]
    assert any("Unnamed badge, issued on " in p.html for p in shared)


def test_the_checks_find_what_they_look_for():
    # The reader and the patterns above catch what the pages used to show (so the tests can fail).
    texts = read('<p>Dernier envoi : Délivrée — 2026-12-02T17:18:50.962899+00:00</p>'
                 '<p title="10:12:00 +0100">x</p><p>2 décembre 2026, 09:20:00 UTC+1</p>'
                 '<script>var d = "2026-01-01";</script><p>https://exemple.fr/2026-01-01/badge</p>')
    assert [t.strip() for t in texts[1:3]] == ["10:12:00 +0100", "x"] and len(texts) == 5
    assert [bool(ISO_DATE.search(t)) for t in texts] == [True, False, False, False, False]
    assert [bool(ISO_TIME.search(t)) for t in texts] == [True, True, False, True, False]
    assert [bool(UTC_OFFSET.search(t)) for t in texts] == [True, True, False, True, False]
    hidden = read('<button>Retirer<span class="visually-hidden"> {base_url}/demo</span></button>'
                  '<p>%(num)s badges</p><p>Il commence par « { »</p><textarea>{base_url}</textarea>')
    assert [bool(PLACEHOLDER.search(t)) for t in hidden] == [False, True, True, False]


def test_french_pages_hold_their_punctuation_with_no_break_spaces(pages):
    # The catalogue carries them (tests/unit/test_translations.py); this also catches text that
    # does not come from it: the verifier's messages, template literals, the referential's data.
    found = _findings(pages["fr"], FRENCH_SPACING)
    assert not found, f"{len(found)} plain space(s) before « : ; ! ? » or inside « »:\n  " + "\n  ".join(
        sorted(set(found))[:60])


def _raw_keys() -> re.Pattern:
    """The referential's keys a person could be shown instead of words: skill, badge and partner
    keys with a hyphen or a digit (« s-integrer », « communiquer-1 », « demo-centre-formation »)."""
    from wallet.eligibility import default_referential_path, load_referential

    ref = load_referential(default_referential_path())
    keys = [k for k in [s.key for s in ref.skills] + [b.key for b in ref.badges] + [p.key for p in ref.partners]
            if re.search(r"[-\d]", k)]
    return re.compile(r"(?<![\w/.-])(?:" + "|".join(map(re.escape, sorted(keys, key=len, reverse=True))) + r")(?![\w/-])")


def test_no_jargon_and_no_raw_key_for_learners_counsellors_and_employers(pages):
    keys = _raw_keys()
    found = []
    for lang in ("fr", "en"):
        for page in pages[lang]:
            if page.path.startswith("/admin/"):
                continue  # Region staff may meet the standards' names and the referential's keys
            for text in read(page.html, technical=False):
                found += [f"{page.role} {page.path}: {words!r} ({why}) in {text.strip()[:100]!r}"
                          for words, why in glossary.avoided(text)]
                found += [f"{page.role} {page.path}: raw key {m.group(0)!r} in {text.strip()[:100]!r}"
                          for m in keys.finditer(text)]
    assert not found, f"{len(found)} word(s) to change (wallet/text/glossary.py):\n  " + "\n  ".join(sorted(set(found))[:60])


def test_no_median_point_on_any_page(pages):
    found = _findings(pages["fr"], glossary.MEDIAN_POINT)
    assert not found, "words written with a median point (wallet/text/glossary.py):\n  " + "\n  ".join(sorted(set(found)))


def test_the_word_checks_can_fail():
    assert glossary.avoided("Vos badges sont dans le sac à badges d'un partenaire ?")
    assert glossary.avoided("Télécharger le badge original (JSON Open Badges 3.0)")
    assert glossary.avoided("[Démo] Centre de formation — s-integrer, niveau 1")
    assert not glossary.avoided("Dans Moodle, ouvrez Profil → Préférences → Paramètres du sac à badges.")
    assert glossary.MEDIAN_POINT.search("Inviter un·e conseiller·ère")
    assert not glossary.MEDIAN_POINT.search("badges.partenaire.example · 3 badges")
    assert _raw_keys().search("Règle : « s-integrer »") and not _raw_keys().search("/competences/s-integrer/")
    assert read('<p>a</p><details class="technical"><p>JSON</p></details><p>b</p>', technical=False) == ["a", "b"]


def test_dates_are_in_words_in_the_regions_time_zone(pages):
    french = " ".join(" ".join(read(p.html)) for p in pages["fr"])
    english = " ".join(" ".join(read(p.html)) for p in pages["en"])
    # A badge expiring on 1 January 2027 (09:00 in Paris): the French ordinal, a no-break space.
    assert NEW_YEAR.day == 1
    assert "1er\u00a0janvier 2027" in french and "January 1, 2027" in english
    # The partner connection last synced on 30 June 2026 at 22:45 UTC: in Paris (UTC+2 in summer)
    # it is 1 July at 0 h 45; the year is written when it is not the current one.
    year = "" if datetime.now(UTC).year == SUMMER_EVENING.year else " 2026"
    assert f"1er\u00a0juillet{year} à 0\u00a0h\u00a045" in french
    assert f"July 1{',' + year if year else ''} at 12:45\u202fAM" in english

