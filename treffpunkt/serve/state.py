"""The ML backend's state on disk and its health: ``.treffpunkt/serve/`` holds ``server.json`` (pid, url, version)
while a backend runs, ``auth.json`` (basic-auth credentials, 0600, never printed), ``jobs.json`` (retrains) and
``backend.log``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from treffpunkt.core.errors import TreffpunktError
from treffpunkt.core.io import write_json
from treffpunkt.core.processes import alive, terminate
from treffpunkt.core.workspace import Workspace
from treffpunkt.serve.config import serve_dir


class BackendError(TreffpunktError):
    """The ML backend cannot start, or is not reachable."""


def state_path(ws: Workspace) -> Path:
    return serve_dir(ws) / "server.json"


def auth_path(ws: Workspace) -> Path:
    return serve_dir(ws) / "auth.json"


def log_path(ws: Workspace) -> Path:
    return serve_dir(ws) / "backend.log"


def read_auth(ws: Workspace) -> tuple[str, str] | None:
    path = auth_path(ws)
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["user"], data["password"]


def ensure_auth(ws: Workspace) -> tuple[str, str]:
    """The backend's basic-auth credentials, created once (random password, file mode 0600)."""
    existing = read_auth(ws)
    if existing:
        return existing
    creds = ("treffpunkt", secrets.token_urlsafe(24))
    write_json(auth_path(ws), {"user": creds[0], "password": creds[1]}, perms=0o600)
    return creds


@dataclass
class BackendStatus:
    running: bool
    url: str | None = None
    pid: int | None = None
    model_version: str | None = None
    problem: str | None = None
    jobs: list[dict[str, Any]] | None = None


def read_state(ws: Workspace) -> dict[str, Any] | None:
    path = state_path(ws)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def status(ws: Workspace, *, timeout: float = 3.0) -> BackendStatus:
    """Whether the workspace's backend runs and answers, which version it serves and what its retrains did."""
    state = read_state(ws)
    if not state:
        return BackendStatus(False, problem="not started (`treffpunkt serve` or `studio start --serve`)")
    url, pid = state["url"], int(state["pid"])
    if not alive(pid):
        return BackendStatus(False, url, pid, problem=f"its process {pid} is gone; see {log_path(ws)}")
    auth = read_auth(ws) if state.get("auth") else None
    try:
        response = httpx.get(f"{url}/status", auth=auth, timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as err:
        return BackendStatus(False, url, pid, problem=f"no answer from {url}: {err}")
    data = response.json()
    return BackendStatus(True, url, pid, data.get("model_version"), jobs=data.get("jobs"))


def stop(ws: Workspace, *, timeout: float = 15.0) -> bool:
    """Stop the workspace's backend. Returns whether one was running."""
    state = read_state(ws)
    if not state:
        return False
    pid = int(state["pid"])
    running = alive(pid)
    if running:
        terminate(pid, timeout=timeout, group=False)  # uvicorn shuts down cleanly on SIGTERM
    state_path(ws).unlink(missing_ok=True)
    return running
