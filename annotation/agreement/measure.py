"""Inter-annotator agreement on a Label Studio JSON export with several annotators per task.

Three views of agreement, each pairwise between annotators (``completed_by``) on the tasks they share:

* **span F1** per label, for the entity layer and the event layer, with *exact* matching (same offsets and label)
  and *overlap* matching (same label, overlapping offsets, one-to-one, largest overlap first);
* **sentence event labels**: each sentence of a task gets, per annotator, the event labels of the event spans that
  overlap it; per label Cohen's kappa (exactly two annotators) and Krippendorff's alpha (nominal, any number,
  missing values allowed) over all sentences of the multiply annotated tasks;
* a **disagreement breakdown**: every span one annotator has and the other lacks exactly is a *label* conflict
  (the other has the same offsets with another label), a *boundary* conflict (the other has an overlapping span
  with the same label), a *label* conflict (the other has only overlapping spans with other labels) or *missing*
  (the other has nothing overlapping), checked in that order. A boundary disagreement between two spans is one
  unmatched span on each side, so it counts once per annotator.

Adjudication (``tag_conflicts``): conflicting tasks get ``data.needs_adjudication = true`` and ``data.agreement``
(the task's mean pairwise exact span F1) in Label Studio, and the project gets a saved Data Manager tab
"Needs adjudication" filtering on that field, lowest agreement first. Community Label Studio has no agreement column
of its own (Enterprise only), so a task field is what annotators can filter and sort on.

Spans are checked against the task text with the converter's :func:`treffpunkt.annotation.convert.offsets.locate` (UTF-16 and CRLF
offsets and surrounding whitespace repaired, anything else rejected); both are listed in the report.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from treffpunkt.annotation.convert.offsets import OffsetIndex, locate
from treffpunkt.annotation.convert.reader import adjudicated, annotation_order, annotator_of, iter_export
from treffpunkt.annotation.labelstudio.client import Studio, StudioRequestFailed
from treffpunkt.annotation.labelstudio.project import ensure_view
from treffpunkt.core.errors import InputError, TreffpunktError
from treffpunkt.core.io import write_json
from treffpunkt.core.metrics import f1
from treffpunkt.core.schema import ENTITY_TAG, EVENT_TAG, Schema
from treffpunkt.core.sentences import sentence_pipeline
from treffpunkt.core.workspace import Workspace

LAYERS = (ENTITY_TAG, EVENT_TAG)
MATCHES = ("exact", "overlap")
KINDS = ("boundary", "label", "missing")
#: Task data fields written by ``--tag`` and filtered on by the saved Data Manager view.
TAG_FIELD = "needs_adjudication"
SCORE_FIELD = "agreement"
VIEW_TITLE = "Needs adjudication"

Pair = tuple[str, str]


class AgreementError(TreffpunktError):
    """Agreement cannot be computed or tagged."""


# --------------------------------------------------------------------------------------------------------------
# Parsing the export


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    label: str
    layer: str
    text: str = field(compare=False)


#: A relation as both annotators can agree on it: (event start, end, label, argument start, end, label, role).
Relation = tuple[int, int, str, int, int, str, str]


@dataclass
class AnnotatorSpans:
    annotator: str
    annotation_id: int | None
    spans: list[Span]
    relations: list[Relation] = field(default_factory=list)


@dataclass
class TaskAnnotations:
    task_id: int | None
    article_id: str | None
    project: int | None
    text: str
    data: dict[str, Any]
    annotations: list[AnnotatorSpans]  # one per annotator, sorted by annotator


@dataclass
class SpanIssue:
    """A span that was repaired or rejected while reading the export."""

    task_id: int | None
    annotation_id: int | None
    annotator: str
    label: str
    text: str
    start: int | None
    end: int | None
    action: str  # repaired | rejected
    reason: str


@dataclass
class ParseReport:
    tasks: int = 0
    tasks_single: int = 0  # fewer than two annotators: not scored
    annotations: int = 0
    cancelled: int = 0
    superseded: list[dict[str, Any]] = field(default_factory=list)  # older annotation of the same annotator
    spans_kept: int = 0
    relations_scored: int = 0
    relations_unresolved: int = 0  # an end is missing or was rejected: listed, not scored
    other_results: Counter[str] = field(default_factory=Counter)  # results of other control tags, not scored
    issues: list[SpanIssue] = field(default_factory=list)

    @property
    def repaired(self) -> int:
        return sum(issue.action == "repaired" for issue in self.issues)

    @property
    def rejected(self) -> int:
        return sum(issue.action == "rejected" for issue in self.issues)


#: The annotator name of a task's adjudicated annotation in ``read_export(..., gold=True)``.
GOLD = "<gold>"


def read_export(
    path: Path, schema: Schema, *, gold: bool = False, min_annotators: int = 2
) -> tuple[list[TaskAnnotations], ParseReport]:
    """Tasks with ``min_annotators`` or more annotators (latest non-cancelled annotation each), and what was left out.

    ``gold``: a task's adjudicated annotation (:func:`adjudicated`: the review decision) is read apart, under the
    annotator name :data:`GOLD`, and does not count as its author's own annotation.
    The export is streamed task by task (:func:`iter_export`); only the tasks returned are kept in memory.
    """
    labels = {ENTITY_TAG: set(schema.entity_labels), EVENT_TAG: set(schema.event_labels)}
    report = ParseReport()
    tasks: list[TaskAnnotations] = []
    for item in iter_export(path):
        report.tasks += 1
        data = item.get("data") or {}
        text = data.get("text")
        if not isinstance(text, str):
            raise InputError(
                f"Task {item.get('id')} in {path} has no text in data.text.",
                hint="Is this an export of a treffpunkt project?",
            )
        latest: dict[str, dict[str, Any]] = {}
        decided = (
            adjudicated([a for a in item.get("annotations") or [] if not a.get("was_cancelled")]) if gold else None
        )
        for ann in item.get("annotations") or []:
            report.annotations += 1
            if ann.get("was_cancelled"):
                report.cancelled += 1
                continue
            who = GOLD if ann is decided else str(annotator_of(ann))
            previous = latest.get(who)
            if previous is not None:
                older = previous if annotation_order(previous) <= annotation_order(ann) else ann
                report.superseded.append(
                    {"task_id": item.get("id"), "annotation_id": older.get("id"), "annotator": who}
                )
                if older is ann:
                    continue
            latest[who] = ann
        if len(latest) < min_annotators:
            report.tasks_single += 1
            continue
        per_annotator = []
        index = OffsetIndex(text)
        for who in sorted(latest):
            ann = latest[who]
            spans, relations = read_spans(item.get("id"), ann, who, index, labels, report)
            per_annotator.append(AnnotatorSpans(who, ann.get("id"), spans, relations))
        tasks.append(
            TaskAnnotations(item.get("id"), data.get("article_id"), item.get("project"), text, data, per_annotator)
        )
    return tasks, report


def read_spans(
    task_id: int | None,
    ann: dict[str, Any],
    who: str,
    index: OffsetIndex,
    labels: dict[str, set[str]],
    report: ParseReport,
) -> tuple[list[Span], list[Relation]]:
    """The spans and relations of one annotation, checked against the text; repairs and rejections go to ``report``."""
    text = index.text
    spans: set[Span] = set()
    by_id: dict[str, Span] = {}
    links: list[dict[str, Any]] = []
    for result in ann.get("result") or []:
        if result.get("type") == "relation":
            links.append(result)
            continue
        layer = result.get("from_name")
        if layer not in LAYERS:
            report.other_results[str(layer)] += 1
            continue
        value = result.get("value") or {}
        start, end = value.get("start"), value.get("end")
        for label in value.get("labels") or []:
            issue = SpanIssue(
                task_id, ann.get("id"), who, label, str(value.get("text", "")), start, end, "rejected", ""
            )
            if label not in labels[layer]:
                issue.reason = f"label {label!r} is not among the schema's {layer} labels"
            else:
                located = locate(index, start, end, value.get("text"))
                if located.start is None or located.end is None:
                    issue.reason = located.reason or "offsets could not be checked"
                else:
                    span = Span(located.start, located.end, label, layer, text[located.start : located.end])
                    by_id.setdefault(str(result.get("id")), span)
                    if span in spans:
                        issue.reason = "duplicate of another span of the same annotation"
                    else:
                        spans.add(span)
                        report.spans_kept += 1
                        if located.repairs:
                            issue.action, issue.reason = "repaired", "; ".join(located.repairs)
                            issue.start, issue.end = located.start, located.end
                            report.issues.append(issue)
                        continue
            report.issues.append(issue)
    relations: set[Relation] = set()
    for link in links:
        event, arg = by_id.get(str(link.get("from_id"))), by_id.get(str(link.get("to_id")))
        if link.get("direction") == "left":
            event, arg = arg, event
        roles = link.get("labels") or []
        if event is None or arg is None or event.layer != EVENT_TAG or arg.layer != ENTITY_TAG or not roles:
            report.relations_unresolved += 1
            continue
        for role in roles:
            relations.add((event.start, event.end, event.label, arg.start, arg.end, arg.label, str(role)))
        report.relations_scored += 1
    return sorted(spans), sorted(relations)


# --------------------------------------------------------------------------------------------------------------
# Span agreement and disagreement


@dataclass
class SpanCounts:
    """Pooled counts for F1 between two annotators: F1 = 2 tp / (n_a + n_b), symmetric in a and b."""

    tp: int = 0
    n_a: int = 0
    n_b: int = 0

    @property
    def f1(self) -> float | None:
        # a's spans as "predictions", b's as "gold": fp = n_a - tp, fn = n_b - tp (F1 is symmetric in a and b)
        return f1(self.tp, self.n_a - self.tp, self.n_b - self.tp) if self.n_a + self.n_b else None

    def add(self, other: SpanCounts) -> None:
        self.tp += other.tp
        self.n_a += other.n_a
        self.n_b += other.n_b


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def match_spans(a: Sequence[Span], b: Sequence[Span], mode: str) -> list[tuple[Span, Span]]:
    """One-to-one matches with equal labels: identical offsets (``exact``) or largest overlap first (``overlap``)."""
    if mode == "exact":
        keys_b = {(s.start, s.end, s.label): s for s in b}
        return [(s, keys_b[(s.start, s.end, s.label)]) for s in a if (s.start, s.end, s.label) in keys_b]
    candidates = sorted(
        ((x, y) for x in a for y in b if x.label == y.label and _overlap(x, y) > 0),
        key=lambda p: (-_overlap(*p), p[0], p[1]),
    )
    used_a: set[Span] = set()
    used_b: set[Span] = set()
    matches = []
    for x, y in candidates:
        if x not in used_a and y not in used_b:
            used_a.add(x)
            used_b.add(y)
            matches.append((x, y))
    return matches


def classify(span: Span, others: Sequence[Span]) -> tuple[str, list[Span]]:
    """Why ``span`` has no exact match among the other annotator's ``others`` (same layer), and the spans involved."""
    same_offsets = [o for o in others if (o.start, o.end) == (span.start, span.end) and o.label != span.label]
    if same_offsets:
        return "label", same_offsets
    overlapping = [o for o in others if _overlap(span, o) > 0]
    if any(o.label == span.label for o in overlapping):
        return "boundary", [o for o in overlapping if o.label == span.label]
    if overlapping:
        return "label", overlapping
    return "missing", []


