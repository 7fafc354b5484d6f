"""Batch prediction: sharded, atomic, resumable output; identical records with processes and on Dask."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spacy.util import import_file

from annotation.schema import load_schema
from annotation.workspace import DEFAULT_CONFIGS
from training.predict import ModelSpec, predict, read_records
from training.roles import load_roles_config

PIPELINE = Path(__file__).resolve().parent / "predict_pipeline.py"
SEEDS = Path(__file__).resolve().parent.parent / "corpus" / "seeds"


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> ModelSpec:
    pipeline = import_file("treffpunkt_predict_code", str(PIPELINE))  # the same module name workers use
    model = pipeline.build(tmp_path_factory.mktemp("model") / "keywords-001")
    schema = load_schema(DEFAULT_CONFIGS / "schema.yaml")
    return ModelSpec(str(model), "keywords-001", schema, load_roles_config(DEFAULT_CONFIGS / "roles.yaml", schema), batch_size=8, code=str(PIPELINE))


@pytest.fixture(scope="module")
def articles() -> list[dict]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    # 5 seeds × 5 variants: enough articles for several shards
    return [{"id": f"a{i:03d}-{k}", "text": text, "published": f"2022-01-{10 + k:02d}"} for k in range(5) for i, text in enumerate(texts)]


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
        assert text[record["article_id"]][record["evidence"]["start"] : record["evidence"]["end"]] == record["evidence"]["text"]
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
    assert result.shards_written == ["shard-00001.jsonl"] and result.shards_skipped == ["shard-00000.jsonl", "shard-00002.jsonl"]
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
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        result = predict(spec, articles, tmp_path / "dask", shard_size=3, dask_address=cluster.scheduler_address)
    assert len(result.shards_written) == 9
    assert read_records(tmp_path / "dask") == read_records(tmp_path / "local")


def test_predict_cli_on_seed_files_and_corpus(tmp_path: Path, spec: ModelSpec) -> None:
    import shutil

    import typer
    from typer.testing import CliRunner

    from annotation.workspace import init_workspace
    from training.cli_predict import register

    ws = init_workspace(tmp_path / "ws")
    shutil.copytree(spec.path, ws.models_dir / "keywords-001")
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    runner = CliRunner()
    args = ["predict", "keywords", str(SEEDS), "--out", str(tmp_path / "seeds.jsonl"), "--code", str(PIPELINE), "--shard-size", "2"]
    result = runner.invoke(app, args, env={"TREFFPUNKT_HOME": str(ws.root)})
    assert result.exit_code == 0, result.output
    assert "keywords-001" in result.output and "3 written" in result.output
    records = read_records(tmp_path / "seeds.jsonl")
    assert {r["type"] for r in records} >= {"CONSULT", "MEET_REJECT"}
    assert (tmp_path / "seeds.jsonl.ingest.json").exists()
    again = runner.invoke(app, args, env={"TREFFPUNKT_HOME": str(ws.root)})
    assert "0 written, 3 already done" in again.output
    # `corpus` reads the workspace corpus
    from annotation.corpus import add

    add(ws, [SEEDS])
    result = runner.invoke(app, ["predict", "keywords-001", "corpus", "--code", str(PIPELINE)], env={"TREFFPUNKT_HOME": str(ws.root)})
    assert result.exit_code == 0, result.output
    assert sorted(r["event_id"] for r in read_records(ws.root / "predictions" / "keywords-001")) == sorted(r["event_id"] for r in records)
