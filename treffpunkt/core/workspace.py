"""Workspaces: a directory holding one project's configs, corpus, exports, models and local state.

Resolution order: ``--home DIR``, then ``TREFFPUNKT_HOME``, then the current directory.
Config files are looked up in the workspace's ``configs/`` first and fall back to the
defaults shipped with treffpunkt, so a workspace only holds the files it changes.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from treffpunkt.core.errors import WorkspaceError
from treffpunkt.core.resources import default_configs

HOME_ENV = "TREFFPUNKT_HOME"
#: Files of the shipped configs/ that `init` copies (not its package marker).
CONFIG_SUFFIXES = {".yaml", ".cfg", ".jsonl"}

_home_override: Path | None = None


@dataclass(frozen=True)
class Workspace:
    """Paths of one workspace. Creating the object touches nothing on disk."""

    root: Path

    @property
    def configs_dir(self) -> Path:
        return self.root / "configs"

    @property
    def corpus_dir(self) -> Path:
        return self.root / "corpus"

    @property
    def articles_path(self) -> Path:
        """The corpus: one article per line (JSONL), rewritten atomically."""
        return self.corpus_dir / "articles.jsonl"

    @property
    def exports_dir(self) -> Path:
        """Raw Label Studio exports (never modified) and their converted DocBin folders."""
        return self.corpus_dir / "exports"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def state_dir(self) -> Path:
        """Local state not meant for sharing: Label Studio data, credentials, project ids (0700)."""
        return self.root / ".treffpunkt"

    @property
    def schema_path(self) -> Path:
        return self.config_path("schema.yaml")

    def config_path(self, name: str) -> Path:
        """The workspace's own copy of a config file if it has one, else the shipped default."""
        own = self.configs_dir / name
        if own.exists():
            return own
        default = default_configs() / name
        if default.exists():
            return default
        raise WorkspaceError(
            f"Config file {name!r} is neither in {self.configs_dir} nor among the defaults in {default_configs()}.",
            hint="Check the file name, or run `treffpunkt init DIR` to get a workspace with all default configs.",
        )

    def ensure(self) -> Workspace:
        """Create the workspace folders that commands write into (idempotent)."""
        for folder in (self.corpus_dir, self.exports_dir, self.models_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
        return self


def use_home(home: Path | None) -> None:
    """Set the workspace for this process (the root CLI's ``--home`` option)."""
    global _home_override
    _home_override = Path(home).expanduser().resolve() if home else None


def current() -> Workspace:
    """The workspace selected by ``--home``, ``TREFFPUNKT_HOME`` or the current directory."""
    if _home_override is not None:
        return Workspace(_home_override)
    env = os.environ.get(HOME_ENV)
    return Workspace(Path(env).expanduser().resolve() if env else Path.cwd().resolve())


def init_workspace(target: Path, *, force: bool = False) -> Workspace:
    """Create a fresh workspace at ``target``: default configs copied, empty corpus/ and models/."""
    target = Path(target).expanduser().resolve()
    if target.exists() and any(target.iterdir()) and not force and (target / "configs").exists():
        raise WorkspaceError(
            f"{target} already holds a workspace (it has configs/).",
            hint="Use it as it is with `--home`, or pass --force to copy missing default configs into it.",
        )
    ws = Workspace(target).ensure()
    ws.configs_dir.mkdir(parents=True, exist_ok=True)
    for source in sorted(default_configs().iterdir()):
        if source.is_file() and source.suffix in CONFIG_SUFFIXES and not (ws.configs_dir / source.name).exists():
            shutil.copy2(source, ws.configs_dir / source.name)
        elif source.is_dir() and not source.name.startswith("_") and not (ws.configs_dir / source.name).exists():
            shutil.copytree(source, ws.configs_dir / source.name, ignore=shutil.ignore_patterns("__pycache__"))
    gitignore = target / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(".treffpunkt/\nmodels/\ncorpus/exports/\nwandb/\nsweeps/\n.env\n", encoding="utf-8")
    return ws
