"""CoNLL/IOB import: layouts, line endings, tag schemes and repairs, label maps, tasks for review, CLI, speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from typer.testing import CliRunner

from treffpunkt.annotation.convert.conll import (
    ConllReport,
    Sentence,
    decode_tags,
    import_conll,
    parse_label_map,
    read_conll,
)
from treffpunkt.annotation.convert.docs import convert_export
from treffpunkt.core.errors import ConfigError, InputError
from treffpunkt.core.schema import Schema, load_schema
from treffpunkt.core.workspace import Workspace

REPO = Path(__file__).resolve().parents[3]
DATA = Path(__file__).resolve().parents[2] / "data"
LER_DEV = REPO.parent / "shared" / "data" / "ler" / "ler_dev.conll"

TWO_COLUMN = """\
Merkel B-PER
traf O
Macron B-PER
in O
Paris B-LOC
. O

Der O
Nato-Russland-Rat B-ORG
tagte O
in O
Brüssel B-LOC
. O
"""

GERMEVAL = """\
#\thttp://de.wikipedia.org/wiki/Beispiel [2009-10-17]
1\tAngela\tB-PER\tO
2\tMerkel\tI-PER\tO
3\tbesuchte\tO\tO
4\tdie\tO\tO
5\tUSA-Botschaft\tB-ORG\tB-LOCpart
6\t.\tO\tO

