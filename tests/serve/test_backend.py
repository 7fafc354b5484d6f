"""The ML backend over real HTTP (uvicorn + a trained model), without Label Studio: protocol, faults, retrain queue."""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import spacy
from spacy.language import Language

from tests.serve.conftest import run_backend
from treffpunkt.annotation.labelstudio.predictions import certainty
from treffpunkt.core.schema import ENTITY_TAG, EVENT_TAG, TEXT_TAG, load_schema
from treffpunkt.serve.app import predict_tasks
from treffpunkt.serve.config import load_serve_config
from treffpunkt.serve.model import ModelSlot, ServedModel
from treffpunkt.serve.retrain import decide, read_jobs
from treffpunkt.training.evaluation.compare import compare_docs

TEXT = (
    "Der russische Generalstabschef Waleri Gerassimow telefonierte am Freitag mit Nato-General Petr Pavel. "
    "Die beiden Militärs sprachen über die Lage in der Ukraine. Das Gespräch dauerte eine Stunde."
)


def _tasks(*texts: str) -> list[dict]:
    return [{"id": i + 1, "data": {"text": t}} for i, t in enumerate(texts)]


def test_backend_speaks_label_studios_protocol(backend):
    version = backend.slot.current.version
    health = httpx.get(f"{backend.url}/health").json()
    assert health["status"] == "UP" and health["model_version"] == version
    setup = httpx.post(f"{backend.url}/setup", json={"project": "1.1700000000", "schema": "<View/>"}).json()
    assert setup == {"model_version": version}
    body = httpx.post(f"{backend.url}/predict", json={"tasks": _tasks(TEXT, TEXT[:60]), "project": "1.1"}).json()
    assert body["model_version"] == version and len(body["results"]) == 2
    # the regions are those of the loaded pipeline, computed directly; the task score is the queue's certainty
    direct = backend.slot.current.predict([TEXT, TEXT[:60]])
    assert body["results"] == direct
    doc = backend.slot.current.nlp(TEXT)
    assert body["results"][0].get("score") == certainty(doc)
    for region in body["results"][0]["result"]:
        assert region["type"] in ("labels", "relation")
        if region["type"] == "labels":
            assert region["from_name"] in (ENTITY_TAG, EVENT_TAG) and region["to_name"] == TEXT_TAG
            assert TEXT[region["value"]["start"] : region["value"]["end"]] == region["value"]["text"]
    assert version in httpx.get(f"{backend.url}/versions").json()["versions"]


def test_backend_sends_relations_from_the_versions_role_assigner(served_model):
    ws, version = served_model
    model = ServedModel.load(ws, version)
    # a pipeline that surely finds an event and two actors: the trained one plus known spans on top
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PER", "pattern": "Waleri Gerassimow"}, {"label": "PER", "pattern": "Petr Pavel"}])
    nlp.add_pipe("treffpunkt_test_phone_event")
    fixed = ServedModel(version, model.path, nlp, model.roles, model.schema)
    (prediction,) = fixed.predict([TEXT])
    relations = [r for r in prediction["result"] if r["type"] == "relation"]
    ids = {r["id"]: r for r in prediction["result"] if r["type"] == "labels"}
    assert relations, "the role assigner gave the phone call no actors"
    for rel in relations:
        assert ids[rel["from_id"]]["from_name"] == EVENT_TAG and ids[rel["to_id"]]["from_name"] == ENTITY_TAG
        assert rel["labels"][0] in load_schema(ws.schema_path).relation_labels


@Language.component("treffpunkt_test_phone_event")
def _phone_event(doc):
    """Marks the first sentence as a phone call (a known event for the relation test)."""
    from spacy.tokens import Span

    first = next(iter(doc.sents))
    doc.spans["events"] = [Span(doc, first.start, first.end, label="CONSULT_PHONE")]
    return doc


@Language.component("treffpunkt_test_fails_on_boom")
def _fails_on_boom(doc):
    if "BOOM" in doc.text:
        raise RuntimeError("this text breaks the model")
    return doc


def test_backend_a_failing_task_gets_an_error_and_the_others_their_prediction(served_model):
    ws, version = served_model
    model = ServedModel.load(ws, version)
    model.nlp.add_pipe("treffpunkt_test_fails_on_boom", first=True)
    tasks = [*_tasks(TEXT, "BOOM " + TEXT), {"id": 3, "data": {"text": 42}}, "not a task"]
    results = predict_tasks(model, tasks)
    assert len(results) == 4
    assert results[0] == model.predict([TEXT])[0]
    assert results[1]["result"] == [] and "RuntimeError" in results[1]["error"]
    assert "no data.text" in results[2]["error"] and "no data.text" in results[3]["error"]


