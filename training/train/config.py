"""Training configs: load confection ``.cfg`` files, apply dotted overrides, fill, and prepare for a run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from treffpunkt.core.errors import ConfigError
from treffpunkt.core.workspace import Workspace
from treffpunkt.training.pipeline.components import EVENT_FACTORIES


def resolve_config_path(ws: Workspace, config: Path | str | None, default: str = "default.cfg") -> Path:
    """A config given as a path, as a name in the workspace's configs/ (or the shipped defaults), or the default."""
    if config is None:
        return ws.config_path(default)
    path = Path(config)
    if path.exists():
        return path
    if path.parent == Path("."):
        return ws.config_path(path.name if path.suffix else f"{path.name}.cfg")
    raise ConfigError(
        f"Training config {path} does not exist.",
        hint="Pass an existing .cfg file or a name from configs/ (default, fast).",
    )


def parse_overrides(args: Sequence[str]) -> dict[str, Any]:
    """``["--training.max_epochs", "3", "--paths.train=x"]`` → ``{"training.max_epochs": 3, "paths.train": "x"}``."""
    from spacy.cli._util import parse_config_overrides

    try:
        return parse_config_overrides(list(args))
    except SystemExit as err:  # spaCy's parser exits on malformed args
        raise ConfigError(
            f"Cannot read the config overrides {' '.join(args)!r}.",
            hint="Write them as --section.key value, e.g. --training.max_epochs 3.",
        ) from err


def load_config(path: Path, overrides: Mapping[str, Any] | None = None) -> Any:
    """Read a config with overrides applied (not interpolated, so ``${paths.x}`` references still resolve later)."""
    from spacy import util

    path = Path(path)
    if not path.exists():
        raise ConfigError(
            f"Training config {path} does not exist.", hint="Pass --config FILE or use one of configs/*.cfg."
        )
    try:
        return util.load_config(path, overrides=dict(overrides or {}), interpolate=False)
    except Exception as err:  # confection raises several error types for bad files and overrides
        raise ConfigError(
            f"Training config {path} cannot be read: {err}", hint="Check the file and the --section.key overrides."
        ) from err


def event_components(config: Any) -> list[str]:
    """Names of the pipeline's event classifier components (either backend)."""

    return [
        name
        for name in config["nlp"]["pipeline"]
        if config["components"].get(name, {}).get("factory") in EVENT_FACTORIES
    ]


def set_event_labels(config: Any, labels: Sequence[str], cue_patterns: Path | None = None) -> None:
    """Give each event classifier the schema's labels (so labels never come from code, and absent ones still exist)
    and the workspace's trigger patterns as cues, unless the config sets its own ``cue_patterns`` (null: none)."""
    init = config.setdefault("initialize", {}).setdefault("components", {})
    for name in event_components(config):
        init.setdefault(name, {})["labels"] = list(labels)
        if cue_patterns is not None:
            init[name].setdefault("cue_patterns", str(cue_patterns))


ENTITY_PATTERNS = "treffpunkt.entity_patterns.v1"


def pattern_rulers(config: Any) -> list[str]:
    """Names of the components whose patterns come from ``treffpunkt.entity_patterns.v1`` at initialize."""
    init = config.get("initialize", {}).get("components", {})
    return [
        name
        for name in config["nlp"]["pipeline"]
        if (init.get(name) or {}).get("patterns", {}).get("@misc") == ENTITY_PATTERNS
    ]


def set_entity_patterns(config: Any, labels: Sequence[str], folder: Path | None = None) -> None:
    """Keep only the schema's ``labels`` in each entity-pattern ruler (dropping one left with none), and read the
    patterns from ``folder`` (the workspace's configs/patterns/) unless the config names its own."""
    if folder is not None and config["paths"].get("patterns") is None:
        config["paths"]["patterns"] = str(folder)
    empty = []
    for name in pattern_rulers(config):
        reader = config["initialize"]["components"][name]["patterns"]
        reader["labels"] = [label for label in reader["labels"] if label in set(labels)]
        if not reader["labels"]:
            empty.append(name)
    drop_components(config, empty)


def drop_components(config: Any, names: Iterable[str]) -> None:
    """Remove components (e.g. the event classifier for NER-only data) and their score weights."""
    for name in list(names):
        if name in config["nlp"]["pipeline"]:
            config["nlp"]["pipeline"] = [n for n in config["nlp"]["pipeline"] if n != name]
        config["components"].pop(name, None)
        config.get("initialize", {}).get("components", {}).pop(name, None)
        annotating = config["training"].get("annotating_components", [])
        config["training"]["annotating_components"] = [n for n in annotating if n != name]
    weights = config["training"].get("score_weights", {})
    for key in [k for k in weights if k.startswith("events")] if not event_components(config) else []:
        weights.pop(key)
