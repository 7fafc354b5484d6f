"""Top-level commands that belong to no group: ``init`` (and ``quickstart``, which runs the whole loop)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from annotation.console import console
from annotation.workspace import init_workspace


def init_cli(
    directory: Annotated[Path, typer.Argument(help="Folder for the new workspace (created if missing).")],
    force: Annotated[bool, typer.Option("--force", help="Add missing default configs to an existing workspace.")] = False,
) -> None:
    """Create a fresh workspace: default configs copied, empty corpus/ and models/."""
    ws = init_workspace(directory, force=force)
    console.print(f"Workspace ready at [bold]{ws.root}[/]")
    console.print(f"  configs: {ws.configs_dir}\n  corpus:  {ws.corpus_dir}\n  models:  {ws.models_dir}")
    console.print(f"Next: [bold]treffpunkt --home {ws.root} corpus add PATH...[/]")


def quickstart_cli(
    home: Annotated[Path, typer.Option("--home", help="Workspace for the demo.")] = Path("quickstart-workspace"),
    port: Annotated[int, typer.Option(help="Port of the local Label Studio.")] = 8080,
) -> None:
    """Run the whole loop on the demo corpus: Label Studio, gold annotations, training, evaluation, pre-annotations."""
    from treffpunkt.quickstart import quickstart

    result = quickstart(home, port=port)
    console.print(f"Workspace: {result.workspace}\nLabel Studio: {result.studio_url}")
    for step, value in result.steps.items():
        console.print(f"  {step}: {value!r}"[:400])


def register(app: typer.Typer) -> None:
    app.command("init")(init_cli)
    app.command("quickstart")(quickstart_cli)
