"""Label Studio export → DocBins: golden exports with exact outcomes per span, relations, splits, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from typer.testing import CliRunner

from treffpunkt.annotation.convert.docs import ConvertResult, convert_export, latest_converted, load_convert_options
from treffpunkt.annotation.convert.offsets import CRLF, UTF16, UTF16_CRLF, OffsetIndex, locate
from treffpunkt.core.errors import ConfigError, InputError
from treffpunkt.core.schema import Schema, load_schema
from treffpunkt.core.workspace import Workspace

REPO = Path(__file__).resolve().parents[3]
DATA = Path(__file__).resolve().parents[2] / "data"
CASES = sorted(p.parent.name for p in DATA.glob("*/export.json"))


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema(REPO / "configs" / "schema.yaml")


def run(case: str, schema: Schema, tmp_path: Path, **kw: Any) -> ConvertResult:
    return convert_export(DATA / case / "export.json", schema=schema, out_dir=tmp_path / case, **kw)


def docs_of(result: ConvertResult) -> list[Doc]:
    vocab = spacy.blank("de").vocab
    return [doc for name in ("train", "dev", "test") for doc in DocBin().from_disk(result.files[name]).get_docs(vocab)]


def outcomes(result: ConvertResult) -> dict[str, tuple[str, str]]:
    """result id (+ label when several) → (outcome, final text or rejection reason)."""
    out = {}
    for r in result.report.spans:
        out[str(r.result_id)] = (r.outcome, r.reason if r.outcome == "rejected" else r.final_text)
    return out


def ents(doc: Doc) -> list[tuple[str, str]]:
    return [(e.text, e.label_) for e in doc.ents]


# --------------------------------------------------------------------------- golden cases


def test_convert_golden_label_configs_match_schema(schema: Schema) -> None:
    assert CASES, "no golden cases found"
    for case in CASES:
        assert (DATA / case / "label_config.xml").read_text(encoding="utf-8") == schema.label_config(), case


def test_convert_emoji_offsets_repaired_from_utf16(schema: Schema, tmp_path: Path) -> None:
    result = run("emoji_offsets", schema, tmp_path)
    spans = {str(r.result_id): r for r in result.report.spans}
    assert spans["e-per1"].outcome == "kept"  # before the first emoji: offsets agree
    for rid in ("e-per2", "e-gpe", "e-ev"):
        assert spans[rid].outcome == "repaired" and spans[rid].repairs == [UTF16]
    (doc,) = docs_of(result)
    assert ents(doc) == [("Stoltenberg", "PER"), ("Lawrow", "PER"), ("Baku", "GPE")]
    assert [(s.text, s.label_) for s in doc.spans["event_triggers"]] == [("Gespräch", "CONSULT")]


def test_convert_crlf_offsets_repaired(schema: Schema, tmp_path: Path) -> None:
    result = run("crlf_text", schema, tmp_path)
    spans = {str(r.result_id): r for r in result.report.spans}
    assert [spans[r].outcome for r in ("c-per1", "c-gpe")] == ["kept", "kept"]
    assert all(spans[r].repairs == [CRLF] for r in ("c-per2", "c-ev", "c-ev2"))
    (doc,) = docs_of(result)
    assert ents(doc) == [("Schoigu", "PER"), ("Minsk", "GPE"), ("Lukaschenko", "PER")]
    assert {s.text for s in doc.spans["event_triggers"]} == {"empfing", "Treffen"}
    # Two sentences carry CONSULT_VISIT (one each): sentence-level gold per (sentence, label).
    assert [(s.text.strip(), s.label_) for s in doc.spans["events"]] == [
        ("Dort empfing ihn Lukaschenko.", "CONSULT_VISIT"),
        ("Das Treffen dauerte zwei Stunden.", "CONSULT_VISIT"),
    ]


def test_convert_whitespace_trimmed_and_mismatch_rejected(schema: Schema, tmp_path: Path) -> None:
    result = run("whitespace", schema, tmp_path)
    got = outcomes(result)
    assert got["w-date"] == ("kept", "Am Freitag")
    assert got["w-per1"] == ("repaired", "Scholz")
    assert got["w-per2"] == ("kept", "Putin")
    assert got["w-org"] == ("repaired", "Kreml")
    assert got["w-blank"] == ("rejected", "span holds only whitespace")
    assert got["w-bad"][0] == "rejected" and got["w-bad"][1].startswith("text mismatch: value.text 'Telefonat'")
    spans = {str(r.result_id): r for r in result.report.spans}
    assert spans["w-per1"].repairs == ["trimmed whitespace (1 leading, 1 trailing)"]
    (doc,) = docs_of(result)
    assert ents(doc) == [("Am Freitag", "DATE"), ("Scholz", "PER"), ("Putin", "PER"), ("Kreml", "ORG")]
    assert list(doc.spans["event_triggers"]) == [] and list(doc.spans["events"]) == []


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (
            "longest",
            {"o-gpe": "rejected", "o-org-long": "kept", "o-org": "rejected", "o2-gpe": "rejected", "o2-per": "kept"},
        ),
        (
            "first",
            {"o-gpe": "rejected", "o-org-long": "kept", "o-org": "rejected", "o2-gpe": "kept", "o2-per": "rejected"},
        ),
        (
            "reject",
            {
                "o-gpe": "rejected",
                "o-org-long": "rejected",
                "o-org": "rejected",
                "o2-gpe": "rejected",
                "o2-per": "rejected",
            },
        ),
    ],
)
def test_convert_overlapping_entities_by_policy(
    schema: Schema, tmp_path: Path, policy: str, expected: dict[str, str]
) -> None:
    result = run("overlapping_entities", schema, tmp_path, overlap=policy)
    got = outcomes(result)
    assert {rid: got[rid][0] for rid in expected} == expected
    for rid, outcome in expected.items():
        if outcome == "rejected":
            assert got[rid][1].startswith("overlapping entity:") and f"policy {policy}" in got[rid][1]
    # Exact repeats are rejected as duplicates whatever the policy; events may overlap entities.
    assert got["o-role"] == ("kept", "Generalstabschefs")
    assert got["o-role-dupe"] == ("rejected", "duplicate: same span and label as result o-role")
    assert got["o-ev-over"] == ("kept", "Verteidigungsministerium in Moskau")
    for doc in docs_of(result):
        starts = sorted((e.start, e.end) for e in doc.ents)
        assert all(a[1] <= b[0] for a, b in zip(starts, starts[1:], strict=False))


@pytest.mark.parametrize(
    ("mode", "org", "gpe"),
    [
        ("expand", ("repaired", "Nato-Generalsekretär"), ("repaired", "Kiew")),
        (
            "contract",
            ("rejected", "no whole token inside it (snap mode contract): 'Nato'"),
            ("rejected", "no whole token inside it (snap mode contract): 'Kie'"),
        ),
        (
            "strict",
            ("rejected", "not on token boundaries (snap mode strict): 'Nato'"),
            ("rejected", "not on token boundaries (snap mode strict): 'Kie'"),
        ),
    ],
)
def test_convert_span_inside_token_by_snap_mode(
    schema: Schema, tmp_path: Path, mode: str, org: tuple[str, str], gpe: tuple[str, str]
) -> None:
    result = run("inside_token", schema, tmp_path, snap_mode=mode)
    got = outcomes(result)
    assert got["i-org"] == org and got["i-gpe"] == gpe
    assert got["i-per"] == ("kept", "Rutte") and got["i-ev"] == ("kept", "besuchte")
    if mode == "expand":
        spans = {str(r.result_id): r for r in result.report.spans}
        assert spans["i-org"].repairs == ["snapped to token boundaries (expand): 'Nato' → 'Nato-Generalsekretär'"]


def test_convert_unknown_labels_rejected_with_their_relations(schema: Schema, tmp_path: Path) -> None:
    result = run("unknown_labels", schema, tmp_path)
    got = outcomes(result)
    assert got["u-person"] == ("rejected", "unknown label: 'PERSON' is not in the schema")
    assert got["u-city"] == ("rejected", "unknown label: 'CITY' is not in the schema")
    assert got["u-ev-old"] == ("rejected", "unknown label: 'SUMMIT' is not in the schema")
    assert got["u-choice"] == ("rejected", "unsupported result: type 'choices' without labels")
    assert got["u-org"] == ("kept", "EU") and got["u-ev"] == ("kept", "lud")
    rels = [(r.from_id, r.to_id, r.outcome) for r in result.report.relations]
    assert rels == [("u-ev", "u-org", "kept"), ("u-ev", "u-person", "rejected")]
    assert result.report.relations[1].reason.startswith("rejected end: region u-person was rejected (unknown label")
    (doc,) = docs_of(result)
    assert ents(doc) == [("EU", "ORG")]
    assert _rels(doc) == [
        {"event": [7, 10], "event_label": "MEET_INTENT", "arg": [4, 6], "arg_label": "ORG", "role": "initiator"}
    ]


def _rels(doc: Doc) -> list[dict[str, Any]]:
    # msgpack in the DocBin may read lists back as tuples
    return [{**r, "event": list(r["event"]), "arg": list(r["arg"])} for r in doc.user_data["relations"]]


def test_convert_relations_normalised_and_rejections_reported(schema: Schema, tmp_path: Path) -> None:
    result = run("relations", schema, tmp_path)
    (doc,) = docs_of(result)
    text = doc.text
    call, meet = (
        [text.index("telefonierte"), text.index("telefonierte") + 12],
        [text.index("Treffen"), text.index("Treffen") + 7],
    )
    assert _rels(doc) == [
        {"event": call, "event_label": "CONSULT_PHONE", "arg": [25, 30], "arg_label": "PER", "role": "participant"},
        {"event": call, "event_label": "CONSULT_PHONE", "arg": [35, 42], "arg_label": "PER", "role": "participant"},
        {"event": call, "event_label": "CONSULT_PHONE", "arg": [3, 11], "arg_label": "DATE", "role": "time"},
        {"event": meet, "event_label": "MEET_INTENT", "arg": [73, 81], "arg_label": "GPE", "role": "location"},
    ]
    assert text[25:30] == "Putin" and text[35:42] == "Erdoğan" and text[73:81] == "Istanbul"
    records = [
        (r.from_id, r.to_id, r.role, r.outcome, r.reason and r.reason.split(":")[0]) for r in result.report.relations
    ]
    assert records == [
        ("r-call", "r-putin", "participant", "kept", None),
        ("r-erdogan", "r-call", "participant", "repaired", None),
        ("r-date", "r-call", "time", "kept", None),
        ("r-meet", "r-ist", "location", "kept", None),
        ("r-putin", "r-erdogan", "participant", "rejected", "not event → entity"),
        ("r-meet2", "r-role", "participant", "rejected", "rejected end"),
        ("r-meet", "r-putin", "sponsor", "rejected", "unknown role"),
        ("r-meet", "r-erdogan", None, "rejected", "relation without a role label"),
        ("r-meet", "r-gone", "participant", "rejected", "missing end"),
    ]
    assert result.report.relations[1].repairs == ["direction normalised: drawn entity → event"]
    # Sentence-level event gold: one span per (sentence, label), two MEET_INTENT triggers in one sentence count once.
    assert [(s.text, s.label_) for s in doc.spans["events"]] == [
        ("Am Dienstag telefonierte Putin mit Erdoğan über die Lage.", "CONSULT_PHONE"),
        ("Ein Treffen in Istanbul ist geplant.", "MEET_INTENT"),
        ("Die Präsidenten wollen sich treffen.", "MEET_INTENT"),
    ]
    assert len(doc.spans["event_triggers"]) == 4
    assert doc.user_data["meta"] == {
        "article_id": "a0011", "task_id": 11, "annotation_id": 111, "annotator": "1",
        "cluster": "a0011", "published": "2025-03-01", "title": "Treffen", "source": "golden",
    }  # fmt: skip


def test_convert_duplicate_event_triggers_kept_once(schema: Schema) -> None:
    # One trigger labelled twice with the same event label: one event span, the repeat rejected and listed,
    # and the repeat's relation reattached to the kept trigger only if it is not itself a duplicate.
    from treffpunkt.annotation.convert.docs import convert_tasks

    text = "Stoltenberg telefonierte am Freitag mit Gerassimow."
    call = text.index("telefonierte")

    def region(rid: str, tag: str, start: int, end: int, label: str) -> dict[str, Any]:
        value = {"start": start, "end": end, "text": text[start:end], "labels": [label]}
        return {"id": rid, "from_name": tag, "to_name": "text", "type": "labels", "value": value}

    result = [
        region("ev1", "events", call, call + 12, "CONSULT_PHONE"),
        region("ev2", "events", call, call + 12, "CONSULT_PHONE"),
        region("ev3", "events", call, call + 12, "MEET_INTENT"),  # same words, other label: a second event
        region("per", "entities", 0, 11, "PER"),
        {"from_id": "ev1", "to_id": "per", "type": "relation", "direction": "right", "labels": ["participant"]},
    ]
    task = {
        "id": 1,
        "data": {"text": text, "article_id": "a"},
        "annotations": [{"id": 1, "completed_by": 1, "result": result}],
    }
    report, docs = convert_tasks([task], schema=schema, opts=load_convert_options())
    ((_, doc),) = docs
    triggers = sorted((s.start_char, s.end_char, s.label_) for s in doc.spans["event_triggers"])
    assert triggers == [(call, call + 12, "CONSULT_PHONE"), (call, call + 12, "MEET_INTENT")]
    outcome = {r.result_id: (r.outcome, r.reason) for r in report.spans}
    assert outcome["ev2"] == ("rejected", "duplicate: same span and label as result ev1")
    assert outcome["ev1"][0] == "kept" and outcome["ev3"][0] == "kept"
    assert [r["role"] for r in doc.user_data["relations"]] == ["participant"]


def test_convert_cancelled_annotations_skipped_and_tasks_listed(schema: Schema, tmp_path: Path) -> None:
    result = run("cancelled", schema, tmp_path)
    skipped = [(t.task_id, t.reason) for t in result.report.skipped_tasks]
    assert skipped == [(7, "all 1 annotations cancelled"), (9, "no annotations")]
    statuses = {(a.task_id, a.annotation_id): a.status for a in result.report.annotations}
    assert statuses == {(7, 71): "cancelled", (8, 82): "cancelled", (8, 81): "chosen"}
    (doc,) = docs_of(result)
    assert doc.user_data["meta"]["annotation_id"] == 81
    assert ents(doc) == [("Baerbock", "PER"), ("Peking", "GPE")]
    assert result.report.summary()["tasks_without_usable_annotation"] == 2


def test_convert_latest_annotation_chosen(schema: Schema, tmp_path: Path) -> None:
    result = run("multiple_annotators", schema, tmp_path)
    (doc,) = docs_of(result)
    assert doc.user_data["meta"]["annotation_id"] == 102
    assert doc.user_data["meta"]["annotator"] == "anna@example.org"  # completed_by expanded to an object
    assert ents(doc) == [("Biden", "PER"), ("Scholz", "PER"), ("Weißen Haus", "LOC")]
    superseded = sorted(a.annotation_id for a in result.report.annotations if a.status == "superseded")
    assert superseded == [101, 103]
    # Spans of superseded annotations are not converted, so not in the span report either.
    assert {str(r.result_id)[:2] for r in result.report.spans} == {"m2"}


def test_convert_all_annotators_one_doc_each(schema: Schema, tmp_path: Path) -> None:
    result = run("multiple_annotators", schema, tmp_path, all_annotators=True)
    docs = docs_of(result)
    assert [d.user_data["meta"]["annotator"] for d in docs] == ["1", "3", "anna@example.org"]  # by time
    assert [ents(d) for d in docs] == [
        [("Biden", "PER"), ("Scholz", "PER")],
        [("Biden", "ORG")],
        [("Biden", "PER"), ("Scholz", "PER"), ("Weißen Haus", "LOC")],
    ]
    assert result.manifest["all_annotators"] is True
    assert {a.status for a in result.report.annotations} == {"chosen"}


def test_convert_ground_truth_wins_over_newer(schema: Schema, tmp_path: Path) -> None:
    result = run("ground_truth", schema, tmp_path)
    (doc,) = docs_of(result)
    assert doc.user_data["meta"]["annotation_id"] == 121
    assert ents(doc) == [("Lawrow", "PER"), ("Wang Yi", "PER"), ("Peking", "GPE")]
    assert [(a.annotation_id, a.status, a.rule) for a in result.report.annotations] == [
        (121, "chosen", "ground truth"),
        (122, "superseded", "ground truth"),
    ]


@pytest.mark.parametrize("case", CASES)
def test_convert_every_span_accounted_for(schema: Schema, tmp_path: Path, case: str) -> None:
    result = run(case, schema, tmp_path)
    tasks = json.loads((DATA / case / "export.json").read_text(encoding="utf-8"))
    chosen = {(a.task_id, a.annotation_id) for a in result.report.annotations if a.status == "chosen"}
    expected = sum(
        max(1, len((item.get("value") or {}).get("labels") or []))
        for task in tasks for ann in task["annotations"] if (task["id"], ann["id"]) in chosen
        for item in ann["result"] if item["type"] != "relation"
    )  # fmt: skip
    assert len(result.report.spans) == expected
    for r in result.report.spans:
        assert r.task_id is not None and r.annotation_id is not None and r.outcome in {"kept", "repaired", "rejected"}
        if r.outcome == "rejected":
            assert r.reason and r.final_start is None
        else:
            assert r.final_text is not None and r.reason is None
        if r.outcome == "repaired":
            assert r.repairs
    saved = json.loads(result.report_path.read_text(encoding="utf-8"))
    assert len(saved["spans"]) == len(result.report.spans)
    assert saved["summary"]["spans"] == dict(result.report.outcome_counts("spans"))


# --------------------------------------------------------------------------- offsets


@pytest.mark.parametrize(
    ("text", "start", "end", "shown", "repair"),
    [
        ("a 😀 Baku", 5, 9, "Baku", UTF16),  # UTF-16: the emoji counts twice
        ("a 😀 Baku", 4, 8, "Baku", None),  # code points: already right
        ("x\r\ny Baku", 4, 8, "Baku", CRLF),  # the browser counts CRLF as one character
        ("😀\r\n😀 Baku", 6, 10, "Baku", UTF16_CRLF),
    ],
)
def test_offsets_coordinate_systems(text: str, start: int, end: int, shown: str, repair: str | None) -> None:
    found = locate(OffsetIndex(text), start, end, shown)
    assert found.reason is None
    assert text[found.start : found.end] == shown
    assert found.repairs == ([repair] if repair else [])


def test_offsets_rejects_bad_values() -> None:
    index = OffsetIndex("Putin traf Xi.")
    assert locate(index, "3", 5, "x").reason.startswith("offsets are not integers")
    assert locate(index, 5, 5, "").reason.startswith("empty or negative span")
    assert locate(index, 11, 40, "Xi").reason.startswith("text mismatch")
    unverified = locate(index, 0, 5, None)
    assert (unverified.start, unverified.end, unverified.verified) == (0, 5, False)


# --------------------------------------------------------------------------- splits, manifest, files


def synthetic_export(path: Path, clusters: dict[str, int]) -> Path:
    tasks, tid = [], 0
    for cluster, size in clusters.items():
        for _ in range(size):
            tid += 1
            text = f"Merz traf Macron in Paris, Bericht {tid}."
            result = [{"id": f"s{tid}", "from_name": "entities", "to_name": "text", "type": "labels",
                       "value": {"start": 0, "end": 4, "text": "Merz", "labels": ["PER"]}}]  # fmt: skip
            ann = {"id": 1000 + tid, "completed_by": 1, "result": result, "was_cancelled": False, "ground_truth": False,
                   "created_at": "2025-03-01T10:00:00Z", "updated_at": "2025-03-01T10:00:00Z"}  # fmt: skip
            tasks.append(
                {"id": tid, "data": {"text": text, "article_id": f"art{tid}", "cluster": cluster}, "annotations": [ann]}
            )
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return path


def test_convert_split_keeps_clusters_together(schema: Schema, tmp_path: Path) -> None:
    sizes = {f"c{i:02d}": 1 + (i * 7) % 5 for i in range(20)}
    export = synthetic_export(tmp_path / "many.json", sizes)
    first = convert_export(export, schema=schema, out_dir=tmp_path / "a", seed=1)
    again = convert_export(export, schema=schema, out_dir=tmp_path / "b", seed=1)
    other = convert_export(export, schema=schema, out_dir=tmp_path / "c", seed=2)

    def where(result: ConvertResult) -> dict[str, set[str]]:
        vocab = spacy.blank("de").vocab
        out: dict[str, set[str]] = {}
        for name, path in result.files.items():
            for doc in DocBin().from_disk(path).get_docs(vocab):
                out.setdefault(doc.user_data["meta"]["cluster"], set()).add(name)
        return out

    placed = where(first)
    assert all(len(splits) == 1 for splits in placed.values())  # no cluster straddles splits
    assert set(placed) == set(sizes)
    assert placed == where(again) and first.manifest["docbin_sha256"] == again.manifest["docbin_sha256"]
    assert placed != where(other)
    assert sum(first.counts.values()) == sum(sizes.values())
    assert all(first.counts[name] > 0 for name in ("train", "dev", "test"))
    assert first.counts["train"] > first.counts["dev"] and first.counts["train"] > first.counts["test"]


def test_convert_few_clusters_keep_train_and_name_empty_splits(schema: Schema, tmp_path: Path) -> None:
    export = synthetic_export(tmp_path / "one.json", {"only": 3})
    result = convert_export(export, schema=schema, out_dir=tmp_path / "one")
    assert result.counts == {"train": 3, "dev": 0, "test": 0}
    assert result.report.empty_splits == ["dev", "test"]
    assert len(list(DocBin().from_disk(result.files["dev"]).get_docs(spacy.blank("de").vocab))) == 0


def test_convert_manifest_and_default_folder(schema: Schema, tmp_path: Path) -> None:
    export = tmp_path / "20250301T101500Z_demo.json"
    shutil.copy(DATA / "relations" / "export.json", export)
    result = convert_export(export, schema=schema)
    assert result.out_dir == tmp_path / "20250301T101500Z_demo"
    assert sorted(p.name for p in result.out_dir.iterdir()) == [
        "dev.spacy",
        "manifest.json",
        "report.json",
        "test.spacy",
        "train.spacy",
    ]
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    from treffpunkt.core.io import sha256_file

    assert manifest["export_sha256"] == sha256_file(export)
    assert manifest["schema_hash"] == schema.hash
    assert manifest["seed"] == load_convert_options().seed
    assert manifest["counts"] == {"train": 1, "dev": 0, "test": 0}
    assert manifest["docbin_sha256"] == {
        name: sha256_file(result.out_dir / f"{name}.spacy") for name in ("train", "dev", "test")
    }


def test_convert_latest_converted(ws: Workspace, schema: Schema) -> None:
    with pytest.raises(InputError, match="No converted export"):
        latest_converted(ws)
    for stamp in ("20250301T100000Z_p", "20250302T100000Z_p"):
        shutil.copy(DATA / "ground_truth" / "export.json", ws.exports_dir / f"{stamp}.json")
        convert_export(ws.exports_dir / f"{stamp}.json", schema=schema)
    assert latest_converted(ws) == ws.exports_dir / "20250302T100000Z_p"


def test_convert_rejects_bad_input(schema: Schema, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        convert_export(tmp_path / "missing.json", schema=schema)
    bad = tmp_path / "bad.json"
    bad.write_text('{"tasks": []}', encoding="utf-8")
    with pytest.raises(InputError, match="not a Label Studio JSON export"):
        convert_export(bad, schema=schema)
    broken = tmp_path / "convert.yaml"
    broken.write_text(
        "split: {train: 0.9, dev: 0.2, test: 0.1}\nseed: 1\nsnap: expand\noverlap: longest\nconll: {sentences_per_doc: 5}\n"
    )
    with pytest.raises(ConfigError, match="sum to 1"):
        load_convert_options(broken)


# --------------------------------------------------------------------------- CLI


def test_cli_convert_smoke(ws: Workspace, tmp_path: Path) -> None:
    from treffpunkt.cli import app

    export = tmp_path / "export.json"
    shutil.copy(DATA / "unknown_labels" / "export.json", export)
    runner = CliRunner()
    result = runner.invoke(
        app, ["--home", str(ws.root), "annotate", "convert", str(export), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "unknown label" in result.output and "Report:" in result.output
    assert (tmp_path / "out" / "train.spacy").exists()
    missing = runner.invoke(app, ["--home", str(ws.root), "annotate", "convert", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1


def test_convert_keeps_frozen_splits_from_task_data(schema: Schema, tmp_path: Path) -> None:
    # A frozen split manifest travels in data.split: those tasks keep their split whatever the seed and ratios.
    text = "Anna Weber traf Bernd Roth in Wien."

    def task(i: int, split: str | None, cluster: str | None = None) -> dict[str, Any]:
        data = {
            "text": text,
            "article_id": f"a{i}",
            **({"split": split} if split else {}),
            **({"cluster": cluster} if cluster else {}),
        }
        value = {"start": 0, "end": 10, "text": "Anna Weber", "labels": ["PER"]}
        result = [{"id": f"r{i}", "from_name": "entities", "to_name": "text", "type": "labels", "value": value}]
        return {"id": i, "data": data, "annotations": [{"id": i, "completed_by": 1, "result": result}]}

    tasks = [task(i, "test" if i < 5 else "dev" if i < 8 else None) for i in range(20)]
    path = tmp_path / "frozen.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    for seed in (1, 2):
        res = convert_export(path, schema=schema, out_dir=tmp_path / f"out{seed}", seed=seed)
        test_ids = sorted(
            d.user_data["meta"]["article_id"]
            for d in DocBin().from_disk(res.files["test"]).get_docs(spacy.blank("de").vocab)
        )
        assert {f"a{i}" for i in range(5)} <= set(test_ids)
        assert res.manifest["frozen_split_groups"] == 8
    clash = [task(0, "test", "c"), task(1, "train", "c")]
    path.write_text(json.dumps(clash), encoding="utf-8")
    with pytest.raises(InputError, match="different splits"):
        convert_export(path, schema=schema, out_dir=tmp_path / "clash")
