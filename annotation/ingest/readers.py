"""Read input files into raw records: .txt web dumps, .html pages, crawler .jsonl and .csv dumps.

Every file is checked before it is parsed (readable, not empty, under the size limit, not binary) and decoded
with its real encoding (UTF-8, else detected: cp1252 / latin-1 dumps are common). Nothing is dropped silently:
each problem becomes a :class:`Rejection` with the file, the line or row, and the reason.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field

from treffpunkt.annotation.ingest.cleaning import CleaningConfig, clean_dump, find_published, normalize_text
from treffpunkt.core.config import StrictConfig, load_config
from treffpunkt.core.resources import default_config
from treffpunkt.core.workspace import Workspace


class CsvOptions(StrictConfig):
    separator: str
    quote: str
    columns: list[str]
    header: bool
    text_column: str
    title_column: str
    url_column: str
    date_column: str
    source_column: str


class JsonlOptions(StrictConfig):
    text_field: str
    title_field: str
    url_field: str
    date_field: str
    source_field: str


class DedupOptions(StrictConfig):
    threshold: float = Field(gt=0, le=1)
    num_perm: int = Field(ge=16)
    shingle_size: int = Field(ge=1)
    seed: int


class IngestConfig(StrictConfig):
    """``configs/ingest.yaml``: limits, reader options, near-duplicate and cleaning thresholds."""

    max_bytes: int = Field(gt=0)
    languages: list[str]
    min_chars: int
    suffixes: list[str]
    csv: CsvOptions
    jsonl: JsonlOptions
    dedup: DedupOptions
    cleaning: CleaningConfig


def load_ingest_config(ws: Workspace | None = None) -> IngestConfig:
    """The workspace's ``configs/ingest.yaml`` merged over the shipped default (keys left out keep it), validated."""
    path = ws.config_path("ingest.yaml") if ws else default_config("ingest.yaml")
    return load_config(path, IngestConfig, what="Ingest config", defaults=default_config("ingest.yaml"))


@dataclass
class RawRecord:
    """One article as read from a file, before ids, language and clusters are assigned."""

    text: str
    path: Path
    kind: str
    line: int | None = None
    title: str = ""
    url: str | None = None
    published: str | None = None
    source: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # e.g. "decoded as cp1252", "removed 23 of 31 lines"


@dataclass
class Rejection:
    path: Path
    reason: str
    line: int | None = None


@dataclass
class FileRead:
    path: Path
    kind: str
    records: list[RawRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    encoding: str | None = None
    cleaning: list[dict[str, Any]] | None = None  # per-line decisions of the web-dump cleaner (.txt only)


KINDS = {".txt": "txt", ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".csv": "csv"}


def expand_paths(paths: list[Path], suffixes: list[str]) -> tuple[list[Path], list[Rejection]]:
    """Files given directly plus every file with a known suffix below given directories (sorted)."""
    files: list[Path] = []
    rejected: list[Rejection] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes))
        elif path.is_file():
            files.append(path)
        else:
            rejected.append(Rejection(path, "path does not exist or is not a file"))
    seen: set[Path] = set()
    unique = [p for p in files if not (p.resolve() in seen or seen.add(p.resolve()))]
    return unique, rejected


def _decode(data: bytes) -> tuple[str | None, str | None, str | None]:
    """(text, encoding, problem). UTF-8 first; otherwise charset-normalizer's best guess."""
    if b"\x00" in data[:8192]:
        return None, None, "binary file (NUL bytes)"
    try:
        return data.decode("utf-8-sig"), "utf-8", None
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        return None, None, "binary or undecodable file (no text encoding fits)"
    text = str(best)
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t\f")
    if controls > len(text) / 100:
        return None, None, "binary file (control characters)"
    return text, best.encoding, None


def read_file(path: Path, config: IngestConfig) -> FileRead:
    """Check, decode and parse one file."""
    kind = KINDS.get(path.suffix.lower(), "txt")
    result = FileRead(path=path, kind=kind)
    try:
        size = path.stat().st_size
        if size > config.max_bytes:
            result.rejections.append(Rejection(path, f"file too large ({size:,} bytes > limit {config.max_bytes:,})"))
            return result
        data = path.read_bytes()
    except OSError as err:
        result.rejections.append(Rejection(path, f"unreadable: {err.strerror or err}"))
        return result
    if not data.strip():
        result.rejections.append(Rejection(path, "empty file"))
        return result
    text, encoding, problem = _decode(data)
    if problem or text is None:
        result.rejections.append(Rejection(path, problem or "undecodable"))
        return result
    result.encoding = encoding
    reader = {"txt": _read_txt, "html": _read_html, "jsonl": _read_jsonl, "csv": _read_csv}[kind]
    reader(text, result, config)
    if encoding != "utf-8":
        for record in result.records:
            record.notes.append(f"decoded as {encoding}")
    return result


