"""``treffpunkt sweep``: hyperparameter search over a training config, with wandb's sweep YAML.

The file is a wandb sweep configuration (``method``: grid, random or bayes; ``metric``; ``parameters`` keyed by
dotted config paths such as ``training.optimizer.learn_rate``) plus a ``treffpunkt:`` block (base config, time
budgets) that is removed before wandb sees it. Online (a key) it is a real wandb sweep run by ``wandb.agent``;
offline the same file runs here: every grid point (or ``count`` random draws; bayes draws randomly, said once),
each trial a model version with its own run, grouped by the sweep. The metric must be a dev score
(``final/dev/<score>``): the test split never chooses a config. The sweep ends with a ranked table, ``sweep.json``
and ``best.cfg`` (the base config with the winning overrides) in ``sweeps/<name>-<stamp>/``.
"""

from __future__ import annotations

import itertools
import math
import random
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import yaml

from treffpunkt.core.errors import ConfigError, TreffpunktError
from treffpunkt.core.io import write_json
from treffpunkt.core.settings import settings
from treffpunkt.core.tracking import DEFAULT_PROJECT, FINAL_DEV, wandb_mode
from treffpunkt.core.workspace import Workspace
from treffpunkt.training.train.config import load_config, resolve_config_path
from treffpunkt.training.train.trainer import train

METHODS = ("grid", "random", "bayes")
DEFAULTS = {"config": "default", "trial_seconds": 600.0, "total_seconds": 3600.0}
RANDOM_COUNT = 10  # random/bayes trials when neither --count, run_cap nor treffpunkt.count says


@dataclass
class SweepSpec:
    name: str
    method: str
    metric: str  # a dev score name, e.g. ents_f (logged as final/dev/ents_f)
    goal: str  # maximize | minimize
    parameters: dict[str, dict[str, Any]]
    config: str
    trial_seconds: float
    total_seconds: float
    count: int | None
    wandb: dict[str, Any]  # the file without our block: what wandb.sweep gets


@dataclass
class Trial:
    number: int
    overrides: dict[str, Any]
    version: str | None = None
    score: float | None = None
    seconds: float = 0.0
    stopped: str | None = None
    wandb_path: str | None = None
    error: str | None = None


@dataclass
class SweepResult:
    spec: SweepSpec
    folder: Path
    mode: str
    trials: list[Trial] = field(default_factory=list)
    best: Trial | None = None
    best_config: Path | None = None
    sweep_id: str | None = None
    notes: list[str] = field(default_factory=list)

    def ranked(self) -> list[Trial]:
        scored = [t for t in self.trials if t.score is not None]
        return sorted(scored, key=lambda t: t.score, reverse=self.spec.goal == "maximize")  # type: ignore[arg-type, return-value]


def resolve_sweep_path(ws: Workspace, sweep: Path | str) -> Path:
    """A sweep file given as a path, or a name in the workspace's (or the shipped) configs/sweeps/."""
    path = Path(sweep)
    if path.exists():
        return path
    if path.parent == Path("."):
        return ws.config_path(f"sweeps/{path.name if path.suffix else f'{path.name}.yaml'}")
    raise ConfigError(f"Sweep file {path} does not exist.", hint="Pass a sweep YAML, or a name from configs/sweeps/.")


