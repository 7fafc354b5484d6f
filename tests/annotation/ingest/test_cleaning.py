"""The web-dump classifier on the five seed pages: article text survives verbatim, page furniture is gone."""

from __future__ import annotations

import unicodedata

import pytest

from tests.conftest import SEEDS_DIR
from treffpunkt.annotation.ingest.cleaning import clean_dump, find_published, normalize_text

# For each seed: the headline (title), paragraphs that must survive verbatim (headline, lead, body, closing lines)
# and the boilerplate of each kind on that page that must be gone.
SEEDS = {
    "000_a2d15fba213d09cb.txt": {
        "title": "Russlands Top-Militärs und Nato nehmen Kontakt auf",
        "keep": [
            "Russlands Top-Militärs und Nato nehmen Kontakt auf",
            "Moskau - Stehen die Zeichen auf Annäherung? Erstmals seit 2014 haben sich führende russische Militärs",
            "Das Verteidigungsministerium in Moskau teilte am Freitag mit, Generalstabschef Waleri Gerassimow",
            "Über Syrien sind russische Kampfjets wie Flieger aus Nato-Staaten im Kriegseinsatz.",
            "Die Nato sieht dies als Reaktion auf eine Aufrüstung Russlands an seiner Westgrenze.",
            "\n\ndpa",  # agency closing line
        ],
        "drop": {
            "photo credit": ["Rubriklistenbild", "picture alliance"],
            "teaser headings": ["Auch interessant", "Mehr zum Thema", "Meistgelesene Artikel"],
            "teaser list": [
                "Slowakischer Ex-Minister",
                "Pavol Rusko",
                "Sondierungsgesprächen",
                "migrantenfreien",
                "Bergdahl",
                "…",
            ],
            "comments": ["Kommentare"],
        },
    },
    "001_d7afbdb56c8d52b7.txt": {
        "title": "NATO und Russland wieder im Dialog",
        "keep": [
            "NATO und Russland wieder im Dialog",
            "Nach Tagung des gemeinsamen Rates weitere Treffen in Aussicht gestellt",
            "Brüssel. Die NATO und Russland wollen künftig wieder regelmäßiger miteinander reden.",
            "»Ich erwarte, dass wir uns wieder treffen werden«, sagte NATO-Generalsekretär Jens Stoltenberg",
            "Der Dialog war wegen des Ukraine-Konflikts von der NATO ausgesetzt worden. Agenturen/nd Seiten 4 und 8",
        ],
        "drop": {
            "cookie banner": ["Cookies", "Datenschutzhinweise"],
            "ad marker": ["Werbung"],
            "donation plea": [
                "Sichere diesen Journalismus",
                "Besondere Zeiten erfordern",
                "Helfen Sie mit",
                "PayPal",
                "Sofortüberweisung",
                "Unterstützen über",
            ],
            "section teaser": ["Solidarisches Berlin", "Gesundheitskrise", "Zu allen Artikeln"],
        },
    },
    "002_33fec461db08d0af.txt": {
        "title": 'Russland zu Dialog aufgefordert - Am "Tiefpunkt" - Nato vermisst Moskau-Treffen',
        "keep": [
            'Russland zu Dialog aufgefordert - Am "Tiefpunkt" - Nato vermisst Moskau-Treffen',
            "Für Nato-Generalsekretär Jens Stoltenberg haben die Beziehungen zu Russland einen Tiefpunkt erreicht.",
            "Eine Woche vor dem Nato-Gipfel in Brüssel ruft Generalsekretär Jens Stoltenberg Russland zu Gesprächen",
            "Wir haben viel zu besprechen, das im gemeinsamen Interesse von Nato und Russland liegt.",
            "Russland möchte nicht mehr über Ukraine reden",
            "Beziehungen am Tiefpunkt",
            "US-Präsident Biden reist zum Nato-Gipfel an",
            "Greifbare Ergebnisse brachte dies aber bislang nicht.",
        ],
        "drop": {
            "breadcrumb and labels": ["Sie sind hier", "Datum:", "Beitragslänge", "1 min"],
            "photo caption and credit": ["Außenansicht", "(Archivbild)", "Quelle: imago", "Archiv: Bundesamt"],
            "related-article teaser": ["Verfassungsschutzchef Haldenwang", "Sittenwandel"],
            "video-player UI": ["Gemerkt auf Mein ZDF", "Embed-Code", "Nutzungsbedingungen des ZDF"],
            "cookie banner": ["Cookies", "Webseite"],
            "login widgets": ["ausgeloggt", "Account", "Altersprüfung", "Kinderbereich"],
        },
    },
    "003_c8f623122158d84d.txt": {
        "title": "Nato will mit Russland über Beschränkungen für Raketenwaffen in Europa diskutieren – Stoltenberg",
        "keep": [
            "Nato will mit Russland über Beschränkungen für Raketenwaffen in Europa diskutieren – Stoltenberg",
            "Das erste Treffen von Vertretern der 30 Nato-Staaten und Russlands seit längerer Zeit ist laut",
            "„Es ist ein positives Zeichen, dass alle Nato-Verbündeten und Russland am gleichen Tisch saßen",
            "Nato will Kiew weiterhin unterstützen",
            "Sie seien bereit, Kiew zu unterstützen:",
            "Für Deutschland war Staatssekretär Andreas Michaelis dabei, für die USA Vizeaußenministerin Wendy Sherman.",
            "auf einen Nato-Beitritt der Ukraine und auf den Bau von Militärbasen in ehemaligen Sowjetrepubliken.",
        ],
        "drop": {
            "account widget": [
                "Registrierung erfolgreich",
                "Klicken Sie bitte",
                "Abonnieren",
                "loggen Sie sich ein",
                "Um an der Diskussion teilzunehmen",
            ],
            "photo credits and captions": ["© AP Photo", "SNA, 1920", "Jahrespressekonferenz"],
            "related-article teasers": ["Peskow zu Nato-Treffen", "US-Demokraten entwerfen neue Sanktionen"],
            "live ticker UI": ["Newsticker", "Neueste oben", "loader", "Chats"],
            "foreign-script placeholders": ["Заголовок"],
        },
    },
    "004_3e3c712624bce7de.txt": {
        "title": "",
        "keep": [
            "Washington – Die USA und Russland wollen ihre Kommunikation auf militärischer Ebene verbessern.",
            "Erstes Treffen seit 2014",
            "Das bisher letzte Treffen der Generalstabschefs beider Länder fand im Jänner 2014 statt",
            "sich um eine Annäherung an Moskau bemühen zu wollen. (APA, 17.2.2017)",
        ],
        "drop": {},
    },
}


