"""The nine regional badges of the packaged referential have their own artwork: small SVG files
readable at 64 px (no text, which fonts and size would spoil), one pictogram per skill, the level
as countable marks, each file named after its badge, all distinct, and all accepted by the
wallet's own SVG reader and baker (the issued badge is shown and downloaded baked)."""

from __future__ import annotations

import hashlib
import json
import re

import defusedxml.ElementTree as SafeET
import pytest

from wallet.eligibility.referential import default_referential_path, load_referential
from wallet.openbadges import bake, unbake
from wallet.services.images import normalize_image

SVG = "{http://www.w3.org/2000/svg}"
REFERENTIAL = load_referential(default_referential_path())
FOLDER = default_referential_path().parent
BADGES = {badge.key: badge for badge in REFERENTIAL.badges}


def _svg(key: str) -> tuple[bytes, object]:
    data = (FOLDER / BADGES[key].image).read_bytes()
    return data, SafeET.fromstring(data)


def test_every_regional_badge_has_its_own_image():
    assert len(BADGES) == 9
    digests = set()
    for badge in BADGES.values():
        assert badge.image, badge.key
        data = (FOLDER / badge.image).read_bytes()
        digests.add(hashlib.sha256(data).hexdigest())
    assert len(digests) == 9


@pytest.mark.parametrize("key", sorted(BADGES))
def test_badge_art_is_small_square_text_free_and_named(key):
    data, root = _svg(key)
    assert len(data) < 4096
    assert root.get("viewBox") == "0 0 200 200"
    assert root.find(f"{SVG}text") is None and b"<text" not in data  # no words to squint at
    assert b"<script" not in data and b"href" not in data  # nothing to run, nothing to fetch
    title = root.find(f"{SVG}title").text
    assert title == BADGES[key].name.fr
    assert root.find(f".//{SVG}*[@class='skill-icon']") is not None


@pytest.mark.parametrize("key", [k for k in sorted(BADGES) if BADGES[k].level])
def test_the_level_is_counted_in_marks_and_the_ring_colour(key):
    _data, root = _svg(key)
    level = BADGES[key].level
    marks = root.findall(f".//{SVG}path[@class='level-mark']")
    assert len(marks) == level
    ring = root.find(f"{SVG}circle").get("fill")
    assert ring == ("#f2b705" if level == 2 else "#d5dae1")


def test_one_skill_one_colour_and_one_pictogram_across_its_levels():
    by_skill: dict[str, set[tuple[str, str]]] = {}
    for key, badge in BADGES.items():
        if not badge.skill:
            continue
        data, root = _svg(key)
        colour = root.findall(f"{SVG}circle")[1].get("fill")
        icon = re.search(rb'<g class="skill-icon">(.*?)</g>', data, re.DOTALL).group(1)
        by_skill.setdefault(badge.skill, set()).add((colour, hashlib.sha256(icon).hexdigest()))
    assert len(by_skill) == 4
    assert all(len(looks) == 1 for looks in by_skill.values())  # the same look at both levels
    assert len({look for looks in by_skill.values() for look in looks}) == 4  # a different one per skill


@pytest.mark.parametrize("key", sorted(BADGES))
def test_badge_art_goes_through_the_wallet_reader_and_baker(key):
    data, _root = _svg(key)
    assert normalize_image(data) == (data, "image/svg+xml")
    payload = json.dumps({"id": f"https://region.example/credentials/{key}"})
    baked = bake(data, payload)
    assert unbake(baked) == payload
    assert unbake(data) is None
