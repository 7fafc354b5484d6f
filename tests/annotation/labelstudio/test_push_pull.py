"""setup → push → annotate (through the SDK) → pull against a real Label Studio (the session's server)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from treffpunkt.annotation.labelstudio.predictions import utf16_offsets
from treffpunkt.annotation.labelstudio.project import SchemaChangeRefused, iter_tasks, setup
from treffpunkt.annotation.labelstudio.pull import pull
from treffpunkt.annotation.labelstudio.push import existing_tasks, import_annotated_tasks, import_chunk, push
from treffpunkt.cli import app
from treffpunkt.core.article import Article, Origin
from treffpunkt.core.errors import InputError
from treffpunkt.core.io import sha256_file, write_jsonl
from treffpunkt.core.schema import load_schema

runner = CliRunner()
REPO = Path(__file__).resolve().parents[3]

TEXTS = [
    "Generalstabschef Waleri Gerassimow telefonierte am Freitag mit Petr Pavel. Die NATO bestätigte das Gespräch.",
    "Der Nato-Russland-Rat tagte in Brüssel. Russland lehnte ein weiteres Treffen ab.",
    "Stoltenberg lud Gerassimow nach Brüssel ein. 🙂 Ein Termin steht noch nicht fest.",
    "Dunford und Gerasimov trafen sich in Baku. Die USA und Russland wollen weiter reden.",
]


def make_articles(texts: list[str] = TEXTS, prefix: str = "art") -> list[Article]:
    return [
        Article(
            id=f"{prefix}-{i}",
            title=f"Titel {i}",
            text=text,
            source="test",
            url=f"https://example.org/{i}",
            published=f"2016-04-0{i + 1}",
            cluster=f"c{i}",
            origin=Origin(path="test", kind="jsonl", line=i),
            added="2024-01-01T00:00:00Z",
        )  # fmt: skip
        for i, text in enumerate(texts)
    ]


def task_count(studio, project_id: int) -> int:
    return len(list(iter_tasks(studio.client(), project_id)))


def region(rid: str, control: str, text: str, phrase: str, label: str, occurrence: int = 0) -> dict:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(phrase, start + 1)
    return {
        "id": rid, "from_name": control, "to_name": "text", "type": "labels",
        "value": {"start": start, "end": start + len(phrase), "text": phrase, "labels": [label]},
    }  # fmt: skip


@pytest.mark.studio
def test_push_twice_and_after_an_interrupted_run_never_duplicates(studio, studio_ws, studio_project):
    articles = make_articles()
    # an "interrupted" earlier run: only the first chunk reached the server
    import_chunk(
        studio.client(), studio_project.id, [{"data": {"text": articles[0].text, "article_id": articles[0].id}}]
    )
    first = push(studio_ws, articles=articles, batch_size=2)
    assert (first.imported, first.already_present) == (3, 1)
    second = push(studio_ws, articles=articles, batch_size=2)
    assert (second.imported, second.already_present) == (0, 4)
    assert task_count(studio, studio_project.id) == 4
    tasks = {t.data["article_id"]: t.data for t in iter_tasks(studio.client(), studio_project.id)}
    assert set(tasks) == {a.id for a in articles}
    assert tasks["art-2"] == {
        "text": TEXTS[2], "title": "Titel 2", "article_id": "art-2", "cluster": "c2", "source": "test",
        "url": "https://example.org/2", "published": "2016-04-03",
    }  # fmt: skip


@pytest.mark.studio
def test_push_limit_pushes_the_rest_later(studio, studio_ws, studio_project):
    articles = make_articles()
    first = push(studio_ws, articles=articles, limit=3)
    assert (first.imported, first.not_pushed) == (3, 1)
    assert push(studio_ws, articles=articles).imported == 1
    assert task_count(studio, studio_project.id) == 4


@pytest.mark.studio
def test_setup_refuses_a_schema_change_that_orphans_annotations(studio, studio_ws, studio_project):
    push(studio_ws, articles=make_articles()[:1])
    client = studio.client()
    task = next(iter(iter_tasks(client, studio_project.id)))
    client.sdk.annotations.create(task.id, result=[
        region("d1", "entities", TEXTS[0], "am Freitag", "DATE"),
        region("p1", "entities", TEXTS[0], "Petr Pavel", "PER"),
    ])  # fmt: skip
    schema = load_schema(studio_ws.schema_path).model_dump(mode="json")
    schema["entities"] = [e for e in schema["entities"] if e["name"] != "DATE"]
    path = studio_ws.configs_dir / "no-date.yaml"
    path.write_text(json.dumps(schema), encoding="utf-8")  # JSON is YAML

    with pytest.raises(SchemaChangeRefused) as err:
        setup(studio_ws, schema_path=path)
    assert "DATE (entities: 1)" in err.value.message and "PER" not in err.value.message
    assert "DATE" in client.sdk.projects.get(studio_project.id).label_config  # unchanged

    out = runner.invoke(app, ["--home", str(studio_ws.root), "annotate", "setup", "--schema", str(path)])
    assert out.exit_code == 1 and "DATE (entities: 1)" in out.output and "--force" in out.output

    forced = setup(studio_ws, schema_path=path, force=True)
    assert forced.forced and forced.orphaned == {("entities", "DATE"): 1}
    assert 'value="DATE"' not in client.sdk.projects.get(studio_project.id).label_config
    # an additive change goes through without --force
    assert setup(studio_ws).config_changed


@pytest.mark.studio
def test_setup_finds_the_project_again_by_title(studio, studio_ws, studio_project):
    (studio_ws.state_dir / "project.json").unlink()
    again = setup(studio_ws)
    assert not again.created and again.project.id == studio_project.id


@pytest.mark.studio
def test_setup_sets_the_annotation_overlap_on_an_existing_project(studio, studio_ws, studio_project):
    # Replaces the README's Python one-liner: `treffpunkt annotate setup --overlap 2`.
    runner = CliRunner()
    result = runner.invoke(app, ["annotate", "setup", "--overlap", "2"], env={"TREFFPUNKT_HOME": str(studio_ws.root)})
    assert result.exit_code == 0, result.output
    assert "labelled by 2 annotator(s)" in result.output
    project = studio.client().sdk.projects.get(studio_project.id)
    assert project.maximum_annotations == 2
    assert setup(studio_ws, overlap=1).overlap == 1
    assert studio.client().sdk.projects.get(studio_project.id).maximum_annotations == 1


@pytest.mark.studio
def test_pull_saves_raw_export_with_sha256_and_converts_entities_events_relations(studio, studio_ws, studio_project):
    import spacy
    from spacy.tokens import DocBin

    push(studio_ws, articles=make_articles())
    client = studio.client()
    by_article = existing_tasks(client, studio_project.id)
    text = TEXTS[0]
    client.sdk.annotations.create(by_article["art-0"], result=[
        region("e1", "entities", text, "Waleri Gerassimow", "PER"),
        region("e2", "entities", text, "Petr Pavel", "PER"),
        region("e3", "entities", text, "am Freitag", "DATE"),
        region("e4", "entities", text, "NATO", "ORG"),
        region("v1", "events", text, "telefonierte", "CONSULT_PHONE"),
        {"type": "relation", "from_id": "v1", "to_id": "e1", "direction": "right", "labels": ["participant"]},
        {"type": "relation", "from_id": "v1", "to_id": "e2", "direction": "right", "labels": ["participant"]},
        {"type": "relation", "from_id": "v1", "to_id": "e3", "direction": "right", "labels": ["time"]},
    ])  # fmt: skip
    text1 = TEXTS[1]
    client.sdk.annotations.create(by_article["art-1"], result=[
        region("e1", "entities", text1, "Nato-Russland-Rat", "ORG"),
        region("e2", "entities", text1, "Brüssel", "GPE"),
        region("v1", "events", text1, "tagte", "CONSULT_MULTI"),
        region("v2", "events", text1, "lehnte ein weiteres Treffen ab", "MEET_REJECT"),
        {"type": "relation", "from_id": "v1", "to_id": "e2", "direction": "right", "labels": ["location"]},
    ])  # fmt: skip

    result = pull(studio_ws)

    assert result.export_path.parent == studio_ws.exports_dir and result.export_path.suffix == ".json"
    assert result.export_path.name.endswith(f"_{studio_project.title}.json")
    assert result.tasks == 4
    assert result.sha256_path.read_text() == f"{sha256_file(result.export_path)}  {result.export_path.name}\n"
    assert not stat.S_IMODE(result.export_path.stat().st_mode) & 0o222  # read-only: never modified
    raw = json.loads(result.export_path.read_text(encoding="utf-8"))
    assert sum(len(t["annotations"]) for t in raw) == 2
    assert not list(studio_ws.exports_dir.glob(".*.tmp"))

    assert result.converted_dir == result.export_path.with_suffix("")
    nlp = spacy.blank("de")
    docs = {}
    for split in ("train", "dev", "test"):
        path = result.converted_dir / f"{split}.spacy"
        if path.exists():
            for doc in DocBin().from_disk(path).get_docs(nlp.vocab):
                docs[doc.user_data["meta"]["article_id"]] = doc
    assert set(docs) == {"art-0", "art-1"}
    d0, d1 = docs["art-0"], docs["art-1"]
    assert {(e.text, e.label_) for e in d0.ents} == {
        ("Waleri Gerassimow", "PER"),
        ("Petr Pavel", "PER"),
        ("am Freitag", "DATE"),
        ("NATO", "ORG"),
    }
    assert [(s.text, s.label_) for s in d0.spans["event_triggers"]] == [("telefonierte", "CONSULT_PHONE")]
    assert {s.label_ for s in d0.spans["events"]} == {"CONSULT_PHONE"}
    assert d0.spans["events"][0].text.startswith("Generalstabschef")
    roles = sorted((d0.text[r["arg"][0] : r["arg"][1]], r["role"], r["event_label"]) for r in d0.user_data["relations"])
    assert roles == [("Petr Pavel", "participant", "CONSULT_PHONE"), ("Waleri Gerassimow", "participant", "CONSULT_PHONE"),
                     ("am Freitag", "time", "CONSULT_PHONE")]  # fmt: skip
    assert {(s.text, s.label_) for s in d1.spans["event_triggers"]} == {
        ("tagte", "CONSULT_MULTI"),
        ("lehnte ein weiteres Treffen ab", "MEET_REJECT"),
    }
    assert {s.label_ for s in d1.spans["events"]} == {"CONSULT_MULTI", "MEET_REJECT"}
    assert [(d1.text[r["arg"][0] : r["arg"][1]], r["role"]) for r in d1.user_data["relations"]] == [
        ("Brüssel", "location")
    ]

    # a second pull never touches the first export
    digest = sha256_file(result.export_path)
    second = pull(studio_ws, convert=False)
    assert second.export_path != result.export_path and sha256_file(result.export_path) == digest


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A blank German pipeline with an entity ruler (one label the schema lacks), saved like a model version."""
    import spacy

    nlp = spacy.blank("de")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([
        {"label": "ORG", "pattern": "NATO"}, {"label": "GPE", "pattern": "Brüssel"}, {"label": "GPE", "pattern": "Baku"},
        {"label": "PER", "pattern": "Gerassimow"}, {"label": "MISC", "pattern": "Termin"},
    ])  # fmt: skip
    path = tmp_path_factory.mktemp("models") / "tiny-001"
    nlp.to_disk(path)
    return path


