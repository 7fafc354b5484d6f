"""Build the gold standard of the seed articles from a human-written spec (``corpus/gold/spec.yaml``).

The spec names phrases, never offsets: offsets are computed here against the cleaned text that annotators see,
so a change of the cleaner regenerates them (or fails loudly when a phrase no longer resolves). The output is a
Label Studio JSON export (one task per seed, one ground-truth annotation) that ``annotate convert`` and
``quickstart`` read like any other export.

Spec grammar (per seed file name):

- ``entities``: ``[phrase, LABEL]`` (phrase must be unique in the text), ``[phrase, LABEL, n]`` (n-th token-aligned
  occurrence, 0-based), ``[phrase, LABEL, all]`` (every token-aligned occurrence not already covered by another
  entity), or a mapping ``{text, label, n, in, optional}`` where ``in`` is a context string that occurs exactly
  once and contains the phrase, and ``optional: true`` marks boilerplate that the cleaner may drop.
- ``events``: mappings ``{id, text, label, n, in, optional, <role>: [ref, ...]}``; a ref is an entity phrase
  (the entity span with that text nearest to the event), ``"phrase#k"`` (the k-th entity span with that text),
  or ``{text, in}``.

Occurrences only count where the phrase starts and ends on spaCy token boundaries (``spacy.blank(lang)``), so
"Nato" never matches inside the one-token compound "Nato-Staaten".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import spacy

from treffpunkt.annotation.ingest.corpus import IngestOptions, articles_from_paths
from treffpunkt.core.article import Article
from treffpunkt.core.config import read_yaml
from treffpunkt.core.errors import InputError
from treffpunkt.core.io import write_json
from treffpunkt.core.resources import default_config, demo_corpus
from treffpunkt.core.schema import ENTITY_TAG, EVENT_TAG, TEXT_TAG, Schema, load_schema


def default_spec() -> Path:
    return demo_corpus() / "gold" / "spec.yaml"


def default_seeds() -> Path:
    return demo_corpus() / "seeds"


def default_out() -> Path:
    return demo_corpus() / "gold" / "seeds.json"


#: Relations that make an event "have an actor": every event needs at least one of them.
ACTOR_ROLES = ("participant", "host", "visitor", "initiator")
#: A plain entity ref resolves to the nearest entity with that text; farther than this is an error.
MAX_REF_DISTANCE = 600


class GoldSpecError(InputError):
    """The gold spec does not resolve against the cleaned text."""


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str
    text: str


@dataclass
class SeedGold:
    """The resolved gold of one seed article."""

    name: str
    data: dict[str, Any]
    entities: list[Span] = field(default_factory=list)
    events: dict[str, Span] = field(default_factory=dict)
    relations: list[tuple[str, str, Span]] = field(default_factory=list)  # (event id, role, entity)
    skipped_optional: list[str] = field(default_factory=list)


@dataclass
class GoldResult:
    tasks: list[dict[str, Any]]
    seeds: list[SeedGold]

    def counts(self) -> dict[str, int]:
        return {
            "tasks": len(self.seeds),
            "entities": sum(len(s.entities) for s in self.seeds),
            "events": sum(len(s.events) for s in self.seeds),
            "relations": sum(len(s.relations) for s in self.seeds),
            "optional_absent": sum(len(s.skipped_optional) for s in self.seeds),
        }


# ---------------------------------------------------------------------------------------------- cleaned text


def load_articles(paths: list[Path]) -> list[dict[str, Any]]:
    """Task data for each seed exactly as ingestion makes it (id, title, cluster, published as the corpus stores them)."""
    articles, report = articles_from_paths(paths, options=IngestOptions(progress=False))
    by_path = {Path(a.origin.path).resolve(): a for a in articles}
    lost = [p for p in paths if p.resolve() not in by_path]
    if lost:
        reasons = {Path(i.path).name: i.reason or i.status for i in report.items}
        listed = ", ".join(f"{p.name} ({reasons.get(p.name, 'no article')})" for p in lost)
        raise GoldSpecError(
            f"Ingestion produced no article for seed(s): {listed}.",
            hint="The gold needs one article per seed; check the cleaner and ingestion config.",
        )
    return [task_data(by_path[path.resolve()]) for path in paths]


def task_data(art: Article) -> dict[str, Any]:
    """The Label Studio task data of an article (what ``annotate push`` sends)."""
    return {
        "text": art.text,
        "title": art.title or "",
        "article_id": art.id,
        "cluster": art.cluster,
        "source": art.source,
        "url": art.url,
        "published": art.published,
    }


# ---------------------------------------------------------------------------------------------- resolving


class _Resolver:
    """Finds token-aligned phrase occurrences in one text."""

    def __init__(self, name: str, text: str, nlp: Any) -> None:
        self.name = name
        self.text = text
        doc = nlp.make_doc(text)
        self.starts = {t.idx for t in doc}
        self.ends = {t.idx + len(t.text) for t in doc}

    def aligned(self, start: int, end: int) -> bool:
        return start in self.starts and end in self.ends

    def occurrences(self, phrase: str, lo: int = 0, hi: int | None = None) -> list[int]:
        hi = len(self.text) if hi is None else hi
        found = []
        pos = self.text.find(phrase, lo)
        while pos != -1 and pos + len(phrase) <= hi:
            if self.aligned(pos, pos + len(phrase)):
                found.append(pos)
            pos = self.text.find(phrase, pos + 1)
        return found

    def locate(self, phrase: str, *, n: int | None, context: str | None, what: str) -> int | None:
        """Start offset of the phrase, or None if absent; raises when ambiguous or out of range."""
        lo, hi = 0, len(self.text)
        if context is not None:
            hits = [m.start() for m in re.finditer(re.escape(context), self.text)]
            if len(hits) > 1:
                raise GoldSpecError(
                    f"{self.name}: context {context!r} of {what} occurs {len(hits)} times.",
                    hint="Lengthen the `in:` context until it is unique.",
                )
            if not hits:
                return None
            lo, hi = hits[0], hits[0] + len(context)
        occ = self.occurrences(phrase, lo, hi)
        if not occ:
            return None
        if n is None:
            if len(occ) > 1:
                where = f" inside {context!r}" if context else ""
                raise GoldSpecError(
                    f"{self.name}: {what} is ambiguous: {len(occ)} token-aligned occurrences{where}.",
                    hint="Give `n` (0-based occurrence) or an `in:` context that occurs once.",
                )
            return occ[0]
        if n >= len(occ):
            raise GoldSpecError(
                f"{self.name}: {what} wants occurrence {n}, the text has {len(occ)}.",
                hint="Recount the occurrences in the cleaned text (0-based).",
            )
        return occ[n]


def _entity_entry(raw: Any) -> dict[str, Any]:
    if isinstance(raw, list):
        if len(raw) not in (2, 3):
            raise GoldSpecError(f"Entity entry {raw!r} must be [phrase, LABEL] or [phrase, LABEL, n|all].")
        entry: dict[str, Any] = {"text": str(raw[0]), "label": raw[1]}
        if len(raw) == 3:
            entry["n"] = raw[2]
        return entry
    if isinstance(raw, dict) and "text" in raw and "label" in raw:
        return {**raw, "text": str(raw["text"])}
    raise GoldSpecError(f"Entity entry {raw!r} needs a phrase and a label.")


def _overlaps(span: Span, spans: list[Span]) -> Span | None:
    return next((s for s in spans if s.start < span.end and span.start < s.end), None)


def resolve_seed(name: str, data: dict[str, Any], spec: dict[str, Any], schema: Schema, nlp: Any) -> SeedGold:
    """Turn one seed's spec into spans and relations against ``data["text"]``; raises on any inconsistency."""
    text = data["text"]
    res = _Resolver(name, text, nlp)
    gold = SeedGold(name=name, data=data)
    known = set(spec) - {"entities", "events"}
    if known:
        raise GoldSpecError(f"{name}: unknown spec keys {sorted(known)}.")

    entries = [_entity_entry(raw) for raw in spec.get("entities") or []]
    # Explicit entries first, then `all` entries longest phrase first, so "Waleri Gerassimow" wins over "Gerassimow".
    explicit = [e for e in entries if e.get("n") != "all"]
    every = sorted((e for e in entries if e.get("n") == "all"), key=lambda e: -len(e["text"]))
    for entry in explicit:
        _check_label(name, entry["label"], schema.entity_labels, "entity")
        what = f"entity {entry['text']!r} ({entry['label']})"
        start = res.locate(entry["text"], n=entry.get("n"), context=entry.get("in"), what=what)
        if start is None:
            if entry.get("optional"):
                gold.skipped_optional.append(what)
                continue
            raise GoldSpecError(
                f"{name}: {what} not found as whole tokens in the cleaned text.",
                hint="Fix the phrase in corpus/gold/spec.yaml, or mark boilerplate `optional: true`.",
            )
        span = Span(start, start + len(entry["text"]), entry["label"], entry["text"])
        clash = _overlaps(span, gold.entities)
        if clash:
            raise GoldSpecError(
                f"{name}: {what} at {span.start} overlaps entity {clash.text!r} ({clash.label}).",
                hint="The entity layer must not overlap; drop or shorten one of them.",
            )
        gold.entities.append(span)
    for entry in every:
        _check_label(name, entry["label"], schema.entity_labels, "entity")
        placed = 0
        for start in res.occurrences(entry["text"], 0, None) if entry.get("in") is None else []:
            span = Span(start, start + len(entry["text"]), entry["label"], entry["text"])
            if _overlaps(span, gold.entities):
                continue  # inside a longer entity ("Gerassimow" in "Waleri Gerassimow")
            gold.entities.append(span)
            placed += 1
        if entry.get("in") is not None:
            raise GoldSpecError(f"{name}: entity {entry['text']!r} combines `all` with `in:`; use one of them.")
        if not placed and not entry.get("optional"):
            raise GoldSpecError(
                f"{name}: entity {entry['text']!r} ({entry['label']}, all) matched nowhere.",
                hint="Fix the phrase, or mark it `optional: true` if it is boilerplate.",
            )
        if not placed:
            gold.skipped_optional.append(f"entity {entry['text']!r} ({entry['label']}, all)")
    gold.entities.sort(key=lambda s: (s.start, s.end))

    role_names = set(schema.relation_labels)
    for raw in spec.get("events") or []:
        if not isinstance(raw, dict) or not {"id", "text", "label"} <= set(raw):
            raise GoldSpecError(f"{name}: event entry {raw!r} needs id, text and label.")
        ev_id, label = str(raw["id"]), raw["label"]
        _check_label(name, label, schema.event_labels, "event")
        unknown = set(raw) - {"id", "text", "label", "n", "in", "optional"} - role_names
        if unknown:
            raise GoldSpecError(
                f"{name}: event {ev_id} has unknown keys {sorted(unknown)}.",
                hint=f"Roles come from the schema: {', '.join(schema.relation_labels)}.",
            )
        if ev_id in gold.events:
            raise GoldSpecError(f"{name}: event id {ev_id!r} is used twice.")
        what = f"event {ev_id} {raw['text']!r} ({label})"
        start = res.locate(raw["text"], n=raw.get("n"), context=raw.get("in"), what=what)
        if start is None:
            if raw.get("optional"):
                gold.skipped_optional.append(what)
                continue
            raise GoldSpecError(
                f"{name}: {what} not found as whole tokens in the cleaned text.",
                hint="Fix the phrase or context in corpus/gold/spec.yaml.",
            )
        span = Span(start, start + len(raw["text"]), label, raw["text"])
        if any(s.start == span.start and s.end == span.end for s in gold.events.values()):
            raise GoldSpecError(f"{name}: {what} has the same span as another event.")
        gold.events[ev_id] = span
        for role in sorted(role_names & set(raw)):
            refs = raw[role] if isinstance(raw[role], list) else [raw[role]]
            for ref in refs:
                gold.relations.append((ev_id, role, _resolve_ref(res, gold.entities, span, ref, f"{what} {role}")))
        if not any(r[0] == ev_id and r[1] in ACTOR_ROLES for r in gold.relations):
            raise GoldSpecError(
                f"{name}: {what} has no actor relation ({', '.join(ACTOR_ROLES)}).",
                hint="Every event needs at least one participant (or host/visitor) or initiator.",
            )
    return gold


