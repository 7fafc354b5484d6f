"""The label schema: loaded from one YAML file, validated, and turned into Label Studio's labeling config.

Nothing elsewhere in the code names a concrete label: everything reads it from a :class:`Schema`.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path
from xml.sax.saxutils import quoteattr

from pydantic import Field, model_validator

from treffpunkt.core.config import StrictConfig, load_config

#: Control tag names in the generated Label Studio config (and so in every export).
ENTITY_TAG = "entities"
EVENT_TAG = "events"
TEXT_TAG = "text"

_NAME = r"^[A-Za-z][A-Za-z0-9_\-]*$"


class LabelSpec(StrictConfig):
    name: str = Field(pattern=_NAME)
    description: str = ""
    color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    hotkey: str | None = None


class EventSpec(LabelSpec):
    """An event label with its meaning in event-data standards (used by structured records)."""

    type: str = Field(pattern=_NAME)
    mode: str | None = None
    cameo: str | None = None
    plover: str | None = None


class RelationSpec(StrictConfig):
    name: str = Field(pattern=_NAME)
    description: str = ""


class Schema(StrictConfig):
    language: str = Field(default="de", min_length=2)
    entities: list[LabelSpec] = Field(min_length=1)
    events: list[EventSpec] = Field(default_factory=list)
    relations: list[RelationSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Schema:
        names = [spec.name for spec in (*self.entities, *self.events)]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"label names must be unique across entities and events; repeated: {', '.join(dupes)}")
        rels = [spec.name for spec in self.relations]
        rel_dupes = sorted({n for n in rels if rels.count(n) > 1})
        if rel_dupes:
            raise ValueError(f"relation names must be unique; repeated: {', '.join(rel_dupes)}")
        hotkeys = [spec.hotkey for spec in (*self.entities, *self.events) if spec.hotkey]
        key_dupes = sorted({k for k in hotkeys if hotkeys.count(k) > 1})
        if key_dupes:
            raise ValueError(f"hotkeys must be unique; repeated: {', '.join(key_dupes)}")
        return self

    @property
    def entity_labels(self) -> list[str]:
        return [spec.name for spec in self.entities]

    @property
    def event_labels(self) -> list[str]:
        return [spec.name for spec in self.events]

    @property
    def relation_labels(self) -> list[str]:
        return [spec.name for spec in self.relations]

    def event(self, name: str) -> EventSpec:
        for spec in self.events:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @cached_property
    def hash(self) -> str:
        """Stable hash of the schema's content (recorded with every model version)."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def label_config(self) -> str:
        """The Label Studio labeling config (XML) for this schema."""
        lines = ["<View>", '  <Header value="$title"/>']
        if self.relations:
            lines.append("  <Relations>")
            lines += [f"    <Relation value={quoteattr(r.name)}/>" for r in self.relations]
            lines.append("  </Relations>")
        lines += _labels_block(ENTITY_TAG, self.entities)
        if self.events:
            lines += _labels_block(EVENT_TAG, self.events)
        lines.append(f'  <Text name="{TEXT_TAG}" value="$text"/>')
        lines.append("</View>")
        return "\n".join(lines) + "\n"


def _labels_block(tag: str, specs: list[LabelSpec] | list[EventSpec]) -> list[str]:
    lines = [f'  <Labels name="{tag}" toName="{TEXT_TAG}">']
    for spec in specs:
        attrs = [f"value={quoteattr(spec.name)}"]
        if spec.color:
            attrs.append(f"background={quoteattr(spec.color)}")
        if spec.hotkey:
            attrs.append(f"hotkey={quoteattr(spec.hotkey)}")
        if spec.description:
            attrs.append(f"hint={quoteattr(spec.description)}")
        lines.append(f"    <Label {' '.join(attrs)}/>")
    lines.append("  </Labels>")
    return lines


def load_schema(path: Path) -> Schema:
    """Read and validate a schema file; errors name the file and each invalid field."""
    return load_config(Path(path), Schema, what="Schema file")
