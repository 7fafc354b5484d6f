"""Shared fixtures. Slow fixtures (the Label Studio server) are session-scoped and shared by the suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotation.workspace import Workspace, init_workspace

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEEDS_DIR = REPO / "corpus" / "seeds"
GNAD_CSV = SHARED / "data" / "gnad" / "test.csv"
LER_DIR = SHARED / "data" / "ler"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A fresh, empty workspace with the default configs."""
    return init_workspace(tmp_path / "ws")


@pytest.fixture
def seeds_dir() -> Path:
    return SEEDS_DIR


# --------------------------------------------------------------------------- Label Studio (one server per session)

from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402


@dataclass
class StudioServer:
    """The session's Label Studio: a real server in its own temporary workspace."""

    url: str
    token: str
    username: str
    password: str
    workspace: Workspace

    def client(self):
        """An :class:`annotation.client.Studio` for the server (the SDK is in ``.sdk``)."""
        from pydantic import SecretStr

        from annotation.client import Connection, Studio

        return Studio(Connection(self.url, SecretStr(self.token), "test"))


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioServer]:
    """Start ONE Label Studio for the whole test session (``treffpunkt studio start`` code path); stop it at the end."""
    from annotation import studio as studio_mod

    ws = init_workspace(tmp_path_factory.mktemp("studio") / "ws")
    state = studio_mod.start(ws, port=0, timeout=400)
    creds = studio_mod.load_credentials(ws)
    assert creds is not None and state.url
    try:
        yield StudioServer(url=state.url, token=creds.token, username=creds.username, password=creds.password, workspace=ws)
    finally:
        studio_mod.stop(ws)


@pytest.fixture
def studio_ws(studio: StudioServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A fresh workspace that talks to the session's server (LABEL_STUDIO_URL/API_KEY) under a unique project title.

    The project (if a test created one, e.g. with ``annotate setup``) is deleted afterwards.
    """
    import uuid

    title = f"test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("LABEL_STUDIO_URL", studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", studio.token)
    monkeypatch.setenv("TREFFPUNKT_PROJECT_TITLE", title)
    ws = init_workspace(tmp_path / "studio-ws")
    yield ws
    client = studio.client()
    for project in client.sdk.projects.list(title=title):
        if project.title == title:
            client.sdk.projects.delete(project.id)


@pytest.fixture
def studio_project(studio_ws: Workspace):
    """A uniquely titled project on the session's server, set up from the default schema (``annotate setup``)."""
    from annotation.project import setup

    return setup(studio_ws).project
