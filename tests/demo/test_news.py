"""The gold news corpus: selection reproducible from 10kGNAD, frozen splits, the stored export rebuilt from the
specs, every span accounted for by convert, and agreement measured on the doubly annotated articles."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from treffpunkt.annotation.agreement.measure import agreement
from treffpunkt.annotation.convert.docs import convert_export
from treffpunkt.core.io import sha256_file
from treffpunkt.core.resources import default_config
from treffpunkt.core.schema import load_schema
from treffpunkt.core.workspace import init_workspace
from treffpunkt.demo import news

REPO = Path(__file__).resolve().parents[2]
GNAD = REPO.parent / "shared" / "data" / "gnad" / "test.csv"
NEWS = REPO / "corpus" / "gold" / "news"
REBUILD = (
    "Rebuild with `.venv/bin/python -m treffpunkt.demo.news --gnad ../shared/data/gnad/test.csv` and review the diff."
)


@pytest.fixture(scope="module")
def stored() -> list[dict]:
    return json.loads((NEWS / "export.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def gnad():
    if not GNAD.exists():
        pytest.fail(f"{GNAD} is missing: the shared data should be at ../shared")
    return {a.id: a for a in news.load_gnad(GNAD)}


def test_news_selection_is_reproducible_and_large_enough(gnad):
    selected = news.select(gnad.values())
    assert [s.id for s in selected] == [s.id for s in news.stored_selection()]
    kinds = Counter(s.kind for s in selected)
    assert len(selected) >= 250 and kinds["negative"] >= 50 and 150 <= kinds["cue"] <= 330
    assert sum(s.double for s in selected) == 60
    # negatives really carry no cue; cue articles really do; all from the five news categories
    assert all(bool(news.CUES.search(gnad[s.id].text)) == (s.kind == "cue") for s in selected)
    assert {s.category for s in selected} <= set(news.CATEGORIES)


def test_news_frozen_splits(stored, gnad):
    frozen = json.loads((NEWS / "splits.json").read_text(encoding="utf-8"))["splits"]
    assert frozen == news.freeze_splits(news.stored_selection(), gnad)
    counts = Counter(frozen.values())
    assert counts["test"] >= 50 and counts["dev"] > 0 and counts["train"] > counts["test"]
    clusters: dict[str, set[str]] = {}
    for article_id, split in frozen.items():
        clusters.setdefault(gnad[article_id].cluster, set()).add(split)
    assert all(len(splits) == 1 for splits in clusters.values())  # no story straddles two splits
    assert {t["data"]["article_id"]: t["data"]["split"] for t in stored} == frozen


def test_news_export_is_rebuilt_from_the_specs(stored, gnad, tmp_path):
    assert (NEWS / "export.json.sha256").read_text().split()[0] == sha256_file(NEWS / "export.json")
    schema = load_schema(default_config("schema.yaml"))
    selected = news.stored_selection()
    frozen = news.freeze_splits(selected, gnad)
    fresh = news.build_export(selected, gnad, frozen, NEWS / "specs", schema)
    assert len(fresh) == len(stored), REBUILD
    for a, b in zip(stored, fresh, strict=True):
        assert a == b, f"{a['data']['article_id']}: {REBUILD}"


def test_news_convert_accounts_for_every_span_and_keeps_the_splits(tmp_path):
    schema = load_schema(default_config("schema.yaml"))
    result = convert_export(NEWS / "export.json", schema=schema, out_dir=tmp_path / "news")
    outcomes = Counter(r.outcome for r in result.report.spans)
    assert outcomes["rejected"] == 0 and outcomes["kept"] > 10000
    assert result.manifest["frozen_split_groups"] == sum(result.counts.values())
    assert result.counts["test"] >= 50


def test_news_agreement_meets_the_targets(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    result = agreement(ws, NEWS / "agreement-export.json", schema=load_schema(ws.schema_path))
    assert result.tasks_scored == 60 and len(result.annotators) == 2
    assert result.f1("entities", "exact") >= 0.85
    assert result.sentence_f1() >= 0.75
    assert result.relation_f1() is not None
