"""Date normalisation against a fixed publication date (Friday, 14 January 2022)."""

from __future__ import annotations

import datetime as dt

import pytest

from treffpunkt.training.pipeline.dates import normalise_date, parse_published

PUBLISHED = "2022-01-14"  # a Friday


@pytest.mark.parametrize(
    ("text", "iso", "granularity"),
    [
        ("am Freitag", "2022-01-14", "day"),  # same weekday as publication: that day
        ("am Donnerstag", "2022-01-13", "day"),
        ("am Montag", "2022-01-10", "day"),
        ("Samstag", "2022-01-08", "day"),
        ("am Donnerstagabend", "2022-01-13", "day"),
        ("am Vortag", "2022-01-13", "day"),
        ("gestern", "2022-01-13", "day"),
        ("vorgestern", "2022-01-12", "day"),
        ("vor drei Tagen", "2022-01-11", "day"),
        ("12.01.2022", "2022-01-12", "day"),
        ("am 12. Januar", "2022-01-12", "day"),
        ("am 3. März", "2021-03-03", "day"),  # without a year: the past one
        ("am 5. Dezember 2021", "2021-12-05", "day"),
        ("vergangene Woche", "2022-W01", "week"),
        ("in der vergangenen Woche", "2022-W01", "week"),
        ("vorige Woche", "2022-W01", "week"),
        ("in dieser Woche", "2022-W02", "week"),
        ("vor zwei Wochen", "2021-W52", "week"),
        ("im April 2014", "2014-04", "month"),
        ("im Jänner 2014", "2014-01", "month"),  # Austrian month name
        ("seit Juli 2019", "2019-07", "month"),
        ("Mitte Januar", "2022-01", "month"),
        ("letzten Monat", "2021-12", "month"),
        ("im vergangenen Jahr", "2021", "year"),
        ("im Vorjahr", "2021", "year"),
        ("im Jahr 2014", "2014", "year"),
        ("2016", "2016", "year"),
    ],
)
def test_dates_german_expressions_resolve_against_publication(text: str, iso: str, granularity: str) -> None:
    value = normalise_date(text, PUBLISHED)
    assert (value.iso, value.granularity) == (iso, granularity)
    assert value.text == text


def test_dates_vortag_chains_to_the_anchor() -> None:
    # "teilte am Montag mit, ... hätten am Vortag telefoniert": the day before Monday
    assert normalise_date("am Vortag", PUBLISHED, anchor=dt.date(2022, 1, 10)).iso == "2022-01-09"


@pytest.mark.parametrize("text", ["am Freitag", "vergangene Woche", "am Vortag", "gestern"])
def test_dates_relative_without_publication_date_is_unresolved(text: str) -> None:
    assert normalise_date(text, None).iso is None


@pytest.mark.parametrize(("text", "iso"), [("12.01.2022", "2022-01-12"), ("im April 2014", "2014-04")])
def test_dates_absolute_without_publication_date_resolve(text: str, iso: str) -> None:
    assert normalise_date(text, None).iso == iso


@pytest.mark.parametrize("text", ["", "Nato", "blabla"])
def test_dates_non_dates_give_no_iso(text: str) -> None:
    assert normalise_date(text, PUBLISHED).iso is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-01-14", dt.date(2022, 1, 14)),
        ("2022-01-14T08:00:00Z", dt.date(2022, 1, 14)),
        (None, None),
        ("unknown", None),
    ],
)
def test_dates_parse_published(value: str | None, expected: dt.date | None) -> None:
    assert parse_published(value) == expected
