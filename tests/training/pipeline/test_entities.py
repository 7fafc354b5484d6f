"""Entity post-processing: document-level name consistency and the ROLE/DATE patterns after the NER."""

from __future__ import annotations

import pytest
import spacy
from spacy.tokens import Span

from treffpunkt.training.pipeline.entities import EntityConsistency, entity_patterns
from treffpunkt.training.train.config import load_config, pattern_rulers, set_entity_patterns


def _doc(words, ents):
    nlp = spacy.blank("de")
    doc = spacy.tokens.Doc(nlp.vocab, words=words)
    doc.ents = [Span(doc, start, end, label=label) for start, end, label in ents]
    return doc


def _ents(doc):
    return [(e.text, e.label_) for e in doc.ents]


def test_entities_consistency_labels_repeats_and_surnames():
    words = [
        "Alexander",
        "Gauland",
        "sprach",
        ".",
        "Gauland",
        "traf",
        "die",
        "AfD",
        ".",
        "Die",
        "AfD",
        "und",
        "Gauland",
        "schwiegen",
        ".",
    ]
    doc = _doc(words, [(0, 2, "PER"), (6, 8, "ORG")])
    doc = EntityConsistency("c", ["PER", "ORG", "GPE", "LOC"], "PER")(doc)
    assert _ents(doc) == [
        ("Alexander Gauland", "PER"),
        ("Gauland", "PER"),
        ("die AfD", "ORG"),
        ("Gauland", "PER"),
    ]  # 'die AfD' starts lower-case: not spread to 'Die AfD'


@pytest.mark.parametrize(
    ("words", "ents", "expected"),
    [
        # an existing entity is never overwritten, even when it contains the name
        (["Merkel", "sprach", ".", "Merkel-Regierung", "und", "Merkel"], [(0, 1, "PER"), (3, 4, "ORG")],
         [("Merkel", "PER"), ("Merkel-Regierung", "ORG"), ("Merkel", "PER")]),
        # lower-case names and labels outside the list are not spread
        (["kanzler", "sprach", ".", "kanzler", "schwieg"], [(0, 1, "PER")], [("kanzler", "PER")]),
        (["Montag", "kam", ".", "Montag", "ging"], [(0, 1, "DATE")], [("Montag", "DATE")]),
        # the longest name wins where names overlap
        (["Wien", "ist", ".", "Neue", "Wien", "und", "Wien"], [(0, 1, "GPE"), (3, 5, "ORG")],
         [("Wien", "GPE"), ("Neue Wien", "ORG"), ("Wien", "GPE")]),
    ],
)  # fmt: skip
def test_entities_consistency_cases(words, ents, expected):
    doc = EntityConsistency("c", ["PER", "ORG", "GPE", "LOC"], "PER")(_doc(words, ents))
    assert _ents(doc) == expected


@pytest.mark.parametrize(
    ("words", "ents", "expected"),
    [
        # German genitive forms are the same name: the council found once is found in all its forms
        (["Sitzung", "des", "Nato-Russland-Rats", ".", "Der", "Nato-Russland-Rat", "und", "des", "Nato-Russland-Rates"],
         [(2, 3, "ORG")],
         [("Nato-Russland-Rats", "ORG"), ("Nato-Russland-Rat", "ORG"), ("Nato-Russland-Rates", "ORG")]),
        (["Joe", "Dunford", "kam", ".", "Dunfords", "Vorgänger"], [(0, 2, "PER")],
         [("Joe Dunford", "PER"), ("Dunfords", "PER")]),
        # short words and words without a lower-case letter before the ending stay as they are
        (["USA", "kam", ".", "US", "ging"], [(0, 1, "GPE")], [("USA", "GPE")]),
        # a person name that swallowed a word which is an entity of its own elsewhere (twice) is split
        (["Russland", "sagt", ".", "Jens", "Stoltenberg", "Russland", "ruft", ".", "Russland", "schweigt"],
         [(0, 1, "GPE"), (3, 6, "PER"), (8, 9, "GPE")],
         [("Russland", "GPE"), ("Jens Stoltenberg", "PER"), ("Russland", "GPE"), ("Russland", "GPE")]),
        # ... but not when the word is seen alone once only (one NER slip is no evidence): the name stays whole,
        # and its surname seen alone is the person, whatever the NER said
        (["Juan", "Antonio", "Blanco-Gil", "kam", ".", "Blanco-Gil", "ging"], [(0, 3, "PER"), (5, 6, "GPE")],
         [("Juan Antonio Blanco-Gil", "PER"), ("Blanco-Gil", "PER")]),
        (["Jérôme", "Boateng", "spielt", ".", "Boateng", "ging", "nach", "Berlin"],
         [(0, 2, "PER"), (4, 5, "GPE"), (7, 8, "GPE")],
         [("Jérôme Boateng", "PER"), ("Boateng", "PER"), ("Berlin", "GPE")]),
        # the first word of a person name is the person too ("Guo" of "Guo Jianmei"), not an initial ("A.")
        (["Guo", "Jianmei", "sprach", ".", "Guo", "und", "A.", "Merkel", "und", "A.", "kamen"],
         [(0, 2, "PER"), (6, 8, "PER")],
         [("Guo Jianmei", "PER"), ("Guo", "PER"), ("A. Merkel", "PER")]),
        # a name right after "Hauptstadt" is a city
        (["in", "der", "Hauptstadt", "Baku", "und", "der", "Landeshauptstadt", "Graz"], [(3, 4, "PER"), (7, 8, "ORG")],
         [("Baku", "GPE"), ("Graz", "GPE")]),
    ],
)  # fmt: skip
def test_entities_consistency_name_forms(words, ents, expected):
    doc = EntityConsistency("c", ["PER", "ORG", "GPE", "LOC"], "PER")(_doc(words, ents))
    assert _ents(doc) == expected


