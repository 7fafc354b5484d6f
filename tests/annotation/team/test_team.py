"""The team commands against a real Label Studio with real users created through its API."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from treffpunkt.annotation.labelstudio.pull import download, pull, snapshot
from treffpunkt.annotation.team.members import invite, members_by_id
from treffpunkt.core.schema import load_schema
from treffpunkt.core.workspace import Workspace

pytestmark = pytest.mark.studio

T1 = "Scholz traf Macron am Montag in Paris."
T2 = "Merkel besuchte Warschau zum Treffen."


def region(rid: str, text: str, phrase: str, label: str, tag: str = "entities") -> dict:
    start = text.index(phrase)
    value = {"start": start, "end": start + len(phrase), "text": phrase, "labels": [label]}
    return {"id": rid, "from_name": tag, "to_name": "text", "type": "labels", "value": value}


def link(a: str, b: str, role: str) -> dict:
    return {"from_id": a, "to_id": b, "type": "relation", "direction": "right", "labels": [role]}


def users(studio, n: int) -> list:
    """``n`` new Label Studio users, created through the API (`annotate invite --create`)."""
    tag = uuid.uuid4().hex[:6]
    emails = [f"{name}-{tag}@example.org" for name in ("anna", "ben", "cem", "dora")[:n]]
    result = invite(studio.client(), emails, create=True)
    assert [m.email for m in result.created] == emails and "/user/signup/?token=" in result.invite_url
    return result.created


def task(article: str, text: str, annotations: list[tuple[int, list, float | None, bool]], **extra) -> dict:
    return {
        "data": {"text": text, "title": article, "article_id": article},
        "annotations": [
            {"completed_by": who, "result": result, "lead_time": lead, "ground_truth": truth}
            for who, result, lead, truth in annotations
        ],
        **extra,
    }


def export_of(studio, ws: Workspace, project: int) -> Path:
    client = studio.client()
    path = ws.exports_dir / f"20260101T000000Z_{uuid.uuid4().hex[:6]}.json"
    ws.exports_dir.mkdir(parents=True, exist_ok=True)
    download(client, project, snapshot(client, project), path)
    return path


def test_assign_balanced_stable_and_kept_when_people_are_added(studio, studio_ws, studio_project) -> None:
    from treffpunkt.annotation.team.assign import ASSIGN_FIELD, assign, view_title
    from treffpunkt.cli import app

    sdk = studio.client().sdk
    anna, ben, cem, dora = users(studio, 4)
    tasks = [task(f"a{i}", f"Text {i}.", []) for i in range(6)]
    tasks[0] = task("a0", "Text 0.", [(cem.id, [], 10.0, False)])  # cem already did task a0
    sdk.projects.import_tasks(id=studio_project.id, request=tasks)
    ids = {t.data["article_id"]: t.id for t in sdk.tasks.list(project=studio_project.id)}

    first = assign(studio.client(), studio_project, [anna.email, ben.email, cem.email], per_task=2)
    assert first.loads == {anna.email: 4, ben.email: 4, cem.email: 4}
    assert all(len(set(people)) == 2 for people in first.plan.values())
    assert cem.email in first.plan[ids["a0"]] and first.finished_kept == 1
    assert len(first.changed) == 6 and sorted(first.views_created) == sorted([anna.email, ben.email, cem.email])
    # each annotator's tab lists exactly their tasks
    for email, view in first.views.items():
        listed = sorted(t.id for t in sdk.tasks.list(project=studio_project.id, view=view))
        assert listed == sorted(t for t, people in first.plan.items() if email in people)
    assert sdk.tasks.get(str(ids["a1"])).data[ASSIGN_FIELD] == first.plan[ids["a1"]]

    run = CliRunner().invoke(
        app,
        ["--home", str(studio_ws.root), "annotate", "assign", "--annotators", f"{anna.email},{ben.email},{cem.email}",
         "--per-task", "2"],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    assert "0 assignment(s) written" in run.output and view_title(anna.email) in run.output

    run = CliRunner().invoke(app, ["--home", str(studio_ws.root), "annotate", "invite", anna.email])
    assert run.exit_code == 0, run.output
    assert "/user/signup/?token=" in run.output and f"Already a user: {anna.email}" in run.output

    # two more tasks and a fourth person: 16 slots, 4 each; finished work stays
    sdk.projects.import_tasks(id=studio_project.id, request=[task("a6", "Text 6.", []), task("a7", "Text 7.", [])])
    grown = assign(studio.client(), studio_project, [anna.email, ben.email, cem.email, dora.email], per_task=2)
    assert grown.loads == {anna.email: 4, ben.email: 4, cem.email: 4, dora.email: 4} and grown.tasks == 8
    assert cem.email in grown.plan[ids["a0"]]
    again = assign(studio.client(), studio_project, [anna.email, ben.email, cem.email, dora.email], per_task=2)
    assert again.changed == [] and again.plan == grown.plan


def _stats_tasks(anna, ben, rev) -> list[dict]:
    a1 = [region("a1", T1, "Scholz", "PER"), region("a2", T1, "Macron", "PER")]
    b1 = [region("b1", T1, "Scholz", "PER"), region("b2", T1, "Paris", "LOC"), region("b3", T1, "traf", "ORG")]
    r1 = [region("r1", T1, "Scholz", "PER"), region("r2", T1, "Macron", "PER"), region("r3", T1, "Paris", "GPE")]
    both2 = [
        region("x1", T2, "Merkel", "PER"),
        region("x2", T2, "Warschau", "GPE"),
        region("x3", T2, "besuchte", "CONSULT_VISIT", "events"),
    ]
    return [
        task("s1", T1, [(anna.id, a1, 30.0, False), (ben.id, b1, 60.0, False), (rev.id, r1, None, True)]),
        task("s2", T2, [(anna.id, both2, 90.0, False), (ben.id, both2, 120.0, False)]),
    ]


def test_stats_exact_figures_per_annotator_and_guideline_version(studio, studio_ws, studio_project, tmp_path) -> None:
    from treffpunkt.annotation.team.stats import stats, write_html

    anna, ben, rev = users(studio, 3)
    sdk = studio.client().sdk
    sdk.projects.import_tasks(id=studio_project.id, request=_stats_tasks(anna, ben, rev))
    # an earlier pull recorded Version 1; the current guidelines (Version 2) start tomorrow: all work is under v1
    old = studio_ws.exports_dir / "20200101T000000Z_old"
    old.mkdir(parents=True)
    (old / "manifest.json").write_text(
        json.dumps({"guidelines": {"version": "Version 1 (2000-01-01)", "since": "2000-01-01"}})
    )
    (studio_ws.root / "guidelines.md").write_text("# Rules\n\nVersion 2 (2999-01-01)\n", encoding="utf-8")
    export = export_of(studio, studio_ws, studio_project.id)

    result = stats(studio_ws, export, schema=load_schema(studio_ws.schema_path), names=members_by_id(studio.client()))
    by = {a.annotator: a for a in result.annotators}
    a, b, r = by[anna.email], by[ben.email], by[rev.email]
    assert (a.tasks_done, a.lead_time_total_s, a.lead_time_median_s, a.annotations_per_hour) == (2, 120.0, 60.0, 60.0)
    assert (b.tasks_done, b.lead_time_total_s, b.lead_time_median_s, b.annotations_per_hour) == (2, 180.0, 90.0, 40.0)
    assert (r.tasks_done, r.lead_time_median_s) == (1, None)
    assert a.labels == {"entities:GPE": 1, "entities:PER": 3, "events:CONSULT_VISIT": 1}
    # anna: task s1 30 s over 2 regions, s2 90 s over 3 regions
    assert a.label_median_s == {"entities:GPE": 30.0, "entities:PER": 15.0, "events:CONSULT_VISIT": 30.0}
    # peers: s1 1 of 2 vs 3 spans, s2 2 of 2 → 2*3/(4+5); events 1 of 1
    assert a.peer_f1[ben.email]["entities"] == pytest.approx(6 / 9) and a.peer_f1[ben.email]["events"] == 1.0
    # gold (the reviewer's ground truth on s1): anna 2 of (2, 3) → 0.8, ben 1 of (3, 3) → 1/3
    assert a.gold_f1["entities"] == pytest.approx(0.8) and b.gold_f1["entities"] == pytest.approx(1 / 3)
    assert (a.gold_tasks, rev.email in a.peer_f1) == (1, False)
    assert result.current_version == "Version 2 (2999-01-01)"
    assert a.by_guidelines == {"Version 1 (2000-01-01)": 2} and len(result.older) == 5
    saved = json.loads(result.json_path.read_text(encoding="utf-8"))
    assert saved["annotators"][0]["annotator"] == result.annotators[0].annotator
    page = write_html(result, tmp_path / "html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and anna.email in page and "<link" not in page

    # the command: table, HTML, JSON, and the table in an offline wandb run
    from treffpunkt.cli import app

    run = CliRunner().invoke(
        app,
        ["--home", str(studio_ws.root), "annotate", "stats", str(export), "--html", str(tmp_path / "cli-html")],
        env={"COLUMNS": "250", "WANDB_MODE": "offline"},
    )
    assert run.exit_code == 0, run.output
    assert anna.email in run.output and "5 annotation(s) were made under older guidelines" in run.output
    assert (tmp_path / "cli-html" / "stats.html").exists()
    tables = list((studio_ws.root / "wandb").rglob("annotators_*.table.json"))
    assert len(tables) == 1 and anna.email in tables[0].read_text(encoding="utf-8")


def test_review_decision_wins_in_convert(studio, studio_ws, studio_project) -> None:
    from treffpunkt.annotation.agreement.measure import agreement, tag_conflicts
    from treffpunkt.annotation.team.review import review, view_title

    anna, ben, rev = users(studio, 3)
    client = studio.client()
    sdk = client.sdk
    tasks = _stats_tasks(anna, ben, rev)
    tasks[0]["annotations"] = tasks[0]["annotations"][:2]  # no review yet
    sdk.projects.import_tasks(id=studio_project.id, request=tasks)
    schema = load_schema(studio_ws.schema_path)
    tagged = tag_conflicts(agreement(studio_ws, export_of(studio, studio_ws, studio_project.id), schema=schema), client)
    ids = {t.data["article_id"]: t.id for t in sdk.tasks.list(project=studio_project.id)}
    assert tagged.tagged == [ids["s1"]]

    from treffpunkt.cli import app

    run = CliRunner().invoke(
        app, ["--home", str(studio_ws.root), "annotate", "review", "--reviewer", rev.email], env={"COLUMNS": "300"}
    )
    assert run.exit_code == 0, run.output
    assert "1 task(s) need adjudication" in run.output and "0 reviewed, 1 waiting" in run.output
    waiting = review(studio_ws, client, studio_project, rev.email, schema=schema)
    assert (waiting.queued, waiting.waiting, waiting.decided) == ([ids["s1"]], [ids["s1"]], [])
    views = [v for v in sdk.views.list(project=studio_project.id) if v.data.get("title") == view_title(rev.email)]
    assert [t.id for t in sdk.tasks.list(project=studio_project.id, view=views[0].id)] == [ids["s1"]]

    r1 = [region("r1", T1, "Scholz", "PER"), region("r2", T1, "Macron", "PER"), region("r3", T1, "Paris", "GPE")]
    decision = sdk.annotations.create(id=ids["s1"], result=r1, completed_by=rev.id)  # the reviewer submits
    done = review(studio_ws, client, studio_project, rev.email, schema=schema)
    (d,) = done.decided
    per = {x.annotator: x for x in d.annotators}
    assert (d.review_id, done.waiting, done.marked) == (decision.id, [], 1)
    assert [(len(x.kept), len(x.changed), len(x.dropped)) for x in (per[anna.email], per[ben.email])] == [
        (2, 0, 0),
        (1, 1, 1),
    ]
    assert per[ben.email].changed[0]["label"] == "LOC" and per[ben.email].changed[0]["became"][0]["label"] == "GPE"
    assert per[ben.email].dropped[0]["text"] == "traf" and [s["text"] for s in d.added] == ["Paris"]
    assert json.loads(done.report_path.read_text())["decisions"][0]["review_id"] == decision.id
    assert sdk.annotations.get(id=decision.id).ground_truth is True

    # anna edits her annotation afterwards: newer, but the review decision still wins
    anna_id = per[anna.email].annotation_id
    sdk.annotations.update(id=anna_id, result=r1[:1])
    pulled = pull(studio_ws, studio=client)
    chosen = [
        (r.annotation_id, r.status, r.rule) for r in pulled.converted.report.annotations if r.task_id == ids["s1"]
    ]
    assert (decision.id, "chosen", "ground truth") in chosen and (anna_id, "superseded", "ground truth") in chosen


def _new_schema(ws: Workspace) -> None:
    lines = ws.schema_path.read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        if "{name: DATE," in line or "{name: CONSULT," in line or "{name: CONSULT_THIRD," in line:
            continue
        out.append(line.replace("{name: LOC,", "{name: PLACE,"))
    (ws.configs_dir / "schema.yaml").write_text("\n".join(out) + "\n", encoding="utf-8")
    load_schema(ws.configs_dir / "schema.yaml")


def _labels(sdk, project: int) -> list[list[str]]:
    out = []
    for t in sorted(sdk.tasks.list(project=project, fields="all"), key=lambda t: t.id):
        for item in [*(t.annotations or []), *(t.predictions or [])]:
            result = item["result"] if isinstance(item, dict) else item.result
            out.append(sorted(x for r in result for x in (r.get("labels") or r.get("value", {}).get("labels") or [])))
    return out


def test_migrate_rename_merge_drop_interrupted_resumed_and_restored(studio, studio_ws, studio_project) -> None:
    from treffpunkt.annotation.team.migrate import migrate, parse_changes, restore, state_path

    (anna,) = users(studio, 1)
    client = studio.client()
    sdk = client.sdk
    t1 = [
        region("p", T1, "Paris", "LOC"),
        region("s", T1, "Scholz", "PER"),
        region("m", T1, "am Montag", "DATE"),
        region("e", T1, "traf", "CONSULT_THIRD", "events"),
        link("e", "m", "time"),
        link("e", "s", "participant"),
    ]
    t2 = [region("w", T2, "Warschau", "LOC"), region("t", T2, "Treffen", "CONSULT", "events")]
    pred = [region("pp", T1, "Paris", "LOC"), region("pm", T1, "am Montag", "DATE")]
    sdk.projects.import_tasks(
        id=studio_project.id,
        request=[
            task("m1", T1, [(anna.id, t1, 5.0, False)], predictions=[{"model_version": "m-001", "result": pred}]),
            task("m2", T2, [(anna.id, t2, 5.0, False)]),
        ],
    )
    before = _labels(sdk, studio_project.id)
    mapping, change = parse_changes(["LOC=PLACE"], ["CONSULT,CONSULT_THIRD=CONSULT_MULTI"], ["DATE"])
    expected = {
        "rename LOC=PLACE": {"annotations": 2, "predictions": 1},
        "merge CONSULT,CONSULT_THIRD=CONSULT_MULTI": {"annotations": 2},
        "drop DATE": {"annotations": 1, "predictions": 1},
    }
    dry = migrate(studio_ws, client, studio_project, mapping, change, dry_run=True)
    assert dry.diff == expected and _labels(sdk, studio_project.id) == before and not state_path(studio_ws).exists()

    _new_schema(studio_ws)
    half = migrate(studio_ws, client, studio_project, mapping, change, stop_after=2)
    assert (half.finished, half.config_updated, half.annotations_changed + half.predictions_changed) == (
        False,
        False,
        2,
    )
    assert state_path(studio_ws).exists() and half.backup.exists()
    rest = migrate(studio_ws, client, studio_project, mapping, change)
    assert (rest.resumed, rest.finished, rest.backup, rest.left) == (True, True, half.backup, {})
    assert rest.annotations_changed + rest.predictions_changed == 1 and not state_path(studio_ws).exists()
    assert _labels(sdk, studio_project.id) == [
        ["CONSULT_MULTI", "PER", "PLACE", "participant"],
        ["PLACE"],
        ["CONSULT_MULTI", "PLACE"],
    ]
    config = sdk.projects.get(studio_project.id).label_config
    assert 'value="PLACE"' in config and 'value="LOC"' not in config and 'value="DATE"' not in config

    from treffpunkt.cli import app

    again = CliRunner().invoke(
        app,
        ["--home", str(studio_ws.root), "annotate", "migrate", "--rename", "LOC=PLACE", "--dry-run"],
        env={"COLUMNS": "300"},
    )
    assert again.exit_code == 0 and "rename LOC=PLACE: 0 annotation region(s), 0 prediction region(s)" in again.output

    undone = restore(studio_ws, client, studio_project, half.backup)
    assert (undone.annotations_restored, undone.predictions_restored, undone.config_restored) == (2, 1, True)
    run = CliRunner().invoke(
        app, ["--home", str(studio_ws.root), "annotate", "restore", str(half.backup)], env={"COLUMNS": "300"}
    )
    assert run.exit_code == 0 and "Restored 0 annotation(s) and 0 prediction(s) and the labeling config" in run.output
    assert _labels(sdk, studio_project.id) == before
    assert 'value="LOC"' in sdk.projects.get(studio_project.id).label_config
