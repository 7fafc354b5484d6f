"""``treffpunkt annotate``: the Label Studio project (setup, push, pull, predictions), conversion, agreement."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from treffpunkt.cli._app import annotate_app
from treffpunkt.core import workspace
from treffpunkt.core.console import console, err_console

if TYPE_CHECKING:
    from treffpunkt.annotation.agreement.measure import AgreementResult, TagResult
    from treffpunkt.annotation.convert.conll import ConllResult
    from treffpunkt.annotation.convert.docs import ConvertResult


@annotate_app.command("setup")
def setup_cli(
    schema_file: Annotated[
        Path | None, typer.Option("--schema", help="Label schema (default: the workspace's).", dir_okay=False)
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Apply a schema that lacks labels existing annotations use.")
    ] = False,
    overlap: Annotated[
        int | None,
        typer.Option("--overlap", help="Annotators per task (e.g. 2 for agreement); new or existing project."),
    ] = None,
) -> None:
    """Create the Label Studio project, or update its labeling config from the schema (and the annotation overlap)."""
    from treffpunkt.annotation.labelstudio.project import setup

    ws = workspace.current()
    result = setup(ws, schema_path=schema_file, force=force, overlap=overlap)
    ref = result.project
    if result.created:
        console.print(f"Created project {ref.title!r} (id {ref.id}) from {result.schema_path}.")
    elif result.config_changed:
        console.print(f"Updated the labeling config of project {ref.title!r} (id {ref.id}) from {result.schema_path}.")
    else:
        console.print(f"Project {ref.title!r} (id {ref.id}) is up to date with {result.schema_path}.")
    for (control, label), count in result.orphaned.items():
        err_console.print(f"[yellow]Orphaned by --force:[/] {label} ({control}): {count} region(s)")
    if result.overlap is not None:
        console.print(f"Every task is now labelled by {result.overlap} annotator(s) (maximum_annotations).")
    console.print(f"Open it: {ref.url}/projects/{ref.id}/data")


@annotate_app.command("push")
def push_cli(
    model: Annotated[
        str | None,
        typer.Option("--model", help="Model version (name under models/ or a pipeline directory) for pre-annotations."),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="Push at most N new articles.")] = None,
    order: Annotated[
        str,
        typer.Option("--order", help="'corpus' (corpus order) or 'uncertainty' (least certain first; needs --model)."),
    ] = "corpus",
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size",
            min=1,
            help="Tasks per import request (with --model at most 100, so imports overlap the model).",
        ),
    ] = 500,
    predictions: Annotated[
        Path | None,
        typer.Option(
            "--predictions",
            dir_okay=False,
            help="Precomputed predictions (JSONL from `annotate preannotate`) instead of --model.",
        ),
    ] = None,
    patterns: Annotated[
        bool,
        typer.Option("--patterns", help="Pre-annotate with the cold-start patterns of configs/patterns/ (no model)."),
    ] = False,
) -> None:
    """Import corpus articles not yet in the project (never duplicates), optionally with predictions."""
    from treffpunkt.annotation.labelstudio.push import push

    ws = workspace.current()
    result = push(
        ws,
        model=_with_roles(ws, model),
        limit=limit,
        order=order,
        batch_size=batch_size,
        predictions=predictions,
        patterns=patterns,
    )
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
        err_console.print(
            f"[yellow]{len(result.without_prediction)} task(s) have no line in {predictions}, pushed without a prediction:[/] {shown}"
        )
    _print_queue(result.project, order)


@annotate_app.command("import-gold")
def import_gold_cli(
    export: Annotated[
        Path,
        typer.Argument(
            help="Label Studio JSON export with annotations (e.g. corpus/gold/news/export.json).", dir_okay=False
        ),
    ],
    annotators: Annotated[
        str | None,
        typer.Option(
            "--annotators",
            help="E-mails, one per annotator of the export (its completed_by ids in ascending order); users that "
            "do not exist yet are created (like `annotate invite --create`). E.g. the gold corpus's double pass: "
            "agreement-export.json --annotators a@x.org,b@x.org.",
        ),
    ] = None,
) -> None:
    """Load annotated tasks from a stored export into the project (skips articles already there)."""
    from treffpunkt.annotation.labelstudio.client import connect
    from treffpunkt.annotation.labelstudio.push import import_gold
    from treffpunkt.annotation.team.members import invite

    ws = workspace.current()
    studio = connect(ws)
    users = None
    if annotators is not None:
        people = invite(studio, annotators.split(","), create=True)
        by_email = {m.email.lower(): m.id for m in [*people.created, *people.existing]}
        users = [by_email[e.strip().lower()] for e in annotators.split(",") if e.strip()]
        for email, password in people.passwords.items():
            console.print(f"Created {email}, password {password} — hand it over once.")
    result = import_gold(ws, export, annotators=users, studio=studio)
    console.print(
        f"Imported {result.imported} annotated task(s) into project {result.project.id}; "
        f"{result.already_present} already present."
    )


@annotate_app.command("preannotate")
def preannotate_cli(
    out: Annotated[
        Path, typer.Option("--out", dir_okay=False, help="JSONL file to write (one prediction per article).")
    ],
    model: Annotated[
        str | None, typer.Option("--model", help="Model version (name under models/ or a pipeline directory).")
    ] = None,
    patterns: Annotated[
        bool, typer.Option("--patterns", help="Use the cold-start patterns instead of a model.")
    ] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Articles per nlp.pipe call.")] = 500,
) -> None:
    """Write Label Studio predictions (a model version's or the patterns') for the corpus, for `push --predictions`."""
    from treffpunkt.annotation.labelstudio.push import save_predictions

    ws = workspace.current()
    lines, report, version = save_predictions(
        ws, model=_with_roles(ws, model), out=out, batch_size=batch_size, patterns=patterns
    )
    console.print(f"Wrote {lines} prediction(s) of {version} ({report.regions} region(s)) to {out}.")
    _print_skipped(report, "Not written")
    console.print(f"Next: treffpunkt annotate push --predictions {out}")


@annotate_app.command("attach-predictions")
@annotate_app.command("predict", hidden=True, deprecated=True)  # the old name, kept so scripts keep working
def attach_predictions_cli(
    model: Annotated[str, typer.Option("--model", help="Model version (name under models/ or a pipeline directory).")],
    order: Annotated[
        str, typer.Option("--order", help="'corpus' or 'uncertainty' (Label All Tasks serves the least certain first).")
    ] = "corpus",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Predictions per bulk request.")] = 500,
) -> None:
    """Attach a model version's predictions to the tasks already in the project (bulk; reruns add nothing)."""
    from treffpunkt.annotation.labelstudio.push import predict_existing

    ws = workspace.current()
    result = predict_existing(ws, model=_with_roles(ws, model), order=order, batch_size=batch_size)
    console.print(
        f"Predictions of {result.model_version} for {result.predicted_existing} task(s) of project {result.project.title!r} "
        f"(id {result.project.id}); {result.predictions.regions} region(s), {result.requests} request(s), {result.seconds:.1f} s."
    )
    _print_skipped(result.predictions, "Not sent")
    console.print(f"Label Studio now shows {result.model_version}'s predictions; older versions' stay on the tasks.")
    _print_queue(result.project, order)


