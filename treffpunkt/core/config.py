"""Config files: one strict pydantic base and one YAML loader for every ``configs/*.yaml``.

Defaults live in the shipped YAML files, never in code: a workspace file that leaves keys out is merged over the
shipped default of the same name, then validated as a whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from treffpunkt.core.errors import ConfigError

T = TypeVar("T", bound=BaseModel)


class StrictConfig(BaseModel):
    """Base of every config model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def read_yaml(path: Path, *, what: str) -> Any:
    """Parse a YAML file; a missing or malformed file is a :class:`ConfigError` naming it."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(
            f"{what} {path} does not exist.", hint="Run `treffpunkt init DIR` for the default configs."
        ) from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{what} {path} is not valid YAML: {err}") from err


def merged(base: Any, override: Any) -> Any:
    """``override`` deep-merged over ``base`` (mappings merge key by key; anything else replaces)."""
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{k: merged(base.get(k), v) for k, v in override.items()}}
    return base if override is None else override


def validation_problems(err: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in err.errors())


def load_config(path: Path, model: type[T], *, what: str, defaults: Path | None = None) -> T:
    """Read ``path`` (merged over ``defaults`` when given) and validate it as ``model``."""
    raw = read_yaml(path, what=what) or {}
    if defaults is not None and Path(defaults).resolve() != Path(path).resolve():
        raw = merged(read_yaml(defaults, what=f"Default {what.lower()}") or {}, raw)
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(
            f"{what} {path} is invalid: {validation_problems(err)}",
            hint=f"Compare it with the shipped default ({Path(path).name} in `treffpunkt init`).",
        ) from err
