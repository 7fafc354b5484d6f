"""Batch prediction: sharded, atomic, resumable output; identical records with processes and on Dask."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spacy.util import import_file

from treffpunkt.core.resources import default_config
from treffpunkt.core.schema import load_schema
from treffpunkt.training.pipeline.roles import load_roles_config
from treffpunkt.training.predict.batch import ModelSpec, predict, read_records

PIPELINE = Path(__file__).resolve().parent / "predict_pipeline.py"
SEEDS = Path(__file__).resolve().parents[3] / "corpus" / "seeds"


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> ModelSpec:
    pipeline = import_file("treffpunkt_predict_code", str(PIPELINE))  # the same module name workers use
    model = pipeline.build(tmp_path_factory.mktemp("model") / "keywords-001")
    schema = load_schema(default_config("schema.yaml"))
    return ModelSpec(
        str(model),
        "keywords-001",
        schema,
        load_roles_config(default_config("roles.yaml"), schema),
        batch_size=8,
        code=str(PIPELINE),
    )


@pytest.fixture(scope="module")
def articles() -> list[dict]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    # 5 seeds × 5 variants: enough articles for several shards
    return [
        {"id": f"a{i:03d}-{k}", "text": text, "published": f"2022-01-{10 + k:02d}"}
        for k in range(5)
        for i, text in enumerate(texts)
    ]


def test_predict_shards_and_records(tmp_path: Path, spec: ModelSpec, articles: list[dict]) -> None:
    result = predict(spec, articles, tmp_path / "out", shard_size=4)
    shards = sorted(p.name for p in (tmp_path / "out").glob("shard-*.jsonl"))
    assert shards == [f"shard-{i:05d}.jsonl" for i in range(7)] == result.shards_written
    records = read_records(tmp_path / "out")
    assert len(records) == result.events > 0 and result.articles == len(articles)
    assert {r["model_version"] for r in records} == {"keywords-001"}
    assert {r["article_id"] for r in records} <= {a["id"] for a in articles}
    text = {a["id"]: a["text"] for a in articles}
    for record in records:
        assert (
            text[record["article_id"]][record["evidence"]["start"] : record["evidence"]["end"]]
            == record["evidence"]["text"]
        )
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert sum(s["events"] for s in manifest["shards"].values()) == len(records)
    assert not list((tmp_path / "out").glob(".*.tmp"))  # atomic writes leave no temp files


def test_predict_rerun_skips_finished_shards(tmp_path: Path, spec: ModelSpec, articles: list[dict]) -> None:
    out = tmp_path / "out"
    predict(spec, articles, out, shard_size=4)
    before = {p.name: p.read_bytes() for p in out.glob("shard-*.jsonl")}
    (out / "shard-00002.jsonl").unlink()  # an interrupted run: one shard missing
    (out / "shard-00005.jsonl").write_text("garbage\n")  # and one damaged
    result = predict(spec, articles, out, shard_size=4)
    assert result.shards_written == ["shard-00002.jsonl", "shard-00005.jsonl"]
    assert len(result.shards_skipped) == 5
    assert {p.name: p.read_bytes() for p in out.glob("shard-*.jsonl")} == before
    assert predict(spec, articles, out, shard_size=4).shards_written == []


def test_predict_changed_input_and_stale_shards(tmp_path: Path, spec: ModelSpec, articles: list[dict]) -> None:
    out = tmp_path / "out"
    predict(spec, articles, out, shard_size=4)
    changed = [dict(a) for a in articles[:12]]
    changed[5]["published"] = "2021-06-01"
    result = predict(spec, changed, out, shard_size=4)
    assert result.shards_written == ["shard-00001.jsonl"] and result.shards_skipped == [
        "shard-00000.jsonl",
        "shard-00002.jsonl",
    ]
    assert result.stale_removed == [f"shard-{i:05d}.jsonl" for i in range(3, 7)]
    assert {r["article_id"] for r in read_records(out)} <= {a["id"] for a in changed}


def test_predict_single_file_output(tmp_path: Path, spec: ModelSpec, articles: list[dict]) -> None:
    predict(spec, articles, tmp_path / "dir", shard_size=4)
    predict(spec, articles, tmp_path / "events.jsonl", shard_size=4)
    assert read_records(tmp_path / "events.jsonl") == read_records(tmp_path / "dir")


@pytest.mark.slow
def test_predict_two_processes_identical(tmp_path: Path, spec: ModelSpec, articles: list[dict]) -> None:
    one = predict(spec, articles, tmp_path / "one", shard_size=3)
    two = predict(spec, articles, tmp_path / "two", shard_size=3, processes=2)
    assert sorted(two.shards_written) == sorted(one.shards_written)
    assert read_records(tmp_path / "two") == read_records(tmp_path / "one")


@pytest.mark.slow
def test_predict_dask_local_cluster_identical(tmp_path: Path, spec: ModelSpec, articles: list[dict]) -> None:
    from distributed import LocalCluster

    predict(spec, articles, tmp_path / "local", shard_size=3)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        result = predict(spec, articles, tmp_path / "dask", shard_size=3, dask_address=cluster.scheduler_address)
    assert len(result.shards_written) == 9
    assert read_records(tmp_path / "dask") == read_records(tmp_path / "local")


def test_predict_cli_on_seed_files_and_corpus(tmp_path: Path, spec: ModelSpec) -> None:
    import shutil

    from typer.testing import CliRunner

    from treffpunkt.cli import app
    from treffpunkt.core.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")
    shutil.copytree(spec.path, ws.models_dir / "keywords-001")
    runner = CliRunner()
    args = [
        "predict",
        "keywords",
        str(SEEDS),
        "--out",
        str(tmp_path / "seeds.jsonl"),
        "--code",
        str(PIPELINE),
        "--shard-size",
        "2",
    ]
    result = runner.invoke(app, args, env={"TREFFPUNKT_HOME": str(ws.root)})
    assert result.exit_code == 0, result.output
    assert "keywords-001" in result.output and "3 written" in result.output
    records = read_records(tmp_path / "seeds.jsonl")
    assert {r["type"] for r in records} >= {"CONSULT", "MEET_REJECT"}
    assert (tmp_path / "seeds.jsonl.ingest.json").exists()
    again = runner.invoke(app, args, env={"TREFFPUNKT_HOME": str(ws.root)})
    assert "0 written, 3 already done" in again.output
    # `corpus` reads the workspace corpus
    from treffpunkt.annotation.ingest.corpus import add

    add(ws, [SEEDS])
    result = runner.invoke(
        app, ["predict", "keywords-001", "corpus", "--code", str(PIPELINE)], env={"TREFFPUNKT_HOME": str(ws.root)}
    )
    assert result.exit_code == 0, result.output
    assert sorted(r["event_id"] for r in read_records(ws.root / "predictions" / "keywords-001")) == sorted(
        r["event_id"] for r in records
    )


@pytest.fixture(scope="module")
def seed_model(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """A model version trained (fast config) on all five gold seeds, with its role classifier."""
    import spacy
    from spacy.tokens import DocBin

    from treffpunkt.annotation.convert.docs import convert_export
    from treffpunkt.core.workspace import init_workspace
    from treffpunkt.training.train.trainer import train

    root = tmp_path_factory.mktemp("seeds")
    ws = init_workspace(root / "ws")
    schema = load_schema(ws.schema_path)
    convert_export(SEEDS.parent / "gold" / "seeds.json", schema=schema, out_dir=root / "converted")
    vocab = spacy.blank("de").vocab
    docs = [
        d
        for name in ("train.spacy", "dev.spacy", "test.spacy")
        if (root / "converted" / name).exists()
        for d in DocBin().from_disk(root / "converted" / name).get_docs(vocab)
    ]
    data = root / "all"
    data.mkdir()
    for name in ("train.spacy", "dev.spacy"):
        DocBin(docs=docs, store_user_data=True).to_disk(data / name)
    trained = train(
        ws,
        config="fast",
        data=data,
        name="seeds",
        track=False,
        overrides={"training.max_steps": 300, "training.eval_frequency": 100},
    )
    roles = trained.meta["treffpunkt"]["roles"]  # train fits the role classifier on train.spacy's relations
    return ws, trained, roles, docs


def _args(record: dict) -> set[str]:
    return {a["text"] for a in (*record["actors"], *record["recipients"])}


@pytest.mark.slow
def test_predict_seed_events_acceptance(tmp_path: Path, seed_model: tuple) -> None:
    """Smoke test, not a quality claim: the model is trained and applied on the same five seed articles.

    Raw seed files → `predict` must yield at least the events the guidelines name, with roles and dates.
    """
    from treffpunkt.cli.predict import predict_inputs
    from treffpunkt.training.pipeline.roles import pairs_for_doc, role_assigner, score_roles

    ws, trained, roles, docs = seed_model
    assert roles["kind"] == "classifier" and (trained.path / roles["file"]).exists()
    run = predict_inputs(ws, trained.version, [str(SEEDS)], out=tmp_path / "seeds.jsonl")
    records = read_records(tmp_path / "seeds.jsonl")
    assert run.result.articles == 5 and records
    assert {r["model_version"] for r in records} == {trained.version}

    phone = [
        r for r in records if r["mode"] == "phone" and {"Gerassimow", "Pavel"} <= {t.split()[-1] for t in _args(r)}
    ]
    assert phone, "phone call Gerassimow–Pavel"
    council = [
        r for r in records if r["mode"] == "multilateral" and r["location"] and r["location"]["text"] == "Brüssel"
    ]
    assert council, "NATO-Russia Council session in Brussels"
    invitation = [
        r for r in records if r["type"] in ("MEET_INTENT", "MEET_REQUEST") and any("Stoltenberg" in t for t in _args(r))
    ]
    assert invitation, "Stoltenberg's invitation"
    baku = [
        r
        for r in records
        if r["type"] == "CONSULT"
        and r["location"]
        and r["location"]["text"] == "Baku"
        and {"Dunford", "Gerasimow"} <= {t.split()[-1] for t in _args(r)}
    ]
    assert baku, "Dunford–Gerasimov meeting in Baku"
    # dates: the Baku meeting "am Donnerstag" is resolved against the article's publication date
    assert baku[0]["date"]["granularity"] == "day" and baku[0]["date"]["source"] in ("role", "sentence")
    assert any(r["date"]["iso"] == "2014-04" for r in records)  # "im April 2014"

    # the trained role classifier on gold events: role-level P/R/F as evaluate reports it
    assigner = role_assigner(trained.path, load_schema(ws.schema_path), load_roles_config(ws.config_path("roles.yaml")))
    scores = score_roles(docs, [pairs_for_doc(d, assigner) for d in docs])
    assert scores["micro"]["f"] > 0.5


@pytest.mark.slow
def test_predict_uses_the_versions_role_classifier_else_the_heuristic(spec: ModelSpec, seed_model: tuple) -> None:
    """`predict` builds records with the role classifier `train` saved in the version, the heuristic otherwise."""
    from dataclasses import replace

    from treffpunkt.training.pipeline.roles import RoleModel
    from treffpunkt.training.predict.batch import _Context

    ws, trained, _, docs = seed_model
    with_roles = _Context(replace(spec, path=str(trained.path), model_version=trained.version, code=None))
    assert isinstance(with_roles.builder.roles, RoleModel) and with_roles.builder.roles.kind == "classifier"
    assert _Context(spec).builder.roles.kind == "heuristic"  # the keywords model has no roles.joblib
    # the records' roles are the classifier's: same assignment as calling it directly on the predicted doc
    doc = with_roles.nlp(docs[0].text)
    records = with_roles.builder.records(doc, "x", None)
    direct = with_roles.builder.roles.assign_doc(doc, list(doc.spans["events"]))
    from_records = [
        sorted((a["start"], a["role"]) for a in (*r["actors"], *r["recipients"], *r["others"])) for r in records
    ]
    expected = [
        sorted((e.start_char, role) for e, role in pairs if role not in ("location", "time")) for pairs in direct
    ]
    assert records and from_records == expected
