"""Benchmark: our default NER config vs stock spaCy on the German LER corpus, same DocBins, same time budget.

Train on ``ler_test.conll``, evaluate on ``ler_dev.conll`` (both from ../shared/data/ler). Systems:

- ``stock``: ``spacy init config -l de -p ner -o efficiency`` (the reference, measured in the same run);
- ``ours``: configs/default.cfg (event classifier dropped: LER has no events);
- ``ours+pretrain``: the same, tok2vec initialised by ``treffpunkt pretrain``-style character pretraining on
  the gnad news articles (../shared/data/gnad/test.csv), pretraining time reported separately.

Each system trains for the same budget of CPU seconds (``--budget``, process time, so load from other
processes on a shared machine does not skew the comparison; checked after every step, then one final dev
evaluation selects the best checkpoint; run with OMP_NUM_THREADS=1). Reported: entity F1 on ler_dev, training seconds, words/s
of the trained pipeline on ler_dev (mean over shuffled batches with a bootstrap 95 % CI, after warm-up).
Target: ours >= 1.05x stock F1 at <= 1.2x its training time. Results go to bench/results/train_ler.json.

    .venv/bin/python -m bench.train_ler [--budget 150] [--pretrain-budget 120] [--quick]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import bootstrap_ci

REPO = Path(__file__).resolve().parent.parent
LER = REPO.parent / "shared" / "data" / "ler"
GNAD = REPO.parent / "shared" / "data" / "gnad" / "test.csv"
RESULTS = REPO / "bench" / "results" / "train_ler.json"


def read_conll(path: Path, nlp: Any, *, sentences_per_doc: int = 10, limit: int | None = None) -> list[Any]:
    """Two-column IOB2 CoNLL (CRLF tolerated) → Docs of ``sentences_per_doc`` sentences with ents and sentences."""
    from spacy.tokens import Doc
    from spacy.training import biluo_tags_to_spans, iob_to_biluo

    sentences: list[tuple[list[str], list[str]]] = []
    words: list[str] = []
    tags: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            if words:
                sentences.append((words, tags))
                words, tags = [], []
            continue
        word, tag = line.rsplit(" ", 1)
        words.append(word)
        tags.append(tag)
    if words:
        sentences.append((words, tags))
    sentences = sentences[:limit] if limit else sentences
    docs = []
    for i in range(0, len(sentences), sentences_per_doc):
        chunk = sentences[i : i + sentences_per_doc]
        doc = Doc(
            nlp.vocab,
            words=[w for s in chunk for w in s[0]],
            sent_starts=[j == 0 for s in chunk for j in range(len(s[0]))],
        )
        doc.ents = biluo_tags_to_spans(doc, iob_to_biluo([t for s in chunk for t in s[1]]))
        docs.append(doc)
    return docs


def gnad_texts(limit: int | None = None) -> list[str]:
    """The gnad articles' text (``category;'text'`` with ' quoting)."""
    with GNAD.open(encoding="utf-8", newline="") as handle:
        rows = [row[1] for row in csv.reader(handle, delimiter=";", quotechar="'") if len(row) >= 2]
    return rows[:limit] if limit else rows


def stock_config() -> Any:
    from spacy.cli.init_config import init_config

    return init_config(lang="de", pipeline=["ner"], optimize="efficiency", gpu=False)


def ours_config() -> Any:
    from training.config import drop_components, event_components, load_config

    config = load_config(REPO / "configs" / "default.cfg")
    drop_components(config, event_components(config))
    return config


def train_system(config: Any, data: Path, out: Path, *, budget: float, seed: int, init_tok2vec: Path | None = None) -> dict[str, Any]:
    from spacy.training.initialize import init_nlp

    from training.train import run_training

    overrides = {
        "paths": {"train": str(data / "train.spacy"), "dev": str(data / "dev.spacy")},
        "system": {"seed": seed},
        "training": {"max_steps": 0, "max_epochs": 0, "patience": 0, "eval_frequency": 1_000_000},
    }
    for section, values in overrides.items():
        for key, value in values.items():
            config[section][key] = value
    if init_tok2vec is not None:
        config["paths"]["init_tok2vec"] = str(init_tok2vec)
        config["initialize"]["init_tok2vec"] = str(init_tok2vec)
    start = time.perf_counter()
    nlp = init_nlp(config, use_gpu=-1)
    init_seconds = time.perf_counter() - start
    wall = time.perf_counter()
    loop = run_training(nlp, out, max_seconds=budget, stdout=io.StringIO(), clock=time.process_time)
    return {
        "init_seconds": round(init_seconds, 2),
        "train_seconds": round(loop.seconds, 2),  # CPU seconds of this process (the budget's clock)
        "train_wall_seconds": round(time.perf_counter() - wall, 2),
        "steps": loop.steps,
        "dev_score": loop.best_score,
    }


def measure(model_dir: Path, docs: list[Any], *, batches: int = 20, batch_size: int = 32, seed: int = 0) -> dict[str, Any]:
    """Entity P/R/F on all docs, and words/s over shuffled batches (first batch is warm-up)."""
    import spacy

    from training.evaluate import predict_docs, score_ents

    nlp = spacy.load(model_dir)
    predicted, _ = predict_docs(nlp, docs)
    scores = score_ents(list(zip(docs, predicted, strict=True)))
    rng = random.Random(seed)
    texts = [d.text for d in docs]
    list(nlp.pipe(texts[:batch_size]))  # warm-up
    speeds = []
    for _ in range(batches):
        batch = rng.sample(texts, min(batch_size, len(texts)))
        start = time.perf_counter()
        words = sum(len(d) for d in nlp.pipe(batch))
        speeds.append(words / (time.perf_counter() - start))
    return {
        "ents_f": scores["ents_f"],
        "ents_p": scores["ents_p"],
        "ents_r": scores["ents_r"],
        "words_per_second": statistics.fmean(speeds),
        "words_per_second_ci95": list(bootstrap_ci(speeds, seed=seed)),
    }


def pretrain_gnad(config: Any, out: Path, *, budget: float, seed: int) -> dict[str, Any]:
    from training.config import load_config
    from training.pretrain import pretrain_texts

    config = config.merge(load_config(REPO / "configs" / "pretrain.cfg"))
    config["pretraining"]["max_epochs"] = 1000  # the time budget ends it
    texts = gnad_texts()
    start = time.process_time()
    weights = pretrain_texts(config, texts, out, max_seconds=budget, seed=seed, clock=time.process_time)
    return {"weights": weights, "cpu_seconds": round(time.process_time() - start, 2), "articles": len(texts)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=150.0, help="training seconds per system")
    parser.add_argument("--pretrain-budget", type=float, default=120.0, help="pretraining seconds on gnad")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny subset and budgets (smoke run)")
    parser.add_argument("--no-pretrain", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args, _ = parser.parse_known_args(argv)  # `python -m bench train_ler` passes its own argv through
    if args.quick:
        args.budget, args.pretrain_budget = 10.0, 10.0

    import spacy
    from spacy.tokens import DocBin

    limit = 300 if args.quick else None
    nlp = spacy.blank("de")
    train_docs = read_conll(LER / "ler_test.conll", nlp, limit=limit)
    dev_docs = read_conll(LER / "ler_dev.conll", nlp, limit=limit)
    result: dict[str, Any] = {
        "benchmark": "train_ler",
        "data": {
            "train": "ler_test.conll",
            "eval": "ler_dev.conll",
            "train_docs": len(train_docs),
            "train_words": sum(len(d) for d in train_docs),
            "eval_docs": len(dev_docs),
            "eval_words": sum(len(d) for d in dev_docs),
        },
        "budget_seconds": args.budget,
        "spacy": spacy.__version__,
        "systems": {},
    }
    with tempfile.TemporaryDirectory(prefix="train_ler_") as tmp:
        work = Path(tmp)
        DocBin(docs=train_docs).to_disk(work / "train.spacy")
        DocBin(docs=dev_docs).to_disk(work / "dev.spacy")
        systems: list[tuple[str, Any, Path | None]] = [("stock", stock_config(), None), ("ours", ours_config(), None)]
        if not args.no_pretrain:
            pre = pretrain_gnad(ours_config(), work / "pretrain", budget=args.pretrain_budget, seed=args.seed)
            result["pretrain"] = {k: v for k, v in pre.items() if k != "weights"}
            systems.append(("ours+pretrain", ours_config(), Path(pre["weights"])))
        for name, config, weights in systems:
            print(f"[train_ler] training {name} for {args.budget:.0f} s ...", file=sys.stderr, flush=True)
            info = train_system(config, work, work / name, budget=args.budget, seed=args.seed, init_tok2vec=weights)
            info.update(measure(work / name / "model-best", dev_docs))
            result["systems"][name] = info
            print(f"[train_ler] {name}: F1 {info['ents_f']:.4f}, {info['train_seconds']:.0f} s, {info['words_per_second']:.0f} words/s", file=sys.stderr, flush=True)
    stock = result["systems"]["stock"]
    for name, info in result["systems"].items():
        info["f1_ratio_vs_stock"] = info["ents_f"] / stock["ents_f"] if stock["ents_f"] else None
        info["time_ratio_vs_stock"] = info["train_seconds"] / stock["train_seconds"] if stock["train_seconds"] else None
    ours = result["systems"]["ours"]
    result["target"] = {"f1_ratio_min": 1.05, "time_ratio_max": 1.2, "met_by_ours": bool(ours["f1_ratio_vs_stock"] and ours["f1_ratio_vs_stock"] >= 1.05 and ours["time_ratio_vs_stock"] <= 1.2)}
    if "ours+pretrain" in result["systems"]:
        p = result["systems"]["ours+pretrain"]
        result["target"]["met_by_ours+pretrain"] = bool(p["f1_ratio_vs_stock"] >= 1.05 and p["time_ratio_vs_stock"] <= 1.2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
