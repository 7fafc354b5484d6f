"""Training commands: ``train``, ``pretrain``, ``train-curve``.

Thin typer wrappers: parse, call the plain function, print. spaCy, wandb and sklearn load inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from treffpunkt.cli._app import OVERRIDES, app
from treffpunkt.cli.models import scores_line
from treffpunkt.core.console import console
from treffpunkt.core.workspace import current


@app.command("train", context_settings=OVERRIDES)
def train_cli(
    ctx: typer.Context,
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="Config file, or a name in configs/ (default, fast).")
    ] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Converted export folder (default: the newest).")] = None,
    pretrained: Annotated[
        Path | None, typer.Option("--pretrained", help="tok2vec weights from `treffpunkt pretrain`.")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Model name; the version is <name>-<NNN> (default: config name).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (overrides [system] seed).")] = None,
    max_seconds: Annotated[
        float | None, typer.Option("--max-seconds", help="Stop after this many seconds, keeping the best model.")
    ] = None,
) -> None:
    """Train a model version; extra options are config overrides such as --training.max_epochs 3."""
    from treffpunkt.training.train.config import parse_overrides
    from treffpunkt.training.train.trainer import train

    result = train(
        current(),
        config=config,
        data=data,
        pretrained=pretrained,
        name=name,
        seed=seed,
        overrides=parse_overrides(ctx.args),
        max_seconds=max_seconds,
    )
    if result.interrupted:
        console.print("[yellow]Interrupted: kept the best model so far.[/]")
    elif result.stopped:
        console.print(f"[yellow]Stopped ({result.stopped}): kept the best model so far.[/]")
    console.print(f"[green]✔[/] Model [bold]{result.version}[/] at {result.path} ({result.seconds:.0f} s)")
    console.print(f"  dev:  {scores_line(result.dev_scores)}\n  test: {scores_line(result.test_scores)}")
    roles = result.meta.get("treffpunkt", {}).get("roles", {})
    if roles.get("kind") == "classifier":
        console.print(
            f"  roles: classifier from {roles.get('relations_reached')} gold relations ({roles.get('file')}; "
            f"{roles.get('relations_unreachable')} unreachable, see roles.json)"
        )
    elif roles.get("kind") == "off":
        console.print(f"  roles: off ({roles.get('reason')})")
    elif roles:
        console.print(f"  roles: heuristic (configs/roles.yaml) — {roles.get('reason')}")
    if result.wandb_path:
        console.print(f"  wandb: {result.wandb_path}")


@app.command("pretrain", context_settings=OVERRIDES)
def pretrain_cli(
    ctx: typer.Context,
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="Training config whose tok2vec to pretrain (default.cfg).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Weights file (.bin) or folder (default: models/pretrain/<config>/).")
    ] = None,
    max_seconds: Annotated[
        float | None, typer.Option("--max-seconds", help="Stop after this many seconds, keeping the weights.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Pretrain the tok2vec layer on all corpus articles (characters objective); extra options override the config."""
    from treffpunkt.training.train.config import parse_overrides
    from treffpunkt.training.train.pretrain import pretrain

    result = pretrain(
        current(), config=config, out=out, overrides=parse_overrides(ctx.args), max_seconds=max_seconds, seed=seed
    )
    note = f" (stopped: {result.stopped})" if result.stopped else ""
    console.print(
        f"[green]✔[/] Pretrained on {result.texts} text chunks, {result.words} words, {result.epochs} epoch(s){note}"
    )
    console.print(f"  weights: {result.weights}\n  next: treffpunkt train --pretrained {result.weights}")


@app.command("train-curve", context_settings=OVERRIDES)
def train_curve_cli(
    ctx: typer.Context,
    config: Annotated[str, typer.Option("--config", "-c", help="Config file or name (default: fast).")] = "fast",
    data: Annotated[Path | None, typer.Option("--data", help="Converted export folder (default: the newest).")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Train on 25/50/75/100 % of the training docs and say whether more data is likely to help."""
    from rich.table import Table

    from treffpunkt.training.train.config import parse_overrides
    from treffpunkt.training.train.curve import HELPS_THRESHOLD, train_curve

    result = train_curve(current(), config=config, data=data, seed=seed, overrides=parse_overrides(ctx.args))
    table = Table(title="Learning curve (dev)")
    for col in ("share", "docs", "score", "ents F", "events F", "seconds"):
        table.add_column(col, justify="right")
    for p in result.points:
        table.add_row(
            f"{p.fraction:.0%}",
            str(p.docs),
            f"{p.score:.3f}",
            f"{p.ents_f:.3f}",
            f"{p.events_f:.3f}",
            f"{p.seconds:.0f}",
        )
    console.print(table)
    verdict = (
        "more data is likely to help"
        if result.more_data_helps
        else "the curve is flat: more data alone is unlikely to help much"
    )
    console.print(f"Last segment: {result.slope:+.3f} per 25 % (threshold {HELPS_THRESHOLD}): {verdict}.")
    console.print(f"Saved {result.png} and {result.report}")
