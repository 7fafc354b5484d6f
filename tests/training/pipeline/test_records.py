"""Event records built from hand-made docs: fields, schema mappings, roles, dates, stable ids."""

from __future__ import annotations

import pytest
import spacy
from spacy.tokens import Doc, Span, SpanGroup

from treffpunkt.core.resources import default_config
from treffpunkt.core.schema import Schema, load_schema
from treffpunkt.training.pipeline.records import RecordBuilder, event_id
from treffpunkt.training.pipeline.roles import HeuristicRoles, RolesConfig, load_roles_config

TEXT = (
    "Das Ministerium teilte am Freitag mit, Gerassimow und Pavel hätten am Vortag telefoniert. "
    "Die Nato hat die Sitzungen im April 2014 ausgesetzt. Weitere Treffen sind offen."
)


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema(default_config("schema.yaml"))


@pytest.fixture(scope="module")
def builder(schema: Schema) -> RecordBuilder:
    config: RolesConfig = load_roles_config(default_config("roles.yaml"), schema)
    return RecordBuilder(schema, HeuristicRoles(config.heuristic, schema), config, "events-001")


def predicted_doc(events: list[tuple[int, str, float]]) -> Doc:
    """A doc as a model version returns it: ents plus sentence spans in doc.spans["events"] with scores."""
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    doc = nlp(TEXT)
    ents = [
        ("am Freitag", "DATE"),
        ("Gerassimow", "PER"),
        ("Pavel", "PER"),
        ("am Vortag", "DATE"),
        ("Nato", "ORG"),
        ("im April 2014", "DATE"),
    ]
    doc.ents = [doc.char_span(TEXT.index(s), TEXT.index(s) + len(s), label=label) for s, label in ents]
    sents = list(doc.sents)
    doc.spans["events"] = SpanGroup(
        doc,
        name="events",
        spans=[Span(doc, sents[i].start, sents[i].end, label=label) for i, label, _ in events],
        attrs={"scores": [score for *_, score in events]},
    )
    return doc


def test_records_fields_from_schema_and_roles(builder: RecordBuilder, schema: Schema) -> None:
    doc = predicted_doc([(0, "CONSULT_PHONE", 0.91), (1, "MEET_REJECT", 0.62)])
    phone, reject = builder.records(doc, "art-1", "2022-01-14")
    spec = schema.event("CONSULT_PHONE")
    assert (phone["type"], phone["mode"], phone["cameo"], phone["plover"]) == (
        spec.type,
        spec.mode,
        spec.cameo,
        spec.plover,
    )
    assert phone["article_id"] == "art-1" and phone["label"] == "CONSULT_PHONE"
    assert phone["score"] == pytest.approx(0.91) and phone["model_version"] == "events-001"
    assert [(a["text"], a["role"]) for a in phone["actors"]] == [
        ("Gerassimow", "participant"),
        ("Pavel", "participant"),
    ]
    assert phone["recipients"] == [] and phone["location"] is None
    first = phone["actors"][0]
    assert TEXT[first["start"] : first["end"]] == "Gerassimow" and first["label"] == "PER"
    assert phone["evidence"] == {
        "text": TEXT[: TEXT.index("telefoniert.") + 12],
        "start": 0,
        "end": TEXT.index("telefoniert.") + 12,
    }
    # MEET_REJECT: schema type with mode null; the heuristic makes the first actor the initiator
    assert (reject["type"], reject["mode"]) == ("MEET_REJECT", None)
    assert [(a["text"], a["role"]) for a in reject["actors"]] == [("Nato", "initiator")]
    assert reject["date"]["iso"] == "2014-04" and reject["date"]["source"] == "role"


def test_records_date_normalised_against_publication(builder: RecordBuilder) -> None:
    (phone,) = builder.records(predicted_doc([(0, "CONSULT_PHONE", 0.9)]), "art-1", "2022-01-14")
    # the first time entity of the sentence is the one taken; "am Freitag" = the publication Friday
    assert (
        phone["date"]["text"] == "am Freitag"
        and phone["date"]["iso"] == "2022-01-14"
        and phone["date"]["granularity"] == "day"
    )


