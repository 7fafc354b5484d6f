"""spaCy ``Doc`` → Label Studio prediction (``result`` regions, ``score``), following the predictions contract
in docs/architecture.md. Labels the schema lacks are not sent; they are counted in a :class:`PredictionReport`.

Offsets: Label Studio's text UI counts in UTF-16 code units (JavaScript strings), Python in code points. Texts
with characters outside the BMP (emoji) get their offsets converted, so pre-annotations sit on the right words.

Task score ("certainty", 0..1, higher = more certain; Label Studio's uncertainty sampling serves low scores first):
the least certain decision in the document. Each event label per sentence with probability p contributes
``|2p - 1|`` (0 at p = 0.5, 1 at p = 0 or 1), from ``doc.user_data["event_scores"]`` when the model writes them,
else from ``doc.spans["events"].attrs["scores"]``. Models without event scores give ``None`` (no score).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from treffpunkt.core.schema import ENTITY_TAG, EVENT_TAG, TEXT_TAG, Schema

if TYPE_CHECKING:
    from spacy.tokens import Doc


@dataclass
class PredictionReport:
    """What the model predicted that the schema cannot show: (layer, label) -> count."""

    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)
    regions: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "regions": self.regions,
            "skipped": [{"layer": k[0], "label": k[1], "count": n} for k, n in sorted(self.skipped.items())],
        }


def utf16_offsets(text: str) -> list[int] | None:
    """Map code-point offsets to UTF-16 offsets, or None when they coincide (no astral characters)."""
    if len(text.encode("utf-16-le", "surrogatepass")) == 2 * len(text):
        return None
    table = [0] * (len(text) + 1)
    pos = 0
    for i, ch in enumerate(text):
        table[i] = pos
        pos += 2 if ord(ch) >= 0x10000 else 1
    table[len(text)] = pos
    return table


def _region(
    rid: str, control: str, text: str, start: int, end: int, label: str, table: list[int] | None, score: float | None
) -> dict[str, Any]:
    region: dict[str, Any] = {
        "id": rid,
        "from_name": control,
        "to_name": TEXT_TAG,
        "type": "labels",
        "origin": "prediction",
        "value": {
            "start": table[start] if table else start,
            "end": table[end] if table else end,
            "text": text[start:end],
            "labels": [label],
        },
    }
    if score is not None:
        region["score"] = float(score)
    return region


def doc_to_prediction(
    doc: Doc, schema: Schema, *, model_version: str, report: PredictionReport | None = None
) -> dict[str, Any]:
    """One Label Studio prediction (``model_version``, ``score``, ``result``) for a processed Doc."""
    report = report if report is not None else PredictionReport()
    text = doc.text
    table = utf16_offsets(text)
    entity_labels, event_labels, roles = (
        set(schema.entity_labels),
        set(schema.event_labels),
        set(schema.relation_labels),
    )
    result: list[dict[str, Any]] = []
    by_span: dict[tuple[int, int, str], str] = {}  # (start, end, layer) -> region id, for relations

    for i, ent in enumerate(doc.ents):
        if ent.label_ not in entity_labels:
            report.skipped[(ENTITY_TAG, ent.label_)] += 1
            continue
        rid = f"e{i}"
        result.append(_region(rid, ENTITY_TAG, text, ent.start_char, ent.end_char, ent.label_, table, None))
        by_span[(ent.start_char, ent.end_char, ENTITY_TAG)] = rid

    # Trigger spans (the words, e.g. from the cold-start patterns) when the pipeline marks them, else sentences.
    event_spans = doc.spans.get("event_triggers") or doc.spans.get("events", [])
    span_scores = _span_scores(event_spans)
    if schema.events:
        for i, span in enumerate(event_spans):
            if span.label_ not in event_labels:
                report.skipped[(EVENT_TAG, span.label_)] += 1
                continue
            rid = f"v{i}"
            score = span_scores[i] if span_scores is not None else None
            result.append(_region(rid, EVENT_TAG, text, span.start_char, span.end_char, span.label_, table, score))
            by_span.setdefault((span.start_char, span.end_char, EVENT_TAG), rid)

    for rel in doc.user_data.get("relations") or []:
        role = rel.get("role")
        source = by_span.get((int(rel["event"][0]), int(rel["event"][1]), EVENT_TAG))
        target = by_span.get((int(rel["arg"][0]), int(rel["arg"][1]), ENTITY_TAG))
        if role not in roles or source is None or target is None:
            reason = "unknown role" if role not in roles else "no matching event/entity span"
            report.skipped[("relation", f"{role} ({reason})")] += 1
            continue
        result.append({"type": "relation", "from_id": source, "to_id": target, "direction": "right", "labels": [role]})

    report.regions += len(result)
    prediction: dict[str, Any] = {"model_version": model_version, "result": result}
    score = certainty(doc, span_scores)
    if score is not None:
        prediction["score"] = score
    return prediction


def _span_scores(spans: Any) -> list[float] | None:
    scores = getattr(spans, "attrs", {}).get("scores") if spans is not None and hasattr(spans, "attrs") else None
    if scores is None:
        return None
    values = [float(s) for s in scores]
    return values if len(values) == len(spans) else None


def certainty(doc: Doc, span_scores: list[float] | None = None) -> float | None:
    """1 - the largest uncertainty among the document's event decisions (see the module docstring)."""
    probabilities = list(_event_probabilities(doc.user_data.get("event_scores")))
    if not probabilities and span_scores:
        probabilities = span_scores
    if not probabilities:
        return None
    return round(min(abs(2 * p - 1) for p in probabilities), 6)


def _event_probabilities(raw: Any) -> Iterable[float]:
    """Label probabilities from ``event_scores`` however the sentences are keyed (dict or list of records)."""
    if raw is None:
        return
    items = raw.values() if isinstance(raw, Mapping) else raw
    for item in items:
        if isinstance(item, Mapping):
            scores = item.get("scores", item)
            if isinstance(scores, Mapping):
                for value in scores.values():
                    if isinstance(value, int | float):
                        yield float(value)
