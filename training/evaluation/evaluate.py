"""Evaluate a model version on a DocBin split: NER, sentence-event and actor-role P/R/F, event confusion matrix, speed.

:func:`score_docs` is a plain function over (gold, predicted) docs so other commands (``compare``'s
bootstrap over documents) can reuse it on any subset.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from treffpunkt.core import versions
from treffpunkt.core.errors import InputError
from treffpunkt.core.io import write_json, write_jsonl
from treffpunkt.core.metrics import prf
from treffpunkt.core.schema import load_schema
from treffpunkt.core.tracking import score_metrics, start_run
from treffpunkt.core.workspace import Workspace
from treffpunkt.training.evaluation.predictions import prediction_rows
from treffpunkt.training.pipeline.components import EVENTS_KEY, event_pairs, score_event_pairs, sentence_spans
from treffpunkt.training.pipeline.roles import (
    gold_events,
    load_roles,
    load_roles_config,
    pairs_for_doc,
    role_assigner,
    roles_apply,
    score_roles,
)

NONE = "none"
SPLITS = ("train", "dev", "test")


def score_ents(pairs: Iterable[tuple[Any, Any]], labels: Sequence[str] = ()) -> dict[str, Any]:
    """Entity P/R/F (exact span + label, by characters), micro over all and per label; macro F too."""

    counts: dict[str, list[int]] = {label: [0, 0, 0] for label in labels}
    for gold_doc, pred_doc in pairs:
        gold = {(e.start_char, e.end_char, e.label_) for e in gold_doc.ents}
        pred = {(e.start_char, e.end_char, e.label_) for e in pred_doc.ents}
        for *_, label in gold | pred:
            counts.setdefault(label, [0, 0, 0])
        for i, group in enumerate((gold & pred, pred - gold, gold - pred)):
            for *_, label in group:
                counts[label][i] += 1
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    micro = prf(*total)
    per_type = {label: {**prf(*c), "support": c[0] + c[2]} for label, c in sorted(counts.items())}
    macro_f = sum(v["f"] for v in per_type.values()) / len(per_type) if per_type else 0.0
    return {
        "ents_p": micro["p"],
        "ents_r": micro["r"],
        "ents_f": micro["f"],
        "ents_macro_f": macro_f,
        "ents_per_type": per_type,
    }


def event_confusion(
    gold_docs: Sequence[Any], pred_docs: Sequence[Any], key: str = EVENTS_KEY
) -> dict[str, dict[str, int]]:
    """Sentence-level confusion counts ``matrix[gold][predicted]``, with ``"none"`` for no label.

    Per sentence: each label both gold and predicted counts on the diagonal; each missed gold label pairs with
    each wrongly predicted label (or ``none`` when there is none); each wrongly predicted label with no missed
    gold label pairs with ``none``; a sentence with neither counts once as ``none``/``none``.
    """
    matrix: Counter[tuple[str, str]] = Counter()
    for gold_doc, pred_doc in zip(gold_docs, pred_docs, strict=True):
        gold_by: dict[tuple[int, int], set[str]] = {}
        pred_by: dict[tuple[int, int], set[str]] = {}
        for s, e, label in event_pairs(gold_doc, key):
            gold_by.setdefault((s, e), set()).add(label)
        for s, e, label in event_pairs(pred_doc, key):
            pred_by.setdefault((s, e), set()).add(label)
        sentences = {(s.start_char, s.end_char) for s in sentence_spans(gold_doc)} | set(gold_by) | set(pred_by)
        for sent in sentences:
            gold, pred = gold_by.get(sent, set()), pred_by.get(sent, set())
            for label in gold & pred:
                matrix[label, label] += 1
            missed, wrong = gold - pred, pred - gold
            for g in missed:
                for p in wrong or {NONE}:
                    matrix[g, p] += 1
            if not missed:
                for p in wrong:
                    matrix[NONE, p] += 1
            if not gold and not pred:
                matrix[NONE, NONE] += 1
    labels = sorted(({g for g, _ in matrix} | {p for _, p in matrix}) - {NONE}) + [NONE]
    return {g: {p: matrix[g, p] for p in labels} for g in labels}


def score_role_layer(gold_docs: Sequence[Any], predicted_docs: Sequence[Any], assigner: Any) -> dict[str, Any]:
    """Role-level P/R/F (per role, micro, macro) of a role assigner, measured two ways.

    ``roles_*``: end to end — the assigner on the *predicted* events and entities, as ``predict`` writes records;
    ``roles_given_gold``: the assigner on the gold event sentences and gold entities, so role errors are not
    confounded with NER/event errors. Matching rules: :func:`treffpunkt.training.pipeline.roles.score_roles`.
    """

    def flat(scores: dict[str, Any]) -> dict[str, Any]:
        per = {
            role: {"p": v["p"], "r": v["r"], "f": v["f"], "support": v["n_gold"]}
            for role, v in scores["per_role"].items()
        }
        micro = scores["micro"]
        return {
            "p": micro["p"],
            "r": micro["r"],
            "f": micro["f"],
            "macro_f": sum(v["f"] for v in per.values()) / len(per) if per else 0.0,
            "support": micro["n_gold"],
            "predicted": micro["n_pred"],
            "per_type": per,
        }

    e2e = flat(score_roles(gold_docs, [pairs_for_doc(doc, assigner) for doc in predicted_docs]))
    given = flat(score_roles(gold_docs, [pairs_for_doc(doc, assigner, gold_events(doc)) for doc in gold_docs]))
    return {
        "roles_kind": assigner.kind,
        "roles_p": e2e["p"],
        "roles_r": e2e["r"],
        "roles_f": e2e["f"],
        "roles_macro_f": e2e["macro_f"],
        "roles_support": e2e["support"],
        "roles_per_type": e2e["per_type"],
        "roles_given_gold": given,
    }


def score_docs(
    gold_docs: Sequence[Any], predicted_docs: Sequence[Any], labels: Any = None, *, roles: Any = None
) -> dict[str, Any]:
    """All evaluation numbers for aligned gold/predicted docs (same texts, same order).

    ``labels``: a Schema, or a mapping/obj with ``entity_labels``/``event_labels`` so absent labels still show
    with zero support; None scores only the labels that occur. ``roles``: a role assigner
    (:func:`treffpunkt.training.pipeline.roles.role_assigner`) to score actor roles too (:func:`score_role_layer`).
    """
    if len(gold_docs) != len(predicted_docs):
        raise InputError(f"Cannot score {len(predicted_docs)} predicted docs against {len(gold_docs)} gold docs.")
    ent_labels, evt_labels = _label_lists(labels)
    pairs = list(zip(gold_docs, predicted_docs, strict=True))
    scores: dict[str, Any] = {}
    scores.update(score_ents(pairs, ent_labels))
    scores.update(score_event_pairs(((event_pairs(g), event_pairs(p)) for g, p in pairs), evt_labels))
    scores["events_confusion"] = event_confusion(gold_docs, predicted_docs)
    if roles is not None:
        scores.update(score_role_layer(gold_docs, predicted_docs, roles))
    scores["n_docs"] = len(gold_docs)
    scores["n_words"] = sum(len(d) for d in gold_docs)
    return scores


def _label_lists(labels: Any) -> tuple[list[str], list[str]]:
    if labels is None:
        return [], []
    if isinstance(labels, dict):
        return list(labels.get("entities", [])), list(labels.get("events", []))
    return list(labels.entity_labels), list(labels.event_labels)


def predict_docs(nlp: Any, gold_docs: Sequence[Any], *, batch_size: int = 64) -> tuple[list[Any], float]:
    """Run the pipeline on the gold texts; returns predicted docs and words per second."""
    texts = [d.text for d in gold_docs]
    start = time.perf_counter()
    predicted = list(nlp.pipe(texts, batch_size=batch_size))
    seconds = time.perf_counter() - start
    words = sum(len(d) for d in predicted)
    return predicted, (words / seconds if seconds > 0 else 0.0)


def evaluate_nlp(nlp: Any, gold_docs: Sequence[Any], labels: Any = None, *, roles: Any = None) -> dict[str, Any]:
    predicted, wps = predict_docs(nlp, gold_docs)
    scores = score_docs(gold_docs, predicted, labels, roles=roles)
    scores["words_per_second"] = wps
    return scores


def read_docbin(path: Path, vocab: Any) -> list[Any]:
    from spacy.tokens import DocBin

    path = Path(path)
    if not path.exists():
        raise InputError(
            f"No DocBin at {path}.",
            hint="Pass --data DIR holding train.spacy, dev.spacy and test.spacy (from `treffpunkt annotate convert`).",
        )
    return list(DocBin().from_disk(path).get_docs(vocab))


@dataclass
class EvaluateResult:
    version: str
    split: str
    data: Path
    scores: dict[str, Any]
    report_path: Path
    wandb_path: str | None = None
    predictions_path: Path | None = None  # one row per sentence: gold vs predicted (also a wandb Table)


def evaluate(
    ws: Workspace, version: str | Path, *, data: Path | None = None, split: str = "test", track: bool = True
) -> EvaluateResult:
    """Score a model version on one split of a converted data folder (default: the data it was trained on)."""
    import spacy

    if split not in SPLITS:
        raise InputError(f"Unknown split {split!r}.", hint=f"Use one of {', '.join(SPLITS)}.")
    model_dir = versions.resolve(ws, version)
    block = versions.read_meta(model_dir).get("treffpunkt", {})
    folder = Path(data) if data else Path(block.get("data", {}).get("folder", ""))
    if not data and not block.get("data", {}).get("folder"):
        raise InputError(f"{model_dir.name} does not record its data folder.", hint="Pass --data DIR.")
    nlp = spacy.load(model_dir)
    gold = read_docbin(folder / f"{split}.spacy", nlp.vocab)
    schema = load_schema(ws.schema_path)
    predicted, wps = predict_docs(nlp, gold)
    scores = {
        **score_docs(gold, predicted, schema, roles=version_roles(ws, model_dir, schema)),
        "words_per_second": wps,
    }
    report = model_dir / f"evaluation-{split}.json"
    write_json(report, {"version": model_dir.name, "split": split, "data": str(folder), "scores": scores})
    columns, rows = prediction_rows(gold, {"predicted": predicted})
    table = model_dir / f"predictions-{split}.jsonl"
    write_jsonl(table, (dict(zip(columns, row, strict=True)) for row in rows))
    run_path = None
    if track:
        tracker = start_run(ws, job_type="evaluate", config={"version": model_dir.name, "split": split})
        log_scores(tracker, scores, prefix=f"{split}/")
        tracker.table(f"{split}/predictions", columns, rows)
        run_path = tracker.path
        tracker.finish()
    return EvaluateResult(model_dir.name, split, folder, scores, report, run_path, table)


def version_roles(ws: Workspace, model_dir: Path, schema: Any) -> Any:
    """The role assigner ``predict`` uses for this version: its trained classifier, else the configured heuristic.

    None for a schema without events: there are no actor roles to assign or score.
    """
    if not roles_apply(schema):
        return None
    model = load_roles(model_dir)
    return (
        model
        if model is not None
        else role_assigner(None, schema, load_roles_config(ws.config_path("roles.yaml"), schema))
    )


def log_scores(tracker: Any, scores: dict[str, Any], prefix: str = "") -> None:
    """Final numbers to a tracker: scalars in the summary, per-label tables and the confusion matrix as tables."""
    scalars = score_metrics(scores, prefix)
    tracker.log(scalars)
    tracker.summary(scalars)
    for kind in ("ents", "events", "roles"):
        if f"{kind}_per_type" not in scores:
            continue
        rows = [[label, v["p"], v["r"], v["f"], v["support"]] for label, v in scores[f"{kind}_per_type"].items()]
        tracker.table(f"{prefix}{kind}_per_label", ["label", "p", "r", "f", "support"], rows)
    matrix = scores.get("events_confusion", {})
    tracker.table(
        f"{prefix}events_confusion",
        ["gold", "predicted", "count"],
        [[g, p, n] for g, row in matrix.items() for p, n in row.items()],
    )


def scores_table(scores: dict[str, Any], title: str) -> Any:
    """A rich table of per-label and overall P/R/F for entities, events and (when scored) actor roles."""
    from rich.table import Table

    table = Table(title=title)
    for col in ("layer", "label", "P", "R", "F", "support"):
        table.add_column(col, justify="left" if col in {"layer", "label"} else "right")
    layers = [("ents", "entities"), ("events", "events")]
    if "roles_per_type" in scores:
        layers.append(("roles", f"roles ({scores.get('roles_kind', '?')})"))
    for kind, name in layers:
        for label, v in scores.get(f"{kind}_per_type", {}).items():
            table.add_row(name, label, f"{v['p']:.3f}", f"{v['r']:.3f}", f"{v['f']:.3f}", str(v["support"]))
        table.add_row(
            name,
            "[bold]micro[/]",
            f"{scores.get(f'{kind}_p', 0):.3f}",
            f"{scores.get(f'{kind}_r', 0):.3f}",
            f"{scores.get(f'{kind}_f', 0):.3f}",
            "",
            end_section=False,
        )
        table.add_row(name, "[bold]macro[/]", "", "", f"{scores.get(f'{kind}_macro_f', 0):.3f}", "", end_section=True)
    given = scores.get("roles_given_gold")
    if given:
        table.add_row(
            "roles | gold events+ents",
            "[bold]micro[/]",
            f"{given['p']:.3f}",
            f"{given['r']:.3f}",
            f"{given['f']:.3f}",
            str(given["support"]),
        )
    return table


def confusion_abbreviations(labels: Sequence[str]) -> dict[str, str]:
    """Short, unique column names for a confusion matrix (``CONSULT_PHONE`` → ``C-PHO``), so 15 labels fit a terminal."""
    short: dict[str, str] = {}
    for label in labels:
        parts = [p for p in label.replace("-", "_").split("_") if p]
        base = "-".join(p[:3] if i else p[0] for i, p in enumerate(parts)) if len(parts) > 1 else label[:4]
        name, n = base, 2
        while name in short.values():
            name, n = f"{base}{n}", n + 1
        short[label] = name
    return short


def confusion_table(matrix: dict[str, dict[str, int]]) -> Any:
    """Gold (rows) × predicted (columns), labels abbreviated so that 15 labels fit; the legend is the caption."""
    from rich import box
    from rich.table import Table

    labels = list(matrix)
    short = confusion_abbreviations(labels)
    entries = [f"{short[label]}={label}" for label in labels]
    legend = "\n".join("  ".join(entries[i : i + 4]) for i in range(0, len(entries), 4))  # never split an entry
    table = Table(
        title="Events: gold (rows) × predicted (columns), per sentence",
        caption=legend,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("gold", no_wrap=True)
    for label in labels:
        table.add_column(short[label], justify="right", no_wrap=True, min_width=len(short[label]))
    for gold in labels:
        table.add_row(short[gold], *(str(matrix[gold].get(p, 0)) for p in labels))
    return table
