"""``treffpunkt compare``: score several model versions on the same gold documents and tell real gains from noise.

Every version predicts the same gold docs (default: the test split of the newest converted export). Per label and
layer (entities, sentence events, actor roles) we count tp/fp/fn *per document*; the point estimates equal
:func:`treffpunkt.training.evaluation.evaluate.score_docs` and :func:`treffpunkt.training.pipeline.roles.score_roles`. A paired bootstrap over documents
(the same resampled document indices for every version) gives a 95 % percentile interval for each F1 difference
against the first version; a difference is *significant* when its interval excludes 0 (never with a single gold
doc: resampling one document cannot vary, so its interval is a point and says nothing).

A version must not be scored on documents it saw: its ``meta.json`` names the data folder it was trained on, and
the docs of that folder's ``train.spacy`` and ``dev.spacy`` (dev chose the best model) are matched against the gold
docs by article id (``doc.user_data["meta"]["article_id"]``) or, failing that, by a hash of the text.
:class:`TrainingOverlap` refuses such a comparison unless ``allow_overlap`` is set, and then the result says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from treffpunkt.core.console import err_console
from treffpunkt.core.errors import InputError, TreffpunktError
from treffpunkt.core.io import sha256_file, write_json, write_jsonl
from treffpunkt.core.metrics import f1, prf
from treffpunkt.core.schema import load_schema
from treffpunkt.core.tracking import artifact_name, start_run
from treffpunkt.core.versions import read_meta, resolve
from treffpunkt.core.workspace import Workspace
from treffpunkt.training.evaluation.evaluate import (
    SPLITS,
    event_confusion,
    predict_docs,
    read_docbin,
    score_docs,
    version_roles,
)
from treffpunkt.training.evaluation.predictions import doc_key, doc_label, prediction_rows
from treffpunkt.training.pipeline.components import event_pairs, sentence_spans
from treffpunkt.training.pipeline.roles import gold_pairs, match_role_pairs, pairs_for_doc, score_roles
from treffpunkt.training.train.trainer import default_data

LAYERS = ("ents", "events", "roles")
LAYER_NAMES = {"ents": "entities", "events": "events", "roles": "roles"}
MICRO = "(micro)"
#: Below this many gold docs a bootstrap over documents says little; the result carries a warning.
FEW_DOCS = 10
TRAINED_ON = ("train.spacy", "dev.spacy")


class TrainingOverlap(TreffpunktError):
    """A compared version was trained (or model-selected) on some of the gold documents, or that cannot be checked."""


# ------------------------------------------------------------------------------------------------ data classes
@dataclass
class LabelRow:
    """One label of one layer: per-version P/R/F with its bootstrap interval, and F1 deltas vs the first version."""

    layer: str
    label: str
    support: int
    scores: dict[str, dict[str, float]]  # version -> p, r, f, tp, fp, fn, f_low, f_high
    deltas: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # version (not the first) -> delta, low, high, significant


@dataclass
class Comparison:
    """The numbers of a comparison, computed from aligned gold and predicted docs (no models needed)."""

    versions: list[str]
    n_docs: int
    n_boot: int
    seed: int
    rows: list[LabelRow]
    errors: dict[str, dict[str, dict[str, dict[str, list[dict[str, Any]]]]]]  # version -> layer -> label -> fp/fn
    disagreements: list[dict[str, Any]]
    n_disagreements: int
    confusion: dict[str, dict[str, dict[str, int]]]
    doc_ids: list[str]

    def row(self, layer: str, label: str) -> LabelRow:
        for row in self.rows:
            if row.layer == layer and row.label == label:
                return row
        raise KeyError((layer, label))


@dataclass
class CompareResult:
    """What ``treffpunkt compare`` computed and wrote."""

    comparison: Comparison
    paths: dict[str, Path]
    data: Path
    split: str
    scores: dict[str, dict[str, Any]]  # version -> score_docs(...) + "roles"
    overlap: dict[str, list[str]]
    warnings: list[str]
    json_path: Path
    curves: list[Path] = field(default_factory=list)
    report: Any = None  # treffpunkt.training.evaluation.report.ReportResult when --report was given
    wandb_path: str | None = None
    predictions: tuple[list[str], list[list[Any]]] = ([], [])  # per-sentence table, the versions side by side
    predictions_path: Path | None = None

    @property
    def versions(self) -> list[str]:
        return self.comparison.versions

    def to_json(self) -> dict[str, Any]:
        c = self.comparison
        return {
            "versions": c.versions,
            "paths": {k: str(v) for k, v in self.paths.items()},
            "data": str(self.data),
            "split": self.split,
            "n_docs": c.n_docs,
            "doc_ids": c.doc_ids,
            "n_boot": c.n_boot,
            "seed": c.seed,
            "warnings": self.warnings,
            "overlap": self.overlap,
            "rows": [asdict(r) for r in c.rows],
            "scores": self.scores,
            "confusion": c.confusion,
            "errors": c.errors,
            "n_disagreements": c.n_disagreements,
            "disagreements": c.disagreements,
            "curves": [str(p) for p in self.curves],
            "predictions": str(self.predictions_path) if self.predictions_path else None,
        }


# ------------------------------------------------------------------------------------------------ doc identity
def overlapping_docs(gold_docs: Sequence[Any], seen_docs: Sequence[Any]) -> list[str]:
    """Ids of the gold docs that are among ``seen_docs`` (same article id, or same text)."""
    articles, texts = set(), set()
    for doc in seen_docs:
        article, text = doc_key(doc)
        texts.add(text)
        if article is not None:
            articles.add(article)
    out = []
    for i, doc in enumerate(gold_docs):
        article, text = doc_key(doc)
        if text in texts or (article is not None and article in articles):
            out.append(doc_label(doc, i))
    return out


def training_overlap(model_dir: Path, gold_docs: Sequence[Any], vocab: Any) -> list[str]:
    """Gold doc ids the version at ``model_dir`` was trained or model-selected on (see the module docstring).

    Raises :class:`TrainingOverlap` when that cannot be checked: no data folder recorded, its DocBins gone, or
    changed since training (sha256 in ``meta.json``).
    """

    record = read_meta(model_dir).get("treffpunkt", {}).get("data", {})
    folder = Path(record.get("folder") or "")
    if not record.get("folder"):
        raise TrainingOverlap(
            f"{model_dir.name} does not record the data it was trained on: cannot rule out overlap with the gold docs.",
            hint="Pass --allow-overlap to compare anyway (its scores may be optimistic).",
        )
    seen: list[Any] = []
    for name in TRAINED_ON:
        path = folder / name
        if not path.exists():
            raise TrainingOverlap(
                f"{model_dir.name} was trained on {path}, which no longer exists: cannot rule out overlap.",
                hint="Restore that export folder, or pass --allow-overlap to compare anyway.",
            )
        expected = record.get("docbins", {}).get(name)
        if expected and sha256_file(path) != expected:
            raise TrainingOverlap(
                f"{path} changed since {model_dir.name} was trained on it (sha256 differs from meta.json).",
                hint="Convert the export again into a fresh folder, or pass --allow-overlap to compare anyway.",
            )
        seen.extend(read_docbin(path, vocab))
    return overlapping_docs(gold_docs, seen)


# ------------------------------------------------------------------------------------------------ counting
def _ent_set(doc: Any) -> set[tuple[int, int, str]]:
    return {(e.start_char, e.end_char, e.label_) for e in doc.ents}


def _items(layer: str, gold: Any, pred: Any, roles: Sequence[Any] | None) -> dict[str, dict[str, list[tuple]]]:
    """Per label: the matched, false-positive and false-negative items of one doc (tuples start, end, label, ...)."""

    out: dict[str, dict[str, list[tuple]]] = {}
    if layer in ("ents", "events"):
        g, p = (_ent_set(gold), _ent_set(pred)) if layer == "ents" else (event_pairs(gold), event_pairs(pred))
        for kind, group in (("tp", g & p), ("fp", p - g), ("fn", g - p)):
            for item in sorted(group):
                out.setdefault(item[2], {"tp": [], "fp": [], "fn": []})[kind].append(item)
        return out
    # roles: the one-to-one matching of treffpunkt.training.pipeline.roles.score_roles, kept item by item

    matched, unmatched, missed = match_role_pairs(gold_pairs(gold), roles or [])
    for kind, group in (("tp", matched), ("fp", unmatched), ("fn", missed)):
        for r in group:
            out.setdefault(r.role, {"tp": [], "fp": [], "fn": []})[kind].append(
                (r.arg_start, r.arg_end, r.role, r.event_label, r.arg_label)
            )
    return out


def _error_row(doc: Any, doc_id: str, item: tuple, layer: str) -> dict[str, Any]:
    start, end = item[0], item[1]
    row = {"doc": doc_id, "start": start, "end": end, "text": doc.text[start:end]}
    if layer == "roles":
        row.update({"event": item[3], "arg_label": item[4]})
    return row


def compare_docs(
    gold_docs: Sequence[Any],
    predicted: Mapping[str, Sequence[Any]],
    *,
    roles: Mapping[str, Sequence[Sequence[Any]]] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    max_examples: int = 12,
) -> Comparison:
    """Per-label scores, bootstrap intervals and deltas for aligned gold and predicted docs.

    ``predicted``: version -> docs in the order of ``gold_docs`` (the first version is the baseline).
    ``roles``: version -> per doc the predicted :class:`treffpunkt.training.pipeline.roles.RolePair` list; without it no role rows.
    """
    import numpy as np

    versions = list(predicted)
    if not versions:
        raise InputError("Nothing to compare: no versions given.", hint="Name at least one model version.")
    for v in versions:
        if len(predicted[v]) != len(gold_docs):
            raise InputError(f"{v}: {len(predicted[v])} predicted docs for {len(gold_docs)} gold docs.")
    if n_boot < 1:
        raise InputError(f"--n-boot must be at least 1 (got {n_boot}).")
    layers = [layer for layer in LAYERS if layer != "roles" or roles is not None]
    n = len(gold_docs)
    doc_ids = [doc_label(d, i) for i, d in enumerate(gold_docs)]

    # items[v][layer][i] = label -> {tp, fp, fn}
    role_lists = {v: (roles or {}).get(v) or [None] * n for v in versions}
    items = {
        v: {
            layer: [
                _items(layer, g, p, role_lists[v][i] if layer == "roles" else None)
                for i, (g, p) in enumerate(zip(gold_docs, predicted[v], strict=True))
            ]
            for layer in layers
        }
        for v in versions
    }
    labels = {
        layer: sorted({lab for v in versions for per_doc in items[v][layer] for lab in per_doc}) for layer in layers
    }

    # counts[v][layer]: array [n_docs, n_labels + 1 (micro), 3]
    counts: dict[str, dict[str, Any]] = {}
    for v in versions:
        counts[v] = {}
        for layer in layers:
            arr = np.zeros((n, len(labels[layer]) + 1, 3))
            for i, per_doc in enumerate(items[v][layer]):
                for j, lab in enumerate(labels[layer]):
                    got = per_doc.get(lab)
                    if got:
                        arr[i, j] = [len(got["tp"]), len(got["fp"]), len(got["fn"])]
            arr[:, -1] = arr[:, :-1].sum(axis=1)
            counts[v][layer] = arr

    # paired bootstrap: the same resampled documents for every version
    rng = np.random.default_rng(seed)
    weights = np.zeros((n_boot, n))
    if n:
        idx = rng.integers(0, n, size=(n_boot, n))
        np.add.at(weights, (np.arange(n_boot)[:, None], idx), 1)
    boot_f: dict[str, dict[str, Any]] = {}
    for v in versions:
        boot_f[v] = {}
        for layer in layers:
            arr = counts[v][layer]
            summed = np.einsum("bd,dlk->blk", weights, arr)  # [n_boot, labels, 3]
            boot_f[v][layer] = f1(summed[..., 0], summed[..., 1], summed[..., 2])

    base = versions[0]
    rows: list[LabelRow] = []
    for layer in layers:
        for j, lab in enumerate([*labels[layer], MICRO]):
            tot = {v: counts[v][layer][:, j].sum(axis=0) for v in versions}
            support = int(tot[base][0] + tot[base][2])
            scores: dict[str, dict[str, float]] = {}
            for v in versions:
                tp, fp, fn = (int(x) for x in tot[v])
                lo, hi = np.percentile(boot_f[v][layer][:, j], [2.5, 97.5])
                scores[v] = {**prf(tp, fp, fn), "tp": tp, "fp": fp, "fn": fn, "f_low": float(lo), "f_high": float(hi)}
            row = LabelRow(layer, lab, support, scores)
            for v in versions[1:]:
                diff = boot_f[v][layer][:, j] - boot_f[base][layer][:, j]
                lo, hi = (float(x) for x in np.percentile(diff, [2.5, 97.5]))
                row.deltas[v] = {
                    "delta": scores[v]["f"] - scores[base]["f"],
                    "low": lo,
                    "high": hi,
                    "significant": bool(n > 1 and (lo > 0 or hi < 0)),
                }
            rows.append(row)

    errors: dict[str, dict[str, dict[str, dict[str, list[dict[str, Any]]]]]] = {}
    for v in versions:
        errors[v] = {}
        for layer in layers:
            per_label: dict[str, dict[str, list[dict[str, Any]]]] = {}
            for i, per_doc in enumerate(items[v][layer]):
                for lab, got in per_doc.items():
                    slot = per_label.setdefault(lab, {"fp": [], "fn": []})
                    for kind in ("fp", "fn"):
                        slot[kind].extend(_error_row(gold_docs[i], doc_ids[i], it, layer) for it in got[kind])
            errors[v][layer] = dict(sorted(per_label.items()))

    confusion = {v: event_confusion(gold_docs, predicted[v]) for v in versions}
    found = disagreements(gold_docs, predicted, doc_ids)
    return Comparison(versions, n, n_boot, seed, rows, errors, found[:max_examples], len(found), confusion, doc_ids)


def disagreements(
    gold_docs: Sequence[Any], predicted: Mapping[str, Sequence[Any]], doc_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Gold sentences where the versions' entities or event labels differ, with gold and each version's view.

    Offsets in each view are relative to the sentence. Events count for a sentence when they start inside it.
    """

    out = []
    versions = list(predicted)
    for i, gold in enumerate(gold_docs):
        docs = {"gold": gold, **{v: predicted[v][i] for v in versions}}
        ents = {k: sorted(_ent_set(d)) for k, d in docs.items()}
        events = {k: sorted(event_pairs(d)) for k, d in docs.items()}
        for sent in sentence_spans(gold):
            raw = sent.text  # paragraph breaks the sentencizer keeps at a sentence's edges would render as blank lines
            s = sent.start_char + len(raw) - len(raw.lstrip())
            e = max(s, sent.end_char - (len(raw) - len(raw.rstrip())))
            views = {
                k: {
                    "ents": [[a - s, b - s, lab] for a, b, lab in ents[k] if a >= s and b <= e],
                    "events": sorted({lab for a, _, lab in events[k] if sent.start_char <= a < sent.end_char}),
                }
                for k in docs
            }
            if len({repr(views[v]) for v in versions}) > 1:
                out.append(
                    {"doc": doc_ids[i], "doc_index": i, "start": s, "end": e, "text": gold.text[s:e], "views": views}
                )
    return out


