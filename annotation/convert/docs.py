"""Label Studio JSON export → spaCy DocBins (train/dev/test) with a report that accounts for every span.

Docs follow docs/architecture.md: ``doc.ents`` (entities), ``doc.spans["event_triggers"]`` (event spans),
``doc.spans["events"]`` (one sentence span per sentence and event label), ``doc.user_data["relations"]``
and ``doc.user_data["meta"]``.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from treffpunkt.annotation.convert.docbin import DocBinWriter, fast_msgpack
from treffpunkt.annotation.convert.offsets import OffsetIndex, SnapMode, locate, snap
from treffpunkt.annotation.convert.reader import annotation_order, annotator_of, choose_annotation, iter_export
from treffpunkt.core.config import StrictConfig, load_config
from treffpunkt.core.errors import InputError
from treffpunkt.core.io import atomic_open, sha256_file, write_json
from treffpunkt.core.resources import default_config
from treffpunkt.core.schema import Schema
from treffpunkt.core.sentences import sentence_pipeline
from treffpunkt.core.workspace import Workspace

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

SPLITS = ("train", "dev", "test")
OverlapPolicy = Literal["longest", "first", "reject"]
Outcome = Literal["kept", "repaired", "rejected"]


# --------------------------------------------------------------------------- options


class SplitRatios(StrictConfig):
    train: float = Field(ge=0, le=1)
    dev: float = Field(ge=0, le=1)
    test: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitRatios:
        total = self.train + self.dev + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"split ratios must sum to 1, got {total:g}")
        if self.train <= 0:
            raise ValueError("the train ratio must be above 0")
        return self


class ConllOptions(StrictConfig):
    sentences_per_doc: int = Field(ge=1)


class ConvertOptions(StrictConfig):
    """``configs/convert.yaml``: every option of the converter and of import-conll."""

    split: SplitRatios
    seed: int
    snap: SnapMode
    overlap: OverlapPolicy
    conll: ConllOptions


def load_convert_options(path: Path | None = None) -> ConvertOptions:
    """Read ``convert.yaml`` (default: the shipped one); errors name the file and each invalid field."""
    return load_config(Path(path) if path else default_config("convert.yaml"), ConvertOptions, what="Converter config")


# --------------------------------------------------------------------------- report


@dataclass(slots=True)  # one per span / relation / annotation / task: kept small, the report holds them all
class SpanRecord:
    """One labelled span (or other region result) of a chosen annotation and what became of it."""

    task_id: Any
    annotation_id: Any
    result_id: str | None
    layer: str  # entity | event | unknown
    label: str | None
    text: str | None
    start: Any
    end: Any
    outcome: Outcome = "kept"
    repairs: list[str] = field(default_factory=list)
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    final_start: int | None = None
    final_end: int | None = None
    final_text: str | None = None


@dataclass(slots=True)  # one per span / relation / annotation / task: kept small, the report holds them all
class RelationRecord:
    task_id: Any
    annotation_id: Any
    from_id: str | None
    to_id: str | None
    role: str | None
    outcome: Outcome = "kept"
    repairs: list[str] = field(default_factory=list)
    reason: str | None = None


@dataclass(slots=True)  # one per span / relation / annotation / task: kept small, the report holds them all
class AnnotationRecord:
    """Which annotation of a task was used, and why the others were not."""

    task_id: Any
    annotation_id: Any
    annotator: str | None
    status: Literal["chosen", "superseded", "cancelled", "broken"]
    rule: str


@dataclass(slots=True)  # one per span / relation / annotation / task: kept small, the report holds them all
class SkippedTask:
    task_id: Any
    article_id: str | None
    reason: str


@dataclass
class ConvertReport:
    export: str
    spans: list[SpanRecord] = field(default_factory=list)
    relations: list[RelationRecord] = field(default_factory=list)
    annotations: list[AnnotationRecord] = field(default_factory=list)
    skipped_tasks: list[SkippedTask] = field(default_factory=list)
    split_docs: dict[str, int] = field(default_factory=dict)
    split_groups: dict[str, int] = field(default_factory=dict)
    empty_splits: list[str] = field(default_factory=list)
    tasks: int = 0

    def outcome_counts(self, kind: Literal["spans", "relations"]) -> Counter[str]:
        return Counter(r.outcome for r in getattr(self, kind))

    def reason_counts(self, kind: Literal["spans", "relations"]) -> Counter[tuple[str, str]]:
        """(outcome, repair kind or rejection reason without its specifics) → count, for the summary table."""
        counts: Counter[tuple[str, str]] = Counter()
        for r in getattr(self, kind):
            if r.outcome == "rejected":
                counts[("rejected", _reason_kind(r.reason or ""))] += 1
            elif r.outcome == "repaired":
                for how in r.repairs:
                    counts[("repaired", _reason_kind(how))] += 1
            else:
                counts[("kept", "")] += 1
        return counts

    def summary(self) -> dict[str, Any]:
        return {
            "tasks": self.tasks,
            "docs": sum(self.split_docs.values()),
            "tasks_without_usable_annotation": len(self.skipped_tasks),
            "spans": dict(self.outcome_counts("spans")),
            "relations": dict(self.outcome_counts("relations")),
            "annotations": dict(Counter(a.status for a in self.annotations)),
            "split_docs": self.split_docs,
            "split_groups": self.split_groups,
            "empty_splits": self.empty_splits,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "export": self.export,
            "summary": self.summary(),
            "spans": [asdict(r) for r in self.spans],
            "relations": [asdict(r) for r in self.relations],
            "annotations": [asdict(a) for a in self.annotations],
            "skipped_tasks": [asdict(t) for t in self.skipped_tasks],
        }


def write_report(path: Path, report: ConvertReport) -> None:
    """Write ``report.json`` atomically, record by record: the same text as ``write_json(path, report.to_json())``
    without building the whole document (records as dicts, then one string) in memory."""
    head = {"export": report.export, "summary": report.summary()}
    lists: dict[str, list[Any]] = {
        "spans": report.spans, "relations": report.relations, "annotations": report.annotations, "skipped_tasks": report.skipped_tasks,
    }  # fmt: skip
    with atomic_open(path, "w") as handle:
        handle.write(_dumps(head)[:-2])  # without the closing "\n}"
        for key, records in lists.items():
            handle.write(f",\n  {_dumps(key)}: ")
            if not records:
                handle.write("[]")
                continue
            handle.write("[")
            for i, record in enumerate(records):
                handle.write(("," if i else "") + "\n    " + _dumps(asdict(record)).replace("\n", "\n    "))
            handle.write("\n  ]")
        handle.write("\n}\n")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)  # treffpunkt.core.io.write_json's format


def _reason_kind(reason: str) -> str:
    # Reasons read "<kind>: <specifics>" or "<kind> (<specifics>)"; the table groups by kind.
    return reason.split(":", 1)[0].split(" (", 1)[0].strip()


@dataclass
class ConvertResult:
    out_dir: Path
    files: dict[str, Path]
    counts: dict[str, int]
    report: ConvertReport
    report_path: Path
    manifest_path: Path
    manifest: dict[str, Any]


# --------------------------------------------------------------------------- conversion


def convert_export(
    export_path: Path,
    *,
    schema: Schema,
    out_dir: Path | None = None,
    all_annotators: bool = False,
    options: ConvertOptions | None = None,
    seed: int | None = None,
    snap_mode: SnapMode | None = None,
    overlap: OverlapPolicy | None = None,
) -> ConvertResult:
    """Convert a Label Studio JSON export into ``train/dev/test.spacy``, ``report.json`` and ``manifest.json``.

    ``out_dir`` defaults to the export path without ``.json``. ``options`` default to the shipped
    ``configs/convert.yaml``; ``seed``, ``snap_mode`` and ``overlap`` override single options.
    """
    export_path = Path(export_path)
    opts = options or load_convert_options()
    updates = {k: v for k, v in {"seed": seed, "snap": snap_mode, "overlap": overlap}.items() if v is not None}
    if updates:
        opts = ConvertOptions.model_validate({**opts.model_dump(), **updates})
    out_dir = Path(out_dir) if out_dir else export_path.with_suffix("")
    # Two streamed passes, so memory does not grow with the export: the first validates every task and decides
    # the splits from (group key, docs per task) alone; the second converts task by task and adds each Doc straight
    # to its split's DocBin. Nothing is written before the first pass found the whole file usable.
    sizes: dict[str, int] = {}
    frozen: dict[str, str] = {}
    for task in iter_export(export_path):
        n = sum(1 for _ in _choose([task], ConvertReport(export=""), all_annotators=all_annotators))
        if n:  # a group counts by its docs; tasks without any (skipped) take no part in the split
            key = _group_key(task)
            sizes[key] = sizes.get(key, 0) + n
            _freeze(frozen, key, task)
    split_of, group_counts = split_groups(
        {k: v for k, v in sizes.items() if k not in frozen}, opts.split, seed=opts.seed
    )
    for key, name in frozen.items():
        split_of[key] = name
        group_counts[name] += 1

    report = ConvertReport(export=str(export_path))
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {name: out_dir / f"{name}.spacy" for name in SPLITS}
    hashes: dict[str, str] = {}
    with ExitStack() as stack:
        writers = {name: stack.enter_context(DocBinWriter(spill_dir=out_dir)) for name in SPLITS}
        with fast_msgpack():
            for key, doc in iter_docs(
                iter_export(export_path), schema=schema, opts=opts, report=report, all_annotators=all_annotators
            ):
                writers[split_of[key]].add(doc)
            for name in SPLITS:
                writers[name].write(files[name])
                report.split_docs[name] = len(writers[name])
                report.split_groups[name] = group_counts[name]
                hashes[name] = sha256_file(files[name])
    report.empty_splits = [name for name in SPLITS if report.split_docs[name] == 0]

    report_path = out_dir / "report.json"
    write_report(report_path, report)
    manifest = {
        "export": str(export_path.resolve()),
        "export_sha256": sha256_file(export_path),
        "schema_hash": schema.hash,
        "language": schema.language,
        "all_annotators": all_annotators,
        "seed": opts.seed,
        "frozen_split_groups": len(frozen),
        "options": opts.model_dump(mode="json"),
        "counts": dict(report.split_docs),
        "groups": dict(report.split_groups),
        "empty_splits": report.empty_splits,
        "docbin_sha256": hashes,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    manifest_path = out_dir / "manifest.json"
    write_json(manifest_path, manifest)
    return ConvertResult(out_dir, files, dict(report.split_docs), report, report_path, manifest_path, manifest)


def convert_tasks(
    tasks: list[dict[str, Any]],
    *,
    schema: Schema,
    opts: ConvertOptions,
    all_annotators: bool = False,
    export: str = "",
    nlp: Any = None,
) -> tuple[ConvertReport, list[tuple[str, Doc]]]:
    """The Docs (with their split group key) and the report for a list of export tasks; nothing is written.

    ``nlp`` defaults to a blank pipeline of the schema's language with our sentencizer. Holds every Doc: for
    exports of any size :func:`convert_export` streams instead.
    """
    report = ConvertReport(export=export)
    docs = list(iter_docs(tasks, schema=schema, opts=opts, report=report, all_annotators=all_annotators, nlp=nlp))
    return report, docs


def iter_docs(
    tasks: Iterable[dict[str, Any]],
    *,
    schema: Schema,
    opts: ConvertOptions,
    report: ConvertReport,
    all_annotators: bool = False,
    nlp: Any = None,
) -> Iterator[tuple[str, Doc]]:
    """Convert tasks one by one: yields (split group key, Doc); every task, annotation and span goes into ``report``."""
    if nlp is None:
        nlp = sentence_pipeline(schema.language)

    def counted() -> Iterator[dict[str, Any]]:
        for task in tasks:
            report.tasks += 1
            yield task

    # as_tuples keeps nlp.pipe's batching while each (task, annotation) travels with its text: only a batch is held
    pairs = (
        (_task_text(task), (task, annotation))
        for task, annotation in _choose(counted(), report, all_annotators=all_annotators)
    )
    for doc, (task, annotation) in nlp.pipe(pairs, batch_size=64, as_tuples=True):
        build_doc(doc, task, annotation, schema=schema, opts=opts, report=report)
        yield _group_key(task), doc


def latest_converted(ws: Workspace) -> Path:
    """The most recently converted export folder under the workspace's exports (it holds a manifest.json)."""
    folders = (
        sorted(ws.exports_dir.glob("*/manifest.json"), key=lambda p: (p.stat().st_mtime, p.parent.name))
        if ws.exports_dir.exists()
        else []
    )
    if not folders:
        raise InputError(
            f"No converted export in {ws.exports_dir}.",
            hint="Run `treffpunkt annotate pull`, or `treffpunkt annotate convert EXPORT.json` on an export you have.",
        )
    return folders[-1].parent


