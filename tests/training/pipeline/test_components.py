"""Custom spaCy code: entry points, sentence suggester, event scorer, both event backends' prediction API."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import pytest
import spacy
from spacy.tokens import DocBin, Span
from spacy.training import Example

from treffpunkt.training.pipeline.components import build_sentence_suggester, score_event_pairs, score_events

ENTRY_POINTS = {
    "spacy_factories": {"treffpunkt_EventSpancat_v1", "treffpunkt_SklearnEventClassifier_v1"},
    "spacy_misc": {"treffpunkt.sentence_suggester.v1"},
    "spacy_scorers": {"treffpunkt.event_scorer.v1"},
}


@pytest.mark.parametrize("group", sorted(ENTRY_POINTS))
def test_components_entry_points_registered(group):
    names = {ep.name for ep in entry_points(group=group) if ep.value.startswith("treffpunkt.training.pipeline.")}
    assert ENTRY_POINTS[group] <= names
    for ep in entry_points(group=group):
        if ep.name in ENTRY_POINTS[group]:
            assert callable(ep.load())


def test_components_factories_resolve_in_fresh_process():
    """spacy.load/spacy train find our factories without importing training (no --code)."""
    code = (
        "import spacy, sys\n"
        "nlp = spacy.blank('de')\n"
        "nlp.add_pipe('sentencizer')\n"
        "nlp.add_pipe('treffpunkt_SklearnEventClassifier_v1', name='events')\n"
        "nlp.add_pipe('treffpunkt_EventSpancat_v1', name='events2')\n"
        "print('treffpunkt.training.pipeline.components' in sys.modules, nlp.pipe_names)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "['sentencizer', 'events', 'events2']" in out.stdout


def test_components_suggester_yields_sentences():
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    doc = nlp("Merkel traf Putin. Das Wetter war schön. Ende.")
    no_sents = spacy.blank("de")("Ohne Satzgrenzen hier")
    ragged = build_sentence_suggester()([doc, no_sents])
    assert ragged.lengths.tolist() == [3, 1]
    assert ragged.dataXd.tolist() == [[s.start, s.end] for s in doc.sents] + [[0, len(no_sents)]]


def _doc_with_events(nlp, text, labels_per_sentence):
    doc = nlp(text)
    doc.spans["events"] = [
        Span(doc, s.start, s.end, label=lab)
        for s, labs in zip(doc.sents, labels_per_sentence, strict=False)
        for lab in labs
    ]
    return doc


def test_components_event_scorer_hand_computed():
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    text = "Anna traf Bernd. Carl rief Dora an. Emil lehnte ab."
    gold = _doc_with_events(nlp, text, [["VISIT"], ["PHONE"], []])
    pred = _doc_with_events(nlp, text, [["VISIT", "PHONE"], [], ["REJECT"]])
    scores = score_events([Example(pred, gold)])
    # tp: VISIT@1; fp: PHONE@1, REJECT@3; fn: PHONE@2  -> P 1/3, R 1/2, F 0.4
    assert scores["events_p"] == pytest.approx(1 / 3)
    assert scores["events_r"] == pytest.approx(1 / 2)
    assert scores["events_f"] == pytest.approx(0.4)
    per = scores["events_per_type"]
    assert per["VISIT"]["f"] == 1.0 and per["PHONE"]["f"] == 0.0 and per["REJECT"]["f"] == 0.0
    assert scores["events_macro_f"] == pytest.approx(1 / 3)
    # a schema label that never occurs still counts in the macro average
    with_absent = score_event_pairs([(set(), set())], labels=["X"])
    assert with_absent["events_per_type"] == {"X": {"p": 0.0, "r": 0.0, "f": 0.0, "support": 0}}


def test_components_sklearn_backend_api_and_roundtrip(tmp_path, training_data):
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    clf = nlp.add_pipe("treffpunkt_SklearnEventClassifier_v1", name="events")
    docs = list(DocBin().from_disk(training_data / "train.spacy").get_docs(nlp.vocab))
    nlp.initialize(lambda: [Example(nlp.make_doc(d.text), d) for d in docs])
    assert "CONSULT_PHONE" in clf.labels
    doc = nlp("Olaf Scholz telefonierte am Montag mit Wladimir Putin. Die Preise stiegen im April.")
    events = doc.spans["events"]
    assert [s.label_ for s in events] == ["CONSULT_PHONE"]
    assert events[0].text == "Olaf Scholz telefonierte am Montag mit Wladimir Putin."
    assert len(events.attrs["scores"]) == 1 and events.attrs["scores"][0] >= 0.5
    keys = list(doc.user_data["event_scores"])
    assert keys == [f"{s.start_char}:{s.end_char}" for s in doc.sents]
    assert set(doc.user_data["event_scores"][keys[0]]) == set(clf.labels)
    nlp.to_disk(tmp_path / "m")
    code = (
        "import spacy, json, sys\n"
        f"nlp = spacy.load({str(tmp_path / 'm')!r})\n"
        "doc = nlp('Olaf Scholz telefonierte am Montag mit Wladimir Putin.')\n"
        "print(json.dumps([s.label_ for s in doc.spans['events']]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["CONSULT_PHONE"]
