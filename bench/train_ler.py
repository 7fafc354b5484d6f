"""Benchmark: our default NER config vs stock spaCy on the German LER corpus, same DocBins, same time budget.

Train on ``ler_test.conll``, evaluate on ``ler_dev.conll`` (both from ../shared/data/ler). Systems:

- ``stock``: ``spacy init config -l de -p ner -o efficiency`` (the reference, measured in the same run);
- ``ours``: configs/default.cfg (event classifier dropped: LER has no events);
- ``ours+pretrain``: the same, tok2vec initialised by ``treffpunkt pretrain``-style character pretraining on
  the gnad news articles (../shared/data/gnad/test.csv), pretraining time reported separately.

Each system trains for the same budget of CPU seconds (``--budget``, process time, so load from other
processes on a shared machine does not skew the comparison; checked after every step, then one final dev
evaluation selects the best checkpoint; one thread per process). Systems train side by side in ``--jobs``
worker processes (fair, as each budget is its own process's CPU time). Reported: entity F1 on ler_dev, training seconds, words/s
of the trained pipeline on ler_dev (mean over shuffled batches with a bootstrap 95 % CI, after warm-up).
Target (the "models that beat strong baselines" issue): ours >= 1.1x stock F1 at <= 1.2x its training time.
Results go to bench/results/train_ler.json (`--out` for another file, e.g. per seed).

    .venv/bin/python -m bench.train_ler [--budget 150] [--pretrain-budget 120] [--jobs 3] [--seed 0] [--speed-batches 20] [--no-pretrain] [--quick]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
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


def ours_config(entity_labels: Sequence[str] = ()) -> Any:
    """configs/default.cfg without its event classifier; entity patterns only for the data's ``entity_labels``."""
    from treffpunkt.training.train.config import drop_components, event_components, load_config, set_entity_patterns

    config = load_config(REPO / "configs" / "default.cfg")
    drop_components(config, event_components(config))
    set_entity_patterns(config, entity_labels)
    return config


def train_system(
    config: Any, data: Path, out: Path, *, budget: float, seed: int, init_tok2vec: Path | None = None
) -> dict[str, Any]:
    from spacy.training.initialize import init_nlp

    from treffpunkt.training.train.trainer import run_training

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
    if init_tok2vec is not None and nlp.get_pipe("tok2vec").model.to_bytes() != init_tok2vec.read_bytes():
        # spaCy skips init_tok2vec without a [pretraining] block (component/layer): never report such a run as pretrained
        raise RuntimeError(f"The pretrained weights {init_tok2vec} did not load into the tok2vec.")
    wall = time.perf_counter()
    loop = run_training(nlp, out, max_seconds=budget, stdout=io.StringIO(), clock=time.process_time)
    return {
        "init_seconds": round(init_seconds, 2),
        "train_seconds": round(loop.seconds, 2),  # CPU seconds of this process (the budget's clock)
        "train_wall_seconds": round(time.perf_counter() - wall, 2),
        "steps": loop.steps,
        "dev_score": loop.best_score,
    }


def entity_scores(model_dir: Path, docs: list[Any]) -> dict[str, Any]:
    """Entity P/R/F of the pipeline in ``model_dir`` on all ``docs``."""
    import spacy

    from treffpunkt.training.evaluation.evaluate import predict_docs, score_ents

    predicted, _ = predict_docs(spacy.load(model_dir), docs)
    scores = score_ents(list(zip(docs, predicted, strict=True)))
    return {"ents_f": scores["ents_f"], "ents_p": scores["ents_p"], "ents_r": scores["ents_r"]}