#\thttp://de.wikipedia.org/wiki/Zweites [2009-10-18]
1\t#\tO\tO
2\tGipfel\tO\tO
3\tin\tO\tO
4\tGenf\tB-LOC\tO
"""


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema(REPO / "configs" / "schema.yaml")


def docs(path: Path) -> list[Doc]:
    return list(DocBin().from_disk(path).get_docs(spacy.blank("de").vocab))


def ents(doc: Doc) -> list[tuple[str, str]]:
    return [(e.text, e.label_) for e in doc.ents]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_conll_two_column_lf_and_crlf(schema: Schema, tmp_path: Path, newline: str) -> None:
    src = tmp_path / "two.conll"
    src.write_bytes(TWO_COLUMN.replace("\n", newline).encode("utf-8"))
    result = import_conll(src, schema=schema, label_map={"LOC": "GPE"}, sentences_per_doc=1)
    assert result.out == tmp_path / "two.spacy"
    first, second = docs(result.out)
    assert first.text == "Merkel traf Macron in Paris ."
    assert ents(first) == [("Merkel", "PER"), ("Macron", "PER"), ("Paris", "GPE")]
    assert ents(second) == [("Nato-Russland-Rat", "ORG"), ("Brüssel", "GPE")]
    assert not any("\r" in t.text for d in (first, second) for t in d)
    assert (result.report.sentences, result.report.tokens, result.report.docs) == (2, 12, 2)
    assert dict(result.report.mapped) == {"LOC→GPE": 2}
    assert json.loads(result.report_path.read_text(encoding="utf-8"))["entities_kept"] == {"PER": 2, "GPE": 2, "ORG": 1}


def test_conll_germeval_columns_and_comments(schema: Schema, tmp_path: Path) -> None:
    src = tmp_path / "germeval.tsv"
    src.write_text(GERMEVAL, encoding="utf-8")
    sentences = list(read_conll(src))
    assert [s.tokens for s in sentences] == [
        ["Angela", "Merkel", "besuchte", "die", "USA-Botschaft", "."],
        ["#", "Gipfel", "in", "Genf"],
    ]
    assert sentences[0].tags == ["B-PER", "I-PER", "O", "O", "B-ORG", "O"]  # outer column by default
    inner = list(read_conll(src, column=-1))
    assert inner[0].tags[4] == "B-LOCpart"
    result = import_conll(src, schema=schema, label_map={"LOC": "GPE"}, sentences_per_doc=10)
    (doc,) = docs(result.out)
    assert [s.text for s in doc.sents] == ["Angela Merkel besuchte die USA-Botschaft .", "# Gipfel in Genf"]
    assert ents(doc) == [("Angela Merkel", "PER"), ("USA-Botschaft", "ORG"), ("Genf", "GPE")]


@pytest.mark.parametrize(
    ("tags", "spans", "repairs", "ioe"),
    [
        (["B-PER", "I-PER", "O", "B-LOC"], [(0, 2, "PER"), (3, 4, "LOC")], {}, False),  # IOB2
        (
            ["I-PER", "I-PER", "O", "I-LOC"],
            [(0, 2, "PER"), (3, 4, "LOC")],
            {"I- without B-": 2},
            False,
        ),  # IOB1 / broken
        (["B-PER", "I-LOC", "I-LOC"], [(0, 1, "PER"), (1, 3, "LOC")], {"I- after a different label": 1}, False),
        (["I-PER", "E-PER", "E-LOC", "O"], [(0, 2, "PER"), (2, 3, "LOC")], {}, True),  # IOE
        (
            ["B-PER", "L-PER", "U-LOC", "S-ORG"],
            [(0, 2, "PER"), (2, 3, "LOC"), (3, 4, "ORG")],
            {},
            False,
        ),  # BILOU / IOBES
        (["PER", "PER", "O"], [(0, 2, "PER")], {"I- without B-": 1}, False),  # bare labels read as I-
    ],
)
def test_conll_decode_tag_schemes(
    tags: list[str], spans: list[tuple[int, int, str]], repairs: dict[str, int], ioe: bool
) -> None:
    report = ConllReport("x")
    sentence = Sentence([f"w{i}" for i in range(len(tags))], tags, line=1)
    assert decode_tags(sentence, report, ioe=ioe) == spans
    assert dict(report.repairs) == repairs


def test_conll_repairs_and_unknown_labels_counted(schema: Schema, tmp_path: Path) -> None:
    src = tmp_path / "broken.conll"
    src.write_text("Das O\nBVerfG I-GRT\nund O\nKarlsruhe I-ST\nsowie O\n§ B-GS\n5 I-GS\n", encoding="utf-8")
    result = import_conll(src, schema=schema, label_map={"GRT": "ORG", "GS": "O"})
    assert dict(result.report.repairs) == {"I- without B-": 2}
    assert result.report.repair_examples[0] == "line 2: 'BVerfG' I-GRT (I- without B-)"
    assert dict(result.report.dropped) == {"ST: not in the schema and not mapped": 1, "GS: mapped to drop": 1}
    (doc,) = docs(result.out)
    assert ents(doc) == [("BVerfG", "ORG")]


def test_conll_label_map_checks(schema: Schema, tmp_path: Path) -> None:
    assert parse_label_map(["LD=GPE", "GS="], DATA / "ler_label_map.yaml")["GS"] == ""
    assert parse_label_map(None, DATA / "ler_label_map.yaml")["LD"] == "GPE"
    with pytest.raises(ConfigError, match="not FROM=TO"):
        parse_label_map(["LD"])
    src = tmp_path / "a.conll"
    src.write_text(TWO_COLUMN, encoding="utf-8")
    with pytest.raises(ConfigError, match="not entity labels of the schema"):
        import_conll(src, schema=schema, label_map={"LOC": "PLACE"})
    empty = tmp_path / "empty.conll"
    empty.write_text("# nothing\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="No sentences"):
        import_conll(empty, schema=schema)


def test_conll_tasks_round_trip_through_convert(schema: Schema, tmp_path: Path) -> None:
    """Tasks written for review come back through the export converter with the same entities."""
    src = tmp_path / "two.conll"
    src.write_text(TWO_COLUMN, encoding="utf-8")
    result = import_conll(
        src, schema=schema, label_map={"LOC": "GPE"}, sentences_per_doc=1, tasks_out=tmp_path / "tasks.json"
    )
    tasks = json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))
    assert len(tasks) == 2 and tasks == result.tasks
    for task in tasks:
        assert set(task["data"]) == {"text", "title", "article_id", "cluster", "source", "url", "published"}
        for item in task["annotations"][0]["result"]:
            value = item["value"]
            assert task["data"]["text"][value["start"] : value["end"]] == value["text"]
    # What Label Studio would export after import: ids added.
    export = [
        {**t, "id": i, "annotations": [{**t["annotations"][0], "id": 100 + i, "was_cancelled": False}]}
        for i, t in enumerate(tasks)
    ]
    (tmp_path / "export.json").write_text(json.dumps(export), encoding="utf-8")
    converted = convert_export(tmp_path / "export.json", schema=schema)
    back = sorted(tuple(ents(d)) for name in ("train", "dev", "test") for d in docs(converted.files[name]))
    assert back == sorted(tuple(ents(d)) for d in docs(result.out))
    assert {r.outcome for r in converted.report.spans} == {"kept"}


def test_conll_imports_the_whole_ler_dev_split(schema: Schema, tmp_path: Path) -> None:
    if not LER_DEV.exists():
        pytest.fail(f"{LER_DEV} is missing: the shared data should be at ../shared")
    result = import_conll(
        LER_DEV, schema=schema, out=tmp_path / "ler.spacy", label_map=parse_label_map(None, DATA / "ler_label_map.yaml")
    )
    report = result.report
    assert report.sentences > 6000 and report.docs == -(-report.sentences // 10)
    assert sum(report.entities_kept.values()) > 1000 and report.bad_lines == []
    assert not any("not mapped" in why for why in report.dropped)  # the map covers all 19 types


def test_cli_import_conll_smoke(ws: Workspace, tmp_path: Path) -> None:
    from treffpunkt.cli import app

    src = tmp_path / "two.conll"
    src.write_text(TWO_COLUMN, encoding="utf-8")
    args = ["--home", str(ws.root), "annotate", "import-conll", str(src), "--label-map", "LOC=GPE",
            "--out", str(tmp_path / "o.spacy"), "--tasks-out", str(tmp_path / "t.json"), "--sentences-per-doc", "1"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "LOC→GPE" in result.output and (tmp_path / "o.spacy").exists() and (tmp_path / "t.json").exists()
    assert len(docs(tmp_path / "o.spacy")) == 2
    bad = CliRunner().invoke(
        app, ["--home", str(ws.root), "annotate", "import-conll", str(src), "--label-map", "LOC=NOPE"]
    )
    assert bad.exit_code == 1


@pytest.mark.studio
def test_cli_import_conll_push_then_pull_round_trip(
    studio, studio_ws: Workspace, studio_project, tmp_path: Path
) -> None:
    """--push imports the tasks with their annotations (rerun: nothing new); pull + convert gives the entities back."""
    from treffpunkt.annotation.labelstudio.pull import pull
    from treffpunkt.cli import app

    src = tmp_path / "two.conll"
    src.write_text(TWO_COLUMN + "\nSelenskyj B-PER\n🙂 O\nin O\nKiew B-LOC\n", encoding="utf-8")
    args = ["--home", str(studio_ws.root), "annotate", "import-conll", str(src), "--label-map", "LOC=GPE",
            "--sentences-per-doc", "1", "--out", str(tmp_path / "o.spacy"), "--push"]  # fmt: skip
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "3 tasks imported" in first.output
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and "0 tasks imported, 3 already present" in again.output, again.output
    pulled = pull(studio_ws, timeout=120)
    converted = pulled.converted
    back = sorted(tuple(ents(d)) for name in ("train", "dev", "test") for d in docs(converted.files[name]))
    assert back == sorted(tuple(ents(d)) for d in docs(tmp_path / "o.spacy"))
    assert [r.outcome for r in converted.report.spans if r.final_text == "Kiew"] == [
        "repaired"
    ]  # sent as UTF-16 after 🙂
    assert not converted.report.skipped_tasks
