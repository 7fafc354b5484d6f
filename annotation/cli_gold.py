"""``treffpunkt annotate gold-build``: rebuild the seed gold standard (corpus/gold/seeds.json) from its spec."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from annotation.console import console


def register(app: typer.Typer) -> None:
    app.command("gold-build")(gold_build_cli)


def gold_build_cli(
    spec: Annotated[Path | None, typer.Option(help="Gold spec (default: corpus/gold/spec.yaml in the repository).", dir_okay=False)] = None,
    seeds: Annotated[Path | None, typer.Option(help="Folder of the seed files named in the spec.", file_okay=False)] = None,
    out: Annotated[Path | None, typer.Option(help="Where to write the Label Studio export (default: corpus/gold/seeds.json).", dir_okay=False)] = None,
    schema: Annotated[Path | None, typer.Option(help="Label schema (default: configs/schema.yaml in the repository).", dir_okay=False)] = None,
) -> None:
    """Resolve the gold spec against the cleaned seed texts and write the Label Studio export."""
    from annotation import gold
    from annotation.schema import load_schema

    result = gold.build_gold(
        load_schema(schema or gold.DEFAULT_SCHEMA), spec_path=spec or gold.DEFAULT_SPEC, seeds_dir=seeds or gold.DEFAULT_SEEDS
    )
    path = gold.write_gold(result, out or gold.DEFAULT_OUT)
    counts = ", ".join(f"{v} {k}" for k, v in result.counts().items())
    console.print(f"Gold written to {path} (text from {result.cleaner}): {counts}.")
