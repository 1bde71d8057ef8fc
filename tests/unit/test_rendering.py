"""Badge text rendered as inert HTML (SECURITY.md T37), the same whether or not it was cached."""

from __future__ import annotations

from html.parser import HTMLParser

from wallet.text import rendering

HOSTILE = ("# Critères\n\n<script>alert(1)</script> **fait** [ici](javascript:alert(1)) "
           "<img src=x onerror=alert(1)> [lien](https://example.org/ref)")


def _tags(html: str) -> list[tuple[str, dict]]:
    found: list[tuple[str, dict]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    Collect().feed(html)
    return found


def test_hostile_markdown_is_inert_short_or_long():
    short = str(rendering.markdown(HOSTILE))
    long = str(rendering.markdown(HOSTILE + "\n\n" + "x" * rendering._CACHED_TEXT_CHARS))  # not cached
    for html in (short, long):
        tags = _tags(html)
        assert {tag for tag, _attrs in tags} <= {"h3", "p", "strong", "a"}, tags
        assert [attrs for tag, attrs in tags if tag == "a"] == [
            {"href": "https://example.org/ref", "rel": "noopener noreferrer nofollow"}]
        assert "&lt;script&gt;" in html  # the script stays text
        assert "<h3>Critères</h3>" in html and "<strong>fait</strong>" in html
        assert '<a href="https://example.org/ref" rel="noopener noreferrer nofollow">lien</a>' in html
    assert long.startswith(short.rsplit("</p>", 1)[0])


def test_a_text_seen_again_is_served_from_the_bounded_cache():
    rendering._sanitized.cache_clear()
    text = "Animer **un atelier** de trois heures."
    first = rendering.markdown(text)
    again = rendering.markdown(text)
    assert first == again == "<p>Animer <strong>un atelier</strong> de trois heures.</p>\n"
    info = rendering._sanitized.cache_info()
    assert (info.hits, info.misses) == (1, 1) and info.maxsize == 1024
    rendering.markdown("y" * (rendering._CACHED_TEXT_CHARS + 1))  # too long to keep
    assert rendering._sanitized.cache_info().currsize == 1
