"""Top-level commands that belong to no group: ``init`` (and ``quickstart``, which runs the whole loop)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
