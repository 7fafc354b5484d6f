"""Training: versions, meta.json, fresh-process loading, both event backends, Ctrl-C, CLI smoke tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from spacy.util import registry
from typer.testing import CliRunner

from treffpunkt.core import versions
from treffpunkt.core.errors import InputError
from treffpunkt.core.io import sha256_file
from treffpunkt.training.train.trainer import train

pytestmark = pytest.mark.slow
QUICK = {"training.max_steps": 30, "training.eval_frequency": 10}


@pytest.fixture(autouse=True)
def _no_wandb(monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, training_data):
    """One fast-config model version shared by the read-only tests below."""
    from treffpunkt.core.workspace import init_workspace

    ws = init_workspace(tmp_path_factory.mktemp("trainws") / "ws")
    return ws, train(ws, config="fast", data=training_data, overrides=QUICK, track=False)


def test_train_writes_version_with_meta(trained, training_data):
    ws, result = trained
    assert result.version == "fast-001" and result.path == ws.models_dir / "fast-001"
    assert (result.path / "config.cfg").exists() and (result.path / "model-last" / "config.cfg").exists()
    assert not (result.path / ".training").exists()
    block = json.loads((result.path / "meta.json").read_text())["treffpunkt"]
    assert block["version"] == "fast-001"
    assert block["data"]["folder"] == str(training_data.resolve())
    for name in ("train.spacy", "dev.spacy", "test.spacy"):
        assert block["data"]["docbins"][name] == sha256_file(training_data / name)
    assert block["data"]["export_sha256"] == "0" * 64
    assert len(block["schema_sha256"]) == 64
    assert block["config"]["training"]["max_steps"] == 30
    assert block["training_seconds"] > 0 and block["created"]
    assert block["dev_scores"]["ents_f"] > 0.5 and "events_f" in block["test_scores"]
    assert "corpora" in block["config"] and "test" not in block["config"]["corpora"]  # test never used for selection
    assert "git_commit" in block and block["wandb_run"] is None


def test_train_fits_role_classifier_from_gold_relations(trained, training_data):
    """train fits the role classifier on train.spacy's relations, saves it, records it; evaluate scores roles."""
    import spacy
    from spacy.tokens import DocBin

    from treffpunkt.training.evaluation.evaluate import evaluate
    from treffpunkt.training.pipeline.roles import load_roles

    ws, result = trained
    assert (result.path / "roles.joblib").exists() and load_roles(result.path) is not None
    roles = result.meta["treffpunkt"]["roles"]
    train_docs = list(DocBin().from_disk(training_data / "train.spacy").get_docs(spacy.blank("de").vocab))
    n_relations = sum(len(d.user_data["relations"]) for d in train_docs)
    assert roles["kind"] == "classifier" and roles["file"] == "roles.joblib"
    assert roles["relations_reached"] + roles["relations_unreachable"] == n_relations > 0
    assert set(roles["label_counts"]) == {"none", "participant"}
    for scores in (result.dev_scores, result.test_scores):
        assert scores["roles_kind"] == "classifier" and 0.0 <= scores["roles_f"] <= 1.0
        assert scores["roles_given_gold"]["support"] > 0 and "participant" in scores["roles_per_type"]
    report = evaluate(ws, result.version, split="dev", track=False)
    saved = json.loads(report.report_path.read_text())["scores"]
    assert saved["roles_kind"] == "classifier"
    assert saved["roles_given_gold"] == result.dev_scores["roles_given_gold"]  # same model, same docs, same numbers
    # the fixture's role is "first entity of the event sentence": learnable from the repeated sentences
    assert saved["roles_given_gold"]["f"] > 0.8


def test_train_without_relations_records_heuristic(ws, training_data, tmp_path):
    import spacy
    from spacy.tokens import DocBin

    data = tmp_path / "norel"
    data.mkdir()
    vocab = spacy.blank("de").vocab
    for name in ("train.spacy", "dev.spacy", "test.spacy"):
        docs = list(DocBin().from_disk(training_data / name).get_docs(vocab))
        for doc in docs:
            doc.user_data["relations"] = []
        DocBin(docs=docs, store_user_data=True).to_disk(data / name)
    result = train(
        ws, config="fast", data=data, overrides={"training.max_steps": 6, "training.eval_frequency": 3}, track=False
    )
    roles = result.meta["treffpunkt"]["roles"]
    assert roles["kind"] == "heuristic" and "no usable relations" in roles["reason"]
    assert not (result.path / "roles.joblib").exists()
    assert result.dev_scores["roles_kind"] == "heuristic" and result.dev_scores["roles_support"] == 0


