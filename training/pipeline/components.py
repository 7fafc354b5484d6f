"""Custom spaCy code: the sentence-level event classifier (two backends), its suggester and its scorer.

Everything is registered under versioned names (``treffpunkt.*.v1``; factories as ``treffpunkt_*_v1`` because
spaCy forbids dots in factory names) and exposed through entry points in
pyproject.toml, so ``spacy.load(models/<version>)`` and ``spacy train`` find it without ``--code``.
Never change a released version's behaviour: add ``.v2``.

Prediction API written by both backends (docs/architecture.md):

- ``doc.spans["events"]``: one sentence span per (sentence, predicted label);
  ``doc.spans["events"].attrs["scores"]`` the matching probabilities (list of floats, same order);
- ``doc.user_data["event_scores"]``: ``{"<start_char>:<end_char>": {label: probability, ...}}`` for every sentence.
"""

import json
import pickle
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy
from spacy.language import Language
from spacy.pipeline.spancat import SpanCategorizer, spancat_default_config
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example
from spacy.util import registry
from thinc.api import Config, Ops, get_current_ops
from thinc.types import Ragged

from treffpunkt.core.metrics import prf

EVENTS_KEY = "events"
SCORES_KEY = "event_scores"

EVENT_SCORE_WEIGHTS = {
    "events_f": 1.0,
    "events_p": 0.0,
    "events_r": 0.0,
    "events_macro_f": None,
    "events_per_type": None,
}


# --------------------------------------------------------------------------------------------- sentences


def sentence_spans(doc: Doc) -> list[Span]:
    """The doc's sentences; a doc without sentence boundaries counts as one sentence."""
    if len(doc) == 0:
        return []
    if doc.has_annotation("SENT_START"):
        return list(doc.sents)
    return [doc[:]]


def sentence_key(span: Span) -> str:
    """Key of a sentence in ``doc.user_data["event_scores"]``: character offsets ``"start:end"``."""
    return f"{span.start_char}:{span.end_char}"


def build_sentence_suggester() -> Callable[..., Ragged]:
    """Suggest exactly the sentence spans of each doc (the units the event classifier labels)."""

    def suggest(docs: Iterable[Doc], *, ops: Ops | None = None) -> Ragged:
        ops = ops or get_current_ops()
        rows: list[list[int]] = []
        lengths: list[int] = []
        for doc in docs:
            sents = sentence_spans(doc)
            rows.extend([s.start, s.end] for s in sents)
            lengths.append(len(sents))
        data = ops.asarray2i(rows) if rows else ops.xp.zeros((0, 0), dtype="i")
        return Ragged(data, ops.asarray1i(lengths))

    return suggest


registry.misc("treffpunkt.sentence_suggester.v1")(build_sentence_suggester)


def write_event_predictions(
    doc: Doc,
    sents: Sequence[Span],
    labels: Sequence[str],
    probs: numpy.ndarray,
    threshold: float,
    key: str,
    thresholds: dict[str, float] | None = None,
) -> None:
    """Set the shared prediction API on ``doc`` from a (sentences x labels) probability matrix.

    ``thresholds``: per-label decision thresholds (chosen on dev after training, stored in the component's cfg);
    labels without one use ``threshold``. Versions trained before per-label thresholds have none: same behaviour.
    """
    group = SpanGroup(doc, name=key)
    kept: list[float] = []
    per_sentence: dict[str, dict[str, float]] = {}
    cut = [(thresholds or {}).get(label, threshold) for label in labels]
    for i, sent in enumerate(sents):
        row = probs[i] if len(labels) else []
        per_sentence[sentence_key(sent)] = {label: float(row[j]) for j, label in enumerate(labels)}
        for j, label in enumerate(labels):
            if row[j] >= cut[j]:
                group.append(Span(doc, sent.start, sent.end, label=label))
                kept.append(float(row[j]))
    group.attrs["scores"] = kept
    doc.spans[key] = group
    doc.user_data[SCORES_KEY] = per_sentence


# --------------------------------------------------------------------------------------------- scoring


def event_pairs(doc: Doc, key: str = EVENTS_KEY) -> set[tuple[int, int, str]]:
    """(start_char, end_char, label) of every sentence-level event span; characters survive retokenisation."""
    return {(s.start_char, s.end_char, s.label_) for s in doc.spans.get(key, [])}


