"""Top-level commands that belong to no group: ``init`` (and ``quickstart``, which runs the whole loop)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from treffpunkt.cli._app import app
from treffpunkt.core.console import console
from treffpunkt.core.workspace import init_workspace


@app.command("init")
def init_cli(
    directory: Annotated[Path, typer.Argument(help="Folder for the new workspace (created if missing).")],
    force: Annotated[
        bool, typer.Option("--force", help="Add missing default configs to an existing workspace.")
    ] = False,
) -> None:
    """Create a fresh workspace: default configs copied, empty corpus/ and models/."""
    ws = init_workspace(directory, force=force)
    console.print(f"Workspace ready at [bold]{ws.root}[/]")
    console.print(f"  configs: {ws.configs_dir}\n  corpus:  {ws.corpus_dir}\n  models:  {ws.models_dir}")
    console.print(f"Next: [bold]treffpunkt --home {ws.root} corpus add PATH...[/]")


@app.command("quickstart")
def quickstart_cli(
    home: Annotated[Path, typer.Option("--home", help="Workspace for the demo.")] = Path("quickstart-workspace"),
    port: Annotated[int, typer.Option(help="Port of the local Label Studio.")] = 8080,
) -> None:
    """Run the whole loop on the demo corpus: Label Studio, gold annotations, training, evaluation, pre-annotations."""
    from treffpunkt.demo.quickstart import quickstart

    result = quickstart(home, port=port)
    steps = result.steps
    trained, scores = steps["train"], steps["evaluate"].scores
    console.print("\n[bold]Quickstart finished[/]")
    console.print(
        f"  Label Studio      {result.studio_url}  (login: {steps['login']}, password in {steps['credentials']})"
    )
    console.print(
        f"  corpus            {steps['ingest'].corpus_size} articles ({steps['ingest'].added} added this run)"
    )
    console.print(
        f"  gold annotations  {steps['gold'].imported} tasks imported, {steps['gold'].already_present} already present"
    )
    console.print(f"  snapshot          {steps['pull'].export_path} ({steps['pull'].tasks} tasks)")
    console.print(f"  model             {trained.path}  (trained in {trained.seconds:.0f} s)")
    console.print(
        f"  test scores       NER F1 {scores.get('ents_f', 0):.3f}   events micro F1 {scores.get('events_micro_f', scores.get('events_f', 0)) or 0:.3f}"
        f"   ({steps['evaluate'].report_path})"
    )
    console.print(
        f"  pre-annotations   {steps['predictions'].predicted_existing} tasks carry model_version {steps['predictions'].model_version}"
    )
    console.print(f"  wandb run         {trained.wandb_path or 'disabled'}")
    console.print("\nNext: open Label Studio and correct the pre-annotations, then")
    console.print(f"  treffpunkt --home {result.workspace} annotate pull")
    console.print(f"  treffpunkt --home {result.workspace} train --config configs/default.cfg")
    console.print(f"  treffpunkt --home {result.workspace} predict {trained.path.name} corpus --out events/")


def _f(scores: dict, key: str) -> str:
    value = scores.get(key)
    return "-" if value is None else f"{value:.3f}"


@app.command("demo")
def demo_cli(
    home: Annotated[Path, typer.Option("--home", help="Workspace for the demo.")] = Path("news-workspace"),
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the comparison report (HTML, PNG) into this folder.")
    ] = Path("news-workspace/report"),
    default_seconds: Annotated[
        float, typer.Option("--default-seconds", help="Training budget of default.cfg.")
    ] = 330.0,
    other: Annotated[str, typer.Option("--compare-with", help="Second config to compare with.")] = "sklearn",
    other_seconds: Annotated[
        float, typer.Option("--compare-seconds", help="Training budget of the second config.")
    ] = 150.0,
    track: Annotated[
        bool, typer.Option("--track/--no-track", help="Log runs to wandb (offline without a key).")
    ] = True,
) -> None:
    """Real numbers: train on the gold news corpus, evaluate on its frozen test split, beside the pattern baseline."""
    from treffpunkt.demo.news_demo import run_news_demo

    result = run_news_demo(
        home, runs=[("default", default_seconds), (other, other_seconds)], report=report, track=track
    )
    base = result.patterns
    table = Table(
        title=f"Gold news corpus, frozen test split ({base.get('n_docs', '?')} articles never used for choices)"
    )
    for column in ("system", "entities F1", "events micro F1", "events macro F1", "roles F1"):
        table.add_column(column, justify="left" if column == "system" else "right")
    table.add_row(
        base["version"] + " (ROLE/DATE only)", _f(base, "ents_f"), _f(base, "events_f"), _f(base, "events_macro_f"), "-"
    )
    for evaluated in result.evaluated.values():
        s = evaluated.scores
        table.add_row(evaluated.version, _f(s, "ents_f"), _f(s, "events_f"), _f(s, "events_macro_f"), _f(s, "roles_f"))
    console.print(table)
    if result.seeds:
        passed = sum(r.ok for r in result.seeds)
        console.print(
            f"Raw seed articles, main meeting event found: {passed} of {len(result.seeds)}  ({result.seeds_path})"
        )
        for r in result.seeds:
            mark = "[green]found[/]" if r.ok else "[red]missed[/]"
            why = "" if r.ok else f"  ({escape('; '.join(r.nearest[:2]))})"
            console.print(f"  {mark} {r.file}: {escape(r.expected.event)}{why}", highlight=False)
    if result.comparison is not None:
        console.print(f"Comparison: {result.comparison.json_path}")
        if result.comparison.report is not None:
            console.print(f"Report:     {result.comparison.report.html}")
    console.print(f"Workspace:  {result.workspace} (models/, corpus/exports/gold-news/)")
