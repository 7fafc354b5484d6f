"""``treffpunkt annotate agreement``: inter-annotator agreement on a Label Studio export, conflicts for adjudication."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from annotation import workspace
from annotation.console import console

if TYPE_CHECKING:
    from annotation.agreement import AgreementResult, TagResult


def register(app: typer.Typer) -> None:
    app.command("agreement")(agreement_cli)


def agreement_cli(
    export: Annotated[
        Path | None,
        typer.Argument(help="Label Studio JSON export (default: the newest raw export in corpus/exports/).", dir_okay=False),
    ] = None,
    schema_file: Annotated[Path | None, typer.Option("--schema", help="Label schema (default: the workspace's).")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Conflicts file (default: corpus/exports/agreement/<export>.conflicts.json).")
    ] = None,
    tag: Annotated[
        bool,
        typer.Option(
            "--tag",
            help="Tag conflicting tasks in Label Studio (data.needs_adjudication, data.agreement) "
            "and add the saved Data Manager view 'Needs adjudication'.",
        ),
    ] = False,
    view: Annotated[bool, typer.Option("--view/--no-view", help="With --tag: create the saved view too.")] = True,
    project: Annotated[int | None, typer.Option("--project", help="Label Studio project id (default: from the export).")] = None,
) -> None:
    """Pairwise span F1 (exact/overlap), sentence event kappa/alpha and a disagreement breakdown per annotator pair.

    Writes every conflict (boundary / label / missing, with text and offsets) to a JSON file. With --tag, conflicting
    tasks get data.needs_adjudication = true and data.agreement (exact span F1) in Label Studio: annotators open the
    project's Data Manager tab "Needs adjudication" (lowest agreement first), or filter any tab on the
    needs_adjudication column. Rerunning on a newer export clears the tag of tasks that agree by then.
    """
    from annotation.agreement import agreement, tag_conflicts
    from annotation.schema import load_schema

    ws = workspace.current()
    schema = load_schema(schema_file or ws.schema_path)
    result = agreement(ws, export, schema=schema, out=out)
    print_result(result)
    if tag:
        from annotation.client import connect

        tagged = tag_conflicts(result, connect(ws), project=project, view=view)
        print_tags(tagged)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def print_result(result: AgreementResult) -> None:
    from rich.table import Table

    from annotation.agreement import EVENT_TAG, LAYERS

    report = result.report
    console.print(
        f"[bold]{result.export.name}[/]: {result.tasks_scored} of {report.tasks} tasks with two or more annotators "
        f"({', '.join(result.annotators)}); {len(result.conflicting_tasks)} with conflicts."
    )
    labels = Table(title="Agreement per label (all pairs pooled)")
    for column in ("Layer", "Label", "Spans", "F1 exact", "F1 overlap", "Boundary", "Label conf.", "Missing", "κ sent.", "α sent."):
        labels.add_column(column, justify="left" if column in ("Layer", "Label") else "right")
    sentence = {e.label: e for e in result.event_labels}
    for layer in LAYERS:
        for label in result.labels[layer]:
            counts = result.counts(layer, "exact", label=label)
            event = sentence.get(label) if layer == EVENT_TAG else None
            labels.add_row(
                layer, label, str(counts.n_a + counts.n_b),
                _fmt(counts.f1), _fmt(result.f1(layer, "overlap", label=label)),
                *(str(result.disagreement(kind=k, layer=layer, label=label)) for k in ("boundary", "label", "missing")),
                _fmt(event.kappa) if event else "", _fmt(event.alpha) if event else "",
            )
        labels.add_row(
            layer, "[bold]micro / macro[/]", "",
            f"{_fmt(result.f1(layer, 'exact'))} / {_fmt(result.macro_f1(layer, 'exact'))}",
            f"{_fmt(result.f1(layer, 'overlap'))} / {_fmt(result.macro_f1(layer, 'overlap'))}",
            *(str(result.disagreement(kind=k, layer=layer)) for k in ("boundary", "label", "missing")), "", "",
            end_section=True,
        )
    console.print(labels)

    pairs = Table(title="Agreement per annotator pair (micro / macro F1)")
    for column in ("Pair", "Layer", "F1 exact", "F1 overlap", "Boundary", "Label conf.", "Missing"):
        pairs.add_column(column, justify="left" if column in ("Pair", "Layer") else "right")
    for pair in result.pairs:
        for layer in LAYERS:
            pairs.add_row(
                f"{pair[0]} ↔ {pair[1]}", layer,
                f"{_fmt(result.f1(layer, 'exact', pair=pair))} / {_fmt(result.macro_f1(layer, 'exact', pair=pair))}",
                f"{_fmt(result.f1(layer, 'overlap', pair=pair))} / {_fmt(result.macro_f1(layer, 'overlap', pair=pair))}",
                *(str(result.disagreement(kind=k, layer=layer, pair=pair)) for k in ("boundary", "label", "missing")),
                end_section=layer == LAYERS[-1],
            )
    console.print(pairs)

    console.print(
        f"Spans: {report.spans_kept} scored ({report.repaired} repaired), {report.rejected} rejected; "
        f"{report.cancelled} cancelled and {len(report.superseded)} superseded annotations left out; "
        f"{report.relations_not_scored} relations not scored."
    )
    if report.rejected:
        console.print("[yellow]Rejected spans are listed under read_report.span_issues in the conflicts file.[/]")
    console.print(f"Conflicts written to [bold]{result.conflicts_path}[/]")


def print_tags(tagged: TagResult) -> None:
    from annotation.agreement import TAG_FIELD, VIEW_TITLE

    console.print(
        f"Label Studio project {tagged.project}: {len(tagged.tagged)} tasks tagged {TAG_FIELD}=true, "
        f"{len(tagged.cleared)} earlier tags cleared."
    )
    if tagged.missing:
        console.print(f"[yellow]{len(tagged.missing)} tasks of the export are gone from the server:[/] {tagged.missing}")
    if tagged.view_id is not None:
        state = "created" if tagged.view_created else "already there"
        console.print(f"Data Manager tab [bold]{VIEW_TITLE!r}[/] ({state}, view {tagged.view_id}) lists them, lowest agreement first.")