# --------------------------------------------------------------------------- annotation choice


def _choose(
    tasks: Iterable[dict[str, Any]], report: ConvertReport, *, all_annotators: bool
) -> Iterable[tuple[dict[str, Any], dict[str, Any]]]:
    """Yield (task, annotation) to convert: ground truth, else the latest non-cancelled; or all of them."""
    for task in tasks:
        data = task.get("data")
        article_id = data.get("article_id") if isinstance(data, dict) else None
        raw = task.get("annotations")
        problem = (
            "data is not an object" if not isinstance(data, dict)
            else "no text in data.text" if not isinstance(data.get("text"), str)
            else "annotations is not a list" if raw is not None and not isinstance(raw, list)
            else None
        )  # fmt: skip
        if problem:
            report.skipped_tasks.append(SkippedTask(task.get("id"), _plain(article_id), problem))
            continue
        annotations = [a for a in raw or [] if isinstance(a, dict)]
        usable = []
        unusable: Counter[str] = Counter()
        for a in annotations:
            if a.get("was_cancelled"):
                report.annotations.append(
                    AnnotationRecord(task.get("id"), a.get("id"), annotator_of(a), "cancelled", "was_cancelled")
                )
                unusable["cancelled"] += 1
            elif a.get("result") is not None and not isinstance(a.get("result"), list):
                report.annotations.append(
                    AnnotationRecord(task.get("id"), a.get("id"), annotator_of(a), "broken", "result is not a list")
                )
                unusable["broken"] += 1
            else:
                usable.append(a)
        if not usable:
            if annotations and unusable["cancelled"] == len(annotations):
                reason = f"all {len(annotations)} annotations cancelled"
            elif raw:
                reason = (
                    f"no usable annotation ({unusable['cancelled']} cancelled, {unusable['broken']} with a malformed result, "
                    f"{len(raw) - len(annotations)} not objects)"
                )
            else:
                reason = "no annotations"
            report.skipped_tasks.append(SkippedTask(task.get("id"), _plain(article_id), reason))
            continue
        if all_annotators:
            chosen, rule = sorted(usable, key=annotation_order), "all annotators"
        else:
            best, rule = choose_annotation(usable)
            chosen = [best]
        for a in usable:
            status = "chosen" if any(a is c for c in chosen) else "superseded"
            report.annotations.append(AnnotationRecord(task.get("id"), a.get("id"), annotator_of(a), status, rule))
        for a in chosen:
            yield task, a


