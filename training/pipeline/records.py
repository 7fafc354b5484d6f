"""Event records: one PLOVER-like JSON object per event a model version finds in an article.

The format is documented in docs/records.md. Every mapping (event label → type/mode/CAMEO/PLOVER, role →
record field, which entity labels are dates) comes from ``configs/schema.yaml`` and ``configs/roles.yaml``.

Four readings of ``roles.yaml``'s ``article`` section (docs/records.md) look past the role assigner: whose session it
is takes part ("nach der Sitzung des NATO-Russland-Rates"); people a later sentence says took part ("Für die russische
Regierung nahmen … Gruschko … an dem Treffen im Nato-Hauptquartier teil") join the nearest meeting before it; the
place that opens the article ("Brüssel. Die Nato und Russland …", the dateline) is the place of an in-person meeting
that names none; and a "multilateral" meeting of two sides is re-read by where it took place. A record's location
says which source it came from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from treffpunkt.core.schema import Schema
from treffpunkt.training.pipeline.dates import DateValue, normalise_date, parse_published
from treffpunkt.training.pipeline.name_lists import country_codes
from treffpunkt.training.pipeline.roles import RoleAssigner, RolesConfig, is_place

RECORD_FORMAT = 1


def event_id(article_id: str, start: int, end: int, label: str) -> str:
    """Stable id of an event: the same article, sentence and label always give the same id."""
    return hashlib.sha256(f"{article_id}\x1f{start}\x1f{end}\x1f{label}".encode()).hexdigest()[:20]


def _entity(ent: Any, role: str | None) -> dict[str, Any]:
    return {"text": ent.text, "label": ent.label_, "start": ent.start_char, "end": ent.end_char, "role": role}


def _place(ent: Any, role: str | None, source: str) -> dict[str, Any]:
    return {**_entity(ent, role), "source": source}


def dateline(ents: Sequence[Any], labels: set[str]) -> Any | None:
    """The place that opens the article text: of the doc's ``ents``, one of ``labels`` starting a line and followed by
    "." or a dash ("Brüssel. Die NATO …", "Washington – Die USA …"); None when no line opens so."""
    for ent in ents:
        doc = ent.doc
        before = doc[ent.start - 1] if ent.start > 0 else None
        after = doc[ent.end] if ent.end < len(doc) else None
        starts_line = before is None or "\n" in before.text_with_ws
        if ent.label_ in labels and starts_line and after is not None and after.text in {".", "–", "—", "-"}:
            return ent
    return None


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
        ents = list(doc.ents)  # fetched once: doc.ents builds new Spans per access
        time_ents = [e for e in ents if e.label_ in labels]
        dates = self._doc_dates(time_ents, pub)
        roles = self.roles.assign_doc(doc, list(events))
        out = []
        for i, event in enumerate(events):
            score = float(scores[i]) if i < len(scores) else None
            out.append(self._record(doc, event, roles[i], score, article_id, pub, time_ents, dates))
        spans = list(events)
        self._add_session_holders(doc, ents, spans, out)
        self._add_participants(doc, ents, spans, out)
        self._add_dateline(ents, out)
        self._bilateral_mode(ents, spans, out)
        return out

    @cached_property
    def _patterns(self) -> dict[str, re.Pattern[str] | None]:
        """The ``article`` section's patterns, compiled once per builder (None where a list is empty)."""
        a = self.config.article

        def join(parts: list[str], suffix: str = "") -> re.Pattern[str] | None:
            return re.compile("(?:" + "|".join(parts) + ")" + suffix) if parts else None

        return {
            "bilateral": join(a.bilateral),
            "session_of": join(a.session_of, r"\s*$"),
            "participation": join(a.participation),
            "meeting": join(a.meeting_words),
        }

    def _bilateral_mode(self, ents: list[Any], events: list[Any], records: list[dict[str, Any]]) -> None:
        """A meeting of ``bilateral_from`` whose sentence speaks of two sides ("der Generalstabschefs beider
        Länder") is bilateral: at a place (from the sentence) in neither side's country it is a third-location
        meeting, in one side's country a visit. The sides are the two countries the article's places name most
        often (the meeting place itself not counted); the model's own label stays in ``model_label``."""
        article = self.config.article
        cue = self._patterns["bilateral"]
        if cue is None or not (article.bilateral_from and article.side_labels):
            return
        countries = country_codes()
        for event, record in zip(events, records, strict=True):
            place = record["location"]
            if event.label_ not in article.bilateral_from or not place or place["source"] == "dateline":
                continue
            where = countries.get(place["text"])
            if where is None or not cue.search(event.text):
                continue
            named = Counter(
                countries.get(e.text)
                for e in ents
                if e.label_ in article.side_labels and e.start_char != place["start"]
            )
            named.pop(None, None)
            sides = [code for code, _ in named.most_common(2)]
            label = article.visit_label if where in sides else article.third_location_label
            if len(sides) == 2 and label in self.schema.event_labels:
                spec = self.schema.event(label)
                record.update(model_label=record["label"], label=label, type=spec.type, mode=spec.mode)
                record.update(cameo=spec.cameo, plover=spec.plover)

    def _add_session_holders(self, doc: Any, ents: list[Any], events: list[Any], records: list[dict[str, Any]]) -> None:
        """Whose session, summit or meeting it is ("nach der ersten Sitzung des NATO-Russland-Rates"): an actor
        entity right after a ``session_of`` pattern in the sentence of a meeting record takes part in it."""
        pattern = self._patterns["session_of"]
        if pattern is None:
            return
        actor_labels = set(self.config.heuristic.actor_labels)
        for event, record in zip(events, records, strict=True):
            if not self._is_meeting(event.label_):
                continue
            known = {(a["start"], a["end"]) for a in [*record["actors"], *record["recipients"]]}
            for ent in (e for e in ents if event.start <= e.start and e.end <= event.end):
                before = doc.text[event.start_char : ent.start_char]
                if (
                    ent.label_ in actor_labels
                    and (ent.start_char, ent.end_char) not in known
                    and pattern.search(before)
                ):
                    record["actors"].append(_entity(ent, "participant"))

    def _add_participants(self, doc: Any, ents: list[Any], events: list[Any], records: list[dict[str, Any]]) -> None:
        """A later sentence without an event of its own that reports who took part in "the meeting" adds its
        actors (and its place, where the record has none) to the nearest meeting record at most
        ``participation_window`` sentences before it."""
        article = self.config.article
        took_part, meeting = self._patterns["participation"], self._patterns["meeting"]
        if took_part is None or meeting is None or not article.participation_types:
            return
        h = self.config.heuristic
        sentences = list(doc.sents)
        sentence_of = {s.start: n for n, s in enumerate(sentences)}
        event_sentences = {e.sent.start for e in events}
        for n, sent in enumerate(sentences):
            if sent.start in event_sentences or not (took_part.search(sent.text) and meeting.search(sent.text)):
                continue
            before = [
                i
                for i, e in enumerate(events)
                if self._is_meeting(e.label_)
                and 0 < n - sentence_of.get(e.sent.start, n) <= article.participation_window
            ]
            if not before:
                continue
            record = records[before[-1]]
            known = {(a["start"], a["end"]) for a in [*record["actors"], *record["recipients"], *record["others"]]}
            for ent in (e for e in ents if sent.start <= e.start and e.end <= sent.end):
                if is_place(ent, h):
                    if record["location"] is None:
                        record["location"] = _place(ent, "location", "participation")
                elif ent.label_ in h.actor_labels and (ent.start_char, ent.end_char) not in known:
                    record["actors"].append(_entity(ent, "participant"))

    def _add_dateline(self, ents: list[Any], records: list[dict[str, Any]]) -> None:
        article = self.config.article
        place = dateline(ents, set(article.dateline_labels)) if article.dateline_labels else None
        if place is None:
            return
        for record in records:
            if record["location"] is None and record["mode"] in article.dateline_modes:
                record["location"] = _place(place, None, "dateline")

    def _is_meeting(self, label: str) -> bool:
        types = self.config.article.participation_types
        return label in self.schema.event_labels and self.schema.event(label).type in types

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
            "location": {**locations[0], "source": "role"} if locations else None,
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
