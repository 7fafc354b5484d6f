"""Training commands mounted at the top level: train, pretrain, evaluate, train-curve, models list.

Thin typer wrappers: parse, call the plain function, print. spaCy, wandb and sklearn load inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from annotation.console import console
from annotation.workspace import current

_OVERRIDES = {"allow_extra_args": True, "ignore_unknown_options": True}

models_app = typer.Typer(no_args_is_help=True, help="Model versions in the workspace.")


def _scores_line(scores: dict, prefix: str = "") -> str:
    if not scores:
        return "-"
    parts = [f"ents F {scores.get('ents_f', 0):.3f}"]
    if scores.get("events_per_type"):
        parts.append(f"events F {scores.get('events_f', 0):.3f}")
    if scores.get("roles_per_type"):
        parts.append(f"roles F {scores.get('roles_f', 0):.3f}")
    return prefix + ", ".join(parts)


def train_cli(
    ctx: typer.Context,
    config: Annotated[str | None, typer.Option("--config", "-c", help="Config file, or a name in configs/ (default, fast).")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Converted export folder (default: the newest).")] = None,
    pretrained: Annotated[Path | None, typer.Option("--pretrained", help="tok2vec weights from `treffpunkt pretrain`.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Model name; the version is <name>-<NNN> (default: config name).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (overrides [system] seed).")] = None,
    max_seconds: Annotated[float | None, typer.Option("--max-seconds", help="Stop after this many seconds, keeping the best model.")] = None,
) -> None:
    """Train a model version; extra options are config overrides such as --training.max_epochs 3."""
    from training.config import parse_overrides
    from training.train import train

    result = train(
        current(), config=config, data=data, pretrained=pretrained, name=name, seed=seed, overrides=parse_overrides(ctx.args), max_seconds=max_seconds
    )
    if result.interrupted:
        console.print("[yellow]Interrupted: kept the best model so far.[/]")
    elif result.stopped:
        console.print(f"[yellow]Stopped ({result.stopped}): kept the best model so far.[/]")
    console.print(f"[green]✔[/] Model [bold]{result.version}[/] at {result.path} ({result.seconds:.0f} s)")
    console.print(f"  dev:  {_scores_line(result.dev_scores)}\n  test: {_scores_line(result.test_scores)}")
    roles = result.meta.get("treffpunkt", {}).get("roles", {})
    if roles.get("kind") == "classifier":
        console.print(f"  roles: classifier from {roles.get('relations_reached')} gold relations ({roles.get('file')}; "
                      f"{roles.get('relations_unreachable')} unreachable, see roles.json)")
    elif roles:
        console.print(f"  roles: heuristic (configs/roles.yaml) — {roles.get('reason')}")
    if result.wandb_path:
        console.print(f"  wandb: {result.wandb_path}")


def pretrain_cli(
    ctx: typer.Context,
    config: Annotated[str | None, typer.Option("--config", "-c", help="Training config whose tok2vec to pretrain (default.cfg).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Weights file (.bin) or folder (default: models/pretrain/<config>/).")] = None,
    max_seconds: Annotated[float | None, typer.Option("--max-seconds", help="Stop after this many seconds, keeping the weights.")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Pretrain the tok2vec layer on all corpus articles (characters objective); extra options override the config."""
    from training.config import parse_overrides
    from training.pretrain import pretrain

    result = pretrain(current(), config=config, out=out, overrides=parse_overrides(ctx.args), max_seconds=max_seconds, seed=seed)
    note = f" (stopped: {result.stopped})" if result.stopped else ""
    console.print(f"[green]✔[/] Pretrained on {result.texts} text chunks, {result.words} words, {result.epochs} epoch(s){note}")
    console.print(f"  weights: {result.weights}\n  next: treffpunkt train --pretrained {result.weights}")


