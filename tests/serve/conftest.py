"""A real backend for the serve tests: a fast-config model version served by uvicorn in a background thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from treffpunkt.core.workspace import Workspace, init_workspace
from treffpunkt.serve.config import ServeConfig
from treffpunkt.serve.server import InProcessBackend, serve_in_thread

QUICK = {"training.max_steps": 30, "training.eval_frequency": 10}


def run_backend(
    ws: Workspace, model: str | Path, *, config: ServeConfig | None = None, auth: tuple[str, str] | None = None
) -> InProcessBackend:
    """``treffpunkt serve``'s parts, on a free port, in this process (so a test can look at the slot and queue)."""
    return serve_in_thread(ws, model, config=config, auth=auth)


@pytest.fixture(scope="session")
def served_model(tmp_path_factory, training_data) -> tuple[Workspace, str]:
    """A workspace with one fast-config model version trained on the hand-made docs."""
    from treffpunkt.training.train.trainer import train

    ws = init_workspace(tmp_path_factory.mktemp("servews") / "ws")
    result = train(ws, config="fast", data=training_data, overrides=QUICK, track=False)
    return ws, result.version


@pytest.fixture
def backend(served_model) -> Iterator[InProcessBackend]:
    ws, version = served_model
    running = run_backend(ws, version)
    yield running
    running.stop()