@pytest.mark.studio
def test_push_with_model_attaches_predictions_to_new_and_existing_tasks(
    studio, studio_ws, studio_project, tiny_model, http_log
):
    articles = make_articles()
    push(studio_ws, articles=articles[:2])  # existing tasks without predictions
    http_log.clear()
    result = push(studio_ws, articles=articles, model=tiny_model, batch_size=10)
    assert (result.imported, result.predicted_existing, result.model_version) == (2, 2, "tiny-001")
    # counted on the wire: one task import (2 new tasks with inline predictions), one bulk predictions import for
    # the 2 existing tasks, and never a per-task prediction request
    posts = [path for method, path in http_log if method == "POST"]
    assert sum(p.endswith("/import/predictions") for p in posts) == 1
    assert sum(p.endswith("/import") for p in posts) == 1
    assert not [p for p in posts if p.rstrip("/").endswith("/api/predictions")]
    assert result.requests <= 4
    assert result.predictions.skipped[("entities", "MISC")] == 1

    tasks = {t.data["article_id"]: t for t in iter_tasks(studio.client(), studio_project.id, fields="all")}
    assert all(len(t.predictions) == 1 for t in tasks.values())
    for article in articles:
        prediction = tasks[article.id].predictions[0]
        prediction = prediction if isinstance(prediction, dict) else prediction.model_dump()
        assert prediction["model_version"] == "tiny-001"
        for r in prediction["result"]:
            assert r["from_name"] == "entities" and r["value"]["labels"][0] in {"ORG", "GPE", "PER"}
    found = {(r["value"]["text"], r["value"]["labels"][0]) for t in tasks.values() for r in _prediction(t)["result"]}
    assert found == {("NATO", "ORG"), ("Brüssel", "GPE"), ("Baku", "GPE"), ("Gerassimow", "PER")}
    # the emoji text: offsets are UTF-16 so Label Studio highlights the right word
    emoji_regions = _prediction(tasks["art-2"])["result"]
    brussel = next(r for r in emoji_regions if r["value"]["text"] == "Brüssel")
    assert TEXTS[2][brussel["value"]["start"] : brussel["value"]["end"]] == "Brüssel"  # before the emoji: unchanged
    project = studio.client().sdk.projects.get(studio_project.id)
    assert project.model_version == "tiny-001"
    # rerun: nothing new, no second prediction of the same version
    again = push(studio_ws, articles=articles, model=tiny_model)
    assert (again.imported, again.predicted_existing) == (0, 0)


