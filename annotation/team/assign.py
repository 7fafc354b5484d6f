"""Queues per annotator: spread tasks over people, each task to ``per_task`` of them, balanced and re-runnable.

Community Label Studio has no task assignment (Enterprise only), so the queue is data: each task's
``data.assigned_to`` lists the e-mails it is assigned to, and each annotator gets a saved Data Manager tab
"Queue <email>" filtered on it (unlabelled tasks first, or least certain first). Label Studio does not stop anyone
from opening other tasks; the tab is where each person works.

The plan is deterministic: tasks in id order, each slot to the least loaded annotator (ties: who had the task
before, then a stable hash of task and person, so no one is always first). People who already annotated a task
keep it (finished work is never reassigned); a rerun with the same tasks and people changes nothing; new tasks
or people are spread over the unfinished slots.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from treffpunkt.annotation.labelstudio.client import Studio
from treffpunkt.annotation.labelstudio.project import ProjectRef, ensure_view, iter_tasks
from treffpunkt.annotation.team.members import check_emails, each, members, members_by_id
from treffpunkt.core.errors import InputError

ASSIGN_FIELD = "assigned_to"
ORDERS = ("corpus", "uncertainty")
#: Tab ordering: unlabelled first (fewest annotations), or Label Studio's prediction score, lowest first.
ORDERING = {"corpus": "tasks:total_annotations", "uncertainty": "tasks:predictions_score"}


@dataclass(frozen=True)
class TaskState:
    id: int
    previous: tuple[str, ...]  # data.assigned_to before this run
    finished: frozenset[str]  # emails with a non-cancelled annotation of the task


@dataclass
class AssignResult:
    project: ProjectRef
    annotators: list[str]
    per_task: int
    tasks: int
    plan: dict[int, list[str]]
    changed: list[int]  # tasks whose assignment was written
    loads: dict[str, int]  # tasks per annotator
    finished_kept: int  # (task, person) pairs kept because the work is done
    views: dict[str, int] = field(default_factory=dict)  # email -> Data Manager view id
    views_created: list[str] = field(default_factory=list)
    not_members: list[str] = field(default_factory=list)  # emails without a Label Studio user yet

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.project.id,
            "annotators": self.annotators,
            "per_task": self.per_task,
            "tasks": self.tasks,
            "changed": len(self.changed),
            "loads": self.loads,
            "finished_kept": self.finished_kept,
            "views": self.views,
            "not_members": self.not_members,
        }


def view_title(email: str) -> str:
    return f"Queue {email}"


def _tiebreak(task_id: int, email: str) -> str:
    return hashlib.sha256(f"{task_id}\0{email.lower()}".encode()).hexdigest()


def plan(tasks: Iterable[TaskState], annotators: list[str], per_task: int) -> tuple[dict[int, list[str]], int]:
    """Assignees per task id, and how many (task, person) pairs were kept as finished work."""
    wanted = {a.lower(): a for a in annotators}
    ordered = sorted(tasks, key=lambda t: t.id)
    out: dict[int, list[str]] = {}
    loads: Counter[str] = Counter()
    kept = 0
    pinned: dict[int, list[str]] = {}
    for task in ordered:  # finished work first, so the loads it brings are known before anything is spread
        previous = {p.lower() for p in task.previous}
        done = sorted(e for e in task.finished if e.lower() in wanted or e.lower() in previous)
        pinned[task.id] = done
        kept += len(done)
        loads.update(e.lower() for e in done)
    for task in ordered:
        chosen = list(pinned[task.id])
        taken = {c.lower() for c in chosen}
        previous = {p.lower() for p in task.previous}
        while len(chosen) < per_task:
            free = [a for a in wanted if a not in taken]
            if not free:
                break
            best = min(free, key=lambda a: (loads[a], a not in previous, _tiebreak(task.id, a)))
            chosen.append(wanted[best])
            taken.add(best)
            loads[best] += 1
        out[task.id] = sorted(chosen, key=str.lower)
    return out, kept


def queue_filters(email: str) -> dict[str, Any]:
    """Tasks whose ``data.assigned_to`` holds ``email`` (matched with its quotes: one list element, not a part)."""
    return {
        "conjunction": "and",
        "items": [
            {
                "filter": f"filter:tasks:data.{ASSIGN_FIELD}",
                "operator": "contains",
                "type": "String",
                "value": f'"{email}"',
            }
        ],
    }


def _finished(task: Any, emails: dict[str, str]) -> frozenset[str]:
    done = set()
    for annotation in task.annotations or []:
        ann = annotation if isinstance(annotation, dict) else annotation.__dict__
        if ann.get("was_cancelled"):
            continue
        who = ann.get("completed_by")
        who = who.get("id") if isinstance(who, dict) else who
        if who is not None and str(who) in emails:
            done.add(emails[str(who)])
    return frozenset(done)


def assign(
    studio: Studio, project: ProjectRef, annotators: list[str], *, per_task: int = 1, order: str = "corpus"
) -> AssignResult:
    """Write ``data.assigned_to`` for tasks whose assignment changes and ensure one queue tab per annotator."""
    annotators = check_emails(annotators)
    if order not in ORDERS:
        raise InputError(f"Unknown --order {order!r}.", hint=f"Use one of: {', '.join(ORDERS)}.")
    if not 1 <= per_task <= len(annotators):
        raise InputError(
            f"--per-task {per_task} needs at least {per_task} annotators (got {len(annotators)}).",
            hint="Give more annotators or a smaller --per-task.",
        )
    emails = members_by_id(studio)
    known = members(studio)
    raw = list(iter_tasks(studio, project.id, fields="all"))
    states = [TaskState(int(t.id), tuple((t.data or {}).get(ASSIGN_FIELD) or ()), _finished(t, emails)) for t in raw]
    planned, kept = plan(states, annotators, per_task)
    by_id = {int(t.id): t for t in raw}
    changed = [s.id for s in states if list(s.previous) != planned[s.id]]
    each(
        studio,
        [
            (
                studio.sdk.tasks.update,
                {"id": str(tid), "data": {**(by_id[tid].data or {}), ASSIGN_FIELD: planned[tid]}},
                f"assigning task {tid}",
            )
            for tid in changed
        ],
    )
    loads = Counter(e for people in planned.values() for e in people)
    result = AssignResult(
        project, annotators, per_task, len(states), planned, changed,
        {a: loads.get(a, 0) for a in annotators}, kept,
        not_members=[a for a in annotators if a.lower() not in known],
    )  # fmt: skip
    for email in annotators:
        view_id, created = ensure_view(
            studio, project.id, view_title(email), {"filters": queue_filters(email), "ordering": [ORDERING[order]]}
        )
        result.views[email] = view_id
        if created:
            result.views_created.append(email)
    return result
