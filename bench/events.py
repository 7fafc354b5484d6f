"""Event classifiers against strong baselines, in one run: ``python -m bench events [--budget S] [--seeds 0,1]``.

On the gold news corpus (frozen splits: trained on train, thresholds chosen on dev, scored on test), per
(sentence, label) like ``treffpunkt evaluate``:

- baseline: TF-IDF word 1–2 + char 2–5 grams, one-vs-rest logistic regression (class_weight=balanced), 0.5;
- the cold-start patterns of ``configs/patterns/``;
- ``configs/default.cfg`` (scikit-learn event backend; ``configs/sklearn.cfg`` has the same event component) and
  ``configs/spancat.cfg`` (spaCy event backend) trained with ``treffpunkt train`` for ``--budget`` seconds each.

Writes ``bench/results/events.json`` with micro/macro F1 and the ratios to the baseline (targets of the
"models that beat strong baselines" issue: default macro ≥ 1.25x and micro ≥ 1.1x, sklearn backend ≥ 1.0x).
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path
from typing import Any

from bench.common import write_result
from treffpunkt.annotation.convert.docs import convert_export
from treffpunkt.annotation.patterns.ruler import pattern_pipeline
from treffpunkt.core.schema import load_schema
from treffpunkt.core.workspace import init_workspace
from treffpunkt.demo.news import news_dir
from treffpunkt.training.evaluation.evaluate import evaluate_nlp, read_docbin
from treffpunkt.training.pipeline.components import event_pairs, score_event_pairs, sentence_spans
from treffpunkt.training.train.trainer import train


def _sentences(docs: list[Any], labels: list[str]) -> tuple[list[str], list[list[int]]]:
    texts, targets = [], []
    for doc in docs:
        gold = {(s.start_char, s.end_char, s.label_) for s in doc.spans.get("events", [])}
        for sent in sentence_spans(doc):
            texts.append(sent.text)
            targets.append([int((sent.start_char, sent.end_char, label) in gold) for label in labels])
    return texts, targets


def tfidf_baseline(train_docs: list[Any], test_docs: list[Any], labels: list[str], seed: int) -> dict[str, Any]:
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts, y = _sentences(train_docs, labels)
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    x = hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()
    y = np.array(y)
    models = {}
    for j, label in enumerate(labels):
        if 0 < y[:, j].sum() < len(y):
            models[label] = LogisticRegression(class_weight="balanced", max_iter=2000, random_state=seed).fit(
                x, y[:, j]
            )
    pairs = []
    for doc in test_docs:
        sents = sentence_spans(doc)
        xt = hstack([words.transform([s.text for s in sents]), chars.transform([s.text for s in sents])]).tocsr()
        pred = set()
        for label, model in models.items():
            for sent, p in zip(sents, model.predict_proba(xt)[:, 1], strict=True):
                if p >= 0.5:
                    pred.add((sent.start_char, sent.end_char, label))
        pairs.append((event_pairs(doc), pred))
    return score_event_pairs(pairs, labels)


def _row(scores: dict[str, Any]) -> dict[str, Any]:
    return {k: scores.get(k) for k in ("events_p", "events_r", "events_f", "events_macro_f")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench events")
    parser.add_argument("--budget", type=float, default=240.0, help="Training seconds per trained system.")
    parser.add_argument("--seeds", default="0", help="Comma-separated seeds (each trains every system once).")
    args = parser.parse_args(argv or [])
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    result: dict[str, Any] = {"budget_s": args.budget, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        schema = load_schema(ws.schema_path)
        labels = list(schema.event_labels)
        data = Path(tmp) / "data"
        convert_export(news_dir() / "export.json", schema=schema, out_dir=data)
        nlp, version = pattern_pipeline(ws, schema)
        train_docs = read_docbin(data / "train.spacy", nlp.vocab)
        test_docs = read_docbin(data / "test.spacy", nlp.vocab)
        patterns = evaluate_nlp(nlp, test_docs, schema)
        for seed in seeds:
            run: dict[str, Any] = {"seed": seed, "patterns": {"version": version, **_row(patterns)}}
            base = tfidf_baseline(train_docs, test_docs, labels, seed)
            run["tfidf_baseline"] = _row(base)
            for config in ("default", "spancat"):
                trained = train(ws, config=config, data=data, name=f"bench_{config}", seed=seed,
                                max_seconds=args.budget, track=False, stdout=io.StringIO())  # fmt: skip
                row = _row(trained.test_scores)
                for key in ("events_f", "events_macro_f"):
                    b = run["tfidf_baseline"][key]
                    row[f"{key}_vs_baseline"] = row[key] / b if b else None
                run[config] = row
            result["runs"].append(run)
            print(f"seed {seed}: " + ", ".join(f"{k} micro {v['events_f']:.3f} macro {v['events_macro_f']:.3f}"
                                               for k, v in run.items() if isinstance(v, dict)))  # fmt: skip
    print(write_result("events", result))
