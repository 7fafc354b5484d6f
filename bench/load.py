"""Load: 10,000 articles pushed into a fresh Label Studio project and pulled back, with bounded memory.

gnad articles (../shared/data/gnad/test.csv, 1,028 rows) repeated with distinct ids *and distinct string objects*
(as a real corpus read from articles.jsonl would be) go through ``treffpunkt.annotation.labelstudio.push.push`` into a fresh project, then
``treffpunkt.annotation.labelstudio.pull.pull`` (snapshot export → raw JSON + sha256 → convert) brings them back. Checked: no errors, the
project holds exactly N tasks, the export holds exactly N tasks. Done at N = 2,000 and N = 10,000 so memory growth
can be read off: peak RSS of the pushing / pulling process above its RSS just before the call (each step in its
own child process, the kernel's high-water mark reset right before the call, so imports, spaCy's language data
and building the input do not count). References in the same run, same server, same payload: bare SDK ``projects.import_tasks`` (chunks
of 500, payload built beforehand) and a bare export (create, poll, streamed download, nothing kept).
Results: bench/results/load.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import GNAD_CSV, gnad_articles, max_rss_mb

SIZES = tuple(int(n) for n in os.environ.get("TREFFPUNKT_LOAD_SIZES", "2000,10000").split(","))
BATCH = 500
REPO = Path(__file__).resolve().parent.parent
STEPS = ("push", "bare_import", "pull", "bare_export")


def _rss_mb(field: str) -> float | None:
    """VmRSS / VmHWM of this process in MiB (Linux); None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS, so the next peak is the call's own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def child(step: str, n: int, ws_root: str, project_id: int, out: str) -> None:
    """One measured step in this (fresh) process; figures go to ``out`` as JSON."""
    from treffpunkt.annotation.labelstudio.client import connect
    from treffpunkt.annotation.labelstudio.pull import pull, snapshot
    from treffpunkt.annotation.labelstudio.push import article_task_data, chunks, push
    from treffpunkt.core.schema import load_schema
    from treffpunkt.core.workspace import Workspace

    ws = Workspace(Path(ws_root))
    studio = connect(ws)
    schema = load_schema(ws.schema_path)
    articles = gnad_articles(n, fresh_strings=True) if step in ("push", "bare_import") else []
    payload = [{"data": article_task_data(a)} for a in articles] if step == "bare_import" else []
    text_mb = sum(len(a.text.encode()) for a in articles) / 2**20
    figures: dict[str, Any] = {"step": step, "n": n, "input_text_mb": text_mb}
    if step == "pull":
        # pull imports the converter and builds a blank pipeline lazily: a fixed cost, not growth with the data
        import spacy

        import treffpunkt.annotation.convert.docs  # noqa: F401

        spacy.blank(schema.language).add_pipe("sentencizer")

    rss_before, hwm_reset = _rss_mb("VmRSS"), _reset_peak()
    maxrss_before = max_rss_mb()
    began = time.perf_counter()
    if step == "push":
        result = push(ws, articles=articles, batch_size=BATCH, studio=studio, schema=schema)
        figures.update(imported=result.imported, already_present=result.already_present, requests=result.requests)
    elif step == "bare_import":
        figures["imported"] = sum(
            int(studio.sdk.projects.import_tasks(project_id, request=list(batch)).task_count or 0)
            for batch in chunks(payload, BATCH)
        )
    elif step == "pull":
        result = pull(ws, studio=studio, schema=schema)
        converted = result.converted
        figures.update(tasks=result.tasks, export_mb=result.export_path.stat().st_size / 2**20,
                       seconds_export=result.seconds_export, seconds_convert=result.seconds_convert,
                       convert_counts=getattr(converted, "counts", None))  # fmt: skip
    elif step == "bare_export":
        export_id = snapshot(studio, project_id)
        size = 0
        for chunk in studio.sdk.projects.exports.download(project_id, export_id, export_type="JSON"):
            size += len(chunk)
        figures["export_mb"] = size / 2**20
    else:
        raise SystemExit(f"unknown step {step!r}")
    figures["seconds"] = time.perf_counter() - began
    peak = _rss_mb("VmHWM") if hwm_reset else None
    figures.update(
        rss_before_mb=rss_before,
        peak_rss_mb=peak if peak is not None else max_rss_mb(),
        peak_source="VmHWM reset before the call" if peak is not None else "ru_maxrss (includes set-up)",
        maxrss_before_mb=maxrss_before,
    )
    figures["growth_mb"] = figures["peak_rss_mb"] - (rss_before if peak is not None else maxrss_before)
    Path(out).write_text(json.dumps(figures), encoding="utf-8")


