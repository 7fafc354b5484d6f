"""``treffpunkt train``: train a config on a converted export into a new model version.

The version directory ``models/<name>-<NNN>/`` is itself the best pipeline (chosen on dev only) with
``model-last/`` inside; ``meta.json`` gains a ``treffpunkt`` block recording data, hashes, config, scores and run.
The test split is scored once, at the end, never for model selection.

After the spaCy pipeline, the actor-role classifier (:mod:`treffpunkt.training.pipeline.roles`) is fitted on the training split's gold
relations and saved as ``roles.joblib`` in the version directory; when no relations were annotated it is not, and
``predict``/``evaluate`` use the documented heuristic (``configs/roles.yaml``). ``meta.json`` records which
(``treffpunkt.roles.kind``), and ``roles.json`` holds the full fitting report.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from treffpunkt.annotation.convert.docs import latest_converted
from treffpunkt.annotation.patterns.ruler import patterns_dir
from treffpunkt.core import versions
from treffpunkt.core.errors import InputError
from treffpunkt.core.io import sha256_file, write_json
from treffpunkt.core.schema import load_schema
from treffpunkt.core.tracking import FINAL_DEV, FINAL_TEST, Tracker, artifact_name, logging_into, sanitize, start_run
from treffpunkt.core.workspace import Workspace
from treffpunkt.training.evaluation.evaluate import evaluate_nlp, log_scores, read_docbin, version_roles
from treffpunkt.training.pipeline.roles import load_roles_config, roles_apply, train_roles
from treffpunkt.training.train.config import (
    drop_components,
    event_components,
    load_config,
    resolve_config_path,
    set_entity_patterns,
    set_event_labels,
)
from treffpunkt.training.train.thresholds import tune_event_thresholds

SPLIT_FILES = ("train.spacy", "dev.spacy", "test.spacy")
_STAGING = ".training"


@dataclass
class LoopResult:
    """What the training loop did; ``stopped`` says why it ended early (``interrupted``, ``time budget``)."""

    seconds: float
    steps: int
    best_score: float | None
    stopped: str | None = None


@dataclass
class TrainResult:
    version: str
    path: Path
    seconds: float
    dev_scores: dict[str, Any]
    test_scores: dict[str, Any]
    interrupted: bool = False
    stopped: str | None = None
    wandb_path: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def default_data(ws: Workspace) -> Path:
    """The newest converted export, or a helpful error."""
    return Path(latest_converted(ws))


def check_data(folder: Path) -> Path:
    folder = Path(folder)
    missing = [name for name in SPLIT_FILES[:2] if not (folder / name).exists()]
    if missing:
        raise InputError(
            f"{folder} lacks {', '.join(missing)}.",
            hint="Convert an export first (`treffpunkt annotate convert`) or pass --data DIR holding train.spacy and dev.spacy.",
        )
    from spacy.tokens import DocBin

    empty = [name for name in SPLIT_FILES[:2] if len(DocBin().from_disk(folder / name)) == 0]
    if empty:
        raise InputError(
            f"{', '.join(empty)} in {folder} holds no documents.",
            hint="Annotate more tasks, or convert again with split fractions that give train and dev documents.",
        )
    return folder


def data_record(folder: Path) -> dict[str, Any]:
    """Data folder, sha256 of each DocBin and of the source export (from the folder's manifest.json)."""
    import json

    record: dict[str, Any] = {"folder": str(folder.resolve()), "docbins": {}}
    for name in SPLIT_FILES:
        if (folder / name).exists():
            record["docbins"][name] = sha256_file(folder / name)
    manifest = folder / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        record["manifest"] = data
        for key in ("export_sha256", "source_sha256", "sha256"):
            if isinstance(data.get(key), str):
                record["export_sha256"] = data[key]
                break
        source = data.get("export") or data.get("source")
        if isinstance(source, str):
            record["export"] = source
    return record


def _article_ids(docs: Sequence[Any]) -> list[str]:
    """Article ids (else doc texts' hashes) of docs, sorted: the record of what a version saw."""
    ids = []
    for doc in docs:
        meta = doc.user_data.get("meta") or {}
        ids.append(str(meta.get("article_id") or hashlib.sha256(doc.text.encode()).hexdigest()[:16]))
    return sorted(ids)


def event_cue_file(ws: Workspace) -> Path | None:
    """The trigger patterns the event classifiers use as cues: the workspace's (or the shipped) events.jsonl."""
    path = patterns_dir(ws) / "events.jsonl"
    return path if path.is_file() else None


def git_commit() -> str | None:
    repo = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def prepare_config(
    path: Path,
    *,
    data: Path,
    event_labels: Sequence[str],
    entity_labels: Sequence[str] | None = None,
    patterns: Path | None = None,
    pretrained: Path | None = None,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    cue_patterns: Path | None = None,
) -> Any:
    """The config for one run: data paths, seed and pretrained weights set, then the user's overrides."""
    base: dict[str, Any] = {"paths.train": str(data / "train.spacy"), "paths.dev": str(data / "dev.spacy")}
    if pretrained is not None:
        if not Path(pretrained).exists():
            raise InputError(
                f"Pretrained weights {pretrained} do not exist.",
                hint="Run `treffpunkt pretrain` first or fix the path.",
            )
        base["paths.init_tok2vec"] = str(Path(pretrained).resolve())
    if seed is not None:
        base["system.seed"] = seed
    config = load_config(path, {**base, **dict(overrides or {})})
    if entity_labels is not None:
        set_entity_patterns(config, entity_labels, patterns)
    if event_labels:
        set_event_labels(config, event_labels, cue_patterns)
    else:
        drop_components(config, event_components(config))
    return config


def run_training(
    nlp: Any,
    output: Path,
    *,
    max_seconds: float | None = None,
    stdout: IO[str] = sys.stdout,
    clock: Callable[[], float] = time.perf_counter,
    tracker: Tracker | None = None,
) -> LoopResult:
    """spaCy's training loop (``spacy.training.loop.train``) plus a time budget and a clean Ctrl-C.

    Writes ``output/model-best`` (best dev score) and ``output/model-last``. On Ctrl-C or when the budget is
    spent the last model is saved and, after a final dev evaluation, the best one kept. ``clock`` measures the
    budget (wall clock by default; benchmarks pass ``time.process_time`` so other load on the machine is fair).
    The config's logger logs each evaluation into ``tracker`` (None: nowhere).
    """
    from spacy.schemas import ConfigSchemaTraining
    from spacy.training.loop import (
        DIR_MODEL_BEST,
        DIR_MODEL_LAST,
        clean_output_dir,
        create_before_to_disk_callback,
        create_evaluation_callback,
        create_train_batches,
        train_while_improving,
        update_meta,
    )
    from spacy.util import registry, resolve_dot_names
    from thinc.api import fix_random_seed

    config = nlp.config.interpolate()
    if config["training"]["seed"] is not None:
        fix_random_seed(config["training"]["seed"])
    T = registry.resolve(config["training"], schema=ConfigSchemaTraining)
    train_corpus, dev_corpus = resolve_dot_names(config, [T["train_corpus"], T["dev_corpus"]])
    optimizer = T["optimizer"]
    before_to_disk = create_before_to_disk_callback(T["before_to_disk"])
    evaluate = create_evaluation_callback(nlp, dev_corpus, T["score_weights"])
    frozen = T["frozen_components"]
    steps = train_while_improving(
        nlp,
        optimizer,
        create_train_batches(nlp, train_corpus, T["batcher"], T["max_epochs"]),
        evaluate,
        dropout=T["dropout"],
        accumulate_gradient=T["accumulate_gradient"],
        patience=T["patience"],
        max_steps=T["max_steps"],
        eval_frequency=T["eval_frequency"],
        exclude=frozen,
        annotating_components=T["annotating_components"],
        before_update=T["before_update"],
    )

    def save(best: bool) -> None:
        with nlp.use_params(optimizer.averages):
            before_to_disk(nlp).to_disk(output / DIR_MODEL_LAST)
        if best:
            shutil.rmtree(output / DIR_MODEL_BEST, ignore_errors=True)
            shutil.copytree(output / DIR_MODEL_LAST, output / DIR_MODEL_BEST)

    clean_output_dir(output)
    output.mkdir(parents=True, exist_ok=True)
    with logging_into(tracker or Tracker()):  # the logger binds its tracker when it is set up
        log_step, finalize = T["logger"](nlp, stdout, sys.stderr)
    start = clock()
    best: float | None = None
    step = 0
    stopped: str | None = None
    info: dict[str, Any] = {}
    try:
        for _batch, info, is_best in steps:
            step = info["step"]
            if is_best is not None:
                best = info["score"] if is_best or best is None else best
                update_meta(T, nlp, info)
                save(bool(is_best))
                info["output_path"] = str(output / DIR_MODEL_LAST)
            log_step(info if is_best is not None else None)
            if max_seconds is not None and clock() - start > max_seconds:
                stopped = "time budget"
                break
    except KeyboardInterrupt:
        stopped = "interrupted"
    finally:
        finalize()
    if stopped is not None or not (output / DIR_MODEL_BEST).exists():
        # The steps since the last evaluation are not lost: score them once and keep them if better.
        with nlp.use_params(optimizer.averages):  # as spaCy's loop scores, and as save() writes the model
            score, other = evaluate()
        info = {**info, "score": score, "other_scores": other}
        update_meta(T, nlp, info)
        save(best is None or score > best)
        best = score if best is None or score > best else best
    if optimizer.averages:
        nlp.use_params(optimizer.averages)
    return LoopResult(seconds=clock() - start, steps=step, best_score=best, stopped=stopped)


def train(
    ws: Workspace,
    *,
    config: Path | str | None = None,
    data: Path | None = None,
    pretrained: Path | None = None,
    name: str | None = None,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    max_seconds: float | None = None,
    track: bool = True,
    group: str | None = None,
    stdout: IO[str] = sys.stdout,
) -> TrainResult:
    """Train a new model version on a converted export; see the module docstring for what it writes."""
    import spacy
    from spacy.training.initialize import init_nlp

    ws.ensure()
    # Every config this run uses is loaded and checked here, before the long step (never after it).
    config_path = resolve_config_path(ws, config)
    folder = check_data(Path(data) if data else default_data(ws))
    schema = load_schema(ws.schema_path)
    if roles_apply(schema):
        roles_config = load_roles_config(ws.config_path("roles.yaml"), schema)
        if roles_config.ignored_labels:
            print(
                f"Roles: the heuristic ignores labels the schema lacks: {', '.join(roles_config.ignored_labels)}.",
                file=stdout,
            )
    else:
        print("Roles: off (the schema has no events, so there are no actor roles to learn or score).", file=stdout)
    cfg = prepare_config(
        config_path,
        data=folder,
        event_labels=schema.event_labels,
        entity_labels=schema.entity_labels,
        patterns=patterns_dir(ws),
        pretrained=pretrained,
        seed=seed,
        overrides=overrides,
        cue_patterns=event_cue_file(ws),
    )
    version = versions.next_version(ws, name or config_path.stem)
    vdir = ws.models_dir / version
    vdir.mkdir(parents=True)  # reserves the number; fails loudly if a parallel run took it
    staging = vdir / _STAGING
    record = data_record(folder)

    tracker = None
    dataset = artifact_name(f"data-{folder.name}")
    try:
        nlp = init_nlp(cfg, use_gpu=-1)
        filled = nlp.config.interpolate()
        if track:
            tracker = start_run(ws, job_type="train", config=filled, name=version, group=group)
            files = [*(folder / n for n in SPLIT_FILES), folder / "manifest.json"]
            tracker.use_dataset(dataset, files, {k: v for k, v in record.items() if k != "folder"})
        # each evaluation step is logged by the config's [training.logger] (treffpunkt.WandbLogger.v1)
        loop = run_training(nlp, staging, max_seconds=max_seconds, stdout=stdout, tracker=tracker)
    except BaseException:
        if not (staging / "model-best").exists():
            shutil.rmtree(vdir, ignore_errors=True)  # nothing worth keeping; free the number
        if tracker is not None:
            tracker.finish()
        raise

    _promote(staging, vdir)
    best = spacy.load(vdir)
    train_docs, dev_docs = (read_docbin(folder / name, best.vocab) for name in ("train.spacy", "dev.spacy"))
    # per-label event thresholds chosen on dev (never on test), saved with the pipeline
    thresholds = tune_event_thresholds(best, dev_docs, schema.event_labels)
    if thresholds:
        best.to_disk(vdir)
    # roles learn from the training split only (like the pipeline); dev/test below score them end to end
    roles = train_roles(train_docs, vdir, schema) if roles_apply(schema) else None
    assigner = version_roles(ws, vdir, schema)
    dev_scores = evaluate_nlp(best, dev_docs, schema, roles=assigner)
    test_scores = (
        evaluate_nlp(best, read_docbin(folder / "test.spacy", best.vocab), schema, roles=assigner)
        if (folder / "test.spacy").exists()
        else {}
    )
    meta = versions.read_meta(vdir)
    meta["treffpunkt"] = {
        "version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": record,
        "schema_sha256": schema.hash,
        "config_file": config_path.name,
        "config": filled,
        "pretrained": str(Path(pretrained).resolve()) if pretrained else None,
        "git_commit": git_commit(),
        "training_seconds": round(loop.seconds, 2),
        "steps": loop.steps,
        "best_dev_score": loop.best_score,
        "stopped": loop.stopped,
        "interrupted": loop.stopped == "interrupted",
        "roles": roles_record(roles),
        "event_thresholds": thresholds,
        "dev_scores": dev_scores,
        "test_scores": test_scores,
        # which documents shaped this version: trained on train, model-selected on dev; test only scored
        "seen": {
            "trained_on": _article_ids(train_docs),
            "selected_on": _article_ids(dev_docs),
            "test": "scored only, never used for training or selection",
        },
        "wandb_run": tracker.path if tracker is not None else None,
    }
    write_json(vdir / "meta.json", meta)
    if tracker is not None:
        log_scores(tracker, dev_scores, prefix=FINAL_DEV)
        if test_scores:
            log_scores(tracker, test_scores, prefix=FINAL_TEST)
        tracker.log_model(
            version,
            vdir,
            {
                "version": version,
                # lineage: the dataset artifact this run used and the config it was trained with
                "dataset": f"{dataset}:latest",
                "export_sha256": record.get("export_sha256"),
                "config_file": config_path.name,
                "config_sha256": config_digest(filled),
                "schema_sha256": schema.hash,
                "dev_ents_f": dev_scores.get("ents_f"),
                "dev_events_f": dev_scores.get("events_f"),
            },
        )
        tracker.finish()
    return TrainResult(
        version=version,
        path=vdir,
        seconds=loop.seconds,
        dev_scores=dev_scores,
        test_scores=test_scores,
        interrupted=loop.stopped == "interrupted",
        stopped=loop.stopped,
        wandb_path=meta["treffpunkt"]["wandb_run"],
        meta=meta,
    )


def roles_record(result: Any) -> dict[str, Any]:
    """What meta.json says about the role assigner: classifier (and what it learned from) or heuristic (and why)."""
    if result is None:
        return {"kind": "off", "reason": "the schema has no events"}
    report = result.report
    record: dict[str, Any] = {"kind": result.kind, "file": result.path.name if result.path else None}
    if result.kind == "heuristic":
        record["reason"] = report.get("reason")
        record["heuristic"] = "configs/roles.yaml (heuristic section)"
    else:
        unreachable = report.get("relations_unreachable", [])
        record.update(
            {
                "pairs": report.get("pairs"),
                "label_counts": report.get("label_counts"),
                "relations_reached": report.get("relations_reached"),
                "relations_unreachable": len(unreachable),
                "report": "roles.json",
            }
        )
    return record


def config_digest(config: Any) -> str:
    """sha256 of a filled config's text: the same settings give the same digest (lineage in model artifacts)."""
    return hashlib.sha256(config.to_str().encode("utf-8")).hexdigest()


def _promote(staging: Path, vdir: Path) -> None:
    """Make the version directory the best model, with model-last/ inside it."""
    for item in (staging / "model-best").iterdir():
        shutil.move(str(item), vdir / item.name)
    shutil.move(str(staging / "model-last"), vdir / "model-last")
    shutil.rmtree(staging)


__all__ = ["TrainResult", "LoopResult", "train", "run_training", "prepare_config", "data_record", "sanitize"]