@dataclass
class Conflict:
    kind: str
    layer: str
    annotator: str  # who has the span
    other: str  # who lacks it
    label: str
    text: str
    start: int
    end: int
    other_spans: list[dict[str, Any]]  # the other annotator's spans involved (label, text, offsets)


@dataclass
class TaskConflicts:
    task_id: int | None
    article_id: str | None
    annotators: list[str]
    agreement: float | None  # mean over pairs of exact span F1 (both layers pooled)
    sentence_disagreements: int
    conflicts: list[Conflict]
    was_tagged: bool = False  # the export shows the task tagged for adjudication by an earlier run


# --------------------------------------------------------------------------------------------------------------
# Sentence event labels


def sentence_bounds(texts: Iterable[str], language: str) -> list[list[tuple[int, int]]]:
    """Sentence character ranges per text, cut as everywhere else (:mod:`treffpunkt.core.sentences`)."""
    nlp = sentence_pipeline(language)
    return [[(s.start_char, s.end_char) for s in doc.sents] for doc in nlp.pipe(texts)]


def sentence_labels(spans: Sequence[Span], bounds: Sequence[tuple[int, int]]) -> list[set[str]]:
    """Per sentence, the labels of the event spans that overlap it."""
    return [
        {s.label for s in spans if s.layer == EVENT_TAG and s.start < end and s.end > start} for start, end in bounds
    ]