# ------------------------------------------------------------------------------------------------ models
def _unique_names(paths: Sequence[Path]) -> list[str]:
    names: list[str] = []
    for p in paths:
        name, k = p.name, 2
        while name in names:  # the same version twice (a sanity check) still needs two keys
            name, k = f"{p.name}#{k}", k + 1
        names.append(name)
    return names


def find_curves(ws: Workspace, model_dirs: Sequence[Path]) -> list[Path]:
    """Learning-curve reports (``treffpunkt train-curve``) for the compared versions' data, or inside their folders."""
    import json

    folders = {read_meta(d).get("treffpunkt", {}).get("data", {}).get("folder") for d in model_dirs} - {None}
    found = [p for d in model_dirs for p in sorted(d.glob("*curve*.json"))]
    for path in sorted((ws.root / "curves").glob("train-curve-*.json")) if (ws.root / "curves").exists() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if str(Path(data.get("data", "")).resolve()) in {str(Path(f).resolve()) for f in folders}:
            found.append(path)
    return found


def compare(
    ws: Workspace,
    versions: Sequence[str | Path],
    *,
    data: Path | None = None,
    split: str = "test",
    n_boot: int = 1000,
    seed: int = 0,
    allow_overlap: bool = False,
    out: Path | None = None,
    track: bool = True,
    max_examples: int = 12,
) -> CompareResult:
    """Score ``versions`` on the same gold docs and save ``compare.json`` (to ``out``, default ``comparisons/``).

    The HTML/PNG report is written from the result by :func:`treffpunkt.training.evaluation.report.write_report`
    (the ``compare --report`` command does both); ``track`` logs the comparison to wandb.
    """
    import spacy

    if not versions:
        raise InputError(
            "Nothing to compare.",
            hint="Name two or more model versions: `treffpunkt compare quickstart-001 quickstart-002`.",
        )
    if split not in SPLITS:
        raise InputError(f"Unknown split {split!r}.", hint=f"Use one of {', '.join(SPLITS)}.")
    dirs = [resolve(ws, v) for v in versions]
    names = _unique_names(dirs)
    folder = Path(data) if data else default_data(ws)
    schema = load_schema(ws.schema_path)
    vocab = spacy.blank(schema.language).vocab
    gold = read_docbin(folder / f"{split}.spacy", vocab)
    if not gold:
        raise InputError(
            f"{folder / f'{split}.spacy'} holds no documents.",
            hint="Pass --data DIR of an export whose split has documents.",
        )

    warnings: list[str] = []
    overlap: dict[str, list[str]] = {}
    for name, d in zip(names, dirs, strict=True):
        try:
            seen = training_overlap(d, gold, vocab)
        except TrainingOverlap as err:
            if not allow_overlap:
                raise
            warnings.append(f"{name}: {err.message} (--allow-overlap)")
            continue
        if seen:
            overlap[name] = seen
            if not allow_overlap:
                raise TrainingOverlap(
                    f"{name} was trained or model-selected on {len(seen)} of the {len(gold)} gold docs ({', '.join(seen[:5])}{', ...' if len(seen) > 5 else ''}).",
                    hint="Score on data no version saw (--data DIR of an export whose test split is new to all of them), "
                    "or pass --allow-overlap to compare anyway (that version's scores will be optimistic).",
                )
            warnings.append(
                f"{name} saw {len(seen)} of the {len(gold)} gold docs in training: its scores are optimistic (--allow-overlap)."
            )
    if len(gold) < FEW_DOCS:
        warnings.append(
            f"Only {len(gold)} gold docs: bootstrap intervals over so few documents are rough (with 1 doc they collapse to a point)."
        )

    predicted: dict[str, list[Any]] = {}
    role_pairs: dict[str, list[list[Any]]] = {}
    scores: dict[str, dict[str, Any]] = {}
    for name, d in zip(names, dirs, strict=True):
        err_console.print(f"Scoring {name} on {len(gold)} docs ...")
        nlp = spacy.load(d)
        docs, wps = predict_docs(nlp, gold)
        assigner = version_roles(ws, d, schema)
        predicted[name] = docs
        role_pairs[name] = [pairs_for_doc(doc, assigner) for doc in docs]
        scores[name] = {
            **score_docs(gold, docs, schema),
            "words_per_second": wps,
            "roles": score_roles(gold, role_pairs[name]),
            "roles_kind": assigner.kind,
        }

    comparison = compare_docs(gold, predicted, roles=role_pairs, n_boot=n_boot, seed=seed, max_examples=max_examples)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_json = Path(out) if out else ws.root / "comparisons" / f"compare-{stamp}.json"
    result = CompareResult(
        comparison,
        dict(zip(names, dirs, strict=True)),
        folder,
        split,
        scores,
        overlap,
        warnings,
        out_json,
        curves=find_curves(ws, dirs),
        predictions=prediction_rows(gold, predicted),
        predictions_path=out_json.with_name(f"{out_json.stem}-predictions.jsonl"),
    )
    write_json(out_json, result.to_json(), perms=0o644)
    columns, rows = result.predictions
    write_jsonl(result.predictions_path, (dict(zip(columns, row, strict=True)) for row in rows))
    if track:
        result.wandb_path = log_comparison(ws, result)
    return result


