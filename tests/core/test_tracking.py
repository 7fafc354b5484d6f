"""wandb tracking: offline run directory holds the expected keys; no path or secret reaches a logged config."""

from __future__ import annotations

import json

import pytest

from tests.conftest import wandb_records
from treffpunkt.core.settings import Settings
from treffpunkt.core.tracking import sanitize, start_run, wandb_mode

FAKE_WANDB_KEY = "wandb-fake-secret-0123456789abcdef0123456789abcdef"
FAKE_LS_KEY = "ls-fake-secret-token-9876543210"


def test_tracking_sanitize_drops_paths_and_secrets():
    config = {
        "paths": {"train": "/data/train.spacy"},
        "training": {"max_steps": 5, "dev_corpus": "corpora.dev", "api_key": FAKE_WANDB_KEY, "out_dir": "x"},
        "initialize": {"init_tok2vec": "/abs/tok2vec.bin", "vectors": None},
        "nested": [{"password": "p"}, "/abs/file", "rel"],
    }
    clean = sanitize(config)
    assert clean == {
        "training": {"max_steps": 5, "dev_corpus": "corpora.dev"},
        "initialize": {"vectors": None},
        "nested": [{}, "rel"],
    }


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "offline"),
        ({"WANDB_API_KEY": "k"}, "online"),
        ({"WANDB_MODE": "disabled", "WANDB_API_KEY": "k"}, "disabled"),
        ({"WANDB_MODE": "dryrun"}, "offline"),
    ],
)
def test_tracking_mode_from_environment(monkeypatch, env, expected):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert wandb_mode(Settings()) == expected


def test_tracking_disabled_is_noop(monkeypatch, ws):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    tracker = start_run(ws, job_type="train", config={"a": 1})
    assert not tracker.active and tracker.path is None
    tracker.log({"x": 1.0})
    tracker.table("t", ["a"], [[1]])
    tracker.finish()
    assert not (ws.root / "wandb").exists()


@pytest.mark.slow
def test_tracking_offline_training_run(monkeypatch, ws, training_data, tmp_path):
    from treffpunkt.training.train.trainer import train

    wandb_dir = tmp_path / "wandb-runs"
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(wandb_dir))
    monkeypatch.setenv("WANDB_API_KEY", FAKE_WANDB_KEY)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", FAKE_LS_KEY)
    result = train(
        ws, config="fast", data=training_data, overrides={"training.max_steps": 20, "training.eval_frequency": 10}
    )
    runs = list(wandb_dir.glob("wandb/offline-run-*"))
    assert len(runs) == 1 and result.wandb_path == str(runs[0])
    records = list(wandb_records(next(runs[0].glob("run-*.wandb"))))
    config = {
        u.key: json.loads(u.value_json)
        for r in records
        if r.WhichOneof("record_type") == "run"
        for u in r.run.config.update
    }
    assert {"training", "components", "nlp"} <= set(config) and "paths" not in config
    config_text = json.dumps(config)
    for secret in (FAKE_WANDB_KEY, FAKE_LS_KEY, str(training_data), str(tmp_path)):
        assert secret not in config_text
    everything = b"".join(p.read_bytes() for p in runs[0].rglob("*") if p.is_file())
    assert FAKE_WANDB_KEY.encode() not in everything and FAKE_LS_KEY.encode() not in everything
    summary = {
        u.key or "/".join(u.nested_key)
        for r in records
        if r.WhichOneof("record_type") == "summary"
        for u in r.summary.update
    }
    for key in (
        "score",
        "dev/ents_f",
        "dev/events_f",
        "final/dev/ents_f",
        "final/dev/events_macro_f",
        "final/test/ents_f",
        "final/test/events_f",
    ):
        assert key in summary, key
    artifacts = {(r.artifact.type, r.artifact.name) for r in records if r.WhichOneof("record_type") == "artifact"}
    assert ("model", result.version) in artifacts and ("dataset", f"data-{training_data.name}") in artifacts
    tables = {a for t, a in artifacts if t == "run_table"}
    assert any("events_confusion" in t for t in tables) and any("ents_per_label" in t for t in tables)
    meta = json.loads((result.path / "meta.json").read_text())["treffpunkt"]
    assert meta["wandb_run"] == str(runs[0])
    # the config's logger (treffpunkt.WandbLogger.v1) logged every evaluation step (spaCy evaluates at step 0, then every 10)
    assert meta["config"]["training"]["logger"]["@loggers"] == "treffpunkt.WandbLogger.v1"
    steps = {}
    for r in records:
        if r.WhichOneof("record_type") == "history":
            items = {i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in r.history.item}
            if "dev/ents_f" in items:
                steps[items["_step"]] = items
    assert sorted(steps) == [0, 10, 20] and all({"score", "epoch", "dev/events_f"} <= set(v) for v in steps.values())
    assert any(k.startswith("loss_") for k in steps[20])
    # lineage: the model artifact names the dataset artifact and the config it came from
    (model,) = [r.artifact for r in records if r.WhichOneof("record_type") == "artifact" and r.artifact.type == "model"]
    lineage = json.loads(model.metadata)
    assert lineage["dataset"] == f"data-{training_data.name}:latest" and lineage["config_file"] == "fast.cfg"
    assert len(lineage["config_sha256"]) == 64 and lineage["export_sha256"] == "0" * 64


