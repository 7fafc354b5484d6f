"""The root ``treffpunkt`` command: mounts each command group and turns typed errors into clean messages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from annotation import workspace
from annotation.console import err_console
from annotation.errors import TreffpunktError


class _Group(TyperGroup):
    """Prints a :class:`TreffpunktError` as message + hint (no traceback) and exits with its code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TreffpunktError as err:
            err_console.print(f"[bold red]Error:[/] {err.message}")
            if err.hint:
                err_console.print(f"[yellow]→[/] {err.hint}")
            raise typer.Exit(err.exit_code) from None


app = typer.Typer(
    name="treffpunkt",
    cls=_Group,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # commands hold API keys
    help="Annotate meeting events in German news with Label Studio, train spaCy models, compare and predict.",
)


@app.callback()
def _root(
    home: Annotated[
        Path | None,
        typer.Option("--home", envvar=workspace.HOME_ENV, help="Workspace directory (default: current directory)."),
    ] = None,
) -> None:
    workspace.use_home(home)


def _mount() -> None:
    # Sub-apps import heavy libraries (spaCy, the SDK, wandb) inside their commands, so --help stays fast.
    from annotation.cli_annotate import app as annotate_app
    from annotation.cli_corpus import app as corpus_app
    from annotation.cli_studio import app as studio_app
    from training.cli import register as register_training
    from training.cli_compare import register as register_compare
    from treffpunkt.cli_root import register as register_root

    register_root(app)
    app.add_typer(corpus_app, name="corpus", no_args_is_help=True, help="Ingest, inspect and export articles.")
    app.add_typer(studio_app, name="studio", no_args_is_help=True, help="Run the workspace's local Label Studio server.")
    app.add_typer(annotate_app, name="annotate", no_args_is_help=True, help="Label Studio project: setup, push, pull, convert.")
    register_training(app)
    register_compare(app)


_mount()


def main() -> None:
    app()