def score_event_pairs(
    pairs: Iterable[tuple[set[tuple[int, int, str]], set[tuple[int, int, str]]]], labels: Sequence[str] = ()
) -> dict[str, Any]:
    """Micro and macro P/R/F over (sentence, label) pairs; ``pairs`` yields (gold, predicted) per document.

    Macro averages over ``labels`` plus every label seen in gold or predictions.
    """
    counts: dict[str, list[int]] = {label: [0, 0, 0] for label in labels}  # tp, fp, fn
    for gold, pred in pairs:
        for *_, label in gold | pred:
            counts.setdefault(label, [0, 0, 0])
        for *_, label in gold & pred:
            counts[label][0] += 1
        for *_, label in pred - gold:
            counts[label][1] += 1
        for *_, label in gold - pred:
            counts[label][2] += 1
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    micro = prf(tp, fp, fn)
    per_type = {label: {**prf(*c), "support": c[0] + c[2]} for label, c in sorted(counts.items())}
    macro = {k: (sum(v[k] for v in per_type.values()) / len(per_type) if per_type else 0.0) for k in ("p", "r", "f")}
    return {
        "events_p": micro["p"],
        "events_r": micro["r"],
        "events_f": micro["f"],
        "events_macro_p": macro["p"],
        "events_macro_r": macro["r"],
        "events_macro_f": macro["f"],
        "events_per_type": per_type,
    }


def score_events(examples: Iterable[Example], *, spans_key: str = EVENTS_KEY, **_: Any) -> dict[str, Any]:
    """spaCy scorer: per-label and micro/macro P/R/F of sentence event labels (predicted vs reference)."""
    return score_event_pairs(
        (event_pairs(eg.reference, spans_key), event_pairs(eg.predicted, spans_key)) for eg in examples
    )


@registry.scorers("treffpunkt.event_scorer.v1")
def make_event_scorer() -> Callable[..., dict[str, Any]]:
    return score_events


# --------------------------------------------------------------------------------------------- (a) spaCy backend

_SPANCAT_MODEL = Config().from_str(spancat_default_config)["model"]


class SentenceEventCategorizer(SpanCategorizer):
    """Multi-label sentence classifier: spaCy's span categorizer over sentence spans, trained in the same loop."""

    def set_annotations(self, docs: Iterable[Doc], indices_scores: Any) -> None:
        indices, scores = indices_scores
        scores = self.model.ops.to_numpy(scores)
        offset = 0
        for i, doc in enumerate(docs):
            n = int(indices.lengths[i])
            rows = self.model.ops.to_numpy(indices[i].dataXd)
            sents = [doc[int(start) : int(end)] for start, end in rows] if n else []
            write_event_predictions(
                doc,
                sents,
                list(self.labels),
                scores[offset : offset + n],
                self.cfg["threshold"],
                self.key,
                self.cfg.get("thresholds"),
            )
            offset += n


@Language.factory(
    "treffpunkt_EventSpancat_v1",
    assigns=["doc.spans", "doc.user_data"],
    default_config={
        "threshold": 0.5,
        "spans_key": EVENTS_KEY,
        "model": _SPANCAT_MODEL,
        "suggester": {"@misc": "treffpunkt.sentence_suggester.v1"},
        "scorer": {"@scorers": "treffpunkt.event_scorer.v1"},
    },
    default_score_weights=EVENT_SCORE_WEIGHTS,
)
def make_event_spancat(
    nlp: Language, name: str, model: Any, suggester: Callable, spans_key: str, threshold: float, scorer: Callable | None
) -> SentenceEventCategorizer:
    return SentenceEventCategorizer(
        nlp.vocab,
        model=model,
        suggester=suggester,
        name=name,
        spans_key=spans_key,
        negative_weight=None,
        allow_overlap=True,
        max_positive=None,
        threshold=threshold,
        scorer=scorer,
        add_negative_label=False,
    )


# --------------------------------------------------------------------------------------------- (b) scikit-learn backend


