"""Cold-start patterns as the baseline every model must beat: per-label P/R/F on the gold news corpus.

``python -m bench patterns [--splits train,dev] [--patterns DIR]``. Events are scored as the models are, per
(sentence, label); entities per label (the patterns cover ROLE and DATE only, so the other labels score 0). The
default scores the frozen test split; pattern work uses ``--splits train,dev`` (the test split is never used to
choose patterns).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.common import write_result
from treffpunkt.annotation.patterns.ruler import build_pipeline, load_patterns, patterns_dir, patterns_version
from treffpunkt.core.resources import default_config
from treffpunkt.core.schema import load_schema
from treffpunkt.demo.news import gold_docs
from treffpunkt.training.evaluation.evaluate import evaluate_nlp


def evaluate_patterns(splits: list[str], folder: Path | None = None) -> dict:
    schema = load_schema(default_config("schema.yaml"))
    patterns = load_patterns(folder or patterns_dir(None), schema)
    nlp = build_pipeline(schema, patterns)
    gold = gold_docs(splits, schema=schema)
    scores = evaluate_nlp(nlp, gold, schema)
    keep = (
        "ents_per_type",
        "events_p",
        "events_r",
        "events_f",
        "events_macro_f",
        "events_per_type",
        "words_per_second",
    )
    return {
        "version": patterns_version(patterns),
        "patterns": len(patterns),
        "splits": splits,
        "docs": len(gold),
        **{k: scores[k] for k in keep if k in scores},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench patterns")
    parser.add_argument("--splits", default="test", help="Comma-separated frozen splits (default: test).")
    parser.add_argument("--patterns", type=Path, default=None, help="Pattern folder (default: configs/patterns).")
    args = parser.parse_args(argv or [])
    splits = [s.strip() for s in args.splits.split(",") if s.strip()]
    result = evaluate_patterns(splits, args.patterns)
    print(f"{result['version']}: {result['patterns']} patterns on {result['docs']} docs ({'+'.join(splits)})")
    print(
        f"events micro P {result['events_p']:.3f} R {result['events_r']:.3f} F {result['events_f']:.3f}, macro F {result['events_macro_f']:.3f}"
    )
    for label, row in result["events_per_type"].items():
        print(f"  {label:14} P {row['p']:.3f} R {row['r']:.3f} F {row['f']:.3f} (support {row['support']})")
    for label in ("ROLE", "DATE"):
        row = result["ents_per_type"].get(label)
        if row:
            print(f"  {label:14} P {row['p']:.3f} R {row['r']:.3f} F {row['f']:.3f} (support {row['support']})")
    print(write_result(f"patterns-{'-'.join(splits)}", result))