def test_train_model_loads_in_fresh_process(trained):
    _, result = trained
    code = (
        "import json, spacy\n"
        f"nlp = spacy.load({str(result.path)!r})\n"
        "doc = nlp('Angela Merkel telefonierte am Montag mit Wladimir Putin. Das Wetter in Berlin war schön.')\n"
        "ev = doc.spans['events']\n"
        "print(json.dumps({'ents': [(e.text, e.label_) for e in doc.ents], 'events': [(s.text, s.label_) for s in ev],"
        " 'scores': list(ev.attrs['scores']), 'event_scores': doc.user_data['event_scores']}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert ["Angela Merkel", "PER"] in got["ents"]
    assert len(got["scores"]) == len(got["events"])
    assert all(span[0].endswith(".") for span in got["events"])  # sentence spans
    assert set(got["event_scores"]) == {"0:56", "57:88"}
    assert len(got["event_scores"]["0:56"]) == 8  # every schema event label scored


def test_train_sklearn_backend(ws, training_data, tmp_path):
    from treffpunkt.training.train.config import load_config

    fast = load_config(Path(ws.config_path("fast.cfg")))
    sk = load_config(Path(ws.config_path("sklearn.cfg")))
    fast["components"]["events"] = sk["components"]["events"]
    cfg = tmp_path / "fast_sklearn.cfg"
    fast.to_disk(cfg)
    result = train(ws, config=cfg, data=training_data, overrides=QUICK, name="sk", track=False)
    assert result.version == "sk-001"
    assert result.dev_scores["events_f"] > 0.8  # the rotated fixture sentences repeat: easy for TF-IDF
    import spacy

    doc = spacy.load(result.path)("Der Kanzler besuchte Warschau am Freitag.")
    assert [s.label_ for s in doc.spans["events"]] == ["CONSULT_VISIT"]


@registry.callbacks("test_treffpunkt.interrupt_at_step.v1")
def _interrupt_at(step: int):
    def before_update(nlp, args):
        if args["step"] >= step:
            raise KeyboardInterrupt

    return before_update


def test_train_ctrl_c_keeps_best_model(ws, training_data):
    over = {
        **QUICK,
        "training.max_steps": 200,
        "training.before_update": {"@callbacks": "test_treffpunkt.interrupt_at_step.v1", "step": 15},
    }
    result = train(ws, config="fast", data=training_data, overrides=over, track=False)
    assert result.interrupted and result.stopped == "interrupted"
    assert (result.path / "config.cfg").exists() and (result.path / "model-last").exists()
    assert json.loads((result.path / "meta.json").read_text())["treffpunkt"]["interrupted"] is True
    assert [v.complete for v in versions.list_versions(ws)] == [False]


def test_train_requires_data_folder(ws, tmp_path):
    with pytest.raises(InputError, match="train.spacy"):
        train(ws, config="fast", data=tmp_path, track=False)
    assert not any(ws.models_dir.iterdir())


def test_train_rejects_empty_dev_split(ws, tmp_path, training_data):
    import shutil

    from spacy.tokens import DocBin

    shutil.copy(training_data / "train.spacy", tmp_path / "train.spacy")
    DocBin().to_disk(tmp_path / "dev.spacy")
    with pytest.raises(InputError, match="dev.spacy in .* holds no documents"):
        train(ws, config="fast", data=tmp_path, track=False)


def test_versions_next_and_resolve(ws, trained):
    other_ws, result = trained
    assert versions.next_version(other_ws, "fast") == "fast-002"
    assert versions.next_version(other_ws, "new") == "new-001"
    assert versions.resolve(other_ws, "fast") == result.path
    assert versions.resolve(other_ws, "fast-001") == result.path
    assert versions.resolve(other_ws, str(result.path)) == result.path
    with pytest.raises(versions.ModelNotFound):
        versions.resolve(other_ws, "nope-001")
    listed = versions.list_versions(other_ws)
    assert [v.version for v in listed] == ["fast-001"] and listed[0].size_bytes > 0


def _cli(ws, *args):
    from treffpunkt.cli import app

    result = CliRunner().invoke(app, ["--home", str(ws.root), *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_train_cli_smoke_all_commands(ws, training_data):
    out = _cli(
        ws,
        "train",
        "--config",
        "fast",
        "--data",
        str(training_data),
        "--name",
        "cli",
        "--training.max_steps",
        "10",
        "--training.eval_frequency",
        "5",
    )
    assert "cli-001" in out
    out = _cli(ws, "models", "list")
    assert "cli-001" in out
    out = _cli(ws, "evaluate", "cli-001", "--split", "dev")
    assert "micro" in out and "words/s" in out
    assert (ws.models_dir / "cli-001" / "evaluation-dev.json").exists()
    ws.articles_path.write_text(
        "\n".join(
            json.dumps(
                {
                    "id": f"a{i}",
                    "text": f"Merkel traf Putin in Berlin. Die Gespräche dauerten {i} Stunden. " * 5,
                    "cluster": f"c{i}",
                    "origin": {"path": "x.txt", "kind": "txt"},
                    "added": "2025-01-01T00:00:00Z",
                }
            )
            for i in range(5)
        )
        + "\n"
    )
    weights = ws.root / "tok2vec.bin"
    out = _cli(ws, "pretrain", "--config", "fast", "--out", str(weights), "--pretraining.max_epochs", "1")
    assert weights.exists()
    out = _cli(
        ws,
        "train",
        "--config",
        "fast",
        "--data",
        str(training_data),
        "--name",
        "pre",
        "--pretrained",
        str(weights),
        "--training.max_steps",
        "5",
    )
    assert "pre-001" in out
    meta = json.loads((ws.models_dir / "pre-001" / "meta.json").read_text())["treffpunkt"]
    assert meta["pretrained"] == str(weights.resolve())
    out = _cli(
        ws, "train-curve", "--data", str(training_data), "--training.max_steps", "6", "--training.eval_frequency", "3"
    )
    assert "Last segment" in out
    assert list((ws.root / "curves").glob("*.png"))
    out = _cli(ws, "models", "list")
    assert "Learning curves" in out and "cli-001" in out


def test_train_cli_error_is_clean(ws, tmp_path):
    from treffpunkt.cli import app

    result = CliRunner().invoke(app, ["--home", str(ws.root), "train", "--config", "fast", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert "lacks train.spacy" in result.output and "Traceback" not in result.output


def test_train_saves_the_entity_patterns_with_the_model(trained):
    """The ROLE/DATE patterns are read at training and travel inside the version (no patterns folder needed)."""
    _, result = trained
    code = (
        "import json, spacy\n"
        f"nlp = spacy.load({str(result.path)!r})\n"
        "doc = nlp('Die Landeshauptfrau kam am Dienstag.')\n"
        "print(json.dumps({'pipe': nlp.pipe_names, 'ents': [(e.text, e.label_) for e in doc.ents]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["pipe"][:5] == ["tok2vec", "ner", "entity_patterns", "entity_lists", "entity_consistency"]
    assert ["Landeshauptfrau", "ROLE"] in got["ents"] and ["Dienstag", "DATE"] in got["ents"]


def test_train_uses_the_workspace_patterns(ws, training_data):
    import spacy

    folder = ws.configs_dir / "patterns"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jsonl"):  # the copies `init` made of the shipped patterns
        old.unlink()
    (folder / "roles.jsonl").write_text('{"label": "ROLE", "pattern": "Oberzauberer"}\n', encoding="utf-8")
    cue = '{"label": "CONSULT_PHONE", "pattern": [{"LOWER": "telefonierte"}]}\n'
    (folder / "events.jsonl").write_text(cue, encoding="utf-8")
    result = train(ws, config="fast", data=training_data, overrides=QUICK, track=False)
    ruler = spacy.load(result.path).get_pipe("entity_patterns")
    assert [p["pattern"] for p in ruler.patterns] == ["Oberzauberer"]


def test_train_score_is_entities_and_events_only(ws, training_data):
    """The pattern ruler adds no score of its own: a 0-weight column would halve the reported score."""
    import io

    out = io.StringIO()
    train(ws, config="fast", data=training_data, overrides=QUICK, track=False, stdout=out)
    header = next(line for line in out.getvalue().splitlines() if "ENTS_F" in line)
    assert "SPANS_RULER" not in header and "EVENTS_F" in header