def comparison_rows(comparison: Comparison) -> tuple[list[str], list[list[Any]]]:
    """The comparison as one flat table (layer, label, support, version, P, R, F, F CI, ΔF, ΔF CI, significant)."""
    columns = [
        "layer",
        "label",
        "support",
        "version",
        "p",
        "r",
        "f",
        "f_low",
        "f_high",
        "delta_f",
        "delta_low",
        "delta_high",
        "significant",
    ]
    rows = []
    for row in comparison.rows:
        for v in comparison.versions:
            s, d = row.scores[v], row.deltas.get(v)
            rows.append(
                [
                    row.layer,
                    row.label,
                    row.support,
                    v,
                    s["p"],
                    s["r"],
                    s["f"],
                    s["f_low"],
                    s["f_high"],
                    d["delta"] if d else 0.0,
                    d["low"] if d else 0.0,
                    d["high"] if d else 0.0,
                    bool(d and d["significant"]),
                ]
            )
    return columns, rows


def _run_ref(run: str | None) -> str | None:
    return Path(run).name if run and Path(run).is_absolute() else run


def log_comparison(ws: Workspace, result: CompareResult) -> str | None:
    """The comparison table (and the HTML report, once written, as an artifact) to wandb; a no-op when off."""

    c = result.comparison
    # each version's own runs (training, with its evaluation tables) are linked from this run's config
    # (offline: the run folder's name, as `wandb sync` uploads it; logged configs carry no local paths)
    runs = {
        name: _run_ref(read_meta(path).get("treffpunkt", {}).get("wandb_run")) for name, path in result.paths.items()
    }
    tracker = start_run(
        ws,
        job_type="compare",
        config={
            "versions": c.versions,
            "split": result.split,
            "n_docs": c.n_docs,
            "n_boot": c.n_boot,
            "seed": c.seed,
            "version_runs": runs,
        },
    )
    columns, rows = comparison_rows(c)
    tracker.table("comparison", columns, rows)
    tracker.table(f"{result.split}/predictions", *result.predictions)
    tracker.summary(
        {
            f"{r.layer}/{r.label}/delta_f/{v}": d["delta"]
            for r in c.rows
            if r.label == MICRO
            for v, d in r.deltas.items()
        }
    )
    if tracker.active and result.report is not None:
        artifact = tracker.wandb.Artifact(
            artifact_name(f"compare-{'-vs-'.join(c.versions)}"),
            type="report",
            metadata={"versions": c.versions, "split": result.split, "n_docs": c.n_docs},
        )
        artifact.add_file(str(result.report.html), name="report.html")
        tracker.run.log_artifact(artifact)
    path = tracker.path
    tracker.finish()
    return path
