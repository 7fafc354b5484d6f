"""The comparison report: PNG charts (matplotlib, Agg) and one self-contained HTML page.

The page inlines its CSS and its images (base64) and links nothing outside itself, so it can be mailed, attached
to a wandb artifact or committed. It shows the metrics tables, the charts, the false positives/negatives per
label, and displaCy renderings of the gold sentences where the versions disagree, gold beside each version.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from treffpunkt.core.charts import img_tag as _img
from treffpunkt.core.charts import pyplot as _plt
from treffpunkt.core.charts import save_figure as _save
from treffpunkt.core.io import atomic_write_text
from treffpunkt.training.evaluation.compare import LAYER_NAMES, MICRO, CompareResult

PALETTE = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"]
ENT_COLORS = [
    "#7aecec",
    "#bfeeb7",
    "#feca74",
    "#ff9561",
    "#aa9cfc",
    "#c887fb",
    "#9cc9cc",
    "#ffeb80",
    "#ff8197",
    "#e4e7d2",
    "#bfe1d9",
    "#f0d0ff",
]
MAX_ERRORS = 25  # per label, version and kind in the page; the JSON has all


@dataclass
class ReportResult:
    html: Path
    images: list[Path] = field(default_factory=list)


def f1_chart(result: CompareResult, layer: str, path: Path) -> Path | None:
    """Grouped bars: per-label F1 for each version, with the bootstrap 95 % interval as error bars."""
    import numpy as np

    rows = [r for r in result.comparison.rows if r.layer == layer]
    if not rows:
        return None
    plt = _plt()
    versions = result.versions
    x = np.arange(len(rows))
    width = 0.8 / len(versions)
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(rows) * max(1, len(versions) / 2) + 2), 3.8))
    for k, v in enumerate(versions):
        f = np.array([r.scores[v]["f"] for r in rows])
        lo = np.array([r.scores[v]["f_low"] for r in rows])
        hi = np.array([r.scores[v]["f_high"] for r in rows])
        ax.bar(
            x + (k - (len(versions) - 1) / 2) * width,
            f,
            width,
            label=v,
            color=PALETTE[k % len(PALETTE)],
            yerr=np.vstack([np.clip(f - lo, 0, None), np.clip(hi - f, 0, None)]),
            capsize=3,
            error_kw={"elinewidth": 1},
        )
    ax.set_xticks(
        x,
        [f"{r.label}\n({r.support})" for r in rows],
        rotation=30 if len(rows) > 6 else 0,
        ha="right" if len(rows) > 6 else "center",
        fontsize=8,
    )
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("F1 (95 % bootstrap CI)")
    ax.set_title(f"{LAYER_NAMES[layer]}: F1 per label (support in brackets)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def confusion_chart(matrix: dict[str, dict[str, int]], title: str, path: Path) -> Path | None:
    import numpy as np

    labels = list(matrix)
    if not labels:
        return None
    plt = _plt()
    data = np.array([[matrix[g].get(p, 0) for p in labels] for g in labels])
    size = 1.6 + 0.55 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(np.log1p(data), cmap="Blues")  # log: the "none/none" cell would wash out the rest
    for i in range(len(labels)):
        for j in range(len(labels)):
            if data[i, j]:
                ax.text(
                    j,
                    i,
                    str(data[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if im.norm(np.log1p(data[i, j])) > 0.6 else "black",
                )
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def curves_chart(paths: list[Path], path: Path) -> Path | None:
    curves = []
    for p in paths:
        try:
            curves.append((p, json.loads(p.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            continue
    curves = [(p, c) for p, c in curves if c.get("points")]
    if not curves:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for k, (p, c) in enumerate(curves):
        pts = c["points"]
        ax.plot(
            [q["fraction"] * 100 for q in pts],
            [q["score"] for q in pts],
            marker="o",
            color=PALETTE[k % len(PALETTE)],
            label=f"{p.stem} ({c.get('config', '?')})",
        )
    ax.set_xlabel("% of training documents")
    ax.set_ylabel("dev score")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("Learning curves (treffpunkt train-curve)")
    return _save(fig, path)


# ------------------------------------------------------------------------------------------------ HTML
_CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:24px auto;max-width:1320px;color:#222;padding:0 16px}
h1{font-size:1.6em;margin-bottom:4px} h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:36px}
table{border-collapse:collapse;margin:10px 0;font-size:13px} th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f3f3f3} td.l,th.l{text-align:left} tr.micro td{font-weight:bold;background:#fafafa}
.sig-up{color:#1a7f37;font-weight:bold} .sig-down{color:#c62828;font-weight:bold} .ns{color:#777}
.warn{background:#fff4e5;border-left:4px solid #f0a020;padding:8px 12px;margin:8px 0}
.meta{color:#555;font-size:13px} .charts img{max-width:100%;border:1px solid #eee;margin:6px 6px 6px 0;vertical-align:top}
.grid{display:grid;gap:8px;margin:6px 0 22px} .cell{border:1px solid #ddd;border-radius:4px;padding:6px 8px;background:#fff;overflow-wrap:anywhere}
.cell h4{margin:0 0 4px;font-size:12px;color:#555} .badge{display:inline-block;background:#eee;border-radius:3px;padding:0 5px;margin:0 3px 3px 0;font-size:11px}
.badge.evt{background:#e3ecfa;color:#1f4e8c} .doc{font-size:12px;color:#666;margin-top:14px}
details{margin:4px 0} summary{cursor:pointer} .errs td{font-size:12px}
"""