class SklearnEventClassifier:
    """TF-IDF word + character n-grams with one-vs-rest logistic regression, fitted on all training sentences.

    Fitted once in ``initialize`` (spaCy calls it before the training loop); not updated in the loop.
    """

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        spans_key: str,
        threshold: float,
        word_ngrams: Sequence[int],
        char_ngrams: Sequence[int],
        min_df: int,
        C: float,
        class_weight: str | None,
        scorer: Callable | None,
    ) -> None:
        self.name = name
        self.key = spans_key
        self.cfg: dict[str, Any] = {
            "threshold": threshold,
            "word_ngrams": list(word_ngrams),
            "char_ngrams": list(char_ngrams),
            "min_df": min_df,
            "C": C,
            "class_weight": class_weight,
            "labels": [],
        }
        self.scorer = scorer
        self.vectorizer: Any = None
        self.models: dict[str, Any] = {}  # label -> fitted binary classifier; labels never seen positive predict 0

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.cfg["labels"])

    def _build_vectorizer(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        cfg = self.cfg
        return FeatureUnion(
            [
                (
                    "word",
                    TfidfVectorizer(
                        ngram_range=tuple(cfg["word_ngrams"]), min_df=cfg["min_df"], sublinear_tf=True, lowercase=True
                    ),
                ),
                (
                    "char",
                    TfidfVectorizer(
                        analyzer="char_wb",
                        ngram_range=tuple(cfg["char_ngrams"]),
                        min_df=cfg["min_df"],
                        sublinear_tf=True,
                    ),
                ),
            ]
        )

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Language | None = None,
        labels: Sequence[str] | None = None,
    ) -> None:
        from sklearn.linear_model import LogisticRegression

        texts: list[str] = []
        gold: list[set[str]] = []
        seen: list[str] = list(labels or [])
        for eg in get_examples():
            ref = eg.reference
            by_sentence: dict[tuple[int, int], set[str]] = {}
            for span in ref.spans.get(self.key, []):
                by_sentence.setdefault((span.start_char, span.end_char), set()).add(span.label_)
                if span.label_ not in seen:
                    seen.append(span.label_)
            for sent in sentence_spans(ref):
                texts.append(sent.text)
                gold.append(by_sentence.get((sent.start_char, sent.end_char), set()))
        self.cfg["labels"] = seen
        self.models = {}
        if not texts:
            self.vectorizer = None
            return
        self.vectorizer = self._build_vectorizer()
        X = self.vectorizer.fit_transform(texts)
        for label in seen:
            y = numpy.array([label in g for g in gold], dtype=int)
            if 0 < y.sum() < len(y):  # a label with one class only cannot be fitted; it predicts 0
                clf = LogisticRegression(C=self.cfg["C"], class_weight=self.cfg["class_weight"], max_iter=1000)
                self.models[label] = clf.fit(X, y)

    def predict_proba(self, texts: Sequence[str]) -> numpy.ndarray:
        probs = numpy.zeros((len(texts), len(self.labels)), dtype="f")
        if self.vectorizer is None or not texts:
            return probs
        X = self.vectorizer.transform(texts)
        for j, label in enumerate(self.labels):
            if label in self.models:
                probs[:, j] = self.models[label].predict_proba(X)[:, 1]
        return probs

    def __call__(self, doc: Doc) -> Doc:
        sents = sentence_spans(doc)
        write_event_predictions(
            doc,
            sents,
            self.labels,
            self.predict_proba([s.text for s in sents]),
            self.cfg["threshold"],
            self.key,
            self.cfg.get("thresholds"),
        )
        return doc

    def pipe(self, docs: Iterable[Doc], *, batch_size: int = 128) -> Iterable[Doc]:
        for doc in docs:
            yield self(doc)

    def score(self, examples: Iterable[Example], **kwargs: Any) -> dict[str, Any]:
        return (self.scorer or score_events)(examples, spans_key=self.key, **kwargs)

    def to_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "cfg.json").write_text(json.dumps(self.cfg, indent=2), encoding="utf-8")
        with (path / "model.pkl").open("wb") as handle:
            pickle.dump({"vectorizer": self.vectorizer, "models": self.models}, handle)

    def from_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> "SklearnEventClassifier":
        path = Path(path)
        self.cfg.update(json.loads((path / "cfg.json").read_text(encoding="utf-8")))
        # The pickle is part of a model directory this project wrote; loading a model means trusting it.
        with (path / "model.pkl").open("rb") as handle:
            state = pickle.load(handle)
        self.vectorizer, self.models = state["vectorizer"], state["models"]
        return self


@Language.factory(
    "treffpunkt_SklearnEventClassifier_v1",
    assigns=["doc.spans", "doc.user_data"],
    requires=["token.is_sent_start"],
    default_config={
        "spans_key": EVENTS_KEY,
        "threshold": 0.5,
        "word_ngrams": [1, 2],
        "char_ngrams": [2, 5],
        "min_df": 1,
        "C": 10.0,
        "class_weight": "balanced",
        "scorer": {"@scorers": "treffpunkt.event_scorer.v1"},
    },
    default_score_weights=EVENT_SCORE_WEIGHTS,
)
def make_sklearn_event_classifier(
    nlp: Language,
    name: str,
    spans_key: str,
    threshold: float,
    word_ngrams: list[int],
    char_ngrams: list[int],
    min_df: int,
    C: float,
    class_weight: str | None,
    scorer: Callable | None,
) -> SklearnEventClassifier:
    return SklearnEventClassifier(
        nlp,
        name,
        spans_key=spans_key,
        threshold=threshold,
        word_ngrams=word_ngrams,
        char_ngrams=char_ngrams,
        min_df=min_df,
        C=C,
        class_weight=class_weight,
        scorer=scorer,
    )


#: Factories whose component is an event classifier (train() gives them the schema's labels).
EVENT_FACTORIES = ("treffpunkt_EventSpancat_v1", "treffpunkt_SklearnEventClassifier_v1")