def cohen_kappa(a: Sequence[int], b: Sequence[int]) -> float | None:
    """Cohen's kappa of two binary ratings; None when chance agreement is 1 (both constant and equal)."""
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    if math.isclose(expected, 1.0):
        return None
    return (observed - expected) / (1 - expected)


def krippendorff_alpha(matrix: Sequence[Sequence[float]]) -> float | None:
    """Nominal alpha of an annotators x units matrix (NaN = not annotated); None when no variation at all."""
    import krippendorff
    import numpy as np

    data = np.asarray(matrix, dtype=float)
    values = set(data[~np.isnan(data)].tolist())
    pairable = (np.sum(~np.isnan(data), axis=0) >= 2).sum()
    if len(values) < 2 or pairable == 0:
        return None
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


@dataclass
class EventLabelAgreement:
    label: str
    sentences: int  # units rated by at least two annotators
    positives: dict[str, int]  # sentences each annotator gave the label
    alpha: float | None
    kappa: float | None  # only when the export has exactly two annotators
    pairwise_kappa: dict[str, float | None]  # "a | b" -> kappa on the sentences both rated


# --------------------------------------------------------------------------------------------------------------
# The whole computation


@dataclass
class SpanRow:
    layer: str
    match: str
    pair: Pair
    label: str
    counts: SpanCounts