def _pct(x: float) -> str:
    return f"{x:.3f}"


def _delta_cell(d: dict[str, Any]) -> str:
    cls = ("sig-up" if d["delta"] > 0 else "sig-down") if d["significant"] else "ns"
    mark = " *" if d["significant"] else ""
    return f'<td class="{cls}">{d["delta"]:+.3f}{mark}</td><td class="{cls}">[{d["low"]:+.3f}, {d["high"]:+.3f}]</td>'


def metrics_table(result: CompareResult, layer: str) -> str:
    versions = result.versions
    head = '<tr><th class="l">label</th><th>support</th>' + "".join(
        f'<th colspan="3">{html.escape(v)}</th>' for v in versions
    )
    head += (
        "".join(f'<th colspan="2">Δ F1 {html.escape(v)} − {html.escape(versions[0])}</th>' for v in versions[1:])
        + "</tr>"
    )
    sub = (
        "<tr><th></th><th></th>"
        + "<th>P</th><th>R</th><th>F1 [95 % CI]</th>" * len(versions)
        + "<th>Δ</th><th>95 % CI</th>" * (len(versions) - 1)
        + "</tr>"
    )
    body = []
    for row in (r for r in result.comparison.rows if r.layer == layer):
        cells = "".join(
            f'<td>{_pct(s["p"])}</td><td>{_pct(s["r"])}</td><td>{_pct(s["f"])} <span class="ns">[{_pct(s["f_low"])}, {_pct(s["f_high"])}]</span></td>'
            for s in (row.scores[v] for v in versions)
        )
        cells += "".join(_delta_cell(row.deltas[v]) for v in versions[1:])
        cls = ' class="micro"' if row.label == MICRO else ""
        body.append(f'<tr{cls}><td class="l">{html.escape(row.label)}</td><td>{row.support}</td>{cells}</tr>')
    return f"<table>{head}{sub}{''.join(body)}</table>"


def _colors(result: CompareResult) -> dict[str, str]:
    labels = sorted(
        {lab for ex in result.comparison.disagreements for view in ex["views"].values() for *_, lab in view["ents"]}
    )
    return {lab: ENT_COLORS[i % len(ENT_COLORS)] for i, lab in enumerate(labels)}


def render_sentence(text: str, view: dict[str, Any], colors: dict[str, str]) -> str:
    """displaCy's entity markup for one sentence, with the sentence's event labels as badges above it."""
    from spacy import displacy

    ents = [{"start": a, "end": b, "label": lab} for a, b, lab in view["ents"]]
    markup = displacy.render(
        {"text": text, "ents": ents, "title": None},
        style="ent",
        manual=True,
        page=False,
        jupyter=False,
        options={"colors": colors},
    )
    events = (
        "".join(f'<span class="badge evt">{html.escape(e)}</span>' for e in view["events"])
        or '<span class="badge">no event</span>'
    )
    return f"<div>{events}</div>{markup}"


def disagreements_html(result: CompareResult) -> str:
    c = result.comparison
    if not c.disagreements:
        return "<p>The versions agree on every gold sentence (entities and event labels).</p>"
    colors = _colors(result)
    columns = ["gold", *c.versions]
    parts = [
        f"<p>{c.n_disagreements} gold sentence(s) where the versions' entities or event labels differ; "
        f"showing the first {len(c.disagreements)} (all in compare.json).</p>"
    ]
    for ex in c.disagreements:
        parts.append(
            f'<div class="doc">doc <b>{html.escape(ex["doc"])}</b>, characters {ex["start"]}–{ex["end"]}</div>'
        )
        cells = "".join(
            f'<div class="cell"><h4>{html.escape(k)}</h4>{render_sentence(ex["text"], ex["views"][k], colors)}</div>'
            for k in columns
        )
        parts.append(
            f'<div class="grid" style="grid-template-columns:repeat({len(columns)},minmax(0,1fr))">{cells}</div>'
        )
    return "".join(parts)


