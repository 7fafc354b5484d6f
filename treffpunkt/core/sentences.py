"""Sentence boundaries, the same in every stage: spaCy's punctuation sentencizer plus paragraph breaks.

Event labels are sentence-level, so the converter (gold sentences), the training pipelines, the cold-start
patterns and the agreement measure must cut text alike. spaCy's ``sentencizer`` splits at sentence-final
punctuation only; cleaned web pages put headlines, subheads, datelines and captions on lines of their own without a
full stop ("NATO und Russland wieder im Dialog\\n\\nNach Tagung des Rates ..."), which it glued onto the next
sentence, so an event sentence could span a headline, a teaser and the lead. A blank line now always ends a
sentence. (The 10kGNAD texts of the gold corpus have no line breaks: their sentences are unchanged.)
"""

from __future__ import annotations

from typing import Any

import spacy
from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc

FACTORY = "treffpunkt_Sentencizer_v1"


class ParagraphSentencizer(Sentencizer):
    """spaCy's ``Sentencizer``; in addition the token after a whitespace token holding a blank line starts a
    sentence, and the blank line stays at the end of the sentence before."""

    def set_annotations(self, docs: list[Doc], batch_tags: Any) -> None:
        super().set_annotations(docs, batch_tags)
        for doc in docs:
            for token in doc[1:-1]:
                if token.is_space and token.text.count("\n") >= 2:
                    if token.i > 0 and token.is_sent_start:  # after a full stop: the break ends that sentence
                        token.is_sent_start = False
                    doc[token.i + 1].is_sent_start = True


@Language.factory(
    FACTORY,
    assigns=["token.is_sent_start", "doc.sents"],
    default_config={"punct_chars": None, "overwrite": False, "scorer": {"@scorers": "spacy.senter_scorer.v1"}},
    default_score_weights={"sents_f": 1.0, "sents_p": 0.0, "sents_r": 0.0},
)
def make_sentencizer(
    nlp: Language, name: str, punct_chars: list[str] | None, overwrite: bool, scorer: Any
) -> ParagraphSentencizer:
    return ParagraphSentencizer(name, punct_chars=punct_chars, overwrite=overwrite, scorer=scorer)


def sentence_pipeline(language: str) -> Language:
    """A blank pipeline of ``language`` that only cuts sentences (converter, patterns, agreement)."""
    nlp = spacy.blank(language)
    nlp.add_pipe(FACTORY)
    return nlp
