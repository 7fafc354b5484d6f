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
