"""Rebuild configs/names/places.json: German country and city names from Unicode CLDR (through babel).

Countries: babel's German territory names of the two-letter ISO codes (no regions, continents, EU/UN; no names
with CLDR's disambiguating parentheses), plus the usual German forms of some of them (:data:`COMMON`). Cities: the
exemplar city of each continental time zone (CLDR's German name where it has one).
Run from the repository root: ``python scripts/make_name_lists.py``.
"""

from __future__ import annotations

import json
import zoneinfo
from pathlib import Path

from babel import Locale

SKIP = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "AQ"}
#: Usual German names that CLDR spells otherwise (its official or disambiguated forms are dropped above).
COMMON = [
    "Bosnien",
    "Burma",
    "Elfenbeinküste",
    "England",
    "Großbritannien",
    "Holland",
    "Kapverden",
    "Kongo",
    "Mazedonien",
    "Moldau",
    "Nordirland",
    "Osttimor",
    "Palästina",
    "Schottland",
    "Swasiland",
    "Tschechische Republik",
    "Vatikan",
    "Vereinigten Arabischen Emirate",
    "Vereinigten Staaten",
    "Wales",
    "Weißrussland",
]
AREAS = {"Europe", "Asia", "Africa", "America", "Australia", "Pacific", "Atlantic", "Indian"}


def main() -> None:
    de = Locale("de")
    countries = sorted(
        {
            name
            for code, name in de.territories.items()
            if len(code) == 2
            and code.isalpha()
            and code not in SKIP
            and "(" not in name
            and "Sonderverwaltungs" not in name
        }
        | set(COMMON)
    )
    cities = set()
    for tz in zoneinfo.available_timezones():
        parts = tz.split("/")
        if len(parts) != 2 or parts[0] not in AREAS:
            continue
        city = de.time_zones.get(tz, {}).get("city") or parts[1].replace("_", " ")
        if "," not in city and city != "Unbekannt" and city[:1].isupper():
            cities.add(city.replace("\xad", ""))
    out = Path("configs/names/places.json")
    data = {"countries": countries, "cities": sorted(cities - set(countries))}
    out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"{out}: {len(data['countries'])} countries, {len(data['cities'])} cities")


if __name__ == "__main__":
    main()