def _check_label(name: str, label: str, allowed: list[str], layer: str) -> None:
    if label not in allowed:
        raise GoldSpecError(f"{name}: {label!r} is not an {layer} label of the schema ({', '.join(allowed)}).")


def _resolve_ref(res: _Resolver, entities: list[Span], event: Span, ref: Any, what: str) -> Span:
    if isinstance(ref, dict):
        start = res.locate(ref["text"], n=ref.get("n"), context=ref.get("in"), what=f"{what} {ref['text']!r}")
        match = [e for e in entities if start is not None and e.start == start and e.end == start + len(ref["text"])]
        if not match:
            raise GoldSpecError(f"{res.name}: {what} {ref!r} is not an annotated entity.")
        return match[0]
    phrase, _, index = str(ref).partition("#")
    same = [e for e in entities if e.text == phrase]
    if not same:
        raise GoldSpecError(
            f"{res.name}: {what} refers to {phrase!r}, which is not an annotated entity.",
            hint="Annotate the entity first, or fix the phrase.",
        )
    if index:
        k = int(index)
        if k >= len(same):
            raise GoldSpecError(f"{res.name}: {what} wants entity {phrase!r}#{k}; there are {len(same)}.")
        return same[k]

    def distance(e: Span) -> int:
        return max(e.start - event.end, event.start - e.end, 0)

    same.sort(key=distance)
    if len(same) > 1 and distance(same[0]) == distance(same[1]):
        raise GoldSpecError(f"{res.name}: {what} {phrase!r} is equally near twice; write {phrase}#k.")
    if distance(same[0]) > MAX_REF_DISTANCE:
        raise GoldSpecError(
            f"{res.name}: nearest {phrase!r} is {distance(same[0])} characters from {what}.",
            hint=f"Relations reach at most {MAX_REF_DISTANCE} characters; check the reference.",
        )
    return same[0]


