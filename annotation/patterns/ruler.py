"""Cold-start pre-annotations without a model: German trigger and entity patterns (``configs/patterns/*.jsonl``).

Each line is a spaCy ``SpanRuler`` pattern: ``{"label": ..., "pattern": ...}``. Event labels of the schema become
trigger spans in ``doc.spans["event_triggers"]``; entity labels (ROLE, DATE, ...) become ``doc.ents``. Patterns of
separable verbs match the whole frame ("lud ... ein", "sagte ... ab") and carry ``"id": "finite"``: the span is
then cut to its first token, the finite verb, as the guidelines (section 3.3) mark it. The version name
``patterns-<hash>`` changes whenever a pattern changes, so Label Studio tells pattern pre-annotations apart.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from treffpunkt.core.errors import ConfigError
from treffpunkt.core.resources import default_config
from treffpunkt.core.schema import Schema
from treffpunkt.core.sentences import sentence_pipeline
from treffpunkt.core.workspace import Workspace

TRIGGERS_KEY = "event_triggers"
SENTENCES_KEY = "events"
FINITE = "finite"


def patterns_dir(ws: Workspace | None = None) -> Path:
    """The workspace's ``configs/patterns/`` if it has one, else the shipped patterns."""
    own = ws.configs_dir / "patterns" if ws is not None else None
    return own if own is not None and own.is_dir() else default_config("patterns")


def read_pattern_file(file: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) of each pattern in one JSONL file; blank and ``//`` lines skipped, malformed ones refused."""
    rows = []
    for n, line in enumerate(Path(file).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ConfigError(f"{file}:{n} is not a JSON object: {err}") from err
        if not isinstance(row, dict) or "label" not in row or "pattern" not in row:
            raise ConfigError(
                f"{file}:{n} needs a label and a pattern.",
                hint='e.g. {"label": "CONSULT_PHONE", "pattern": "telefonierte"}',
            )
        rows.append((n, row))
    return rows


def load_patterns(folder: Path, schema: Schema) -> list[dict[str, Any]]:
    """Every pattern of ``folder/*.jsonl`` (sorted by file name); labels must exist in the schema."""
    files = sorted(Path(folder).glob("*.jsonl"))
    if not files:
        raise ConfigError(f"No pattern files (*.jsonl) in {folder}.", hint="See the shipped configs/patterns/.")
    known = set(schema.entity_labels) | set(schema.event_labels)
    patterns = []
    for file in files:
        for n, row in read_pattern_file(file):
            if row["label"] not in known:
                raise ConfigError(
                    f"{file}:{n}: label {row['label']!r} is not in the schema.",
                    hint="Use the schema's entity and event labels, or drop the pattern.",
                )
            patterns.append(row)
    return patterns


def patterns_version(patterns: list[dict[str, Any]]) -> str:
    digest = hashlib.sha256(json.dumps(patterns, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"patterns-{digest[:8]}"


@Language.component("treffpunkt_pattern_triggers_v1")
def pattern_triggers(doc: Doc) -> Doc:
    """Cut separable-verb frames to the finite verb; derive the sentence-level ``events`` the models predict."""
    triggers = []
    for span in doc.spans.get(TRIGGERS_KEY, []):
        if span.id_ == FINITE and len(span) > 1:
            span = Span(doc, span.start, span.start + 1, label=span.label_)
        triggers.append(span)
    unique = {(s.start, s.end, s.label_): s for s in triggers}
    doc.spans[TRIGGERS_KEY] = sorted(unique.values(), key=lambda s: (s.start, s.end, s.label_))
    sentences = {(s.sent.start, s.sent.end, s.label_) for s in doc.spans[TRIGGERS_KEY]}
    doc.spans[SENTENCES_KEY] = [Span(doc, a, b, label=label) for a, b, label in sorted(sentences)]
    return doc


def build_pipeline(schema: Schema, patterns: list[dict[str, Any]]) -> Language:
    """A blank pipeline of the schema's language: sentencizer, trigger and entity rulers, trigger post-processing."""
    nlp = sentence_pipeline(schema.language)
    events, entities = set(schema.event_labels), set(schema.entity_labels)
    trigger_ruler = nlp.add_pipe(
        "span_ruler", name="trigger_ruler", config={"spans_key": TRIGGERS_KEY, "overwrite": False}
    )
    trigger_ruler.add_patterns([p for p in patterns if p["label"] in events])
    entity_ruler = nlp.add_pipe(
        "span_ruler", name="entity_ruler", config={"spans_key": None, "annotate_ents": True, "overwrite": False}
    )
    entity_ruler.add_patterns([p for p in patterns if p["label"] in entities])
    nlp.add_pipe("treffpunkt_pattern_triggers_v1")
    return nlp


def pattern_pipeline(ws: Workspace | None, schema: Schema, folder: Path | None = None) -> tuple[Language, str]:
    """The pattern pipeline of a workspace (or ``folder``) and its version name."""
    patterns = load_patterns(folder or patterns_dir(ws), schema)
    return build_pipeline(schema, patterns), patterns_version(patterns)