def errors_html(result: CompareResult, layer: str) -> str:
    c = result.comparison
    parts = []
    for v in c.versions:
        per_label = c.errors[v].get(layer, {})
        n_fp = sum(len(x["fp"]) for x in per_label.values())
        n_fn = sum(len(x["fn"]) for x in per_label.values())
        inner = []
        for label, kinds in per_label.items():
            for kind, name in (("fp", "false positives"), ("fn", "false negatives")):
                rows = kinds[kind]
                if not rows:
                    continue
                extra = (
                    f"<p class='meta'>… and {len(rows) - MAX_ERRORS} more in compare.json</p>"
                    if len(rows) > MAX_ERRORS
                    else ""
                )
                trs = "".join(
                    f'<tr><td class="l">{html.escape(r["text"])}</td><td class="l">{html.escape(r["doc"])}</td><td>{r["start"]}–{r["end"]}</td>'
                    + (f'<td class="l">{html.escape(r.get("event", ""))}</td>' if layer == "roles" else "")
                    + "</tr>"
                    for r in rows[:MAX_ERRORS]
                )
                th = (
                    '<tr><th class="l">text</th><th class="l">doc</th><th>offsets</th>'
                    + ('<th class="l">event</th>' if layer == "roles" else "")
                    + "</tr>"
                )
                inner.append(
                    f"<details><summary>{html.escape(label)}: {len(rows)} {name}</summary><table class='errs'>{th}{trs}</table>{extra}</details>"
                )
        parts.append(
            f"<details><summary><b>{html.escape(v)}</b>: {n_fp} false positives, {n_fn} false negatives</summary>{''.join(inner)}</details>"
        )
    return "".join(parts)


def write_report(result: CompareResult, out_dir: Path) -> ReportResult:
    """Write the charts and ``report.html`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    c = result.comparison
    layers = [layer for layer in LAYER_NAMES if any(r.layer == layer for r in c.rows)]
    f1_imgs = {layer: f1_chart(result, layer, out_dir / f"f1-{layer}.png") for layer in layers}
    conf_imgs = {
        v: confusion_chart(c.confusion[v], f"events: gold × predicted, {v}", out_dir / f"confusion-{_safe(v)}.png")
        for v in c.versions
    }
    curve_img = curves_chart(result.curves, out_dir / "learning-curves.png")
    images = [p for p in [*f1_imgs.values(), *conf_imgs.values(), curve_img] if p is not None]

    title = " vs ".join(c.versions)
    warn = "".join(f'<div class="warn">{html.escape(w)}</div>' for w in result.warnings)
    summary_rows = []
    for layer in layers:
        row = c.row(layer, MICRO)
        cells = "".join(f"<td>{_pct(row.scores[v]['f'])}</td>" for v in c.versions) + "".join(
            _delta_cell(row.deltas[v]) for v in c.versions[1:]
        )
        summary_rows.append(f'<tr><td class="l">{LAYER_NAMES[layer]}</td><td>{row.support}</td>{cells}</tr>')
    summary_head = '<tr><th class="l">layer (micro F1)</th><th>support</th>' + "".join(
        f"<th>{html.escape(v)}</th>" for v in c.versions
    )
    summary_head += "".join(f"<th>Δ {html.escape(v)}</th><th>95 % CI</th>" for v in c.versions[1:]) + "</tr>"
    kinds = ", ".join(
        f"{html.escape(v)}: {html.escape(str(result.scores.get(v, {}).get('roles_kind', '?')))}" for v in c.versions
    )
    sections = [
        f"<h1>Model comparison: {html.escape(title)}</h1>",
        f'<p class="meta">Gold: {c.n_docs} doc(s) of the <b>{html.escape(result.split)}</b> split of <code>{html.escape(Path(result.data).name)}</code>. '
        f"Paired bootstrap over documents: {c.n_boot} resamples, seed {c.seed}; Δ is F1 of a version minus F1 of {html.escape(c.versions[0])}; "
        f'<span class="sig-up">*</span> marks a difference whose 95 % interval excludes 0. Role assigners: {kinds}.</p>',
        warn,
        f"<h2>Summary</h2><table>{summary_head}{''.join(summary_rows)}</table>",
    ]
    for layer in layers:
        img = f'<div class="charts">{_img(f1_imgs[layer], f"F1 per label, {layer}")}</div>' if f1_imgs[layer] else ""
        sections.append(
            f"<h2>{LAYER_NAMES[layer].capitalize()}</h2>{metrics_table(result, layer)}{img}"
            f"<h3>False positives and false negatives</h3>{errors_html(result, layer)}"
        )
    conf = "".join(_img(p, f"confusion {v}") for v, p in conf_imgs.items() if p)
    sections.append(
        f'<h2>Event confusion (per sentence)</h2><div class="charts">{conf or "<p>No event labels.</p>"}</div>'
    )
    sections.append(
        "<h2>Learning curves</h2>"
        + (
            f'<div class="charts">{_img(curve_img, "learning curves")}</div>'
            if curve_img
            else "<p>No learning curve for these versions' data (run <code>treffpunkt train-curve</code>).</p>"
        )
    )
    sections.append(f"<h2>Where the versions disagree</h2>{disagreements_html(result)}")
    page = (
        f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head><body>{''.join(sections)}</body></html>\n"
    )
    out = out_dir / "report.html"
    atomic_write_text(out, page, perms=0o644)
    return ReportResult(out, images)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