# ---------------------------------------------------------------------------------------------- export


def _region_id(layer: str, span: Span) -> str:
    return hashlib.sha1(f"{layer}:{span.start}:{span.end}:{span.label}".encode()).hexdigest()[:10]


def to_task(task_id: int, gold: SeedGold) -> dict[str, Any]:
    """One Label Studio export task with a single ground-truth annotation."""
    result: list[dict[str, Any]] = []
    ids: dict[tuple[str, Span], str] = {}
    for layer, spans in ((ENTITY_TAG, gold.entities), (EVENT_TAG, list(gold.events.values()))):
        for span in spans:
            rid = ids[(layer, span)] = _region_id(layer, span)
            result.append(
                {
                    "id": rid,
                    "from_name": layer,
                    "to_name": TEXT_TAG,
                    "type": "labels",
                    "origin": "manual",
                    "value": {"start": span.start, "end": span.end, "text": span.text, "labels": [span.label]},
                }
            )
    for ev_id, role, ent in gold.relations:
        result.append(
            {
                "from_id": ids[(EVENT_TAG, gold.events[ev_id])],
                "to_id": ids[(ENTITY_TAG, ent)],
                "type": "relation",
                "direction": "right",
                "labels": [role],
            }
        )
    annotation = {
        "id": task_id,
        "completed_by": 1,
        "result": result,
        "was_cancelled": False,
        "ground_truth": True,
        "lead_time": 0.0,
        "task": task_id,
        "result_count": len(result),
    }
    return {
        "id": task_id,
        "data": gold.data,
        "annotations": [annotation],
        "predictions": [],
        "meta": {"gold_seed": gold.name},
    }