def _as_dict(p) -> dict:
    return p if isinstance(p, dict) else p.model_dump()


def _prediction(task) -> dict:
    p = task.predictions[0]
    return p if isinstance(p, dict) else p.model_dump()


@pytest.mark.studio
def test_push_order_uncertainty_sets_sampling_and_view(studio, studio_ws, studio_project, tiny_model):
    push(studio_ws, articles=make_articles(), model=tiny_model, order="uncertainty")
    client = studio.client()
    assert str(client.sdk.projects.get(studio_project.id).sampling).endswith("Uncertainty sampling")
    views = list(client.sdk.views.list(project=studio_project.id))
    assert any((v.data or {}).get("title") == "Least certain first" for v in views)


def test_push_order_uncertainty_needs_a_model(ws):
    from treffpunkt.core.errors import InputError

    with pytest.raises(InputError, match="needs --model"):
        push(ws, order="uncertainty")


def test_preannotate_offsets_are_utf16_only_when_needed():
    assert utf16_offsets("Brüssel ohne Emoji") is None
    table = utf16_offsets("a🙂b")
    assert table == [0, 1, 3, 4]


def test_preannotate_event_scores_give_certainty():
    import spacy
    from spacy.tokens import Span

    from treffpunkt.annotation.labelstudio.predictions import doc_to_prediction

    schema = load_schema(Path(__file__).resolve().parents[3] / "configs" / "schema.yaml")
    nlp = spacy.blank("de")
    doc = nlp("Putin telefonierte mit Biden. Danach nichts.")
    label = schema.event_labels[0]
    doc.spans["events"] = [Span(doc, 0, 5, label=label)]
    doc.spans["events"].attrs["scores"] = [0.9]
    doc.user_data["event_scores"] = {"0:29": {label: 0.9, schema.event_labels[1]: 0.4}}
    pred = doc_to_prediction(doc, schema, model_version="m-001")
    assert pred["score"] == pytest.approx(0.2)  # the least certain decision: p=0.4 → |2p-1| = 0.2
    assert pred["result"][0]["from_name"] == "events" and pred["result"][0]["score"] == pytest.approx(0.9)