# --------------------------------------------------------------------------- one Doc


@dataclass
class _Placed:
    record: SpanRecord
    span: Span
    order: int


def _task_text(task: dict[str, Any]) -> str:
    return task["data"]["text"]  # checked in _choose: tasks without a text are skipped with a reason


_INT64 = (-(2**63), 2**64 - 1)


def _plain(value: Any) -> Any:
    """A task field as msgpack can store it in a DocBin: JSON values, integers beyond 64 bits as text."""
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if _INT64[0] <= value <= _INT64[1] else str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def build_doc(
    doc: Doc,
    task: dict[str, Any],
    annotation: dict[str, Any],
    *,
    schema: Schema,
    opts: ConvertOptions,
    report: ConvertReport,
) -> Doc:
    """Fill ``doc`` (the task text, tokenised, sentences set) from one annotation; every result goes into ``report``."""
    from spacy.tokens import Span

    data = task.get("data") or {}
    text = doc.text
    task_id, ann_id = task.get("id"), annotation.get("id")
    index = OffsetIndex(text)
    entity_labels, event_labels = set(schema.entity_labels), set(schema.event_labels)

    entities: list[_Placed] = []
    events: list[_Placed] = []
    regions: dict[str, list[SpanRecord]] = {}  # result id → its span records (one per label)
    placed: dict[int, _Placed] = {}  # id(record) → its span in the Doc
    relations: list[dict[str, Any]] = []
    for order, result in enumerate(annotation.get("result") or []):
        if not isinstance(result, dict):
            record = SpanRecord(task_id, ann_id, None, "unknown", None, None, None, None)
            _reject(record, f"malformed result: not an object ({type(result).__name__})")
            report.spans.append(record)
            continue
        kind = result.get("type")
        if kind == "relation":
            relations.append(result)
            continue
        value = result.get("value")
        rid = result.get("id")
        if not isinstance(value, dict):
            record = SpanRecord(task_id, ann_id, _plain(rid), "unknown", None, None, None, None)
            _reject(record, f"malformed result: value is not an object ({type(value).__name__})")
            report.spans.append(record)
            continue
        labels = value.get("labels") if kind == "labels" else None
        if not labels or not isinstance(labels, list):
            record = SpanRecord(
                task_id, ann_id, _plain(rid), "unknown", None, value.get("text"), value.get("start"), value.get("end")
            )
            _reject(
                record,
                f"unsupported result: type {kind!r} without labels" if kind != "labels"
                else "span without a label" if not labels
                else f"malformed result: labels is not a list ({type(labels).__name__})",
            )  # fmt: skip
            report.spans.append(record)
            continue
        for label in labels:
            if not isinstance(label, str):
                record = SpanRecord(
                    task_id,
                    ann_id,
                    _plain(rid),
                    "unknown",
                    None,
                    value.get("text"),
                    value.get("start"),
                    value.get("end"),
                )
                report.spans.append(record)
                _reject(record, f"malformed result: label {label!r} is not a string")
                continue
            layer = "entity" if label in entity_labels else "event" if label in event_labels else "unknown"
            record = SpanRecord(
                task_id, ann_id, _plain(rid), layer, label, value.get("text"), value.get("start"), value.get("end")
            )
            report.spans.append(record)
            regions.setdefault(str(rid), []).append(record)
            if layer == "unknown":
                _reject(record, f"unknown label: {label!r} is not in the schema")
                continue
            span = _place(doc, index, record, opts.snap)
            if span is not None:
                placed[id(record)] = _Placed(record, span, order)
                (entities if layer == "entity" else events).append(placed[id(record)])

    kept_entities = _resolve_overlaps(_dedupe(entities), opts.overlap)
    doc.ents = [p.span for p in sorted(kept_entities, key=lambda p: p.span.start)]
    triggers = sorted(_dedupe(events), key=lambda p: (p.span.start, p.span.end))
    doc.spans["event_triggers"] = [p.span for p in triggers]
    sentences: dict[tuple[int, int, str], None] = {}
    for p in triggers:
        sent = doc[p.span.start].sent
        sentences[(sent.start, sent.end, p.span.label_)] = None
    doc.spans["events"] = [Span(doc, s, e, label=label) for s, e, label in sentences]
    doc.user_data["relations"] = _relations(relations, regions, placed, task_id, ann_id, schema, report)
    doc.user_data["meta"] = {
        "article_id": _plain(data.get("article_id")),
        "task_id": _plain(task_id),
        "annotation_id": _plain(ann_id),
        "annotator": annotator_of(annotation),
        "cluster": _plain(data.get("cluster")),
        "published": _plain(data.get("published")),
        "title": _plain(data.get("title")),
        "source": _plain(data.get("source")),
    }
    return doc


