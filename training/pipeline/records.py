"""Event records: one PLOVER-like JSON object per event a model version finds in an article.

The format is documented in docs/records.md. Every mapping (event label → type/mode/CAMEO/PLOVER, role →
record field, which entity labels are dates) comes from ``configs/schema.yaml`` and ``configs/roles.yaml``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from treffpunkt.core.schema import Schema
from treffpunkt.training.pipeline.dates import DateValue, normalise_date, parse_published
from treffpunkt.training.pipeline.roles import RoleAssigner, RolesConfig

RECORD_FORMAT = 1


def event_id(article_id: str, start: int, end: int, label: str) -> str:
    """Stable id of an event: the same article, sentence and label always give the same id."""
    return hashlib.sha256(f"{article_id}\x1f{start}\x1f{end}\x1f{label}".encode()).hexdigest()[:20]


def _entity(ent: Any, role: str | None) -> dict[str, Any]:
    return {"text": ent.text, "label": ent.label_, "start": ent.start_char, "end": ent.end_char, "role": role}


def _evidence(event: Any) -> dict[str, Any]:
    """The event sentence without surrounding whitespace (offsets adjusted to match)."""
    text = event.text
    lead = len(text) - len(text.lstrip())
    body = text.strip()
    return {"text": body, "start": event.start_char + lead, "end": event.start_char + lead + len(body)}


@dataclass
class RecordBuilder:
    """Turns a predicted Doc of one article into event records."""

    schema: Schema
    roles: RoleAssigner
    config: RolesConfig
    model_version: str

    def records(self, doc: Any, article_id: str, published: str | dt.date | None) -> list[dict[str, Any]]:
        events = doc.spans.get("events", [])
        if not len(events):
            return []
        scores = list(events.attrs.get("scores", [])) if hasattr(events, "attrs") else []
        pub = parse_published(published)
        labels = set(self.config.heuristic.time_labels)
        time_ents = [e for e in doc.ents if e.label_ in labels]  # fetched once: doc.ents builds new Spans per access
        dates = self._doc_dates(time_ents, pub)
        roles = self.roles.assign_doc(doc, list(events))
        out = []
        for i, event in enumerate(events):
            score = float(scores[i]) if i < len(scores) else None
            out.append(self._record(doc, event, roles[i], score, article_id, pub, time_ents, dates))
        return out

    def _doc_dates(self, time_ents: list[Any], published: dt.date | None) -> dict[int, DateValue]:
        """All date entities of the doc, resolved in text order so "am Vortag" chains to the last date named."""
        resolved: dict[int, DateValue] = {}
        anchor = None
        for ent in time_ents:
            value = normalise_date(ent.text, published, anchor=anchor)
            resolved[ent.start_char] = value
            if value.granularity == "day":
                anchor = value.anchor
        return resolved

    def _record(
        self,
        doc: Any,
        event: Any,
        assigned: list[tuple[Any, str]],
        score: float | None,
        article_id: str,
        published: dt.date | None,
        time_ents: list[Any],
        dates: dict[int, DateValue],
    ) -> dict[str, Any]:
        spec = self.schema.event(event.label_) if event.label_ in self.schema.event_labels else None
        fields = self.config.record
        actors, recipients, others, locations, times = [], [], [], [], []
        for ent, role in assigned:
            item = _entity(ent, role)
            if role in fields.actors:
                actors.append(item)
            elif role in fields.recipients:
                recipients.append(item)
            elif role in fields.location:
                locations.append(item)
            elif role in fields.time:
                times.append(item)
            else:
                others.append(item)
        return {
            "event_id": event_id(article_id, event.start_char, event.end_char, event.label_),
            "article_id": article_id,
            "label": event.label_,
            "type": spec.type if spec else None,
            "mode": spec.mode if spec else None,
            "cameo": spec.cameo if spec else None,
            "plover": spec.plover if spec else None,
            "actors": actors,
            "recipients": recipients,
            "others": others,
            "location": locations[0] if locations else None,
            "date": self._date(event, times, published, time_ents, dates),
            "evidence": _evidence(event),
            "score": score,
            "model_version": self.model_version,
        }

    def _date(
        self,
        event: Any,
        times: list[dict[str, Any]],
        published: dt.date | None,
        time_ents: list[Any],
        dates: dict[int, DateValue],
    ) -> dict[str, Any]:
        """The event's date, from the most specific source available (``source`` says which)."""
        in_sentence = [e for e in time_ents if event.start <= e.start and e.end <= event.end]
        earlier = [e for e in time_ents if e.end <= event.start]
        levels = [
            ("role", times),
            ("sentence", [_entity(e, None) for e in in_sentence]),
            ("document", [_entity(e, None) for e in earlier[-1:]]),  # only the nearest earlier date
        ]
        for source, items in levels:
            if not items:
                continue
            values = [(item, dates.get(item["start"]) or normalise_date(item["text"], published)) for item in items]
            # a date named for this event but not resolvable (relative, no publication date) stays unresolved:
            # falling back to an older, unrelated date of the article would misdate the event
            item, value = next(((i, v) for i, v in values if v.iso is not None), values[0])
            if value.iso is not None or source != "document":
                return {
                    **value.as_dict(),
                    "source": source,
                    "start": item["start"],
                    "end": item["end"],
                    "role": item["role"],
                }
        if published is not None:
            # nothing dated it: the publication date bounds it (the event happened or was announced by then)
            return {
                "text": None,
                "iso": published.isoformat(),
                "granularity": "day",
                "source": "published",
                "start": None,
                "end": None,
                "role": None,
            }
        return {
            "text": None,
            "iso": None,
            "granularity": None,
            "source": None,
            "start": None,
            "end": None,
            "role": None,
        }
