"""The one ``treffpunkt`` app and its command groups (spaCy's layout: ``spacy/cli/_util.py``).

Every command module decorates a plain ``*_cli`` wrapper with ``@app.command`` or ``@<group>_app.command``;
``treffpunkt/cli/__init__.py`` imports each module by name, so a module that fails to import is an error,
never a silently missing command. Wrappers import spaCy, the SDK and wandb inside the command: --help stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from treffpunkt.core import workspace
from treffpunkt.core.console import err_console
from treffpunkt.core.errors import TreffpunktError


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


corpus_app = typer.Typer(cls=_Group, no_args_is_help=True, help="Ingest, inspect and export articles.")
studio_app = typer.Typer(cls=_Group, no_args_is_help=True, help="Run the workspace's local Label Studio server.")
annotate_app = typer.Typer(
    cls=_Group, no_args_is_help=True, help="Label Studio project: setup, push, pull, convert, agreement."
)
models_app = typer.Typer(cls=_Group, no_args_is_help=True, help="Model versions in the workspace.")
serve_app = typer.Typer(
    cls=_Group,
    help="Serve a model version as Label Studio's ML backend (predicts on demand, retrains as you annotate).",
)

app.add_typer(corpus_app, name="corpus")
app.add_typer(studio_app, name="studio")
app.add_typer(annotate_app, name="annotate")
app.add_typer(models_app, name="models")
app.add_typer(serve_app, name="serve")

#: Commands whose extra options are spaCy config overrides (``--training.max_epochs 3``).
OVERRIDES = {"allow_extra_args": True, "ignore_unknown_options": True}


def main() -> None:
    app()