@pytest.mark.parametrize(
    ("published", "iso", "source"), [("2022-01-14", "2014-04", "document"), (None, "2014-04", "document")]
)
def test_records_date_falls_back_to_earlier_dates(
    builder: RecordBuilder, published: str | None, iso: str, source: str
) -> None:
    (other,) = builder.records(predicted_doc([(2, "CONSULT", 0.7)]), "art-1", published)
    assert (other["date"]["iso"], other["date"]["source"], other["date"]["text"]) == (iso, source, "im April 2014")


def test_records_date_falls_back_to_publication(builder: RecordBuilder) -> None:
    doc = predicted_doc([(2, "CONSULT", 0.7)])
    doc.ents = [e for e in doc.ents if e.label_ != "DATE"]
    (record,) = builder.records(doc, "art-1", "2022-01-14")
    assert record["date"] == {
        "text": None,
        "iso": "2022-01-14",
        "granularity": "day",
        "source": "published",
        "start": None,
        "end": None,
        "role": None,
    }
    (record,) = builder.records(doc, "art-1", None)
    assert record["date"]["iso"] is None and record["date"]["source"] is None


def test_records_event_id_stable_and_distinct(builder: RecordBuilder) -> None:
    doc = predicted_doc([(0, "CONSULT_PHONE", 0.9), (0, "CONSULT", 0.4)])
    first = builder.records(doc, "art-1", "2022-01-14")
    again = builder.records(predicted_doc([(0, "CONSULT_PHONE", 0.9), (0, "CONSULT", 0.4)]), "art-1", "2022-01-14")
    assert [r["event_id"] for r in first] == [r["event_id"] for r in again]
    assert len({r["event_id"] for r in first}) == 2
    assert first[0]["event_id"] == event_id(
        "art-1", doc.spans["events"][0].start_char, doc.spans["events"][0].end_char, "CONSULT_PHONE"
    )
    assert builder.records(doc, "art-2", None)[0]["event_id"] != first[0]["event_id"]


def test_records_none_without_events(builder: RecordBuilder) -> None:
    assert builder.records(predicted_doc([]), "art-1", "2022-01-14") == []
    nlp = spacy.blank("de")
    assert builder.records(nlp("Kein Ereignis."), "art-1", None) == []


def test_records_unresolvable_own_date_is_not_replaced(builder: RecordBuilder) -> None:
    # no publication date: "am Freitag" cannot be resolved, and the record must not borrow another date
    (phone,) = builder.records(predicted_doc([(0, "CONSULT_PHONE", 0.9)]), "art-1", None)
    assert (phone["date"]["text"], phone["date"]["iso"], phone["date"]["source"]) == ("am Freitag", None, "role")


ARTICLE = (
    "Brüssel. Der Nato-Russland-Rat tagte am Mittwoch. Es war das erste Mal seit Jahren. "
    "Für Moskau nahmen Alexander Gruschko und Alexander Fomin an dem Treffen im Nato-Hauptquartier teil. "
    "Stoltenberg telefonierte danach mit Biden."
)


def article_doc(text: str, ents: list[tuple[str, str]], events: list[tuple[int, str]]) -> Doc:
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    doc = nlp(text)
    doc.ents = [doc.char_span(text.index(s), text.index(s) + len(s), label=label) for s, label in ents]
    sents = list(doc.sents)
    spans = [Span(doc, sents[i].start, sents[i].end, label=label) for i, label in events]
    doc.spans["events"] = SpanGroup(doc, name="events", spans=spans, attrs={"scores": [0.9] * len(spans)})
    return doc