@dataclass
class DisagreementRow:
    layer: str
    pair: Pair
    label: str
    kind: str
    count: int


@dataclass
class AgreementResult:
    export: Path
    conflicts_path: Path | None
    annotators: list[str]
    tasks_scored: int
    span_rows: list[SpanRow]
    disagreements: list[DisagreementRow]
    event_labels: list[EventLabelAgreement]
    tasks: list[TaskConflicts]
    report: ParseReport
    labels: dict[str, list[str]]  # layer -> schema labels, in schema order
    project: int | None = None  # Label Studio project of the tasks, as the export says
    # (pair, role) -> counts of identical relations (same event span and label, argument span and label, role)
    relation_counts: dict[tuple[Pair, str], SpanCounts] = field(default_factory=dict)
    # (pair, event label) -> counts of (sentence, label) decisions: the unit the event classifier learns
    sentence_counts: dict[tuple[Pair, str], SpanCounts] = field(default_factory=dict)

    @staticmethod
    def _pooled(counts: dict[tuple[Pair, str], SpanCounts], key: str | None = None) -> SpanCounts:
        total = SpanCounts()
        for (_, name), c in counts.items():
            if key in (None, name):
                total.add(c)
        return total

    def relation_f1(self, role: str | None = None) -> float | None:
        """F1 of relations between annotators (exact: both ends and the role agree), pooled over pairs."""
        return self._pooled(self.relation_counts, role).f1

    def sentence_f1(self, label: str | None = None) -> float | None:
        """F1 of the (sentence, event label) decisions between annotators, pooled over pairs."""
        return self._pooled(self.sentence_counts, label).f1

    @property
    def pairs(self) -> list[Pair]:
        return sorted({row.pair for row in self.span_rows})

    @property
    def conflicting_tasks(self) -> list[TaskConflicts]:
        return [t for t in self.tasks if t.conflicts or t.sentence_disagreements]

    def counts(self, layer: str, match: str, *, pair: Pair | None = None, label: str | None = None) -> SpanCounts:
        """Counts pooled over the rows that fit (all pairs / all labels when not given)."""
        total = SpanCounts()
        for row in self.span_rows:
            if row.layer == layer and row.match == match and pair in (None, row.pair) and label in (None, row.label):
                total.add(row.counts)
        return total

    def f1(self, layer: str, match: str, *, pair: Pair | None = None, label: str | None = None) -> float | None:
        return self.counts(layer, match, pair=pair, label=label).f1

    def macro_f1(self, layer: str, match: str, *, pair: Pair | None = None) -> float | None:
        """Mean per-label F1 over the labels anyone used (pooled over pairs unless one is given)."""
        scores = [self.f1(layer, match, pair=pair, label=label) for label in self.labels[layer]]
        used = [s for s in scores if s is not None]
        return sum(used) / len(used) if used else None

    def disagreement(
        self, *, kind: str, layer: str | None = None, pair: Pair | None = None, label: str | None = None
    ) -> int:
        return sum(
            row.count
            for row in self.disagreements
            if row.kind == kind
            and layer in (None, row.layer)
            and pair in (None, row.pair)
            and label in (None, row.label)
        )

    def summary(self) -> dict[str, Any]:
        """Macro/micro F1 per layer and match mode, overall and per pair (JSON-ready)."""
        out: dict[str, Any] = {}
        for layer in LAYERS:
            out[layer] = {
                match: {
                    "micro_f1": self.f1(layer, match),
                    "macro_f1": self.macro_f1(layer, match),
                    "per_label": {label: self.f1(layer, match, label=label) for label in self.labels[layer]},
                    "per_pair": {
                        _pair_key(pair): {
                            "micro_f1": self.f1(layer, match, pair=pair),
                            "macro_f1": self.macro_f1(layer, match, pair=pair),
                        }
                        for pair in self.pairs
                    },
                }
                for match in MATCHES
            }
        out["event_sentences"] = {
            "micro_f1": self.sentence_f1(),
            "per_label": {label: self.sentence_f1(label) for label in self.labels[EVENT_TAG]},
        }
        out["relations"] = {
            "micro_f1": self.relation_f1(),
            "per_role": {role: self.relation_f1(role) for role in sorted({r for _, r in self.relation_counts})},
        }
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "export": str(self.export),
            "annotators": self.annotators,
            "tasks_scored": self.tasks_scored,
            "tasks_with_conflicts": len(self.conflicting_tasks),
            "summary": self.summary(),
            "span_counts": [
                {
                    "layer": r.layer,
                    "match": r.match,
                    "pair": list(r.pair),
                    "label": r.label,
                    **asdict(r.counts),
                    "f1": r.counts.f1,
                }
                for r in self.span_rows
            ],
            "disagreements": [asdict(r) | {"pair": list(r.pair)} for r in self.disagreements],
            "sentence_event_labels": [asdict(e) for e in self.event_labels],
            "read_report": {
                "tasks": self.report.tasks,
                "tasks_with_fewer_than_two_annotators": self.report.tasks_single,
                "annotations": self.report.annotations,
                "cancelled_annotations": self.report.cancelled,
                "superseded_annotations": self.report.superseded,
                "spans_kept": self.report.spans_kept,
                "spans_repaired": self.report.repaired,
                "spans_rejected": self.report.rejected,
                "relations_scored": self.report.relations_scored,
                "relations_unresolved": self.report.relations_unresolved,
                "other_results_not_scored": dict(self.report.other_results),
                "span_issues": [asdict(i) for i in self.report.issues],
            },
            "tasks": [asdict(t) for t in self.conflicting_tasks],
        }