def test_entities_consistency_without_gpe_leaves_capitals_alone():
    doc = EntityConsistency("c", ["PER", "ORG"], "PER")(_doc(["Hauptstadt", "Baku"], [(1, 2, "PER")]))
    assert _ents(doc) == [("Baku", "PER")]


def test_entities_patterns_reader_keeps_only_the_asked_labels(tmp_path):
    (tmp_path / "a.jsonl").write_text(
        '{"label": "ROLE", "pattern": "Kanzler"}\n// comment\n{"label": "CONSULT", "pattern": "traf"}\n'
        '{"label": "DATE", "pattern": "Montag"}\n',
        encoding="utf-8",
    )
    assert [p["label"] for p in entity_patterns(["ROLE", "DATE"], str(tmp_path))] == ["ROLE", "DATE"]
    shipped = entity_patterns(["ROLE"])
    assert shipped and {p["label"] for p in shipped} == {"ROLE"}


@pytest.mark.parametrize("name", ["default", "fast", "sklearn", "spancat"])
def test_entities_every_shipped_config_has_the_post_processors(name):
    from treffpunkt.core.resources import default_config

    config = load_config(default_config(f"{name}.cfg"))
    assert pattern_rulers(config) == ["entity_patterns"]
    assert config["nlp"]["pipeline"][:5] == ["tok2vec", "ner", "entity_patterns", "entity_lists", "entity_consistency"]
    assert config["initialize"]["before_init"]["@callbacks"] == "treffpunkt.train_token_exceptions.v1"


def test_entities_schema_without_role_and_date_drops_the_ruler(tmp_path):
    from treffpunkt.core.resources import default_config

    config = load_config(default_config("default.cfg"))
    set_entity_patterns(config, ["PER", "LOC", "DATE"], tmp_path)
    assert config["initialize"]["components"]["entity_patterns"]["patterns"]["labels"] == ["DATE"]
    assert config["paths"]["patterns"] == str(tmp_path)
    set_entity_patterns(config, ["PER", "LOC"])
    assert "entity_patterns" not in config["nlp"]["pipeline"]
    assert "entity_patterns" not in config["components"]


def test_entities_consistency_trims_whitespace_at_entity_edges():
    nlp = spacy.blank("de")
    doc = nlp("Jens Stoltenberg\n\nsprach. \n\nDann Stoltenberg.")
    doc.ents = [Span(doc, 0, 3, label="PER"), Span(doc, 5, 6, label="ORG")]  # "Jens Stoltenberg\n\n", "\n\n"
    doc = EntityConsistency("c", ["PER", "ORG", "GPE", "LOC"], "PER")(doc)
    assert _ents(doc) == [("Jens Stoltenberg", "PER"), ("Stoltenberg", "PER")]


@pytest.mark.parametrize(
    ("ents", "patterns", "expected"),
    [
        # the model read role + name as one ROLE; the pattern takes the role, the name stays, as PER
        ([(5, 8, "ROLE")], [(5, 6, "ROLE")], [("General", "ROLE"), ("Petr Pavel", "PER")]),
        # the model had role + name as PER: the remainder keeps the model's label
        ([(5, 8, "PER")], [(5, 6, "ROLE")], [("General", "ROLE"), ("Petr Pavel", "PER")]),
        # a pattern inside or at the end of an entity: the entity goes, as with spaCy's own filter
        ([(4, 8, "ORG")], [(5, 6, "ROLE")], [("General", "ROLE")]),
        # lower-case remainders are not names
        ([(0, 3, "ROLE")], [(0, 1, "ROLE")], [("Der", "ROLE")]),
        # no overlap: both kept
        ([(6, 8, "PER")], [(5, 6, "ROLE")], [("General", "ROLE"), ("Petr Pavel", "PER")]),
    ],
)
def test_entities_patterns_keep_what_they_displace(ents, patterns, expected):
    from treffpunkt.training.pipeline.entities import keep_displaced_names

    doc = _doc(["Der", "tschechische", "und", "der", "Nato", "General", "Petr", "Pavel", "telefonierten"], ents)
    new = [Span(doc, s, e, label=label) for s, e, label in patterns]
    doc.ents = keep_displaced_names()(doc.ents, new)
    assert _ents(doc) == expected