def _run_child(step: str, n: int, ws_root: Path, project_id: int, scratch: Path) -> dict[str, Any]:
    out = scratch / f"{step}-{n}.json"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "TREFFPUNKT_PROJECT_TITLE")
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.load", "--child", step, str(n), str(ws_root), str(project_id), str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"bench load: step {step} with {n} articles failed:\n{done.stderr[-3000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def main() -> None:
    if not GNAD_CSV.exists():
        raise SystemExit(f"{GNAD_CSV} not found: the benchmark needs the shared gnad data.")
    from bench.common import write_result
    from treffpunkt.annotation.labelstudio import server as studio_mod
    from treffpunkt.annotation.labelstudio.client import connect
    from treffpunkt.annotation.labelstudio.project import ProjectRef, _remember
    from treffpunkt.core.schema import load_schema
    from treffpunkt.core.workspace import init_workspace

    root = Path(tempfile.mkdtemp(prefix="bench-load-"))
    ws = init_workspace(root / "ws")
    began = time.perf_counter()
    try:
        server = studio_mod.start(ws, port=0, timeout=400)
        os.environ.pop("LABEL_STUDIO_URL", None)
        studio = connect(ws)
        config = load_schema(ws.schema_path).label_config()

        def fresh_project() -> ProjectRef:
            created = studio.sdk.projects.create(title=f"load-{uuid.uuid4().hex[:8]}", label_config=config)
            return ProjectRef(int(created.id), str(created.title), studio.url)

        def task_count(project_id: int) -> int:
            return int(studio.sdk.projects.get(project_id).task_number or 0)

        sizes: dict[str, Any] = {}
        for n in SIZES:
            ours, bare = fresh_project(), fresh_project()
            _remember(ws, ours)  # push and pull work on the workspace's project
            steps = {"push": _run_child("push", n, ws.root, ours.id, root)}
            steps["bare_import"] = _run_child("bare_import", n, ws.root, bare.id, root)
            counts = {"ours": task_count(ours.id), "bare": task_count(bare.id)}
            steps["pull"] = _run_child("pull", n, ws.root, ours.id, root)
            steps["bare_export"] = _run_child("bare_export", n, ws.root, ours.id, root)
            checks = {
                "pushed_exact": steps["push"]["imported"] == n and counts["ours"] == n,
                "bare_exact": steps["bare_import"]["imported"] == n and counts["bare"] == n,
                "pulled_exact": steps["pull"]["tasks"] == n,
            }
            sizes[str(n)] = {"project_task_counts": counts, "checks": checks, **steps,
                             "push_tasks_per_s": n / steps["push"]["seconds"],
                             "bare_import_tasks_per_s": n / steps["bare_import"]["seconds"],
                             "pull_tasks_per_s": n / steps["pull"]["seconds"],
                             "bare_export_tasks_per_s": n / steps["bare_export"]["seconds"]}  # fmt: skip
            print(
                f"{n:>6} articles: push {steps['push']['seconds']:.1f} s (+{steps['push']['growth_mb']:.0f} MiB RSS), "
                f"bare import {steps['bare_import']['seconds']:.1f} s (+{steps['bare_import']['growth_mb']:.0f} MiB), "
                f"pull {steps['pull']['seconds']:.1f} s (+{steps['pull']['growth_mb']:.0f} MiB), "
                f"bare export {steps['bare_export']['seconds']:.1f} s (+{steps['bare_export']['growth_mb']:.0f} MiB); "
                f"checks {checks}",
                flush=True,
            )

        small, large = (sizes[str(n)] for n in (min(SIZES), max(SIZES)))
        factor = max(SIZES) / min(SIZES)
        # growth ratio vs data ratio: < factor means the step's memory grows sub-linearly with the article count
        # (growth below 1 MiB counts as 1 MiB: RSS moves in pages and allocator arenas, smaller is noise)
        growth = {step: {"small_mb": small[step]["growth_mb"], "large_mb": large[step]["growth_mb"],
                         "ratio": max(large[step]["growth_mb"], 1.0) / max(small[step]["growth_mb"], 1.0),
                         "sublinear": large[step]["growth_mb"] < factor * max(small[step]["growth_mb"], 1.0)}
                  for step in STEPS}  # fmt: skip
        result = {
            "server": {"label_studio": "local, SQLite", "url": server.url},
            "sizes": sizes, "size_factor": factor, "memory_growth": growth,
            "all_checks_pass": all(all(s["checks"].values()) for s in sizes.values()),
            "wall_s": time.perf_counter() - began,
            "note": "growth_mb = peak RSS of the step's process above its RSS just before the call "
                    "(VmHWM reset via /proc/self/clear_refs); the machine is shared, so seconds are noisy.",
        }  # fmt: skip
        path = write_result("load", result)
        for step, g in growth.items():
            print(
                f"memory {step}: +{g['small_mb']:.0f} MiB at {min(SIZES)} -> +{g['large_mb']:.0f} MiB at {max(SIZES)} "
                f"(x{g['ratio']:.1f} for x{factor:.0f} data; sub-linear: {g['sublinear']})"
            )
        print(f"Results: {path}")
        if not result["all_checks_pass"]:
            raise SystemExit("bench load: a count check failed (see the checks above)")
    finally:
        studio_mod.stop(ws)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6])
    else:
        main()