def _clean(name: str):
    return clean_dump((SEEDS_DIR / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_cleaning_keeps_article_paragraphs_verbatim(name: str) -> None:
    result = _clean(name)
    for passage in SEEDS[name]["keep"]:
        assert passage in result.text, f"{name}: lost {passage!r}"
    assert result.title == SEEDS[name]["title"]


@pytest.mark.parametrize(
    ("name", "kind"), [(name, kind) for name, case in sorted(SEEDS.items()) for kind in case["drop"]]
)
def test_cleaning_removes_boilerplate(name: str, kind: str) -> None:
    result = _clean(name)
    for marker in SEEDS[name]["drop"][kind]:
        assert marker not in result.text, f"{name}: {kind} left in text: {marker!r}"


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_cleaning_accounts_for_every_line(name: str) -> None:
    raw = (SEEDS_DIR / name).read_text(encoding="utf-8")
    result = clean_dump(raw)
    assert len(result.paragraphs) == sum(1 for line in raw.splitlines() if line.strip())
    assert "\n\n".join(p.text for p in result.paragraphs if p.kept) == result.text
    assert all(p.reasons for p in result.removed), "every removed line says why"
    assert result.title in result.text


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_cleaning_output_is_normalised(name: str) -> None:
    text = _clean(name).text
    assert text == unicodedata.normalize("NFC", text)
    assert "\u00a0" not in text and "\t" not in text and "  " not in text
    assert "\n\n\n" not in text and text == text.strip()
    assert normalize_text(text) == text  # stable: cleaning twice changes nothing


def test_cleaning_is_not_a_list_of_seed_strings() -> None:
    """A page the classifier has never seen: same kinds of furniture, new wording."""
    page = "\n".join(
        [
            "Wir verwenden Cookies, um Ihnen das beste Nutzererlebnis zu bieten. Wenn Sie fortfahren, stimmen Sie zu.",
            "",
            "Hamburg und Kopenhagen vereinbaren engere Zusammenarbeit",
            "",
            "Hamburg. Die Bürgermeister von Hamburg und Kopenhagen haben sich am Dienstag im Rathaus getroffen, um über "
            "eine engere Zusammenarbeit der beiden Hafenstädte zu beraten. Im Mittelpunkt standen der Ausbau der "
            "Bahnverbindung und gemeinsame Projekte beim Klimaschutz.",
            "",
            "Foto: Max Mustermann",
            "",
            "Nach dem Treffen sagte der Hamburger Bürgermeister, man habe viele Gemeinsamkeiten gefunden. Ein weiteres "
            "Treffen ist für den Herbst in Kopenhagen geplant, wie die Senatskanzlei mitteilte.",
            "",
            "Lesen Sie auch",
            "Hafen: Neue Terminals geplant",
            "Der Senat will zwei neue Containerterminals bauen lassen. Die Kosten liegen bei …",
            "Hafen: Neue Terminals geplant",
            "Jetzt Newsletter abonnieren! Verpassen Sie keine Nachricht mehr!",
        ]
    )
    result = clean_dump(page)
    assert result.title == "Hamburg und Kopenhagen vereinbaren engere Zusammenarbeit"
    assert "Die Bürgermeister von Hamburg und Kopenhagen haben sich am Dienstag im Rathaus getroffen" in result.text
    assert "Ein weiteres Treffen ist für den Herbst in Kopenhagen geplant" in result.text
    for furniture in ("Cookies", "Foto:", "Lesen Sie auch", "Terminals", "Newsletter"):
        assert furniture not in result.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Zuvor hatte er gesprochen. (APA, 17.2.2017)", "2017-02-17"),
        ("Jens Stoltenberg - SNA, 1920, 12.01.2022\nText", "2022-01-12"),
        ("Berlin, 3. März 2021 – Die Regierung hat entschieden.", "2021-03-03"),
        ("Das Treffen war im April 2014.", None),
        ("Am 31.02.2020 war nichts.", None),
    ],
)
def test_cleaning_finds_published_date(text: str, expected: str | None) -> None:
    assert find_published(text) == expected


def test_cleaning_empty_input() -> None:
    result = clean_dump(" \n\t\n")
    assert result.text == "" and result.paragraphs == []


def test_cleaning_keeps_a_short_article_without_long_paragraphs() -> None:
    """An agency brief has no paragraph long enough to be "good"; it must not vanish as a whole (found by fuzzing)."""
    paragraphs = [
        "Der Bundeskanzler hat am Montag in Berlin den französischen Präsidenten empfangen. Beide sprachen über die Ukraine.",
        "Nach dem Treffen sagte Scholz, man sei sich in vielen Punkten einig gewesen, auch bei der Hilfe für Kiew.",
        "Macron kündigte an, im Juni erneut nach Deutschland zu reisen, um die Gespräche fortzusetzen.",
    ]
    result = clean_dump("\n\n".join(["Cookies akzeptieren", *paragraphs, "Newsletter abonnieren"]))
    assert result.text == "\n\n".join(paragraphs)
    assert all("no long paragraph" in " ".join(p.reasons) for p in result.paragraphs if p.kept)
