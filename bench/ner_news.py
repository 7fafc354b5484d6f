"""Entity F1 of our default config vs stock spaCy on the gold news corpus, same DocBins, same CPU budget.

``python -m bench ner_news [--budget 180] [--seeds 0,1] [--jobs 2]``: both systems train on the gold news train
split (model selection on dev) for the same budget of CPU seconds of their own process, side by side, and are
scored on the frozen test split (entities only; the event classifier is dropped from ours, as stock has none).

- ``stock``: ``spacy init config -l de -p ner -o efficiency``;
- ``ours``: configs/default.cfg without its event classifier.

Target of the "models that beat strong baselines" issue: ours ≥ 1.15x stock F1 at ≤ 1.2x its training CPU time.
LER: ``python -m bench train_ler``. Results: bench/results/ner_news.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bench.common import write_result
from bench.train_ler import entity_scores, ours_config, stock_config, train_system


def _job(name: str, config_text: str, data: Path, out: Path, budget: float, seed: int) -> dict[str, Any]:
    import spacy
    from confection import Config
    from spacy.tokens import DocBin

    print(f"[ner_news] {name} seed {seed}: training {budget:.0f} CPU s ...", file=sys.stderr, flush=True)
    info = train_system(Config().from_str(config_text, interpolate=False), data, out, budget=budget, seed=seed)
    test = list(DocBin().from_disk(data / "test.spacy").get_docs(spacy.blank("de").vocab))
    info.update(entity_scores(out / "model-best", test))
    print(f"[ner_news] {name} seed {seed}: test F1 {info['ents_f']:.4f}", file=sys.stderr, flush=True)
    shutil.rmtree(out, ignore_errors=True)
    return info


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench ner_news")
    parser.add_argument("--budget", type=float, default=180.0, help="CPU seconds of training per system")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv or [])
    from treffpunkt.annotation.convert.docs import convert_export
    from treffpunkt.core.resources import default_config
    from treffpunkt.core.schema import load_schema
    from treffpunkt.demo.news import news_dir

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # each budget is its process's CPU time: no extra BLAS threads
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    result: dict[str, Any] = {"corpus": "gold news (train -> test)", "budget_cpu_s": args.budget, "runs": []}
    with (
        tempfile.TemporaryDirectory(prefix="ner_news_") as tmp,
        ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool,
    ):
        data = Path(tmp) / "data"
        convert_export(news_dir() / "export.json", schema=load_schema(default_config("schema.yaml")), out_dir=data)
        configs = {"stock": stock_config().to_str(), "ours": ours_config().to_str()}
        jobs = {
            (seed, name): pool.submit(_job, name, text, data, Path(tmp) / f"{name}-{seed}", args.budget, seed)
            for seed in seeds
            for name, text in configs.items()
        }
        for seed in seeds:
            stock, ours = jobs[(seed, "stock")].result(), jobs[(seed, "ours")].result()
            ours["f1_ratio_vs_stock"] = ours["ents_f"] / stock["ents_f"] if stock["ents_f"] else None
            ours["time_ratio_vs_stock"] = ours["train_seconds"] / stock["train_seconds"]
            result["runs"].append({"seed": seed, "stock": stock, "ours": ours})
            print(f"seed {seed}: stock F1 {stock['ents_f']:.3f}, ours {ours['ents_f']:.3f} "
                  f"({ours['f1_ratio_vs_stock']:.2f}x at {ours['time_ratio_vs_stock']:.2f}x CPU time)")  # fmt: skip
    result["target"] = {"f1_ratio_min": 1.15, "time_ratio_max": 1.2}
    print(write_result("ner_news", result))
