"""``treffpunkt predict VERSION INPUT...``: event records for the workspace corpus or for files (see docs/records.md)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from treffpunkt.cli._app import app
from treffpunkt.core import workspace
from treffpunkt.core.console import console, err_console
from treffpunkt.core.errors import InputError
from treffpunkt.core.workspace import Workspace

if TYPE_CHECKING:
    from treffpunkt.annotation.ingest.corpus import IngestReport
    from treffpunkt.training.predict.batch import PredictResult

CORPUS = "corpus"


@dataclass
class PredictRun:
    version: str
    model_dir: Path
    result: PredictResult
    ingest: IngestReport | None
    ingest_report_path: Path | None


def _articles(
    ws: Workspace, inputs: Sequence[str], languages: Sequence[str] | None
) -> tuple[Iterable[Any], int, IngestReport | None]:
    """Articles from the corpus (streamed) and/or files cleaned exactly like `corpus add` (nothing is stored)."""
    from treffpunkt.annotation.ingest.corpus import (
        IngestOptions,
        articles_from_paths,
        iter_articles,
    )

    if not inputs:
        raise InputError("No input given.", hint="Pass `corpus` for the workspace corpus, or files/directories.")
    sources: list[Iterable[Any]] = []
    total = 0
    report = None
    if CORPUS in inputs:
        if not ws.articles_path.exists():
            raise InputError(
                f"The workspace corpus {ws.articles_path} is empty.",
                hint="Add articles with `treffpunkt corpus add PATH...`.",
            )
        with ws.articles_path.open(encoding="utf-8") as handle:
            total += sum(1 for line in handle if line.strip())
        sources.append(iter_articles(ws))
    paths = [Path(p) for p in inputs if p != CORPUS]
    if paths:
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise InputError(
                f"Input not found: {', '.join(missing)}", hint="Pass existing files or directories, or `corpus`."
            )
        articles, report = articles_from_paths(paths, options=IngestOptions(languages=languages), ws=ws)
        total += len(articles)
        sources.append(articles)
    return itertools.chain.from_iterable(sources), total, report


def predict_inputs(
    ws: Workspace,
    version: str,
    inputs: Sequence[str],
    *,
    out: Path | None = None,
    processes: int = 1,
    dask_address: str | None = None,
    batch_size: int | None = None,
    shard_size: int | None = None,
    languages: Sequence[str] | None = ("de",),
    code: Path | None = None,
) -> PredictRun:
    """Resolve the model version, read the inputs and write event records (resumable)."""
    from treffpunkt.core.io import write_json
    from treffpunkt.training.predict.batch import DEFAULT_SHARD_SIZE, model_spec, predict

    spec = model_spec(ws, version, batch_size=batch_size, code=code)
    model_dir, name = Path(spec.path), spec.model_version
    articles, total, report = _articles(ws, inputs, languages)
    out = out or ws.root / "predictions" / name
    result = predict(
        spec,
        articles,
        out,
        shard_size=shard_size or DEFAULT_SHARD_SIZE,
        processes=processes,
        dask_address=dask_address,
        total=total,
    )
    report_path = None
    if report is not None:
        report_path = out.with_name(out.name + ".ingest.json") if out.suffix == ".jsonl" else out / "ingest-report.json"
        write_json(report_path, report.model_dump(mode="json"))
    return PredictRun(name, model_dir, result, report, report_path)


@app.command("predict")
def predict_cli(
    version: Annotated[str, typer.Argument(help="Model version (name, name-NNN, or a model directory).")],
    inputs: Annotated[
        list[str], typer.Argument(help="`corpus` (the workspace corpus), JSONL/CSV/text/HTML files or directories.")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory of shards, or a .jsonl file (default: predictions/VERSION/)."),
    ] = None,
    processes: Annotated[int, typer.Option("--processes", "-n", min=1, help="Worker processes on this machine.")] = 1,
    dask: Annotated[
        str | None, typer.Option("--dask", help="Address of a running Dask scheduler (tcp://HOST:8786).")
    ] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, help="nlp.pipe batch size.")] = None,
    shard_size: Annotated[
        int | None, typer.Option("--shard-size", min=1, help="Articles per output shard (the unit of resuming).")
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", help="Accepted languages for file input, comma-separated, or 'any'.")
    ] = "de",
    code: Annotated[
        Path | None, typer.Option("--code", help="Python file with extra spaCy components to import (also on workers).")
    ] = None,
) -> None:
    """Write PLOVER-like event records (one JSON line per event) for articles; reruns skip finished shards."""
    languages = None if lang.strip().lower() == "any" else [v.strip() for v in lang.split(",") if v.strip()]
    run = predict_inputs(
        workspace.current(),
        version,
        inputs,
        out=out,
        processes=processes,
        dask_address=dask,
        batch_size=batch_size,
        shard_size=shard_size,
        languages=languages,
        code=code,
    )
    r = run.result
    console.print(
        f"Model {run.version}: {r.articles} articles, {r.events} events, {r.words} tokens in {r.seconds:.1f}s "
        f"({r.articles_per_s:,.1f} articles/s)"
    )
    console.print(
        f"Shards: {len(r.shards_written)} written, {len(r.shards_skipped)} already done"
        + (f", {len(r.stale_removed)} stale removed" if r.stale_removed else "")
        + f" → {r.shards_dir}"
    )
    if r.out != r.shards_dir:
        console.print(f"Records: {r.out}")
    if run.ingest is not None:
        rejected = run.ingest.rejected
        console.print(f"Input report: {run.ingest_report_path}")
        if rejected:
            err_console.print(
                f"[yellow]{rejected} input item(s) rejected by cleaning (see the report); the rest was predicted.[/]"
            )
