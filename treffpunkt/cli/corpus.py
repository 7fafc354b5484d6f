"""``treffpunkt corpus``: add files to the corpus, and inspect, export or show its articles."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from treffpunkt.cli._app import corpus_app
from treffpunkt.core import workspace
from treffpunkt.core.console import console, err_console


def _languages(value: str) -> list[str] | None:
    return None if value.strip().lower() == "any" else [v.strip().lower() for v in value.split(",") if v.strip()]


@corpus_app.command("add")
def add_cli(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories (searched recursively).")],
    lang: Annotated[str, typer.Option("--lang", help="Accepted languages, comma-separated, or 'any'.")] = "de",
) -> None:
    """Add .txt web dumps, .html pages, .jsonl and .csv files to the workspace corpus."""
    from rich.table import Table

    from treffpunkt.annotation.ingest.corpus import IngestOptions, add

    ws = workspace.current()
    report = add(ws, paths, options=IngestOptions(languages=_languages(lang)))
    table = Table(title="Ingestion", show_lines=False)
    table.add_column("file", overflow="fold", min_width=20)
    table.add_column("kind")
    for column in ("added", "near-dup", "duplicate", "rejected"):
        table.add_column(column, justify="right")
    table.add_column("reasons", overflow="fold")
    for f in report.files:
        reasons = "; ".join(f.reasons[:3]) + (f" (+{len(f.reasons) - 3} more)" if len(f.reasons) > 3 else "")
        table.add_row(
            Path(f.path).name, f.kind, str(f.added), str(f.near_duplicate), str(f.duplicate), str(f.rejected), reasons
        )
    table.add_section()
    table.add_row(
        "total",
        "",
        str(report.count("added")),
        str(report.count("near-duplicate")),
        str(report.count("duplicate")),
        str(report.rejected),
        "",
    )
    console.print(table)
    if report.added == 0:
        console.print("Added 0 articles: everything was already in the corpus or rejected.")
    console.print(f"Corpus: {report.corpus_size} articles in {ws.articles_path}")
    console.print(f"Report: {report.report_path}")
    if report.rejected:
        err_console.print(f"[yellow]{report.rejected} item(s) rejected; the rest was ingested.[/]")
        raise typer.Exit(1)


@corpus_app.command("stats")
def stats_cli() -> None:
    """Articles, clusters, sources, languages and characters in the corpus."""
    from rich.table import Table

    from treffpunkt.annotation.ingest.corpus import stats

    s = stats(workspace.current())
    table = Table(show_header=False, title="Corpus")
    table.add_row("articles", str(s.articles))
    table.add_row("clusters", str(s.clusters))
    table.add_row("characters", f"{s.characters:,} (mean {s.mean_characters:,.0f})")
    for name, counts in (("languages", s.languages), ("kinds", s.kinds), ("sources", s.sources)):
        shown = ", ".join(f"{k}: {v}" for k, v in list(counts.items())[:10])
        table.add_row(name, shown + (f", ... ({len(counts)} in all)" if len(counts) > 10 else ""))
    console.print(table)


@corpus_app.command("export")
def export_cli(
    fmt: Annotated[str, typer.Option("--format", help="Output format (jsonl).")] = "jsonl",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """All articles as JSON lines, to stdout or a file."""
    from treffpunkt.annotation.ingest.corpus import export_lines
    from treffpunkt.core.errors import InputError
    from treffpunkt.core.io import atomic_open

    if fmt != "jsonl":
        raise InputError(f"Unknown export format {fmt!r}.", hint="Use --format jsonl.")
    ws = workspace.current()
    if out is None:
        for line in export_lines(ws):
            sys.stdout.write(line + "\n")
        return
    count = 0
    with atomic_open(out) as handle:
        for line in export_lines(ws):
            handle.write(line + "\n")
            count += 1
    err_console.print(f"Exported {count} articles to {out}")


@corpus_app.command("show")
def show_cli(article_id: Annotated[str, typer.Argument(help="Article id (see `corpus export`).")]) -> None:
    """One article: its fields and the text annotators see."""
    from rich.markup import escape

    from treffpunkt.annotation.ingest.corpus import get_article

    article = get_article(workspace.current(), article_id)
    console.print(f"[bold]{escape(article.title or '(no title)')}[/]")
    for key in ("id", "cluster", "source", "url", "published", "language", "added"):
        console.print(f"{key:>9}: {getattr(article, key)}")
    origin = article.origin
    console.print(f"{'origin':>9}: {origin.path} ({origin.kind}{f', line {origin.line}' if origin.line else ''})")
    for key, value in article.meta.items():
        console.print(f"{key:>9}: {escape(value)}")
    console.print()
    console.print(escape(article.text), soft_wrap=True)
