"""``treffpunkt sweep``: hyperparameter search with a wandb sweep YAML (online: wandb sweep; offline: local)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from treffpunkt.cli._app import app
from treffpunkt.core.console import console, err_console
from treffpunkt.core.workspace import current


def short_names(dotted: list[str]) -> dict[str, str]:
    """The shortest unique dotted suffix of each setting (``training.optimizer.learn_rate`` → ``learn_rate``)."""
    out = {}
    for name in dotted:
        parts = name.split(".")
        for n in range(1, len(parts) + 1):
            suffix = ".".join(parts[-n:])
            if sum(other == suffix or other.endswith("." + suffix) for other in dotted) == 1:
                out[name] = suffix
                break
    return out


@app.command("sweep")
def sweep_cli(
    sweep: Annotated[str, typer.Argument(help="Sweep YAML (wandb's format), or a name in configs/sweeps/ (ner).")],
    count: Annotated[
        int | None, typer.Option("--count", help="Trials to run (default: every grid point; random: the file's count).")
    ] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Converted export folder (default: the newest).")] = None,
    config: Annotated[
        str | None, typer.Option("--config", help="Base config (default: the file's treffpunkt.config).")
    ] = None,
    trial_seconds: Annotated[
        float | None, typer.Option("--trial-seconds", help="Training time budget per trial.")
    ] = None,
    total_seconds: Annotated[
        float | None, typer.Option("--total-seconds", help="Time budget of the whole sweep; no trial starts after it.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the offline random draws.")] = 0,
) -> None:
    """Train one model version per trial, rank them on a dev score, write best.cfg (the winning overrides)."""
    from rich.table import Table

    from treffpunkt.training.train.sweep import run_sweep

    def said(trial) -> None:
        outcome = f"{trial.score:.3f}" if trial.score is not None else f"[red]{trial.error}[/]"
        err_console.print(f"trial {trial.number}: {trial.version or '-'} {outcome}  {trial.overrides}")

    result = run_sweep(
        current(),
        sweep,
        count=count,
        data=data,
        config=config,
        trial_seconds=trial_seconds,
        total_seconds=total_seconds,
        seed=seed,
        stdout=sys.stderr,
        on_trial=said,
    )
    spec = result.spec
    for note in result.notes:
        err_console.print(f"[yellow]Note:[/] {note}")
    short = short_names(list(spec.parameters))
    table = Table(
        title=f"Sweep {spec.name} ({spec.method}, {result.mode}): dev {spec.metric}, {spec.goal}",
        caption="  ".join(f"{short[k]} = {k}" for k in spec.parameters if short[k] != k),
    )
    for col in ("rank", "trial", "version", spec.metric, "s", *short.values()):
        table.add_column(col, no_wrap=True)
    for rank, trial in enumerate(result.ranked(), start=1):
        table.add_row(
            str(rank),
            str(trial.number),
            trial.version or "-",
            f"{trial.score:.3f}",
            f"{trial.seconds:.0f}",
            *(
                f"{trial.overrides[k]:.4g}" if isinstance(trial.overrides[k], float) else str(trial.overrides[k])
                for k in spec.parameters
            ),
        )
    console.print(table)
    failed = [t for t in result.trials if t.score is None]
    for trial in failed:
        err_console.print(f"[red]trial {trial.number} failed:[/] {trial.error}")
    if result.best_config is None:
        err_console.print("[red]No trial produced a score.[/]")
        raise typer.Exit(1)
    console.print(
        f"[green]✔[/] best: trial {result.best.number} ({result.best.version}); overrides in {result.best_config}"
    )
    console.print(f"  next: treffpunkt train --config {result.best_config}")
    console.print(f"  all trials: {result.folder / 'sweep.json'}")