@annotate_app.command("connect-model")
def connect_model_cli(
    url: Annotated[
        str | None,
        typer.Option("--url", help="Backend URL (default: the running `treffpunkt serve`, else serve.yaml)."),
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Disconnect: no more model suggestions or retrains.")] = False,
) -> None:
    """Connect the ML backend to the project: suggestions when a task opens, retraining as annotations come in."""
    from treffpunkt.serve.connect import connect_model, disconnect_model

    ws = workspace.current()
    if off:
        removed = disconnect_model(ws)
        console.print(f"Disconnected {removed} ML backend(s); tasks no longer get suggestions when opened.")
        return
    done = connect_model(ws, url=url)
    verb = "Connected" if done.created else "Updated"
    console.print(
        f"{verb}: ML backend {done.url} on project {done.project_id} (serving {done.model_version or 'unknown'}). "
        "Tasks without a prediction get one when opened; submitted annotations count towards a retrain."
    )
    console.print("Check it: treffpunkt studio status · retrains: treffpunkt serve status · off: --off")


def _with_roles(ws: Any, model: str | None) -> Any:
    """A model version as a predictor that also sends the version's event→actor relations (as `serve` does)."""
    if model is None:
        return None
    from treffpunkt.serve.model import ServedModel

    return ServedModel.load(ws, model)


def _print_skipped(report: Any, verb: str) -> None:
    """Predicted labels the schema lacks: counted by the prediction report, never dropped silently."""
    for row in report.as_dict()["skipped"]:
        err_console.print(f"[yellow]{verb} (not in the schema):[/] {row['layer']} {row['label']}: {row['count']}")


def _print_queue(ref: Any, order: str) -> None:
    if order == "uncertainty":
        console.print("Annotators get the least certain tasks first (Label All Tasks; tab 'Least certain first').")
    console.print(f"Open it: {ref.url}/projects/{ref.id}/data")


@annotate_app.command("pull")
def pull_cli(
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for the export snapshot.")] = 300.0,
    convert: Annotated[bool, typer.Option("--convert/--no-convert", help="Convert the export into DocBins.")] = True,
) -> None:
    """Export the project's annotations (raw JSON + sha256, never modified) and convert them to DocBins."""
    from treffpunkt.annotation.labelstudio.pull import pull

    ws = workspace.current()
    result = pull(ws, timeout=timeout, convert=convert)
    if result.converted is not None:
        print_convert(result.converted)
    console.print(f"Export:  {result.export_path} ({result.tasks} tasks, {result.seconds_export:.1f} s)")
    console.print(f"SHA-256: {result.sha256_path}")
    if result.converted_dir is not None:
        console.print(f"DocBins: {result.converted_dir}")
    guide = result.guidelines
    if guide is None:
        console.print("Guidelines: none found (guidelines.md or docs/guidelines.md in the workspace); not recorded.")
        return
    console.print(f"Guidelines: {guide.version or 'no version line'} ({guide.path}, sha256 {guide.sha256[:12]}…)")
    if result.before_guidelines:
        tasks = sorted({str(a["task"]) for a in result.before_guidelines})
        err_console.print(
            f"[yellow]Warning:[/] {len(result.before_guidelines)} annotation(s) in {len(tasks)} task(s) were last "
            f"changed before the current guidelines ({guide.version}): re-check them under the new rules "
            f"(tasks {', '.join(tasks[:10])}{', …' if len(tasks) > 10 else ''})."
        )


@annotate_app.command("convert")
def convert_cli(
    export: Annotated[
        Path,
        typer.Argument(help="Label Studio JSON export (e.g. corpus/exports/<stamp>_<project>.json).", dir_okay=False),
    ],
    schema_file: Annotated[
        Path | None, typer.Option("--schema", help="Label schema (default: the workspace's).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output folder (default: the export path without .json).", file_okay=False),
    ] = None,
    all_annotators: Annotated[
        bool,
        typer.Option(
            "--all-annotators", help="One Doc per non-cancelled annotation (for agreement), not one per task."
        ),
    ] = False,
) -> None:
    """Convert a Label Studio export into train/dev/test DocBins, with a report on every span."""
    from treffpunkt.annotation.convert.docs import convert_export, load_convert_options
    from treffpunkt.core.schema import load_schema

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
        console.print(
            f"[yellow]Empty splits:[/] {', '.join(report.empty_splits)} (too few clusters for the configured ratios)."
        )
    console.print(f"DocBins: {', '.join(str(p) for p in result.files.values())}")
    console.print(f"Report: {result.report_path}  Manifest: {result.manifest_path}")


@annotate_app.command("import-conll")
def import_conll_cli(
    file: Annotated[
        Path,
        typer.Argument(help="CoNLL/IOB file: two columns, CoNLL-2003 or GermEval style; LF or CRLF.", dir_okay=False),
    ],
    label_map: Annotated[
        list[str] | None,
        typer.Option("--label-map", help="FROM=TO, repeatable; TO must be a schema entity label, or O to drop."),
    ] = None,
    label_map_file: Annotated[
        Path | None, typer.Option("--label-map-file", help="YAML mapping FROM: TO (--label-map entries win).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="DocBin to write (default: FILE with .spacy).", dir_okay=False)
    ] = None,
    column: Annotated[
        int | None,
        typer.Option(
            "--column", help="Tag column, 0-based, negative counts from the end (default: last; GermEval: 2)."
        ),
    ] = None,
    sentences_per_doc: Annotated[
        int | None,
        typer.Option(
            "--sentences-per-doc",
            min=1,
            help="Sentences per Doc/task (default: conll.sentences_per_doc in convert.yaml).",
        ),
    ] = None,
    tasks_out: Annotated[
        Path | None,
        typer.Option(
            "--tasks-out", help="Also write Label Studio tasks with the entities as annotations.", dir_okay=False
        ),
    ] = None,
    schema_file: Annotated[
        Path | None, typer.Option("--schema", help="Label schema (default: the workspace's).")
    ] = None,
    push: Annotated[
        bool, typer.Option("--push", help="Import the tasks into the workspace's Label Studio project for review.")
    ] = False,
) -> None:
    """Read an existing IOB/CoNLL corpus into a DocBin; labels outside the schema are mapped or dropped and counted."""
    from treffpunkt.annotation.convert.conll import import_conll, parse_label_map
    from treffpunkt.annotation.convert.docs import load_convert_options
    from treffpunkt.core.schema import load_schema

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
        from treffpunkt.annotation.labelstudio.client import connect
        from treffpunkt.annotation.labelstudio.project import require_project
        from treffpunkt.annotation.labelstudio.push import import_annotated_tasks

        studio = connect(ws)
        pushed = import_annotated_tasks(studio, require_project(studio, ws), result.tasks)
        console.print(
            f"Pushed to {pushed.project.url}: {pushed.imported} tasks imported, {pushed.already_present} already present."
        )


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
        table.add_row(
            "[red]lines skipped[/]",
            report.bad_lines[0] + (" …" if len(report.bad_lines) > 1 else ""),
            str(len(report.bad_lines)),
        )
    console.print(table)
    console.print(f"DocBin: {result.out}  Report: {result.report_path}")
    if result.tasks_out:
        console.print(f"Label Studio tasks: {result.tasks_out}")


@annotate_app.command("agreement")
def agreement_cli(
    export: Annotated[
        Path | None,
        typer.Argument(
            help="Label Studio JSON export (default: the newest raw export in corpus/exports/).", dir_okay=False
        ),
    ] = None,
    schema_file: Annotated[
        Path | None, typer.Option("--schema", help="Label schema (default: the workspace's).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Conflicts file (default: corpus/exports/agreement/<export>.conflicts.json)."),
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
    project: Annotated[
        int | None, typer.Option("--project", help="Label Studio project id (default: from the export).")
    ] = None,
) -> None:
    """Pairwise span F1 (exact/overlap), sentence event kappa/alpha and a disagreement breakdown per annotator pair.

    Writes every conflict (boundary / label / missing, with text and offsets) to a JSON file. With --tag, conflicting
    tasks get data.needs_adjudication = true and data.agreement (exact span F1) in Label Studio: annotators open the
    project's Data Manager tab "Needs adjudication" (lowest agreement first), or filter any tab on the
    needs_adjudication column. Rerunning on a newer export clears the tag of tasks that agree by then.
    """
    from treffpunkt.annotation.agreement.measure import agreement, tag_conflicts
    from treffpunkt.core.schema import load_schema

    ws = workspace.current()
    schema = load_schema(schema_file or ws.schema_path)
    result = agreement(ws, export, schema=schema, out=out)
    print_result(result)
    if tag:
        from treffpunkt.annotation.labelstudio.client import connect

        tagged = tag_conflicts(result, connect(ws), project=project, view=view)
        print_tags(tagged)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def print_result(result: AgreementResult) -> None:
    from rich.table import Table

    from treffpunkt.annotation.agreement.measure import EVENT_TAG, LAYERS

    report = result.report
    console.print(
        f"[bold]{result.export.name}[/]: {result.tasks_scored} of {report.tasks} tasks with two or more annotators "
        f"({', '.join(result.annotators)}); {len(result.conflicting_tasks)} with conflicts."
    )
    labels = Table(title="Agreement per label (all pairs pooled)")
    for column in (
        "Layer",
        "Label",
        "Spans",
        "F1 exact",
        "F1 overlap",
        "Boundary",
        "Label conf.",
        "Missing",
        "κ sent.",
        "α sent.",
    ):
        labels.add_column(column, justify="left" if column in ("Layer", "Label") else "right")
    sentence = {e.label: e for e in result.event_labels}
    for layer in LAYERS:
        for label in result.labels[layer]:
            counts = result.counts(layer, "exact", label=label)
            event = sentence.get(label) if layer == EVENT_TAG else None
            labels.add_row(
                layer,
                label,
                str(counts.n_a + counts.n_b),
                _fmt(counts.f1),
                _fmt(result.f1(layer, "overlap", label=label)),
                *(str(result.disagreement(kind=k, layer=layer, label=label)) for k in ("boundary", "label", "missing")),
                _fmt(event.kappa) if event else "",
                _fmt(event.alpha) if event else "",
            )
        labels.add_row(
            layer,
            "[bold]micro / macro[/]",
            "",
            f"{_fmt(result.f1(layer, 'exact'))} / {_fmt(result.macro_f1(layer, 'exact'))}",
            f"{_fmt(result.f1(layer, 'overlap'))} / {_fmt(result.macro_f1(layer, 'overlap'))}",
            *(str(result.disagreement(kind=k, layer=layer)) for k in ("boundary", "label", "missing")),
            "",
            "",
            end_section=True,
        )
    console.print(labels)

    pairs = Table(title="Agreement per annotator pair (micro / macro F1)")
    for column in ("Pair", "Layer", "F1 exact", "F1 overlap", "Boundary", "Label conf.", "Missing"):
        pairs.add_column(column, justify="left" if column in ("Pair", "Layer") else "right")
    for pair in result.pairs:
        for layer in LAYERS:
            pairs.add_row(
                f"{pair[0]} ↔ {pair[1]}",
                layer,
                f"{_fmt(result.f1(layer, 'exact', pair=pair))} / {_fmt(result.macro_f1(layer, 'exact', pair=pair))}",
                f"{_fmt(result.f1(layer, 'overlap', pair=pair))} / {_fmt(result.macro_f1(layer, 'overlap', pair=pair))}",
                *(str(result.disagreement(kind=k, layer=layer, pair=pair)) for k in ("boundary", "label", "missing")),
                end_section=layer == LAYERS[-1],
            )
    console.print(pairs)

    decisions = Table(title="Event sentences and relations (all pairs pooled)")
    for column in ("What", "F1"):
        decisions.add_column(column, justify="left" if column == "What" else "right")
    decisions.add_row("event labels per sentence (micro)", _fmt(result.sentence_f1()))
    for label in result.labels[EVENT_TAG]:
        decisions.add_row(
            f"  {label}", _fmt(result.sentence_f1(label)), end_section=label == result.labels[EVENT_TAG][-1]
        )
    decisions.add_row("relations: event, argument and role identical", _fmt(result.relation_f1()))
    for role in sorted({r for _, r in result.relation_counts}):
        decisions.add_row(f"  {role}", _fmt(result.relation_f1(role)))
    console.print(decisions)

    console.print(
        f"Spans: {report.spans_kept} scored ({report.repaired} repaired), {report.rejected} rejected; "
        f"{report.cancelled} cancelled and {len(report.superseded)} superseded annotations left out; "
        f"relations: {report.relations_scored} scored, {report.relations_unresolved} with an end that is missing, "
        "rejected or not an event→entity link."
    )
    if report.rejected:
        console.print("[yellow]Rejected spans are listed under read_report.span_issues in the conflicts file.[/]")
    console.print(f"Conflicts written to [bold]{result.conflicts_path}[/]")


def print_tags(tagged: TagResult) -> None:
    from treffpunkt.annotation.agreement.measure import TAG_FIELD, VIEW_TITLE

    console.print(
        f"Label Studio project {tagged.project}: {len(tagged.tagged)} tasks tagged {TAG_FIELD}=true, "
        f"{len(tagged.cleared)} earlier tags cleared."
    )
    if tagged.missing:
        console.print(
            f"[yellow]{len(tagged.missing)} tasks of the export are gone from the server:[/] {tagged.missing}"
        )
    if tagged.view_id is not None:
        state = "created" if tagged.view_created else "already there"
        console.print(
            f"Data Manager tab [bold]{VIEW_TITLE!r}[/] ({state}, view {tagged.view_id}) lists them, lowest agreement first."
        )


@annotate_app.command("gold-build")
def gold_build_cli(
    spec: Annotated[
        Path | None, typer.Option(help="Gold spec (default: corpus/gold/spec.yaml in the repository).", dir_okay=False)
    ] = None,
    seeds: Annotated[
        Path | None, typer.Option(help="Folder of the seed files named in the spec.", file_okay=False)
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write the Label Studio export (default: corpus/gold/seeds.json).", dir_okay=False),
    ] = None,
    schema: Annotated[
        Path | None, typer.Option(help="Label schema (default: configs/schema.yaml in the repository).", dir_okay=False)
    ] = None,
) -> None:
    """Resolve the gold spec against the cleaned seed texts and write the Label Studio export."""
    from treffpunkt.core.resources import default_config
    from treffpunkt.core.schema import load_schema
    from treffpunkt.demo import gold

    result = gold.build_gold(load_schema(schema or default_config("schema.yaml")), spec_path=spec, seeds_dir=seeds)
    path = gold.write_gold(result, out)
    counts = ", ".join(f"{v} {k}" for k, v in result.counts().items())
    console.print(f"Gold written to {path}: {counts}.")


# --------------------------------------------------------------------------- the team: queues, stats, review, schema


def _split(values: list[str] | None) -> list[str]:
    return [v for item in values or [] for v in item.split(",") if v.strip()]


@annotate_app.command("invite")
def invite_cli(
    emails: Annotated[list[str], typer.Argument(help="E-mail addresses (space or comma separated).")],
    create: Annotated[
        bool, typer.Option("--create", help="Create the users now (API, no browser), each with a random password.")
    ] = False,
) -> None:
    """Print the organisation's invite link; with --create, create the users through the API."""
    from treffpunkt.annotation.labelstudio.client import connect
    from treffpunkt.annotation.team.members import invite

    result = invite(connect(workspace.current()), _split(emails), create=create)
    console.print(f"Invite link (sign up with it): {result.invite_url}")
    for member in result.existing:
        console.print(f"Already a user: {member.email} (id {member.id})")
    for member in result.created:
        console.print(
            f"Created {member.email} (id {member.id}), password {result.passwords[member.email]} — hand it over once."
        )


@annotate_app.command("assign")
def assign_cli(
    annotators: Annotated[list[str], typer.Option("--annotators", help="E-mails, comma separated (repeatable).")],
    per_task: Annotated[int, typer.Option("--per-task", min=1, help="Different annotators per task.")] = 1,
    order: Annotated[
        str, typer.Option("--order", help="Queue order: 'corpus' (unlabelled first) or 'uncertainty'.")
    ] = "corpus",
) -> None:
    """Spread the tasks over annotators (balanced, re-runnable) and give each a Data Manager tab with their queue."""
    from treffpunkt.annotation.labelstudio.client import connect
    from treffpunkt.annotation.labelstudio.project import require_project
    from treffpunkt.annotation.team.assign import assign, view_title

    studio = connect(workspace.current())
    ref = require_project(studio, workspace.current())
    result = assign(studio, ref, _split(annotators), per_task=per_task, order=order)
    console.print(
        f"{result.tasks} task(s), {per_task} annotator(s) each; {len(result.changed)} assignment(s) written, "
        f"{result.finished_kept} finished (task, annotator) pair(s) kept."
    )
    for email, load in result.loads.items():
        console.print(f"  {email}: {load} task(s), tab {view_title(email)!r} (view {result.views[email]})")
    if result.not_members:
        err_console.print(
            f"[yellow]No Label Studio user yet:[/] {', '.join(result.not_members)} — "
            f"`treffpunkt annotate invite {' '.join(result.not_members)} --create`"
        )
    console.print(f"Open it: {ref.url}/projects/{ref.id}/data")


@annotate_app.command("stats")
def stats_cli(
    export: Annotated[
        Path | None, typer.Argument(help="Raw export (default: the newest under corpus/exports).", dir_okay=False)
    ] = None,
    html_dir: Annotated[Path | None, typer.Option("--html", help="Write stats.html and charts here.")] = None,
) -> None:
    """Per annotator: tasks, lead time, labels, agreement with peers and with the review decision, guideline versions."""
    from rich.table import Table

    from treffpunkt.annotation.agreement.measure import newest_export
    from treffpunkt.annotation.team.stats import stats, write_html
    from treffpunkt.core.schema import load_schema
    from treffpunkt.core.tracking import start_run

    ws = workspace.current()
    export = export or newest_export(ws)
    result = stats(ws, export, schema=load_schema(ws.schema_path), names=_member_names(ws))
    columns, rows = result.table()
    table = Table(title=f"Annotators of {export.name}", title_justify="left")
    for column in columns:
        table.add_column(column, justify="left" if column == "annotator" else "right")
    for row in rows:
        table.add_row(*("–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)
    for a in result.annotators:
        for peer, scores in sorted(a.peer_f1.items()):
            shown = ", ".join(f"{k} {'–' if v is None else f'{v:.3f}'}" for k, v in scores.items())
            console.print(f"  {a.annotator} ↔ {peer}: span F1 {shown}")
    if result.older:
        err_console.print(
            f"[yellow]{len(result.older)} annotation(s) were made under older guidelines than {result.current_version}:[/] "
            + ", ".join(sorted({f"task {o['task']} ({o['annotator']}, {o['version']})" for o in result.older})[:10])
        )
    if html_dir is not None:
        console.print(f"HTML: {write_html(result, html_dir)}")
    tracker = start_run(ws, job_type="annotation-stats", config={"export": export.name})
    tracker.table("annotators", columns, rows)
    tracker.finish()
    console.print(f"JSON: {result.json_path}")


def _member_names(ws: Any) -> dict[str, str]:
    """User id → e-mail from the server when it answers; exports name annotators by id."""
    from treffpunkt.annotation.labelstudio.client import connect
    from treffpunkt.annotation.team.members import members_by_id
    from treffpunkt.core.errors import TreffpunktError

    try:
        return members_by_id(connect(ws, attempts=1))
    except TreffpunktError:
        err_console.print("[yellow]Label Studio did not answer: annotators are shown by user id.[/]")
        return {}


@annotate_app.command("review")
def review_cli(
    reviewer: Annotated[str, typer.Option("--reviewer", help="The reviewer's e-mail (a Label Studio user).")],
) -> None:
    """Queue the tasks `agreement --tag` marked for the reviewer; make submitted reviews the ground truth; report."""
    from treffpunkt.annotation.labelstudio.client import connect
    from treffpunkt.annotation.labelstudio.project import require_project
    from treffpunkt.annotation.team.review import review, view_title
    from treffpunkt.core.schema import load_schema

    ws = workspace.current()
    studio = connect(ws)
    ref = require_project(studio, ws)
    result = review(ws, studio, ref, reviewer, schema=load_schema(ws.schema_path))
    console.print(
        f"{len(result.queued)} task(s) need adjudication (tab {view_title(result.reviewer)!r}, view {result.view_id}); "
        f"{len(result.decided)} reviewed, {len(result.waiting)} waiting; {result.marked} ground-truth mark(s) changed."
    )
    for d in result.decided:
        parts = [
            f"{a.annotator}: {len(a.kept)} kept, {len(a.changed)} changed, {len(a.dropped)} dropped"
            for a in d.annotators
        ]
        console.print(f"  task {d.task_id}: " + "; ".join(parts) + f"; {len(d.added)} added by the reviewer")
    console.print(f"Report: {result.report_path}")


@annotate_app.command("migrate")
def migrate_cli(
    rename: Annotated[list[str] | None, typer.Option("--rename", help="OLD=NEW (repeatable).")] = None,
    merge: Annotated[list[str] | None, typer.Option("--merge", help="A,B=C (repeatable).")] = None,
    drop: Annotated[list[str] | None, typer.Option("--drop", help="Label to remove (repeatable).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show how many regions each change touches.")] = False,
) -> None:
    """Change labels in every annotation and prediction, then the labeling config (from configs/schema.yaml)."""
    from treffpunkt.annotation.labelstudio.client import connect
    from treffpunkt.annotation.labelstudio.project import require_project
    from treffpunkt.annotation.team.migrate import migrate, parse_changes

    ws = workspace.current()
    mapping, change = parse_changes(rename or [], merge or [], [d for item in drop or [] for d in item.split(",")])
    studio = connect(ws)
    result = migrate(ws, studio, require_project(studio, ws), mapping, change, dry_run=dry_run)
    for what, counts in result.diff.items():
        console.print(
            f"  {what}: {counts.get('annotations', 0)} annotation region(s), {counts.get('predictions', 0)} prediction region(s)"
        )
    if dry_run:
        console.print("Dry run: nothing changed.")
        return
    console.print(
        f"{'Resumed' if result.resumed else 'Backup'}: {result.backup}. Changed {result.annotations_changed} annotation(s), "
        f"{result.predictions_changed} prediction(s); labeling config updated; check export {result.check_export} has no old label."
    )
    console.print(f"Undo: treffpunkt annotate restore {result.backup}")


@annotate_app.command("restore")
def restore_cli(
    export: Annotated[Path, typer.Argument(help="A backup export (corpus/exports/backups/...).", dir_okay=False)],
) -> None:
    """Put a backup export's annotation and prediction results and labeling config back."""
    from treffpunkt.annotation.labelstudio.client import connect
    from treffpunkt.annotation.labelstudio.project import require_project
    from treffpunkt.annotation.team.migrate import restore

    ws = workspace.current()
    studio = connect(ws)
    result = restore(ws, studio, require_project(studio, ws), export)
    console.print(
        f"Restored {result.annotations_restored} annotation(s) and {result.predictions_restored} prediction(s)"
        + (" and the labeling config" if result.config_restored else "")
        + f" from {export}; restore configs/schema.yaml to match."
    )
    if result.missing:
        err_console.print(f"[yellow]Gone from the server since the backup:[/] {result.missing}")
