"""Review and adjudication: a reviewer's queue of the conflicting tasks, and the reviewer's decision wins.

``annotate agreement --tag`` marks conflicting tasks (``data.needs_adjudication``). ``review`` gives the reviewer a
Data Manager tab "Review <email>" with those tasks, lowest agreement first. Opened from that tab, a task shows every
annotator's version as a tab of its own; the reviewer submits their own annotation (starting from a copy of one
version or from scratch). Run ``review`` again: each task's submitted review becomes the task's ground truth in
Label Studio (the other annotations lose the mark), so ``pull``/``convert`` take it
(:func:`treffpunkt.annotation.convert.reader.choose_annotation`); the report lists, per annotator, which spans the
reviewer kept, changed (other offsets or label) or dropped, and which the reviewer added.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from treffpunkt.annotation.agreement.measure import (
    LAYERS,
    SCORE_FIELD,
    TAG_FIELD,
    ParseReport,
    Span,
    classify,
    match_spans,
    read_spans,
    view_filters,
)
from treffpunkt.annotation.convert.offsets import OffsetIndex
from treffpunkt.annotation.labelstudio.client import Studio
from treffpunkt.annotation.labelstudio.project import ProjectRef, ensure_view, iter_tasks
from treffpunkt.annotation.team.members import check_emails, each, members, members_by_id
from treffpunkt.core.errors import InputError
from treffpunkt.core.io import write_json
from treffpunkt.core.schema import ENTITY_TAG, EVENT_TAG, Schema
from treffpunkt.core.workspace import Workspace


def view_title(email: str) -> str:
    return f"Review {email}"


@dataclass
class AnnotatorDecision:
    annotator: str
    annotation_id: int
    kept: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)  # with the reviewer's span(s) it became
    dropped: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TaskDecision:
    task_id: int
    article_id: str | None
    review_id: int  # the reviewer's annotation, now ground truth
    annotators: list[AnnotatorDecision]
    added: list[dict[str, Any]]  # reviewer spans no annotator had (same offsets and label)


@dataclass
class ReviewResult:
    project: ProjectRef
    reviewer: str
    view_id: int
    view_created: bool
    queued: list[int]  # tasks needing adjudication
    decided: list[TaskDecision]
    waiting: list[int]  # queued, no review submitted yet
    marked: int  # annotations whose ground-truth mark was changed
    report_path: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.project.id,
            "reviewer": self.reviewer,
            "view": self.view_id,
            "queued": self.queued,
            "waiting": self.waiting,
            "ground_truth_marks_changed": self.marked,
            "decisions": [asdict(d) for d in self.decided],
        }


def _plain(span: Span) -> dict[str, Any]:
    return {"layer": span.layer, "label": span.label, "text": span.text, "start": span.start, "end": span.end}


def decide(annotator_spans: list[Span], review_spans: list[Span]) -> tuple[list, list, list]:
    """(kept, changed, dropped) of an annotator's spans against the review, per layer (:func:`classify`)."""
    kept, changed, dropped = [], [], []
    for layer in LAYERS:
        mine = [s for s in annotator_spans if s.layer == layer]
        theirs = [s for s in review_spans if s.layer == layer]
        exact = {x for x, _ in match_spans(mine, theirs, "exact")}
        for span in mine:
            if span in exact:
                kept.append(_plain(span))
                continue
            kind, involved = classify(span, theirs)
            if kind == "missing":
                dropped.append(_plain(span))
            else:
                changed.append({**_plain(span), "became": [_plain(o) for o in involved]})
    return kept, changed, dropped


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def _author(ann: Any) -> str:
    who = _get(ann, "completed_by")
    return str(_get(who, "id") if isinstance(who, dict) else who)


def review(
    ws: Workspace, studio: Studio, project: ProjectRef, reviewer: str, *, schema: Schema, report: Path | None = None
) -> ReviewResult:
    """Queue the tagged tasks for ``reviewer``; make each submitted review the task's ground truth; write the report."""
    reviewer = check_emails([reviewer])[0]
    known = members(studio)
    if reviewer.lower() not in known:
        raise InputError(
            f"{reviewer} has no Label Studio user on {studio.url}.",
            hint=f"Create it with `treffpunkt annotate invite {reviewer} --create` (or send the invite link).",
        )
    reviewer_id = str(known[reviewer.lower()].id)
    emails = members_by_id(studio)
    view_id, created = ensure_view(
        studio, project.id, view_title(reviewer), {"filters": view_filters(), "ordering": [f"tasks:data.{SCORE_FIELD}"]}
    )
    labels = {ENTITY_TAG: set(schema.entity_labels), EVENT_TAG: set(schema.event_labels)}
    queued, waiting, decided = [], [], []
    marks: list[tuple[Any, dict[str, Any], str]] = []
    for task in iter_tasks(studio, project.id, fields="all"):
        data = task.data or {}
        if not data.get(TAG_FIELD):
            continue
        queued.append(int(task.id))
        usable = [a for a in task.annotations or [] if not _get(a, "was_cancelled")]
        mine = [a for a in usable if _author(a) == reviewer_id]
        if not mine:
            waiting.append(int(task.id))
            continue
        decision = max(mine, key=lambda a: (str(_get(a, "updated_at") or ""), int(_get(a, "id"))))
        for ann in usable:
            want = ann is decision
            if bool(_get(ann, "ground_truth")) != want:
                marks.append(
                    (studio.sdk.annotations.update, {"id": int(_get(ann, "id")), "ground_truth": want},
                     f"marking annotation {_get(ann, 'id')}")
                )  # fmt: skip
        index = OffsetIndex(str(data.get("text") or ""))
        scratch = ParseReport()
        as_dict = {"id": _get(decision, "id"), "result": _get(decision, "result")}
        review_spans, _ = read_spans(int(task.id), as_dict, reviewer, index, labels, scratch)
        per_annotator = []
        others: dict[str, Any] = {}
        for ann in sorted(usable, key=lambda a: (str(_get(a, "updated_at") or ""), int(_get(a, "id")))):
            if _author(ann) != reviewer_id:
                others[_author(ann)] = ann  # the newest annotation of each annotator
        seen: set[Span] = set()
        for author, ann in sorted(others.items(), key=lambda kv: emails.get(kv[0], kv[0])):
            name = emails.get(author, author)
            spans, _ = read_spans(
                int(task.id), {"id": _get(ann, "id"), "result": _get(ann, "result")}, name, index, labels, scratch
            )
            seen.update(spans)
            kept, changed, dropped = decide(spans, review_spans)
            per_annotator.append(AnnotatorDecision(name, int(_get(ann, "id")), kept, changed, dropped))
        added = [_plain(s) for s in review_spans if s not in seen]
        decided.append(
            TaskDecision(int(task.id), data.get("article_id"), int(_get(decision, "id")), per_annotator, added)
        )
    each(studio, marks)
    result = ReviewResult(project, reviewer, view_id, created, queued, decided, waiting, len(marks))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result.report_path = Path(report) if report else ws.exports_dir / "reviews" / f"review-{stamp}.json"
    write_json(result.report_path, result.as_dict())
    return result
