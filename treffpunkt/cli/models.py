"""``treffpunkt models``: the model versions of the workspace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from treffpunkt.cli._app import models_app
from treffpunkt.core.console import console
from treffpunkt.core.workspace import current


def scores_line(scores: dict, prefix: str = "") -> str:
    if not scores:
        return "-"
    parts = [f"ents F {scores.get('ents_f', 0):.3f}"]
    if scores.get("events_per_type"):
        parts.append(f"events F {scores.get('events_f', 0):.3f}")
    if scores.get("roles_per_type"):
        parts.append(f"roles F {scores.get('roles_f', 0):.3f}")
    return prefix + ", ".join(parts)


@models_app.command("promote")
def models_promote_cli(
    version: Annotated[str, typer.Argument(help="Model version (name-NNN, a bare name for the newest, or a path).")],
    alias: Annotated[str, typer.Option("--alias", help="Alias to point at it (e.g. production).")] = "production",
    collection: Annotated[
        str | None,
        typer.Option("--collection", help="wandb registry collection (default: the version's name, e.g. default)."),
    ] = None,
    registry: Annotated[str, typer.Option("--registry", help="wandb registry name.")] = "model",
) -> None:
    """Point an alias at a version: `predict`, `annotate push --model`, `serve` and `compare` accept it.

    With a wandb key the version's model artifact is also linked into the wandb registry with that alias;
    offline the link is recorded in models/registry-links.json (promote again online to link it).
    """
    from treffpunkt.core.tracking import link_to_registry
    from treffpunkt.core.versions import set_alias, version_name

    ws = current()
    target, previous = set_alias(ws, version, alias)
    moved = f" (was {previous})" if previous and previous != target else ""
    console.print(f"{alias} → {target}{moved}. Use it wherever a version goes, e.g. `treffpunkt predict {alias} ...`.")
    link = link_to_registry(ws, target, alias, collection=collection or version_name(target), registry=registry)
    if link is None:
        return
    if link["linked"]:
        console.print(f"wandb: {link['artifact']} linked to {link['target']} as {alias}.")
    else:
        console.print(
            f"wandb offline: the registry link {link['artifact']} → {link['target']} ({alias}) is recorded in "
            "models/registry-links.json; promote again with a WANDB_API_KEY to link it."
        )


@models_app.command("list")
def models_list_cli() -> None:
    """List model versions: version, created, data, dev/test scores, size."""
    from rich.table import Table

    from treffpunkt.core.versions import list_versions, read_aliases

    versions = list_versions(current())
    if not versions:
        console.print("No model versions yet: train one with `treffpunkt train`.")
        return
    aliases: dict[str, list[str]] = {}
    for alias, version in read_aliases(current()).items():
        aliases.setdefault(version, []).append(alias)
    table = Table(title="Model versions")
    for col in ("version", "aliases", "created", "data", "dev", "test", "size"):
        table.add_column(col)
    for v in versions:
        status = "" if v.complete else " [yellow](interrupted)[/]"
        table.add_row(
            v.version + status,
            ", ".join(sorted(aliases.get(v.path.name, []))) or "-",
            v.created or "-",
            Path(v.data).name if v.data else "-",
            scores_line(v.dev_scores),
            scores_line(v.test_scores),
            f"{v.size_bytes / 1e6:.1f} MB",
        )
    console.print(table)
    curves = _curve_reports(current().root / "curves")
    if curves:
        table = Table(title="Learning curves (train-curve, dev score by share of training docs)")
        for col in ("run", "config", "data", "25 %", "50 %", "75 %", "100 %", "more data helps?"):
            table.add_column(col)
        for name, report in curves:
            by_share = {round(p["fraction"] * 100): p["score"] for p in report.get("points", [])}
            table.add_row(
                name,
                str(report.get("config", "-")),
                Path(str(report.get("data", ""))).name or "-",
                *(f"{by_share[k]:.3f}" if k in by_share else "-" for k in (25, 50, 75, 100)),
                "yes" if report.get("more_data_helps") else "no",
            )
        console.print(table)


def _curve_reports(folder: Path, newest: int = 5) -> list[tuple[str, dict]]:
    """The newest train-curve JSON reports (name, content); unreadable ones are listed as such, not hidden."""

    out = []
    for path in sorted(folder.glob("train-curve-*.json"), reverse=True)[:newest]:
        try:
            out.append((path.stem.removeprefix("train-curve-"), json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            out.append((path.stem + " (unreadable)", {}))
    return out
