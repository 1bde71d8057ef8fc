"""Dates, times and numbers as a person reads them (wallet/text/formatting.py), in French and English,
in the Region's time zone — and the French spacing of wallet/text/typography.py."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel

from wallet.app.settings import ConfigError, load_config
from wallet.text import formatting
from wallet.text.typography import french_spacing

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def in_lang():
    """Call `in_lang("fr", fn, *args)` to run fn under that locale, with the Region's time zone."""
    app = Flask("formatting")
    app.config.update(BABEL_DEFAULT_TIMEZONE="Europe/Paris",
                      BABEL_TRANSLATION_DIRECTORIES=str(Path(formatting.__file__).parents[1] / "translations"))
    chosen = {}
    Babel(app, locale_selector=lambda: chosen["lang"])

    def run(lang, fn, *args, **kwargs):
        chosen["lang"] = lang
        with app.test_request_context():
            return fn(*args, **kwargs)

    return run


@pytest.mark.parametrize(("value", "fr", "en"), [
    (datetime(2027, 1, 1, 8, 0, tzinfo=UTC), "1er\u00a0janvier 2027", "January 1, 2027"),
    (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "1er\u00a0janvier 2027", "January 1, 2027"),  # Paris: next day
    (datetime(2026, 12, 2, 9, 20), "2\u00a0décembre 2026", "December 2, 2026"),  # naive = UTC
    ("2026-03-01T10:00:00Z", "1er\u00a0mars 2026", "March 1, 2026"),  # a claim's history is JSON
    (date(2026, 7, 14), "14\u00a0juillet 2026", "July 14, 2026"),
    (None, "", ""),
    ("pas une date", "", ""),
])
def test_dates_in_words(in_lang, value, fr, en):
    assert in_lang("fr", formatting.format_date, value) == fr
    assert in_lang("en", formatting.format_date, value) == en


def test_short_dates(in_lang):
    moment = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)
    assert in_lang("fr", formatting.format_date, moment, short=True) == "1er\u00a0janv. 2027"
    assert in_lang("en", formatting.format_date, moment, short=True) == "Jan 1, 2027"


@pytest.mark.parametrize(("value", "fr", "en"), [
    (datetime(2026, 12, 2, 8, 20, tzinfo=UTC), "2\u00a0décembre à 9\u00a0h\u00a020", "December 2 at 9:20\u202fAM"),
    (datetime(2026, 6, 30, 22, 45, tzinfo=UTC), "1er\u00a0juillet à 0\u00a0h\u00a045", "July 1 at 12:45\u202fAM"),
    (datetime(2025, 11, 3, 17, 5, tzinfo=UTC), "3\u00a0novembre 2025 à 18\u00a0h\u00a005",
     "November 3, 2025 at 6:05\u202fPM"),  # another year: the year is written
])
def test_moments_in_the_regions_time_zone_with_no_offset(in_lang, value, fr, en):
    assert in_lang("fr", formatting.format_datetime, value, now=NOW) == fr
    assert in_lang("en", formatting.format_datetime, value, now=NOW) == en


def test_numbers(in_lang):
    assert in_lang("fr", formatting.format_number, 12345) == "12\u202f345"
    assert in_lang("en", formatting.format_number, 12345) == "12,345"
    assert in_lang("fr", formatting.format_number, None) == ""


def test_a_checks_date_parameter_is_written_for_the_reader(in_lang):
    check = {"id": "dates", "ok": False, "params": {"reason": "expired", "expires": "2026-11-29T17:41:50Z"}}
    assert in_lang("fr", formatting.readable_check, check)["params"] == {"reason": "expired",
                                                                         "expires": "29\u00a0novembre 2026"}
    assert check["params"]["expires"] == "2026-11-29T17:41:50Z"  # the stored verdict is untouched


def test_french_spacing():
    assert french_spacing("Raison : « oui » ; vraiment ? oui !") == (
        "Raison\u00a0: «\u00a0oui\u00a0»\u202f; vraiment\u202f? oui\u202f!")
    assert french_spacing("https://exemple.fr/?a=1 à 10:30") == "https://exemple.fr/?a=1 à 10:30"


def test_the_time_zone_is_a_setting(tmp_path):
    assert load_config(str(tmp_path), environ={})["TIMEZONE"] == "Europe/Paris"
    assert load_config(str(tmp_path), environ={"WALLET_TIMEZONE": "America/Cayenne"})["TIMEZONE"] == "America/Cayenne"
    with pytest.raises(ConfigError, match="WALLET_TIMEZONE"):
        load_config(str(tmp_path), environ={"WALLET_TIMEZONE": "Europe/Caen"})
