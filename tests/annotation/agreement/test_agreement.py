"""Inter-annotator agreement: hand-checked figures on tiny hand-made exports (tests/data/agreement/).

two_annotators.json (annotators 1 and 2; task 101 also has a cancelled annotation by 3, task 103 only one annotator):

  task 101  "Scholz traf Macron in Paris. | Putin telefonierte mit Erdoğan. | Lawrow besuchte Baku. | Das Treffen wurde abgesagt."
     1: PER Scholz, PER Macron, GPE Paris;     VISIT traf, PHONE telefonierte, VISIT besuchte, REJECT abgesagt
     2: PER Scholz, ORG Macron, GPE "in Paris"; VISIT traf, PHONE telefonierte, THIRD besuchte, REJECT "Treffen wurde abgesagt"
  task 102  "Biden empfing Selenskyj in Washington. | Die Nato lud Selenskyj zu einem Besuch ein. | Schoigu reiste nach Minsk. | Am Freitag ..."
     1: PER Biden, GPE Washington;                VISIT empfing, VISIT "reiste nach Minsk"
     2: PER Biden, PER Selenskyj, GPE Washington; VISIT empfing, VISIT Besuch, VISIT reiste

three_annotators.json (anna, ben, cem; cem only on task 201): CONSULT_PHONE per sentence, see the alpha test.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from typer.testing import CliRunner

from treffpunkt.annotation.agreement.measure import (
    ENTITY_TAG,
    EVENT_TAG,
    AgreementError,
    AgreementResult,
    Span,
    agreement,
    classify,
    cohen_kappa,
    default_conflicts_path,
    match_spans,
    newest_export,
)
from treffpunkt.annotation.convert.docs import convert_tasks, load_convert_options
from treffpunkt.annotation.convert.reader import annotator_of
from treffpunkt.core.errors import InputError
from treffpunkt.core.schema import Schema, load_schema
from treffpunkt.core.workspace import Workspace

DATA = Path(__file__).resolve().parents[2] / "data" / "agreement"
TWO = DATA / "two_annotators.json"
THREE = DATA / "three_annotators.json"


@pytest.fixture
def schema(ws: Workspace) -> Schema:
    return load_schema(ws.schema_path)


@pytest.fixture
def two(ws: Workspace, schema: Schema) -> AgreementResult:
    return agreement(ws, TWO, schema=schema)


@pytest.fixture
def three(ws: Workspace, schema: Schema) -> AgreementResult:
    return agreement(ws, THREE, schema=schema)


def test_agreement_read_report_counts_what_is_left_out(two: AgreementResult) -> None:
    report = two.report
    assert (report.tasks, report.tasks_single, report.cancelled) == (3, 1, 1)  # 103 single; annotator 3 cancelled
    assert two.tasks_scored == 2
    assert two.annotators == ["1", "2"]
    assert report.spans_kept == 7 + 7 + 4 + 6
    assert report.rejected == report.repaired == 0


def test_agreement_cohen_kappa_two_annotators(two: AgreementResult) -> None:
    # CONSULT_VISIT over the 8 sentences of tasks 101 and 102 (1 = an event span of that label in the sentence):
    #   annotator 1: 1 0 1 0 | 1 0 1 0      annotator 2: 1 0 0 0 | 1 1 1 0
    #   p_o = 6/8; p_1 = p_2 = 4/8, so p_e = .5*.5 + .5*.5 = .5; kappa = (.75 - .5) / (1 - .5) = 0.5
    # Krippendorff (nominal, 16 values, 8 ones): two disagreeing units give o_01 = o_10 = 2,
    #   alpha = 1 - (n-1) * (o_01 + o_10) / (2 * n_0 * n_1) = 1 - 15 * 4 / 128 = 68/128 = 0.53125
    visit = {e.label: e for e in two.event_labels}["CONSULT_VISIT"]
    assert visit.sentences == 8
    assert visit.positives == {"1": 4, "2": 4}
    assert visit.kappa == pytest.approx(0.5)
    assert visit.alpha == pytest.approx(68 / 128)
    # CONSULT_THIRD: only annotator 2, once: p_o = 7/8, p_e = 1 * 7/8 -> kappa 0; MEET_REJECT: same sentence -> 1
    by_label = {e.label: e for e in two.event_labels}
    assert by_label["CONSULT_THIRD"].kappa == pytest.approx(0.0)
    assert by_label["MEET_REJECT"].kappa == pytest.approx(1.0)
    # A label nobody used has no chance-corrected agreement at all (p_e = 1), reported as None, not 1 or 0.
    assert by_label["MEET_REQUEST"].kappa is None and by_label["MEET_REQUEST"].alpha is None


def test_agreement_cohen_kappa_matches_hand_formula() -> None:
    assert cohen_kappa([1, 0, 1, 0, 1, 0, 1, 0], [1, 0, 0, 0, 1, 1, 1, 0]) == pytest.approx(0.5)
    assert cohen_kappa([0, 0, 0], [0, 0, 0]) is None


def test_agreement_krippendorff_alpha_three_annotators(three: AgreementResult) -> None:
    # CONSULT_PHONE per sentence (units u1..u4 = task 201, u5..u6 = task 202, cem did not annotate 202):
    #          u1 u2 u3 u4 u5 u6
    #   anna    1  1  0  0  1  0
    #   ben     1  1  0  1  1  1
    #   cem     1  0  0  0  .  .
    # Coincidences (each ordered pair of values in a unit weighted 1/(m_u - 1)):
    #   u1: o11 += 3; u2: o11 += 1, o10 += 1, o01 += 1; u3: o00 += 3; u4: o00 += 1, o01 += 1, o10 += 1;
    #   u5: o11 += 2; u6: o01 += 1, o10 += 1   ->  o11 = 6, o00 = 4, o01 = o10 = 3; n_1 = 9, n_0 = 7, n = 16
    #   alpha = 1 - (n-1) * (o01 + o10) / (2 * n_0 * n_1) = 1 - 15 * 6 / 126 = 36/126 = 2/7
    phone = {e.label: e for e in three.event_labels}["CONSULT_PHONE"]
    assert phone.sentences == 6
    assert phone.alpha == pytest.approx(2 / 7)
    nan = np.nan
    raw = [[1, 1, 0, 0, 1, 0], [1, 1, 0, 1, 1, 1], [1, 0, 0, 0, nan, nan]]
    assert krippendorff.alpha(reliability_data=raw, level_of_measurement="nominal") == pytest.approx(2 / 7)
    # No single kappa with three annotators; pairwise anna-ben: p_o = 4/6, p_e = .5*5/6 + .5*1/6 = .5 -> 1/3
    assert phone.kappa is None
    assert phone.pairwise_kappa["anna@example.org | ben@example.org"] == pytest.approx(1 / 3)
    assert {e.label: e for e in three.event_labels}["CONSULT_THIRD"].alpha == pytest.approx(1.0)


def test_agreement_span_f1_exact_vs_overlap(two: AgreementResult) -> None:
    # Entities: 1 has 5 spans, 2 has 6. Exact: Scholz, Biden, Washington -> F1 = 2*3/11; overlap adds Paris~"in Paris".
    assert two.f1(ENTITY_TAG, "exact") == pytest.approx(6 / 11)
    assert two.f1(ENTITY_TAG, "overlap") == pytest.approx(8 / 11)
    # Per label: PER 2 of 3+3; ORG 0 of 0+1; GPE exact 1 of 2+2, overlap 2 of 2+2. Macro over used labels.
    assert two.f1(ENTITY_TAG, "exact", label="GPE") == pytest.approx(0.5)
    assert two.f1(ENTITY_TAG, "overlap", label="GPE") == pytest.approx(1.0)
    assert two.macro_f1(ENTITY_TAG, "exact") == pytest.approx((4 / 6 + 0 + 0.5) / 3)
    assert two.macro_f1(ENTITY_TAG, "overlap") == pytest.approx((4 / 6 + 0 + 1.0) / 3)
    assert two.f1(ENTITY_TAG, "exact", label="LOC") is None  # unused: no F1, not counted in the macro mean
    # Events: 6 vs 7 spans; exact traf, telefonierte, empfing; overlap adds abgesagt and reiste (nach Minsk).
    assert two.f1(EVENT_TAG, "exact") == pytest.approx(6 / 13)
    assert two.f1(EVENT_TAG, "overlap") == pytest.approx(10 / 13)
    assert two.f1(EVENT_TAG, "exact", label="CONSULT_VISIT") == pytest.approx(4 / 8)
    assert two.f1(EVENT_TAG, "overlap", label="CONSULT_VISIT") == pytest.approx(6 / 8)
    assert two.f1(EVENT_TAG, "exact", pair=("1", "2")) == two.f1(EVENT_TAG, "exact")


def test_agreement_overlap_matching_is_one_to_one() -> None:
    a = [Span(0, 10, "PER", ENTITY_TAG, "x" * 10)]
    b = [
        Span(0, 4, "PER", ENTITY_TAG, "x" * 4),
        Span(2, 10, "PER", ENTITY_TAG, "x" * 8),
        Span(0, 10, "ORG", ENTITY_TAG, ""),
    ]
    assert match_spans(a, b, "exact") == []
    assert match_spans(a, b, "overlap") == [(a[0], b[1])]  # largest overlap wins, one match only


@pytest.mark.parametrize(
    ("others", "kind"),
    [
        ([Span(5, 9, "ORG", ENTITY_TAG, "")], "label"),  # same offsets, other label
        ([Span(3, 9, "PER", ENTITY_TAG, ""), Span(5, 9, "ORG", ENTITY_TAG, "")], "label"),  # same offsets beat overlap
        ([Span(3, 9, "PER", ENTITY_TAG, "")], "boundary"),
        ([Span(7, 12, "ORG", ENTITY_TAG, "")], "label"),  # only overlapping, other label
        ([Span(9, 12, "PER", ENTITY_TAG, "")], "missing"),  # touching is not overlapping
        ([], "missing"),
    ],
)
def test_agreement_classify_unmatched_span(others: list[Span], kind: str) -> None:
    assert classify(Span(5, 9, "PER", ENTITY_TAG, ""), others)[0] == kind


def test_agreement_disagreement_breakdown_counts(two: AgreementResult) -> None:
    pair = ("1", "2")
    # Entities: Macron PER/ORG -> label on each side; Paris/"in Paris" -> boundary on each side; Selenskyj -> missing.
    assert two.disagreement(kind="label", layer=ENTITY_TAG, pair=pair) == 2
    assert two.disagreement(kind="label", layer=ENTITY_TAG, label="ORG") == 1
    assert two.disagreement(kind="boundary", layer=ENTITY_TAG, label="GPE") == 2
    assert two.disagreement(kind="missing", layer=ENTITY_TAG, label="PER") == 1
    # Events: besuchte VISIT/THIRD -> 2 label; abgesagt and reiste -> 2 boundary each side; Besuch -> missing.
    assert two.disagreement(kind="boundary", layer=EVENT_TAG) == 4
    assert two.disagreement(kind="boundary", layer=EVENT_TAG, label="MEET_REJECT") == 2
    assert two.disagreement(kind="label", layer=EVENT_TAG) == 2
    assert two.disagreement(kind="missing", layer=EVENT_TAG, label="CONSULT_VISIT") == 1


def test_agreement_conflicts_file(two: AgreementResult, ws: Workspace) -> None:
    assert two.conflicts_path == default_conflicts_path(ws, TWO)
    saved = json.loads(two.conflicts_path.read_text(encoding="utf-8"))
    tasks = {t["task_id"]: t for t in saved["tasks"]}
    assert set(tasks) == {101, 102}
    assert tasks[101]["article_id"] == "a101" and tasks[101]["annotators"] == ["1", "2"]
    missing = [c for c in tasks[102]["conflicts"] if c["kind"] == "missing"]
    assert missing == [
        {
            "kind": "missing",
            "layer": "entities",
            "annotator": "2",
            "other": "1",
            "label": "PER",
            "text": "Selenskyj",
            "start": 14,
            "end": 23,
            "other_spans": [],
        },
        {
            "kind": "missing",
            "layer": "events",
            "annotator": "2",
            "other": "1",
            "label": "CONSULT_VISIT",
            "text": "Besuch",
            "start": 71,
            "end": 77,
            "other_spans": [],
        },
    ]
    boundary = next(c for c in tasks[101]["conflicts"] if c["kind"] == "boundary" and c["annotator"] == "1")
    assert (boundary["text"], boundary["other_spans"][0]["text"]) == ("Paris", "in Paris")
    # Task 101: exact matches over both layers are Scholz, traf, telefonierte: F1 = 2*3 / (7+7)
    assert tasks[101]["agreement"] == pytest.approx(6 / 14)
    assert saved["summary"]["events"]["overlap"]["micro_f1"] == pytest.approx(10 / 13)


def test_agreement_repairs_utf16_offsets_and_whitespace(ws: Workspace, schema: Schema, tmp_path: Path) -> None:
    text = "🙂 Putin traf Xi."

    def region(start: int, end: int, surface: str) -> dict:
        return {
            "from_name": "entities",
            "to_name": "text",
            "type": "labels",
            "value": {"start": start, "end": end, "text": surface, "labels": ["PER"]},
        }

    export = [
        {
            "id": 1,
            "data": {"text": text},
            "annotations": [
                {"id": 1, "completed_by": 1, "result": [region(3, 8, "Putin")]},  # JS offsets: the emoji counts twice
                {"id": 2, "completed_by": 2, "result": [region(1, 7, " Putin")]},  # leading whitespace
            ],
        }
    ]
    path = tmp_path / "emoji.json"
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    res = agreement(ws, path, schema=schema)
    assert res.report.repaired == 2 and res.report.rejected == 0
    assert {(i.annotator, i.start, i.end) for i in res.report.issues} == {("1", 2, 7), ("2", 2, 7)}
    assert res.f1(ENTITY_TAG, "exact") == pytest.approx(1.0)  # both repaired to the same span


def test_agreement_rejected_spans_are_listed(ws: Workspace, schema: Schema, tmp_path: Path) -> None:
    export = json.loads(TWO.read_text(encoding="utf-8"))
    result = export[0]["annotations"][0]["result"]
    result[0]["value"]["labels"] = ["NOT_A_LABEL"]
    result[1]["value"]["start"] += 1  # text no longer matches
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    res = agreement(ws, path, schema=schema)
    assert res.report.rejected == 2
    reasons = sorted(issue.reason for issue in res.report.issues)
    assert (
        "not among the schema's entities labels" in reasons[0]
        and "text mismatch" in reasons[1]
        and "'Macron'" in reasons[1]
    )
    assert res.f1(ENTITY_TAG, "exact") == pytest.approx(2 * 2 / (3 + 6))


def test_agreement_keeps_latest_annotation_per_annotator(ws: Workspace, schema: Schema, tmp_path: Path) -> None:
    export = json.loads(TWO.read_text(encoding="utf-8"))
    first = export[0]["annotations"][0]
    older = {**first, "id": 99, "updated_at": "2024-04-01T00:00:00Z", "result": []}  # an earlier, empty annotation by 1
    export[0]["annotations"].append(older)
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    res = agreement(ws, path, schema=schema)
    assert res.report.superseded == [{"task_id": 101, "annotation_id": 99, "annotator": "1"}]
    assert res.f1(ENTITY_TAG, "exact") == pytest.approx(6 / 11)  # the newer annotation counted, as before


def test_agreement_annotator_of() -> None:
    assert annotator_of({"completed_by": 4}) == "4"
    assert annotator_of({"completed_by": {"id": 4, "email": "x@example.org"}}) == "x@example.org"


def test_agreement_and_convert_pick_the_same_latest_annotation(ws: Workspace, schema: Schema, tmp_path: Path) -> None:
    # Regression: agreement compared timestamps as strings. 10:00+01:00 is 09:00Z, earlier than 09:30Z, although
    # its string sorts later; both readers must take the 09:30Z annotation (one rule, parsed times).
    export = json.loads(TWO.read_text(encoding="utf-8"))
    task = export[0]
    first = task["annotations"][0]
    newer = {**first, "id": 7, "updated_at": "2024-05-01T09:30:00Z"}
    older = {**first, "id": 8, "updated_at": "2024-05-01T10:00:00+01:00", "result": []}
    task["annotations"] = [older, newer, *task["annotations"][1:]]
    path = tmp_path / "zones.json"
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    res = agreement(ws, path, schema=schema)
    assert {"task_id": task["id"], "annotation_id": 8, "annotator": "1"} in res.report.superseded
    assert res.f1(ENTITY_TAG, "exact") == pytest.approx(6 / 11)  # the newer, non-empty annotation counted
    solo = {**task, "annotations": [older, newer]}
    report, _ = convert_tasks([solo], schema=schema, opts=load_convert_options())
    chosen = [a.annotation_id for a in report.annotations if a.status == "chosen"]
    assert chosen == [7]


def test_agreement_reads_exports_like_convert(ws: Workspace, schema: Schema, tmp_path: Path) -> None:
    # One reader: the same file is rejected with the same message by both.
    path = tmp_path / "not-export.json"
    path.write_text(json.dumps([1, 2, 3]), encoding="utf-8")
    with pytest.raises(InputError, match="is not a Label Studio JSON export"):
        agreement(ws, path, schema=schema)


def test_agreement_newest_export_skips_folders(ws: Workspace) -> None:
    with pytest.raises(InputError, match="No Label Studio export"):
        newest_export(ws)
    old = ws.exports_dir / "20240101T000000Z_p.json"
    new = ws.exports_dir / "20240202T000000Z_p.json"
    shutil.copy(TWO, old)
    shutil.copy(TWO, new)
    (ws.exports_dir / "20240303T000000Z_p").mkdir()  # a converted folder
    (ws.exports_dir / "20240303T000000Z_p" / "report.json").write_text("{}", encoding="utf-8")
    assert newest_export(ws) == new


def test_agreement_needs_two_annotators(ws: Workspace, schema: Schema, tmp_path: Path) -> None:
    single = [t for t in json.loads(TWO.read_text(encoding="utf-8")) if t["id"] == 103]
    path = tmp_path / "single.json"
    path.write_text(json.dumps(single), encoding="utf-8")
    with pytest.raises(AgreementError, match="two or more non-cancelled annotations"):
        agreement(ws, path, schema=schema)


def test_agreement_cli_smoke(ws: Workspace) -> None:
    from treffpunkt.cli import app

    runner = CliRunner()
    empty = runner.invoke(app, ["--home", str(ws.root), "annotate", "agreement"])
    assert empty.exit_code == 1
    assert "No Label Studio export" in empty.output and "annotate pull" in empty.output

    export = ws.exports_dir / "20240101T000000Z_p.json"
    shutil.copy(THREE, export)
    run = runner.invoke(app, ["--home", str(ws.root), "annotate", "agreement"], env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    assert "Agreement per label" in run.output and "Agreement per annotator pair" in run.output
    assert "0.286" in run.output  # alpha of CONSULT_PHONE
    conflicts = default_conflicts_path(ws, export)
    assert conflicts.exists()
    assert newest_export(ws) == export  # the conflicts file is not taken for an export next time


@pytest.mark.studio
def test_agreement_tag_conflicts_on_real_server(studio, studio_ws: Workspace, studio_project, tmp_path: Path) -> None:
    """Two real users annotate → real export → `agreement --tag` tags exactly the conflicting tasks, the view lists them."""
    import uuid

    from treffpunkt.annotation.agreement.measure import VIEW_TITLE, tag_conflicts
    from treffpunkt.annotation.labelstudio.client import connect
    from treffpunkt.annotation.labelstudio.pull import download, snapshot
    from treffpunkt.cli import app

    schema = load_schema(studio_ws.schema_path)
    client = studio.client()
    sdk = client.sdk
    project = studio_project.id
    me = sdk.users.whoami()
    name = f"ben-{uuid.uuid4().hex[:8]}"
    other = sdk.users.create(username=name, email=f"{name}@example.org")
    users = {1: me.id, 2: other.id}
    tasks = [
        {"data": t["data"], "annotations": [
            {"completed_by": users[a["completed_by"]], "result": a["result"]}
            for a in t["annotations"] if a["completed_by"] in users and not a["was_cancelled"]
        ]}
        for t in json.loads(TWO.read_text(encoding="utf-8"))
    ]  # fmt: skip
    sdk.projects.import_tasks(id=project, request=tasks)

    export = studio_ws.exports_dir / "20240101T000000Z_test.json"
    download(client, project, snapshot(client, project), export)
    raw = json.loads(export.read_text(encoding="utf-8"))
    ids = {t["data"]["article_id"]: t["id"] for t in raw}
    assert sorted(a["completed_by"] for t in raw for a in t["annotations"]) == sorted([me.id] * 3 + [other.id] * 2)

    run = CliRunner().invoke(
        app, ["--home", str(studio_ws.root), "annotate", "agreement", "--tag"], env={"COLUMNS": "200"}
    )
    assert run.exit_code == 0, run.output
    assert f"project {project}: 2 tasks tagged" in run.output and VIEW_TITLE in run.output
    data = sdk.tasks.get(str(ids["a101"])).data
    assert data["needs_adjudication"] is True and data["agreement"] == pytest.approx(6 / 14, abs=1e-4)
    assert data["text"].startswith("Scholz traf")  # the rest of the task data survives the update
    assert "needs_adjudication" not in sdk.tasks.get(str(ids["a103"])).data  # single annotator: untouched
    views = [v for v in sdk.views.list(project=project) if v.data.get("title") == VIEW_TITLE]
    assert len(views) == 1
    assert sorted(t.id for t in sdk.tasks.list(project=project, view=views[0].id)) == sorted([ids["a101"], ids["a102"]])

    # After adjudication task a101 agrees: a new export shows it tagged; tagging again clears it, the view follows.
    for task in raw:
        if task["data"]["article_id"] == "a101":
            task["data"]["needs_adjudication"] = True
            task["annotations"][1]["result"] = task["annotations"][0]["result"]
    again_export = tmp_path / "after_adjudication.json"
    again_export.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    again = tag_conflicts(agreement(studio_ws, again_export, schema=schema), connect(studio_ws))
    assert (again.tagged, again.cleared, again.view_created, again.view_id) == (
        [ids["a102"]],
        [ids["a101"]],
        False,
        views[0].id,
    )
    assert sdk.tasks.get(str(ids["a101"])).data["needs_adjudication"] is False
    assert [t.id for t in sdk.tasks.list(project=project, view=views[0].id)] == [ids["a102"]]


def _region(rid: str, tag: str, text: str, phrase: str, label: str) -> dict:
    start = text.index(phrase)
    value = {"start": start, "end": start + len(phrase), "text": phrase, "labels": [label]}
    return {"id": rid, "from_name": tag, "to_name": "text", "type": "labels", "value": value}


def _link(a: str, b: str, role: str) -> dict:
    return {"from_id": a, "to_id": b, "type": "relation", "direction": "right", "labels": [role]}


def test_agreement_relations_and_event_sentences_hand_computed(ws: Workspace, schema: Schema, tmp_path: Path) -> None:
    text = "Anna Weber telefonierte am Montag mit Bernd Roth. Beide wollen sich bald treffen."
    common = [
        _region("p1", "entities", text, "Anna Weber", "PER"),
        _region("p2", "entities", text, "Bernd Roth", "PER"),
        _region("d", "entities", text, "Montag", "DATE"),
        _region("call", "events", text, "telefonierte", "CONSULT_PHONE"),
    ]
    one = [*common, _link("call", "p1", "participant"), _link("call", "d", "time")]
    two = [
        *common,
        _region("meet", "events", text, "treffen", "MEET_INTENT"),
        _link("call", "p1", "participant"),
        _link("call", "p2", "participant"),
        _link("meet", "p1", "participant"),
    ]
    task = {
        "id": 1,
        "data": {"text": text, "article_id": "x"},
        "annotations": [{"id": 1, "completed_by": 1, "result": one}, {"id": 2, "completed_by": 2, "result": two}],
    }
    path = tmp_path / "rel.json"
    path.write_text(json.dumps([task]), encoding="utf-8")
    res = agreement(ws, path, schema=schema)
    # relations: a = {call-Anna participant, call-Montag time}, b = {call-Anna, call-Bernd, meet-Anna participant}
    # identical: 1 → F1 = 2·1 / (2 + 3) = 0.4; per role: participant 2·1/(1+3) = 0.5, time 0
    assert res.relation_f1() == pytest.approx(0.4)
    assert res.relation_f1("participant") == pytest.approx(0.5)
    assert res.relation_f1("time") == pytest.approx(0.0)
    # (sentence, label): a = {(0, PHONE)}, b = {(0, PHONE), (1, INTENT)} → 2·1 / (1 + 2)
    assert res.sentence_f1() == pytest.approx(2 / 3)
    assert res.sentence_f1("CONSULT_PHONE") == pytest.approx(1.0)
    assert res.sentence_f1("MEET_INTENT") == pytest.approx(0.0)
    summary = res.summary()
    assert summary["relations"]["micro_f1"] == pytest.approx(0.4)
    assert summary["event_sentences"]["micro_f1"] == pytest.approx(2 / 3)
    assert res.report.relations_scored == 5 and res.report.relations_unresolved == 0
