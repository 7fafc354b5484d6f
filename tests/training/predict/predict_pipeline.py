"""A small deterministic stand-in for a model version, for predict/records tests and the benchmark.

blank de + sentencizer + entity_ruler + a keyword event component that fills ``doc.spans["events"]`` (sentence
spans with ``attrs["scores"]``) and ``doc.user_data["event_scores"]`` the way the contract in docs/architecture.md
says a real model version does. Load this file with :func:`spacy.util.import_file` (``predict(code=...)``) so that
worker processes register the component too.
"""

from __future__ import annotations

from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup

FACTORY = "treffpunkt_test_keyword_events"
CODE = Path(__file__).resolve()

EVENT_KEYWORDS = {
    "CONSULT_PHONE": ["telefoniert", "telefonierten", "Telefonat"],
    "CONSULT_VISIT": ["besuchte", "empfing", "Besuch"],
    "CONSULT_MULTI": ["Sitzung", "Sitzungen", "Gipfel"],
    "CONSULT_THIRD": ["trafen"],
    "MEET_INTENT": ["eingeladen", "Einladung", "lud"],
    "MEET_REJECT": ["abgesagt", "ausgesetzt"],
}

ENTITY_PATTERNS = [
    *(
        {"label": "PER", "pattern": name}
        for name in ["Gerassimow", "Pavel", "Stoltenberg", "Dunford", "Putin", "Merkel", "Müller"]
    ),
    *(
        {"label": "ORG", "pattern": name}
        for name in ["Nato", "Nato-Russland-Rat", "Interfax", "Verteidigungsministerium"]
    ),
    *(
        {"label": "GPE", "pattern": name}
        for name in ["Russland", "Moskau", "Brüssel", "Baku", "Berlin", "Wien", "Österreich"]
    ),
    *(
        {"label": "DATE", "pattern": [{"LOWER": {"IN": ["am", "im"]}}, {"LOWER": {"IN": d}}]}
        for d in [["montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag", "vortag"]]
    ),
    {"label": "DATE", "pattern": [{"LOWER": "im"}, {"LOWER": "april"}, {"SHAPE": "dddd"}]},
    {"label": "DATE", "pattern": [{"LOWER": "vergangene"}, {"LOWER": "woche"}]},
]


@Language.factory(FACTORY, default_config={"keywords": EVENT_KEYWORDS})
def make_keyword_events(nlp: Language, name: str, keywords: dict[str, list[str]]) -> KeywordEvents:
    return KeywordEvents(keywords)


class KeywordEvents:
    """Marks a sentence with an event label when it contains one of the label's keywords."""

    def __init__(self, keywords: dict[str, list[str]]) -> None:
        self.keywords = {label: {w.lower() for w in words} for label, words in keywords.items()}

    def __call__(self, doc: Doc) -> Doc:
        spans, scores, per_sentence = [], [], {}
        for sent in doc.sents:
            words = {t.lower_ for t in sent}
            sent_scores = {}
            for label, keys in self.keywords.items():
                hits = len(words & keys)
                sent_scores[label] = round(min(0.99, 0.5 + 0.2 * hits) if hits else 0.05, 4)
                if hits:
                    spans.append(Span(doc, sent.start, sent.end, label=label))
                    scores.append(sent_scores[label])
            per_sentence[(sent.start_char, sent.end_char)] = sent_scores
        group = SpanGroup(doc, name="events", spans=spans, attrs={"scores": scores})
        doc.spans["events"] = group
        doc.user_data["event_scores"] = per_sentence
        return doc


def build(path: Path) -> Path:
    """Write the test pipeline to ``path`` (a directory spacy.load reads) and return it."""
    import spacy

    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(ENTITY_PATTERNS)
    nlp.add_pipe(FACTORY)
    nlp.to_disk(path)
    return Path(path)
