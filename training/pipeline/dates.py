"""Normalise German date expressions against an article's publication date.

News text dates events relative to the day it was written: "am Freitag", "vergangene Woche", "am Vortag".
:func:`normalise_date` resolves such expressions with ``dateparser`` (language ``de``, ``RELATIVE_BASE`` = the
publication date, ``PREFER_DATES_FROM = "past"``) after a small German rewrite step for what dateparser
does not know. The result carries the granularity the text supports, so "im April 2014" is ``2014-04``,
not an invented day.

Conventions (documented in docs/records.md):

* ISO forms by granularity: day ``YYYY-MM-DD``, week ``YYYY-Www`` (ISO week), month ``YYYY-MM``, year ``YYYY``.
* A weekday ("am Freitag", "Donnerstagabend") is the latest such day on or before the reference date: news
  published on a Friday that says "am Freitag" means that same day.
* "am Vortag" / "tags zuvor" is the day before the *anchor*: the date the text last mentioned (e.g. "teilte am
  Freitag mit, ... hätten am Vortag telefoniert" is Thursday), or the publication date when there is none.
* Without a publication date only absolute expressions resolve; relative ones return ``iso=None``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

WEEKDAYS = {
    "montag": 0,
    "dienstag": 1,
    "mittwoch": 2,
    "donnerstag": 3,
    "freitag": 4,
    "samstag": 5,
    "sonnabend": 5,
    "sonntag": 6,
}
_DAYPART = r"(?:früh|morgen|vormittag|mittag|nachmittag|abend|nacht)"
_WEEKDAY_RE = re.compile(rf"^(?P<day>{'|'.join(WEEKDAYS)}){_DAYPART}?$")
_DAY_BEFORE_RE = re.compile(r"^(?:vortag|vortages|tags? zuvor|tags? davor|einen tag (?:zuvor|davor|vorher))$")
# Leading words that carry no date information ("am Freitag", "im April 2014", "seit dem 3. Mai").
_LEADING_RE = re.compile(
    r"^(?:(?:am|an|im|in|um|seit|bis|ab|vom|von|zum|zur|dem|den|der|des|die|das|jahr|jahre|jahres|"
    r"anfang|mitte|ende|früh|spät|bereits|schon|erst|noch|etwa|rund|gegen|kurz|vor dem|nach dem)\s+)+"
)
# "vergangene Woche", "im vorigen Monat", "letztes Jahr", "Vorjahr", "diese Woche": computed here, because
# dateparser knows only some inflections ("letzte Woche" but not "vergangenen Woche" or "letzten Jahr").
_PERIOD_RE = re.compile(
    r"^(?:(?P<shift>vergangene[nmrs]?|vorige[nmrs]?|letzte[nmrs]?|vor|diese[nmrs]?|laufende[nmrs]?)\s*)"
    r"(?P<unit>woche|monat|jahr)(?:e?s)?$"
)
_MONTH_ALIASES = {"jänner": "januar", "jänners": "januar", "feber": "februar"}  # Austrian forms (derStandard)
_ISO_WEEK = "%G-W%V"


@dataclass(frozen=True)
class DateValue:
    """A normalised date: the text as written, an ISO string (or None) and its granularity."""

    text: str
    iso: str | None
    granularity: str | None  # day | week | month | year
    anchor: dt.date | None = None  # the day this value stands for (first day of the period); for chaining "am Vortag"

    def as_dict(self) -> dict[str, str | None]:
        return {"text": self.text, "iso": self.iso, "granularity": self.granularity}


def parse_published(value: str | dt.date | None) -> dt.date | None:
    """The publication date as a ``date`` (accepts ISO dates and datetimes; None when missing or invalid)."""
    if value is None or isinstance(value, dt.date):
        return value if not isinstance(value, dt.datetime) else value.date()
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def normalise_date(text: str, published: str | dt.date | None, *, anchor: dt.date | None = None) -> DateValue:
    """Resolve a German date expression; ``anchor`` is the date last mentioned (for "am Vortag")."""
    return _normalise(text, parse_published(published), anchor)


@lru_cache(maxsize=65536)
def _normalise(text: str, published: dt.date | None, anchor: dt.date | None) -> DateValue:
    phrase = _clean(text)
    if not phrase:
        return DateValue(text, None, None)
    if _DAY_BEFORE_RE.match(phrase):
        base = anchor or published
        return _value(text, base - dt.timedelta(days=1), "day") if base else DateValue(text, None, None)
    period = _PERIOD_RE.match(phrase)
    if period:
        if published is None:
            return DateValue(text, None, None)
        previous = not period.group("shift").startswith(("diese", "laufende"))
        return _shifted(text, published, period.group("unit"), previous)
    weekday = _WEEKDAY_RE.match(phrase)
    if weekday:
        if published is None:
            return DateValue(text, None, None)
        back = (published.weekday() - WEEKDAYS[weekday.group("day")]) % 7
        return _value(text, published - dt.timedelta(days=back), "day")
    return _dateparser(text, phrase, published)


def _clean(text: str) -> str:
    phrase = " ".join(text.lower().replace("\u00a0", " ").split()).strip(" .,;:")
    phrase = _LEADING_RE.sub("", phrase)
    for alias, month in _MONTH_ALIASES.items():
        phrase = re.sub(rf"\b{alias}\b", month, phrase)
    return phrase


def _shifted(text: str, published: dt.date, unit: str, previous: bool) -> DateValue:
    if unit == "woche":
        return _value(text, published - dt.timedelta(days=7 if previous else 0), "week")
    if unit == "monat":
        first = published.replace(day=1)
        return _value(text, (first - dt.timedelta(days=1)) if previous else first, "month")
    return _value(text, dt.date(published.year - int(previous), 1, 1), "year")


def _dateparser(text: str, phrase: str, published: dt.date | None) -> DateValue:
    parser = _parser(published)
    data = parser.get_date_data(phrase)
    if data.date_obj is None:
        return DateValue(text, None, None)
    granularity = data.period if data.period in ("day", "week", "month", "year") else "day"
    if published is None and _is_relative(phrase):
        # dateparser would silently resolve against today's date: refuse instead
        return DateValue(text, None, None)
    return _value(text, data.date_obj.date(), granularity)


def _is_relative(phrase: str) -> bool:
    return not re.search(r"\b\d{4}\b", phrase)


@lru_cache(maxsize=256)
def _parser(published: dt.date | None):  # noqa: ANN202 - dateparser has no public type for this
    from dateparser.date import DateDataParser

    settings = {"PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": True, "PREFER_DAY_OF_MONTH": "first"}
    if published is not None:
        settings["RELATIVE_BASE"] = dt.datetime.combine(published, dt.time(12))
    return DateDataParser(languages=["de"], settings=settings)


def _value(text: str, day: dt.date, granularity: str) -> DateValue:
    if granularity == "year":
        return DateValue(text, f"{day.year:04d}", "year", day.replace(month=1, day=1))
    if granularity == "month":
        return DateValue(text, f"{day.year:04d}-{day.month:02d}", "month", day.replace(day=1))
    if granularity == "week":
        monday = day - dt.timedelta(days=day.weekday())
        return DateValue(text, day.strftime(_ISO_WEEK), "week", monday)
    return DateValue(text, day.isoformat(), "day", day)
