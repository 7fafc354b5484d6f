"""``treffpunkt demo`` end to end with tiny budgets, and the check of the raw seeds' main meeting events."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SEEDS_DIR
from treffpunkt.demo.seed_check import SeedEvent, load_seed_events, match_seed, record_misses


def _record(label, actors=(), recipients=(), location=None, text="Satz."):
    ent = lambda name: {"text": name, "label": "PER", "start": 0, "end": len(name), "role": "participant"}  # noqa: E731
    return {
        "label": label,
        "actors": [ent(a) for a in actors],
        "recipients": [ent(r) for r in recipients],
        "location": ent(location) if location else None,
        "evidence": {"text": text, "start": 0, "end": len(text)},
    }


BAKU = SeedEvent(event="Baku", label="CONSULT_THIRD", actors=["Dunford", "Gerasimow"], place=["Baku"])


def test_seed_check_a_record_matches_on_label_parties_and_place():
    full = _record("CONSULT_THIRD", ["Joe Dunford"], ["Waleri Gerasimow"], "Baku")
    assert record_misses(full, BAKU) == []  # recipients count as parties; names match inside longer names
    assert record_misses(_record("CONSULT_MULTI", ["Dunford", "Gerasimow"], location="Baku"), BAKU) == [
        "label CONSULT_MULTI"
    ]
    assert record_misses(_record("CONSULT_THIRD", ["Dunford"], location="Baku"), BAKU) == ["actor Gerasimow"]
    assert record_misses(_record("CONSULT_THIRD", ["dunford", "GERASIMOW"]), BAKU) == ["place Baku"]
    either = SeedEvent(event="x", label="CONSULT_MULTI", actors=[], place=["Brüssel", "Nato-Hauptquartier"])
    assert record_misses(_record("CONSULT_MULTI", location="Nato-Hauptquartier"), either) == []


def test_seed_check_says_why_the_closest_records_fail():
    records = [
        _record("CONSULT_MULTI", ["Dunford"], text="Nach einem Treffen in Baku"),
        _record("CONSULT_THIRD", ["Dunford"], location="Baku", text="Treffen der Generalstabschefs"),
    ]
    result = match_seed("004.txt", BAKU, records)
    assert not result.ok
    assert result.nearest == ["'Treffen der Generalstabschefs': no actor Gerasimow"]
    assert match_seed("004.txt", BAKU, []).nearest == ["no CONSULT_THIRD record"]
    good = _record("CONSULT_THIRD", ["Dunford", "Gerasimow"], location="Baku")
    assert match_seed("004.txt", BAKU, [*records, good]).record is good


def test_seed_events_cover_the_shipped_seeds():
    expected = load_seed_events()
    assert sorted(expected.seeds) == sorted(p.name for p in SEEDS_DIR.glob("*.txt"))
    assert all(e.label and e.actors for e in expected.seeds.values())


@pytest.mark.slow
def test_news_demo_runs_end_to_end_with_tiny_budgets(tmp_path):
    from treffpunkt.demo.news_demo import run_news_demo

    result = run_news_demo(
        tmp_path / "ws", runs=[("fast", 15.0), ("sklearn", 5.0)], report=tmp_path / "report", track=False
    )
    assert result.patterns["split"] == "test" and result.patterns["n_docs"] >= 50
    assert set(result.evaluated) == {"fast", "sklearn"}
    for evaluated in result.evaluated.values():
        assert evaluated.scores["ents_f"] > 0.3  # a real model, trained on the gold news train split
    assert result.comparison is not None and result.comparison.report.html.exists()
    # the first config's version read the raw seeds: one result per seed, in the file's order, saved beside it
    assert [r.file for r in result.seeds] == list(load_seed_events().seeds)
    saved = json.loads(result.seeds_path.read_text(encoding="utf-8"))
    assert saved["seeds"] == 5 and saved["passed"] == sum(r.ok for r in result.seeds)
    assert result.seeds_path.parent.name == result.trained["fast"].version
    for row in saved["results"]:
        assert row["ok"] == (row["record"] is not None)
        assert row["ok"] or row["nearest"]


@pytest.mark.slow
def test_news_demo_model_finds_the_main_event_of_every_raw_seed(tmp_path):
    """The gold-corpus issue's generalisation check: default.cfg trained on the gold news corpus alone (the seeds
    are not in it) finds each raw seed's main event with type, mode, actors and place. A fixed number of steps (the
    demo's 330 s reach about 2,000 on two cores) keeps the model the same on slower and faster machines."""
    from treffpunkt.demo.news_demo import run_news_demo

    result = run_news_demo(
        tmp_path / "ws", runs=[("default", 3600.0)], overrides={"training.max_steps": 1600}, track=False
    )
    missed = {r.file: r.nearest[:2] for r in result.seeds if not r.ok}
    assert len(result.seeds) == 5 and missed == {}
