"""Which annotation guidelines a pull was made under, and which annotations predate them.

The guidelines file is the workspace's ``guidelines.md`` or ``docs/guidelines.md`` (the repository's own). Its
version line, ``Version N (YYYY-MM-DD)``, says since when the current rules hold; annotations last changed before
that day were made under older rules and are worth a re-check (``annotate pull`` counts and names them).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from treffpunkt.annotation.convert.reader import iter_export
from treffpunkt.core.io import sha256_file
from treffpunkt.core.workspace import Workspace

VERSION_LINE = re.compile(r"^Version\s+(?P<number>[\w.-]+)\s*\((?P<date>\d{4}-\d{2}-\d{2})\)", re.MULTILINE)


@dataclass(frozen=True)
class GuidelinesVersion:
    path: str
    sha256: str
    version: str | None  # the version line as written, e.g. "Version 2 (2026-11-25)"
    since: str | None  # ISO date of that version

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def guidelines_path(ws: Workspace) -> Path | None:
    for candidate in (ws.root / "guidelines.md", ws.root / "docs" / "guidelines.md"):
        if candidate.is_file():
            return candidate
    return None


def read_guidelines(path: Path) -> GuidelinesVersion:
    match = VERSION_LINE.search(path.read_text(encoding="utf-8"))
    line = match.group(0) if match else None
    return GuidelinesVersion(str(path), sha256_file(path), line, match.group("date") if match else None)


def annotations_before(export: Path, since: str) -> list[dict[str, Any]]:
    """Annotations of the export last changed before ``since`` (a date, UTC): task id, annotation id, when."""
    cutoff = datetime.combine(date.fromisoformat(since), datetime.min.time(), tzinfo=UTC)
    found = []
    for task in iter_export(export):
        for annotation in task.get("annotations") or []:
            raw = annotation.get("updated_at") or annotation.get("created_at")
            try:
                when = datetime.fromisoformat(str(raw)) if raw else None
            except ValueError:
                when = None
            if when is not None and (when if when.tzinfo else when.replace(tzinfo=UTC)) < cutoff:
                found.append({"task": task.get("id"), "annotation": annotation.get("id"), "when": str(raw)})
    return found
