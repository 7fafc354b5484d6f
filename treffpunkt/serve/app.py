"""The ML backend's HTTP API, as Label Studio 1.23 calls it (``label_studio/ml/api_connector.py``).

- ``GET /health`` → ``{"status": "UP", "model_version": ...}`` (Label Studio waits 1 s for it);
- ``POST /setup`` → ``{"model_version": ...}`` (before predictions; Label Studio takes the version from it);
- ``POST /predict`` ``{"tasks": [...], ...}`` → ``{"results": [one prediction per task, in order]}``;
- ``POST /webhook`` ``{"action": ..., ...}``: annotation events count towards a retrain, ``START_TRAINING`` queues
  one; always answered at once;
- ``POST /train``: Label Studio's "Start Training" without the webhook feature flag; queues a retrain;
- ``GET /versions``, ``GET /status``: the workspace's model versions; serving version and retrain jobs.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.concurrency import run_in_threadpool

from treffpunkt.core import versions
from treffpunkt.core.workspace import Workspace
from treffpunkt.serve.model import ModelSlot
from treffpunkt.serve.retrain import Retrainer

log = logging.getLogger("treffpunkt.serve")

#: Webhook actions that mean "an annotation was added or changed".
ANNOTATION_ACTIONS = frozenset({"ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED"})
TRAIN_ACTIONS = frozenset({"START_TRAINING"})
# module level: FastAPI resolves the (string) annotations of dependencies in this module's globals
_BASIC = HTTPBasic(auto_error=False)


def create_app(ws: Workspace, slot: ModelSlot, retrainer: Retrainer, *, auth: tuple[str, str] | None = None) -> FastAPI:
    """The backend for one workspace. ``auth``: (user, password) required as HTTP basic auth on every route."""

    def check_auth(credentials: Annotated[HTTPBasicCredentials | None, Depends(_BASIC)]) -> None:
        if auth is None:
            return
        ok = credentials is not None and all(
            secrets.compare_digest(given.encode(), wanted.encode())
            for given, wanted in ((credentials.username, auth[0]), (credentials.password, auth[1]))
        )
        if not ok:
            raise HTTPException(401, "wrong or missing credentials", headers={"WWW-Authenticate": "Basic"})

    app = FastAPI(title="treffpunkt ML backend", dependencies=[Depends(check_auth)])

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "UP", "model_class": "treffpunkt", "model_version": slot.current.version}

    @app.post("/setup")
    async def setup(request: Request) -> dict[str, Any]:
        await _json_object(request, "setup")
        return {"model_version": slot.current.version}

    @app.post("/predict")
    async def predict(request: Request) -> dict[str, Any]:
        payload = await _json_object(request, "predict")
        tasks = payload.get("tasks")
        if not isinstance(tasks, list):
            raise _bad("predict", "'tasks' must be a list of tasks")
        model = slot.current  # this request finishes on this version even if a promotion happens meanwhile
        results = await run_in_threadpool(predict_tasks, model, tasks)
        return {"results": results, "model_version": model.version}

    @app.post("/webhook")
    async def webhook(request: Request) -> dict[str, Any]:
        payload = await _json_object(request, "webhook")
        action = payload.get("action")
        if not isinstance(action, str):
            raise _bad("webhook", "'action' must be a string")
        if action in ANNOTATION_ACTIONS:
            job = retrainer.annotation_changed()
            return {"status": "queued" if job else "counted", "changes": retrainer.changes, "job": _job_id(job)}
        if action in TRAIN_ACTIONS:
            return {"status": "queued", "job": _job_id(retrainer.request("Start Training (webhook)"))}
        return {"status": "ignored", "action": action}

    @app.post("/train")
    async def train_route(request: Request) -> dict[str, Any]:
        await _json_object(request, "train")
        # not "job": Label Studio would then poll a job-status route for it
        return {"status": "queued", "retrain": _job_id(retrainer.request("Start Training"))}

    @app.get("/versions")
    def list_versions() -> dict[str, Any]:
        return {"versions": [v.version for v in versions.list_versions(ws)]}

    @app.get("/status")
    def status() -> dict[str, Any]:
        return {
            "model_version": slot.current.version,
            "model_path": str(slot.current.path),
            "changes_since_last_retrain": retrainer.changes,
            "retrain_every": retrainer.config.retrain.every,
            "jobs": [asdict(j) for j in retrainer.jobs],
        }

    return app


def predict_tasks(model: Any, tasks: list[Any]) -> list[dict[str, Any]]:
    """One prediction per task, in order. A task the model cannot handle gets an empty result with its error."""
    texts: list[str | None] = [_task_text(t) for t in tasks]
    good = [i for i, text in enumerate(texts) if text is not None]
    results: list[dict[str, Any]] = [
        {"result": [], "model_version": model.version, "error": "the task has no data.text string"} for _ in tasks
    ]
    try:
        batch = model.predict([texts[i] for i in good])
    except Exception:  # find the failing task(s); the others still get their prediction
        batch = []
        for i in good:
            try:
                batch.extend(model.predict([texts[i]]))
            except Exception as err:
                log.exception("prediction failed for task %s", tasks[i].get("id") if isinstance(tasks[i], dict) else i)
                batch.append({"result": [], "model_version": model.version, "error": f"{type(err).__name__}: {err}"})
    for i, prediction in zip(good, batch, strict=True):
        results[i] = prediction
    return results


def _task_text(task: Any) -> str | None:
    data = task.get("data") if isinstance(task, dict) else None
    text = data.get("text") if isinstance(data, dict) else None
    return text if isinstance(text, str) else None


def _job_id(job: Any) -> int | None:
    return job.id if job is not None else None


def _bad(route: str, why: str) -> HTTPException:
    log.warning("malformed %s request: %s", route, why)
    return HTTPException(400, f"malformed {route} request: {why}")


async def _json_object(request: Request, route: str) -> dict[str, Any]:
    try:
        payload = await request.json()
    except ValueError as err:
        raise _bad(route, f"the body is not JSON ({err})") from err
    if not isinstance(payload, dict):
        raise _bad(route, "the body must be a JSON object")
    return payload