def _pair_key(pair: Pair) -> str:
    return f"{pair[0]} | {pair[1]}"


def compute_agreement(
    tasks: Sequence[TaskAnnotations], schema: Schema, report: ParseReport, export: Path
) -> AgreementResult:
    """All agreement figures for tasks that each carry two or more annotators."""
    labels = {ENTITY_TAG: schema.entity_labels, EVENT_TAG: schema.event_labels}
    span_counts: dict[tuple[str, str, Pair, str], SpanCounts] = defaultdict(SpanCounts)
    kinds: Counter[tuple[str, Pair, str, str]] = Counter()
    bounds = sentence_bounds([t.text for t in tasks], schema.language)
    annotators = sorted({a.annotator for t in tasks for a in t.annotations})
    # Sentence units: one column per (task, sentence); row per annotator; NaN where the annotator did not annotate.
    units: dict[str, list[list[float]]] = {label: [[] for _ in annotators] for label in schema.event_labels}
    task_conflicts: list[TaskConflicts] = []
    relation_counts: dict[tuple[Pair, str], SpanCounts] = defaultdict(SpanCounts)
    sentence_counts: dict[tuple[Pair, str], SpanCounts] = defaultdict(SpanCounts)
    roles = list(schema.relation_labels)

    for task, task_bounds in zip(tasks, bounds, strict=True):
        sentence_sets = {a.annotator: sentence_labels(a.spans, task_bounds) for a in task.annotations}
        conflicts: list[Conflict] = []
        pair_scores = []
        for a, b in itertools.combinations(task.annotations, 2):
            pair = (a.annotator, b.annotator)
            pooled = SpanCounts()
            for layer in LAYERS:
                sa = [s for s in a.spans if s.layer == layer]
                sb = [s for s in b.spans if s.layer == layer]
                for match in MATCHES:
                    matched = match_spans(sa, sb, match)
                    for label in labels[layer]:
                        c = SpanCounts(
                            tp=sum(x.label == label for x, _ in matched),
                            n_a=sum(s.label == label for s in sa),
                            n_b=sum(s.label == label for s in sb),
                        )
                        span_counts[(layer, match, pair, label)].add(c)
                        if match == "exact":
                            pooled.add(c)
                    if match == "exact":
                        conflicts += _conflicts(sa, sb, matched, a.annotator, b.annotator, layer, pair, kinds)
            pair_scores.append(pooled.f1)
            ra, rb = set(a.relations), set(b.relations)
            for role in sorted({*roles, *(r[6] for r in ra | rb)}):
                relation_counts[(pair, role)].add(
                    SpanCounts(
                        tp=sum(r[6] == role for r in ra & rb),
                        n_a=sum(r[6] == role for r in ra),
                        n_b=sum(r[6] == role for r in rb),
                    )
                )
            la = {(i, x) for i, labs in enumerate(sentence_sets[a.annotator]) for x in labs}
            lb = {(i, x) for i, labs in enumerate(sentence_sets[b.annotator]) for x in labs}
            for label in schema.event_labels:
                sentence_counts[(pair, label)].add(
                    SpanCounts(
                        tp=sum(x == label for _, x in la & lb),
                        n_a=sum(x == label for _, x in la),
                        n_b=sum(x == label for _, x in lb),
                    )
                )
        disagreeing = sum(len({frozenset(s[i]) for s in sentence_sets.values()}) > 1 for i in range(len(task_bounds)))
        for label in schema.event_labels:
            for row, who in enumerate(annotators):
                values = sentence_sets.get(who)
                units[label][row] += (
                    [float("nan")] * len(task_bounds) if values is None else [float(label in s) for s in values]
                )
        scores = [s for s in pair_scores if s is not None]
        task_conflicts.append(
            TaskConflicts(
                task.task_id,
                task.article_id,
                [a.annotator for a in task.annotations],
                sum(scores) / len(scores) if scores else None,
                disagreeing,
                conflicts,
                bool(task.data.get(TAG_FIELD)),
            )
        )

    event_labels = [_event_label_agreement(label, units[label], annotators) for label in schema.event_labels]
    return AgreementResult(
        export=export,
        conflicts_path=None,
        annotators=annotators,
        tasks_scored=len(tasks),
        span_rows=[
            SpanRow(layer, match, pair, label, c) for (layer, match, pair, label), c in sorted(span_counts.items())
        ],
        disagreements=[
            DisagreementRow(layer, pair, label, kind, n) for (layer, pair, label, kind), n in sorted(kinds.items())
        ],
        event_labels=event_labels,
        tasks=task_conflicts,
        report=report,
        labels=labels,
        project=next((t.project for t in tasks if t.project is not None), None),
        relation_counts=dict(relation_counts),
        sentence_counts=dict(sentence_counts),
    )


