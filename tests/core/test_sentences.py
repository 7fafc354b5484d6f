"""Sentence boundaries shared by the converter, the pipelines, the patterns and the agreement measure."""

from __future__ import annotations

import itertools

import spacy

from tests.conftest import GNAD_CSV
from treffpunkt.core.sentences import sentence_pipeline


def _sents(text: str) -> list[str]:
    return [s.text for s in sentence_pipeline("de")(text).sents]


def test_sentences_a_blank_line_ends_a_sentence_without_a_full_stop():
    text = "NATO und Russland wieder im Dialog\n\nNach Tagung des Rates Treffen in Aussicht\n\nBrüssel. Die NATO redet."
    assert _sents(text) == [
        "NATO und Russland wieder im Dialog\n\n",
        "Nach Tagung des Rates Treffen in Aussicht\n\n",
        "Brüssel.",
        "Die NATO redet.",
    ]


def test_sentences_a_blank_line_after_a_full_stop_is_no_sentence_of_its_own():
    assert _sents("Erster Satz.\n\nZweiter Satz. Dritter!") == ["Erster Satz.\n\n", "Zweiter Satz.", "Dritter!"]
    # a single line break is no paragraph: hard-wrapped text keeps its sentences
    assert _sents("Ein langer Satz, der\numbricht und weitergeht.") == [
        "Ein langer Satz, der\numbricht und weitergeht."
    ]


def test_sentences_equal_spacys_on_text_without_blank_lines():
    """The gold news texts have no line breaks: their sentences (and so the gold event sentences) are unchanged."""
    stock = spacy.blank("de")
    stock.add_pipe("sentencizer")
    with GNAD_CSV.open(encoding="utf-8") as handle:
        texts = [line.split(";", 1)[1] for line in itertools.islice(handle, 200)]
    ours = sentence_pipeline("de")
    for a, b in zip(stock.pipe(texts), ours.pipe(texts), strict=True):
        assert [s.start for s in a.sents] == [s.start for s in b.sents]


def test_sentences_the_shipped_configs_use_them():
    from treffpunkt.core.resources import default_config

    for name in ("default.cfg", "fast.cfg", "sklearn.cfg", "spancat.cfg"):
        text = default_config(name).read_text(encoding="utf-8")
        assert 'factory = "treffpunkt_Sentencizer_v1"' in text, name
