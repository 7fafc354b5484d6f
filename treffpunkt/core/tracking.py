"""Experiment tracking with Weights & Biases, optional and lazy.

Respects ``WANDB_MODE``, ``WANDB_API_KEY``, ``WANDB_PROJECT`` and ``WANDB_DIR``. Without an API key runs go
offline into ``<workspace>/wandb`` (upload later with ``wandb sync``) and we say so once per process.
``WANDB_MODE=disabled`` or a missing wandb package give a no-op tracker: everything else keeps working.
Logged configs pass through :func:`sanitize` (no paths, no secrets).
Settings come from :mod:`treffpunkt.core.settings` (environment, then the workspace's ``.env``); ``wandb login`` counts as a key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from treffpunkt.core.console import err_console
from treffpunkt.core.settings import Settings, settings
from treffpunkt.core.workspace import Workspace

DEFAULT_PROJECT = "treffpunkt"
_said: set[str] = set()


def _say_once(key: str, message: str) -> None:
    if key not in _said:
        _said.add(key)
        err_console.print(message)


#: Config keys whose values never leave the machine (logged configs, wandb): they name places or hold secrets.
_PRIVATE_KEY = re.compile(r"path|dir|key|token|password|secret", re.IGNORECASE)


def wandb_mode(conf: Settings) -> str:
    """``online``, ``offline`` or ``disabled``: WANDB_MODE decides; else a key (or ``wandb login``) means online."""
    mode = (conf.wandb_mode or "").strip().lower()
    if mode in {"disabled", "offline", "online"}:
        return mode
    if mode == "dryrun":
        return "offline"
    return "online" if conf.wandb_logged_in() else "offline"


def sanitize(value: Any) -> Any:
    """A copy of a config without paths or secrets: drops keys naming them and values that are absolute paths."""
    if isinstance(value, Mapping):
        clean = {}
        for key, item in value.items():
            if _PRIVATE_KEY.search(str(key)):
                continue
            if isinstance(item, str) and (item.startswith("/") or re.match(r"^[A-Za-z]:\\", item)):
                continue
            clean[str(key)] = sanitize(item)
        return clean
    if isinstance(value, list | tuple):
        return [sanitize(v) for v in value if not (isinstance(v, str) and v.startswith("/"))]
    return value


class Tracker:
    """One tracking run (or a no-op when ``run`` is None). All methods are safe to call either way."""

    def __init__(self, run: Any = None, wandb: Any = None, mode: str = "disabled") -> None:
        self.run = run
        self.wandb = wandb
        self.mode = mode

    @property
    def active(self) -> bool:
        return self.run is not None and self.mode != "disabled"

    @property
    def path(self) -> str | None:
        """Where to find the run: ``entity/project/id`` online, the local run directory offline."""
        if not self.active:
            return None
        if self.mode == "offline":
            return str(Path(self.run.dir).parent)
        return (
            "/".join(str(p) for p in self.run.path) if isinstance(self.run.path, list | tuple) else str(self.run.path)
        )

    def log(self, data: Mapping[str, Any], step: int | None = None) -> None:
        if self.active:
            flat = {k: v for k, v in _flatten(data).items() if isinstance(v, int | float)}
            self.run.log(flat, step=step) if step is not None else self.run.log(flat)

    def summary(self, data: Mapping[str, Any]) -> None:
        if self.active:
            for key, value in _flatten(data).items():
                if isinstance(value, int | float | str):
                    self.run.summary[key] = value

    def table(self, name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        if self.active:
            self.run.log({name: self.wandb.Table(columns=list(columns), data=[list(r) for r in rows])})

    def use_dataset(self, name: str, files: Iterable[Path], metadata: Mapping[str, Any]) -> Any:
        """Record the export + DocBins as this run's input dataset artifact (lineage: data → run → model)."""
        if not self.active:
            return None
        artifact = self.wandb.Artifact(_artifact_name(name), type="dataset", metadata=sanitize(dict(metadata)))
        for file in files:
            if Path(file).exists():
                artifact.add_file(str(file), name=Path(file).name)
        if self.mode == "offline":
            # wandb cannot mark inputs offline: log it as this run's output; `wandb sync` keeps data and run linked.
            return self.run.log_artifact(artifact)
        return self.run.use_artifact(artifact)

    def log_model(self, name: str, path: Path, metadata: Mapping[str, Any]) -> None:
        if not self.active:
            return
        artifact = self.wandb.Artifact(_artifact_name(name), type="model", metadata=sanitize(dict(metadata)))
        for file in sorted(Path(path).rglob("*")):
            rel = file.relative_to(path)
            if file.is_file() and rel.parts[0] != "model-last":  # the best model only; model-last stays local
                artifact.add_file(str(file), name=str(rel))
        self.run.log_artifact(artifact)

    def finish(self) -> None:
        if self.active:
            self.run.finish()
            self.run = None


def start_run(
    ws: Workspace, *, job_type: str, config: Mapping[str, Any] | None = None, name: str | None = None
) -> Tracker:
    """Start a wandb run for a command; returns a no-op tracker when disabled or wandb is missing."""
    conf = settings(ws)
    mode = wandb_mode(conf)
    if mode == "disabled":
        return Tracker()
    try:
        import wandb
    except ImportError:
        _say_once("missing", "[yellow]wandb is not installed: this run is not tracked.[/]")
        return Tracker()
    directory = Path(conf.wandb_dir or ws.root / "wandb")
    directory.mkdir(parents=True, exist_ok=True)
    if mode == "offline":
        _say_once(
            "offline",
            f"[yellow]wandb: tracking offline in {directory}[/] ({'WANDB_MODE=offline' if conf.wandb_mode else 'no WANDB_API_KEY and no `wandb login`'}; "
            f"upload later with `wandb sync {directory}/wandb/offline-run-*`).",
        )
    run = wandb.init(
        project=conf.wandb_project or DEFAULT_PROJECT,
        entity=conf.wandb_entity,
        job_type=job_type,
        name=name,
        dir=str(directory),
        mode=mode,
        config=sanitize(dict(config or {})),
        reinit="finish_previous",
        settings=wandb.Settings(silent=True, console="off"),
    )
    return Tracker(run, wandb, mode)


def _artifact_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{full}/"))
        elif value is not None:
            flat[full] = value
    return flat