def _reject(record: SpanRecord, reason: str) -> None:
    record.outcome, record.reason = "rejected", reason
    record.final_start = record.final_end = record.final_text = None


def _place(doc: Doc, index: OffsetIndex, record: SpanRecord, mode: SnapMode) -> Span | None:
    """Verify, repair and snap one span; fills in the record's outcome."""
    found = locate(index, record.start, record.end, record.text)
    if found.reason is not None or found.start is None or found.end is None:
        _reject(record, found.reason or "span could not be located")
        return None
    span, note = snap(doc, found.start, found.end, mode)
    if span is None:
        _reject(record, note or "span could not be snapped")
        return None
    if note:
        found.repairs.append(note)
    record.repairs = found.repairs
    record.outcome = "repaired" if found.repairs else "kept"
    if not found.verified:
        record.notes.append("unverified: the result has no value.text to compare with")
    span.label_ = record.label or ""
    record.final_start, record.final_end, record.final_text = span.start_char, span.end_char, span.text
    return span


def _dedupe(placed: list[_Placed]) -> list[_Placed]:
    """Drop exact repeats (same tokens, same label) — e.g. one word labelled twice — keeping the first."""
    seen: dict[tuple[int, int, str], _Placed] = {}
    for p in placed:
        key = (p.span.start, p.span.end, p.span.label_)
        if key in seen:
            _reject(p.record, f"duplicate: same span and label as result {seen[key].record.result_id}")
        else:
            seen[key] = p
    return list(seen.values())


