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

from treffpunkt.core.errors import ConfigError
from treffpunkt.core.metrics import prf
from treffpunkt.training.pipeline.event_cues import CueMatcher, read_cue_patterns, sentence_cues

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


class EventCues:
    """The trigger cues of an event component, kept in its cfg (``cue_patterns``) so they are saved with it."""

    cfg: dict[str, Any]
    _cue_matcher: CueMatcher | None = None

    def set_cue_patterns(self, path: str | Path | None, labels: Sequence[str]) -> None:
        self.cfg["cue_patterns"] = read_cue_patterns(path, labels) if path else []
        self._cue_matcher = None

    def mark_cues(self, doc: Doc, vocab: Any) -> Doc:
        """Set ``doc.spans["event_cues"]`` (empty without patterns)."""
        if self._cue_matcher is None:
            self._cue_matcher = CueMatcher(vocab, self.cfg.get("cue_patterns") or [])
        return self._cue_matcher(doc)


def positive_weights(
    examples: Iterable[Example], labels: Sequence[str], key: str, *, balanced: bool, cap: float
) -> dict[str, float]:
    """Per-label weight of positive sentences: sentences without the label / with it (capped), or 1.0 each."""
    positives = dict.fromkeys(labels, 0)
    sentences = 0
    for eg in examples:
        sentences += len(sentence_spans(eg.reference))
        for *_, label in {(s.start, s.end, s.label_) for s in eg.reference.spans.get(key, [])}:
            if label in positives:
                positives[label] += 1
    if not balanced:
        return dict.fromkeys(labels, 1.0)
    return {label: min(cap, max(1.0, (sentences - n) / n)) if n else 1.0 for label, n in positives.items()}


