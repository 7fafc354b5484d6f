"""Experiment tracking with Weights & Biases, optional and lazy.

Respects ``WANDB_MODE``, ``WANDB_API_KEY``, ``WANDB_PROJECT`` and ``WANDB_DIR``. Without an API key runs go
offline into ``<workspace>/wandb`` (upload later with ``wandb sync``) and we say so once per process.
``WANDB_MODE=disabled`` or a missing wandb package give a no-op tracker: everything else keeps working.
Logged configs pass through :func:`sanitize` (no paths, no secrets).
Settings come from :mod:`treffpunkt.core.settings` (environment, then the workspace's ``.env``); ``wandb login`` counts as a key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from treffpunkt.core.console import err_console
from treffpunkt.core.errors import TreffpunktError
from treffpunkt.core.io import write_json
from treffpunkt.core.settings import Settings, settings
from treffpunkt.core.workspace import Workspace

DEFAULT_PROJECT = "treffpunkt"
_said: set[str] = set()
#: Where the spaCy logger (``treffpunkt.WandbLogger.v1``) sends training steps while our loop runs (see logging_into).
_scope: list[Tracker] = []

# Metric names: this module owns them. Training steps log ``score``, ``epoch``, ``dev/<score>`` and
# ``loss_<component>``; final scores go under ``final/dev/`` and ``final/test/``; ``evaluate`` under ``<split>/``.
FINAL_DEV = "final/dev/"
FINAL_TEST = "final/test/"


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
        artifact = self.wandb.Artifact(artifact_name(name), type="dataset", metadata=sanitize(dict(metadata)))
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
        artifact = self.wandb.Artifact(artifact_name(name), type="model", metadata=sanitize(dict(metadata)))
        for file in sorted(Path(path).rglob("*")):
            rel = file.relative_to(path)
            if file.is_file() and rel.parts[0] != "model-last":  # the best model only; model-last stays local
                artifact.add_file(str(file), name=str(rel))
        self.run.log_artifact(artifact)

    def finish(self) -> None:
        if self.active:
            self.run.finish()
            self.run = None


@contextmanager
def logging_into(tracker: Tracker) -> Iterator[Tracker]:
    """Inside, the spaCy logger logs training steps into ``tracker`` (a no-op tracker: nowhere) and never starts a
    run of its own: only a plain ``spacy train`` outside our training loop does that."""
    _scope.append(tracker)
    try:
        yield tracker
    finally:
        _scope.pop()


def scoped_tracker() -> Tracker | None:
    """The tracker of the enclosing :func:`logging_into`, or None outside our training loop."""
    return _scope[-1] if _scope else None


def step_metrics(info: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers of one training evaluation step (spaCy's ``info``): score, epoch, dev scores, losses."""
    other = {k: v for k, v in (info.get("other_scores") or {}).items() if isinstance(v, int | float)}
    losses = {f"loss_{k}": v for k, v in (info.get("losses") or {}).items()}
    return {
        "score": info.get("score"),
        "epoch": info.get("epoch"),
        **{f"dev/{k}": v for k, v in other.items()},
        **losses,
    }


def score_metrics(scores: Mapping[str, Any], prefix: str) -> dict[str, float]:
    """The scalar scores of an evaluation under ``prefix`` (``final/dev/``, ``test/``), roles-given-gold included."""
    scalars = {f"{prefix}{k}": v for k, v in scores.items() if isinstance(v, int | float)}
    given = scores.get("roles_given_gold") or {}
    scalars.update({f"{prefix}roles_given_gold_{k}": given[k] for k in ("p", "r", "f") if k in given})
    return scalars


def start_run(
    ws: Workspace,
    *,
    job_type: str,
    config: Mapping[str, Any] | None = None,
    name: str | None = None,
    group: str | None = None,
) -> Tracker:
    """Start a wandb run for a command; returns a no-op tracker when disabled or wandb is missing.

    Inside a wandb sweep agent the agent's run is used (and gets this config), so a trial is one run.
    """
    conf = settings(ws)
    mode = wandb_mode(conf)
    if mode == "disabled":
        return Tracker()
    try:
        import wandb
    except ImportError:
        _say_once("missing", "[yellow]wandb is not installed: this run is not tracked.[/]")
        return Tracker()
    agent_run = wandb.run if wandb.run is not None and getattr(wandb.run, "sweep_id", None) else None
    if agent_run is not None:
        agent_run.config.update(sanitize(dict(config or {})), allow_val_change=True)
        return Tracker(agent_run, wandb, mode)
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
        group=group,
        dir=str(directory),
        mode=mode,
        config=sanitize(dict(config or {})),
        reinit="finish_previous",
        settings=wandb.Settings(silent=True, console="off"),
    )
    return Tracker(run, wandb, mode)


def artifact_name(name: str) -> str:
    """A wandb artifact name from a version or folder name (wandb allows letters, digits, ``-_.``)."""
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


def registry_links_path(ws: Workspace) -> Path:
    return ws.models_dir / "registry-links.json"


def link_to_registry(
    ws: Workspace, version: str, alias: str, *, collection: str, registry: str = "model"
) -> dict[str, Any] | None:
    """Link a version's model artifact into the wandb registry under ``alias`` (online), or record the link.

    Offline, wandb cannot link (its ``link_artifact`` is online only): the wanted link is recorded in
    ``models/registry-links.json`` with ``linked: false``; promoting again with a key links it. None when disabled.
    """
    mode = wandb_mode(settings(ws))
    if mode == "disabled":
        return None
    target = f"wandb-registry-{registry}/{collection}"
    record: dict[str, Any] = {
        "version": version,
        "artifact": f"{artifact_name(version)}:latest",
        "target": target,
        "linked": False,
        "recorded": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if mode == "online":
        tracker = start_run(ws, job_type="promote", config={"version": version, "alias": alias, "target": target})
        try:
            if tracker.active:
                artifact = tracker.run.use_artifact(record["artifact"], type="model")
                tracker.run.link_artifact(artifact, target_path=target, aliases=[alias])
                record["linked"] = True
        except Exception as err:  # wandb raises its own CommError/ValueError kinds
            raise TreffpunktError(
                f"Could not link {record['artifact']} to {target}: {err}",
                hint="Was the training run uploaded? Offline runs need `wandb sync` before their model can be linked.",
            ) from err
        finally:
            tracker.finish()
    links = json.loads(registry_links_path(ws).read_text(encoding="utf-8")) if registry_links_path(ws).exists() else {}
    links[alias] = record
    write_json(registry_links_path(ws), dict(sorted(links.items())))
    return record