def speeds(
    model_dirs: dict[str, Path], docs: list[Any], *, batches: int = 20, batch_size: int = 32, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """Words/s of each system over shuffled batches (first batch is warm-up).

    The systems' batches are interleaved (same batch, systems in a shuffled order each round), so load from other
    processes on a shared machine hits every system alike.
    """
    import spacy

    pipelines = {name: spacy.load(path) for name, path in model_dirs.items()}
    rng = random.Random(seed)
    texts = [d.text for d in docs]
    values: dict[str, list[float]] = {name: [] for name in pipelines}
    for nlp in pipelines.values():
        list(nlp.pipe(texts[:batch_size]))  # warm-up
    for _ in range(batches):
        batch = rng.sample(texts, min(batch_size, len(texts)))
        for name in rng.sample(list(pipelines), len(pipelines)):
            start = time.perf_counter()
            words = sum(len(d) for d in pipelines[name].pipe(batch))
            values[name].append(words / (time.perf_counter() - start))
    return {
        name: {"words_per_second": statistics.fmean(v), "words_per_second_ci95": list(bootstrap_ci(v, seed=seed))}
        for name, v in values.items()
    }


def _train_job(
    name: str, config_text: str, work: Path, budget: float, seed: int, weights: Path | None
) -> dict[str, Any]:
    """One system's training and dev F1, in a worker process (the config travels as text)."""
    import spacy
    from confection import Config
    from spacy.tokens import DocBin

    config = Config().from_str(config_text, interpolate=False)
    print(f"[train_ler] training {name} for {budget:.0f} CPU s ...", file=sys.stderr, flush=True)
    info = train_system(config, work, work / name, budget=budget, seed=seed, init_tok2vec=weights)
    dev_docs = list(DocBin().from_disk(work / "dev.spacy").get_docs(spacy.blank("de").vocab))
    info.update(entity_scores(work / name / "model-best", dev_docs))
    print(
        f"[train_ler] {name}: F1 {info['ents_f']:.4f} after {info['train_seconds']:.0f} CPU s, {info['steps']} steps",
        file=sys.stderr,
        flush=True,
    )
    return info


def _pretrain_job(config_text: str, out: Path, budget: float, seed: int) -> dict[str, Any]:
    from confection import Config

    print(f"[train_ler] pretraining on gnad for {budget:.0f} CPU s ...", file=sys.stderr, flush=True)
    return pretrain_gnad(Config().from_str(config_text, interpolate=False), out, budget=budget, seed=seed)


def pretrain_gnad(config: Any, out: Path, *, budget: float, seed: int) -> dict[str, Any]:
    from treffpunkt.training.train.config import load_config
    from treffpunkt.training.train.pretrain import pretrain_texts

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
    parser.add_argument("--jobs", type=int, default=min(3, os.cpu_count() or 1), help="systems trained side by side")
    parser.add_argument("--speed-batches", type=int, default=20, help="timed batches per system for words/s")
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
    # Systems train in parallel worker processes (--jobs): each budget is the worker's own CPU time, so running
    # side by side is fair; one thread per process keeps it so (BLAS threads would count towards the budget).
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    result["jobs"] = args.jobs
    labels = sorted({e.label_ for d in train_docs for e in d.ents})  # LER's own: the ROLE/DATE patterns stay out
    with (
        tempfile.TemporaryDirectory(prefix="train_ler_") as tmp,
        ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool,
    ):
        work = Path(tmp)
        DocBin(docs=train_docs).to_disk(work / "train.spacy")
        DocBin(docs=dev_docs).to_disk(work / "dev.spacy")
        jobs = {
            name: pool.submit(_train_job, name, config.to_str(), work, args.budget, args.seed, None)
            for name, config in (("stock", stock_config()), ("ours", ours_config(labels)))
        }
        if not args.no_pretrain:
            pre = pool.submit(
                _pretrain_job, ours_config(labels).to_str(), work / "pretrain", args.pretrain_budget, args.seed
            ).result()
            result["pretrain"] = {k: v for k, v in pre.items() if k != "weights"}
            jobs["ours+pretrain"] = pool.submit(
                _train_job,
                "ours+pretrain",
                ours_config(labels).to_str(),
                work,
                args.budget,
                args.seed,
                Path(pre["weights"]),
            )
        for name, job in jobs.items():
            result["systems"][name] = job.result()
        if "ours+pretrain" in result["systems"]:  # pretraining is a one-off per corpus, but it is CPU time too
            info = result["systems"]["ours+pretrain"]
            info["train_seconds_incl_pretrain"] = round(info["train_seconds"] + result["pretrain"]["cpu_seconds"], 2)
        print("[train_ler] measuring words/s on ler_dev ...", file=sys.stderr, flush=True)
        rates = speeds(
            {name: work / name / "model-best" for name in jobs}, dev_docs, batches=args.speed_batches, seed=args.seed
        )
        for name, info in result["systems"].items():
            info.update(rates[name])
            print(
                f"[train_ler] {name}: F1 {info['ents_f']:.4f}, {info['train_seconds']:.0f} s, {info['words_per_second']:.0f} words/s",
                file=sys.stderr,
                flush=True,
            )
    stock = result["systems"]["stock"]
    for info in result["systems"].values():
        info["f1_ratio_vs_stock"] = info["ents_f"] / stock["ents_f"] if stock["ents_f"] else None
        info["time_ratio_vs_stock"] = info["train_seconds"] / stock["train_seconds"] if stock["train_seconds"] else None
    ours = result["systems"]["ours"]
    result["target"] = {
        "f1_ratio_min": 1.1,
        "time_ratio_max": 1.2,
        "met_by_ours": bool(
            ours["f1_ratio_vs_stock"] and ours["f1_ratio_vs_stock"] >= 1.1 and ours["time_ratio_vs_stock"] <= 1.2
        ),
    }
    if "ours+pretrain" in result["systems"]:
        p = result["systems"]["ours+pretrain"]
        result["target"]["met_by_ours+pretrain"] = bool(
            p["f1_ratio_vs_stock"] >= 1.1 and p["time_ratio_vs_stock"] <= 1.2
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
