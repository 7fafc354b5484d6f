"""Any schema works: a GermEval-style schema (12 entity labels, no events, no relations) runs the whole loop,
and configs that do not fit the schema fail before training, never after it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from treffpunkt.annotation.convert.docs import convert_export
from treffpunkt.cli.predict import predict_inputs
from treffpunkt.core.errors import ConfigError
from treffpunkt.core.schema import load_schema
from treffpunkt.core.workspace import init_workspace
from treffpunkt.training.evaluation.evaluate import evaluate
from treffpunkt.training.train.trainer import train

REPO = Path(__file__).resolve().parents[3]
GERMEVAL = [
    "PER",
    "PERderiv",
    "PERpart",
    "ORG",
    "ORGderiv",
    "ORGpart",
    "LOC",
    "LOCderiv",
    "LOCpart",
    "OTH",
    "OTHderiv",
    "OTHpart",
]
NAMES = [("Angela Merkel", "PER"), ("Berlin", "LOC"), ("Siemens", "ORG"), ("deutschen", "LOCderiv")]


def _export(path: Path, n: int = 30) -> Path:
    tasks = []
    for i in range(n):
        text = f"Angela Merkel besuchte am Montag Berlin. Dort traf sie Vertreter von Siemens und der deutschen Wirtschaft. Fall {i}."
        result = [
            {"id": f"r{i}_{j}", "from_name": "entities", "to_name": "text", "type": "labels",
             "value": {"start": text.index(t), "end": text.index(t) + len(t), "text": t, "labels": [label]}}
            for j, (t, label) in enumerate(NAMES)
        ]  # fmt: skip
        tasks.append(
            {
                "id": i + 1,
                "data": {"text": text, "article_id": f"a{i}"},
                "annotations": [{"id": i + 1, "completed_by": 1, "result": result}],
            }
        )
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return path


@pytest.mark.slow
def test_any_schema_germeval_loop_without_events(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    ws = init_workspace(tmp_path / "ws")
    schema_text = (
        "language: de\nentities:\n"
        + "".join(f"  - {{name: {label}}}\n" for label in GERMEVAL)
        + "events: []\nrelations: []\n"
    )
    (ws.configs_dir / "schema.yaml").write_text(schema_text, encoding="utf-8")
    schema = load_schema(ws.schema_path)
    assert schema.entity_labels == GERMEVAL and not schema.events
    converted = convert_export(_export(tmp_path / "export.json"), schema=schema, out_dir=tmp_path / "data")
    assert converted.counts["train"] > 0

    log = io.StringIO()
    # the shipped roles.yaml names DATE and GPE, which this schema lacks: with no events, roles are simply off
    trained = train(
        ws,
        config="fast",
        data=tmp_path / "data",
        name="germ",
        seed=0,
        overrides={"training.max_steps": 30},
        track=False,
        stdout=log,
    )
    assert "Roles: off" in log.getvalue()
    assert trained.meta["treffpunkt"]["roles"]["kind"] == "off"
    assert not (trained.path / "roles.joblib").exists()
    assert set(trained.dev_scores["ents_per_type"]) == set(GERMEVAL)

    evaluated = evaluate(ws, trained.version, data=tmp_path / "data", split="test")
    assert "roles_f" not in evaluated.scores and evaluated.scores["ents_f"] >= 0.0
    assert evaluated.report_path.exists()

    article = tmp_path / "in" / "seed.txt"
    article.parent.mkdir()
    article.write_text(
        (REPO / "corpus" / "seeds" / "000_a2d15fba213d09cb.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    run = predict_inputs(ws, trained.version, [str(article.parent)], out=tmp_path / "events")
    assert run.result.articles == 1 and run.result.events == 0  # no event layer: no event records, no crash


def test_any_schema_roles_config_that_cannot_fit_fails_before_training(tmp_path, monkeypatch):
    # An event schema whose entity labels share nothing with roles.yaml's actor labels: refused up front,
    # before a model version is reserved or a step is trained.
    monkeypatch.setenv("WANDB_MODE", "disabled")
    ws = init_workspace(tmp_path / "ws")
    (ws.configs_dir / "schema.yaml").write_text(
        "language: de\nentities:\n  - {name: PERSON}\nevents:\n  - {name: MEET, type: CONSULT}\nrelations: []\n",
        encoding="utf-8",
    )
    schema = load_schema(ws.schema_path)
    convert_export(_export(tmp_path / "export.json", n=6), schema=schema, out_dir=tmp_path / "data")
    with pytest.raises(ConfigError, match="roles.yaml does not fit the schema"):
        train(ws, config="fast", data=tmp_path / "data", name="bad", track=False, stdout=io.StringIO())
    assert not list(ws.models_dir.iterdir())
