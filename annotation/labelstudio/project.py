"""The workspace's Label Studio project: create it, keep its labeling config in step with the schema.

The project id is remembered in ``.treffpunkt/project.json``; it is checked against the server on every use and,
if gone, the project is looked up by title (a fresh server, or a shared one, keeps working).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from treffpunkt.annotation.labelstudio.client import Studio, StudioRequestFailed, connect
from treffpunkt.core.errors import TreffpunktError
from treffpunkt.core.io import write_json
from treffpunkt.core.schema import ENTITY_TAG, EVENT_TAG, Schema, load_schema
from treffpunkt.core.settings import settings
from treffpunkt.core.workspace import Workspace

#: The Labels control of relations in exports ("relation" results carry their labels directly).
RELATION_KEY = "relation"
TASK_PAGE_SIZE = 1000


class ProjectMissing(TreffpunktError):
    """The workspace has no Label Studio project yet (or it was deleted)."""


class SchemaChangeRefused(TreffpunktError):
    """The new schema lacks labels that existing annotations use."""


@dataclass(frozen=True)
class ProjectRef:
    id: int
    title: str
    url: str


@dataclass
class SetupResult:
    project: ProjectRef
    created: bool
    config_changed: bool
    schema_path: Path
    #: (control, label) -> count of annotation regions using a label the new schema lacks.
    orphaned: dict[tuple[str, str], int] = field(default_factory=dict)
    forced: bool = False
    overlap: int | None = None  # annotators per task, when this run set it


def project_file(ws: Workspace) -> Path:
    return ws.state_dir / "project.json"


def default_title(ws: Workspace) -> str:
    conf = settings(ws)
    if conf.project_title:
        return conf.project_title
    name = ws.root.name
    # Label Studio wants 3 to 50 characters.
    return (name if len(name) >= 3 else f"treffpunkt {name}".strip())[:50]


def slug(title: str) -> str:
    text = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()
    return text or "project"


def _remember(ws: Workspace, ref: ProjectRef) -> None:
    ws.ensure()
    write_json(project_file(ws), {"id": ref.id, "title": ref.title, "url": ref.url})


def _exists(studio: Studio, project_id: int) -> bool:
    try:
        studio.call(studio.sdk.projects.get, project_id, what="project lookup")
    except StudioRequestFailed as err:
        if "(404)" in err.message:
            return False
        raise
    return True


def _find_by_title(studio: Studio, title: str) -> int | None:
    for project in studio.sdk.projects.list(title=title, page_size=100):
        if project.title == title:
            return int(project.id)
    return None


def find_project(studio: Studio, ws: Workspace, *, title: str | None = None) -> ProjectRef | None:
    """The workspace's project on this server: the remembered id if it still exists, else one with the title."""
    path = project_file(ws)
    remembered = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    same = remembered and remembered.get("url") == studio.url and (title is None or remembered["title"] == title)
    if same and _exists(studio, int(remembered["id"])):
        return ProjectRef(int(remembered["id"]), remembered["title"], studio.url)
    wanted = title or (remembered["title"] if remembered else default_title(ws))
    found = studio.call(_find_by_title, studio, wanted, what="project search")
    if found is None:
        return None
    ref = ProjectRef(found, wanted, studio.url)
    _remember(ws, ref)
    return ref


def require_project(studio: Studio, ws: Workspace) -> ProjectRef:
    ref = find_project(studio, ws)
    if ref is None:
        raise ProjectMissing(
            f"Workspace {ws.root} has no Label Studio project at {studio.url} yet.",
            hint="Create it with `treffpunkt annotate setup`.",
        )
    return ref


def iter_tasks(studio: Studio, project_id: int, *, fields: str = "task_only") -> Iterator[Any]:
    """All tasks of a project, page by page (``fields="all"`` includes annotations and predictions)."""
    page = 1
    while True:
        try:
            response = studio.call(
                studio.sdk.tasks.list, project=project_id, fields=fields, page=page, page_size=TASK_PAGE_SIZE,
                what="task listing",
            )  # fmt: skip
        except StudioRequestFailed as err:
            if "(404)" in err.message:  # past the last page
                return
            raise
        items = list(response.items or [])
        yield from items
        if len(items) < TASK_PAGE_SIZE:
            return
        page += 1


