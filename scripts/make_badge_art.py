#!/usr/bin/env python3
"""Draw the nine regional badges of the Normandy referential as small SVG files.

    .venv/bin/python scripts/make_badge_art.py      # rewrites wallet/referentials/images/*.svg

Made to be read at 64 px on a phone: no text (fonts differ from one phone to another, and words
are unreadable that small), one white pictogram per skill on the skill's colour, and the level as
marks a child can count: one star and a silver ring for « Je pratique », two stars and a gold ring
for « Je maîtrise ». The general badge is a gold star on the Region's navy. Each file names its
badge in <title> (the page shows the name next to the image, so pages use alt="").

Colours keep the white pictogram above 4.5:1 contrast. The output is plain SVG 1.1 that the wallet's
own SVG reader and baker accept (tests/unit/test_badge_art.py).
"""

from __future__ import annotations

import math
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "wallet" / "referentials" / "images"

SILVER, SILVER_EDGE = "#d5dae1", "#5d6672"
GOLD, GOLD_EDGE = "#f2b705", "#7a5a00"
STAR = "#ffd24a"

# skill key → (French name, colour, pictogram drawn in a 200×200 box, centred on (100, 88))
ICONS = {
    # a calendar page with a tick: planning one's time
    "organiser": ("Organiser", "#0b4f8a",
                  ('<rect x="62" y="56" width="76" height="66" rx="8" fill="none" stroke="#fff" stroke-width="9"/>'
                  '<path d="M62 74h76" stroke="#fff" stroke-width="9"/>'
                  '<path d="M80 48v16M120 48v16" stroke="#fff" stroke-width="9" stroke-linecap="round"/>'
                  '<path d="M80 97l13 12 26-24" fill="none" stroke="#fff" stroke-width="9" '
                  'stroke-linecap="round" stroke-linejoin="round"/>')),
    # two arrows turning round: coping with change
    "s-adapter": ("S'adapter", "#1d6b43",
                  ('<path d="M134 80a35 35 0 0 0-62-17" fill="none" stroke="#fff" stroke-width="10" '
                  'stroke-linecap="round"/>'
                  '<path d="M60 50l10 22 22-9z" fill="#fff"/>'
                  '<path d="M66 96a35 35 0 0 0 62 17" fill="none" stroke="#fff" stroke-width="10" '
                  'stroke-linecap="round"/>'
                  '<path d="M140 126l-10-22-22 9z" fill="#fff"/>')),
    # two speech bubbles: talking with others
    "communiquer": ("Communiquer", "#9a3a00",
                    ('<path d="M56 54h58a8 8 0 0 1 8 8v30a8 8 0 0 1-8 8H82l-16 14v-14H56a8 8 0 0 1-8-8V62'
                    'a8 8 0 0 1 8-8z" fill="#fff"/>'
                    '<path d="M128 76h16a8 8 0 0 1 8 8v28a8 8 0 0 1-8 8h-6v13l-15-13h-23a8 8 0 0 1-8-8v-4h22'
                    'a14 14 0 0 0 14-14z" fill="#fff"/>')),
    # three people side by side: finding one's place in a team
    "s-integrer": ("S'intégrer", "#5b2a86",
                   ('<circle cx="100" cy="64" r="15" fill="#fff"/>'
                   '<path d="M72 122c0-22 12-36 28-36s28 14 28 36z" fill="#fff"/>'
                   '<circle cx="62" cy="76" r="11" fill="#fff" opacity=".85"/>'
                   '<path d="M40 122c0-17 9-28 22-28 6 0 11 2 14 6-5 6-8 14-8 22z" fill="#fff" opacity=".85"/>'
                   '<circle cx="138" cy="76" r="11" fill="#fff" opacity=".85"/>'
                   '<path d="M160 122c0-17-9-28-22-28-6 0-11 2-14 6 5 6 8 14 8 22z" fill="#fff" opacity=".85"/>')),
}
LEVELS = {1: ("Je pratique", SILVER, SILVER_EDGE), 2: ("Je maîtrise", GOLD, GOLD_EDGE)}


def star(cx: float, cy: float, r: float) -> str:
    """A five-pointed star as a closed path."""
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.45
        angle = -math.pi / 2 + i * math.pi / 5
        points.append(f"{cx + radius * math.cos(angle):.1f} {cy + radius * math.sin(angle):.1f}")
    return "M" + "L".join(points) + "z"


def marks(level: int, cy: float = 148, r: float = 19) -> str:
    xs = [100] if level == 1 else [79, 121]
    return "".join(f'<path class="level-mark" d="{star(x, cy, r)}" fill="{STAR}" stroke="#000" '
                   f'stroke-opacity=".45" stroke-width="2"/>' for x in xs)


def medal(title: str, colour: str, ring: str, edge: str, inner: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" width="200" height="200">\n'
            f"<title>{title}</title>\n"
            f'<circle cx="100" cy="100" r="96" fill="{ring}" stroke="{edge}" stroke-width="4"/>\n'
            f'<circle cx="100" cy="100" r="80" fill="{colour}"/>\n'
            f"{inner}\n</svg>\n")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for key, (name, colour, icon) in ICONS.items():
        for level, (level_name, ring, edge) in LEVELS.items():
            inner = f'<g class="skill-icon">{icon}</g>\n{marks(level)}'
            (OUT / f"{key}-{level}.svg").write_text(
                medal(escape(f"{name} — {level_name}"), colour, ring, edge, inner), encoding="utf-8")
    general = (f'<path class="skill-icon" d="{star(100, 92, 52)}" fill="{GOLD}" stroke="#fff" stroke-width="5" '
               'stroke-linejoin="round"/>\n'
               + "".join(f'<circle cx="{x}" cy="156" r="7" fill="#fff"/>' for x in (70, 90, 110, 130)))
    (OUT / "general.svg").write_text(
        medal(escape("Compétences transversales — Badge général"), "#13335c", GOLD, GOLD_EDGE, general),
        encoding="utf-8")


if __name__ == "__main__":
    main()