def test_backend_requires_basic_auth_when_configured(served_model):
    ws, version = served_model
    running = run_backend(ws, version, auth=("annotator", "s3cret-pass"))
    try:
        assert httpx.get(f"{running.url}/health").status_code == 401
        assert httpx.get(f"{running.url}/health", auth=("annotator", "wrong")).status_code == 401
        assert httpx.post(f"{running.url}/predict", json={"tasks": []}).status_code == 401
        ok = httpx.get(f"{running.url}/health", auth=("annotator", "s3cret-pass"))
        assert ok.status_code == 200 and "s3cret" not in ok.text
    finally:
        running.stop()


def test_backend_malformed_requests_get_400_are_logged_and_it_keeps_serving(backend, caplog):
    caplog.set_level(logging.WARNING, logger="treffpunkt.serve")
    for body in (b"{not json", b"[1, 2]", json.dumps({"action": 7}).encode(), json.dumps({"no": "action"}).encode()):
        response = httpx.post(f"{backend.url}/webhook", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, body
    assert httpx.post(f"{backend.url}/predict", json={"tasks": "x"}).status_code == 400
    assert sum("malformed" in r.getMessage() for r in caplog.records) == 5
    assert httpx.get(f"{backend.url}/health").json()["status"] == "UP"
    ignored = httpx.post(f"{backend.url}/webhook", json={"action": "PROJECT_UPDATED"}).json()
    assert ignored == {"status": "ignored", "action": "PROJECT_UPDATED"}


def test_backend_answers_ten_concurrent_predict_calls(backend):
    texts = [f"{TEXT} Nummer {i}." for i in range(10)]

    def call(text: str) -> dict:
        response = httpx.post(f"{backend.url}/predict", json={"tasks": _tasks(text)}, timeout=60)
        assert response.status_code == 200
        return response.json()

    with ThreadPoolExecutor(10) as pool:
        bodies = list(pool.map(call, texts))
    assert [len(b["results"]) for b in bodies] == [1] * 10
    assert bodies == [{"results": backend.slot.current.predict([t]), "model_version": b["model_version"]}
                      for t, b in zip(texts, bodies, strict=True)]  # fmt: skip


def test_retrain_queue_debounces_and_a_failed_retrain_leaves_the_served_version(served_model, monkeypatch, tmp_path):
    ws, version = served_model
    # no Label Studio at this address: the retrain's pull fails, as with a server that went away
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "x" * 40)
    config = load_serve_config(ws).model_copy(
        update={"retrain": load_serve_config(ws).retrain.model_copy(update={"every": 3})}
    )
    running = run_backend(ws, version, config=config)
    try:
        answers = [httpx.post(f"{running.url}/webhook", json={"action": "ANNOTATION_CREATED"}).json() for _ in range(2)]
        assert [a["status"] for a in answers] == ["counted", "counted"]
        third = httpx.post(f"{running.url}/webhook", json={"action": "ANNOTATION_UPDATED"}).json()
        assert third["status"] == "queued" and third["job"] is not None
        began = time.monotonic()
        while (job := next(j for j in read_jobs(ws) if j.id == third["job"])).state in ("queued", "running"):
            assert time.monotonic() - began < 60, "the retrain did not finish"  # (read as saved on disk)
            time.sleep(0.1)
        assert job.state == "failed" and "Label Studio" in job.reason
        assert job.serving == version and job.candidate is None
        assert running.slot.current.version == version
        assert httpx.get(f"{running.url}/health").json()["model_version"] == version
    finally:
        running.stop()


def test_retrain_requests_while_one_waits_share_that_job(served_model):
    ws, version = served_model
    from treffpunkt.serve.retrain import Retrainer

    retrainer = Retrainer(ws, ModelSlot(ServedModel.load(ws, version)), load_serve_config(ws))  # worker not started
    first = retrainer.request("Start Training")
    again = retrainer.request("Start Training (webhook)")
    assert again is first and [j.state for j in retrainer.jobs].count("queued") == 1


