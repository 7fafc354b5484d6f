"""Schema migration: rename, merge and drop labels in every annotation and prediction, then in the labeling config.

Order of work, each step safe to repeat: (1) a raw export backup (as ``pull`` saves one, under
``corpus/exports/backups/``, with the project's labeling config beside it); (2) the diff, regions per change;
(3) the new results, one request per changed annotation or prediction (Community Label Studio has no bulk path
for them); (4) the labeling config generated from the workspace's new ``configs/schema.yaml`` (Label Studio refuses
a config that lacks labels still in use, so it goes last); (5) a fresh export, checked for any old label left.
A run that stops half-way leaves ``.treffpunkt/migration.json``: rerunning the same command reuses the first backup
and changes only what still carries an old label. ``restore`` puts a backup's results and config back.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from treffpunkt.annotation.convert.reader import iter_export
from treffpunkt.annotation.labelstudio.client import Studio
from treffpunkt.annotation.labelstudio.project import ProjectRef, iter_tasks, slug
from treffpunkt.annotation.labelstudio.pull import download, snapshot, write_sha256
from treffpunkt.annotation.team.members import each
from treffpunkt.core.errors import InputError, TreffpunktError
from treffpunkt.core.io import atomic_write_text, write_json
from treffpunkt.core.schema import load_schema
from treffpunkt.core.workspace import Workspace

Mapping = dict[str, str | None]  # old label -> new label, None = dropped


class MigrationError(TreffpunktError):
    """A migration cannot start, or did not finish cleanly."""


@dataclass
class MigrateResult:
    project: ProjectRef
    mapping: Mapping
    backup: Path
    diff: dict[str, dict[str, int]]  # change -> {"annotations": regions, "predictions": regions}
    annotations_changed: int = 0
    predictions_changed: int = 0
    dry_run: bool = False
    resumed: bool = False
    finished: bool = False
    config_updated: bool = False
    check_export: Path | None = None
    left: dict[str, int] = field(default_factory=dict)  # old labels still found by the check


def parse_changes(renames: list[str], merges: list[str], drops: list[str]) -> tuple[Mapping, dict[str, str]]:
    """``OLD=NEW``, ``A,B=C`` and ``X`` into one old → new mapping, and each old label's change as written."""
    mapping: Mapping = {}
    change: dict[str, str] = {}

    def put(old: str, new: str | None, text: str) -> None:
        old = old.strip()
        if not old or (new is not None and not new.strip()):
            raise InputError(f"Empty label in {text!r}.", hint="Write --rename OLD=NEW, --merge A,B=C, --drop X.")
        if old in mapping:
            raise InputError(f"Label {old!r} is changed twice ({change[old]!r} and {text!r}).", hint="Change it once.")
        if new is None or new.strip() != old:
            mapping[old] = None if new is None else new.strip()
            change[old] = text

    for text in renames:
        if text.count("=") != 1:
            raise InputError(f"--rename {text!r} is not OLD=NEW.", hint="E.g. --rename LOC=PLACE.")
        old, new = text.split("=")
        put(old, new, f"rename {text}")
    for text in merges:
        if text.count("=") != 1 or "," not in text.split("=")[0]:
            raise InputError(f"--merge {text!r} is not A,B=C.", hint="E.g. --merge CONSULT,CONSULT_THIRD=CONSULT.")
        olds, new = text.split("=")
        for old in olds.split(","):
            put(old, new, f"merge {text}")
    for text in drops:
        put(text, None, f"drop {text}")
    chained = sorted({n for n in mapping.values() if n is not None} & set(mapping))
    if chained:
        raise InputError(
            f"{', '.join(chained)} is both changed and the target of a change.", hint="Run the migrations one by one."
        )
    if not mapping:
        raise InputError("No change given.", hint="Use --rename OLD=NEW, --merge A,B=C or --drop X.")
    return mapping, change


