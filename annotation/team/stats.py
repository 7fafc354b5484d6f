"""Who does what, how well, how fast: per-annotator figures from a Label Studio export.

Per annotator (their newest non-cancelled annotation of each task): tasks done, cancelled tasks, total and median
``lead_time`` (seconds Label Studio measured in the editor), annotations per hour of editor time, the label
distribution, span F1 (exact, per layer) with each peer on shared tasks and with the adjudicated gold (the review
decision, :func:`treffpunkt.annotation.convert.reader.adjudicated`), and per label the median seconds per region
(an annotation's lead time shared evenly by its regions). Each annotation is also counted under the guideline
version in force when it was last changed (versions from the current guidelines file and from the manifests of
earlier pulls), so work done under older rules can be listed and re-checked.
"""

from __future__ import annotations

import html
import json
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from treffpunkt.annotation.agreement.measure import (
    GOLD,
    LAYERS,
    ParseReport,
    TaskAnnotations,
    compute_agreement,
    read_export,
)
from treffpunkt.annotation.convert.reader import annotation_order, annotator_of, iter_export
from treffpunkt.annotation.guidelines import guidelines_path, read_guidelines
from treffpunkt.core.charts import img_tag, pyplot, save_figure
from treffpunkt.core.io import atomic_write_text, write_json
from treffpunkt.core.schema import Schema
from treffpunkt.core.workspace import Workspace

BEFORE = "before any recorded version"


@dataclass
class AnnotatorStats:
    annotator: str
    tasks_done: int = 0
    cancelled: int = 0
    lead_time_total_s: float = 0.0
    lead_time_median_s: float | None = None
    annotations_per_hour: float | None = None
    labels: dict[str, int] = field(default_factory=dict)  # "layer:label" -> regions
    label_median_s: dict[str, float] = field(default_factory=dict)
    peer_f1: dict[str, dict[str, float | None]] = field(default_factory=dict)  # peer -> layer -> exact F1
    gold_f1: dict[str, float | None] = field(default_factory=dict)  # layer -> exact F1 vs the review decision
    gold_tasks: int = 0
    by_guidelines: dict[str, int] = field(default_factory=dict)


@dataclass
class StatsResult:
    export: Path
    annotators: list[AnnotatorStats]
    guideline_versions: list[dict[str, str]]  # known versions, oldest first: {"version", "since"}
    current_version: str | None
    older: list[dict[str, Any]]  # annotations made under an older version than the current one
    json_path: Path | None = None
    html_path: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "export": str(self.export),
            "annotators": [asdict(a) for a in self.annotators],
            "guideline_versions": self.guideline_versions,
            "current_version": self.current_version,
            "older_guidelines": self.older,
        }

    def table(self) -> tuple[list[str], list[list[Any]]]:
        """The per-annotator table (also logged to wandb)."""
        columns = ["annotator", "tasks", "cancelled", "lead_total_s", "lead_median_s", "per_hour"]
        columns += [f"gold_f1_{layer}" for layer in LAYERS]
        rows = [
            [a.annotator, a.tasks_done, a.cancelled, round(a.lead_time_total_s, 3), a.lead_time_median_s,
             a.annotations_per_hour, *(a.gold_f1.get(layer) for layer in LAYERS)]
            for a in self.annotators
        ]  # fmt: skip
        return columns, rows


def guideline_versions(ws: Workspace) -> tuple[list[dict[str, str]], str | None]:
    """Versions recorded by earlier pulls (manifests) plus the current file's, oldest first; and the current one."""
    found: dict[str, str] = {}
    if ws.exports_dir.is_dir():
        for manifest in sorted(ws.exports_dir.glob("*/manifest.json")):
            guide = json.loads(manifest.read_text(encoding="utf-8")).get("guidelines") or {}
            if guide.get("version") and guide.get("since"):
                found[guide["version"]] = guide["since"]
    current = None
    path = guidelines_path(ws)
    if path is not None:
        guide = read_guidelines(path)
        if guide.version and guide.since:
            found[guide.version] = guide.since
            current = guide.version
    versions = [{"version": v, "since": s} for v, s in sorted(found.items(), key=lambda kv: (kv[1], kv[0]))]
    return versions, current