def _read_txt(text: str, result: FileRead, config: IngestConfig) -> None:
    import py3langid

    if py3langid.classify(text[:5000])[0] != "de":
        # The classifier's features (stop words, reader address) are German; other texts are only normalised
        # and left to the language check.
        result.records.append(
            RawRecord(
                text=normalize_text(text),
                path=result.path,
                kind="txt",
                published=find_published(text),
                notes=["not German: not cleaned"],
            )
        )
        return
    cleaned = clean_dump(text, config.cleaning)
    result.cleaning = [p.to_dict() for p in cleaned.paragraphs]
    removed = len(cleaned.removed)
    record = RawRecord(
        text=cleaned.text, path=result.path, kind="txt", title=cleaned.title, published=find_published(text)
    )
    if removed:
        record.notes.append(f"removed {removed} of {len(cleaned.paragraphs)} lines as boilerplate")
    result.records.append(record)


def _read_html(text: str, result: FileRead, config: IngestConfig) -> None:
    from trafilatura import bare_extraction

    doc: Any = bare_extraction(text, with_metadata=True, include_comments=False, include_tables=False)
    if doc is None:
        result.rejections.append(Rejection(result.path, "no main content found in the HTML page"))
        return
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    body = normalize_text(data.get("text") or "")
    title = normalize_text(data.get("title") or "")
    if title and not body.startswith(title):
        body = f"{title}\n\n{body}" if body else title  # annotators see (and may tag) the headline
    result.records.append(
        RawRecord(
            text=body,
            path=result.path,
            kind="html",
            title=title,
            url=data.get("url") or None,
            published=(data.get("date") or None) or find_published(body),
            source=data.get("sitename") or None,
        )
    )


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _record(
    text: str, title: Any, *, path: Path, kind: str, line: int, url: Any, date: Any, source: Any, meta: dict[str, str]
) -> RawRecord:
    title_text = normalize_text(_str(title) or "")
    body = normalize_text(text)
    if title_text and not body.startswith(title_text):
        body = f"{title_text}\n\n{body}"
    published = _iso_date(_str(date)) or find_published(body)
    return RawRecord(
        text=body,
        path=path,
        kind=kind,
        line=line,
        title=title_text,
        url=_str(url),
        published=published,
        source=_str(source),
        meta=meta,
    )


def _iso_date(value: str | None) -> str | None:
    if not value:
        return None
    import dateparser

    parsed = dateparser.parse(value, languages=["de", "en"], settings={"PREFER_DAY_OF_MONTH": "first"})
    return parsed.date().isoformat() if parsed else None


def _read_jsonl(text: str, result: FileRead, config: IngestConfig) -> None:
    opts = config.jsonl
    known = {opts.text_field, opts.title_field, opts.url_field, opts.date_field, opts.source_field}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            result.rejections.append(Rejection(result.path, f"invalid JSON: {err.msg}", number))
            continue
        if not isinstance(row, dict) or not isinstance(row.get(opts.text_field), str):
            result.rejections.append(Rejection(result.path, f"no string field {opts.text_field!r}", number))
            continue
        meta = {k: str(v) for k, v in row.items() if k not in known and v is not None}
        result.records.append(
            _record(
                row[opts.text_field],
                row.get(opts.title_field),
                path=result.path,
                kind="jsonl",
                line=number,
                url=row.get(opts.url_field),
                date=row.get(opts.date_field),
                source=row.get(opts.source_field),
                meta=meta,
            )
        )


def _read_csv(text: str, result: FileRead, config: IngestConfig) -> None:
    opts = config.csv
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=opts.separator, quotechar=opts.quote)
    columns = list(opts.columns)
    known = {opts.text_column, opts.title_column, opts.url_column, opts.date_column, opts.source_column}
    for number, values in enumerate(reader, start=1):
        if opts.header and number == 1:
            columns = [v.strip() for v in values]
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(columns):
            result.rejections.append(
                Rejection(
                    result.path,
                    f"expected {len(columns)} columns ({opts.separator.join(columns)}), got {len(values)}",
                    number,
                )
            )
            continue
        row = dict(zip(columns, values, strict=True))
        if not row.get(opts.text_column, "").strip():
            result.rejections.append(Rejection(result.path, f"empty {opts.text_column!r} column", number))
            continue
        meta = {k: v for k, v in row.items() if k not in known}
        result.records.append(
            _record(
                row[opts.text_column],
                row.get(opts.title_column),
                path=result.path,
                kind="csv",
                line=number,
                url=row.get(opts.url_column),
                date=row.get(opts.date_column),
                source=row.get(opts.source_column),
                meta=meta,
            )
        )
