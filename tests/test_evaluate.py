"""Evaluation numbers equal hand-computed values on a tiny fixture."""

from __future__ import annotations

import pytest
import spacy
from spacy.tokens import Span

from training.evaluate import event_confusion, score_docs

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
    doc.spans["events"] = [Span(doc, s.start, s.end, label=lab) for s, labs in zip(doc.sents, events) for lab in labs]
    return doc


def test_evaluate_score_docs_hand_computed(nlp):
    gold = _doc(nlp, [("Anna", "PER"), ("Bernd", "PER"), ("Berlin", "GPE"), ("Dora", "PER")], [["VISIT"], ["PHONE"], ["REJECT"]])
    pred = _doc(nlp, [("Anna", "PER"), ("Bernd", "ORG"), ("Berlin", "GPE")], [["VISIT"], ["VISIT"], []])
    scores = score_docs([gold], [pred], {"entities": ["PER", "GPE", "ORG", "DATE"], "events": ["VISIT", "PHONE", "REJECT", "INTENT"]})
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
    from annotation.errors import InputError

    with pytest.raises(InputError):
        score_docs([nlp(TEXT)], [], None)
