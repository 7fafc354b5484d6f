"""Evaluators' commands: ``evaluate`` (one version) and ``compare`` (several versions on the same gold)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from treffpunkt.cli._app import app
from treffpunkt.core.console import console, err_console
from treffpunkt.core.workspace import current

MAX_LISTED = 5  # false positives/negatives per label and version on the terminal; the JSON has all


@app.command("evaluate")
def evaluate_cli(
    version: Annotated[str, typer.Argument(help="Model version (name-NNN), model name (newest version) or path.")],
    data: Annotated[
        Path | None, typer.Option("--data", help="Converted export folder (default: the model's training data).")
    ] = None,
    split: Annotated[str, typer.Option("--split", help="train, dev or test.")] = "test",
) -> None:
    """Score a model version: NER, event and actor-role P/R/F per label, event confusion matrix, speed."""
    from treffpunkt.training.evaluation.evaluate import (
        confusion_table,
        evaluate,
        scores_table,
    )

    result = evaluate(current(), version, data=data, split=split)
    console.print(scores_table(result.scores, f"{result.version} on {result.split} ({result.scores['n_docs']} docs)"))
    if result.scores.get("events_confusion"):
        console.print(confusion_table(result.scores["events_confusion"]))
    console.print(f"Speed: {result.scores['words_per_second']:.0f} words/s")
    console.print(f"Saved {result.report_path}")
    console.print(f"Per-sentence gold vs predicted: {result.predictions_path}")
    if result.wandb_path:
        console.print(f"wandb: {result.wandb_path} (table {result.split}/predictions)")


@app.command("compare")
def compare_cli(
    versions: Annotated[
        list[str],
        typer.Argument(help="Model versions (name-NNN), names (newest version) or paths; the first is the baseline."),
    ],
    data: Annotated[
        Path | None, typer.Option("--data", help="Converted export folder with the gold docs (default: the newest).")
    ] = None,
    split: Annotated[str, typer.Option("--split", help="Split of --data to score on.")] = "test",
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write PNG charts and a self-contained report.html into this folder."),
    ] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap resamples over documents.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 0,
    allow_overlap: Annotated[
        bool,
        typer.Option(
            "--allow-overlap", help="Compare even if a version was trained on some gold docs (scores optimistic)."
        ),
    ] = False,
    errors: Annotated[
        bool, typer.Option("--errors/--no-errors", help="List false positives and negatives per label.")
    ] = True,
    track: Annotated[
        bool, typer.Option("--track/--no-track", help="Log the comparison to wandb (offline without an API key).")
    ] = True,
) -> None:
    """Compare model versions on the same gold docs: per-label P/R/F, F1 deltas with bootstrap 95 % CIs, errors."""
    from treffpunkt.training.evaluation.compare import compare, log_comparison
    from treffpunkt.training.evaluation.report import write_report

    ws = current()
    result = compare(
        ws,
        versions,
        data=data,
        split=split,
        n_boot=n_boot,
        seed=seed,
        allow_overlap=allow_overlap,
        out=report / "compare.json" if report else None,
        track=False,
    )
    if report:
        result.report = write_report(result, report)
    if track:
        result.wandb_path = log_comparison(ws, result)
    for warning in result.warnings:
        err_console.print(f"[bold yellow]Warning:[/] {warning}")
    for table in tables(result):
        console.print(table)
    if errors:
        print_errors(result)
    console.print(f"Saved {result.json_path}")
    console.print(f"Per-sentence predictions, versions side by side: {result.predictions_path}")
    if result.report is not None:
        console.print(f"Report: {result.report.html} ({len(result.report.images)} charts)")
    if result.wandb_path:
        console.print(f"wandb: {result.wandb_path}")


def tables(result) -> list:  # noqa: ANN001 - CompareResult; imported lazily to keep --help fast
    """One rich table per layer: per-version P/R/F, then ΔF1 and its 95 % CI per later version."""
    from rich.table import Table

    from treffpunkt.training.evaluation.compare import LAYER_NAMES, MICRO

    c = result.comparison
    out = []
    for layer, name in LAYER_NAMES.items():
        rows = [r for r in c.rows if r.layer == layer]
        if not rows:
            continue
        table = Table(
            title=f"{name}: {c.n_docs} {result.split} docs, {c.n_boot} bootstrap resamples (* = 95 % CI excludes 0)"
        )
        table.add_column("label")
        table.add_column("support", justify="right")
        for v in c.versions:
            table.add_column(f"{v}\nP / R / F", justify="right")
        for v in c.versions[1:]:
            table.add_column(f"ΔF {v}\n[95 % CI]", justify="right")
        for row in rows:
            cells = [
                f"{row.scores[v]['p']:.3f} / {row.scores[v]['r']:.3f} / [bold]{row.scores[v]['f']:.3f}[/]"
                for v in c.versions
            ]
            for v in c.versions[1:]:
                d = row.deltas[v]
                style = ("green" if d["delta"] > 0 else "red") if d["significant"] else "dim"
                cells.append(
                    f"[{style}]{d['delta']:+.3f}{' *' if d['significant'] else ''}\n[{d['low']:+.3f}, {d['high']:+.3f}][/]"
                )
            label = f"[bold]{row.label}[/]" if row.label == MICRO else row.label
            table.add_row(label, str(row.support), *cells, end_section=row.label == MICRO)
        out.append(table)
    return out


def print_errors(result) -> None:  # noqa: ANN001
    c = result.comparison
    for v in c.versions:
        for layer, per_label in c.errors[v].items():
            for label, kinds in per_label.items():
                for kind, name in (("fp", "false positives"), ("fn", "false negatives")):
                    rows = kinds[kind]
                    if not rows:
                        continue
                    shown = "; ".join(
                        f"{r['text']!r} ({r['doc']} {r['start']}-{r['end']}{' in ' + r['event'] if 'event' in r else ''})"
                        for r in rows[:MAX_LISTED]
                    )
                    more = f" … +{len(rows) - MAX_LISTED} more" if len(rows) > MAX_LISTED else ""
                    console.print(f"[bold]{v}[/] {layer} {label}: {len(rows)} {name}: {shown}{more}", soft_wrap=True)
