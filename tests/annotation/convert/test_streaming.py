"""Pull and convert stream: the export is read task by task, Docs go straight to disk, memory stays flat.

The golden case (tests/data/streaming, built by its make_golden.py) holds what the converter gave before it
streamed: the split of every Doc, the Docs themselves and the report's records. Streaming must not change them.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import random
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc, DocBin, Span

from treffpunkt.annotation.convert.docbin import DocBinWriter
from treffpunkt.annotation.convert.docs import SPLITS, ConvertReport, convert_export, load_convert_options, write_report
from treffpunkt.annotation.convert.reader import NotAJSONArray, iter_json_array
from treffpunkt.core.errors import InputError
from treffpunkt.core.io import write_json
from treffpunkt.core.schema import Schema, load_schema

REPO = Path(__file__).resolve().parents[3]
GOLDEN = REPO / "tests" / "data" / "streaming"
SCHEMA: Schema = load_schema(REPO / "configs" / "schema.yaml")


def fingerprint(doc: Doc) -> str:
    """What a Doc holds (tokens, sentences, entities, span groups, user data), hashed; as in make_golden.py."""
    return hashlib.sha256(json.dumps({"words": [t.text for t in doc], "sent_starts": [t.is_sent_start for t in doc],
                                      "ents": [(e.start, e.end, e.label_) for e in doc.ents],
                                      "spans": {k: [(s.start, s.end, s.label_) for s in g] for k, g in sorted(doc.spans.items())},
                                      "user_data": doc.user_data}, sort_keys=True, ensure_ascii=False).encode()).hexdigest()  # fmt: skip


def report_digest(report: ConvertReport) -> str:
    data = report.to_json()
    records = {k: data[k] for k in ("spans", "relations", "annotations", "skipped_tasks")}
    return hashlib.sha256(json.dumps(records, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


# --------------------------------------------------------------------------- same result as before


@pytest.mark.parametrize("mode", ["default", "all_annotators"])
def test_convert_streaming_keeps_splits_docs_and_report_of_the_in_memory_converter(tmp_path: Path, mode: str) -> None:
    expected = json.loads((GOLDEN / "expected_splits.json").read_text(encoding="utf-8"))[mode]
    result = convert_export(GOLDEN / "export.json", schema=SCHEMA, out_dir=tmp_path / "out", options=load_convert_options(),
                            all_annotators=mode == "all_annotators")  # fmt: skip
    vocab = spacy.blank(SCHEMA.language).vocab
    splits: dict[str, list[list[Any]]] = {}
    docs: dict[str, str] = {}
    for name in SPLITS:
        loaded = list(DocBin().from_disk(result.files[name]).get_docs(vocab))
        splits[name] = sorted([d.user_data["meta"]["task_id"], d.user_data["meta"]["annotation_id"]] for d in loaded)
        docs.update(
            {f"{d.user_data['meta']['task_id']}/{d.user_data['meta']['annotation_id']}": fingerprint(d) for d in loaded}
        )
    assert splits == expected["splits"]  # the same Docs in the same splits (cluster groups, seed 13)
    assert result.counts == expected["counts"] and result.report.split_groups == expected["groups"]
    assert docs == expected["docs"]  # and each Doc is the same
    assert report_digest(result.report) == expected["report_records"]  # every span, relation, annotation as before
    assert result.report.tasks == 120 and len(result.report.skipped_tasks) == expected["skipped"]
    assert all(result.counts[name] > 0 for name in SPLITS)


# --------------------------------------------------------------------------- the pieces


@pytest.mark.parametrize("n_docs", [0, 1, 40])
def test_docbin_stream_writer_writes_the_bytes_of_docbin(tmp_path: Path, n_docs: int) -> None:
    nlp = spacy.blank(SCHEMA.language)
    nlp.add_pipe("sentencizer")
    rng = random.Random(n_docs)
    words = [
        "Merkel",
        "traf",
        "Putin",
        "am",
        "Montag",
        "in",
        "Berlin",
        ".",
        "Die",
        "NATO",
        "tagte",
        "in",
        "Brüssel",
        "🙂",
        "ß",
        ",",
        "!",
    ]
    docs = []
    for i in range(n_docs):
        doc = nlp(" ".join(rng.choice(words) for _ in range(rng.randint(0, 300))))
        if len(doc) > 3:
            doc.ents = [Span(doc, 0, 1, label="PER")]
            doc.spans["event_triggers"] = [Span(doc, 1, 3, label="CONSULT")]
        doc.user_data["meta"] = {"task_id": i, "title": "x" * rng.randint(0, 400)}
        docs.append(doc)
    with DocBinWriter(spill_dir=tmp_path) as writer:
        for doc in docs:
            writer.add(doc)
        writer.write(tmp_path / "streamed.spacy")
        assert len(writer) == n_docs
    assert (tmp_path / "streamed.spacy").read_bytes() == DocBin(store_user_data=True, docs=docs).to_bytes()
    back = list(DocBin().from_disk(tmp_path / "streamed.spacy").get_docs(nlp.vocab))
    assert [d.text for d in back] == [d.text for d in docs]
    assert [d.user_data["meta"] for d in back] == [d.user_data["meta"] for d in docs]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["streamed.spacy"]  # spill files are anonymous


def test_convert_write_report_writes_the_text_of_write_json(tmp_path: Path) -> None:
    result = convert_export(
        GOLDEN / "export.json", schema=SCHEMA, out_dir=tmp_path / "out", options=load_convert_options()
    )
    write_json(tmp_path / "reference.json", result.report.to_json())
    assert result.report_path.read_text(encoding="utf-8") == (tmp_path / "reference.json").read_text(encoding="utf-8")
    empty = ConvertReport(export="none")
    write_report(tmp_path / "empty.json", empty)
    write_json(tmp_path / "empty-reference.json", empty.to_json())
    assert (tmp_path / "empty.json").read_text(encoding="utf-8") == (tmp_path / "empty-reference.json").read_text(
        encoding="utf-8"
    )


def _load(text: str) -> tuple[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return ("invalid", None)
    return ("array", json.dumps(value)) if isinstance(value, list) else ("not an array", None)


def _stream(text: str, chunk: int) -> tuple[str, Any]:
    try:
        return ("array", json.dumps(list(iter_json_array(io.StringIO(text), chunk=chunk))))
    except json.JSONDecodeError:
        return ("invalid", None)
    except NotAJSONArray:
        return ("not an array", None)


TRICKY = [
    "[]",
    " [ ]\n",
    "[1]",
    "[1,]",
    "[1 2]",
    "[1] x",
    "[1][2]",
    "",
    "  ",
    '{"tasks": []}',
    '"x"',
    "12",
    "12 3",
    "[",
    "[12345678901234567890123456789, 1.5e3, -0.25E-3, NaN, -Infinity]",
    '[{"t": "\\ud800 \\ud83d\\ude42 ä"}]',
    "[tru]",
    "[true, false, null]",
    "[-]",
    "[1.]",
    '["abc\\',
    '["a\\u12"]',
    "\ufeff[1]",
    '[{"a": [1, {"b": "x\\"y"}]}]',
]


@pytest.mark.parametrize("text", TRICKY)
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 16])
def test_json_stream_iter_json_array_decodes_as_json_load(text: str, chunk: int) -> None:
    assert _stream(text, chunk) == _load(text)


JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.lists(JSON, max_size=6), indent=st.sampled_from([None, 0, 2]), cut=st.integers(0, 400),
       insert=st.sampled_from(["", "x", ",", "]", "[", '"', " ", "}", "1"]), chunk=st.integers(1, 64), damage=st.booleans())  # fmt: skip
def test_json_stream_iter_json_array_agrees_with_json_load_on_any_text(
    value: list[Any], indent: int | None, cut: int, insert: str, chunk: int, damage: bool
) -> None:
    text = json.dumps(value, indent=indent)
    if damage:  # a stray character (or a cut) somewhere: both must agree on whether that is still JSON
        cut = min(cut, len(text))
        text = text[:cut] + insert + text[cut + 1 :]
    assert _stream(text, chunk) == _load(text)


# --------------------------------------------------------------------------- memory


SENTENCES = [
    "Bundeskanzler Scholz traf am Montag in Berlin den französischen Präsidenten Macron zu einem Gespräch.",
    "Die Außenminister der NATO berieten in Brüssel über die Lage in der Ukraine.",
    "Lawrow empfing seinen chinesischen Kollegen Wang Yi in Moskau.",
    "Ein weiteres Treffen ist nach Angaben aus Diplomatenkreisen für die kommende Woche geplant.",
]


def _task(i: int) -> dict[str, Any]:
    """A task as Label Studio exports it: an article of ~15 sentences, one annotation with four spans."""
    text = " ".join(f"{SENTENCES[(i + k) % len(SENTENCES)]} ({(i * 7 + k) % 50})" for k in range(15))
    results = []
    for j, (word, label) in enumerate((("Scholz", "PER"), ("Berlin", "GPE"), ("NATO", "ORG"), ("Gespräch", "CONSULT"))):
        at = text.find(word)
        results.append({"value": {"start": at, "end": at + len(word), "text": word, "labels": [label]}, "id": f"r{i}-{j}",
                        "from_name": "entities", "to_name": "text", "type": "labels", "origin": "manual"})  # fmt: skip
    annotation = {"id": 10_000 + i, "completed_by": 1, "result": results, "was_cancelled": False, "ground_truth": False,
                  "created_at": "2025-03-03T10:15:00.000000Z", "updated_at": "2025-03-03T10:15:00.000000Z", "lead_time": 42.7,
                  "draft_created_at": None, "prediction": {}, "result_count": 0, "unique_id": f"u{i}", "task": i, "project": 1}  # fmt: skip
    return {"id": i, "annotations": [annotation], "drafts": [], "predictions": [], "meta": {}, "inner_id": i,
            "data": {"text": text, "article_id": f"a{i}", "cluster": f"c{i % 97}", "title": text[:60], "source": "test"},
            "created_at": "2025-03-03T10:00:00.000000Z", "updated_at": "2025-03-03T10:15:00.000000Z", "total_annotations": 1}  # fmt: skip


def _write_export(path: Path, n: int) -> int:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("[")
        for i in range(n):
            handle.write(("," if i else "") + json.dumps(_task(i), ensure_ascii=False))
        handle.write("]")
    return path.stat().st_size


def _peak_convert(export: Path, out_dir: Path) -> int:
    """Peak traced memory (bytes) of one convert_export call, counted from just before it."""
    gc.collect()
    tracemalloc.start()
    try:
        result = convert_export(export, schema=SCHEMA, out_dir=out_dir, options=load_convert_options())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(result.counts.values()) == result.report.tasks  # every task converted: the docs were all built
    return peak


def test_convert_memory_stays_flat_as_the_export_grows(tmp_path: Path) -> None:
    n = 80
    _write_export(tmp_path / "warm.json", 5)
    convert_export(
        tmp_path / "warm.json", schema=SCHEMA, out_dir=tmp_path / "warm", options=load_convert_options()
    )  # imports
    small_bytes, large_bytes = _write_export(tmp_path / "small.json", n), _write_export(tmp_path / "large.json", 5 * n)
    small, large = (
        _peak_convert(tmp_path / "small.json", tmp_path / "small"),
        _peak_convert(tmp_path / "large.json", tmp_path / "large"),
    )
    # Five times the tasks: the peak grows far less than five times (before streaming: x4.9, 24 -> 120 MiB at
    # 100 -> 500 such tasks, parsed export + every Doc + DocBins) ...
    assert large < 2 * small, (small, large)
    # ... and by less than the extra export's own size on disk: only the report (a record per span) grows
    # with the export; before streaming the growth was about 70 times the extra bytes.
    assert large - small < large_bytes - small_bytes, (small, large, small_bytes, large_bytes)


def test_convert_refuses_an_unusable_file_before_writing_anything(tmp_path: Path) -> None:
    tasks = [_task(i) for i in range(30)]
    text = json.dumps(tasks)
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) - 200], encoding="utf-8")  # a download cut off near its end
    with pytest.raises(InputError, match="not valid JSON") as err:
        convert_export(cut, schema=SCHEMA, out_dir=tmp_path / "out-cut", options=load_convert_options())
    assert err.value.hint
    late = tmp_path / "late.json"
    late.write_text(json.dumps([*tasks, {"no": "data"}]), encoding="utf-8")  # the last element is not a task
    with pytest.raises(InputError, match="not a Label Studio JSON export"):
        convert_export(late, schema=SCHEMA, out_dir=tmp_path / "out-late", options=load_convert_options())
    assert not (tmp_path / "out-cut").exists() and not (tmp_path / "out-late").exists()
