"""The model registry: version directories ``models/<name>-<NNN>/`` in a workspace.

A version directory is itself the best spaCy pipeline (``spacy.load(models/<version>)`` works) with
``model-last/`` inside it; its ``meta.json`` carries a ``treffpunkt`` block (data, hashes, scores, run).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from treffpunkt.core.errors import TreffpunktError
from treffpunkt.core.io import write_json
from treffpunkt.core.workspace import Workspace

_VERSION = re.compile(r"^(?P<name>.+)-(?P<num>\d{3,})$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.]*$")


class ModelNotFound(TreffpunktError):
    """A model version name or path does not lead to a model directory."""


@dataclass(frozen=True)
class ModelVersion:
    """One trained model version as listed by ``treffpunkt models list``."""

    version: str
    path: Path
    created: str | None = None
    data: str | None = None
    dev_scores: dict[str, Any] = field(default_factory=dict)
    test_scores: dict[str, Any] = field(default_factory=dict)
    size_bytes: int = 0
    complete: bool = True

    @classmethod
    def from_dir(cls, path: Path) -> ModelVersion:
        meta = read_meta(path)
        block = meta.get("treffpunkt", {})
        size = sum(
            f.stat().st_size for f in path.rglob("*") if f.is_file() and "model-last" not in f.relative_to(path).parts
        )
        return cls(
            version=block.get("version", path.name),
            path=path,
            created=block.get("created"),
            data=block.get("data", {}).get("folder"),
            dev_scores=block.get("dev_scores", {}),
            test_scores=block.get("test_scores", {}),
            size_bytes=size,
            complete=bool(block) and not block.get("interrupted", False),
        )


def read_meta(path: Path) -> dict[str, Any]:
    meta = Path(path) / "meta.json"
    return json.loads(meta.read_text(encoding="utf-8")) if meta.exists() else {}


def validate_name(name: str) -> str:
    if not _NAME.match(name) or name.endswith("."):
        raise TreffpunktError(
            f"Model name {name!r} is not usable as a folder name.",
            hint="Use letters, digits, '_' and '.' (e.g. --name ner_events).",
        )
    return name


def version_name(version: str) -> str:
    """The config/model name of a version: ``default-003`` → ``default``."""
    m = _VERSION.match(version)
    return m["name"] if m else version


def next_version(ws: Workspace, name: str) -> str:
    """The next free version name ``<name>-<NNN>`` (numbers only grow, even after deletions in between)."""
    validate_name(name)
    taken = [int(m["num"]) for p in _dirs(ws) if (m := _VERSION.match(p.name)) and m["name"] == name]
    return f"{name}-{max(taken, default=0) + 1:03d}"


def _dirs(ws: Workspace) -> list[Path]:
    return (
        sorted(p for p in ws.models_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
        if ws.models_dir.exists()
        else []
    )


def aliases_path(ws: Workspace) -> Path:
    return ws.models_dir / "aliases.json"


def read_aliases(ws: Workspace) -> dict[str, str]:
    """alias -> version (``models promote VERSION --alias production``)."""
    path = aliases_path(ws)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def set_alias(ws: Workspace, version: str | Path, alias: str) -> tuple[str, str | None]:
    """Point ``alias`` at a version (moving it from the one it named before). Returns (version, previous)."""
    validate_name(alias)
    if any(p.name == alias for p in _dirs(ws)) or _VERSION.match(alias):
        raise TreffpunktError(
            f"{alias!r} looks like a model version name, so it cannot be an alias.",
            hint="Use a word such as production, staging or candidate.",
        )
    target = resolve(ws, version).name
    aliases = read_aliases(ws)
    previous = aliases.get(alias)
    aliases[alias] = target
    write_json(aliases_path(ws), dict(sorted(aliases.items())))
    return target, previous


def resolve(ws: Workspace, version: str | Path) -> Path:
    """A model directory from a version name (``events-003``), an alias (``production``), a bare name (newest
    version), or a path."""
    path = Path(version)
    if path.is_dir() and (path / "config.cfg").exists():
        return path
    aliased = read_aliases(ws).get(str(version))
    if aliased is not None:
        version = aliased
    candidates = [p for p in _dirs(ws) if p.name == str(version)]
    if not candidates:
        numbered = sorted(
            (int(m["num"]), p)
            for p in _dirs(ws)
            if (m := _VERSION.match(p.name)) and m["name"] == str(version) and (p / "config.cfg").exists()
        )
        candidates = [numbered[-1][1]] if numbered else []
    if not candidates or not (candidates[0] / "config.cfg").exists():
        known = ", ".join(p.name for p in _dirs(ws)) or "none yet"
        raise ModelNotFound(
            f"No model version {str(version)!r} in {ws.models_dir} (known: {known}).",
            hint="Run `treffpunkt models list`, or train one with `treffpunkt train`.",
        )
    return candidates[0]


def list_versions(ws: Workspace) -> list[ModelVersion]:
    """All model versions in the workspace, oldest first."""
    return [ModelVersion.from_dir(p) for p in _dirs(ws) if (p / "config.cfg").exists()]
