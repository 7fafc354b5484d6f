"""``treffpunkt demo``: real numbers on the gold news corpus, in about ten minutes on two cores.

Converts the stored gold export (frozen splits), scores the cold-start patterns on the test split as the baseline,
trains the default config (and a second config to compare with) on the train split within a time budget each,
evaluates every version on the test split, and compares them with paired bootstrap intervals and the HTML report.
Last, the default config's version reads the five raw seed articles (never in its training data) and is checked
against their main meeting events (``corpus/gold/seed-events.yaml``; :mod:`treffpunkt.demo.seed_check`).
The test split is only ever scored: patterns, thresholds and configs are chosen on train and dev.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from treffpunkt.annotation.convert.docs import convert_export
from treffpunkt.annotation.patterns.ruler import pattern_pipeline
from treffpunkt.core.schema import load_schema
from treffpunkt.core.workspace import Workspace, init_workspace
from treffpunkt.demo.news import news_dir
from treffpunkt.demo.seed_check import SeedResult, check_seeds, write_seed_check
from treffpunkt.training.evaluation.compare import CompareResult, compare, log_comparison
from treffpunkt.training.evaluation.evaluate import EvaluateResult, evaluate, evaluate_nlp, read_docbin
from treffpunkt.training.evaluation.report import write_report
from treffpunkt.training.train.trainer import TrainResult, train

DEFAULT_HOME = Path("news-workspace")
#: (config, seconds of training): the default config gets most of the ten minutes, the comparison config the rest.
DEFAULT_RUNS: tuple[tuple[str, float], ...] = (("default", 330.0), ("sklearn", 150.0))


@dataclass
class DemoResult:
    workspace: Path
    data: Path
    patterns: dict[str, Any] = field(default_factory=dict)
    trained: dict[str, TrainResult] = field(default_factory=dict)
    evaluated: dict[str, EvaluateResult] = field(default_factory=dict)
    comparison: CompareResult | None = None
    seeds: list[SeedResult] = field(default_factory=list)
    seeds_path: Path | None = None


def patterns_on_split(ws: Workspace, data: Path, split: str = "test") -> dict[str, Any]:
    """The cold-start patterns scored like a model on one split of a converted export."""
    schema = load_schema(ws.schema_path)
    nlp, version = pattern_pipeline(ws, schema)
    gold = read_docbin(data / f"{split}.spacy", nlp.vocab)
    return {"version": version, "split": split, **evaluate_nlp(nlp, gold, schema)}


def run_news_demo(
    home: Path = DEFAULT_HOME,
    *,
    runs: Sequence[tuple[str, float]] = DEFAULT_RUNS,
    report: Path | None = None,
    track: bool = True,
    seed: int = 0,
    overrides: Mapping[str, Any] | None = None,
    stdout: IO[str] | None = None,
) -> DemoResult:
    """Convert the gold news export, score the patterns, train and evaluate each config, compare them.

    ``overrides`` go to every training run (e.g. ``{"training.max_steps": 1600}`` for a run that does not depend on
    the machine's speed)."""
    ws = Workspace(Path(home).resolve())
    if not (ws.configs_dir / "schema.yaml").exists():
        init_workspace(ws.root, force=True)
    ws.ensure()
    schema = load_schema(ws.schema_path)
    data = ws.exports_dir / "gold-news"
    if not (data / "manifest.json").exists():
        convert_export(news_dir() / "export.json", schema=schema, out_dir=data)
    result = DemoResult(ws.root, data, patterns=patterns_on_split(ws, data))
    for config, seconds in runs:
        kwargs = {"stdout": stdout} if stdout is not None else {}
        trained = train(
            ws,
            config=config,
            data=data,
            name=f"news_{config}",
            seed=seed,
            max_seconds=seconds,
            overrides=overrides,
            track=track,
            **kwargs,
        )
        result.trained[config] = trained
        result.evaluated[config] = evaluate(ws, trained.version, data=data, split="test", track=track)
    first = next(iter(result.trained.values()), None)
    if first is not None:
        result.seeds = check_seeds(ws, first.version)
        result.seeds_path = write_seed_check(result.seeds, ws.models_dir / first.version / "seed-check.json")
    if len(result.trained) > 1:
        versions = [t.version for t in result.trained.values()]
        out = Path(report) / "compare.json" if report else None
        result.comparison = compare(ws, versions, data=data, split="test", out=out, track=False)
        if report:
            result.comparison.report = write_report(result.comparison, Path(report))
        if track:
            result.comparison.wandb_path = log_comparison(ws, result.comparison)
    return result
