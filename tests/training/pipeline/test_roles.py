"""Actor roles: the classifier learns from gold relations; the heuristic does what its docstring says."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, Span, SpanGroup

from treffpunkt.core.errors import ConfigError
from treffpunkt.core.resources import default_config
from treffpunkt.core.schema import Schema, load_schema
from treffpunkt.training.pipeline.roles import (
    HeuristicRoles,
    RolePair,
    RolesConfig,
    RolesError,
    fit_roles,
    load_roles,
    load_roles_config,
    pairs_for_doc,
    role_assigner,
    score_roles,
    train_roles,
)


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema(default_config("schema.yaml"))


@pytest.fixture(scope="module")
def roles_config(schema: Schema) -> RolesConfig:
    return load_roles_config(default_config("roles.yaml"), schema)


_NLP = spacy.blank("de")
_NLP.add_pipe("sentencizer")


def gold_doc(
    text: str, ents: list[tuple[str, str]], events: list[tuple[str, str]], relations: list[tuple[str, str, str]]
) -> Doc:
    """A converted-style gold doc: ents by (substring, label); events by (trigger, label); relations (trigger, arg, role)."""
    doc = _NLP(text)

    def span(sub: str, label: str = "") -> Span:
        start = text.index(sub)
        result = doc.char_span(start, start + len(sub), label=label)
        assert result is not None, sub
        return result

    doc.ents = [span(s, label) for s, label in ents]
    triggers = [span(t, label) for t, label in events]
    doc.spans["event_triggers"] = triggers
    doc.spans["events"] = SpanGroup(
        doc, name="events", spans=[Span(doc, t.sent.start, t.sent.end, label=t.label_) for t in triggers]
    )
    labels = dict(events)
    doc.user_data["relations"] = [
        {
            "event": [span(t).start_char, span(t).end_char],
            "event_label": labels[t],
            "arg": [span(a).start_char, span(a).end_char],
            "arg_label": dict(ents)[a],
            "role": role,
        }
        for t, a, role in relations
    ]
    doc.user_data["meta"] = {"article_id": str(abs(hash(text)))}
    return doc


PEOPLE = ["Merkel", "Putin", "Macron", "Biden", "Scholz", "Erdogan"]
PLACES = ["Berlin", "Moskau", "Paris", "Ankara"]


def visit_docs() -> list[Doc]:
    """Visits written two ways: "A besuchte B" (A visitor) and "A empfing B" (A host) — the heuristic gets half wrong."""
    docs = []
    for (a, b), place in zip(itertools.permutations(PEOPLE, 2), itertools.cycle(PLACES)):
        for verb, first_role, second_role in (("besuchte", "visitor", "host"), ("empfing", "host", "visitor")):
            text = f"Am Montag {verb} {a} in {place} den Kollegen {b}. Danach gab es Gespräche."
            docs.append(
                gold_doc(
                    text,
                    [("Am Montag", "DATE"), (a, "PER"), (place, "GPE"), (b, "PER")],
                    [(verb, "CONSULT_VISIT")],
                    [
                        (verb, a, first_role),
                        (verb, b, second_role),
                        (verb, place, "location"),
                        (verb, "Am Montag", "time"),
                    ],
                )
            )
    return docs


def test_roles_heuristic_documented_behaviour(schema: Schema, roles_config: RolesConfig) -> None:
    doc = gold_doc(
        "Am Freitag besuchte Merkel in Moskau den Präsidenten Putin und die Nato.",
        [("Am Freitag", "DATE"), ("Merkel", "PER"), ("Moskau", "GPE"), ("Putin", "PER"), ("Nato", "ORG")],
        [("besuchte", "CONSULT_VISIT")],
        [],
    )
    heuristic = HeuristicRoles(roles_config.heuristic, schema)
    got = [(ent.text, role) for ent, role in heuristic.assign(doc, doc.spans["events"][0])]
    # time label → time; place after a cue word → location; actors in order: mode "visit" → first visitor, rest host
    assert got == [
        ("Am Freitag", "time"),
        ("Merkel", "visitor"),
        ("Moskau", "location"),
        ("Putin", "host"),
        ("Nato", "host"),
    ]


@pytest.mark.parametrize(
    ("label", "first", "rest"),
    [("MEET_INTENT", "initiator", "addressee"), ("CONSULT_PHONE", "participant", "participant")],
)
def test_roles_heuristic_rules_by_type(
    schema: Schema, roles_config: RolesConfig, label: str, first: str, rest: str
) -> None:
    doc = gold_doc(
        "Merkel sprach mit Putin und Macron.",
        [("Merkel", "PER"), ("Putin", "PER"), ("Macron", "PER")],
        [("sprach", label)],
        [],
    )
    roles = [role for _, role in HeuristicRoles(roles_config.heuristic, schema).assign(doc, doc.spans["events"][0])]
    assert roles == [first, rest, rest]


def test_roles_classifier_learns_and_beats_heuristic(schema: Schema, roles_config: RolesConfig) -> None:
    docs = visit_docs()
    train, held_out = docs[::2] + docs[1::4], docs[3::4]
    model = fit_roles(train, schema)
    heuristic = HeuristicRoles(roles_config.heuristic, schema)
    for evaluation in (train, held_out):
        learned = score_roles(evaluation, [pairs_for_doc(d, model) for d in evaluation])
        guessed = score_roles(evaluation, [pairs_for_doc(d, heuristic) for d in evaluation])
        assert learned["micro"]["f"] >= guessed["micro"]["f"]
        assert learned["per_role"]["host"]["f"] > guessed["per_role"]["host"]["f"]
    assert score_roles(held_out, [pairs_for_doc(d, model) for d in held_out])["micro"]["f"] >= 0.95


def test_roles_train_save_load_roundtrip(tmp_path: Path, schema: Schema, roles_config: RolesConfig) -> None:
    docs = visit_docs()
    result = train_roles(docs, tmp_path, schema)
    assert result.kind == "classifier" and (tmp_path / "roles.joblib").exists()
    loaded = load_roles(tmp_path)
    assert loaded is not None
    fitted = fit_roles(docs, schema)
    assert [pairs_for_doc(d, loaded) for d in docs] == [pairs_for_doc(d, fitted) for d in docs]
    assert role_assigner(tmp_path, schema, roles_config).kind == "classifier"


def test_roles_without_relations_fall_back_to_heuristic(
    tmp_path: Path, schema: Schema, roles_config: RolesConfig
) -> None:
    docs = [
        gold_doc("Merkel besuchte Putin.", [("Merkel", "PER"), ("Putin", "PER")], [("besuchte", "CONSULT_VISIT")], [])
    ]
    with pytest.raises(RolesError, match="no usable relations"):
        fit_roles(docs, schema)
    result = train_roles(docs, tmp_path, schema)
    assert result.kind == "heuristic" and not (tmp_path / "roles.joblib").exists()
    assert load_roles(tmp_path) is None
    assert role_assigner(tmp_path, schema, roles_config).kind == "heuristic"


def test_roles_score_counts_per_role(schema: Schema) -> None:
    doc = visit_docs()[0]  # Merkel besuchte Putin in Berlin
    sent = doc.spans["events"][0]
    merkel, place, putin = (e for e in doc.ents if e.label_ != "DATE")
    pred = [
        RolePair("CONSULT_VISIT", sent.start_char, sent.end_char, merkel.start_char, merkel.end_char, "PER", "visitor"),
        RolePair("CONSULT_VISIT", sent.start_char, sent.end_char, putin.start_char, putin.end_char, "PER", "visitor"),
        RolePair("CONSULT_VISIT", sent.start_char, sent.end_char, place.start_char, place.end_char, "GPE", "location"),
    ]
    scores = score_roles([doc], [pred])
    assert scores["per_role"]["visitor"] == {"p": 0.5, "r": 1.0, "f": 0.6667, "tp": 1, "n_pred": 2, "n_gold": 1}
    assert scores["per_role"]["host"]["r"] == 0.0 and scores["per_role"]["location"]["f"] == 1.0
    assert scores["micro"]["tp"] == 2 and scores["micro"]["n_gold"] == 4


def test_roles_config_rejects_unknown_labels(tmp_path: Path, schema: Schema) -> None:
    text = (
        (default_config("roles.yaml"))
        .read_text(encoding="utf-8")
        .replace("actor_labels: [PER, ORG, GPE]", "actor_labels: [PERSON]")
    )
    (tmp_path / "roles.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="PERSON"):
        load_roles_config(tmp_path / "roles.yaml", schema)


def test_roles_vectorised_assignment_matches_sklearn_predict(schema: Schema) -> None:
    docs = visit_docs()
    model = fit_roles(docs[::2], schema)
    from treffpunkt.training.pipeline.roles import candidates, pair_features

    for doc in docs[1::5]:
        event = doc.spans["events"][0]
        ents = candidates(doc, event)
        rows = [pair_features(doc, event, ent, i, ents, schema, model.lexicon) for i, ent in enumerate(ents)]
        expected = [
            (ent.text, str(label))
            for ent, label in zip(ents, model.classifier.predict(model.vectorizer.transform(rows)), strict=False)
            if label != "none"
        ]
        assert [(ent.text, role) for ent, role in model.assign(doc, event)] == expected
