"""``treffpunkt train-curve``: train on growing shares of the training docs to see whether more data helps.

Scores are dev scores (the test split stays untouched). "More data likely helps" when the last segment of the
curve still rises by at least :data:`HELPS_THRESHOLD` (absolute dev score per extra 25 % of the data): a curve
that is still climbing at full size has not saturated.
"""

from __future__ import annotations

import io
import random
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from treffpunkt.annotation.patterns.ruler import patterns_dir
from treffpunkt.core.errors import InputError
from treffpunkt.core.io import write_json
from treffpunkt.core.schema import load_schema
from treffpunkt.core.tracking import start_run
from treffpunkt.core.workspace import Workspace
from treffpunkt.training.evaluation.evaluate import evaluate_nlp, read_docbin
from treffpunkt.training.train.config import resolve_config_path
from treffpunkt.training.train.trainer import check_data, default_data, prepare_config, run_training

FRACTIONS = (0.25, 0.5, 0.75, 1.0)
#: Minimum rise of the combined dev score per extra 25 % of training docs that counts as "still improving".
HELPS_THRESHOLD = 0.01


@dataclass
class CurvePoint:
    fraction: float
    docs: int
    score: float
    ents_f: float
    events_f: float
    seconds: float


@dataclass
class CurveResult:
    points: list[CurvePoint]
    slope: float
    more_data_helps: bool
    png: Path | None
    report: Path
    wandb_path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def last_slope(points: Sequence[CurvePoint]) -> float:
    """Score gain per extra 25 % of the data over the curve's last segment."""
    if len(points) < 2:
        return 0.0
    a, b = points[-2], points[-1]
    return (b.score - a.score) / ((b.fraction - a.fraction) / 0.25) if b.fraction > a.fraction else 0.0


def plot(points: Sequence[CurvePoint], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [p.fraction * 100 for p in points]
    ax.plot(xs, [p.score for p in points], marker="o", label="dev score")
    ax.plot(xs, [p.ents_f for p in points], marker=".", linestyle="--", label="entities F")
    ax.plot(xs, [p.events_f for p in points], marker=".", linestyle=":", label="events F")
    ax.set_xlabel("% of training documents")
    ax.set_ylabel("dev score")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def train_curve(
    ws: Workspace,
    *,
    config: Path | str | None = "fast",
    data: Path | None = None,
    fractions: Sequence[float] = FRACTIONS,
    seed: int = 0,
    overrides: Mapping[str, Any] | None = None,
    track: bool = True,
) -> CurveResult:
    """Train ``config`` on each share of the training docs (same seed, same dev set) and score each on dev."""
    import spacy
    from spacy.tokens import DocBin
    from spacy.training.initialize import init_nlp

    ws.ensure()
    folder = check_data(Path(data) if data else default_data(ws))
    config_path = resolve_config_path(ws, config)
    schema = load_schema(ws.schema_path)
    vocab = spacy.blank(schema.language).vocab
    train_docs = read_docbin(folder / "train.spacy", vocab)
    if len(train_docs) < len(fractions):
        raise InputError(
            f"Only {len(train_docs)} training docs: too few for a {len(fractions)}-point curve.",
            hint="Annotate more documents first.",
        )
    random.Random(seed).shuffle(train_docs)
    points: list[CurvePoint] = []
    with tempfile.TemporaryDirectory(prefix="train-curve-") as tmp:
        for fraction in sorted(fractions):
            share = Path(tmp) / f"{int(fraction * 100)}"
            share.mkdir()
            n = max(1, round(len(train_docs) * fraction))
            DocBin(docs=train_docs[:n], store_user_data=True).to_disk(share / "train.spacy")
            shutil.copy2(folder / "dev.spacy", share / "dev.spacy")
            cfg = prepare_config(
                config_path,
                data=share,
                event_labels=schema.event_labels,
                entity_labels=schema.entity_labels,
                patterns=patterns_dir(ws),
                seed=seed,
                overrides=overrides,
            )
            nlp = init_nlp(cfg, use_gpu=-1)
            loop = run_training(nlp, share / "model", stdout=io.StringIO())
            best = spacy.load(share / "model" / "model-best")
            scores = evaluate_nlp(best, read_docbin(folder / "dev.spacy", best.vocab), schema)
            points.append(
                CurvePoint(
                    fraction,
                    n,
                    float(loop.best_score or 0.0),
                    scores["ents_f"],
                    scores["events_f"],
                    round(loop.seconds, 2),
                )
            )
    slope = last_slope(points)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = ws.root / "curves"
    png = plot(points, out_dir / f"train-curve-{stamp}.png")
    report = out_dir / f"train-curve-{stamp}.json"
    helps = slope >= HELPS_THRESHOLD
    write_json(
        report,
        {
            "config": config_path.name,
            "data": str(folder),
            "points": [p.__dict__ for p in points],
            "slope_last_segment": slope,
            "threshold": HELPS_THRESHOLD,
            "more_data_helps": helps,
        },
    )
    run_path = None
    if track:
        tracker = start_run(
            ws, job_type="train-curve", config={"config": config_path.name, "fractions": list(fractions), "seed": seed}
        )
        for p in points:
            tracker.log(
                {
                    "fraction": p.fraction,
                    "docs": p.docs,
                    "dev_score": p.score,
                    "ents_f": p.ents_f,
                    "events_f": p.events_f,
                }
            )
        tracker.table(
            "train_curve",
            ["fraction", "docs", "score", "ents_f", "events_f", "seconds"],
            [list(p.__dict__.values()) for p in points],
        )
        tracker.summary({"slope_last_segment": slope, "more_data_helps": int(helps)})
        run_path = tracker.path
        tracker.finish()
    return CurveResult(points, slope, helps, png, report, run_path)