def labels_in_use(studio: Studio, project_id: int) -> Counter[tuple[str, str]]:
    """Count annotation regions per (control, label), relations under ``("relation", role)``."""
    counts: Counter[tuple[str, str]] = Counter()
    for task in iter_tasks(studio, project_id, fields="all"):
        for annotation in task.annotations or []:
            result = annotation.get("result") if isinstance(annotation, dict) else getattr(annotation, "result", None)
            for region in result or []:
                if region.get("type") == "relation":
                    for label in region.get("labels") or []:
                        counts[(RELATION_KEY, label)] += 1
                    continue
                value = region.get("value") or {}
                for key in ("labels", "choices"):
                    for label in value.get(key) or []:
                        counts[(region.get("from_name", "?"), label)] += 1
    return counts


def orphaned_labels(schema: Schema, in_use: Counter[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Labels annotators used that the schema no longer has, per control tag."""
    known = {
        ENTITY_TAG: set(schema.entity_labels),
        EVENT_TAG: set(schema.event_labels),
        RELATION_KEY: set(schema.relation_labels),
    }
    return {key: n for key, n in sorted(in_use.items()) if key[1] not in known.get(key[0], set())}


def setup(
    ws: Workspace,
    *,
    schema_path: Path | None = None,
    force: bool = False,
    title: str | None = None,
    overlap: int | None = None,
    studio: Studio | None = None,
) -> SetupResult:
    """Create the project, or update its labeling config; refuse to orphan annotations unless ``force``.

    ``overlap``: how many annotators label each task (Label Studio's ``maximum_annotations``, applied to all
    tasks); set on a new or an existing project. None leaves it as it is.
    """
    if overlap is not None and overlap < 1:
        raise TreffpunktError(
            f"--overlap must be 1 or more (got {overlap}).", hint="Use 2 to have every task labelled twice."
        )
    studio = studio or connect(ws)
    schema_path = Path(schema_path) if schema_path else ws.schema_path
    schema = load_schema(schema_path)
    config = schema.label_config()
    title = title or default_title(ws)
    ref = find_project(studio, ws, title=title)
    if ref is None:
        created = studio.call(
            studio.sdk.projects.create, title=title, label_config=config,
            description="Meeting events in German news (treffpunkt). Labeling config generated from the schema.",
            what="project creation",
        )  # fmt: skip
        ref = ProjectRef(int(created.id), title, studio.url)
        result = SetupResult(ref, created=True, config_changed=True, schema_path=schema_path)
    elif (
        studio.call(studio.sdk.projects.get, ref.id, what="project lookup").label_config or ""
    ).strip() == config.strip():
        result = SetupResult(ref, created=False, config_changed=False, schema_path=schema_path)
    else:
        orphaned = orphaned_labels(schema, labels_in_use(studio, ref.id))
        if orphaned and not force:
            listing = ", ".join(f"{label} ({control}: {n})" for (control, label), n in orphaned.items())
            raise SchemaChangeRefused(
                f"The schema {schema_path} lacks labels that existing annotations use: {listing}.",
                hint="Keep those labels in the schema, relabel the annotations in Label Studio, "
                "or pass --force to orphan them (the converter will then reject those spans, listed in its report).",
            )
        studio.call(studio.sdk.projects.update, ref.id, label_config=config, what="labeling config update")
        result = SetupResult(
            ref, created=False, config_changed=True, schema_path=schema_path, orphaned=orphaned, forced=bool(orphaned)
        )
    if overlap is not None:
        studio.call(
            studio.sdk.projects.update,
            ref.id,
            maximum_annotations=overlap,
            overlap_cohort_percentage=100,
            what="annotation overlap update",
        )
        result.overlap = overlap
    _remember(ws, ref)
    return result


def ensure_view(studio: Studio, project: int, title: str, data: dict[str, Any]) -> tuple[int, bool]:
    """The project's saved Data Manager tab named ``title`` (created with ``data`` once, then reused): (id, created)."""
    for existing in studio.call(studio.sdk.views.list, project=project, what="listing Data Manager views"):
        if (existing.data or {}).get("title") == title:
            return existing.id, False
    created = studio.call(
        studio.sdk.views.create, project=project, data={"title": title, **data}, what=f"creating the view {title!r}"
    )
    return created.id, True