def _conflicts(
    sa: list[Span],
    sb: list[Span],
    matched: list[tuple[Span, Span]],
    who_a: str,
    who_b: str,
    layer: str,
    pair: Pair,
    kinds: Counter[tuple[str, Pair, str, str]],
) -> list[Conflict]:
    found = []
    matched_a = {x for x, _ in matched}
    matched_b = {y for _, y in matched}
    for own, others, who, other in ((sa, sb, who_a, who_b), (sb, sa, who_b, who_a)):
        done = matched_a if own is sa else matched_b
        for span in own:
            if span in done:
                continue
            kind, involved = classify(span, others)
            kinds[(layer, pair, span.label, kind)] += 1
            found.append(
                Conflict(
                    kind,
                    layer,
                    who,
                    other,
                    span.label,
                    span.text,
                    span.start,
                    span.end,
                    [{"label": o.label, "text": o.text, "start": o.start, "end": o.end} for o in involved],
                )
            )
    return found


def _event_label_agreement(label: str, matrix: list[list[float]], annotators: list[str]) -> EventLabelAgreement:
    rated = [[not math.isnan(v) for v in row] for row in matrix]
    n_units = sum(sum(col) >= 2 for col in zip(*rated, strict=True)) if matrix and matrix[0] else 0
    pairwise: dict[str, float | None] = {}
    for i, j in itertools.combinations(range(len(annotators)), 2):
        both = [k for k in range(len(matrix[i])) if rated[i][k] and rated[j][k]]
        pairwise[_pair_key((annotators[i], annotators[j]))] = cohen_kappa(
            [int(matrix[i][k]) for k in both], [int(matrix[j][k]) for k in both]
        )
    return EventLabelAgreement(
        label=label,
        sentences=n_units,
        positives={
            who: int(sum(v for v in row if not math.isnan(v))) for who, row in zip(annotators, matrix, strict=True)
        },
        alpha=krippendorff_alpha(matrix) if n_units else None,
        kappa=next(iter(pairwise.values())) if len(annotators) == 2 else None,
        pairwise_kappa=pairwise,
    )


