"""The ML backend: ``/predict`` latency against calling the pipeline directly, and one retrain's wall time.

``python -m bench serve [--budget S] [--repeat N]``. In one run, on a real model version (the fast config trained
for ``--budget`` seconds on the gold news corpus's train split) and gold news test texts:

- latency p50/p95 of ``POST /predict`` with 1 task and with a batch of 10 tasks (uvicorn, real HTTP on 127.0.0.1)
  vs ``ServedModel.predict`` on the same texts in the same process (the direct call: pipeline + regions + roles).
  Target: HTTP p50 ≤ 1.3x the direct p50.
- one retrain on the demo corpus (the five gold seed articles imported into a real Label Studio): pull, convert,
  train the configured config (serve.yaml: fast, its budget), compare on the test split, decide; wall time.
Results: bench/results/serve.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import write_result
from treffpunkt.annotation.convert.docs import convert_export
from treffpunkt.annotation.labelstudio import server as studio_mod
from treffpunkt.annotation.labelstudio.client import connect
from treffpunkt.annotation.labelstudio.project import setup
from treffpunkt.annotation.labelstudio.push import import_gold
from treffpunkt.core.resources import demo_corpus
from treffpunkt.core.schema import load_schema
from treffpunkt.core.workspace import init_workspace
from treffpunkt.demo.news import news_dir
from treffpunkt.serve.config import load_serve_config
from treffpunkt.serve.model import ModelSlot, ServedModel
from treffpunkt.serve.retrain import Job, Retrainer
from treffpunkt.serve.server import serve_in_thread
from treffpunkt.training.evaluation.evaluate import read_docbin
from treffpunkt.training.train.trainer import train


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "n": len(ordered),
    }


def latency(texts: list[str], batch: int, repeat: int, url: str, model: ServedModel) -> dict[str, Any]:
    """Alternate direct and HTTP calls on the same batches, so load on the machine hits both alike."""
    direct, http = [], []
    with httpx.Client(timeout=120) as client:
        for i in range(repeat + 2):
            chunk = [texts[(i * batch + k) % len(texts)] for k in range(batch)]
            tasks = [{"id": k, "data": {"text": t}} for k, t in enumerate(chunk)]
            began = time.perf_counter()
            model.predict(chunk)
            d = time.perf_counter() - began
            began = time.perf_counter()
            response = client.post(f"{url}/predict", json={"tasks": tasks})
            h = time.perf_counter() - began
            assert response.status_code == 200 and len(response.json()["results"]) == batch
            if i >= 2:  # warm-up: first calls load vocab entries and lazy components
                direct.append(d)
                http.append(h)
    out = {"batch": batch, "direct": percentiles(direct), "http": percentiles(http)}
    out["http_vs_direct_p50"] = out["http"]["p50_ms"] / out["direct"]["p50_ms"]
    out["http_vs_direct_p95"] = out["http"]["p95_ms"] / out["direct"]["p95_ms"]
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench serve")
    parser.add_argument("--budget", type=float, default=90.0, help="Training seconds for the served model.")
    parser.add_argument("--repeat", type=int, default=40, help="Timed calls per batch size.")
    args = parser.parse_args(argv or [])
    os.environ.setdefault("WANDB_MODE", "disabled")
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        schema = load_schema(ws.schema_path)
        data = Path(tmp) / "news"
        convert_export(news_dir() / "export.json", schema=schema, out_dir=data)
        trained = train(ws, config="fast", data=data, name="bench", max_seconds=args.budget, track=False)
        model = ServedModel.load(ws, trained.version)
        texts = [d.text for d in read_docbin(data / "test.spacy", model.nlp.vocab)]
        backend = serve_in_thread(ws, trained.version)
        try:
            result["model"] = {"version": trained.version, "config": "fast", "budget_s": args.budget}
            result["latency"] = [latency(texts, batch, args.repeat, backend.url, model) for batch in (1, 10)]
        finally:
            backend.stop()
        for row in result["latency"]:
            print(f"batch {row['batch']}: direct p50 {row['direct']['p50_ms']:.0f} ms, HTTP p50 "
                  f"{row['http']['p50_ms']:.0f} ms ({row['http_vs_direct_p50']:.2f}x), p95 "
                  f"{row['http_vs_direct_p95']:.2f}x")  # fmt: skip

        # --- one retrain against a real Label Studio holding the five gold seed articles
        studio_ws = init_workspace(Path(tmp) / "studio-ws")
        studio_mod.start(studio_ws, port=0, timeout=400)
        try:
            os.environ.pop("LABEL_STUDIO_URL", None)
            setup(studio_ws)
            import_gold(studio_ws, demo_corpus() / "gold" / "seeds.json", studio=connect(studio_ws))
            retrainer = Retrainer(studio_ws, ModelSlot(model), load_serve_config(studio_ws))
            began = time.perf_counter()
            job = retrainer.run(Job(id=1, trigger="bench"))
            seconds = time.perf_counter() - began
            result["retrain"] = {
                "corpus": "demo (5 gold seed articles)",
                "config": retrainer.config.retrain.config,
                "training_budget_s": retrainer.config.retrain.max_seconds,
                "wall_s": seconds,
                "state": job.state,
                "reason": job.reason,
                "scores": job.scores,
            }
            print(f"retrain: {seconds:.0f} s wall, {job.state} ({job.reason})")
        finally:
            studio_mod.stop(studio_ws)
    print(write_result("serve", result))