def _version_at(raw: Any, versions: list[dict[str, str]]) -> str:
    try:
        when = datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        when = None
    if when is None:
        return BEFORE
    day = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).date()
    chosen = BEFORE
    for v in versions:
        if date.fromisoformat(v["since"]) <= day:
            chosen = v["version"]
    return chosen


def _f1s(tasks: list[TaskAnnotations], schema: Schema, export: Path) -> dict[tuple[str, str], dict[str, float | None]]:
    """Exact span F1 per layer for every annotator pair of ``tasks``."""
    if not tasks:
        return {}
    result = compute_agreement(tasks, schema, ParseReport(), export)
    return {pair: {layer: result.f1(layer, "exact", pair=pair) for layer in LAYERS} for pair in result.pairs}


def stats(
    ws: Workspace, export: Path, *, schema: Schema, names: dict[str, str] | None = None, out: Path | None = None
) -> StatsResult:
    """Per-annotator figures of ``export``; ``names`` maps user ids (``completed_by``) to e-mails."""
    names = names or {}
    versions, current = guideline_versions(ws)
    rows: dict[str, AnnotatorStats] = {}
    leads: dict[str, list[float]] = defaultdict(list)
    per_label: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    older: list[dict[str, Any]] = []

    def row(who: str) -> AnnotatorStats:
        return rows.setdefault(who, AnnotatorStats(who))

    for task in iter_export(export):
        annotations = task.get("annotations") or []
        latest: dict[str, dict[str, Any]] = {}
        for ann in annotations:
            who = names.get(str(annotator_of(ann)), str(annotator_of(ann)))
            if ann.get("was_cancelled"):
                row(who).cancelled += 1
                continue
            if who not in latest or annotation_order(latest[who]) <= annotation_order(ann):
                latest[who] = ann
        for who, ann in latest.items():
            r = row(who)
            r.tasks_done += 1
            regions = [x for x in ann.get("result") or [] if x.get("type") != "relation"]
            lead = ann.get("lead_time")
            if isinstance(lead, int | float):
                leads[who].append(float(lead))
            for region in regions:
                for label in (region.get("value") or {}).get("labels") or []:
                    key = f"{region.get('from_name')}:{label}"
                    r.labels[key] = r.labels.get(key, 0) + 1
                    if isinstance(lead, int | float):
                        per_label[who][key].append(float(lead) / len(regions))
            version = _version_at(ann.get("updated_at") or ann.get("created_at"), versions)
            r.by_guidelines[version] = r.by_guidelines.get(version, 0) + 1
            if current is not None and version != current:
                older.append(
                    {"task": task.get("id"), "annotation": ann.get("id"), "annotator": who, "version": version}
                )

    for who, r in rows.items():
        if leads[who]:
            r.lead_time_total_s = sum(leads[who])
            r.lead_time_median_s = statistics.median(leads[who])
            r.annotations_per_hour = len(leads[who]) / (r.lead_time_total_s / 3600) if r.lead_time_total_s else None
        r.label_median_s = {k: statistics.median(v) for k, v in sorted(per_label[who].items())}
        r.labels = dict(sorted(r.labels.items()))

    tasks, _ = read_export(export, schema, gold=True, min_annotators=1)

    def named(a: Any) -> Any:
        a.annotator = names.get(a.annotator, a.annotator)
        return a

    for t in tasks:
        t.annotations = [named(a) for a in t.annotations]
    peers = [t for t in tasks if sum(a.annotator != GOLD for a in t.annotations) >= 2]
    peer_tasks = [
        TaskAnnotations(t.task_id, t.article_id, t.project, t.text, t.data, [a for a in t.annotations if a.annotator != GOLD])
        for t in peers
    ]  # fmt: skip
    for (a, b), scores in _f1s(peer_tasks, schema, export).items():
        row(a).peer_f1[b] = scores
        row(b).peer_f1[a] = scores
    gold_tasks = []
    for t in tasks:
        gold = [a for a in t.annotations if a.annotator == GOLD]
        if gold:
            for a in t.annotations:
                if a.annotator != GOLD:
                    gold_tasks.append(TaskAnnotations(t.task_id, t.article_id, t.project, t.text, t.data, [gold[0], a]))
                    row(a.annotator).gold_tasks += 1
    for pair, scores in _f1s(gold_tasks, schema, export).items():
        who = pair[0] if pair[1] == GOLD else pair[1]
        row(who).gold_f1 = scores

    result = StatsResult(Path(export), [rows[k] for k in sorted(rows)], versions, current, older)
    result.json_path = Path(out) if out else ws.exports_dir / "stats" / f"{Path(export).stem}.stats.json"
    write_json(result.json_path, result.as_dict())
    return result


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    return f"{x:.3f}" if isinstance(x, float) else str(x)