def apply(result: list[dict[str, Any]], mapping: Mapping) -> tuple[list[dict[str, Any]], Counter[str]]:
    """The result with labels mapped (regions left without a label removed, with their relations); old labels hit."""
    hits: Counter[str] = Counter()
    out: list[dict[str, Any]] = []
    removed: set[str] = set()
    for region in result:
        value = region.get("value") or {}
        labels = region.get("labels") if region.get("type") == "relation" else value.get("labels")
        if not labels or not any(label in mapping for label in labels):
            out.append(region)
            continue
        new: list[str] = []
        for label in labels:
            target = mapping.get(label, label) if label in mapping else label
            hits.update([label] if label in mapping else [])
            if target is not None and target not in new:
                new.append(target)
        region = copy.deepcopy(region)
        if region.get("type") == "relation":
            region["labels"] = new  # a relation without a role stays a link
        elif new:
            region["value"]["labels"] = new
        else:
            removed.add(str(region.get("id")))
            continue
        out.append(region)
    if removed:
        out = [
            r
            for r in out
            if not (r.get("type") == "relation" and {str(r.get("from_id")), str(r.get("to_id"))} & removed)
        ]
    return out, hits


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def state_path(ws: Workspace) -> Path:
    return ws.state_dir / "migration.json"


def backup_export(ws: Workspace, studio: Studio, project: ProjectRef, *, suffix: str = "before") -> Path:
    """A raw export of the project (immutable, sha256) plus its labeling config, under ``corpus/exports/backups``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = ws.exports_dir / "backups" / f"{stamp}_{slug(project.title)}_{suffix}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    download(studio, project.id, snapshot(studio, project.id, predictions=True), path)
    path.chmod(0o444)
    write_sha256(path)
    config = studio.call(studio.sdk.projects.get, project.id, what="project lookup").label_config or ""
    atomic_write_text(path.with_suffix(".label_config.xml"), config)
    return path


def labels_left(export: Path, labels: set[str]) -> Counter[str]:
    """How often each of ``labels`` still occurs in the export's annotations and predictions."""
    left: Counter[str] = Counter()
    for task in iter_export(export):
        for item in [*(task.get("annotations") or []), *(task.get("predictions") or [])]:
            if not isinstance(item, dict):
                raise MigrationError(f"{export} lists predictions by id only.", hint="Export with full predictions.")
            left.update(apply(item.get("result") or [], {label: label + "\0" for label in labels})[1])
    return left


