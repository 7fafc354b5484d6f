"""The article store (``corpus/articles.jsonl``) and ``add``: read, clean, identify, de-duplicate, cluster.

The store is rewritten atomically as a whole, so a crash leaves either the old corpus or the new one.
Every input file and every record in it ends up in the :class:`IngestReport` as added, near-duplicate
(added, sharing a cluster), duplicate (skipped) or rejected (with the reason).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from treffpunkt.annotation.ingest.dedup import article_id, assign_clusters
from treffpunkt.annotation.ingest.readers import (
    FileRead,
    IngestConfig,
    RawRecord,
    Rejection,
    expand_paths,
    load_ingest_config,
    read_file,
)
from treffpunkt.core.article import Article, Origin
from treffpunkt.core.console import track
from treffpunkt.core.errors import InputError, TreffpunktError, WorkspaceError
from treffpunkt.core.io import write_json, write_jsonl
from treffpunkt.core.workspace import Workspace

Status = Literal["added", "near-duplicate", "duplicate", "rejected"]


class ArticleNotFound(TreffpunktError):
    """No article with the given id in the corpus."""


class ItemStatus(BaseModel):
    """What happened to one record (a .txt/.html file, a JSONL line, a CSV row) or to a whole file."""

    path: str
    line: int | None = None
    status: Status
    reason: str | None = None
    article_id: str | None = None
    cluster: str | None = None
    title: str | None = None
    notes: list[str] = Field(default_factory=list)


class FileSummary(BaseModel):
    path: str
    kind: str
    encoding: str | None = None
    added: int = 0
    near_duplicate: int = 0
    duplicate: int = 0
    rejected: int = 0
    reasons: list[str] = Field(default_factory=list)


class IngestReport(BaseModel):
    started: str
    finished: str | None = None
    languages: list[str] | None  # None: any language accepted
    files: list[FileSummary] = Field(default_factory=list)
    items: list[ItemStatus] = Field(default_factory=list)
    corpus_size: int = 0
    report_path: str | None = None

    def count(self, status: Status) -> int:
        return sum(item.status == status for item in self.items)

    @property
    def added(self) -> int:
        """Articles written to the corpus (near-duplicates included: they are kept, sharing a cluster)."""
        return self.count("added") + self.count("near-duplicate")

    @property
    def rejected(self) -> int:
        return self.count("rejected")


@dataclass(frozen=True)
class IngestOptions:
    """``languages``: accepted py3langid codes, None for any. ``config``: None loads configs/ingest.yaml."""

    languages: Sequence[str] | None = ("de",)
    config: IngestConfig | None = None
    progress: bool = True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- store ------------------------------------------------------------------------------------------------------


def iter_articles(ws: Workspace) -> Iterator[Article]:
    """Articles in corpus order; nothing if the corpus is empty."""
    path = ws.articles_path
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield Article.model_validate_json(line)
            except ValidationError as err:
                raise WorkspaceError(
                    f"{path}:{number} is not a valid article: {err.errors()[0]['msg']}",
                    hint="Restore the file from version control or re-run `treffpunkt corpus "
                    "add` into a fresh workspace.",
                ) from err


def load_articles(ws: Workspace) -> list[Article]:
    return list(iter_articles(ws))


def get_article(ws: Workspace, article_id: str) -> Article:
    for article in iter_articles(ws):
        if article.id == article_id:
            return article
    raise ArticleNotFound(
        f"No article with id {article_id!r} in {ws.articles_path}.",
        hint="List ids with `treffpunkt corpus export | jq -r .id`, or add files with `treffpunkt corpus add PATH`.",
    )


def save_articles(ws: Workspace, articles: Sequence[Article]) -> int:
    """Rewrite the whole store atomically."""
    return write_jsonl(ws.articles_path, (a.model_dump(mode="json") for a in articles))


# --- reading and building articles ---------------------------------------------------------------------------------


def _language(text: str) -> str:
    import py3langid

    code, _ = py3langid.classify(text[:1500])  # enough for a stable guess, 4x faster
    return str(code)


def _read_all(paths: Sequence[Path], config: IngestConfig, progress: bool) -> tuple[list[FileRead], list[Rejection]]:
    files, missing = expand_paths(list(paths), config.suffixes)
    iterator = track(files, "Reading", total=len(files), unit="files") if progress else files
    return [read_file(path, config) for path in iterator], missing


def _build(
    reads: list[FileRead],
    missing: list[Rejection],
    options: IngestOptions,
    config: IngestConfig,
    known_ids: set[str],
) -> tuple[list[Article], IngestReport, dict[str, FileSummary]]:
    """Articles for all acceptable new records (no clusters yet) and a report with every other outcome."""
    report = IngestReport(started=_now(), languages=list(options.languages) if options.languages else None)
    summaries: dict[str, FileSummary] = {}
    accepted = {lang.lower() for lang in options.languages} if options.languages else None
    articles: list[Article] = []
    seen = set(known_ids)
    stamp = _now()

    def reject(summary: FileSummary, path: Path, reason: str, line: int | None = None, notes=()) -> None:
        summary.rejected += 1
        summary.reasons.append(f"line {line}: {reason}" if line else reason)
        report.items.append(ItemStatus(path=str(path), line=line, status="rejected", reason=reason, notes=list(notes)))

    for rejection in missing:
        summary = summaries.setdefault(str(rejection.path), FileSummary(path=str(rejection.path), kind="?"))
        reject(summary, rejection.path, rejection.reason)
    for read in reads:
        summary = summaries.setdefault(
            str(read.path), FileSummary(path=str(read.path), kind=read.kind, encoding=read.encoding)
        )
        for rejection in read.rejections:
            reject(summary, rejection.path, rejection.reason, rejection.line)
        for record in read.records:
            article = _to_article(record, stamp)
            if len(record.text) < config.min_chars:
                reject(
                    summary,
                    record.path,
                    f"empty after cleaning ({len(record.text)} characters < {config.min_chars})",
                    record.line,
                    record.notes,
                )
                continue
            if accepted is not None and article.language not in accepted:
                reject(
                    summary,
                    record.path,
                    f"language {article.language!r} not accepted "
                    f"(--lang {','.join(sorted(accepted))}; use --lang any to accept all)",
                    record.line,
                    record.notes,
                )
                continue
            if article.id in seen:
                summary.duplicate += 1
                report.items.append(
                    ItemStatus(
                        path=str(record.path),
                        line=record.line,
                        status="duplicate",
                        reason="same text already in the corpus",
                        article_id=article.id,
                        title=article.title or None,
                        notes=record.notes,
                    )
                )
                continue
            seen.add(article.id)
            articles.append(article)
            report.items.append(
                ItemStatus(
                    path=str(record.path),
                    line=record.line,
                    status="added",
                    article_id=article.id,
                    title=article.title or None,
                    notes=record.notes,
                )
            )
    report.files = list(summaries.values())
    return articles, report, summaries


def _to_article(record: RawRecord, stamp: str) -> Article:
    identity = article_id(record.text)
    return Article(
        id=identity,
        title=record.title,
        text=record.text,
        source=record.source,
        url=record.url,
        published=record.published,
        language=_language(record.text) if record.text else None,
        cluster=identity,
        origin=Origin(path=str(record.path.resolve()), kind=record.kind, line=record.line),
        meta=record.meta,
        added=stamp,
    )


def _cluster(
    existing: list[Article],
    new: list[Article],
    config: IngestConfig,
    report: IngestReport,
    summaries: dict[str, FileSummary],
) -> list[Article]:
    """Give new articles their near-duplicate cluster; mark the report items of those that joined one."""
    opts = config.dedup
    every = existing + new
    clusters = assign_clusters(
        [a.text for a in every],
        [a.id for a in every],
        [a.cluster for a in existing] + [None] * len(new),
        threshold=opts.threshold,
        num_perm=opts.num_perm,
        shingle_size=opts.shingle_size,
        seed=opts.seed,
    )
    by_id = {item.article_id: item for item in report.items if item.status == "added"}
    result = []
    for article, cluster in zip(new, clusters[len(existing) :], strict=True):
        article = article.model_copy(update={"cluster": cluster})
        item = by_id[article.id]
        item.cluster = cluster
        summary = summaries[item.path]
        if cluster != article.id:
            item.status, item.reason = "near-duplicate", f"kept in cluster {cluster}"
            summary.near_duplicate += 1
        else:
            summary.added += 1
        result.append(article)
    return result


def articles_from_paths(
    paths: Sequence[Path], *, options: IngestOptions | None = None, ws: Workspace | None = None
) -> tuple[list[Article], IngestReport]:
    """Read and clean files into articles without touching any corpus (clusters within this batch only)."""
    options = options or IngestOptions()
    config = options.config or load_ingest_config(ws)
    reads, missing = _read_all(paths, config, options.progress)
    articles, report, summaries = _build(reads, missing, options, config, set())
    articles = _cluster([], articles, config, report, summaries)
    report.finished = _now()
    return articles, report


def add(ws: Workspace, paths: Sequence[Path], *, options: IngestOptions | None = None) -> IngestReport:
    """Add files to the workspace corpus; returns the report (also saved in corpus/reports/)."""
    options = options or IngestOptions()
    if not paths:
        raise InputError("No input paths given.", hint="Pass files or directories: `treffpunkt corpus add DIR`.")
    config = options.config or load_ingest_config(ws)
    existing = load_articles(ws)
    reads, missing = _read_all(paths, config, options.progress)
    new, report, summaries = _build(reads, missing, options, config, {a.id for a in existing})
    new = _cluster(existing, new, config, report, summaries)
    if new:
        ws.corpus_dir.mkdir(parents=True, exist_ok=True)
        save_articles(ws, existing + new)
    report.corpus_size = len(existing) + len(new)
    report.finished = _now()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    report_path = ws.corpus_dir / "reports" / f"ingest-{stamp}.json"
    report.report_path = str(report_path)
    cleaning = {str(r.path): r.cleaning for r in reads if r.cleaning is not None}
    write_json(report_path, {**report.model_dump(mode="json"), "cleaning": cleaning})
    return report


# --- inspection -------------------------------------------------------------------------------------------------


class CorpusStats(BaseModel):
    articles: int
    clusters: int
    characters: int
    mean_characters: float
    sources: dict[str, int]
    languages: dict[str, int]
    kinds: dict[str, int]


def stats(ws: Workspace) -> CorpusStats:
    articles = load_articles(ws)
    chars = sum(len(a.text) for a in articles)
    return CorpusStats(
        articles=len(articles),
        clusters=len({a.cluster for a in articles}),
        characters=chars,
        mean_characters=round(chars / len(articles), 1) if articles else 0.0,
        sources=dict(Counter(a.source or "(unknown)" for a in articles).most_common()),
        languages=dict(Counter(a.language or "(unknown)" for a in articles).most_common()),
        kinds=dict(Counter(a.origin.kind for a in articles).most_common()),
    )


def export_lines(ws: Workspace) -> Iterator[str]:
    """Every article as one JSON line."""
    for article in iter_articles(ws):
        yield json.dumps(article.model_dump(mode="json"), ensure_ascii=False)
