"""Ingest the 10kGNAD test CSV (1,028 articles) into a fresh temporary workspace: articles/s and peak memory.

Target: under 30 s per run on 2 cores. Each run starts from an empty corpus (setup is not timed); the last
measured run also traces peak Python memory. Results: bench/results/ingest.json.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bench.common import GNAD_CSV, max_rss_mb, time_runs, write_result
from treffpunkt.annotation.ingest.corpus import IngestOptions, add
from treffpunkt.core.workspace import init_workspace

REPEAT = 3


def main() -> None:
    if not GNAD_CSV.exists():
        raise SystemExit(f"{GNAD_CSV} not found: the benchmark needs the shared gnad data.")
    root = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    state: dict[str, object] = {}

    def setup() -> None:
        shutil.rmtree(root / "ws", ignore_errors=True)
        state["ws"] = init_workspace(root / "ws")

    def run() -> None:
        state["report"] = add(state["ws"], [GNAD_CSV], options=IngestOptions(progress=False))  # type: ignore[arg-type]

    try:
        timing = time_runs(run, repeat=REPEAT, warmup=1, setup=setup)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report = state["report"]
    articles = report.added  # type: ignore[attr-defined]
    rate = [articles / s for s in timing.seconds]
    result = {
        "input": str(GNAD_CSV),
        "articles": articles,
        "timing": timing,
        "articles_per_second": {
            "mean": articles / timing.mean,
            "min": min(rate),
            "max": max(rate),
            "ci95": [articles / timing.ci95[1], articles / timing.ci95[0]],
        },
        "peak_python_heap_mb": round(timing.peak_mb or 0.0, 1),
        "max_rss_mb": round(max_rss_mb(), 1),
        "target_seconds": 30,
        "meets_target": max(timing.seconds) < 30,
    }
    path = write_result("ingest", result)
    print(
        f"{articles} articles in {timing.mean:.2f} s (95% CI {timing.ci95[0]:.2f}-{timing.ci95[1]:.2f}), "
        f"{articles / timing.mean:.0f} articles/s, peak heap {timing.peak_mb:.0f} MiB, "
        f"max RSS {max_rss_mb():.0f} MiB -> {path}"
    )
