"""Shared benchmark helpers: warm-up, repeated timing, mean with a bootstrap 95 % CI, peak memory, JSON."""

from __future__ import annotations

import platform
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from treffpunkt.core.io import write_json

RESULTS = Path(__file__).resolve().parent / "results"
GNAD_CSV = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "gnad" / "test.csv"


@dataclass
class Timing:
    """Wall-clock seconds of repeated runs and their summary."""

    seconds: list[float]
    mean: float
    ci95: tuple[float, float]
    peak_mb: float | None = None  # Python heap peak (tracemalloc) of one extra measured run
    extra: dict[str, Any] = field(default_factory=dict)


def bootstrap_ci(values: list[float], *, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95 % bootstrap confidence interval of the mean."""
    if len(values) < 2:
        return (values[0], values[0]) if values else (float("nan"), float("nan"))
    rng = random.Random(seed)
    means = sorted(statistics.fmean(rng.choices(values, k=len(values))) for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def peak_memory_mb(func: Callable[[], Any]) -> float:
    """Peak Python allocation of one call, in MiB (tracemalloc; excludes memory held by C libraries)."""
    tracemalloc.start()
    try:
        func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def max_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024


def time_runs(
    func: Callable[[], Any],
    *,
    repeat: int = 5,
    warmup: int = 1,
    setup: Callable[[], Any] | None = None,
    memory: bool = True,
) -> Timing:
    """Run ``setup`` (untimed) then ``func`` (timed) ``warmup + repeat`` times; warm-up runs are discarded."""
    seconds = []
    for i in range(warmup + repeat):
        if setup:
            setup()
        start = time.perf_counter()
        func()
        elapsed = time.perf_counter() - start
        if i >= warmup:
            seconds.append(elapsed)
    peak = None
    if memory:
        if setup:
            setup()
        peak = peak_memory_mb(func)
    return Timing(seconds=seconds, mean=statistics.fmean(seconds), ci95=bootstrap_ci(seconds), peak_mb=peak)


def environment() -> dict[str, Any]:
    import os

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_result(name: str, data: dict[str, Any]) -> Path:
    """Write ``bench/results/NAME.json`` with the environment added."""
    path = RESULTS / f"{name}.json"
    write_json(path, {"benchmark": name, "environment": environment(), **_plain(data)})
    return path


def _plain(value: Any) -> Any:
    """Timings anywhere in a result (nested too) as plain JSON objects."""
    if isinstance(value, Timing):
        return asdict(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def gnad_articles(n: int, *, seed: int = 0, fresh_strings: bool = False) -> list[Any]:
    """``n`` gnad test articles in a seeded order, the 1,028 repeated with distinct ids when more are asked for.

    ``fresh_strings`` gives every repeat its own copy of the text, so memory figures are not flattered by sharing.
    """
    import csv
    import hashlib

    from treffpunkt.core.article import Article, Origin

    rows = []
    with GNAD_CSV.open(encoding="utf-8") as handle:
        for i, row in enumerate(csv.reader(handle, delimiter=";", quotechar="'")):
            if len(row) >= 2 and row[1].strip():
                rows.append((i, row[0], row[1].strip()))
    random.Random(seed).shuffle(rows)
    out = []
    for k in range(n):
        i, category, text = rows[k % len(rows)]
        if fresh_strings:
            text = text.encode().decode()
        out.append(Article(
            id=hashlib.sha256(f"{k}:{text}".encode()).hexdigest()[:16], title=text[:60], text=text, source="gnad",
            cluster=f"c{k}", origin=Origin(path=str(GNAD_CSV), kind="csv", line=i), meta={"category": category},
            added="2024-01-01T00:00:00Z",
        ))  # fmt: skip
    return out