def _resolve_overlaps(placed: list[_Placed], policy: OverlapPolicy) -> list[_Placed]:
    """Non-overlapping entities by ``policy``; the losers are rejected with the span they lost to."""
    if policy == "reject":
        clashing = {id(a) for a in placed for b in placed if a is not b and _overlaps(a, b)}
        for p in placed:
            if id(p) in clashing:
                others = [q.record.result_id for q in placed if q is not p and _overlaps(p, q)]
                _reject(
                    p.record, f"overlapping entity: overlaps result(s) {', '.join(map(str, others))} (policy reject)"
                )
        return [p for p in placed if id(p) not in clashing]
    if policy == "longest":
        ranked = sorted(placed, key=lambda p: (-(p.span.end_char - p.span.start_char), p.span.start, p.order))
    else:  # first
        ranked = sorted(placed, key=lambda p: (p.span.start, -(p.span.end_char - p.span.start_char), p.order))
    kept: list[_Placed] = []
    for p in ranked:
        winner = next((k for k in kept if _overlaps(p, k)), None)
        if winner is None:
            kept.append(p)
        else:
            _reject(
                p.record,
                f"overlapping entity: overlaps {winner.span.label_} {winner.span.text!r} (result {winner.record.result_id}, policy {policy})",
            )
    return kept


