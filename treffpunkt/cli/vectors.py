"""``treffpunkt vectors``: floret word vectors from the workspace's own articles (plus extra files)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from treffpunkt.cli._app import app
from treffpunkt.core.console import console
from treffpunkt.core.workspace import current


@app.command("vectors")
def vectors_cli(
    extra: Annotated[
        list[Path] | None,
        typer.Option(
            "--extra",
            help="More text to learn from (.txt/.html/.jsonl/.csv, e.g. the 10kGNAD CSV); not added to the corpus.",
        ),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Saved as models/vectors/NAME.")] = "floret",
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: models/vectors/NAME).")] = None,
) -> None:
    """Train floret vectors (configs/vectors.yaml) on all corpus articles, for a config's include_static_vectors."""
    from treffpunkt.training.train.vectors import train_vectors

    with console.status("Training floret vectors (a minute per million words) ..."):
        result = train_vectors(current(), extra=extra or [], name=name, out=out, progress=sys.stderr.isatty())
    if result.extra_report is not None:
        report = result.extra_report
        console.print(
            f"  extra files: {report.count('added')} texts read, {report.rejected} rejected "
            f"(listed in {result.path / 'extra-report.json'})"
        )
    console.print(
        f"[green]✔[/] Vectors [bold]{result.path}[/]: {result.rows} rows x {result.dim} dims from "
        f"{result.texts} texts, {result.words} words ({result.seconds:.0f} s)"
    )
    console.print(
        f"  next: treffpunkt train --paths.vectors {result.path} "
        "--components.tok2vec.model.embed.include_static_vectors true"
    )