@pytest.mark.studio
def test_import_annotated_tasks_skips_article_ids_already_present(studio, studio_ws, studio_project):
    text = TEXTS[3]
    task = {
        "data": {
            "text": text,
            "title": "t",
            "article_id": "gold-1",
            "cluster": "g",
            "source": "",
            "url": "",
            "published": "",
        },
        "annotations": [{"result": [region("e1", "entities", text, "Baku", "GPE")]}],
    }
    first = import_annotated_tasks(studio_ws, studio_project, [task, dict(task)])
    assert (first.imported, first.already_present) == (1, 1)
    second = import_annotated_tasks(studio.client(), studio_project.id, [task])
    assert (second.imported, second.already_present) == (0, 1)
    tasks = list(iter_tasks(studio.client(), studio_project.id, fields="all"))
    assert len(tasks) == 1 and len(tasks[0].annotations) == 1
    assert existing_tasks(studio.client(), studio_project.id) == {"gold-1": tasks[0].id}


@pytest.mark.studio
def test_cli_setup_push_pull_smoke(studio, studio_ws):
    write_jsonl(studio_ws.articles_path, [a.model_dump() for a in make_articles()])
    home = ["--home", str(studio_ws.root)]
    out = runner.invoke(app, [*home, "annotate", "setup"])
    assert out.exit_code == 0 and "Created project" in out.output, out.output
    out = runner.invoke(app, [*home, "annotate", "push", "--batch-size", "2"])
    assert out.exit_code == 0 and "Pushed 4 new task(s)" in out.output, out.output
    out = runner.invoke(app, [*home, "annotate", "push"])
    assert out.exit_code == 0 and "Pushed 0 new task(s)" in out.output and "4 already there" in out.output, out.output
    out = runner.invoke(app, [*home, "annotate", "pull", "--no-convert"])
    assert out.exit_code == 0 and "Export:" in out.output and "(4 tasks" in out.output, out.output
    assert len(list(studio_ws.exports_dir.glob("*.json"))) == 1
    assert studio.token not in out.output