def _overlaps(a: _Placed, b: _Placed) -> bool:
    return a.span.start < b.span.end and b.span.start < a.span.end


def _relations(
    items: list[dict[str, Any]],
    regions: dict[str, list[SpanRecord]],
    placed: dict[int, _Placed],
    task_id: Any,
    ann_id: Any,
    schema: Schema,
    report: ConvertReport,
) -> list[dict[str, Any]]:
    """Relations as event → entity dicts; each relation result (per role label) is recorded."""
    roles = set(schema.relation_labels)
    out: list[dict[str, Any]] = []
    for item in items:
        from_id, to_id = _plain(item.get("from_id")), _plain(item.get("to_id"))
        labels = item.get("labels")
        if not isinstance(labels, list) or not labels:
            labels = [labels or None]  # one record for a missing role, or for a malformed labels value
        for role in labels:
            record = RelationRecord(task_id, ann_id, from_id, to_id, _plain(role))
            report.relations.append(record)
            reason, repairs, pair = _relation_ends(item, regions, placed)
            if role is None:
                reason = "relation without a role label"
            elif not isinstance(role, str):
                reason = f"malformed relation: role {role!r} is not a string"
            elif role not in roles:
                reason = f"unknown role: {role!r} is not in the schema"
            if reason or pair is None:
                record.outcome, record.reason = "rejected", reason or "relation ends not found"
                continue
            event, arg = pair
            record.repairs = repairs
            record.outcome = "repaired" if repairs else "kept"
            out.append(
                {
                    "event": [event.span.start_char, event.span.end_char],
                    "event_label": event.span.label_,
                    "arg": [arg.span.start_char, arg.span.end_char],
                    "arg_label": arg.span.label_,
                    "role": role,
                }
            )
    return out


