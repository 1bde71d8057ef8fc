"""Dates, times and numbers as a person reads them: in the reader's language (Flask-Babel's
locale) and the Region's time zone (`TIMEZONE`, Europe/Paris by default), never an ISO timestamp
nor a UTC offset. Pages write dates only through the template filters registered here (and views
through these functions), so every page says it the same way:

    {{ badge.issued_on|format_date }}          1er janvier 2027, 2 décembre 2026 / January 1, 2027
    {{ badge.issued_on|format_date_short }}    1er janv. 2027 / Jan 1, 2027
    {{ share.last_viewed_at|format_datetime }} 2 décembre à 9 h 20 (the year when not this one)
                                               / December 2 at 9:20 AM
    {{ code.expires_at|format_time }}          9 h 20 / 9:20 AM
    {{ figures.badges|format_number }}         12 345 (narrow no-break space) / 12,345

Values may be aware datetimes, naive datetimes (read as UTC, as the database stores them), dates,
or ISO 8601 strings (a claim's history is JSON). None and "" give "".
French days and hours are held together by no-break spaces (« 2 décembre », « 9 h 20 »), and the
first of a month is « 1er ».
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask_babel import get_locale, get_timezone, get_translations
from flask_babel import gettext as _

NBSP = "\u00a0"
# CLDR patterns; French ones are written here for the day ("1er") and the no-break spaces.
_FR_DAY_MONTH = "{day}" + NBSP + "MMMM"
_FR_DAY_MONTH_SHORT = "{day}" + NBSP + "MMM"
_FR_TIME = "H" + NBSP + "'h'" + NBSP + "mm"


def _locale():
    return get_locale() or "fr"


def _parse(value) -> date | datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return value


def local(value) -> date | datetime | None:
    """The moment in the Region's time zone (a date stays a date)."""
    value = _parse(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(get_timezone())
    return value


def _french_day(moment: date) -> str:
    return "'1er'" if moment.day == 1 else "d"


def format_date(value, *, short: bool = False, year: bool = True) -> str:
    """« 1er janvier 2027 », « 2 déc. 2026 » / "January 1, 2027", "Dec 2, 2026"."""
    moment = local(value)
    if moment is None:
        return ""
    day = moment.date() if isinstance(moment, datetime) else moment
    return _date_text(day, str(_locale()), short, year)


def format_time(value) -> str:
    """« 9 h 20 » / "9:20 AM", in the Region's time zone."""
    moment = local(value)
    if not isinstance(moment, datetime):
        return ""
    return _time_text(moment.hour, moment.minute, str(_locale()))


# Babel's formatting costs a public page's first view more than its database read; the days and
# the minutes of a day a page can name are few, so each is written once per language.
@lru_cache(maxsize=8192)
def _date_text(day: date, locale: str, short: bool, year: bool) -> str:
    if locale.startswith("fr"):
        pattern = (_FR_DAY_MONTH_SHORT if short else _FR_DAY_MONTH).format(day=_french_day(day))
        return babel_dates.format_date(day, pattern + (" y" if year else ""), locale=locale)
    if not year:
        return babel_dates.format_skeleton("MMMd" if short else "MMMMd", day, locale=locale)
    return babel_dates.format_date(day, "medium" if short else "long", locale=locale)


@lru_cache(maxsize=4096)
def _time_text(hour: int, minute: int, locale: str) -> str:
    moment = datetime(2000, 1, 1, hour, minute)
    return babel_dates.format_time(moment, _FR_TIME if locale.startswith("fr") else "short", locale=locale)


def format_datetime(value, *, now: datetime | None = None) -> str:
    """« 2 décembre à 9 h 20 » (« 2 décembre 2025 à 9 h 20 » another year) / "December 2 at 9:20 AM"."""
    moment = local(value)
    if moment is None:
        return ""
    if not isinstance(moment, datetime):
        return format_date(moment)
    locale = str(_locale())
    this_year = (local(now or datetime.now(UTC))).year
    day = _date_text(moment.date(), locale, False, moment.year != this_year)
    return _("%(date)s à %(time)s", date=day, time=_time_text(moment.hour, moment.minute, locale))


def format_number(value) -> str:
    """12 345 (U+202F in French) / 12,345."""
    if value is None or value == "":
        return ""
    return babel_numbers.format_decimal(value, locale=_locale())


# Parameters of the verifier's checks (wallet/openbadges/messages.py) that hold an ISO date.
DATE_PARAMS = ("expires", "valid_from")


def readable_check(check: dict) -> dict:
    """A stored check (Verdict JSON) whose date parameters are written for the reader, so that its
    message says « Ce badge a expiré (29 novembre 2026). »; the stored verdict is left as it is."""
    params = dict(check.get("params") or {})
    for name in DATE_PARAMS:
        if isinstance(params.get(name), str) and _parse(params[name]) is not None:
            params[name] = format_date(params[name])
    return {**check, "params": params}


def _template_ngettext(singular: str, plural: str, num) -> str:
    """Templates' ngettext: the count written as a number in the reader's language (« 1 234 »)."""
    text = get_translations().ungettext(singular, plural, num)
    return text.replace("%(num)s", format_number(num).replace("%", "%%"))


def init_app(app) -> None:
    # Flask-Babel's callables, except that ngettext writes its count with format_number.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: get_translations().ugettext(s), ngettext=_template_ngettext, newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n))
    app.jinja_env.filters["format_date"] = format_date
    app.jinja_env.filters["format_date_short"] = lambda value: format_date(value, short=True)
    app.jinja_env.filters["format_datetime"] = format_datetime
    app.jinja_env.filters["format_time"] = format_time
    app.jinja_env.filters["format_number"] = format_number