def test_records_take_participants_from_a_later_sentence_and_the_dateline_as_place(builder: RecordBuilder) -> None:
    ents = [
        ("Brüssel", "GPE"),
        ("Nato-Russland-Rat", "ORG"),
        ("Moskau", "GPE"),
        ("Alexander Gruschko", "PER"),
        ("Alexander Fomin", "PER"),
        ("Nato-Hauptquartier", "LOC"),
        ("Stoltenberg", "PER"),
        ("Biden", "PER"),
    ]
    council, phone = builder.records(
        article_doc(ARTICLE, ents, [(1, "CONSULT_MULTI"), (4, "CONSULT_PHONE")]), "a", None
    )
    # "nahmen … an dem Treffen … teil": the people (and the place) of that sentence belong to the council's session
    assert [(a["text"], a["role"]) for a in council["actors"]] == [
        ("Nato-Russland-Rat", "participant"),
        ("Moskau", "participant"),
        ("Alexander Gruschko", "participant"),
        ("Alexander Fomin", "participant"),
    ]
    assert (council["location"]["text"], council["location"]["source"]) == ("Nato-Hauptquartier", "participation")
    # a phone call takes neither the participants of a meeting before it nor the dateline
    assert [a["text"] for a in phone["actors"]] == ["Stoltenberg", "Biden"] and phone["location"] is None
    # without the participation sentence the session takes the dateline as its place
    short = ARTICLE[: ARTICLE.index("Für Moskau")]
    (council,) = builder.records(article_doc(short, ents[:2], [(1, "CONSULT_MULTI")]), "a", None)
    assert (council["location"]["text"], council["location"]["source"]) == ("Brüssel", "dateline")
    # a place inside the text is no dateline, and a sentence-level place stays the record's place
    text = "Die Nato tagte in Brüssel. Stoltenberg kam."
    (meeting,) = builder.records(
        article_doc(text, [("Nato", "ORG"), ("Brüssel", "GPE")], [(0, "CONSULT_MULTI")]), "a", None
    )
    assert (meeting["location"]["text"], meeting["location"]["source"]) == ("Brüssel", "role")
    (meeting,) = builder.records(
        article_doc("Die Nato tagte. Brüssel. Mehr", [("Nato", "ORG")], [(0, "CONSULT_MULTI")]), "a", None
    )
    assert meeting["location"] is None


class FirstActorOnly:
    """A role assigner that, like a trained classifier can, leaves all but the first entity without a role."""

    def assign_doc(self, doc: Doc, events: list[Span]) -> list[list[tuple[Span, str]]]:
        return [[(next(e for e in doc.ents if event.start <= e.start), "participant")] for event in events]


def test_records_whose_session_it_is_takes_part(schema: Schema) -> None:
    config: RolesConfig = load_roles_config(default_config("roles.yaml"), schema)
    builder = RecordBuilder(schema, FirstActorOnly(), config, "events-001")
    text = "Stoltenberg sprach nach der ersten Sitzung des NATO-Russland-Rates mit der Presse aus Moskau."
    ents = [("Stoltenberg", "PER"), ("NATO-Russland-Rates", "ORG"), ("Moskau", "GPE")]
    (session,) = builder.records(article_doc(text, ents, [(0, "CONSULT_MULTI")]), "a", None)
    # the council whose session it is takes part; "Moskau" is not whose session it is
    assert [(a["text"], a["role"]) for a in session["actors"]] == [
        ("Stoltenberg", "participant"),
        ("NATO-Russland-Rates", "participant"),
    ]
    (intent,) = builder.records(article_doc(text, ents, [(0, "MEET_INTENT")]), "a", None)
    assert [a["text"] for a in intent["actors"]] == ["Stoltenberg"]  # only meetings held (participation_types)


@pytest.mark.parametrize(
    ("place", "label", "mode"),
    [("Baku", "CONSULT_THIRD", "third_location"), ("Moskau", "CONSULT_VISIT", "visit")],
)
def test_records_bilateral_meeting_mode_from_where_it_took_place(
    builder: RecordBuilder, place: str, label: str, mode: str
) -> None:
    text = (
        f"Die USA und Russland reden. Nach einem Treffen der Generalstabschefs beider Länder in {place} hieß es, "
        "die USA seien zufrieden. Russland auch."
    )
    ents = [("USA", "GPE"), ("Russland", "GPE"), (place, "GPE")]
    doc = article_doc(text, ents, [(1, "CONSULT_MULTI")])
    (meeting,) = builder.records(doc, "a", None)
    # the sides are the USA and Russia (named most often); Baku lies in neither, Moscow in one of them
    assert (meeting["label"], meeting["mode"], meeting["model_label"]) == (label, mode, "CONSULT_MULTI")
    assert meeting["type"] == "CONSULT" and meeting["location"]["text"] == place
    # no talk of two sides: the model's label stands
    doc = article_doc(text.replace("beider Länder", "der Nato"), ents, [(1, "CONSULT_MULTI")])
    (meeting,) = builder.records(doc, "a", None)
    assert meeting["label"] == "CONSULT_MULTI" and "model_label" not in meeting