class SentenceEventCategorizer(EventCues, SpanCategorizer):
    """Multi-label sentence classifier: spaCy's span categorizer over sentence spans, trained in the same loop.

    Beyond spaCy's: trigger cues are marked before the model runs (its sparse path reads them), and positive
    sentences weigh more in the loss (``class_weight = "balanced"``): with under 5 % event sentences the plain loss
    taught the model to say "no event" everywhere (all dev probabilities below 0.07).
    """

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Language | None = None,
        labels: list[str] | None = None,
        cue_patterns: str | None = None,
    ) -> None:
        super().initialize(get_examples, nlp=nlp, labels=labels)
        self.set_cue_patterns(cue_patterns, self.labels)
        self.cfg["positive_weights"] = positive_weights(
            get_examples(),
            self.labels,
            self.key,
            balanced=self.cfg.get("class_weight") == "balanced",
            cap=float(self.cfg.get("max_class_weight") or 1.0),
        )

    def predict(self, docs: Iterable[Doc]) -> Any:
        docs = [self.mark_cues(doc, self.vocab) for doc in docs]
        return super().predict(docs)

    def update(self, examples: Iterable[Example], **kwargs: Any) -> dict[str, float]:
        examples = list(examples)
        for eg in examples:
            self.mark_cues(eg.predicted, self.vocab)
        return super().update(examples, **kwargs)

    def get_loss(self, examples: Iterable[Example], spans_scores: tuple[Ragged, Any]) -> tuple[float, Any]:
        """spaCy's loss (prediction minus target) with positive targets weighted per label."""
        spans, scores = spans_scores
        ops = self.model.ops
        probs = ops.to_numpy(scores)
        target = numpy.zeros(probs.shape, dtype="f")
        rows_all = ops.to_numpy(spans.dataXd)
        lengths = ops.to_numpy(spans.lengths)
        offset = 0
        for eg, n in zip(examples, lengths, strict=True):
            index = {(int(a), int(b)): offset + j for j, (a, b) in enumerate(rows_all[offset : offset + int(n)])}
            for gold in self._get_aligned_spans(eg):
                row = index.get((gold.start, gold.end))
                if row is not None and gold.label_ in self._label_map:
                    target[row, self._label_map[gold.label_]] = 1.0
            offset += int(n)
        weights = self.cfg.get("positive_weights") or {}
        pos = numpy.array([weights.get(label, 1.0) for label in self.labels], dtype="f")
        d_scores = (probs - target) * numpy.where(target > 0, pos, 1.0)
        return float((d_scores**2).sum()), ops.asarray2f(d_scores)

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
        "class_weight": None,
        "max_class_weight": 1.0,
    },
    default_score_weights=EVENT_SCORE_WEIGHTS,
)
def make_event_spancat(
    nlp: Language,
    name: str,
    model: Any,
    suggester: Callable,
    spans_key: str,
    threshold: float,
    scorer: Callable | None,
    class_weight: str | None,
    max_class_weight: float,
) -> SentenceEventCategorizer:
    if class_weight not in (None, "balanced"):
        raise ConfigError(f'class_weight must be null or "balanced", not {class_weight!r}.')
    component = SentenceEventCategorizer(
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
    component.cfg.update({"class_weight": class_weight, "max_class_weight": max_class_weight})
    return component


# --------------------------------------------------------------------------------------------- (b) scikit-learn backend


class SklearnEventClassifier(EventCues):
    """TF-IDF word + character n-grams and trigger cues, one-vs-rest logistic regression over all training sentences.

    Fitted once in ``initialize`` (spaCy calls it before the training loop, and it reports each label as it is
    fitted); not updated in the loop, so its dev score is final from the first evaluation on.
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
        self.vocab = nlp.vocab
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
        self.cue_vectorizer: Any = None
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
        cue_patterns: str | None = None,
    ) -> None:
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.linear_model import LogisticRegression

        examples = list(get_examples())
        seen: list[str] = list(labels or [])
        for eg in examples:
            seen.extend(s.label_ for s in eg.reference.spans.get(self.key, []) if s.label_ not in seen)
        self.cfg["labels"] = seen
        self.set_cue_patterns(cue_patterns, seen)
        texts: list[str] = []
        cues: list[str] = []
        gold: list[set[str]] = []
        for eg in examples:
            ref = self.mark_cues(eg.reference, self.vocab)
            by_sentence: dict[tuple[int, int], set[str]] = {}
            for span in ref.spans.get(self.key, []):
                by_sentence.setdefault((span.start_char, span.end_char), set()).add(span.label_)
            for sent in sentence_spans(ref):
                texts.append(sent.text)
                cues.append(" ".join(sentence_cues(ref, sent)))
                gold.append(by_sentence.get((sent.start_char, sent.end_char), set()))
        self.models = {}
        if not texts:
            self.vectorizer = self.cue_vectorizer = None
            return
        self.vectorizer = self._build_vectorizer()
        # cue labels are whole tokens (CONSULT_PHONE); an empty vocabulary (no patterns) must not fail
        self.cue_vectorizer = CountVectorizer(binary=True, lowercase=False, token_pattern=r"\S+")
        X = self._features(texts, cues, fit=True)
        for n, label in enumerate(seen, start=1):
            y = numpy.array([label in g for g in gold], dtype=int)
            if 0 < y.sum() < len(y):  # a label with one class only cannot be fitted; it predicts 0
                clf = LogisticRegression(C=self.cfg["C"], class_weight=self.cfg["class_weight"], max_iter=1000)
                self.models[label] = clf.fit(X, y)
            print(f"{self.name}: fitted {n}/{len(seen)} {label} ({int(y.sum())} positive sentences)", flush=True)

    def _features(self, texts: Sequence[str], cues: Sequence[str], *, fit: bool = False) -> Any:
        from scipy.sparse import hstack

        words = self.vectorizer.fit_transform(texts) if fit else self.vectorizer.transform(texts)
        if self.cue_vectorizer is None:  # a model saved before cues
            return words
        if fit:
            try:
                return hstack([words, self.cue_vectorizer.fit_transform(cues)]).tocsr()
            except ValueError:  # no cue anywhere in the training data
                self.cue_vectorizer = None
                return words
        return hstack([words, self.cue_vectorizer.transform(cues)]).tocsr()

    def predict_proba(self, doc: Doc, sents: Sequence[Span]) -> numpy.ndarray:
        probs = numpy.zeros((len(sents), len(self.labels)), dtype="f")
        if self.vectorizer is None or not sents:
            return probs
        self.mark_cues(doc, self.vocab)
        X = self._features([s.text for s in sents], [" ".join(sentence_cues(doc, s)) for s in sents])
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
            self.predict_proba(doc, sents),
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
            pickle.dump({"vectorizer": self.vectorizer, "cues": self.cue_vectorizer, "models": self.models}, handle)

    def from_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> "SklearnEventClassifier":
        path = Path(path)
        self.cfg.update(json.loads((path / "cfg.json").read_text(encoding="utf-8")))
        # The pickle is part of a model directory this project wrote; loading a model means trusting it.
        with (path / "model.pkl").open("rb") as handle:
            state = pickle.load(handle)
        self.vectorizer, self.models = state["vectorizer"], state["models"]
        self.cue_vectorizer = state.get("cues")
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
