"""``treffpunkt annotate setup|push|predict|pull``: the Label Studio side of the annotation loop."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from annotation import workspace
from annotation.console import console, err_console


def register(app: typer.Typer) -> None:
    app.command("setup")(setup_cli)
    app.command("push")(push_cli)
    app.command("predict")(predict_cli)
    app.command("preannotate")(preannotate_cli)
    app.command("pull")(pull_cli)


def setup_cli(
    schema_file: Annotated[Path | None, typer.Option("--schema", help="Label schema (default: the workspace's).", dir_okay=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Apply a schema that lacks labels existing annotations use.")] = False,
) -> None:
    """Create the Label Studio project, or update its labeling config from the schema."""
    from annotation.project import setup

    ws = workspace.current()
    result = setup(ws, schema_path=schema_file, force=force)
    ref = result.project
    if result.created:
        console.print(f"Created project {ref.title!r} (id {ref.id}) from {result.schema_path}.")
    elif result.config_changed:
        console.print(f"Updated the labeling config of project {ref.title!r} (id {ref.id}) from {result.schema_path}.")
    else:
        console.print(f"Project {ref.title!r} (id {ref.id}) is up to date with {result.schema_path}.")
    for (control, label), count in result.orphaned.items():
        err_console.print(f"[yellow]Orphaned by --force:[/] {label} ({control}): {count} region(s)")
    console.print(f"Open it: {ref.url}/projects/{ref.id}/data")


def push_cli(
    model: Annotated[
        str | None, typer.Option("--model", help="Model version (name under models/ or a pipeline directory) for pre-annotations.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="Push at most N new articles.")] = None,
    order: Annotated[
        str, typer.Option("--order", help="'corpus' (corpus order) or 'uncertainty' (least certain first; needs --model).")
    ] = "corpus",
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Tasks per import request (with --model at most 100, so imports overlap the model).")
    ] = 500,
    predictions: Annotated[
        Path | None, typer.Option("--predictions", dir_okay=False, help="Precomputed predictions (JSONL from `annotate preannotate`) instead of --model.")
    ] = None,
) -> None:
    """Import corpus articles not yet in the project (never duplicates), optionally with predictions."""
    from annotation.push import push

    ws = workspace.current()
    result = push(ws, model=model, limit=limit, order=order, batch_size=batch_size, predictions=predictions)
    console.print(
        f"Pushed {result.imported} new task(s) to project {result.project.title!r} (id {result.project.id}); "
        f"{result.already_present} already there"
        + (f", {result.not_pushed} left for later (--limit)" if result.not_pushed else "")
        + f". {result.requests} request(s), {result.seconds:.1f} s."
    )
    if result.model_version:
        console.print(
            f"Predictions of {result.model_version}: {result.predictions.regions} region(s)"
            + (f"; {result.predicted_existing} existing task(s) got predictions" if result.predicted_existing else "")
            + "."
        )
        _print_skipped(result.predictions, "Not sent")
    if result.without_prediction:
        shown = ", ".join(result.without_prediction[:10]) + (" ..." if len(result.without_prediction) > 10 else "")
        err_console.print(f"[yellow]{len(result.without_prediction)} task(s) have no line in {predictions}, pushed without a prediction:[/] {shown}")
    _print_queue(result.project, order)


def preannotate_cli(
    model: Annotated[str, typer.Option("--model", help="Model version (name under models/ or a pipeline directory).")],
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="JSONL file to write (one prediction per article).")],
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Articles per nlp.pipe call.")] = 500,
) -> None:
    """Write a model version's Label Studio predictions for the corpus to a file, for `annotate push --predictions`."""
    from annotation.push import save_predictions

    lines, report, version = save_predictions(workspace.current(), model=model, out=out, batch_size=batch_size)
    console.print(f"Wrote {lines} prediction(s) of {version} ({report.regions} region(s)) to {out}.")
    _print_skipped(report, "Not written")
    console.print(f"Next: treffpunkt annotate push --predictions {out}")


def predict_cli(
    model: Annotated[str, typer.Option("--model", help="Model version (name under models/ or a pipeline directory).")],
    order: Annotated[
        str, typer.Option("--order", help="'corpus' or 'uncertainty' (Label All Tasks serves the least certain first).")
    ] = "corpus",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Predictions per bulk request.")] = 500,
) -> None:
    """Attach a model version's predictions to the tasks already in the project (bulk; reruns add nothing)."""
    from annotation.push import predict_existing

    result = predict_existing(workspace.current(), model=model, order=order, batch_size=batch_size)
    console.print(
        f"Predictions of {result.model_version} for {result.predicted_existing} task(s) of project {result.project.title!r} "
        f"(id {result.project.id}); {result.predictions.regions} region(s), {result.requests} request(s), {result.seconds:.1f} s."
    )
    _print_skipped(result.predictions, "Not sent")
    console.print(f"Label Studio now shows {result.model_version}'s predictions; older versions' stay on the tasks.")
    _print_queue(result.project, order)


def _print_skipped(report: Any, verb: str) -> None:
    """Predicted labels the schema lacks: counted by the prediction report, never dropped silently."""
    for row in report.as_dict()["skipped"]:
        err_console.print(f"[yellow]{verb} (not in the schema):[/] {row['layer']} {row['label']}: {row['count']}")


def _print_queue(ref: Any, order: str) -> None:
    if order == "uncertainty":
        console.print("Annotators get the least certain tasks first (Label All Tasks; tab 'Least certain first').")
    console.print(f"Open it: {ref.url}/projects/{ref.id}/data")


def pull_cli(
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for the export snapshot.")] = 300.0,
    convert: Annotated[bool, typer.Option("--convert/--no-convert", help="Convert the export into DocBins.")] = True,
) -> None:
    """Export the project's annotations (raw JSON + sha256, never modified) and convert them to DocBins."""
    from annotation.pull import pull

    ws = workspace.current()
    result = pull(ws, timeout=timeout, convert=convert)
    if result.converted is not None:
        from annotation.cli_convert import print_convert

        print_convert(result.converted)
    console.print(f"Export:  {result.export_path} ({result.tasks} tasks, {result.seconds_export:.1f} s)")
    console.print(f"SHA-256: {result.sha256_path}")
    if result.converted_dir is not None:
        console.print(f"DocBins: {result.converted_dir}")