@pytest.fixture(scope="module")
def tiny_model_v2(tmp_path_factory, tiny_model) -> Path:
    """A second version of the tiny model (other patterns), saved next to the first."""
    import spacy

    nlp = spacy.blank("de")
    nlp.add_pipe("entity_ruler").add_patterns(
        [{"label": "ORG", "pattern": "USA"}, {"label": "GPE", "pattern": "Russland"}]
    )
    path = tiny_model.parent / "tiny-002"
    nlp.to_disk(path)
    return path


@pytest.mark.studio
def test_push_annotate_predict_keeps_old_versions_and_shows_the_newest(
    studio, studio_ws, studio_project, tiny_model, tiny_model_v2, http_log
):
    from treffpunkt.annotation.labelstudio.push import predict_existing

    articles = make_articles()
    push(studio_ws, articles=articles)  # tasks without predictions
    client = studio.client()
    http_log.clear()
    first = predict_existing(studio_ws, model=tiny_model, batch_size=3)
    # counted on the wire: 2 bulk predictions imports (4 tasks, 3 per request), never one call per task
    assert (first.predicted_existing, first.model_version) == (4, "tiny-001") and first.requests == 4
    posts = [path for method, path in http_log if method == "POST"]
    assert sum(p.endswith("/import/predictions") for p in posts) == 2
    assert not [p for p in posts if p.rstrip("/").endswith("/api/predictions")]
    second = runner.invoke(
        app,
        ["annotate", "attach-predictions", "--model", str(tiny_model_v2), "--order", "uncertainty"],
        env={"TREFFPUNKT_HOME": str(studio_ws.root)},
    )
    assert second.exit_code == 0, second.output
    assert "4 task(s)" in second.output and "tiny-002" in second.output

    tasks = {t.data["article_id"]: t for t in iter_tasks(client, studio_project.id, fields="all")}
    for article_id, task in tasks.items():
        stored = list(client.sdk.predictions.list(task=task.id))
        assert sorted(p.model_version for p in stored) == ["tiny-001", "tiny-002"], article_id  # the old one is kept
    # ... but the task an annotator is served (Label All Tasks: /api/projects/ID/next, no SDK method) carries only
    # the project's model_version as pre-annotation
    http = client.sdk._client_wrapper.httpx_client
    served = http.request(f"api/projects/{studio_project.id}/next", method="GET")
    assert served.status_code == 200, served.text
    assert [p["model_version"] for p in served.json()["predictions"]] == ["tiny-002"]
    project = client.sdk.projects.get(studio_project.id)
    assert project.model_version == "tiny-002" and str(project.sampling).endswith("Uncertainty sampling")
    v2 = [p for t in tasks.values() for p in map(_as_dict, t.predictions) if p["model_version"] == "tiny-002"]
    assert {(r["value"]["text"], r["value"]["labels"][0]) for p in v2 for r in p["result"]} == {
        ("USA", "ORG"),
        ("Russland", "GPE"),
    }
    # rerunning an older version adds nothing (its predictions are hidden from the listing, not gone)
    again = predict_existing(studio_ws, model=tiny_model)
    assert again.predicted_existing == 0
    assert client.sdk.projects.get(studio_project.id).model_version == "tiny-001"


