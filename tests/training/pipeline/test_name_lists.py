"""Country/city and first-name lists after the NER, and tokenizer special cases learnt from the training data."""

from __future__ import annotations

import spacy
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example

from treffpunkt.training.train.tokens import learn_token_exceptions


def _lists(labels=("PER", "ORG", "GPE", "LOC", "ROLE", "DATE")):
    nlp = spacy.blank("de")
    ner = nlp.add_pipe("ner")
    for label in labels:
        ner.add_label(label)
    lists = nlp.add_pipe("treffpunkt_NameLists_v1", name="entity_lists")
    lists.initialize(nlp=nlp)
    return nlp, lists


def _run(lists, words, ents):
    doc = Doc(spacy.blank("de").vocab, words=words)
    doc.ents = [Span(doc, a, b, label=label) for a, b, label in ents]
    return [(e.text, e.label_) for e in lists(doc).ents]


def test_name_lists_places_fill_gaps_and_fix_labels():
    _, lists = _lists()
    assert lists.cfg["active"] and "Südkorea" in lists.cfg["places"] and "Baku" in lists.cfg["places"]
    words = ["Gespräche", "in", "Seoul", "und", "Südkoreas", "Präsident", "in", "Baku", "mit", "Großbritannien"]
    # "Baku" taken for a person by the NER: the list says it is a city; unlabelled places (and genitives) are filled
    assert _run(lists, words, [(7, 8, "PER")]) == [
        ("Seoul", "GPE"),
        ("Südkoreas", "GPE"),
        ("Baku", "GPE"),
        ("Großbritannien", "GPE"),
    ]


def test_name_lists_first_names_make_and_extend_people():
    _, lists = _lists()
    words = [
        "Gestern",
        "sprach",
        "Woody",
        "Harrelson",
        "mit",
        "Cecilia",
        "de",
        "Arce",
        "über",
        "Angela",
        "und",
        "Ruhe",
    ]
    # a known first name plus a capitalised name word is a PER, a partial PER is extended; a first name followed
    # by a stop word ("und") or nothing name-like stays as it was
    assert _run(lists, words, [(2, 3, "PER")]) == [("Woody Harrelson", "PER"), ("Cecilia de Arce", "PER")]
    # an entity of another label is never overwritten by a first-name match
    assert _run(lists, ["Hans", "Dampf", "GmbH"], [(0, 3, "ORG")]) == [("Hans Dampf GmbH", "ORG")]


def test_name_lists_towns_regions_acronyms_and_name_endings_fill_gaps():
    _, lists = _lists()
    assert "Leoben" in lists.cfg["towns"] and "Südostasien" in lists.cfg["regions"]
    words = ["Die", "AfD", "und", "die", "GmbH", "in", "Leoben", ",", "Südostasien", "und", "die", "Herrengasse"]
    words += ["vor", "dem", "Verteidigungsministerium", "und", "der", "Gasse"]
    assert _run(lists, words, []) == [
        ("AfD", "ORG"),
        ("Leoben", "GPE"),
        ("Südostasien", "LOC"),
        ("Herrengasse", "LOC"),
        ("Verteidigungsministerium", "ORG"),
    ]
    # a model entity is never relabelled by these lists (only the country/city list does that)
    assert _run(lists, ["in", "Leoben"], [(1, 2, "ORG")]) == [("Leoben", "ORG")]


def test_name_lists_drop_common_nouns_taken_for_names_but_keep_names_of_the_training_data():
    nlp = spacy.blank("de")
    ner = nlp.add_pipe("ner")
    for label in ("PER", "ORG", "GPE", "LOC"):
        ner.add_label(label)
    lists = nlp.add_pipe("treffpunkt_NameLists_v1", name="entity_lists")
    trained = Doc(nlp.vocab, words=["Kanzler", "Kurz", "sprach"])
    trained.ents = [Span(trained, 1, 2, label="PER")]
    lists.initialize(lambda: [Example(nlp.make_doc(trained.text), trained)], nlp=nlp)
    assert "Hausarrest" in lists.cfg["common_nouns"] and "Kurz" not in lists.cfg["common_nouns"]
    words = ["Hausarrest", "für", "Kurz", ",", "Susanne", "Winter", "und", "Winter", "in", "der", "Villa"]
    ents = [(0, 1, "GPE"), (2, 3, "PER"), (4, 6, "PER"), (7, 8, "PER"), (10, 11, "ORG")]
    # "Hausarrest" is a noun; "Kurz" is a name in the training data; "Winter" is a word of a longer name here;
    # one-word organisations are not checked (many are nouns: "Bundesheer")
    assert _run(lists, words, ents) == [
        ("Kurz", "PER"),
        ("Susanne Winter", "PER"),
        ("Winter", "PER"),
        ("Villa", "ORG"),
    ]


def test_name_lists_stay_off_without_the_news_labels_and_travel_with_the_model(tmp_path):
    _, off = _lists(labels=("PER", "ORG", "GS", "RR"))  # LER-like labels
    assert not off.cfg["active"]
    assert _run(off, ["in", "Baku"], []) == []
    nlp, lists = _lists()
    nlp.initialize()
    lists.initialize(nlp=nlp)
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model").get_pipe("entity_lists")
    assert loaded.cfg == lists.cfg and _run(loaded, ["in", "Baku"], []) == [("Baku", "GPE")]


def test_tokens_learnt_from_training_data_keep_abbreviations_and_citations_whole(tmp_path):
    nlp = spacy.blank("de")
    before = [t.text for t in nlp("gemäß Rn. 12 und Art. 5 der Verordnung 883/2004")]
    assert "Rn." not in before or "883/2004" not in before  # spaCy splits at least one of them
    train = Doc(nlp.vocab, words=["gemäß", "Rn.", "12", "und", "Art.", "5", "der", "Verordnung", "883/2004", "."])
    DocBin(docs=[train]).to_disk(tmp_path / "train.spacy")
    added = learn_token_exceptions(nlp, tmp_path / "train.spacy")
    assert added["slashed"] == 1
    assert [t.text for t in nlp("gemäß Rn. 12 und Art. 5 der Verordnung 883/2004")] == train[:-1].text.split()
    # news exports are tokenised by spaCy itself: nothing to learn, and no training file is no error
    assert learn_token_exceptions(spacy.blank("de"), None) == {"special_cases": 0, "slashed": 0}


def test_name_lists_know_the_country_of_a_place():
    from treffpunkt.training.pipeline.name_lists import country_codes

    codes = country_codes()
    assert (codes["Baku"], codes["Russland"], codes["Russlands"], codes["USA"], codes["Leoben"]) == (
        "AZ",
        "RU",
        "RU",
        "US",
        "AT",
    )
    assert "Hausarrest" not in codes
