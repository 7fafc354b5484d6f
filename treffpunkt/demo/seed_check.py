"""Does a model find the main meeting event of each raw seed article? (``corpus/gold/seed-events.yaml``)

The seeds are the five web-page dumps the project started from; the gold news corpus does not contain them, so a
model trained on it meets them as unseen news. :func:`check_seeds` cleans the seed files exactly as ``treffpunkt
predict`` does, predicts their event records with a model version and checks, per seed, whether one record has
the expected label, parties and place (the file's header says how names match).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from treffpunkt.annotation.ingest.corpus import IngestOptions, articles_from_paths
from treffpunkt.core.config import StrictConfig, load_config
from treffpunkt.core.io import write_json
from treffpunkt.core.resources import demo_corpus
from treffpunkt.core.workspace import Workspace
from treffpunkt.training.predict.batch import model_spec, predict, read_records


class SeedEvent(StrictConfig):
    event: str
    label: str
    actors: list[str] = []
    place: list[str] = []


class SeedEvents(StrictConfig):
    version: int
    seeds: dict[str, SeedEvent]


@dataclass
class SeedResult:
    file: str
    expected: SeedEvent
    record: dict[str, Any] | None = None  # the record that matches, if any
    nearest: list[str] = field(default_factory=list)  # why the closest records of the right label fail

    @property
    def ok(self) -> bool:
        return self.record is not None


def seed_events_path() -> Path:
    return demo_corpus() / "gold" / "seed-events.yaml"


def load_seed_events(path: Path | None = None) -> SeedEvents:
    return load_config(Path(path) if path else seed_events_path(), SeedEvents, what="Seed events")


def _missing(wanted: Sequence[str], entities: Sequence[dict[str, Any]]) -> list[str]:
    """The entries of ``wanted`` that no entity's text contains (case-insensitively)."""
    names = [e["text"].casefold() for e in entities]
    return [w for w in wanted if not any(w.casefold() in n for n in names)]


def record_misses(record: dict[str, Any], expected: SeedEvent) -> list[str]:
    """What ``record`` lacks of ``expected`` (empty: it matches)."""
    if record["label"] != expected.label:
        return [f"label {record['label']}"]
    misses = [f"actor {a}" for a in _missing(expected.actors, [*record["actors"], *record["recipients"]])]
    location = [record["location"]] if record.get("location") else []
    if expected.place and len(_missing(expected.place, location)) == len(expected.place):  # none of them matches
        misses.append(f"place {'/'.join(expected.place)}")
    return misses


def match_seed(file: str, expected: SeedEvent, records: Sequence[dict[str, Any]]) -> SeedResult:
    result = SeedResult(file, expected)
    for record in records:
        misses = record_misses(record, expected)
        if not misses:
            result.record = record
            return result
        if record["label"] == expected.label:
            result.nearest.append(f"{record['evidence']['text'][:60]!r}: no {', '.join(misses)}")
    if not result.nearest:
        result.nearest.append(f"no {expected.label} record")
    return result


def check_seeds(
    ws: Workspace, version: str | Path, *, seeds: Path | None = None, out: Path | None = None
) -> list[SeedResult]:
    """Predict the raw seed files with ``version`` and check each seed's main event (in file order)."""
    expected = load_seed_events()
    folder = Path(seeds) if seeds else demo_corpus() / "seeds"
    articles, _ = articles_from_paths(sorted(folder.glob("*.txt")), options=IngestOptions(progress=False))
    spec = model_spec(ws, version)
    out = out or ws.root / "predictions" / f"{spec.model_version}-seeds"
    predict(spec, articles, out)
    by_article: dict[str, list[dict[str, Any]]] = {}
    for record in read_records(out):
        by_article.setdefault(record["article_id"], []).append(record)
    file_of = {a.id: Path(a.origin.path).name for a in articles}
    records_of = {file_of[aid]: recs for aid, recs in by_article.items()}
    return [match_seed(name, exp, records_of.get(name, [])) for name, exp in expected.seeds.items()]


def write_seed_check(results: Sequence[SeedResult], path: Path) -> Path:
    """The check as JSON beside the model version: per seed the expectation, the matching record or why none did."""
    rows = [
        {
            "file": r.file,
            "ok": r.ok,
            "expected": r.expected.model_dump(),
            "record": r.record,
            "nearest": r.nearest,
        }
        for r in results
    ]
    write_json(path, {"passed": sum(r.ok for r in results), "seeds": len(results), "results": rows})
    return path
