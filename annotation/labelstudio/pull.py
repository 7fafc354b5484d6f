"""Pull the project's annotations: a snapshot export, saved raw and checksummed first, then converted.

The raw export goes to ``corpus/exports/<UTC stamp>_<project slug>.json`` through a temporary file that only
replaces the target once the whole download parsed as JSON (read back task by task): a server dying mid-download leaves no file behind.
It is never modified afterwards; ``<same>.json.sha256`` holds its checksum (``sha256sum -c`` format).
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from treffpunkt.annotation.convert.docs import convert_export, load_convert_options
from treffpunkt.annotation.convert.reader import NotAJSONArray, iter_json_array
from treffpunkt.annotation.guidelines import GuidelinesVersion, annotations_before, guidelines_path, read_guidelines
from treffpunkt.annotation.labelstudio.client import ExportTimeout, Studio, StudioRequestFailed, connect
from treffpunkt.annotation.labelstudio.project import ProjectRef, require_project, slug
from treffpunkt.core.io import atomic_open, write_json, write_sha256
from treffpunkt.core.schema import Schema, load_schema
from treffpunkt.core.workspace import Workspace

POLL_S = 0.5


@dataclass
class PullResult:
    project: ProjectRef
    export_path: Path
    sha256_path: Path
    sha256: str
    tasks: int
    export_id: int
    seconds_export: float
    seconds_convert: float = 0.0
    converted: Any = None  # treffpunkt.annotation.convert.docs.ConvertResult when converted
    converted_dir: Path | None = None
    guidelines: GuidelinesVersion | None = None  # the workspace's guidelines at the time of the pull
    before_guidelines: list[dict[str, Any]] = field(default_factory=list)  # annotations older than their version


def export_path_for(ws: Workspace, title: str, *, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    base = f"{stamp}_{slug(title)}"
    path = ws.exports_dir / f"{base}.json"
    n = 2
    while path.exists() or path.with_suffix("").exists():  # never overwrite an export (two pulls in one second)
        path = ws.exports_dir / f"{base}-{n}.json"
        n += 1
    return path


def snapshot(studio: Studio, project_id: int, *, timeout: float = 300.0, predictions: bool = False) -> int:
    """Create an export snapshot and wait until the server finished it; returns its id.

    ``predictions``: include the predictions' results (by default the JSON export lists only their ids).
    """
    options = {"serialization_options": {"predictions": {"only_id": False}}} if predictions else {}
    created = studio.call(
        studio.sdk.projects.exports.create, project_id, title="treffpunkt pull", what="export creation", **options
    )
    export_id = int(created.id)
    began = time.monotonic()
    status = getattr(created, "status", None)
    while str(getattr(status, "value", status)) != "completed":
        if str(getattr(status, "value", status)) == "failed":
            raise StudioRequestFailed(
                f"Label Studio failed to build export {export_id} of project {project_id}.",
                hint="See the server's log (`treffpunkt studio status` shows where) and rerun `treffpunkt annotate pull`.",
            )
        if time.monotonic() - began > timeout:
            raise ExportTimeout(
                f"Export {export_id} of project {project_id} did not finish within {timeout:.0f} s (status: {status}).",
                hint="Rerun with a longer `--timeout`; large projects take a while to snapshot.",
            )
        time.sleep(POLL_S)
        status = studio.call(studio.sdk.projects.exports.get, project_id, export_id, what="export status").status
    return export_id


def download(studio: Studio, project_id: int, export_id: int, target: Path) -> int:
    """Stream the snapshot to ``target`` atomically; returns the number of tasks. Retries restart from scratch.

    The check reads the file back one task at a time (treffpunkt.annotation.convert.reader.iter_json_array): memory stays flat
    however large the export.
    """

    def attempt() -> int:
        with atomic_open(target, "wb+") as handle:
            for chunk in studio.sdk.projects.exports.download(project_id, export_id, export_type="JSON"):
                handle.write(chunk)
            # Validate before the file becomes visible: a truncated body never replaces anything.
            handle.seek(0)
            text = io.TextIOWrapper(handle, encoding="utf-8")
            try:
                tasks = sum(1 for _ in iter_json_array(text))
            except NotAJSONArray:
                tasks = 0  # valid JSON but no list of tasks: saved as it came, converting it says what is wrong
            finally:
                text.detach()  # the atomic writer still owns (and closes) the handle
        return tasks

    try:
        return studio.call(attempt, what="export download")
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise StudioRequestFailed(
            f"The export download of project {project_id} was not valid JSON (cut off?): {err}; nothing was saved.",
            hint="Rerun `treffpunkt annotate pull`.",
        ) from err


def pull(
    ws: Workspace,
    *,
    timeout: float = 300.0,
    convert: bool = True,
    schema: Schema | None = None,
    studio: Studio | None = None,
) -> PullResult:
    """Snapshot export → raw JSON + sha256 (atomic, immutable) → DocBins in the folder named after the export."""
    studio = studio or connect(ws)
    ref = require_project(studio, ws)
    ws.ensure()
    began = time.perf_counter()
    export_id = snapshot(studio, ref.id, timeout=timeout)
    path = export_path_for(ws, ref.title)
    tasks = download(studio, ref.id, export_id, path)
    path.chmod(0o444)  # the raw export is a record: never modified
    sha_path, digest = write_sha256(path)
    result = PullResult(ref, path, sha_path, digest, tasks, export_id, time.perf_counter() - began)
    found = guidelines_path(ws)
    if found is not None:
        result.guidelines = read_guidelines(found)
        if result.guidelines.since:
            result.before_guidelines = annotations_before(path, result.guidelines.since)
    if convert:
        began = time.perf_counter()
        options = load_convert_options(ws.config_path("convert.yaml"))
        schema = schema or load_schema(ws.schema_path)
        result.converted = convert_export(path, schema=schema, out_dir=path.with_suffix(""), options=options)
        result.converted_dir = result.converted.out_dir
        result.seconds_convert = time.perf_counter() - began
        # the manifest records the rules the annotations were read under
        manifest = {
            **result.converted.manifest,
            "guidelines": result.guidelines.as_dict() if result.guidelines else None,
            "annotations_before_guidelines": len(result.before_guidelines),
        }
        write_json(result.converted.manifest_path, manifest)
        result.converted.manifest = manifest
    return result