def test_tracking_wandb_login_counts_as_a_key(monkeypatch, tmp_path):
    # `wandb login` stores the key in ~/.netrc, not in the environment: that is online too (README: "or `wandb login`").
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.wandb.ai\n  login user\n  password 0123456789abcdef\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert wandb_mode(Settings()) == "online"
    netrc.write_text("machine example.org\n  login user\n  password x\n", encoding="utf-8")
    assert wandb_mode(Settings()) == "offline"


def test_tracking_spacy_logger_outside_treffpunkt(monkeypatch, tmp_path):
    """Under a plain `spacy train` the logger prints like spaCy's console logger and logs into its own run."""
    import io

    import spacy
    from spacy.util import registry

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.delenv("WANDB_DIR", raising=False)
    nlp = spacy.blank("de")
    nlp.add_pipe("ner")
    info = {"epoch": 1, "step": 5, "score": 0.5, "other_scores": {"ents_f": 0.5}, "losses": {"ner": 3.0}, "seconds": 1}
    out = io.StringIO()
    log_step, finalize = registry.loggers.get("treffpunkt.WandbLogger.v1")()(nlp, out, io.StringIO())
    log_step(info)
    log_step({**info, "step": 10, "score": 0.7, "other_scores": {"ents_f": 0.7}})
    finalize()
    assert "E" in out.getvalue() and "0.70" in out.getvalue()  # spaCy's console table
    (run,) = (tmp_path / "wandb" / "wandb").glob("offline-run-*")
    history = [
        {i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in r.history.item}
        for r in wandb_records(next(run.glob("run-*.wandb")))
        if r.WhichOneof("record_type") == "history"
    ]
    history = [h for h in history if "dev/ents_f" in h]
    assert [(h["_step"], h["dev/ents_f"], h["loss_ner"]) for h in history] == [(5, 0.5, 3.0), (10, 0.7, 3.0)]
    # disabled: the same output, no files
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.chdir(tmp_path / "wandb")
    out = io.StringIO()
    log_step, finalize = registry.loggers.get("treffpunkt.WandbLogger.v1")()(nlp, out, io.StringIO())
    log_step(info)
    finalize()
    assert "0.50" in out.getvalue() and not (tmp_path / "wandb" / "wandb" / "wandb").exists()


@pytest.mark.slow
def test_tracking_promote_records_registry_link_offline(monkeypatch, ws, training_data):
    from typer.testing import CliRunner

    from treffpunkt.cli import app
    from treffpunkt.core.tracking import registry_links_path
    from treffpunkt.training.train.trainer import train

    monkeypatch.setenv("WANDB_MODE", "disabled")
    version = train(ws, config="fast", data=training_data, overrides={"training.max_steps": 10}).version
    run = CliRunner().invoke(app, ["--home", str(ws.root), "models", "promote", version, "--alias", "production"])
    assert run.exit_code == 0, run.output
    assert not registry_links_path(ws).exists()  # disabled: no wandb, no record
    monkeypatch.setenv("WANDB_MODE", "offline")
    run = CliRunner().invoke(app, ["--home", str(ws.root), "models", "promote", version, "--alias", "staging"])
    assert run.exit_code == 0, run.output
    link = json.loads(registry_links_path(ws).read_text())["staging"]
    assert link["artifact"] == f"{version}:latest" and link["target"] == "wandb-registry-model/fast"
    assert link["linked"] is False and "registry-links.json" in run.output
    aliases = json.loads((ws.models_dir / "aliases.json").read_text())
    assert aliases == {"production": version, "staging": version}


@pytest.mark.slow
def test_tracking_untracked_training_writes_no_run(monkeypatch, ws, training_data, tmp_path):
    """`train(track=False)` (--no-track, learning curves, benchmarks): the config's logger logs nowhere, even with
    wandb on, and never starts a run of its own in the current directory."""
    from treffpunkt.training.train.trainer import train

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.delenv("WANDB_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    result = train(ws, config="fast", data=training_data, overrides={"training.max_steps": 10}, track=False)
    assert result.wandb_path is None
    assert not (tmp_path / "wandb").exists() and not (ws.root / "wandb").exists()