def test_promotion_swaps_atomically_requests_in_flight_keep_their_version(served_model):
    ws, version = served_model
    old = ServedModel.load(ws, version)
    slot = ModelSlot(old)
    taken = slot.current  # what a request in flight holds
    new = ServedModel(f"{version}-next", old.path, old.nlp, old.roles, old.schema)
    assert slot.swap(new) is old
    assert taken.version == version and slot.current.version == f"{version}-next"
    assert predict_tasks(taken, _tasks(TEXT))[0]["model_version"] == version


@pytest.mark.parametrize(
    ("candidate_ents", "tolerance", "refuse_significant", "promote"),
    [
        ({("Waleri Gerassimow", "PER"), ("Petr Pavel", "PER")}, 0.0, True, True),  # better
        ({("Waleri Gerassimow", "PER")}, 0.0, True, True),  # equal
        (set(), 0.0, True, False),  # worse
        (set(), 1.0, False, True),  # worse, but within a tolerance of 1.0
        (set(), 1.0, True, False),  # within the tolerance, but the bootstrap says significantly worse
    ],
)
def test_promotion_policy_on_paired_comparisons(served_model, candidate_ents, tolerance, refuse_significant, promote):
    ws, _ = served_model
    nlp = spacy.blank("de")

    def doc(ents):
        d = nlp(TEXT)
        d.ents = [d.char_span(TEXT.index(t), TEXT.index(t) + len(t), label=lab) for t, lab in sorted(ents)]
        return d

    gold_ents = {("Waleri Gerassimow", "PER"), ("Petr Pavel", "PER")}
    gold = [doc(gold_ents) for _ in range(3)]
    serving = [doc({("Waleri Gerassimow", "PER")}) for _ in range(3)]
    candidate = [doc(candidate_ents) for _ in range(3)]
    comparison = compare_docs(gold, {"serving-001": serving, "serve-002": candidate}, n_boot=200)
    policy = load_serve_config(ws).promotion.model_copy(
        update={"metric": "ents", "tolerance": tolerance, "refuse_significantly_worse": refuse_significant}
    )
    decision = decide(comparison, policy)
    assert decision.promote is promote, decision.reason
    assert decision.scores["serving"] == pytest.approx(2 / 3, abs=1e-3)


def test_backend_credentials_are_created_once_and_private(tmp_path):
    import stat

    from treffpunkt.core.workspace import init_workspace
    from treffpunkt.serve.state import auth_path, ensure_auth, read_auth

    ws = init_workspace(tmp_path / "ws")
    first = ensure_auth(ws)
    assert ensure_auth(ws) == first == read_auth(ws) and len(first[1]) >= 24
    assert stat.S_IMODE(auth_path(ws).stat().st_mode) == 0o600


def test_push_predictions_of_a_version_are_the_backends_regions_with_relations(tmp_path):
    """`annotate preannotate/push --model` (the CLI's predictor) send what `/predict` sends, relations included."""
    from typer.testing import CliRunner

    from treffpunkt.annotation.ingest import corpus
    from treffpunkt.cli import app
    from treffpunkt.core.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")
    # a version that surely finds the phone call and both actors (the roles come from configs/roles.yaml)
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("entity_ruler").add_patterns(
        [{"label": "PER", "pattern": "Waleri Gerassimow"}, {"label": "PER", "pattern": "Petr Pavel"}]
    )
    nlp.add_pipe("treffpunkt_test_phone_event")
    nlp.to_disk(ws.models_dir / "phone-001")
    source = tmp_path / "call.txt"
    source.write_text(TEXT, encoding="utf-8")
    corpus.add(ws, [source], options=corpus.IngestOptions(progress=False))
    (article,) = corpus.load_articles(ws)
    out = tmp_path / "predictions.jsonl"
    args = ["--home", str(ws.root), "annotate", "preannotate", "--model", "phone-001", "--out", str(out)]
    ran = CliRunner().invoke(app, args)
    assert ran.exit_code == 0, ran.output
    (row,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert row["prediction"] == ServedModel.load(ws, "phone-001").predict([article.text])[0]
    assert any(region["type"] == "relation" for region in row["prediction"]["result"])  # roles were applied


def test_backend_serves_a_version_named_by_its_alias(served_model):
    from treffpunkt.core.versions import set_alias

    ws, version = served_model
    set_alias(ws, version, "production")
    assert ServedModel.load(ws, "production").version == version
