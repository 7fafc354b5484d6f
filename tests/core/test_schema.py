from pathlib import Path
from xml.etree import ElementTree

import pytest

from treffpunkt.core.errors import ConfigError
from treffpunkt.core.resources import default_config
from treffpunkt.core.schema import load_schema


def test_schema_default_generates_label_studio_config() -> None:
    schema = load_schema(default_config("schema.yaml"))
    root = ElementTree.fromstring(schema.label_config())
    entity_values = [el.get("value") for el in root.find("Labels[@name='entities']")]
    event_values = [el.get("value") for el in root.find("Labels[@name='events']")]
    relation_values = [el.get("value") for el in root.find("Relations")]
    assert entity_values == schema.entity_labels
    assert event_values == schema.event_labels
    assert relation_values == schema.relation_labels
    assert root.find("Text").get("value") == "$text"


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("entities: []", "entities"),
        ("entities: [{name: PER}]\nextra_field: 1", "extra_field"),
        ("entities: [{name: PER}, {name: PER}]", "repeated: PER"),
        ("entities: [{name: 'bad name'}]", "name"),
        ("entities: [{name: PER}]\nevents: [{name: MEET}]", "type"),
        ("entities: [: :", "not valid YAML"),
    ],
)
def test_schema_rejects_invalid_files(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message):
        load_schema(path)


def test_schema_hash_changes_with_content(tmp_path: Path) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text("entities: [{name: PER}]")
    first = load_schema(path).hash
    path.write_text("entities: [{name: PER}, {name: ORG}]")
    assert load_schema(path).hash != first
