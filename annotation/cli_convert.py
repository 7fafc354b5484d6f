"""``treffpunkt annotate convert`` and ``treffpunkt annotate import-conll``: annotations into spaCy DocBins."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from annotation import workspace
from annotation.console import console

if TYPE_CHECKING:
    from annotation.conll import ConllResult
    from annotation.convert import ConvertResult


def register(app: typer.Typer) -> None:
    app.command("convert")(convert_cli)
    app.command("import-conll")(import_conll_cli)


def convert_cli(
    export: Annotated[Path, typer.Argument(help="Label Studio JSON export (e.g. corpus/exports/<stamp>_<project>.json).", dir_okay=False)],
    schema_file: Annotated[Path | None, typer.Option("--schema", help="Label schema (default: the workspace's).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: the export path without .json).", file_okay=False)] = None,
    all_annotators: Annotated[
        bool, typer.Option("--all-annotators", help="One Doc per non-cancelled annotation (for agreement), not one per task.")
    ] = False,
) -> None:
    """Convert a Label Studio export into train/dev/test DocBins, with a report on every span."""
    from annotation.convert import convert_export, load_convert_options
    from annotation.schema import load_schema

    ws = workspace.current()
    schema = load_schema(schema_file or ws.schema_path)
    options = load_convert_options(ws.config_path("convert.yaml"))
    result = convert_export(export, schema=schema, out_dir=out, all_annotators=all_annotators, options=options)
    print_convert(result)


def print_convert(result: ConvertResult) -> None:
    """One summary table: span and relation outcomes by reason, annotations used, tasks skipped, splits."""
    from rich.table import Table

    report = result.report
    table = Table(title=f"Converted {report.export}", title_justify="left")
    table.add_column("what")
    table.add_column("outcome")
    table.add_column("detail", overflow="fold")
    table.add_column("count", justify="right")
    for kind in ("spans", "relations"):
        for (outcome, detail), count in sorted(report.reason_counts(kind).items()):
            style = {"kept": "green", "repaired": "yellow", "rejected": "red"}[outcome]
            table.add_row(kind, f"[{style}]{outcome}[/]", detail, str(count))
    for status, count in sorted(report.summary()["annotations"].items()):
        table.add_row("annotations", status, "", str(count))
    for task in report.skipped_tasks:
        table.add_row("tasks", "[red]no usable annotation[/]", f"task {task.task_id}: {task.reason}", "1")
    for name in result.counts:
        detail = f"{report.split_groups[name]} clusters" + (" — EMPTY" if name in report.empty_splits else "")
        table.add_row("split", name, detail, str(result.counts[name]))
    console.print(table)
    if report.empty_splits:
        console.print(f"[yellow]Empty splits:[/] {', '.join(report.empty_splits)} (too few clusters for the configured ratios).")
    console.print(f"DocBins: {', '.join(str(p) for p in result.files.values())}")
    console.print(f"Report: {result.report_path}  Manifest: {result.manifest_path}")


def import_conll_cli(
    file: Annotated[Path, typer.Argument(help="CoNLL/IOB file: two columns, CoNLL-2003 or GermEval style; LF or CRLF.", dir_okay=False)],
    label_map: Annotated[
        list[str] | None, typer.Option("--label-map", help="FROM=TO, repeatable; TO must be a schema entity label, or O to drop.")
    ] = None,
    label_map_file: Annotated[Path | None, typer.Option("--label-map-file", help="YAML mapping FROM: TO (--label-map entries win).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="DocBin to write (default: FILE with .spacy).", dir_okay=False)] = None,
    column: Annotated[
        int | None, typer.Option("--column", help="Tag column, 0-based, negative counts from the end (default: last; GermEval: 2).")
    ] = None,
    sentences_per_doc: Annotated[
        int | None, typer.Option("--sentences-per-doc", min=1, help="Sentences per Doc/task (default: conll.sentences_per_doc in convert.yaml).")
    ] = None,
    tasks_out: Annotated[Path | None, typer.Option("--tasks-out", help="Also write Label Studio tasks with the entities as annotations.", dir_okay=False)] = None,
    schema_file: Annotated[Path | None, typer.Option("--schema", help="Label schema (default: the workspace's).")] = None,
    push: Annotated[bool, typer.Option("--push", help="Import the tasks into the workspace's Label Studio project for review.")] = False,
) -> None:
    """Read an existing IOB/CoNLL corpus into a DocBin; labels outside the schema are mapped or dropped and counted."""
    from annotation.conll import import_conll, parse_label_map
    from annotation.convert import load_convert_options
    from annotation.schema import load_schema

    ws = workspace.current()
    schema = load_schema(schema_file or ws.schema_path)
    options = load_convert_options(ws.config_path("convert.yaml"))
    mapping = parse_label_map(label_map, label_map_file)
    result = import_conll(
        file,
        schema=schema,
        out=out,
        label_map=mapping,
        column=column,
        sentences_per_doc=sentences_per_doc or options.conll.sentences_per_doc,
        tasks_out=tasks_out,
        keep_tasks=push,
    )
    print_conll(result)
    if push:
        from annotation.client import connect
        from annotation.project import require_project
        from annotation.push import import_annotated_tasks

        studio = connect(ws)
        pushed = import_annotated_tasks(studio, require_project(studio, ws), result.tasks)
        console.print(f"Pushed to {pushed.project.url}: {pushed.imported} tasks imported, {pushed.already_present} already present.")


def print_conll(result: ConllResult) -> None:
    from rich.table import Table

    report = result.report
    table = Table(title=f"Imported {report.path}", title_justify="left")
    table.add_column("what")
    table.add_column("detail", overflow="fold")
    table.add_column("count", justify="right")
    for what, count in (("sentences", report.sentences), ("tokens", report.tokens), ("docs", report.docs)):
        table.add_row(what, "", str(count))
    for label, count in sorted(report.entities_kept.items()):
        table.add_row("[green]entities kept[/]", label, str(count))
    for pair, count in sorted(report.mapped.items()):
        table.add_row("[yellow]labels mapped[/]", pair, str(count))
    for why, count in sorted(report.dropped.items()):
        table.add_row("[red]entities dropped[/]", why, str(count))
    for kind, count in sorted(report.repairs.items()):
        table.add_row("[yellow]IOB repaired[/]", kind, str(count))
    if report.bad_lines:
        table.add_row("[red]lines skipped[/]", report.bad_lines[0] + (" …" if len(report.bad_lines) > 1 else ""), str(len(report.bad_lines)))
    console.print(table)
    console.print(f"DocBin: {result.out}  Report: {result.report_path}")
    if result.tasks_out:
        console.print(f"Label Studio tasks: {result.tasks_out}")