# --------------------------------------------------------------------------------------------------------------
# Entry points


def newest_export(ws: Workspace) -> Path:
    """The newest raw export (``*.json`` file, not a converted folder) in the workspace's exports folder."""
    exports = [p for p in ws.exports_dir.glob("*.json") if p.is_file()] if ws.exports_dir.is_dir() else []
    if not exports:
        raise InputError(
            f"No Label Studio export (*.json) in {ws.exports_dir}.",
            hint="Run `treffpunkt annotate pull` to export the project, or pass the export file: "
            "`treffpunkt annotate agreement EXPORT.json`.",
        )
    return max(exports, key=lambda p: (p.stat().st_mtime, p.name))


def default_conflicts_path(ws: Workspace, export: Path) -> Path:
    """Where the conflicts file goes: ``corpus/exports/agreement/<export name>.conflicts.json``.

    A subfolder keeps it out of the ``*.json`` raw exports the default EXPORT is picked from.
    """
    return ws.exports_dir / "agreement" / f"{Path(export).stem}.conflicts.json"


def agreement(ws: Workspace, export: Path | None = None, *, schema: Schema, out: Path | None = None) -> AgreementResult:
    """Compute agreement on ``export`` (default: the newest raw export) and write the conflicts file."""
    export = Path(export) if export else newest_export(ws)
    tasks, report = read_export(export, schema)
    if not tasks:
        raise AgreementError(
            f"No task in {export} has two or more non-cancelled annotations ({report.tasks} tasks read).",
            hint="Agreement needs overlap: let several annotators label the same tasks "
            "(Label Studio: project settings → Annotation → overlap), then pull a new export.",
        )
    result = compute_agreement(tasks, schema, report, export)
    result.conflicts_path = Path(out) if out else default_conflicts_path(ws, export)
    write_json(result.conflicts_path, result.to_dict())
    return result