def write_html(result: StatsResult, out_dir: Path) -> Path:
    """``stats.html`` (charts inlined) and the charts as PNG files in ``out_dir``."""
    out_dir = Path(out_dir)
    plt = pyplot()
    people = [a.annotator for a in result.annotators]
    fig, ax = plt.subplots(figsize=(max(4, len(people) * 1.2), 3))
    ax.bar(people, [a.tasks_done for a in result.annotators], color="#4c72b0")
    ax.set_ylabel("tasks done")
    ax.tick_params(axis="x", rotation=30)
    done = save_figure(fig, out_dir / "tasks.png")
    fig, ax = plt.subplots(figsize=(max(4, len(people) * 1.2), 3))
    ax.bar(people, [a.lead_time_median_s or 0 for a in result.annotators], color="#dd8452")
    ax.set_ylabel("median lead time (s)")
    ax.tick_params(axis="x", rotation=30)
    lead = save_figure(fig, out_dir / "lead-time.png")
    columns, rows = result.table()
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in r) + "</tr>" for r in rows)
    peers = "".join(
        f"<tr><td>{html.escape(a.annotator)}</td><td>{html.escape(p)}</td>"
        + "".join(f"<td>{_fmt(s.get(layer))}</td>" for layer in LAYERS)
        + "</tr>"
        for a in result.annotators
        for p, s in sorted(a.peer_f1.items())
    )
    labels = "".join(
        f"<tr><td>{html.escape(a.annotator)}</td><td>{html.escape(k)}</td><td>{n}</td><td>{_fmt(a.label_median_s.get(k))}</td></tr>"
        for a in result.annotators
        for k, n in a.labels.items()
    )
    guide = "".join(
        f"<tr><td>{html.escape(a.annotator)}</td><td>{html.escape(v)}</td><td>{n}</td></tr>"
        for a in result.annotators
        for v, n in sorted(a.by_guidelines.items())
    )
    page = (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Annotators</title>'
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}</style></head><body>"
        f"<h1>Annotators of {html.escape(result.export.name)}</h1>"
        f"<table><tr>{head}</tr>{body}</table>{img_tag(done, 'tasks done')}{img_tag(lead, 'median lead time')}"
        f"<h2>Span F1 with each peer (exact)</h2><table><tr><th>annotator</th><th>peer</th>"
        + "".join(f"<th>{layer}</th>" for layer in LAYERS)
        + f"</tr>{peers}</table>"
        f"<h2>Labels</h2><table><tr><th>annotator</th><th>label</th><th>regions</th><th>median s</th></tr>{labels}</table>"
        f"<h2>Guideline versions (current: {html.escape(result.current_version or 'none')})</h2>"
        f"<table><tr><th>annotator</th><th>version</th><th>annotations</th></tr>{guide}</table></body></html>\n"
    )
    path = out_dir / "stats.html"
    atomic_write_text(path, page, perms=0o644)
    result.html_path = path
    return path
