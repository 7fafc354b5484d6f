"""Running the ML backend: in the foreground (``treffpunkt serve``) or in the background (``studio start --serve``)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from treffpunkt.annotation.labelstudio.server import free_port
from treffpunkt.core import versions
from treffpunkt.core.io import write_json
from treffpunkt.core.workspace import Workspace
from treffpunkt.serve.app import create_app
from treffpunkt.serve.config import ServeConfig, load_serve_config, serve_dir
from treffpunkt.serve.model import ModelSlot, ServedModel
from treffpunkt.serve.retrain import Retrainer
from treffpunkt.serve.state import BackendError, BackendStatus, ensure_auth, log_path, read_state, state_path, status


def default_model(ws: Workspace) -> str:
    """The newest model version of the workspace."""
    found = versions.list_versions(ws)
    if not found:
        raise BackendError(
            f"No model version in {ws.models_dir} to serve.",
            hint="Train one first (`treffpunkt train` or `treffpunkt quickstart`), or pass --model VERSION.",
        )
    return found[-1].version


def build(
    ws: Workspace, model: str | Path | None, config: ServeConfig, auth: tuple[str, str] | None
) -> tuple[ModelSlot, Retrainer, Any]:
    """The model (loaded once), the retrain queue and the HTTP app of one backend process."""
    serve_dir(ws).mkdir(parents=True, exist_ok=True)
    slot = ModelSlot(ServedModel.load(ws, model or default_model(ws)))
    retrainer = Retrainer(ws, slot, config)
    return slot, retrainer, create_app(ws, slot, retrainer, auth=auth)


def serve(ws: Workspace, *, model: str | None, host: str, port: int, auth: bool, config: ServeConfig) -> None:
    """Load the model once and serve until interrupted (blocks)."""
    import uvicorn  # loaded only when serving

    slot, retrainer, app = build(ws, model, config, ensure_auth(ws) if auth else None)
    port = port or free_port(host)
    url = f"http://{host}:{port}"
    write_json(
        state_path(ws),
        {"pid": os.getpid(), "url": url, "model_version": slot.current.version, "auth": auth,
         "started": datetime.now(UTC).isoformat(timespec="seconds")},
        perms=0o600,
    )  # fmt: skip
    retrainer.start()
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
    finally:
        retrainer.close()
        current = read_state(ws)
        if current and current.get("pid") == os.getpid():
            state_path(ws).unlink(missing_ok=True)


def start_background(
    ws: Workspace, *, model: str | None = None, host: str | None = None, port: int | None = None,
    auth: bool = False, timeout: float = 120.0,
) -> BackendStatus:  # fmt: skip
    """Start ``treffpunkt serve`` as a background process (or reuse the running one) and wait until it answers."""
    current = status(ws)
    if current.running:
        return current
    config = load_serve_config(ws)
    host = host or config.host
    port = free_port(host) if port == 0 else (port or config.port)
    serve_dir(ws).mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "treffpunkt", "--home", str(ws.root), "serve", "--host", host, "--port", str(port)]
    command += ["--model", model] if model else []
    command += ["--auth"] if auth else []
    with log_path(ws).open("ab") as handle:
        os.chmod(log_path(ws), 0o600)
        process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if process.poll() is not None:
            raise BackendError(
                f"The ML backend exited during start-up (exit code {process.returncode}).",
                hint=f"See the log at {log_path(ws)}.",
            )
        state = read_state(ws)
        if state and int(state["pid"]) == process.pid:
            found = status(ws, timeout=1.0)
            if found.running:
                return found
        time.sleep(0.3)
    raise BackendError(
        f"The ML backend did not answer within {timeout:.0f} s (pid {process.pid}).",
        hint=f"See the log at {log_path(ws)}; `treffpunkt serve stop` stops it.",
    )


@dataclass
class InProcessBackend:
    """A backend served from a thread of this process (benchmarks and tests look at its slot and queue)."""

    url: str
    slot: ModelSlot
    retrainer: Retrainer
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.retrainer.close()


def serve_in_thread(
    ws: Workspace, model: str | Path, *, config: ServeConfig | None = None, auth: tuple[str, str] | None = None,
    timeout: float = 30.0,
) -> InProcessBackend:  # fmt: skip
    """``serve`` on a free port of 127.0.0.1 in a background thread; returns once it accepts connections."""
    import uvicorn

    slot, retrainer, app = build(ws, model, config or load_serve_config(ws), auth)
    retrainer.start()
    port = free_port("127.0.0.1")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="treffpunkt-serve", daemon=True)
    thread.start()
    began = time.monotonic()
    while not server.started:
        if not thread.is_alive() or time.monotonic() - began > timeout:
            retrainer.close()
            raise BackendError("The in-process ML backend did not start.")
        time.sleep(0.05)
    return InProcessBackend(f"http://127.0.0.1:{port}", slot, retrainer, server, thread)