# --------------------------------------------------------------------------------------------------------------
# Tagging tasks in Label Studio for adjudication


@dataclass
class TagResult:
    project: int
    tagged: list[int]
    cleared: list[int]  # tagged by an earlier run, no conflicts any more
    view_id: int | None
    view_created: bool
    missing: list[int] = field(default_factory=list)  # task ids of the export no longer on the server


def tag_conflicts(
    result: AgreementResult, studio: Studio, *, project: int | None = None, view: bool = True
) -> TagResult:
    """Mark conflicting tasks ``data.needs_adjudication = true`` (plus ``data.agreement``) and add a saved view.

    Task data is read first and written back whole with the two fields added, since Label Studio replaces ``data``
    on update. Tasks of the export that an earlier run tagged and that now agree get ``needs_adjudication = false``.
    Only tasks that change are touched: one read and one write each.
    """

    project = project or result.project
    if project is None:
        raise AgreementError(
            "The export does not say which Label Studio project its tasks belong to.",
            hint="Pass the project id with --project.",
        )
    conflicting = {t.task_id for t in result.conflicting_tasks}
    tagged: list[int] = []
    cleared: list[int] = []
    missing: list[int] = []
    for task in result.tasks:
        flag = task.task_id in conflicting
        if task.task_id is None or not (flag or task.was_tagged):
            continue
        try:
            current = studio.call(studio.sdk.tasks.get, str(task.task_id), what=f"reading task {task.task_id}")
        except StudioRequestFailed as err:
            if getattr(err.__cause__, "status_code", None) == 404:
                missing.append(task.task_id)
                continue
            raise
        data = {
            **(current.data or {}),
            TAG_FIELD: flag,
            SCORE_FIELD: None if task.agreement is None else round(task.agreement, 4),
        }
        studio.call(studio.sdk.tasks.update, str(task.task_id), data=data, what=f"tagging task {task.task_id}")
        (tagged if flag else cleared).append(task.task_id)

    view_data = {"filters": view_filters(), "ordering": [f"tasks:data.{SCORE_FIELD}"]}
    view_id, created = ensure_view(studio, project, VIEW_TITLE, view_data) if view else (None, False)
    return TagResult(project, tagged, cleared, view_id, created, missing)


def view_filters() -> dict[str, Any]:
    """Data Manager filter of the adjudication view: tasks whose ``data.needs_adjudication`` is true."""
    return {
        "conjunction": "and",
        "items": [{"filter": f"filter:tasks:data.{TAG_FIELD}", "operator": "equal", "type": "Boolean", "value": True}],
    }