def evaluate_cli(
    version: Annotated[str, typer.Argument(help="Model version (name-NNN), model name (newest version) or path.")],
    data: Annotated[Path | None, typer.Option("--data", help="Converted export folder (default: the model's training data).")] = None,
    split: Annotated[str, typer.Option("--split", help="train, dev or test.")] = "test",
) -> None:
    """Score a model version: NER, event and actor-role P/R/F per label, event confusion matrix, speed."""
    from training.evaluate import confusion_table, evaluate, scores_table

    result = evaluate(current(), version, data=data, split=split)
    console.print(scores_table(result.scores, f"{result.version} on {result.split} ({result.scores['n_docs']} docs)"))
    if result.scores.get("events_confusion"):
        console.print(confusion_table(result.scores["events_confusion"]))
    console.print(f"Speed: {result.scores['words_per_second']:.0f} words/s")
    console.print(f"Saved {result.report_path}")


def train_curve_cli(
    ctx: typer.Context,
    config: Annotated[str, typer.Option("--config", "-c", help="Config file or name (default: fast).")] = "fast",
    data: Annotated[Path | None, typer.Option("--data", help="Converted export folder (default: the newest).")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Train on 25/50/75/100 % of the training docs and say whether more data is likely to help."""
    from rich.table import Table

    from training.config import parse_overrides
    from training.curve import HELPS_THRESHOLD, train_curve

    result = train_curve(current(), config=config, data=data, seed=seed, overrides=parse_overrides(ctx.args))
    table = Table(title="Learning curve (dev)")
    for col in ("share", "docs", "score", "ents F", "events F", "seconds"):
        table.add_column(col, justify="right")
    for p in result.points:
        table.add_row(f"{p.fraction:.0%}", str(p.docs), f"{p.score:.3f}", f"{p.ents_f:.3f}", f"{p.events_f:.3f}", f"{p.seconds:.0f}")
    console.print(table)
    verdict = "more data is likely to help" if result.more_data_helps else "the curve is flat: more data alone is unlikely to help much"
    console.print(f"Last segment: {result.slope:+.3f} per 25 % (threshold {HELPS_THRESHOLD}): {verdict}.")
    console.print(f"Saved {result.png} and {result.report}")


@models_app.command("list")
def models_list_cli() -> None:
    """List model versions: version, created, data, dev/test scores, size."""
    from rich.table import Table

    from training.versions import list_versions

    versions = list_versions(current())
    if not versions:
        console.print("No model versions yet: train one with `treffpunkt train`.")
        return
    table = Table(title="Model versions")
    for col in ("version", "created", "data", "dev", "test", "size"):
        table.add_column(col)
    for v in versions:
        status = "" if v.complete else " [yellow](interrupted)[/]"
        table.add_row(
            v.version + status, v.created or "-", Path(v.data).name if v.data else "-", _scores_line(v.dev_scores), _scores_line(v.test_scores), f"{v.size_bytes / 1e6:.1f} MB"
        )
    console.print(table)
    curves = _curve_reports(current().root / "curves")
    if curves:
        table = Table(title="Learning curves (train-curve, dev score by share of training docs)")
        for col in ("run", "config", "data", "25 %", "50 %", "75 %", "100 %", "more data helps?"):
            table.add_column(col)
        for name, report in curves:
            by_share = {round(p["fraction"] * 100): p["score"] for p in report.get("points", [])}
            table.add_row(name, str(report.get("config", "-")), Path(str(report.get("data", ""))).name or "-",
                          *(f"{by_share[k]:.3f}" if k in by_share else "-" for k in (25, 50, 75, 100)),
                          "yes" if report.get("more_data_helps") else "no")
        console.print(table)


def _curve_reports(folder: Path, newest: int = 5) -> list[tuple[str, dict]]:
    """The newest train-curve JSON reports (name, content); unreadable ones are listed as such, not hidden."""
    import json

    out = []
    for path in sorted(folder.glob("train-curve-*.json"), reverse=True)[:newest]:
        try:
            out.append((path.stem.removeprefix("train-curve-"), json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            out.append((path.stem + " (unreadable)", {}))
    return out


def register(app: typer.Typer) -> None:
    """Add the training commands to the root app."""
    app.command("train", context_settings=_OVERRIDES)(train_cli)
    app.command("pretrain", context_settings=_OVERRIDES)(pretrain_cli)
    app.command("evaluate")(evaluate_cli)
    app.command("train-curve", context_settings=_OVERRIDES)(train_curve_cli)
    app.add_typer(models_app, name="models", no_args_is_help=True, help="Model versions in the workspace.")
    from training.cli_predict import register as register_predict

    register_predict(app)
