"""Entity F1 of our default config vs stock spaCy on the gold news corpus, same DocBins, same CPU budget.

``python -m bench ner_news [--budget 180] [--seeds 0,1] [--jobs 2] [--no-vectors]``: every system trains on the
gold news train split (model selection on dev) for the same budget of CPU seconds of its own process, side by
side, and is scored on the frozen test split (entities only; the event classifier is dropped from ours, as stock
has none).

- ``stock``: ``spacy init config -l de -p ner -o efficiency``;
- ``ours``: configs/default.cfg without its event classifier (NER, ROLE/DATE patterns, name consistency);
- ``ours+vectors``: the same with floret vectors (configs/vectors.yaml) trained on the 1,028 gnad texts by
  ``treffpunkt vectors``' own function, through ``include_static_vectors``; their CPU time is reported apart.

Target of the "models that beat strong baselines" issue: ours ≥ 1.15x stock F1 at ≤ 1.2x its training CPU time.
LER: ``python -m bench train_ler``. Results: bench/results/ner_news.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bench.common import GNAD_CSV, write_result
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


def train_gnad_vectors(out: Path) -> dict[str, Any]:
    """floret vectors (configs/vectors.yaml) on the gnad texts, with their CPU time (a one-off per corpus).

    The gold dev and test articles are left out, so no text the scores are measured on shaped the vectors.
    """
    from treffpunkt.demo.news import load_gnad, news_dir
    from treffpunkt.training.train.vectors import load_vectors_config, vectors_from_texts

    print("[ner_news] training floret vectors on the gnad texts ...", file=sys.stderr, flush=True)
    start = time.process_time()
    splits = json.loads((news_dir() / "splits.json").read_text(encoding="utf-8"))["splits"]
    texts = [a.text for a in load_gnad(GNAD_CSV) if splits.get(a.id, "train") == "train"]
    made = vectors_from_texts(texts, out, config=load_vectors_config())
    return {"path": str(made.path), "cpu_seconds": round(time.process_time() - start, 2), "texts": made.texts,
            "words": made.words, "rows": made.rows, "dim": made.dim}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench ner_news")
    parser.add_argument("--budget", type=float, default=180.0, help="CPU seconds of training per system")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--no-vectors", dest="vectors", action="store_false", help="skip the ours+vectors system")
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
        labels = load_schema(default_config("schema.yaml")).entity_labels
        configs = {"stock": stock_config().to_str(), "ours": ours_config(labels).to_str()}
        if args.vectors:
            result["vectors"] = train_gnad_vectors(Path(tmp) / "vectors")
            with_vectors = ours_config(labels)
            with_vectors["paths"]["vectors"] = result["vectors"]["path"]
            with_vectors["components"]["tok2vec"]["model"]["embed"]["include_static_vectors"] = True
            configs["ours+vectors"] = with_vectors.to_str()
        jobs = {
            (seed, name): pool.submit(_job, name, text, data, Path(tmp) / f"{name}-{seed}", args.budget, seed)
            for seed in seeds
            for name, text in configs.items()
        }
        for seed in seeds:
            run = {name: jobs[(seed, name)].result() for name in configs}
            stock = run["stock"]
            for name, info in run.items():
                info["f1_ratio_vs_stock"] = info["ents_f"] / stock["ents_f"] if stock["ents_f"] else None
                info["time_ratio_vs_stock"] = info["train_seconds"] / stock["train_seconds"]
                print(f"seed {seed}: {name} F1 {info['ents_f']:.3f} ({info['f1_ratio_vs_stock']:.2f}x stock "
                      f"at {info['time_ratio_vs_stock']:.2f}x CPU time)")  # fmt: skip
            result["runs"].append({"seed": seed, **run})
    result["target"] = {"f1_ratio_min": 1.15, "time_ratio_max": 1.2}
    print(write_result("ner_news", result))
