"""``treffpunkt annotate connect-model``: register the workspace's ML backend with its Label Studio project.

Label Studio then asks the backend for a prediction whenever a task without one is opened (interactive
pre-annotations), and, on creating the backend, adds a project webhook to ``<url>/webhook`` for every action, so
submitted and updated annotations reach the retrain queue. ``--off`` removes the backend again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from treffpunkt.annotation.labelstudio.client import Studio, connect
from treffpunkt.annotation.labelstudio.project import require_project
from treffpunkt.core.errors import TreffpunktError
from treffpunkt.core.workspace import Workspace
from treffpunkt.serve.config import load_serve_config
from treffpunkt.serve.state import read_auth, read_state

TITLE = "treffpunkt"


@dataclass
class Connected:
    project_id: int
    backend_id: int
    url: str
    model_version: str | None
    created: bool
    webhook_added: bool  # Label Studio had not created the annotation webhook itself


def backend_url(ws: Workspace) -> str:
    """The running backend's URL, else where serve.yaml says it will listen."""
    state = read_state(ws)  # where it was started; whether it answers is Label Studio's check on registration
    if state:
        return str(state["url"])
    config = load_serve_config(ws)
    return f"http://{config.host}:{config.port}"


def _backends(studio: Studio, project_id: int) -> list[Any]:
    return list(studio.call(studio.sdk.ml.list, project=project_id, what="ML backend list"))


def connect_model(ws: Workspace, *, url: str | None = None, studio: Studio | None = None) -> Connected:
    """Add (or update) the backend on the project, switch on predictions when tasks open, check the webhook."""
    studio = studio or connect(ws)
    ref = require_project(studio, ws)
    url = (url or backend_url(ws)).rstrip("/")
    auth = read_auth(ws) if _needs_auth(ws) else None
    options: dict[str, Any] = {"auth_method": "BASIC_AUTH", "basic_auth_user": auth[0], "basic_auth_pass": auth[1]} \
        if auth else {"auth_method": "NONE"}  # fmt: skip
    existing = next((b for b in _backends(studio, ref.id) if (b.url or "").rstrip("/") == url), None)
    try:
        if existing is None:
            backend = studio.call(
                studio.sdk.ml.create, project=ref.id, url=url, title=TITLE, is_interactive=True,
                what="ML backend registration", idempotent=False, **options,
            )  # fmt: skip
        else:
            backend = studio.call(
                studio.sdk.ml.update, id=existing.id, url=url, project=ref.id, title=TITLE, is_interactive=True,
                what="ML backend update", **options,
            )  # fmt: skip
    except TreffpunktError as err:
        raise TreffpunktError(
            f"Label Studio could not reach the ML backend at {url}: {err.message}",
            hint="Start it first (`treffpunkt serve` or `treffpunkt studio start --serve`), or pass --url.",
        ) from err
    # Predictions are fetched when a task without one is opened or listed. The project's model version names the
    # live backend (Label Studio accepts a backend title or a version that has predictions); the version it serves
    # is the backend's model_version, updated on every promotion.
    studio.call(
        studio.sdk.projects.update, id=ref.id, evaluate_predictions_automatically=True, model_version=TITLE,
        what="project update",
    )  # fmt: skip
    hooks = studio.call(studio.sdk.webhooks.list, project=str(ref.id), what="webhook list")
    missing = not any((h.url or "").rstrip("/") == f"{url}/webhook" for h in hooks)
    if missing:  # Label Studio adds it when the backend is created; an older registration may lack it
        studio.call(
            studio.sdk.webhooks.create, project=ref.id, url=f"{url}/webhook", send_payload=True,
            send_for_all_actions=True, what="webhook creation", idempotent=False,
        )  # fmt: skip
    return Connected(ref.id, int(backend.id), url, backend.model_version, existing is None, missing)


def set_served_version(studio: Studio, project_id: int, version: str) -> int:
    """Tell Label Studio which version the treffpunkt backend of the project now serves; returns how many it updated."""
    updated = 0
    for backend in _backends(studio, project_id):
        if backend.title == TITLE:
            # url and project go along: Label Studio 1.23 fails (500) a partial update without them
            studio.call(
                studio.sdk.ml.update, id=backend.id, url=backend.url, project=project_id, model_version=version,
                what="ML backend version update",
            )  # fmt: skip
            updated += 1
    return updated


#: Data Manager filter: tasks nobody has annotated yet.
UNANNOTATED = {
    "conjunction": "and",
    "items": [{"filter": "filter:tasks:total_annotations", "operator": "equal", "type": "Number", "value": 0}],
}


def drop_stale_suggestions(studio: Studio, project_id: int) -> int:
    """Remove the suggestions on tasks nobody has annotated yet, so Label Studio asks the newly promoted version
    when such a task is opened (it asks only for tasks without any prediction). Returns how many tasks."""
    query = json.dumps({"filters": UNANNOTATED})
    pages = studio.call(
        studio.sdk.tasks.list, project=project_id, query=query, fields="task_only", page_size=500,
        what="listing of unannotated tasks",
    )  # fmt: skip
    ids = [task.id for task in pages]  # the pager fetches the further pages
    if ids:
        studio.call(
            studio.sdk.actions.create, id="delete_tasks_predictions", project=project_id,
            selected_items={"all": False, "included": ids}, what="removal of outdated suggestions",
        )  # fmt: skip
    return len(ids)


def disconnect_model(ws: Workspace, *, studio: Studio | None = None) -> int:
    """Remove every treffpunkt backend (and its webhook) from the project; predictions on open switch off."""
    studio = studio or connect(ws)
    ref = require_project(studio, ws)
    removed = 0
    for backend in _backends(studio, ref.id):
        if backend.title == TITLE:
            studio.call(studio.sdk.ml.delete, id=backend.id, what="ML backend removal")
            url = (backend.url or "").rstrip("/")
            for hook in studio.call(studio.sdk.webhooks.list, project=str(ref.id), what="webhook list"):
                if (hook.url or "").rstrip("/") == f"{url}/webhook":
                    studio.call(studio.sdk.webhooks.delete, id=hook.id, what="webhook removal")
            removed += 1
    studio.call(studio.sdk.projects.update, id=ref.id, evaluate_predictions_automatically=False, what="project update")
    return removed


def _needs_auth(ws: Workspace) -> bool:
    state = read_state(ws)
    return bool(state and state.get("auth"))
