"""Retraining while people annotate: a debounced queue, one worker thread, and a promotion policy.

Webhooks only count and queue (they answer at once); the worker pulls a snapshot, converts it, trains the
configured config within its budget, compares the candidate with the serving version on the snapshot's frozen test
split (``treffpunkt compare``'s paired bootstrap) and promotes it only when it is not worse (``configs/serve.yaml``).
Every job is a line of ``treffpunkt serve status``; its training log is kept next to the job list.
"""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from treffpunkt.annotation.labelstudio.client import Studio, connect
from treffpunkt.annotation.labelstudio.project import require_project
from treffpunkt.annotation.labelstudio.pull import pull
from treffpunkt.core.errors import InputError, TreffpunktError
from treffpunkt.core.io import write_json
from treffpunkt.core.workspace import Workspace
from treffpunkt.serve.config import PromotionConfig, ServeConfig, serve_dir
from treffpunkt.serve.connect import drop_stale_suggestions, set_served_version
from treffpunkt.serve.model import ModelSlot, ServedModel
from treffpunkt.training.evaluation.compare import MICRO, compare
from treffpunkt.training.train.trainer import train

STATES = ("queued", "running", "promoted", "rejected", "failed")


def jobs_path(ws: Workspace) -> Path:
    return serve_dir(ws) / "jobs.json"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    """One retrain: why it was queued, what it trained, how it compared and what was decided."""

    id: int
    trigger: str
    state: str = "queued"
    queued_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    serving: str | None = None
    candidate: str | None = None
    scores: dict[str, Any] | None = None
    reason: str | None = None
    log: str | None = None
    refreshed_tasks: int | None = None  # unannotated tasks whose old suggestions were removed on promotion


def read_jobs(ws: Workspace) -> list[Job]:
    path = jobs_path(ws)
    if not path.exists():
        return []
    return [Job(**row) for row in json.loads(path.read_text(encoding="utf-8"))]


@dataclass
class Decision:
    promote: bool
    reason: str
    scores: dict[str, Any]


def decide(comparison: Any, policy: PromotionConfig) -> Decision:
    """Promote when the candidate (second version) is not worse than the serving one (first) on the policy's metric."""
    serving, candidate = comparison.versions
    row = comparison.row(policy.metric, MICRO)
    old, new = row.scores[serving]["f"], row.scores[candidate]["f"]
    delta = row.deltas[candidate]
    scores = {
        "metric": f"{policy.metric} micro F1 (test)",
        "serving": round(old, 4),
        "candidate": round(new, 4),
        "delta": round(new - old, 4),
        "interval": [round(delta["low"], 4), round(delta["high"], 4)],
        "test_docs": comparison.n_docs,
    }
    if new < old - policy.tolerance:
        return Decision(False, f"worse: {new:.3f} < {old:.3f} - tolerance {policy.tolerance}", scores)
    if policy.refuse_significantly_worse and delta["significant"] and delta["high"] < 0:
        return Decision(False, "significantly worse (paired bootstrap interval below 0)", scores)
    return Decision(True, f"not worse: {new:.3f} vs {old:.3f}", scores)


