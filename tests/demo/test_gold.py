"""The gold standard of the seeds: reproducible from the spec, consistent with the cleaned text, complete."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest
import spacy

from treffpunkt.core.resources import default_config
from treffpunkt.core.schema import ENTITY_TAG, EVENT_TAG, TEXT_TAG, load_schema
from treffpunkt.demo.gold import (
    ACTOR_ROLES,
    GoldSpecError,
    build_gold,
    default_out,
    resolve_seed,
)

REBUILD = "Rebuild it with `.venv/bin/python -m treffpunkt.demo.gold` and review the diff of corpus/gold/seeds.json."


@pytest.fixture(scope="module")
def schema():
    return load_schema(default_config("schema.yaml"))


@pytest.fixture(scope="module")
def built(schema):
    return build_gold(schema)


@pytest.fixture(scope="module")
def export() -> list[dict[str, Any]]:
    return json.loads(default_out().read_text(encoding="utf-8"))


def _regions(task: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in task["annotations"][0]["result"] if r["type"] == "labels"}


def _relations(task: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in task["annotations"][0]["result"] if r["type"] == "relation"]


def test_gold_export_matches_builder(built, export):
    # A change of the cleaner, the ingestion or the spec that is not rebuilt fails here, seed by seed.
    assert len(export) == len(built.tasks), REBUILD
    for stored, fresh in zip(export, built.tasks, strict=True):
        name = fresh["meta"]["gold_seed"]
        assert stored["data"]["text"] == fresh["data"]["text"], f"{name}: cleaned text changed. {REBUILD}"
        assert stored == fresh, f"{name}: stored gold differs from the spec. {REBUILD}"


def test_gold_export_format(export, schema):
    for task in export:
        assert set(task["data"]) == {"text", "title", "article_id", "cluster", "source", "url", "published"}
        (annotation,) = task["annotations"]
        assert annotation["ground_truth"] and not annotation["was_cancelled"]
        for region in _regions(task).values():
            assert region["to_name"] == TEXT_TAG
            allowed = schema.entity_labels if region["from_name"] == ENTITY_TAG else schema.event_labels
            assert region["from_name"] in (ENTITY_TAG, EVENT_TAG)
            assert region["value"]["labels"][0] in allowed and len(region["value"]["labels"]) == 1
        for rel in _relations(task):
            assert rel["direction"] == "right" and rel["labels"][0] in schema.relation_labels


def test_gold_offsets_match_text(export):
    for task in export:
        text = task["data"]["text"]
        for region in _regions(task).values():
            v = region["value"]
            assert text[v["start"] : v["end"]] == v["text"], (task["meta"], v)
            assert v["text"] == v["text"].strip()


def test_gold_spans_align_to_tokens(export):
    nlp = spacy.blank("de")
    for task in export:
        doc = nlp.make_doc(task["data"]["text"])
        for region in _regions(task).values():
            v = region["value"]
            assert doc.char_span(v["start"], v["end"], alignment_mode="strict") is not None, (task["meta"], v)


def test_gold_entity_layer_has_no_overlaps(export):
    for task in export:
        spans = sorted(
            (r["value"]["start"], r["value"]["end"]) for r in _regions(task).values() if r["from_name"] == ENTITY_TAG
        )
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert end <= start, (task["meta"], spans)


def test_gold_relations_link_events_to_entities(export):
    for task in export:
        regions = _regions(task)
        for rel in _relations(task):
            assert regions[rel["from_id"]]["from_name"] == EVENT_TAG
            assert regions[rel["to_id"]]["from_name"] == ENTITY_TAG


def test_gold_every_event_has_an_actor(export):
    for task in export:
        roles = defaultdict(set)
        for rel in _relations(task):
            roles[rel["from_id"]].add(rel["labels"][0])
        for rid, region in _regions(task).items():
            if region["from_name"] == EVENT_TAG:
                assert roles[rid] & set(ACTOR_ROLES), (task["meta"], region["value"])


EXPECTED = [
    # (seed prefix, event label, {role: entity texts that must all be linked}) — the events the guidelines list
    ("000", "CONSULT_PHONE", {"participant": {"Waleri Gerassimow", "Petr Pavel"}, "time": {"Vortag"}}),
    ("000", "MEET_REJECT", {"participant": {"Nato-Russland-Rat"}, "time": {"April 2014"}}),
    ("000", "CONSULT_MULTI", {"participant": {"Nato-Russland-Rat"}}),
    ("001", "CONSULT_MULTI", {"participant": {"NATO-Russland-Rates"}, "location": {"Brüssel"}}),
    ("001", "MEET_REJECT", {"initiator": {"NATO"}}),
    ("002", "MEET_INTENT", {"initiator": {"Jens Stoltenberg"}, "addressee": {"Russland"}}),
    ("002", "MEET_REQUEST", {"initiator": {"Jens Stoltenberg"}, "addressee": {"Russland"}}),
    ("002", "MEET_REJECT", {"participant": {"Nato-Russland-Rat"}}),
    ("002", "CONSULT_MULTI", {"participant": {"Nato-Russland-Rat"}}),
    ("002", "CONSULT_VISIT", {"visitor": {"Stoltenberg"}, "host": {"Joe Biden"}, "location": {"Weißen Haus"}}),
    ("003", "CONSULT_MULTI", {"participant": {"Nato-Russland-Rat"}, "location": {"Brüssel"}, "time": {"Mittwoch"}}),
    ("004", "CONSULT_THIRD", {"participant": {"Joe Dunford", "Waleri Gerasimow"}, "location": {"Baku"}}),
]


@pytest.mark.parametrize(("seed", "label", "roles"), EXPECTED, ids=[f"{s}-{lab}" for s, lab, _ in EXPECTED])
def test_gold_expected_events_present(export, seed, label, roles):
    (task,) = [t for t in export if t["meta"]["gold_seed"].startswith(seed)]
    regions = _regions(task)
    for rid, region in regions.items():
        if region["from_name"] != EVENT_TAG or region["value"]["labels"] != [label]:
            continue
        linked = defaultdict(set)
        for rel in _relations(task):
            if rel["from_id"] == rid:
                linked[rel["labels"][0]].add(regions[rel["to_id"]]["value"]["text"])
        if all(want <= linked[role] for role, want in roles.items()):
            return
    pytest.fail(f"seed {seed}: no {label} event with {roles}")


_TEXT = "Merkel traf Macron in Paris. Merkel sprach am Montag mit Putin."


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"entities": [["Scholz", "PER"]]}, "not found"),
        ({"entities": [["Merkel", "PER"]]}, "ambiguous"),
        ({"entities": [["Merk", "PER", "all"]]}, "matched nowhere"),  # not a whole token
        ({"entities": [["Merkel", "PER", 2]]}, "occurrence 2"),
        ({"entities": [["Macron in Paris", "PER"], ["Paris", "GPE"]]}, "overlaps"),
        ({"entities": [["Paris", "CITY"]]}, "not an entity label"),
        (
            {
                "entities": [["Putin", "PER"]],
                "events": [{"id": "e", "text": "sprach", "label": "CONSULT", "time": ["Putin"]}],
            },
            "no actor",
        ),
        (
            {"entities": [], "events": [{"id": "e", "text": "traf", "label": "CONSULT", "participant": ["Macron"]}]},
            "not an annotated entity",
        ),
        (
            {
                "entities": [["Merkel", "PER", "all"]],
                "events": [
                    {"id": "e", "text": "traf", "label": "CONSULT", "participant": ["Merkel"], "role": ["Merkel"]}
                ],
            },
            "unknown keys",
        ),
    ],
)
def test_gold_spec_errors_are_loud(schema, spec, message):
    data = {"text": _TEXT}
    with pytest.raises(GoldSpecError, match=message):
        resolve_seed("t.txt", data, spec, schema, spacy.blank("de"))


def test_gold_spec_resolves_nearest_and_optional(schema):
    spec = {
        "entities": [
            ["Merkel", "PER", "all"],
            ["Putin", "PER"],
            ["Montag", "DATE"],
            {"text": "Scholz", "label": "PER", "optional": True},
        ],
        "events": [
            {"id": "call", "text": "sprach", "label": "CONSULT", "participant": ["Merkel", "Putin"], "time": ["Montag"]}
        ],
    }
    gold = resolve_seed("t.txt", {"text": _TEXT}, spec, schema, spacy.blank("de"))
    merkel = [e for _, role, e in gold.relations if e.text == "Merkel"]
    assert merkel[0].start == _TEXT.index("Merkel sprach")  # the nearer of the two mentions
    assert gold.skipped_optional == ["entity 'Scholz' (PER)"]


def test_gold_cli_build_writes_the_same_export(tmp_path, export):
    from typer.testing import CliRunner

    from treffpunkt.cli import app

    out = tmp_path / "seeds.json"
    result = CliRunner().invoke(app, ["annotate", "gold-build", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Gold written" in result.output
    assert json.loads(out.read_text(encoding="utf-8")) == export
