"""Cold-start patterns: loading with clear errors, a version that follows the patterns, trigger spans cut to the
finite verb, and Label Studio regions on the trigger words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from treffpunkt.annotation.labelstudio.predictions import doc_to_prediction
from treffpunkt.annotation.patterns.ruler import build_pipeline, load_patterns, patterns_dir, patterns_version
from treffpunkt.core.errors import ConfigError
from treffpunkt.core.resources import default_config
from treffpunkt.core.schema import load_schema

SCHEMA = load_schema(default_config("schema.yaml"))
PATTERNS = [
    {"label": "CONSULT_PHONE", "pattern": [{"LOWER": {"REGEX": "^telefonier"}}]},
    {
        "label": "MEET_INTENT",
        "pattern": [{"LOWER": "lud"}, {"IS_SENT_START": False, "OP": "*"}, {"LOWER": "ein"}],
        "id": "finite",
    },
    {"label": "DATE", "pattern": [{"LOWER": "montag"}]},
]


def _write(folder: Path, rows: list) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "p.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return folder


def test_ruler_triggers_entities_and_sentence_events():
    nlp = build_pipeline(SCHEMA, PATTERNS)
    doc = nlp("Faymann telefonierte am Montag mit Merkel. Er lud sie nach Wien ein.")
    assert [(s.text, s.label_) for s in doc.spans["event_triggers"]] == [
        ("telefonierte", "CONSULT_PHONE"),
        ("lud", "MEET_INTENT"),
    ]
    assert [(e.text, e.label_) for e in doc.ents] == [("Montag", "DATE")]
    assert [(s.start_char, s.label_) for s in doc.spans["events"]] == [(0, "CONSULT_PHONE"), (43, "MEET_INTENT")]
    prediction = doc_to_prediction(doc, SCHEMA, model_version="patterns-x")
    regions = {(r["value"]["text"], r["value"]["labels"][0]) for r in prediction["result"]}
    assert regions == {("telefonierte", "CONSULT_PHONE"), ("lud", "MEET_INTENT"), ("Montag", "DATE")}


def test_ruler_load_errors_name_file_and_line(tmp_path):
    folder = _write(tmp_path / "bad", [PATTERNS[0], {"label": "NOPE", "pattern": "x"}])
    with pytest.raises(ConfigError, match=r"p.jsonl:2: label 'NOPE'"):
        load_patterns(folder, SCHEMA)
    (folder / "p.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"p.jsonl:1 is not a JSON object"):
        load_patterns(folder, SCHEMA)
    with pytest.raises(ConfigError, match="No pattern files"):
        load_patterns(tmp_path / "empty", SCHEMA)


def test_ruler_version_follows_the_patterns(tmp_path):
    one = patterns_version(load_patterns(_write(tmp_path / "a", PATTERNS), SCHEMA))
    again = patterns_version(load_patterns(_write(tmp_path / "b", PATTERNS), SCHEMA))
    other = patterns_version(load_patterns(_write(tmp_path / "c", PATTERNS[:2]), SCHEMA))
    assert one == again and one != other and one.startswith("patterns-")


def test_ruler_shipped_patterns_cover_every_event_label_and_role_date():
    patterns = load_patterns(patterns_dir(None), SCHEMA)
    labels = {p["label"] for p in patterns}
    assert set(SCHEMA.event_labels) <= labels
    assert {"ROLE", "DATE"} <= labels
