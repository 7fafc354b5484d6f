"""Corpus ingestion: readers, bad input, duplicates and clusters, idempotency, the gnad CSV, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import DATA, GNAD_CSV, SEEDS_DIR
from treffpunkt.annotation.ingest.corpus import (
    ArticleNotFound,
    IngestOptions,
    add,
    articles_from_paths,
    get_article,
    iter_articles,
    load_articles,
    stats,
)
from treffpunkt.annotation.ingest.dedup import article_id
from treffpunkt.annotation.ingest.readers import load_ingest_config
from treffpunkt.cli import app
from treffpunkt.core.workspace import Workspace

INGEST = DATA / "ingest"


def _status(report, name: str) -> list[str]:
    return [item.status for item in report.items if Path(item.path).name == name]


def test_corpus_add_reads_every_kind(ws: Workspace) -> None:
    report = add(
        ws,
        [INGEST / "page.html", INGEST / "articles.jsonl", INGEST / "articles.csv", INGEST / "cp1252_article.txt"],
        options=IngestOptions(progress=False),
    )
    articles = {a.origin.kind: a for a in load_articles(ws)}
    html = articles["html"]
    assert html.title == "Kanzler trifft Premier in Rom"
    assert html.text.startswith("Kanzler trifft Premier in Rom\n\nRom – Der Bundeskanzler")
    assert "Cookies" not in html.text and "Impressum" not in html.text
    assert html.published == "2023-05-04" and html.source == "Beispielzeitung"
    jsonl = [a for a in load_articles(ws) if a.origin.kind == "jsonl"]
    assert [a.origin.line for a in jsonl] == [1, 2]
    assert jsonl[0].title == "Spanien und Portugal rücken zusammen" and jsonl[0].published == "2022-03-09"
    assert jsonl[0].meta == {"section": "Politik"} and jsonl[0].source == "Beispielagentur"
    csv_rows = [a for a in load_articles(ws) if a.origin.kind == "csv"]
    assert [a.meta["category"] for a in csv_rows] == ["Inland", "Wirtschaft"]
    assert csv_rows[0].text.startswith("Graz – Der Landeshauptmann")
    # Bad lines inside good files are rejected one by one, with their line numbers.
    rejected = {(Path(i.path).name, i.line) for i in report.items if i.status == "rejected"}
    assert rejected == {("articles.jsonl", 3), ("articles.jsonl", 4), ("articles.csv", 3)}


def test_corpus_decodes_cp1252(ws: Workspace) -> None:
    report = add(ws, [INGEST / "cp1252_article.txt"], options=IngestOptions(progress=False))
    (article,) = load_articles(ws)
    assert "Bürgermeisterin" in article.text and "Öffnungszeiten" in article.text and "Ämter" in article.text
    assert any("decoded as" in note for note in report.items[0].notes)


@pytest.mark.parametrize(
    ("name", "reason"),
    [("empty.txt", "empty file"), ("binary.txt", "binary"), ("english.txt", "language 'en' not accepted")],
)
def test_corpus_rejects_bad_input_and_ingests_the_rest(ws: Workspace, name: str, reason: str) -> None:
    report = add(ws, [INGEST / name, INGEST / "agency_original.txt"], options=IngestOptions(progress=False))
    (bad,) = [i for i in report.items if Path(i.path).name == name]
    assert bad.status == "rejected" and reason in bad.reason
    assert _status(report, "agency_original.txt") == ["added"]
    assert len(load_articles(ws)) == 1


def test_corpus_rejects_oversized_and_missing_files(ws: Workspace, tmp_path: Path) -> None:
    config = load_ingest_config(ws).model_copy(update={"max_bytes": 100})
    report = add(
        ws,
        [INGEST / "agency_original.txt", tmp_path / "nope.txt"],
        options=IngestOptions(config=config, progress=False),
    )
    reasons = {Path(i.path).name: i.reason for i in report.items}
    assert "too large" in reasons["agency_original.txt"] and "does not exist" in reasons["nope.txt"]
    assert report.added == 0 and not ws.articles_path.exists()


def test_corpus_lang_any_accepts_english(ws: Workspace) -> None:
    report = add(ws, [INGEST / "english.txt"], options=IngestOptions(languages=None, progress=False))
    assert report.added == 1 and load_articles(ws)[0].language == "en"


def test_corpus_rejects_unreadable_file(ws: Workspace, tmp_path: Path) -> None:
    # A file that exists but cannot be read, even by root (CI runs as root, so chmod 0 would not do):
    # /proc/self/mem is a regular file whose read at offset 0 fails with EIO.
    locked = tmp_path / "locked.txt"
    locked.symlink_to("/proc/self/mem")
    report = add(ws, [locked], options=IngestOptions(progress=False))
    assert report.items[0].status == "rejected" and "unreadable" in report.items[0].reason
    assert report.added == 0 and not ws.articles_path.exists()


def test_corpus_near_duplicate_shares_cluster(ws: Workspace) -> None:
    report = add(
        ws, [INGEST / "agency_original.txt", INGEST / "agency_copy.txt"], options=IngestOptions(progress=False)
    )
    original, copy = load_articles(ws)
    assert original.id != copy.id
    assert copy.cluster == original.cluster == original.id
    assert _status(report, "agency_copy.txt") == ["near-duplicate"]
    # Different articles on the same topic do not merge.
    add(ws, [SEEDS_DIR], options=IngestOptions(progress=False))
    assert len({a.cluster for a in load_articles(ws)}) == 1 + 5


def test_corpus_near_duplicate_joins_cluster_across_runs(ws: Workspace) -> None:
    add(ws, [INGEST / "agency_original.txt"], options=IngestOptions(progress=False))
    add(ws, [INGEST / "agency_copy.txt"], options=IngestOptions(progress=False))
    original, copy = load_articles(ws)
    assert copy.cluster == original.id


def test_corpus_exact_duplicate_is_skipped(ws: Workspace, tmp_path: Path) -> None:
    twin = tmp_path / "twin.txt"
    # Same text up to case and whitespace: the same id.
    twin.write_text((INGEST / "agency_original.txt").read_text(encoding="utf-8").replace(" ", "  "), encoding="utf-8")
    report = add(ws, [INGEST / "agency_original.txt", twin], options=IngestOptions(progress=False))
    assert _status(report, "twin.txt") == ["duplicate"] and len(load_articles(ws)) == 1


def test_corpus_add_is_idempotent(ws: Workspace) -> None:
    first = add(ws, [SEEDS_DIR, INGEST / "articles.jsonl"], options=IngestOptions(progress=False))
    before = ws.articles_path.read_bytes()
    second = add(ws, [SEEDS_DIR, INGEST / "articles.jsonl"], options=IngestOptions(progress=False))
    assert first.added == 7 and second.added == 0 and second.count("duplicate") == 7
    assert ws.articles_path.read_bytes() == before
    assert Path(second.report_path).exists()
    saved = json.loads(Path(second.report_path).read_text(encoding="utf-8"))
    assert len(saved["items"]) == len(second.items) and saved["cleaning"]


def test_corpus_ids_are_stable_hashes_of_the_text(ws: Workspace) -> None:
    add(ws, [SEEDS_DIR], options=IngestOptions(progress=False))
    for article in iter_articles(ws):
        assert article.id == article_id(article.text) and len(article.id) == 16
    seed = next(a for a in iter_articles(ws) if a.origin.path.endswith("004_3e3c712624bce7de.txt"))
    assert seed.published == "2017-02-17" and seed.language == "de"


def test_corpus_articles_from_paths_does_not_write(ws: Workspace) -> None:
    articles, report = articles_from_paths([SEEDS_DIR], options=IngestOptions(progress=False))
    assert len(articles) == 5 and report.added == 5
    assert not ws.articles_path.exists()


def test_corpus_get_article_unknown_id_has_hint(ws: Workspace) -> None:
    with pytest.raises(ArticleNotFound) as err:
        get_article(ws, "0000000000000000")
    assert err.value.hint


def test_corpus_store_survives_a_crash(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    add(ws, [INGEST / "agency_original.txt"], options=IngestOptions(progress=False))
    before = ws.articles_path.read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("treffpunkt.annotation.ingest.corpus._cluster", boom)
    with pytest.raises(RuntimeError):
        add(ws, [SEEDS_DIR], options=IngestOptions(progress=False))
    assert ws.articles_path.read_bytes() == before
    assert not [p for p in ws.corpus_dir.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.skipif(not GNAD_CSV.exists(), reason="shared gnad data not present")
def test_corpus_reads_gnad_csv(ws: Workspace) -> None:
    report = add(ws, [GNAD_CSV], options=IngestOptions(progress=False))
    assert report.added == 1028 and report.rejected == 0
    s = stats(ws)
    assert s.articles == 1028 and s.languages == {"de": 1028}
    articles = load_articles(ws)
    assert {a.meta["category"] for a in articles} >= {"Sport", "Wirtschaft", "Inland"}
    assert all("\n\n\n" not in a.text and a.text == a.text.strip() for a in articles)


# --- CLI ----------------------------------------------------------------------------------------------------------

runner = CliRunner()


def _cli(ws: Workspace, *args: str):
    return runner.invoke(app, ["--home", str(ws.root), "corpus", *args])


def test_corpus_cli_add_stats_export_show(ws: Workspace, tmp_path: Path) -> None:
    result = _cli(ws, "add", str(SEEDS_DIR))
    assert result.exit_code == 0, result.output
    assert "total" in result.output and "Report:" in result.output
    again = _cli(ws, "add", str(SEEDS_DIR))
    assert again.exit_code == 0 and "Added 0 articles" in again.output

    result = _cli(ws, "stats")
    assert result.exit_code == 0 and "articles" in result.output and "5" in result.output

    result = _cli(ws, "export")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0 and len(lines) == 5
    out = tmp_path / "out.jsonl"
    assert _cli(ws, "export", "--format", "jsonl", "--out", str(out)).exit_code == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 5

    result = _cli(ws, "show", lines[0]["id"])
    assert result.exit_code == 0 and lines[0]["title"] in result.output


def test_corpus_cli_exits_nonzero_on_rejection(ws: Workspace) -> None:
    result = _cli(ws, "add", str(INGEST / "binary.txt"), str(INGEST / "agency_original.txt"))
    assert result.exit_code == 1
    assert "binary" in result.output
    assert len(load_articles(ws)) == 1


def test_corpus_cli_show_unknown_id(ws: Workspace) -> None:
    result = _cli(ws, "show", "nope")
    assert result.exit_code == 1 and "No article" in result.output


def test_corpus_cli_export_rejects_unknown_format(ws: Workspace) -> None:
    assert _cli(ws, "export", "--format", "xml").exit_code == 1