def load_sweep(path: Path, *, count: int | None = None) -> SweepSpec:
    """Read and check a sweep file; errors name the key that is wrong."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"Sweep file {path} cannot be read: {err}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"Sweep file {path} is not a mapping.", hint="See configs/sweeps/ner.yaml.")
    ours = {**DEFAULTS, **(raw.pop("treffpunkt", None) or {})}
    method = raw.get("method")
    if method not in METHODS:
        raise ConfigError(f"{path}: method {method!r} is not one of {', '.join(METHODS)}.")
    metric = raw.get("metric") or {}
    name, goal = str(metric.get("name", "")), metric.get("goal", "maximize")
    if not name.startswith(FINAL_DEV) or goal not in {"maximize", "minimize"}:
        raise ConfigError(
            f"{path}: metric must be a dev score ({FINAL_DEV}<score>, goal maximize or minimize), not {name!r}/{goal!r}.",
            hint=f"e.g. metric: {{name: {FINAL_DEV}ents_f, goal: maximize}}; the test split never chooses a config.",
        )
    parameters = raw.get("parameters")
    if not isinstance(parameters, dict) or not parameters:
        raise ConfigError(
            f"{path}: no parameters to sweep.", hint="parameters: {training.dropout: {values: [0.1, 0.2]}}"
        )
    for key, spec in parameters.items():
        if not isinstance(spec, dict) or not ({"values", "value"} & set(spec) or {"min", "max"} <= set(spec)):
            raise ConfigError(f"{path}: parameter {key!r} needs values, value, or min and max.")
        if method == "grid" and "values" not in spec and "value" not in spec:
            raise ConfigError(f"{path}: a grid needs values for {key!r} (min/max ranges are for random and bayes).")
    return SweepSpec(
        name=str(raw.get("name") or Path(path).stem),
        method=method,
        metric=name.removeprefix(FINAL_DEV),
        goal=goal,
        parameters=parameters,
        config=str(ours["config"]),
        trial_seconds=float(ours["trial_seconds"]),
        total_seconds=float(ours["total_seconds"]),
        count=count if count is not None else raw.get("run_cap") or ours.get("count"),
        wandb=raw,
    )


def check_parameters(config: Any, parameters: Mapping[str, Any], source: Path) -> None:
    """Every swept name must exist in the base config: spaCy would silently add an unknown key and ignore it."""
    missing = []
    for dotted in parameters:
        node: Any = config
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                missing.append(dotted)
                break
            node = node[part]
    if missing:
        raise ConfigError(
            f"Swept settings not in {source.name}: {', '.join(missing)}.",
            hint="Use dotted paths that exist in the base config, e.g. training.optimizer.learn_rate.",
        )


def grid(parameters: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every combination of the parameters' values, in file order."""
    keys = list(parameters)
    choices = [list(p["values"]) if "values" in p else [p["value"]] for p in parameters.values()]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*choices)]


def sample(spec: Mapping[str, Any], rng: random.Random) -> Any:
    """One draw of a parameter (wandb's distributions: categorical, constant, uniform, int_uniform, log_uniform_values)."""
    if "values" in spec:
        return rng.choice(list(spec["values"]))
    if "value" in spec:
        return spec["value"]
    low, high = spec["min"], spec["max"]
    kind = spec.get("distribution") or ("int_uniform" if isinstance(low, int) and isinstance(high, int) else "uniform")
    if kind == "int_uniform":
        return rng.randint(int(low), int(high))
    if kind == "log_uniform_values":
        return math.exp(rng.uniform(math.log(low), math.log(high)))
    if kind == "uniform":
        return rng.uniform(float(low), float(high))
    raise ConfigError(
        f"Distribution {kind!r} is not supported offline (use values, uniform, int_uniform, log_uniform_values)."
    )


def plan_trials(spec: SweepSpec, seed: int = 0) -> list[dict[str, Any]]:
    if spec.method == "grid":
        points = grid(spec.parameters)
        return points[: spec.count] if spec.count else points
    rng = random.Random(seed)
    return [{k: sample(p, rng) for k, p in spec.parameters.items()} for _ in range(spec.count or RANDOM_COUNT)]