@pytest.mark.studio
def test_push_precomputed_predictions_file(studio, studio_ws, studio_project, tiny_model, tmp_path):
    """`annotate preannotate` writes predictions; `push --predictions` imports them like `push --model` would."""
    from treffpunkt.annotation.labelstudio.push import save_predictions

    articles = make_articles()
    out = tmp_path / "predictions.jsonl"
    lines, report, version = save_predictions(studio_ws, model=tiny_model, out=out, articles=articles[:3])
    assert (lines, version) == (3, "tiny-001") and report.skipped[("entities", "MISC")] == 1
    push(studio_ws, articles=articles[:1])  # one existing task without predictions
    result = push(studio_ws, articles=articles, predictions=out)
    assert (result.imported, result.predicted_existing, result.model_version) == (3, 1, "tiny-001")
    assert result.without_prediction == ["art-3"]  # no line in the file: pushed, counted, listed
    tasks = {t.data["article_id"]: t for t in iter_tasks(studio.client(), studio_project.id, fields="all")}
    assert sorted(a for a, t in tasks.items() if t.predictions) == ["art-0", "art-1", "art-2"]
    by_model = push(studio_ws, articles=articles[3:], model=tiny_model)  # the same version from the model itself
    assert by_model.predicted_existing == 1  # art-3 only: the others already hold tiny-001
    assert studio.client().sdk.projects.get(studio_project.id).model_version == "tiny-001"


def test_push_predictions_file_errors(ws, tmp_path):
    from treffpunkt.core.errors import InputError

    mixed = tmp_path / "mixed.jsonl"
    write_jsonl(
        mixed,
        [
            {"article_id": "a", "prediction": {"model_version": "m-001", "result": []}},
            {"article_id": "b", "prediction": {"model_version": "m-002", "result": []}},
        ],
    )
    with pytest.raises(InputError, match="2 model versions"):
        push(ws, predictions=mixed)
    with pytest.raises(InputError, match="one of --model, --predictions and --patterns"):
        push(ws, predictions=mixed, model="m-001")


@pytest.mark.studio
def test_push_with_patterns_marks_pre_annotations_with_the_patterns_version(studio, studio_ws, studio_project):
    articles = make_articles()
    result = push(studio_ws, articles=articles, patterns=True)
    assert result.model_version and result.model_version.startswith("patterns-")
    tasks = list(iter_tasks(studio.client(), studio_project.id, fields="all"))
    versions = {p["model_version"] if isinstance(p, dict) else p.model_version for t in tasks for p in t.predictions}
    assert versions == {result.model_version} and len(tasks) == len(articles)
    with pytest.raises(InputError, match="one of --model, --predictions and --patterns"):
        push(studio_ws, articles=articles, patterns=True, model="x")


