"""Push and pull against a real Label Studio (started for the run in a temporary workspace).

- push: 1,000 gnad articles (../shared/data/gnad/test.csv) with 10-span predictions each (7 entities + 3 events
  from a model version on disk, so `push` runs spacy.load + nlp.pipe like `annotate push --model`), into a fresh
  project per run. Reference in the same run: one bare SDK ``projects.import_tasks`` call per 500 tasks with the
  identical payload (predictions precomputed, untimed), and per-task ``predictions.create`` on 50 tasks.
  Targets: >= 250 tasks/s and >= 0.7x the bare bulk call. Two ways of pushing, both measured:
  * ``push --predictions FILE`` — predictions precomputed by ``annotate preannotate`` (untimed, like the bare
    call's payload): the like-for-like comparison with the bare ``import_tasks`` (same payload, same requests
    plus our listing of existing tasks, dedup, progress);
  * ``push --model`` — inference included (spacy.load + nlp.pipe + conversion, overlapped with the import
    requests). The model's own inference time is measured alone too, so the figures separate push overhead from
    model cost (a real model's nlp.pipe dominates; the stand-in here is cheap but still tokenises 369k words).
- pull: 2,000 annotated tasks (10 regions each: 7 entities, 3 events); ``pull`` (export + download + atomic save + sha256 +
  convert) and ``pull --no-convert`` vs the bare SDK export (create, poll, download into memory).
Results: bench/results/push_pull.json.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import GNAD_CSV, gnad_articles, time_runs, write_result
from treffpunkt.annotation.labelstudio import server as studio_mod
from treffpunkt.annotation.labelstudio.client import connect
from treffpunkt.annotation.labelstudio.project import ProjectRef, _remember
from treffpunkt.annotation.labelstudio.pull import pull, snapshot
from treffpunkt.annotation.labelstudio.push import article_task_data, chunks, import_annotated_tasks, push
from treffpunkt.core.schema import load_schema
from treffpunkt.core.workspace import init_workspace

N_PUSH = 1000
N_PER_TASK = 50
N_PULL = 2000
SPANS = 10
BATCH = 500
COMPONENT = "treffpunkt_bench_ten_spans"


def _register_component(entity_labels: list[str], event_labels: list[str]) -> None:
    """A deterministic stand-in model: 7 one-word entities + 3 scored event spans per doc (no training needed)."""
    from spacy.language import Language
    from spacy.tokens import Span

    if COMPONENT in Language.factories:
        return

    @Language.component(COMPONENT)
    def ten_spans(doc):  # type: ignore[no-untyped-def]
        words = [t.i for t in doc if t.is_alpha][:: max(1, len(doc) // 40)][:SPANS]
        ents = [Span(doc, i, i + 1, label=entity_labels[k % len(entity_labels)]) for k, i in enumerate(words[:7])]
        doc.ents = ents
        events = [Span(doc, i, i + 1, label=event_labels[k % len(event_labels)]) for k, i in enumerate(words[7:SPANS])]
        doc.spans["events"] = events
        doc.spans["events"].attrs["scores"] = [0.5 + 0.05 * k for k in range(len(events))]
        return doc


def _rate(n: int, timing: Any) -> dict[str, float]:
    return {"mean": n / timing.mean, "ci95": [n / timing.ci95[1], n / timing.ci95[0]], "min": n / max(timing.seconds)}


def main() -> None:
    if not GNAD_CSV.exists():
        raise SystemExit(f"{GNAD_CSV} not found: the benchmark needs the shared gnad data.")
    import spacy

    root = Path(tempfile.mkdtemp(prefix="bench-push-pull-"))
    ws = init_workspace(root / "ws")
    try:
        server = studio_mod.start(ws, port=0, timeout=400)
        os.environ.pop("LABEL_STUDIO_URL", None)
        studio = connect(ws)
        schema = load_schema(ws.schema_path)
        config = schema.label_config()
        _register_component(schema.entity_labels, schema.event_labels)
        nlp = spacy.blank(schema.language)
        nlp.add_pipe(COMPONENT)
        model_dir = ws.models_dir / "bench-001"
        nlp.to_disk(model_dir)
        articles = gnad_articles(N_PUSH)

        def fresh_project() -> ProjectRef:
            title = f"bench-{uuid.uuid4().hex[:8]}"
            created = studio.sdk.projects.create(title=title, label_config=config)
            ref = ProjectRef(int(created.id), title, studio.url)
            _remember(ws, ref)
            return ref

        state: dict[str, Any] = {}

        # --- ours: `annotate push --model` (listing, spacy.load, nlp.pipe, chunked bulk import)
        timing_push = time_runs(
            lambda: state.update(result=push(ws, model=model_dir, articles=articles, batch_size=BATCH, studio=studio)),
            repeat=3, warmup=1, setup=lambda: state.update(project=fresh_project()), memory=False,
        )  # fmt: skip
        assert state["result"].imported == N_PUSH, state["result"]

        # --- reference: bare SDK import_tasks with the identical payload (predictions precomputed, untimed)
        from treffpunkt.annotation.labelstudio.predictions import doc_to_prediction

        loaded = spacy.load(model_dir)
        payload = [
            {"data": article_task_data(a), "predictions": [doc_to_prediction(doc, schema, model_version="bench-001")]}
            for a, doc in zip(articles, loaded.pipe(a.text for a in articles), strict=True)
        ]
        regions = sum(len(t["predictions"][0]["result"]) for t in payload) / len(payload)

        # the model's own cost (nlp.pipe + conversion to Label Studio regions), measured alone for reference
        # (a fresh spacy.load per run, as `push --model` does: its vocab starts cold)
        def model_only() -> None:
            fresh = spacy.load(model_dir)
            [doc_to_prediction(d, schema, model_version="bench-001") for d in fresh.pipe(a.text for a in articles)]

        timing_model = time_runs(model_only, repeat=3, warmup=0, memory=False)

        def bare_import() -> None:
            pid = state["project"].id
            for batch in chunks(payload, BATCH):
                studio.sdk.projects.import_tasks(pid, request=list(batch))

        timing_bare = time_runs(
            bare_import, repeat=3, warmup=1, setup=lambda: state.update(project=fresh_project()), memory=False
        )

        # --- ours with precomputed predictions: `annotate preannotate` (timed once, for reference) + `push --predictions`
        from treffpunkt.annotation.labelstudio.push import save_predictions

        predictions_file = root / "predictions.jsonl"
        began = time.perf_counter()
        save_predictions(ws, model=model_dir, out=predictions_file, articles=articles, schema=schema)
        preannotate_s = time.perf_counter() - began
        timing_precomputed = time_runs(
            lambda: state.update(result=push(ws, predictions=predictions_file, articles=articles, batch_size=BATCH, studio=studio, schema=schema)),
            repeat=3, warmup=1, setup=lambda: state.update(project=fresh_project()), memory=False,
        )  # fmt: skip
        assert state["result"].imported == N_PUSH and not state["result"].without_prediction, state["result"]

        # --- reference: one HTTP call per task (predictions.create) on 50 tasks that exist already
        ref = fresh_project()
        studio.sdk.projects.import_tasks(ref.id, request=[{"data": t["data"]} for t in payload[:N_PER_TASK]])
        from treffpunkt.annotation.labelstudio.push import existing_tasks

        ids = existing_tasks(studio, ref.id)
        began = time.perf_counter()
        for task in payload[:N_PER_TASK]:
            p = task["predictions"][0]
            studio.sdk.predictions.create(
                task=ids[task["data"]["article_id"]],
                result=p["result"],
                model_version=p["model_version"],
                score=p.get("score"),
            )
        per_task_s = time.perf_counter() - began

        # --- pull: 2,000 tasks each carrying one annotation with 10 entity regions
        pull_ref = fresh_project()
        annotated = []
        pull_articles = gnad_articles(N_PULL, seed=1)
        for a, doc in zip(pull_articles, loaded.pipe(a.text for a in pull_articles), strict=True):
            layers = [("entities", s) for s in doc.ents] + [("events", s) for s in doc.spans["events"]]
            result = [
                {"id": f"r{k}", "from_name": control, "to_name": "text", "type": "labels",
                 "value": {"start": s.start_char, "end": s.end_char, "text": s.text, "labels": [s.label_]}}
                for k, (control, s) in enumerate(layers)
            ]  # fmt: skip
            annotated.append({"data": article_task_data(a), "annotations": [{"result": result}]})
        imported = import_annotated_tasks(studio, pull_ref, annotated)
        assert imported.imported == N_PULL, imported

        timing_pull = time_runs(
            lambda: state.update(pull=pull(ws, studio=studio, schema=schema)), repeat=2, warmup=1, memory=False
        )
        timing_pull_raw = time_runs(lambda: pull(ws, studio=studio, convert=False), repeat=3, warmup=1, memory=False)

        def bare_export() -> None:
            export_id = snapshot(studio, pull_ref.id)  # create + poll through the SDK
            state["bytes"] = sum(
                len(c) for c in studio.sdk.projects.exports.download(pull_ref.id, export_id, export_type="JSON")
            )

        timing_export = time_runs(bare_export, repeat=3, warmup=1, memory=False)
        converted = state["pull"].converted

        push_rate, bare_rate = N_PUSH / timing_push.mean, N_PUSH / timing_bare.mean
        pre_rate = N_PUSH / timing_precomputed.mean
        result = {
            "server": {"label_studio": "local, SQLite", "url": server.url},
            "push": {
                "tasks": N_PUSH, "regions_per_task": regions, "batch_size": BATCH,
                "ours_annotate_push_predictions_file": timing_precomputed,
                "ours_precomputed_tasks_per_s": _rate(N_PUSH, timing_precomputed),
                "ratio_precomputed_vs_bare": pre_rate / bare_rate,
                "preannotate_seconds_once": preannotate_s,
                "ours_annotate_push_model": timing_push, "ours_tasks_per_s": _rate(N_PUSH, timing_push),
                "bare_import_tasks": timing_bare, "bare_tasks_per_s": _rate(N_PUSH, timing_bare),
                "per_task_predictions_create": {"tasks": N_PER_TASK, "seconds": per_task_s, "tasks_per_s": N_PER_TASK / per_task_s},
                "model_inference": timing_model,
                "ratio_ours_vs_bare": push_rate / bare_rate,
                # the same work done naively: run the model, then bulk-import (sequential)
                "ratio_ours_vs_model_then_bare": (timing_model.mean + timing_bare.mean) / timing_push.mean,
                "ours_seconds_minus_model": timing_push.mean - timing_model.mean,
                "targets": {"tasks_per_s": 250, "ratio_vs_bare": 0.7},
                "meets_targets": {
                    "push_predictions_file": pre_rate >= 250 and pre_rate / bare_rate >= 0.7,
                    "push_model_inference_included": push_rate >= 250 and push_rate / bare_rate >= 0.7,
                },
            },
            "pull": {
                "tasks": N_PULL, "export_bytes": state["bytes"],
                "ours_pull_and_convert": timing_pull, "ours_pull_and_convert_tasks_per_s": _rate(N_PULL, timing_pull),
                "ours_pull_no_convert": timing_pull_raw, "ours_pull_no_convert_tasks_per_s": _rate(N_PULL, timing_pull_raw),
                "bare_export": timing_export, "bare_export_tasks_per_s": _rate(N_PULL, timing_export),
                "ratio_no_convert_vs_bare": timing_export.mean / timing_pull_raw.mean,
                "converted_docs": converted.counts if converted else None,
            },
        }  # fmt: skip
        path = write_result("push_pull", result)
        print(
            f"push --predictions FILE: {pre_rate:.0f} tasks/s (ratio {pre_rate / bare_rate:.2f} vs bare); "
            f"push --model (inference included): {push_rate:.0f} tasks/s (ratio {push_rate / bare_rate:.2f}); "
            f"bare import_tasks {bare_rate:.0f} tasks/s; per-task predictions.create {N_PER_TASK / per_task_s:.1f} tasks/s"
        )
        print(
            f"model inference alone {timing_model.mean:.1f} s; model + bare import {timing_model.mean + timing_bare.mean:.1f} s "
            f"vs ours {timing_push.mean:.1f} s"
        )
        print(
            f"pull {N_PULL}: ours+convert {timing_pull.mean:.1f} s, ours raw {timing_pull_raw.mean:.1f} s, "
            f"bare export {timing_export.mean:.1f} s"
        )
        print(f"Results: {path}")
    finally:
        studio_mod.stop(ws)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