def run_sweep(
    ws: Workspace,
    sweep: Path | str,
    *,
    count: int | None = None,
    data: Path | None = None,
    config: str | None = None,
    trial_seconds: float | None = None,
    total_seconds: float | None = None,
    seed: int = 0,
    stdout: IO[str] = sys.stdout,
    on_trial: Callable[[Trial], None] | None = None,
) -> SweepResult:
    """Run a sweep file (see the module docstring): online as a wandb sweep, otherwise locally."""
    path = resolve_sweep_path(ws, sweep)
    spec = load_sweep(path, count=count)
    if config is not None:
        spec.config = config
    if trial_seconds is not None:
        spec.trial_seconds = trial_seconds
    if total_seconds is not None:
        spec.total_seconds = total_seconds
    base = resolve_config_path(ws, spec.config)
    check_parameters(load_config(base), spec.parameters, base)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result = SweepResult(spec, ws.root / "sweeps" / f"{spec.name}-{stamp}", wandb_mode(settings(ws)))
    result.folder.mkdir(parents=True)
    group = f"sweep-{spec.name}-{stamp}"
    start = time.monotonic()

    def run_trial(number: int, overrides: dict[str, Any]) -> Trial | None:
        remaining = spec.total_seconds - (time.monotonic() - start)
        if remaining <= 0:
            return None
        trial = Trial(number, overrides)
        try:
            trained = train(
                ws,
                config=base,
                data=data,
                name=spec.name,
                overrides=overrides,
                max_seconds=min(spec.trial_seconds, remaining),
                group=group,
                stdout=stdout,
            )
        except TreffpunktError as err:  # a bad value in one trial: listed, the others still run
            trial.error = err.message
        except Exception as err:  # spaCy/thinc reject some values only while building the model
            trial.error = f"{type(err).__name__}: {err}"
        else:
            trial.version, trial.seconds, trial.stopped = trained.version, trained.seconds, trained.stopped
            trial.wandb_path = trained.wandb_path
            value = trained.dev_scores.get(spec.metric)
            trial.score = float(value) if isinstance(value, int | float) else None
            if trial.score is None:
                trial.error = f"no dev score {spec.metric!r} (scores: {', '.join(sorted(trained.dev_scores))[:200]})"
        result.trials.append(trial)
        if on_trial is not None:
            on_trial(trial)
        return trial

    if result.mode == "online":
        _run_online(ws, spec, result, run_trial)
    else:
        if spec.method == "bayes":
            result.notes.append("bayes needs the wandb sweep server: offline, its parameters are drawn at random.")
        for number, overrides in enumerate(plan_trials(spec, seed), start=1):
            if run_trial(number, overrides) is None:
                result.notes.append(f"total budget of {spec.total_seconds:.0f} s spent after {number - 1} trials.")
                break
    ranked = result.ranked()
    if ranked:
        result.best = ranked[0]
        result.best_config = result.folder / "best.cfg"
        load_config(base, result.best.overrides).to_disk(result.best_config)
    write_json(
        result.folder / "sweep.json",
        {
            "name": spec.name,
            "file": str(path),
            "method": spec.method,
            "mode": result.mode,
            "sweep_id": result.sweep_id,
            "metric": f"{FINAL_DEV}{spec.metric}",
            "goal": spec.goal,
            "base_config": str(base),
            "trial_seconds": spec.trial_seconds,
            "total_seconds": spec.total_seconds,
            "ranking": [t.number for t in ranked],
            "best": asdict(result.best) if result.best else None,
            "best_config": str(result.best_config) if result.best_config else None,
            "trials": [asdict(t) for t in result.trials],
            "notes": result.notes,
        },
    )
    return result


def _run_online(
    ws: Workspace, spec: SweepSpec, result: SweepResult, run_trial: Callable[[int, dict[str, Any]], Trial | None]
) -> None:
    """A real wandb sweep: the server proposes parameters, ``wandb.agent`` runs our trial function."""
    import wandb

    conf = settings(ws)
    project = conf.wandb_project or DEFAULT_PROJECT
    result.sweep_id = wandb.sweep(dict(spec.wandb), project=project, entity=conf.wandb_entity)
    numbers = itertools.count(1)

    def agent_trial() -> None:
        run = wandb.init(dir=str(Path(conf.wandb_dir or ws.root / "wandb")))  # the agent's run; train() reuses it
        overrides = {key: run.config[key] for key in spec.parameters}
        if run_trial(next(numbers), overrides) is None:
            run.summary["skipped"] = "total time budget spent"
            run.finish()

    wandb.agent(result.sweep_id, function=agent_trial, project=project, entity=conf.wandb_entity, count=spec.count)