@pytest.mark.studio
def test_import_gold_then_pull_reproduces_the_gold_news_annotations(studio, studio_ws, studio_project, tmp_path):
    # The stored gold news export goes into Label Studio and comes back out of `annotate pull` unchanged.
    from treffpunkt.annotation.labelstudio.push import import_gold

    stored = json.loads((REPO / "corpus" / "gold" / "news" / "export.json").read_text(encoding="utf-8"))[:6]
    small = tmp_path / "gold.json"
    small.write_text(json.dumps(stored, ensure_ascii=False), encoding="utf-8")
    first = import_gold(studio_ws, small)
    assert (first.imported, first.already_present) == (6, 0)
    assert import_gold(studio_ws, small).already_present == 6  # a rerun adds nothing

    def regions(task: dict) -> tuple[set, set]:
        result = task["annotations"][0]["result"]
        spans = {
            (r["from_name"], r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
            for r in result
            if r.get("type") == "labels"
        }
        by_id = {r["id"]: (r["value"]["start"], r["value"]["end"]) for r in result if r.get("type") == "labels"}
        links = {
            (by_id[r["from_id"]], by_id[r["to_id"]], r["labels"][0]) for r in result if r.get("type") == "relation"
        }
        return spans, links

    pulled = pull(studio_ws)
    back = {t["data"]["article_id"]: t for t in json.loads(pulled.export_path.read_text(encoding="utf-8"))}
    for task in stored:
        assert regions(back[task["data"]["article_id"]]) == regions(task)
        assert back[task["data"]["article_id"]]["data"]["split"] == task["data"]["split"]
    assert {r.outcome for r in pulled.converted.report.spans} == {"kept"}


@pytest.mark.studio
def test_gold_double_pass_measured_as_two_annotators_in_label_studio(studio, studio_ws, studio_project):
    """The 60 double-annotated gold articles go into Label Studio as the work of two real users; agreement on
    Label Studio's own export gives the figures of the stored file, and the targets hold."""
    import uuid

    from treffpunkt.annotation.agreement.measure import agreement
    from treffpunkt.annotation.team.members import members

    stored = REPO / "corpus" / "gold" / "news" / "agreement-export.json"
    tag = uuid.uuid4().hex[:6]
    emails = [f"first-{tag}@example.org", f"second-{tag}@example.org"]
    run = CliRunner().invoke(
        app, ["--home", str(studio_ws.root), "annotate", "import-gold", str(stored), "--annotators", ",".join(emails)]
    )
    assert run.exit_code == 0, run.output
    assert "Imported 60 annotated task(s)" in run.output and all(f"Created {e}" in run.output for e in emails)
    ids = {members(studio.client())[e].id for e in emails}
    pulled = pull(studio_ws)
    exported = json.loads(pulled.export_path.read_text(encoding="utf-8"))
    assert len(exported) == 60 and all({a["completed_by"] for a in t["annotations"]} == ids for t in exported)
    schema = load_schema(studio_ws.schema_path)
    in_studio = agreement(studio_ws, pulled.export_path, schema=schema)
    from_file = agreement(studio_ws, stored, schema=schema)
    assert in_studio.tasks_scored == 60 and len(in_studio.annotators) == 2
    for layer in ("entities", "events"):
        assert in_studio.f1(layer, "exact") == pytest.approx(from_file.f1(layer, "exact"))
    assert in_studio.sentence_f1() == pytest.approx(from_file.sentence_f1()) and in_studio.sentence_f1() >= 0.75
    assert in_studio.relation_f1() == pytest.approx(from_file.relation_f1())
    assert in_studio.f1("entities", "exact") >= 0.85
    # the mapping needs one user per annotator of the export
    refused = CliRunner().invoke(
        app, ["--home", str(studio_ws.root), "annotate", "import-gold", str(stored), "--annotators", emails[0]]
    )
    assert refused.exit_code == 1 and "has 2 annotator(s)" in refused.output


@pytest.mark.studio
def test_pull_records_the_guidelines_and_warns_about_annotations_made_before_them(studio, studio_ws, studio_project):
    push(studio_ws, articles=make_articles())
    client = studio.client()
    by_article = existing_tasks(client, studio_project.id)
    for article in ("art-0", "art-1"):
        client.sdk.annotations.create(by_article[article], result=[
            region("e1", "entities", TEXTS[int(article[-1])], "Brüssel" if article == "art-1" else "NATO",
                   "GPE" if article == "art-1" else "ORG"),
        ])  # fmt: skip
    guide = studio_ws.root / "guidelines.md"

    # rules dated before the annotations: nothing to re-check
    guide.write_text("# Guidelines\n\nVersion 1 (2020-01-01): first rules.\n", encoding="utf-8")
    result = pull(studio_ws)
    assert result.guidelines.version == "Version 1 (2020-01-01)" and result.before_guidelines == []
    manifest = json.loads(result.converted.manifest_path.read_text(encoding="utf-8"))
    assert manifest["guidelines"] == {
        "path": str(guide), "sha256": sha256_file(guide), "version": "Version 1 (2020-01-01)", "since": "2020-01-01"
    }  # fmt: skip
    assert manifest["annotations_before_guidelines"] == 0

    # the rules change (dated in the future of these annotations): both annotations predate them, pull says so
    guide.write_text("# Guidelines\n\nVersion 2 (2999-01-01): new rules.\n", encoding="utf-8")
    out = CliRunner().invoke(app, ["--home", str(studio_ws.root), "annotate", "pull"])
    assert out.exit_code == 0, out.output
    assert "Guidelines: Version 2 (2999-01-01)" in out.output
    assert "2 annotation(s) in 2 task(s) were last changed before the current guidelines" in " ".join(
        out.output.split()
    )
    assert json.loads(result_manifest(studio_ws).read_text())["annotations_before_guidelines"] == 2


def result_manifest(ws):
    """The manifest of the newest converted export."""
    from treffpunkt.annotation.convert.docs import latest_converted

    return latest_converted(ws) / "manifest.json"
