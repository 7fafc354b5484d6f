"""Atomic file writes and checksums: a crash never leaves a half-written corpus, export or report."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_open(
    path: Path, mode: str = "w", *, encoding: str | None = "utf-8", perms: int | None = None
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; it replaces ``path`` only if the block finishes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if perms is not None:
            os.chmod(tmp, perms)
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str, *, perms: int | None = None) -> None:
    with atomic_open(path, "w", perms=perms) as handle:
        handle.write(text)


def atomic_write_bytes(path: Path, data: bytes, *, perms: int | None = None) -> None:
    with atomic_open(path, "wb", perms=perms) as handle:
        handle.write(data)


def write_json(path: Path, data: Any, *, perms: int | None = None, indent: int | None = 2) -> None:
    """Write JSON atomically, pretty-printed (``indent=None``: one task per line), non-ASCII kept readable."""
    if indent is None and isinstance(data, list):  # large exports: compact, but one element per line for diffs
        text = "[\n" + ",\n".join(json.dumps(x, ensure_ascii=False, default=str) for x in data) + "\n]\n"
    else:
        text = json.dumps(data, ensure_ascii=False, indent=indent, default=str) + "\n"
    atomic_write_text(path, text, perms=perms)


def write_jsonl(path: Path, rows: Iterable[Any]) -> int:
    """Write one JSON object per line atomically; returns the number of rows."""
    count = 0
    with atomic_open(path, "w") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            count += 1
    return count


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def write_sha256(path: Path) -> tuple[Path, str]:
    """``<path>.sha256`` in ``sha256sum -c`` format, written atomically; returns (sidecar path, digest)."""
    digest = sha256_file(path)
    sidecar = Path(path).with_name(Path(path).name + ".sha256")
    atomic_write_text(sidecar, f"{digest}  {Path(path).name}\n")
    return sidecar, digest


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