class Retrainer:
    """The retrain queue of one backend process: at most one job queued and one running."""

    def __init__(
        self,
        ws: Workspace,
        slot: ModelSlot,
        config: ServeConfig,
        *,
        studio_factory: Callable[[Workspace], Studio] = connect,
    ) -> None:
        self.ws = ws
        self.slot = slot
        self.config = config
        self.studio_factory = studio_factory
        self.changes = 0  # annotation events since the last queued retrain
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self.jobs = read_jobs(ws)
        for job in self.jobs:  # a process that died mid-job left it running: say so instead of pretending
            if job.state in ("queued", "running"):
                job.state, job.reason = "failed", "the backend stopped before this job finished"
        self._thread = threading.Thread(target=self._work, name="treffpunkt-retrain", daemon=True)

    # ------------------------------------------------------------------ queueing (called from request handlers)
    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout)

    def annotation_changed(self) -> Job | None:
        """Count one new or changed annotation; queue a retrain every ``retrain.every`` of them."""
        with self._lock:
            self.changes += 1
            if self.changes < self.config.retrain.every:
                return None
            self.changes = 0
            return self._queue(f"{self.config.retrain.every} new or changed annotations")

    def request(self, trigger: str) -> Job:
        with self._lock:
            return self._queue(trigger)

    def _queue(self, trigger: str) -> Job:
        queued = next((j for j in self.jobs if j.state == "queued"), None)
        if queued is not None:  # debounce: one waiting job covers every request made while it waits
            return queued
        job = Job(id=max((j.id for j in self.jobs), default=0) + 1, trigger=trigger)
        self.jobs.append(job)
        self._save()
        self._wake.set()
        return job

    @property
    def running(self) -> Job | None:
        return next((j for j in self.jobs if j.state == "running"), None)

    def _save(self) -> None:
        write_json(jobs_path(self.ws), [asdict(j) for j in self.jobs])

    # ------------------------------------------------------------------ the worker
    def _work(self) -> None:
        while not self._stop:
            self._wake.wait()
            self._wake.clear()
            while not self._stop:
                with self._lock:
                    job = next((j for j in self.jobs if j.state == "queued"), None)
                    if job is None:
                        break
                    job.state, job.started_at, job.serving = "running", _now(), self.slot.current.version
                    self._save()
                self.run(job)

    def run(self, job: Job) -> Job:
        """Pull, convert, train, compare, decide; the serving version changes only on promotion."""
        log_path = serve_dir(self.ws) / f"retrain-{job.id:04d}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        job.log = str(log_path)
        try:
            with log_path.open("w", encoding="utf-8") as log:
                studio = self.studio_factory(self.ws)
                pulled = pull(self.ws, studio=studio)
                print(f"pulled {pulled.tasks} tasks: {pulled.export_path}", file=log, flush=True)
                trained = train(
                    self.ws,
                    config=self.config.retrain.config,
                    data=pulled.converted_dir,
                    name="serve",
                    max_seconds=self.config.retrain.max_seconds,
                    track=self.config.retrain.track,
                    stdout=log,
                )
                job.candidate = trained.version
                decision = self._decide(job, pulled.converted_dir, trained.path)
                job.scores = decision.scores
                job.reason = decision.reason
                if decision.promote:
                    self.slot.swap(ServedModel.load(self.ws, trained.path))  # served from now on
                    try:
                        self._announce(studio, job, trained.version)
                    except TreffpunktError as err:  # still promoted: the backend serves it, Label Studio asks it
                        job.reason = f"{job.reason}; Label Studio not told the new version: {err.message}"
                    job.state = "promoted"
                else:
                    job.state = "rejected"
                print(f"{job.state}: {job.reason}", file=log, flush=True)
        except Exception as err:  # a failed retrain must never take the server down or touch the served version
            job.state, job.reason = "failed", f"{type(err).__name__}: {err}"
            with log_path.open("a", encoding="utf-8") as log:
                traceback.print_exc(file=log)
        finally:
            job.finished_at = _now()
            with self._lock:
                self._save()
        return job

    def _decide(self, job: Job, data: Path, candidate: Path) -> Decision:
        policy = self.config.promotion
        serving = self.slot.current
        try:
            result = compare(
                self.ws,
                [serving.path, candidate],
                data=data,
                split="test",
                n_boot=policy.bootstrap_samples,
                allow_overlap=True,  # the serving version may predate the split; the overlap is recorded
                out=serve_dir(self.ws) / f"compare-{job.id:04d}.json",
                track=False,
            )
        except InputError as err:  # e.g. no test documents yet
            verdict = "promoted" if policy.promote_without_test else "rejected"
            return Decision(policy.promote_without_test, f"nothing to compare on ({err}); {verdict} by policy", {})
        decision = decide(result.comparison, policy)
        overlap = result.overlap.get(result.versions[0])
        if overlap:
            decision.scores["serving_saw_test_docs"] = len(overlap)
        return decision

    def _announce(self, studio: Studio, job: Job, version: str) -> None:
        """Tell Label Studio the new version; optionally clear old suggestions on tasks nobody has annotated."""
        project_id = require_project(studio, self.ws).id
        set_served_version(studio, project_id, version)
        if self.config.promotion.refresh_suggestions:
            job.refreshed_tasks = drop_stale_suggestions(studio, project_id)