def _relation_ends(
    item: dict[str, Any], regions: dict[str, list[SpanRecord]], placed: dict[int, _Placed]
) -> tuple[str | None, list[str], tuple[_Placed, _Placed] | None]:
    """(rejection reason, repairs, (event end, entity end)) for one relation result."""
    ends = []
    for rid in (item.get("from_id"), item.get("to_id")):
        records = regions.get(str(rid))
        if not records:
            return f"missing end: region {rid} is not among the annotation's labelled spans", [], None
        live = [placed[id(r)] for r in records if r.outcome != "rejected" and id(r) in placed]
        if not live:
            why = "; ".join(r.reason or "" for r in records)
            return f"rejected end: region {rid} was rejected ({why})", [], None
        ends.append(live)
    source, target = ends
    if item.get("direction") == "left":  # drawn from → to but pointing back
        source, target = target, source
    forward = _pick(source, target)
    if forward is not None:
        return None, [], forward
    backward = _pick(target, source)
    if backward is not None:
        return None, ["direction normalised: drawn entity → event"], backward
    return "not event → entity: the relation must link an event span and an entity span", [], None


def _pick(events: list[_Placed], args: list[_Placed]) -> tuple[_Placed, _Placed] | None:
    event = next((e for e in events if e.record.layer == "event"), None)
    arg = next((a for a in args if a.record.layer == "entity"), None)
    return (event, arg) if event and arg else None


# --------------------------------------------------------------------------- splits


def _group_key(task: dict[str, Any]) -> str:
    data = task.get("data") or {}
    for key in ("cluster", "article_id"):
        if data.get(key) not in (None, ""):
            return f"{key}:{data[key]}"
    return f"task:{task.get('id')}"


def _freeze(frozen: dict[str, str], key: str, task: dict[str, Any]) -> None:
    """A task whose ``data.split`` names a split keeps it (a frozen split manifest, e.g. the gold news corpus)."""
    data = task.get("data") or {}
    name = data.get("split") if isinstance(data, dict) else None
    if name in (None, ""):
        return
    if name not in SPLITS:
        raise InputError(
            f"Task {task.get('id')} has data.split = {name!r}.",
            hint=f"Use one of {', '.join(SPLITS)}, or leave it out.",
        )
    if frozen.setdefault(key, name) != name:
        raise InputError(
            f"Tasks of one story cluster ({key}) are frozen into different splits ({frozen[key]} and {name}).",
            hint="A cluster's near-duplicates must share a split; fix data.split in the export.",
        )


def split_groups(sizes: dict[str, int], ratios: SplitRatios, *, seed: int) -> tuple[dict[str, str], dict[str, int]]:
    """Whole groups to splits: group key → split name, and groups per split, from the docs per group.

    Groups are shuffled with ``seed`` (from sorted order, so the export's task order does not matter); each goes
    where the midpoint of its docs falls. With few groups some splits stay empty; train always gets the first group.
    """
    order = sorted(sizes)
    random.Random(seed).shuffle(order)
    total = max(sum(sizes.values()), 1)
    bounds = (ratios.train, ratios.train + ratios.dev)
    split_of: dict[str, str] = {}
    counts = dict.fromkeys(SPLITS, 0)
    done = 0
    for i, key in enumerate(order):
        size = sizes[key]
        mid = (done + size / 2) / total
        name = "train" if i == 0 or mid < bounds[0] else "dev" if mid < bounds[1] else "test"
        split_of[key] = name
        counts[name] += 1
        done += size
    return split_of, counts
