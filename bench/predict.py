"""Benchmark: words/s of ``treffpunkt predict`` against raw ``nlp.pipe`` of the same model, measured in one run.

Data: the gnad news articles (../shared/data/gnad/test.csv), read and cleaned by the corpus ingestion code
(cleaning is not timed: it is a separate stage). Systems, each timed end to end on the same shuffled articles:

- ``raw``: ``for doc in nlp.pipe(texts, batch_size=B)`` — the reference;
- ``predict-p1``: :func:`treffpunkt.training.predict.batch.predict` in this process (records, roles, dates, sharded atomic output);
- ``predict-p2``: the same with 2 worker processes (worker start + model load per worker included);
- ``dask-w1`` / ``dask-w2``: the same on a loopback ``LocalCluster`` with 1 / 2 worker processes (cluster start
  excluded; model shipping and loading on the workers included).

Each system runs after a warm-up, ``--repeats`` times on a fresh shuffle; reported: mean words/s (spaCy tokens)
with a bootstrap 95 % CI, and each system's ratio to ``raw``. Target: predict-p1 >= 0.9x raw.
``--model DIR`` picks a model version; without it a real one is trained first (``configs/default.cfg`` for
``--train-seconds`` on the gold news corpus's train split: spaCy NER, scikit-learn events with cues, roles), and
``--test-pipeline`` uses the keyword test pipeline instead (tests/training/predict/predict_pipeline.py); the JSON
says which. Results: bench/results/predict.json.

    .venv/bin/python -m bench.predict [--model DIR] [--limit 300] [--repeats 3] [--batch-size 64]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
GNAD = REPO.parent / "shared" / "data" / "gnad" / "test.csv"
RESULTS = REPO / "bench" / "results" / "predict.json"
TEST_PIPELINE = REPO / "tests" / "training" / "predict" / "predict_pipeline.py"


def bootstrap_ci(values: list[float], *, rounds: int = 2000, seed: int = 0) -> tuple[float, float]:
    rng = random.Random(seed)
    means = sorted(statistics.fmean(rng.choices(values, k=len(values))) for _ in range(rounds))
    return means[int(0.025 * rounds)], means[int(0.975 * rounds) - 1]


def summary(rates: list[float], words: int) -> dict[str, Any]:
    low, high = bootstrap_ci(rates)
    return {
        "words_per_s": round(statistics.fmean(rates), 1),
        "ci95": [round(low, 1), round(high, 1)],
        "runs": [round(r, 1) for r in rates],
        "words": words,
    }


def load_articles(limit: int | None) -> list[dict[str, Any]]:
    from treffpunkt.annotation.ingest.corpus import IngestOptions, articles_from_paths

    articles, report = articles_from_paths([GNAD], options=IngestOptions(languages=None, progress=False))
    rows = [{"id": a.id, "text": a.text, "published": a.published} for a in articles]
    return rows[:limit] if limit else rows


def _train_real_model(tmp: Path, seconds: float) -> Path:
    """A real model version: configs/default.cfg trained on the gold news corpus's train split."""
    import io

    from treffpunkt.annotation.convert.docs import convert_export
    from treffpunkt.core.schema import load_schema
    from treffpunkt.core.workspace import init_workspace
    from treffpunkt.demo.news import news_dir
    from treffpunkt.training.train.trainer import train

    ws = init_workspace(tmp / "ws")
    convert_export(news_dir() / "export.json", schema=load_schema(ws.schema_path), out_dir=tmp / "news")
    result = train(ws, data=tmp / "news", name="bench_predict", max_seconds=seconds, track=False, stdout=io.StringIO())
    return result.path


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from treffpunkt.training.predict.batch import DEFAULT_SHARD_SIZE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument(
        "--train-seconds", type=float, default=180.0, help="budget of the model trained without --model"
    )
    parser.add_argument("--test-pipeline", action="store_true", help="time the keyword test pipeline instead")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N articles")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--shard-size", type=int, default=DEFAULT_SHARD_SIZE, help="as `treffpunkt predict`")
    parser.add_argument("--systems", default="raw,predict-p1,predict-p2,dask-w1,dask-w2")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    import spacy
    from spacy.util import import_file

    from treffpunkt.core.io import write_json
    from treffpunkt.core.resources import default_config
    from treffpunkt.core.schema import load_schema
    from treffpunkt.training.pipeline.roles import load_roles_config
    from treffpunkt.training.predict.batch import ModelSpec, predict

    tmp = Path(tempfile.mkdtemp(prefix="bench-predict-"))
    code = None
    if args.test_pipeline:
        pipeline = import_file("treffpunkt_predict_code", str(TEST_PIPELINE))
        model, kind, code = (
            pipeline.build(tmp / "keywords-001"),
            "test pipeline (tests/training/predict/predict_pipeline.py: sentencizer + entity_ruler + keyword events)",
            str(TEST_PIPELINE),
        )
    elif args.model is None:
        model = _train_real_model(tmp, args.train_seconds)
        kind = f"default.cfg trained {args.train_seconds:.0f} s on the gold news train split ({model.name})"
    else:
        model, kind = args.model.resolve(), f"trained model version {args.model.name}"
    schema = load_schema(default_config("schema.yaml"))
    spec = ModelSpec(
        str(model),
        Path(model).name,
        schema,
        load_roles_config(default_config("roles.yaml"), schema),
        batch_size=args.batch_size,
        code=code,
    )
    articles = load_articles(args.limit)
    nlp = spacy.load(model)
    list(nlp.pipe((a["text"] for a in articles[:20]), batch_size=args.batch_size))  # warm-up
    predict(spec, articles[:20], tmp / "warmup", shard_size=args.shard_size)  # warm-up: model cache, dateparser

    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    clusters = {}
    if any(s.startswith("dask-w") for s in systems):
        from distributed import LocalCluster

        for system in (s for s in systems if s.startswith("dask-w")):
            clusters[system] = LocalCluster(
                n_workers=int(system[-1]),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
    rates: dict[str, list[float]] = {s: [] for s in systems}
    words: dict[str, int] = {}
    rng = random.Random(0)
    try:
        # interleaved: every repeat runs every system on the same fresh shuffle, so load drift hits all alike
        for run in range(args.repeats):
            order = articles[:]
            rng.shuffle(order)
            for system in systems:
                start = time.perf_counter()
                if system == "raw":
                    words[system] = sum(
                        len(doc) for doc in nlp.pipe((a["text"] for a in order), batch_size=args.batch_size)
                    )
                else:
                    processes = int(system[-1]) if system.startswith("predict-p") else 1
                    cluster = clusters.get(system)
                    result = predict(
                        spec,
                        order,
                        tmp / f"{system}-{run}",
                        shard_size=args.shard_size,
                        processes=processes,
                        dask_address=cluster.scheduler_address if cluster else None,
                    )
                    words[system] = result.words
                rates[system].append(words[system] / (time.perf_counter() - start))
                print(f"{system} run {run}: {rates[system][-1]:,.0f} words/s", file=sys.stderr)
    finally:
        for cluster in clusters.values():
            cluster.close()
    results: dict[str, Any] = {system: summary(rates[system], words[system]) for system in systems}
    raw = results.get("raw", {}).get("words_per_s")
    for _name, value in results.items():
        value["x_raw"] = round(value["words_per_s"] / raw, 3) if raw else None
    import os

    report = {
        "benchmark": "predict vs raw nlp.pipe",
        "model": kind,
        "data": str(GNAD),
        "articles": len(articles),
        "batch_size": args.batch_size,
        "shard_size": args.shard_size,
        "repeats": args.repeats,
        "cpus": len(os.sched_getaffinity(0)),
        "load_average": os.getloadavg(),
        "results": results,
        "target": "predict-p1 >= 0.9x raw",
        "target_met": bool(raw and results.get("predict-p1", {}).get("x_raw", 0) >= 0.9),
        "note": "words = spaCy tokens; process and Dask rows include worker start and model load in their wall time",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, report)
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
