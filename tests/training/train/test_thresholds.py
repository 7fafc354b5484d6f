"""Per-label event thresholds chosen on dev: hand-computed choices, rare labels rescued, stored in the component."""

from __future__ import annotations

import numpy
import pytest
import spacy
from spacy.tokens import Span

from treffpunkt.training.pipeline.components import SCORES_KEY, sentence_key, write_event_predictions
from treffpunkt.training.train.thresholds import choose_thresholds

TEXT = "Anna traf Bernd. Carl rief Dora an. Eva blieb zu Hause. Fritz traf Gabi."


@pytest.fixture
def nlp():
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    return nlp


def _pair(nlp, gold_labels, probs):
    """gold: labels per sentence; probs: {label: prob per sentence}."""
    gold, pred = nlp(TEXT), nlp(TEXT)
    sents = list(gold.sents)
    gold.spans["events"] = [
        Span(gold, s.start, s.end, label=lab) for s, labs in zip(sents, gold_labels, strict=True) for lab in labs
    ]
    pred.user_data[SCORES_KEY] = {
        sentence_key(s): {lab: p[i] for lab, p in probs.items()} for i, s in enumerate(pred.sents)
    }
    return gold, pred


def test_thresholds_hand_computed(nlp):
    # MEET: gold in sentences 0 and 3; probabilities 0.3, 0.1, 0.05, 0.2 -> at 0.5 nothing (F 0);
    # at 0.2: predicts 0 and 3, both right (F 1) -> 0.2 (the highest threshold with F 1: 0.25 and up drop sentence 3).
    # CALL: gold in sentence 1 with 0.9; others 0.6, 0.1, 0.1 -> 0.5 gives tp 1 fp 1 (F 2/3); 0.7 to 0.9 give F 1,
    # and the tie goes to the highest (most precise) threshold, 0.9.
    gold, pred = _pair(
        nlp, [["MEET"], ["CALL"], [], ["MEET"]], {"MEET": [0.3, 0.1, 0.05, 0.2], "CALL": [0.6, 0.9, 0.1, 0.1]}
    )
    chosen = choose_thresholds([gold], [pred], ["MEET", "CALL", "NONE"])
    assert chosen["MEET"]["threshold"] == 0.2 and chosen["MEET"]["dev_f"] == 1.0 and chosen["MEET"]["default_f"] == 0.0
    assert chosen["CALL"]["threshold"] == 0.9 and chosen["CALL"]["default_f"] == pytest.approx(2 / 3)
    assert chosen["NONE"]["threshold"] == 0.5  # no dev positives: the default stays


def test_thresholds_are_used_when_writing_predictions(nlp):
    doc = nlp(TEXT)
    sents = list(doc.sents)
    probs = numpy.array([[0.3], [0.1], [0.05], [0.2]])
    write_event_predictions(doc, sents, ["MEET"], probs, 0.5, "events")
    assert len(doc.spans["events"]) == 0
    write_event_predictions(doc, sents, ["MEET"], probs, 0.5, "events", {"MEET": 0.2})
    assert [s.start_char for s in doc.spans["events"]] == [0, sents[3].start_char]
