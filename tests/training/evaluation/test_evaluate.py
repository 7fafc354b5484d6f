"""Evaluation numbers equal hand-computed values on a tiny fixture."""

from __future__ import annotations

import pytest
import spacy
from spacy.tokens import Span

from treffpunkt.training.evaluation.evaluate import event_confusion, score_docs

TEXT = "Anna traf Bernd in Berlin. Carl rief Dora an. Emil lehnte ab."


@pytest.fixture
def nlp():
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    return nlp


def _doc(nlp, ents, events):
    """ents: (surface, label); events: labels per sentence."""
    doc = nlp(TEXT)
    doc.ents = [doc.char_span(TEXT.index(s), TEXT.index(s) + len(s), label=lab) for s, lab in ents]
    doc.spans["events"] = [
        Span(doc, s.start, s.end, label=lab) for s, labs in zip(doc.sents, events, strict=False) for lab in labs
    ]
    return doc


def test_evaluate_score_docs_hand_computed(nlp):
    gold = _doc(
        nlp, [("Anna", "PER"), ("Bernd", "PER"), ("Berlin", "GPE"), ("Dora", "PER")], [["VISIT"], ["PHONE"], ["REJECT"]]
    )
    pred = _doc(nlp, [("Anna", "PER"), ("Bernd", "ORG"), ("Berlin", "GPE")], [["VISIT"], ["VISIT"], []])
    scores = score_docs(
        [gold], [pred], {"entities": ["PER", "GPE", "ORG", "DATE"], "events": ["VISIT", "PHONE", "REJECT", "INTENT"]}
    )
    # entities: tp Anna, Berlin; fp Bernd/ORG; fn Bernd/PER, Dora -> P 2/3, R 2/4, F 4/7
    assert scores["ents_p"] == pytest.approx(2 / 3)
    assert scores["ents_r"] == pytest.approx(0.5)
    assert scores["ents_f"] == pytest.approx(4 / 7)
    per = scores["ents_per_type"]
    assert per["PER"] == pytest.approx({"p": 1.0, "r": 1 / 3, "f": 0.5, "support": 3})
    assert per["GPE"]["f"] == 1.0 and per["ORG"]["f"] == 0.0 and per["DATE"]["support"] == 0
    assert scores["ents_macro_f"] == pytest.approx((0.5 + 1.0 + 0.0 + 0.0) / 4)
    # events: tp VISIT@1; fp VISIT@2; fn PHONE@2, REJECT@3 -> P 1/2, R 1/3, F 0.4
    assert scores["events_p"] == pytest.approx(0.5)
    assert scores["events_r"] == pytest.approx(1 / 3)
    assert scores["events_f"] == pytest.approx(0.4)
    assert scores["events_per_type"]["VISIT"] == pytest.approx({"p": 0.5, "r": 1.0, "f": 2 / 3, "support": 1})
    assert scores["events_macro_f"] == pytest.approx((2 / 3 + 0 + 0 + 0) / 4)
    # confusion: s1 VISIT->VISIT; s2 PHONE->VISIT; s3 REJECT->none
    m = scores["events_confusion"]
    assert m["VISIT"]["VISIT"] == 1 and m["PHONE"]["VISIT"] == 1 and m["REJECT"]["none"] == 1
    assert sum(sum(row.values()) for row in m.values()) == 3
    assert scores["n_docs"] == 1 and scores["n_words"] == len(gold)


def test_evaluate_confusion_none_and_multilabel(nlp):
    gold = _doc(nlp, [], [["A", "B"], [], []])
    pred = _doc(nlp, [], [["A"], ["C"], []])
    m = event_confusion([gold], [pred])
    assert m["A"]["A"] == 1  # s1: A matched
    assert m["B"]["none"] == 1  # s1: B missed, nothing wrong predicted
    assert m["none"]["C"] == 1  # s2: C predicted, no gold
    assert m["none"]["none"] == 1  # s3: nothing either side
    assert list(m) == ["A", "B", "C", "none"]


def test_evaluate_rejects_misaligned_docs(nlp):
    from treffpunkt.core.errors import InputError

    with pytest.raises(InputError):
        score_docs([nlp(TEXT)], [], None)


def _rel(trigger: str, label: str, arg: str, arg_label: str, role: str) -> dict:
    t, a = TEXT.index(trigger), TEXT.index(arg)
    return {
        "event": [t, t + len(trigger)],
        "event_label": label,
        "arg": [a, a + len(arg)],
        "arg_label": arg_label,
        "role": role,
    }


