"""compare: hand-checked deltas and bootstrap intervals on constructed docs, the overlap refusal, the CLI."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin, Span

from treffpunkt.training.evaluation.compare import MICRO, TrainingOverlap, compare_docs, overlapping_docs
from treffpunkt.training.evaluation.evaluate import score_docs
from treffpunkt.training.pipeline.roles import RolePair, score_roles

TEXT = "Anna traf Bernd in Berlin. Carl rief Dora an."


@pytest.fixture
def nlp():
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    return nlp


def _doc(nlp, ents, events=((), ()), article="a"):
    """ents: (surface, label); events: labels per sentence."""
    doc = nlp(TEXT)
    doc.ents = [doc.char_span(TEXT.index(s), TEXT.index(s) + len(s), label=lab) for s, lab in ents]
    doc.spans["events"] = [
        Span(doc, s.start, s.end, label=lab) for s, labs in zip(doc.sents, events, strict=False) for lab in labs
    ]
    doc.user_data["meta"] = {"article_id": article}
    return doc


GOLD_ENTS = [("Anna", "PER"), ("Bernd", "PER"), ("Berlin", "GPE")]


def _twenty(nlp):
    """20 gold docs; v1 finds everything; v2 misses all entities in docs 10-19 (and invents none)."""
    gold = [_doc(nlp, GOLD_ENTS, (["VISIT"], ["PHONE"]), article=f"a{i}") for i in range(20)]
    v1 = [_doc(nlp, GOLD_ENTS, (["VISIT"], ["PHONE"])) for _ in range(20)]
    v2 = [_doc(nlp, GOLD_ENTS if i < 10 else [], (["VISIT"], ["PHONE"])) for i in range(20)]
    return gold, v1, v2


def test_compare_deltas_hand_computed(nlp):
    gold, v1, v2 = _twenty(nlp)
    c = compare_docs(gold, {"v1": v1, "v2": v2}, n_boot=500, seed=1)
    # v2 entities: tp 30, fp 0, fn 30 -> P 1, R 0.5, F 2/3; PER: tp 20 fn 20 -> 2/3; GPE: tp 10 fn 10 -> 2/3
    micro = c.row("ents", MICRO)
    assert micro.support == 60
    assert micro.scores["v1"]["f"] == pytest.approx(1.0)
    assert micro.scores["v2"]["p"] == pytest.approx(1.0)
    assert micro.scores["v2"]["r"] == pytest.approx(0.5)
    assert micro.scores["v2"]["f"] == pytest.approx(2 / 3)
    assert (micro.scores["v2"]["tp"], micro.scores["v2"]["fp"], micro.scores["v2"]["fn"]) == (30, 0, 30)
    d = micro.deltas["v2"]
    assert d["delta"] == pytest.approx(-1 / 3)
    # the true delta lies inside the paired interval, which excludes 0: all 2^-20 resamples would need docs 0-9 only
    assert d["low"] <= -1 / 3 <= d["high"]
    assert d["high"] < 0 and d["significant"]
    assert c.row("ents", "PER").deltas["v2"]["delta"] == pytest.approx(-1 / 3)
    # events are identical in both versions: delta exactly 0 in every resample, not significant
    ev = c.row("events", MICRO).deltas["v2"]
    assert (ev["delta"], ev["low"], ev["high"], ev["significant"]) == (0.0, 0.0, 0.0, False)
    # v1 is perfect in every resample, so its own F1 interval is the point 1.0
    assert (micro.scores["v1"]["f_low"], micro.scores["v1"]["f_high"]) == (1.0, 1.0)


def test_compare_bootstrap_is_paired(nlp):
    # Both versions vary a lot from doc to doc, but v2 = v1 plus 5 more docs right. Resampling the *same* docs for
    # both (paired) gives a delta >= 0 in every resample and > 0 unless none of the 5 docs is drawn (p = (25/30)^30
    # < 0.5 %): significant. Resampling each version on its own docs (unpaired) would swamp the +0.13 with the
    # doc-to-doc spread of either score (sd about 0.08 each) and the interval would include 0.
    gold = [_doc(nlp, GOLD_ENTS, article=f"a{i}") for i in range(30)]
    v1 = [_doc(nlp, GOLD_ENTS if i < 15 else []) for i in range(30)]
    v2 = [_doc(nlp, GOLD_ENTS if i < 20 else []) for i in range(30)]
    c = compare_docs(gold, {"v1": v1, "v2": v2}, n_boot=2000, seed=3)
    row = c.row("ents", MICRO)
    d = row.deltas["v2"]
    assert d["delta"] == pytest.approx(0.8 - 2 / 3)
    assert d["low"] > 0 and d["significant"]
    # each version's own interval is wide (the docs differ a lot), much wider than the paired delta's lower margin
    assert row.scores["v1"]["f_high"] - row.scores["v1"]["f_low"] > 0.2
    assert d["delta"] - d["low"] < row.scores["v1"]["f_high"] - row.scores["v1"]["f_low"]


def test_compare_small_sample_not_significant(nlp):
    # 4 docs, v2 misses docs 2 and 3: a resample of only docs 0 and 1 (prob 1/16 > 2.5 %) has delta 0
    gold = [_doc(nlp, GOLD_ENTS, article=f"a{i}") for i in range(4)]
    v2 = [_doc(nlp, GOLD_ENTS if i < 2 else []) for i in range(4)]
    d = compare_docs(gold, {"v1": gold, "v2": v2}, n_boot=2000, seed=0).row("ents", MICRO).deltas["v2"]
    assert d["delta"] == pytest.approx(-1 / 3)
    assert d["high"] == pytest.approx(0.0) and not d["significant"]
    assert d["low"] <= -1 / 3


def test_compare_identical_versions_zero_delta(nlp):
    gold, v1, _ = _twenty(nlp)
    pred = [_doc(nlp, [("Anna", "PER"), ("Berlin", "ORG")], (["VISIT"], [])) for _ in range(20)]
    c = compare_docs(gold, {"a": pred, "b": list(pred)}, n_boot=300)
    for row in c.rows:
        assert row.deltas["b"] == {"delta": 0.0, "low": 0.0, "high": 0.0, "significant": False}
    # and a non-trivial F1 with a real interval: 1 tp, 1 fp, 2 fn per doc -> F = 2/5
    assert c.row("ents", MICRO).scores["a"]["f"] == pytest.approx(0.4)


def test_compare_point_estimates_equal_score_docs(nlp):
    gold = [
        _doc(nlp, GOLD_ENTS + [("Dora", "PER")], (["VISIT"], ["PHONE", "REJECT"]), article=f"a{i}") for i in range(3)
    ]
    preds = [
        _doc(nlp, [("Anna", "PER"), ("Bernd", "ORG"), ("Berlin", "GPE")], (["VISIT"], ["VISIT"])),
        _doc(nlp, [("Anna", "PER")], ([], ["PHONE"])),
        _doc(nlp, GOLD_ENTS, (["VISIT"], ["PHONE"])),
    ]
    c = compare_docs(gold, {"v": preds}, n_boot=50)
    ref = score_docs(gold, preds)
    for layer in ("ents", "events"):
        assert c.row(layer, MICRO).scores["v"]["f"] == pytest.approx(ref[f"{layer}_f"])
        for label, vals in ref[f"{layer}_per_type"].items():
            row = c.row(layer, label)
            assert row.scores["v"]["f"] == pytest.approx(vals["f"]) and row.support == vals["support"]
    assert c.confusion["v"] == ref["events_confusion"]


def test_compare_roles_match_score_roles(nlp):
    gold = _doc(nlp, GOLD_ENTS, (["VISIT"], []))
    t = TEXT.index("traf")
    gold.user_data["relations"] = [
        {"event": [t, t + 4], "event_label": "VISIT", "arg": [0, 4], "arg_label": "PER", "role": "visitor"},
        {"event": [t, t + 4], "event_label": "VISIT", "arg": [10, 15], "arg_label": "PER", "role": "host"},
    ]
    sent = next(gold.sents)
    pred = [
        RolePair("VISIT", sent.start_char, sent.end_char, 0, 4, "PER", "visitor"),
        RolePair("VISIT", sent.start_char, sent.end_char, 19, 25, "GPE", "host"),
    ]
    c = compare_docs([gold], {"v": [gold]}, roles={"v": [pred]}, n_boot=20)
    ref = score_roles([gold], [pred])
    assert c.row("roles", MICRO).scores["v"]["f"] == pytest.approx(ref["micro"]["f"]) == pytest.approx(0.5)
    host = c.errors["v"]["roles"]["host"]
    assert [r["text"] for r in host["fp"]] == ["Berlin"] and [r["text"] for r in host["fn"]] == ["Bernd"]


def test_compare_lists_false_positives_and_negatives(nlp):
    gold = [_doc(nlp, GOLD_ENTS, article="art-7")]
    pred = [_doc(nlp, [("Anna", "PER"), ("Bernd", "ORG")])]
    c = compare_docs(gold, {"v": pred}, n_boot=10)
    ents = c.errors["v"]["ents"]
    assert ents["ORG"]["fp"] == [{"doc": "art-7", "start": 10, "end": 15, "text": "Bernd"}]
    assert ents["PER"]["fn"] == [{"doc": "art-7", "start": 10, "end": 15, "text": "Bernd"}]
    assert ents["GPE"]["fn"][0]["text"] == "Berlin"


def test_compare_disagreements_are_sentences_where_versions_differ(nlp):
    gold = [_doc(nlp, GOLD_ENTS, (["VISIT"], ["PHONE"]))]
    a = [_doc(nlp, GOLD_ENTS, (["VISIT"], []))]
    b = [_doc(nlp, GOLD_ENTS, (["VISIT"], ["PHONE"]))]
    c = compare_docs(gold, {"a": a, "b": b}, n_boot=10)
    assert c.n_disagreements == 1
    ex = c.disagreements[0]
    assert ex["text"] == "Carl rief Dora an."
    assert (
        ex["views"]["a"]["events"] == []
        and ex["views"]["b"]["events"] == ["PHONE"]
        and ex["views"]["gold"]["events"] == ["PHONE"]
    )


def test_compare_overlap_by_article_id_or_text(nlp):
    gold = [_doc(nlp, [], article="x1"), _doc(nlp, [], article="x2")]
    other = nlp("Ein ganz anderer Text.")
    other.user_data["meta"] = {"article_id": "x2"}
    same_text = _doc(nlp, [], article=None)
    assert overlapping_docs(gold, [other]) == ["x2"]
    assert overlapping_docs(gold, [same_text]) == ["x1", "x2"]  # both gold docs have that text
    assert overlapping_docs(gold[:1], [nlp("Nichts gemein.")]) == []


# --------------------------------------------------------------------------- with trained versions
@pytest.fixture(scope="module")
def fresh_data(tmp_path_factory, training_data) -> Path:
    """The conftest data with a test split of texts no training doc has (its own test docs repeat training texts)."""
    from tests.conftest import _TRAIN_SENTENCES, make_training_doc

    folder = tmp_path_factory.mktemp("fresh") / "20250102T000000Z_fresh"
    shutil.copytree(training_data, folder)
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    backwards = list(reversed(_TRAIN_SENTENCES))
    docs = [make_training_doc(nlp, backwards[k:] + backwards[:k], 100 + k) for k in range(3)]
    DocBin(docs=docs, store_user_data=True).to_disk(folder / "test.spacy")
    return folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory, fresh_data):
    """Two fast versions trained on the data (different seeds) in one workspace."""
    from treffpunkt.core.workspace import init_workspace
    from treffpunkt.training.train.trainer import train

    ws = init_workspace(tmp_path_factory.mktemp("cmp") / "ws")
    overrides = {"training.max_steps": 30, "training.eval_frequency": 10}
    a = train(
        ws, config="fast", data=fresh_data, name="m", seed=0, overrides=overrides, track=False, stdout=io.StringIO()
    )
    b = train(
        ws, config="fast", data=fresh_data, name="m", seed=1, overrides=overrides, track=False, stdout=io.StringIO()
    )
    return ws, a.version, b.version


@pytest.mark.slow
def test_compare_versions_on_test_split(trained, fresh_data, tmp_path, monkeypatch):
    from treffpunkt.training.evaluation.compare import compare, log_comparison
    from treffpunkt.training.evaluation.report import write_report

    monkeypatch.setenv("WANDB_MODE", "offline")
    ws, a, b = trained
    result = compare(ws, [a, b], data=fresh_data, n_boot=200, out=tmp_path / "rep" / "compare.json", track=False)
    result.report = write_report(result, tmp_path / "rep")
    result.wandb_path = log_comparison(ws, result)
    assert result.versions == [a, b] and result.comparison.n_docs == 3
    assert not result.overlap
    assert any("Only 3 gold docs" in w for w in result.warnings)
    for v in (a, b):
        assert result.comparison.row("ents", MICRO).scores[v]["f"] == pytest.approx(result.scores[v]["ents_f"])
    saved = json.loads(result.json_path.read_text(encoding="utf-8"))
    assert saved["versions"] == [a, b] and saved["rows"]
    assert result.report is not None and result.report.html.exists()
    # offline wandb run: the comparison table among its media, the HTML report recorded as an artifact
    run_dir = Path(result.wandb_path)
    assert list(run_dir.glob("files/media/table/comparison_*.table.json"))
    table = json.loads(next(run_dir.glob("files/media/table/comparison_*.table.json")).read_text(encoding="utf-8"))
    assert table["columns"][:4] == ["layer", "label", "support", "version"] and len(table["data"]) == 2 * len(
        result.comparison.rows
    )
    assert b"report.html" in next(run_dir.glob("run-*.wandb")).read_bytes()
    # per-sentence predictions, the versions side by side: a local file and a table in the run
    rows = [json.loads(line) for line in result.predictions_path.read_text(encoding="utf-8").splitlines()]
    n_sentences = sum(
        len(list(d.sents)) for d in DocBin().from_disk(fresh_data / "test.spacy").get_docs(spacy.blank("de").vocab)
    )
    assert len(rows) == n_sentences and {f"{a}_events", f"{b}_entities", "gold_events", "text"} <= set(rows[0])
    assert saved["predictions"] == str(result.predictions_path)
    table = json.loads(next(run_dir.glob("files/media/table/test/predictions_*.table.json")).read_text())
    assert len(table["data"]) == n_sentences and f"{b}_events_ok" in table["columns"]


@pytest.mark.slow
def test_evaluate_logs_prediction_table(trained, fresh_data, monkeypatch):
    from tests.conftest import wandb_records, wandb_summary
    from treffpunkt.training.evaluation.evaluate import evaluate

    monkeypatch.setenv("WANDB_MODE", "offline")
    ws, a, _ = trained
    result = evaluate(ws, a, data=fresh_data, split="test")
    rows = [json.loads(line) for line in result.predictions_path.read_text(encoding="utf-8").splitlines()]
    gold = list(DocBin().from_disk(fresh_data / "test.spacy").get_docs(spacy.blank("de").vocab))
    assert len(rows) == sum(len(list(d.sents)) for d in gold)
    assert {r["gold_events"] for r in rows} >= {"CONSULT_PHONE"} and all(r["text"] for r in rows)
    run_dir = Path(result.wandb_path)
    table = json.loads(next(run_dir.glob("files/media/table/test/predictions_*.table.json")).read_text())
    assert table["columns"][:4] == ["doc", "sentence", "text", "gold_events"] and len(table["data"]) == len(rows)
    summary = wandb_summary(wandb_records(next(run_dir.glob("run-*.wandb"))))
    assert summary["test/ents_f"] == pytest.approx(result.scores["ents_f"])


@pytest.mark.slow
def test_compare_refuses_overlap(trained, fresh_data, tmp_path, monkeypatch):
    from treffpunkt.training.evaluation.compare import compare

    monkeypatch.setenv("WANDB_MODE", "disabled")
    ws, a, b = trained
    with pytest.raises(TrainingOverlap) as err:
        compare(ws, [a, b], data=fresh_data, split="train", n_boot=10)
    assert "12 of the 12 gold docs" in err.value.message and "--allow-overlap" in err.value.hint
    loud = compare(ws, [a, b], data=fresh_data, split="dev", n_boot=10, allow_overlap=True)
    assert set(loud.overlap) == {a, b} and len(loud.overlap[a]) == 3
    assert any("optimistic" in w for w in loud.warnings)
    # a new export whose test split holds one training article (same id, edited text) and one training text
    # (under a new id) is caught twice
    folder = tmp_path / "new"
    folder.mkdir()
    vocab = spacy.blank("de").vocab
    train_docs = list(DocBin().from_disk(fresh_data / "train.spacy").get_docs(vocab))
    test_docs = list(DocBin().from_disk(fresh_data / "test.spacy").get_docs(vocab))
    test_docs[0].user_data["meta"] = {**test_docs[0].user_data["meta"], "article_id": "a4"}
    train_docs[5].user_data["meta"] = {**train_docs[5].user_data["meta"], "article_id": "renamed"}
    DocBin(docs=[*test_docs, train_docs[5]], store_user_data=True).to_disk(folder / "test.spacy")
    with pytest.raises(TrainingOverlap, match=r"2 of the 4 gold docs \(a4, renamed\)"):
        compare(ws, [a], data=folder, n_boot=10)


@pytest.mark.slow
def test_compare_refuses_when_training_data_changed(trained, fresh_data, tmp_path, monkeypatch):
    from treffpunkt.core.versions import read_meta, resolve
    from treffpunkt.training.evaluation.compare import compare

    monkeypatch.setenv("WANDB_MODE", "disabled")
    ws, a, _ = trained
    moved = tmp_path / "copy"
    shutil.copytree(resolve(ws, a), moved)
    meta = read_meta(moved)
    meta["treffpunkt"]["data"]["folder"] = str(tmp_path / "gone")
    (moved / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(TrainingOverlap, match="no longer exists"):
        compare(ws, [moved], data=fresh_data, n_boot=10)


@pytest.mark.slow
def test_compare_cli_smoke(trained, fresh_data, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from treffpunkt.cli import app

    monkeypatch.setenv("WANDB_MODE", "disabled")
    ws, a, b = trained
    out = tmp_path / "report"
    run = CliRunner().invoke(
        app,
        ["--home", str(ws.root), "compare", a, b, "--data", str(fresh_data), "--n-boot", "50", "--report", str(out)],
    )
    assert run.exit_code == 0, run.output
    assert "entities" in run.output and f"ΔF {b}" in run.output
    assert (out / "report.html").exists() and (out / "compare.json").exists()
    refused = CliRunner().invoke(
        app, ["--home", str(ws.root), "compare", a, "--data", str(fresh_data), "--split", "train"]
    )
    assert refused.exit_code == 1 and "--allow-overlap" in refused.output and "Traceback" not in refused.output


def test_compare_disagreement_view_trims_paragraph_breaks(nlp):
    text = "Anna traf Bernd.\n\nCarl rief Dora an."
    docs = []
    for labels in (["PHONE"], []):
        doc = nlp(text)
        second = list(doc.sents)[1]
        assert second.text.startswith("\n\n")  # the sentencizer puts the break at the start of the next sentence
        doc.spans["events"] = [Span(doc, second.start, second.end, label=lab) for lab in labels]
        dora = text.index("Dora")
        doc.ents = [doc.char_span(dora, dora + 4, label="PER")]
        docs.append(doc)
    c = compare_docs([docs[0]], {"a": [docs[0]], "b": [docs[1]]}, n_boot=5)
    ex = c.disagreements[0]
    assert ex["text"] == "Carl rief Dora an." and ex["start"] == text.index("Carl")
    assert ex["views"]["gold"]["events"] == ["PHONE"] and ex["views"]["b"]["events"] == []
    assert ex["views"]["gold"]["ents"] == [[10, 14, "PER"]]  # relative to the trimmed sentence
