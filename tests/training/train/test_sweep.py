"""Sweeps offline: a local grid of 3 trials with a tiny config, budgets, random draws, and refusals."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import wandb_records
from treffpunkt.core.errors import ConfigError
from treffpunkt.training.train.sweep import load_sweep, plan_trials, sample

TINY = {"training.max_steps": 20, "training.eval_frequency": 10}


def _sweep_file(tmp_path: Path, **changes) -> Path:
    spec = {
        "name": "tiny",
        "method": "grid",
        "metric": {"name": "final/dev/ents_f", "goal": "maximize"},
        "parameters": {
            "training.optimizer.learn_rate": {"values": [0.001, 0.005, 0.02]},
            **{k: {"value": v} for k, v in TINY.items()},
        },
        "treffpunkt": {"config": "fast", "trial_seconds": 60, "total_seconds": 600},
    }
    spec.update(changes)
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


@pytest.mark.slow
def test_sweep_local_grid_of_three_trials(ws, training_data, tmp_path, monkeypatch):
    from treffpunkt.cli import app

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "runs"))
    run = CliRunner().invoke(
        app, ["--home", str(ws.root), "sweep", str(_sweep_file(tmp_path)), "--data", str(training_data)]
    )
    assert run.exit_code == 0, run.output
    (folder,) = (ws.root / "sweeps").iterdir()
    report = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    trials = report["trials"]
    assert [t["overrides"]["training.optimizer.learn_rate"] for t in trials] == [0.001, 0.005, 0.02]
    # each trial is a model version with its own run, trained with its overrides
    versions = [t["version"] for t in trials]
    assert versions == ["tiny-001", "tiny-002", "tiny-003"]
    for trial in trials:
        meta = json.loads((ws.models_dir / trial["version"] / "meta.json").read_text())["treffpunkt"]
        assert (
            meta["config"]["training"]["optimizer"]["learn_rate"] == trial["overrides"]["training.optimizer.learn_rate"]
        )
        assert trial["score"] == pytest.approx(meta["dev_scores"]["ents_f"])
        assert meta["wandb_run"] == trial["wandb_path"]
    # the runs are grouped by the sweep
    groups = set()
    for trial in trials:
        records = list(wandb_records(next(Path(trial["wandb_path"]).glob("run-*.wandb"))))
        groups |= {r.run.run_group for r in records if r.WhichOneof("record_type") == "run"}
    assert len(groups) == 1 and next(iter(groups)).startswith("sweep-tiny-")
    # ranked best first; best.cfg is the base config with the winner's overrides, and trains as a config
    ranked = sorted(trials, key=lambda t: t["score"], reverse=True)
    assert report["ranking"] == [t["number"] for t in ranked] and report["best"]["number"] == ranked[0]["number"]
    from spacy.util import load_config

    best = load_config(folder / "best.cfg", interpolate=False)
    assert best["training"]["optimizer"]["learn_rate"] == ranked[0]["overrides"]["training.optimizer.learn_rate"]
    assert best["training"]["max_steps"] == 20 and "${" in (folder / "best.cfg").read_text()  # references kept
    assert "rank" in run.output and ranked[0]["version"] in run.output and "best.cfg" in run.output


@pytest.mark.slow
def test_sweep_total_budget_stops_trials_and_disabled_leaves_no_files(ws, training_data, tmp_path, monkeypatch):
    from treffpunkt.training.train.sweep import run_sweep

    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.chdir(tmp_path)
    # the budget is spent by the first trial: no second one starts
    result = run_sweep(ws, _sweep_file(tmp_path), data=training_data, total_seconds=0.01, trial_seconds=0.01)
    assert [t.number for t in result.trials] == [1] and any("total budget" in n for n in result.notes)
    assert result.trials[0].stopped == "time budget" and result.best_config.exists()
    assert not (ws.root / "wandb").exists() and not (tmp_path / "wandb").exists()
    assert result.trials[0].wandb_path is None


def test_sweep_random_draws_are_seeded_and_in_bounds(tmp_path):
    spec = load_sweep(
        _sweep_file(
            tmp_path,
            method="random",
            parameters={
                "training.optimizer.learn_rate": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-2},
                "training.dropout": {"min": 0.1, "max": 0.3},
                "components.tok2vec.model.encode.depth": {"min": 1, "max": 4},
                "training.batcher.size": {"values": [100, 200]},
            },
        ),
        count=20,
    )
    trials = plan_trials(spec, seed=3)
    assert len(trials) == 20 and trials == plan_trials(spec, seed=3) and trials != plan_trials(spec, seed=4)
    for t in trials:
        assert 1e-4 <= t["training.optimizer.learn_rate"] <= 1e-2 and 0.1 <= t["training.dropout"] <= 0.3
        assert t["components.tok2vec.model.encode.depth"] in {1, 2, 3, 4} and t["training.batcher.size"] in {100, 200}
    # log-uniform: about half the draws below the geometric middle (1e-3), not ~9 %
    below = sum(
        sample({"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-2}, random.Random(i)) < 1e-3
        for i in range(400)
    )
    assert 150 < below < 250


def test_sweep_refuses_bad_files(ws, tmp_path):
    from treffpunkt.training.train.sweep import run_sweep

    with pytest.raises(ConfigError, match="dev score"):
        load_sweep(_sweep_file(tmp_path, metric={"name": "final/test/ents_f", "goal": "maximize"}))
    with pytest.raises(ConfigError, match="method"):
        load_sweep(_sweep_file(tmp_path, method="hyperband"))
    with pytest.raises(ConfigError, match="grid needs values"):
        load_sweep(_sweep_file(tmp_path, parameters={"training.dropout": {"min": 0.1, "max": 0.2}}))
    # a swept name the base config lacks is refused before any training (spaCy would silently add it)
    with pytest.raises(ConfigError, match="training.optimizer.learning_rate"):
        run_sweep(ws, _sweep_file(tmp_path, parameters={"training.optimizer.learning_rate": {"values": [0.1]}}))
    assert not ws.models_dir.exists() or not any(ws.models_dir.iterdir())


def test_sweep_shipped_file_loads_and_names_existing_settings(ws):
    from treffpunkt.training.train.config import load_config, resolve_config_path
    from treffpunkt.training.train.sweep import check_parameters, resolve_sweep_path

    path = resolve_sweep_path(ws, "ner")
    spec = load_sweep(path)
    base = resolve_config_path(ws, spec.config)
    check_parameters(load_config(base), spec.parameters, base)
    assert spec.metric == "ents_f" and spec.count == 8 and "treffpunkt" not in spec.wandb


@pytest.mark.slow
def test_sweep_failed_trial_is_listed_and_the_others_run(ws, training_data, tmp_path, monkeypatch):
    from treffpunkt.training.train.sweep import run_sweep

    monkeypatch.setenv("WANDB_MODE", "disabled")
    params = {"training.dropout": {"values": ["much", 0.1]}, **{k: {"value": v} for k, v in TINY.items()}}
    result = run_sweep(ws, _sweep_file(tmp_path, parameters=params), data=training_data)
    bad, good = result.trials
    assert bad.score is None and bad.version is None and "dropout" in bad.error
    assert good.score is not None and result.best is good and result.ranked() == [good]
    report = json.loads((result.folder / "sweep.json").read_text(encoding="utf-8"))
    assert report["trials"][0]["error"] == bad.error and report["ranking"] == [2]


def test_sweep_table_names_settings_by_their_shortest_unique_suffix():
    from treffpunkt.cli.sweep import short_names

    names = ["training.optimizer.learn_rate", "components.a.model.width", "components.b.model.width"]
    assert short_names(names) == {
        "training.optimizer.learn_rate": "learn_rate",
        "components.a.model.width": "a.model.width",
        "components.b.model.width": "b.model.width",
    }
