"""report: charts and one self-contained HTML page from a comparison of constructed docs (no training)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import spacy
from spacy.tokens import Span

from treffpunkt.training.evaluation.compare import CompareResult, compare_docs
from treffpunkt.training.evaluation.report import write_report

TEXT = "Anna traf Bernd in Berlin. Carl rief Dora an."
GOLD = [("Anna", "PER"), ("Bernd", "PER"), ("Berlin", "GPE")]


def _doc(nlp, ents, events, article="a"):
    doc = nlp(TEXT)
    doc.ents = [doc.char_span(TEXT.index(s), TEXT.index(s) + len(s), label=lab) for s, lab in ents]
    doc.spans["events"] = [
        Span(doc, s.start, s.end, label=lab) for s, labs in zip(doc.sents, events, strict=False) for lab in labs
    ]
    doc.user_data["meta"] = {"article_id": article}
    return doc


@pytest.fixture
def result(tmp_path) -> CompareResult:
    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    gold = [_doc(nlp, GOLD, (["CONSULT_VISIT"], ["CONSULT_PHONE"]), article=f"art-{i}") for i in range(6)]
    v1 = [_doc(nlp, GOLD, (["CONSULT_VISIT"], [])) for _ in range(6)]
    v2 = [_doc(nlp, [("Anna", "PER"), ("Bernd", "ORG")], (["CONSULT_VISIT"], ["CONSULT_PHONE"])) for _ in range(6)]
    comparison = compare_docs(gold, {"v-001": v1, "v-002": v2}, n_boot=200)
    curve = tmp_path / "train-curve-20260101T000000Z.json"
    curve.write_text(
        json.dumps({"config": "fast.cfg", "points": [{"fraction": f, "score": f / 2} for f in (0.25, 0.5, 0.75, 1.0)]}),
        encoding="utf-8",
    )
    return CompareResult(
        comparison,
        {"v-001": tmp_path / "v-001", "v-002": tmp_path / "v-002"},
        tmp_path / "data",
        "test",
        {},
        {},
        ["Only 6 gold docs: bootstrap intervals over so few documents are rough."],
        tmp_path / "compare.json",
        curves=[curve],
    )


def test_report_files_and_self_contained_html(result, tmp_path):
    out = write_report(result, tmp_path / "report")
    names = sorted(p.name for p in out.images)
    assert names == [
        "confusion-v-001.png",
        "confusion-v-002.png",
        "f1-ents.png",
        "f1-events.png",
        "learning-curves.png",
    ]
    for png in out.images:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    page = out.html.read_text(encoding="utf-8")
    # nothing fetched from elsewhere: no http(s) URLs, no src/href other than inlined data
    assert not re.search(r"https?://", page)
    assert re.findall(r'(?:src|href)="([^"]*)"', page) and all(
        u.startswith("data:image/png;base64,") for u in re.findall(r'(?:src|href)="([^"]*)"', page)
    )
    assert page.count("data:image/png;base64,") == len(out.images)
    assert "<link" not in page and "<script" not in page and "<style>" in page
    # displaCy entity markup for the disagreeing sentences: gold beside each version
    assert 'class="entities"' in page and '<mark class="entity"' in page
    assert "Where the versions disagree" in page and "v-001" in page and "v-002" in page
    assert (
        page.count('<div class="cell"><h4>gold</h4>') == result.comparison.n_disagreements == 12
    )  # 2 sentences x 6 docs
    # the tables: micro F of v2 entities: tp 1, fp 1, fn 2 per doc -> 2/5; delta vs v1 (perfect) -0.600, significant
    assert "0.400" in page and "-0.600 *" in page
    assert "Only 6 gold docs" in page


def test_report_f1_chart_has_error_bars_for_each_version(result, tmp_path):
    from treffpunkt.training.evaluation.report import f1_chart

    row = result.comparison.row("ents", "(micro)")
    assert row.scores["v-002"]["f_low"] <= row.scores["v-002"]["f"] <= row.scores["v-002"]["f_high"]
    path = f1_chart(result, "ents", tmp_path / "f1.png")
    assert path is not None and path.exists()
    assert f1_chart(result, "roles", tmp_path / "none.png") is None  # no role rows without role predictions


@pytest.mark.browser
def test_report_renders_in_chromium(result, tmp_path):
    from PIL import Image

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    out = write_report(result, tmp_path / "report")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={shot}",
            "--window-size=1400,3000",
            out.html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    image = Image.open(shot).convert("L")
    assert image.size == (1400, 3000)
    # the page drew something: many non-white pixels (tables, charts, highlighted entities)
    dark = sum(image.histogram()[:200])
    assert dark > 20_000