def test_evaluate_roles_hand_computed(nlp):
    """Role P/R/F with the documented heuristic (configs/roles.yaml), end to end and given the gold events/entities."""
    from treffpunkt.core.resources import default_config
    from treffpunkt.core.schema import load_schema
    from treffpunkt.training.pipeline.roles import HeuristicRoles, load_roles_config

    schema = load_schema(default_config("schema.yaml"))
    heuristic = HeuristicRoles(load_roles_config(default_config("roles.yaml"), schema).heuristic, schema)
    gold = _doc(
        nlp,
        [("Anna", "PER"), ("Bernd", "PER"), ("Berlin", "GPE"), ("Carl", "PER"), ("Dora", "PER")],
        [["CONSULT_VISIT"], ["CONSULT_PHONE"], []],
    )
    gold.user_data["relations"] = [
        _rel("traf", "CONSULT_VISIT", "Anna", "PER", "visitor"),
        _rel("traf", "CONSULT_VISIT", "Bernd", "PER", "host"),
        _rel("traf", "CONSULT_VISIT", "Berlin", "GPE", "location"),
        _rel("rief", "CONSULT_PHONE", "Carl", "PER", "participant"),
        _rel("rief", "CONSULT_PHONE", "Dora", "PER", "participant"),
    ]
    # predicted: Carl missed, Bernd mislabelled ORG (roles key on offsets, so still right), sentence 2 typed as a visit
    pred = _doc(
        nlp,
        [("Anna", "PER"), ("Bernd", "ORG"), ("Berlin", "GPE"), ("Dora", "PER")],
        [["CONSULT_VISIT"], ["CONSULT_VISIT"], []],
    )
    scores = score_docs([gold], [pred], schema, roles=heuristic)
    # heuristic on pred: s1 Anna visitor ✓, Bernd host ✓, Berlin ("in" cue) location ✓; s2 Dora visitor ✗ (gold PHONE/participant)
    # -> tp 3, predicted 4, gold 5: P 3/4, R 3/5, F 2/3
    assert scores["roles_kind"] == "heuristic"
    assert scores["roles_p"] == pytest.approx(0.75) and scores["roles_r"] == pytest.approx(0.6)
    assert scores["roles_f"] == pytest.approx(2 / 3, abs=1e-4) and scores["roles_support"] == 5
    per = scores["roles_per_type"]
    assert per["visitor"] == pytest.approx({"p": 0.5, "r": 1.0, "f": 2 / 3, "support": 1}, abs=1e-4)
    assert per["host"]["f"] == 1.0 and per["location"]["f"] == 1.0
    assert per["participant"] == {"p": 0.0, "r": 0.0, "f": 0.0, "support": 2}
    assert scores["roles_macro_f"] == pytest.approx((2 / 3 + 1 + 1 + 0) / 4, abs=1e-4)
    # given the gold events and entities the heuristic gets all five (phone: default rule -> participant, participant)
    given = scores["roles_given_gold"]
    assert (given["p"], given["r"], given["f"], given["support"], given["predicted"]) == (1.0, 1.0, 1.0, 5, 5)
    # the printed table has a roles section
    from rich.console import Console

    from treffpunkt.training.evaluation.evaluate import scores_table

    console = Console(record=True, width=200)
    console.print(scores_table(scores, "t"))
    text = console.export_text()
    assert "roles (heuristic)" in text and "participant" in text and "gold events+ents" in text


def test_evaluate_confusion_table_stays_readable_with_fifteen_labels():
    from rich.console import Console

    from treffpunkt.training.evaluation.evaluate import confusion_abbreviations, confusion_table

    labels = [
        f"{kind}_{mode}"
        for kind in ("CONSULT", "MEET")
        for mode in ("PHONE", "VISIT", "THIRD", "MULTI", "INTENT", "REQUEST", "REJECT")
    ] + ["none"]
    short = confusion_abbreviations(labels)
    assert len(set(short.values())) == len(labels) and max(map(len, short.values())) <= 6
    matrix = {g: {p: int(g == p) for p in labels} for g in labels}
    console = Console(width=120, record=True)
    console.print(confusion_table(matrix))
    text = console.export_text()
    assert "…" not in text  # no collapsed columns
    assert all(f"{short[label]}={label}" in text for label in labels)  # the legend names every label


def test_evaluate_prediction_rows_per_sentence(nlp):
    from treffpunkt.training.evaluation.predictions import prediction_rows

    gold = _doc(nlp, [("Anna", "PER"), ("Bernd", "PER"), ("Dora", "PER")], [["VISIT"], ["PHONE"], []])
    good = _doc(nlp, [("Anna", "PER"), ("Bernd", "PER"), ("Dora", "PER")], [["VISIT"], ["PHONE"], []])
    bad = _doc(nlp, [("Anna", "PER"), ("Bernd", "ORG")], [["VISIT"], [], ["REJECT"]])
    columns, rows = prediction_rows([gold], {"a": [good], "b": [bad]})
    assert columns == [
        "doc", "sentence", "text", "gold_events", "a_events", "b_events", "gold_entities", "a_entities",
        "b_entities", "a_events_ok", "a_entities_ok", "b_events_ok", "b_entities_ok",
    ]  # fmt: skip
    by = [dict(zip(columns, row, strict=True)) for row in rows]
    assert [r["text"] for r in by] == ["Anna traf Bernd in Berlin.", "Carl rief Dora an.", "Emil lehnte ab."]
    assert by[0]["gold_entities"] == "Anna [PER]; Bernd [PER]" and by[0]["b_entities"] == "Anna [PER]; Bernd [ORG]"
    assert (by[0]["a_entities_ok"], by[0]["b_entities_ok"], by[0]["b_events_ok"]) == (True, False, True)
    assert (by[1]["gold_events"], by[1]["b_events"], by[1]["b_events_ok"]) == ("PHONE", "", False)
    assert (by[2]["b_events"], by[2]["b_events_ok"], by[2]["b_entities_ok"]) == ("REJECT", False, True)
    # errors only: the sentences where some system differs from gold (all three here: b errs in each)
    _, errors = prediction_rows([gold], {"a": [good]}, errors_only=True)
    assert errors == []
    _, errors = prediction_rows([gold], {"b": [bad]}, errors_only=True)
    assert [row[1] for row in errors] == [0, 1, 2]