def migrate(
    ws: Workspace,
    studio: Studio,
    project: ProjectRef,
    mapping: Mapping,
    change: dict[str, str],
    *,
    dry_run: bool = False,
    stop_after: int | None = None,
) -> MigrateResult:
    """Back up, diff, change every annotation and prediction, update the config, check (see the module doc).

    ``stop_after``: send at most that many result updates and stop, as an interrupted run would (the rerun
    finishes the migration).
    """
    schema = load_schema(ws.schema_path)
    known = {*schema.entity_labels, *schema.event_labels, *schema.relation_labels}
    stale = sorted(set(mapping) & known)
    missing = sorted({n for n in mapping.values() if n is not None} - known)
    if (stale or missing) and not dry_run:
        raise MigrationError(
            f"{ws.schema_path} is not the new schema yet: "
            + "; ".join(
                p for p in (stale and f"still has {', '.join(stale)}", missing and f"lacks {', '.join(missing)}") if p
            )
            + ".",
            hint="Edit configs/schema.yaml to the labels after the change (the labeling config is generated from it), "
            "or look first with --dry-run.",
        )
    state = state_path(ws)
    resumed = False
    if state.exists():
        saved = json.loads(state.read_text(encoding="utf-8"))
        if saved["mapping"] != mapping or saved["project"] != project.id:
            raise MigrationError(
                f"An unfinished migration of project {saved['project']} ({saved['mapping']}) is recorded in {state}.",
                hint="Rerun that migration to finish it, or restore its backup with "
                f"`treffpunkt annotate restore {saved['backup']}` and delete {state}.",
            )
        backup, resumed = Path(saved["backup"]), True
    elif dry_run:
        backup = Path()
    else:
        backup = backup_export(ws, studio, project)
        write_json(state, {"project": project.id, "mapping": mapping, "backup": str(backup)})
    diff: dict[str, Counter[str]] = {c: Counter() for c in dict.fromkeys(change.values())}
    calls: list[tuple[Any, dict[str, Any], str]] = []
    counts = Counter()
    for task in iter_tasks(studio, project.id, fields="all"):
        for kind, items, fn in (
            ("annotations", task.annotations, studio.sdk.annotations.update),
            ("predictions", task.predictions, studio.sdk.predictions.update),
        ):
            for item in items or []:
                new, hits = apply(_get(item, "result") or [], mapping)
                for old, n in hits.items():
                    diff[change[old]][kind] += n
                if hits:
                    counts[kind] += 1
                    calls.append(
                        (fn, {"id": int(_get(item, "id")), "result": new}, f"migrating {kind[:-1]} {_get(item, 'id')}")
                    )
    result = MigrateResult(
        project, mapping, backup, {c: dict(d) for c, d in diff.items()}, dry_run=dry_run, resumed=resumed
    )
    if dry_run:
        return result
    todo = calls if stop_after is None else calls[:stop_after]
    each(studio, todo)
    result.annotations_changed = sum(what.startswith("migrating annotation") for _, _, what in todo)
    result.predictions_changed = len(todo) - result.annotations_changed
    if len(todo) < len(calls):
        return result  # interrupted on purpose: the state file stays, a rerun finishes
    studio.call(
        studio.sdk.projects.update, project.id, label_config=schema.label_config(), what="labeling config update"
    )
    result.config_updated = True
    result.check_export = backup_export(ws, studio, project, suffix="after")
    result.left = dict(labels_left(result.check_export, set(mapping)))
    if result.left:
        raise MigrationError(
            f"The check export {result.check_export} still has old labels: {result.left}.",
            hint="Rerun the same `treffpunkt annotate migrate` command; it changes what is left.",
        )
    state.unlink()
    result.finished = True
    return result


@dataclass
class RestoreResult:
    project: ProjectRef
    export: Path
    annotations_restored: int
    predictions_restored: int
    missing: list[int]  # annotation / prediction ids of the backup gone from the server
    config_restored: bool


def restore(ws: Workspace, studio: Studio, project: ProjectRef, export: Path) -> RestoreResult:
    """Put the results of a backup export (and the labeling config saved beside it) back on the server."""
    export = Path(export)
    wanted: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for task in iter_export(export):
        for kind in ("annotations", "predictions"):
            for item in task.get(kind) or []:
                wanted[(kind, int(item["id"]))] = item.get("result") or []
    calls = []
    seen: set[tuple[str, int]] = set()
    for task in iter_tasks(studio, project.id, fields="all"):
        for kind, items, fn in (
            ("annotations", task.annotations, studio.sdk.annotations.update),
            ("predictions", task.predictions, studio.sdk.predictions.update),
        ):
            for item in items or []:
                key = (kind, int(_get(item, "id")))
                if key in wanted:
                    seen.add(key)
                    if (_get(item, "result") or []) != wanted[key]:
                        calls.append((fn, {"id": key[1], "result": wanted[key]}, f"restoring {kind[:-1]} {key[1]}"))
    each(studio, calls)
    config_file = export.with_suffix(".label_config.xml")
    restored = config_file.exists() and bool(config_file.read_text(encoding="utf-8").strip())
    if restored:
        studio.call(
            studio.sdk.projects.update, project.id, label_config=config_file.read_text(encoding="utf-8"),
            what="labeling config restore",
        )  # fmt: skip
    state_path(ws).unlink(missing_ok=True)
    n_ann = sum(what.startswith("restoring annotation") for _, _, what in calls)
    return RestoreResult(project, export, n_ann, len(calls) - n_ann, sorted(k[1] for k in set(wanted) - seen), restored)