def build_gold(schema: Schema, *, spec_path: Path | None = None, seeds_dir: Path | None = None) -> GoldResult:
    """Resolve the spec against the cleaned seeds and return the Label Studio export (not written)."""
    spec_path, seeds_dir = spec_path or default_spec(), seeds_dir or default_seeds()
    spec = read_yaml(Path(spec_path), what="Gold spec") or {}
    seeds_spec: dict[str, Any] = spec.get("seeds") or {}
    paths = [Path(seeds_dir) / name for name in seeds_spec]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise GoldSpecError(f"Seed files named in the spec are missing: {', '.join(missing)}.")
    rows = load_articles(paths)
    nlp = spacy.blank(schema.language)
    seeds = [
        resolve_seed(p.name, row, seeds_spec[p.name] or {}, schema, nlp) for p, row in zip(paths, rows, strict=True)
    ]
    tasks = [to_task(i, gold) for i, gold in enumerate(seeds, start=1)]
    return GoldResult(tasks=tasks, seeds=seeds)


def write_gold(result: GoldResult, out: Path | None = None) -> Path:
    out = out or default_out()
    write_json(out, result.tasks)
    return out


if __name__ == "__main__":  # `python -m treffpunkt.demo.gold`: rebuild corpus/gold/seeds.json
    built = build_gold(load_schema(default_config("schema.yaml")))
    print(write_gold(built), built.counts())
