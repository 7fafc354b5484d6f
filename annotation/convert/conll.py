"""Existing IOB/CoNLL corpora → spaCy DocBin (and optionally Label Studio tasks with annotations for review).

Reads two-column files (``token TAG``) and multi-column ones (CoNLL-2003, GermEval 2014 with a leading token
index), LF or CRLF, blank lines between sentences, ``#`` comment lines and ``-DOCSTART-`` skipped. Tag schemes
IOB1, IOB2, IOE and BILOU are decoded tolerantly; every repair and every dropped label is counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from treffpunkt.annotation.convert.docbin import fast_msgpack
from treffpunkt.annotation.convert.offsets import to_utf16
from treffpunkt.core.config import read_yaml
from treffpunkt.core.errors import ConfigError, InputError
from treffpunkt.core.io import atomic_write_bytes, sha256_text, write_json
from treffpunkt.core.schema import ENTITY_TAG, TEXT_TAG, Schema

if TYPE_CHECKING:
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

#: Label-map targets that mean "drop this label".
DROP = {"", "O", "-", "DROP"}
_PREFIXES = {"B", "I", "E", "S", "L", "U"}


@dataclass
class Sentence:
    tokens: list[str]
    tags: list[str]
    line: int  # 1-based line of the first token, for messages


@dataclass
class ConllReport:
    path: str
    sentences: int = 0
    tokens: int = 0
    docs: int = 0
    entities_kept: Counter[str] = field(default_factory=Counter)  # final label → count
    mapped: Counter[str] = field(default_factory=Counter)  # "FROM→TO" → count
    dropped: Counter[str] = field(default_factory=Counter)  # "LABEL: why" → count
    repairs: Counter[str] = field(default_factory=Counter)  # kind of IOB repair → count
    repair_examples: list[str] = field(default_factory=list)  # first few, with line numbers
    bad_lines: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sentences": self.sentences,
            "tokens": self.tokens,
            "docs": self.docs,
            "entities_kept": dict(self.entities_kept),
            "mapped": dict(self.mapped),
            "dropped": dict(self.dropped),
            "repairs": dict(self.repairs),
            "repair_examples": self.repair_examples,
            "bad_lines": self.bad_lines,
        }


@dataclass
class ConllResult:
    out: Path
    report: ConllReport
    report_path: Path
    tasks_out: Path | None = None
    tasks: list[dict[str, Any]] = field(default_factory=list)


# --------------------------------------------------------------------------- reading


def _is_tag(value: str) -> bool:
    return value == "O" or (len(value) > 2 and value[1] == "-" and value[0] in _PREFIXES)


def read_conll(path: Path, *, column: int | None = None, report: ConllReport | None = None) -> Iterator[Sentence]:
    """Sentences of a CoNLL file. ``column`` is the tag column (0-based, negative from the end);
    by default the last one, or the third for GermEval files (token index, token, outer tag, inner tag)."""
    try:
        raw = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError as err:
        raise InputError(f"CoNLL file {path} does not exist.") from err
    except UnicodeDecodeError as err:
        raise InputError(f"CoNLL file {path} is not UTF-8: {err}", hint="Convert it with `iconv -t utf-8`.") from err
    token_col, tag_col = 0, column
    layout_known = False
    tokens: list[str] = []
    tags: list[str] = []
    first = 0
    for number, line in enumerate(raw.splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0] == "-DOCSTART-":
            if tokens:
                yield Sentence(tokens, tags, first)
                tokens, tags = [], []
            continue
        if not layout_known and not line.startswith("#") and len(parts) >= 2:
            # GermEval-style: a running token index in front of the token.
            germeval = len(parts) >= 4 and parts[0].isdigit()
            token_col = 1 if germeval else 0
            if tag_col is None:
                tag_col = 2 if germeval else -1
            layout_known = True
        if line.startswith("#") and not (layout_known and len(parts) >= 2 and _is_tag(_get(parts, tag_col))):
            continue  # a comment, not a token "#"
        if len(parts) < 2 or tag_col is None or _get(parts, tag_col) is None:
            if report is not None:
                report.bad_lines.append(f"line {number}: {line[:80]!r} (expected a token and a tag column)")
            continue
        if not tokens:
            first = number
        tokens.append(parts[token_col])
        tags.append(_get(parts, tag_col) or "O")
    if tokens:
        yield Sentence(tokens, tags, first)


def _get(parts: list[str], index: int | None) -> str | None:
    if index is None or not -len(parts) <= index < len(parts):
        return None
    return parts[index]


def decode_tags(sentence: Sentence, report: ConllReport, *, ioe: bool = False) -> list[tuple[int, int, str]]:
    """Entity spans ``(start_token, end_token, label)`` from IOB1/IOB2/IOE/BILOU tags, repairing bad sequences.

    ``ioe``: the file uses IOE tags (no B-), so an entity opening with I- is normal, not a repair.
    """
    spans: list[tuple[int, int, str]] = []
    start: int | None = None
    label = ""

    def close(end: int) -> None:
        nonlocal start
        if start is not None:
            spans.append((start, end, label))
        start = None

    def repair(kind: str, i: int) -> None:
        report.repairs[kind] += 1
        if len(report.repair_examples) < 20:
            report.repair_examples.append(
                f"line {sentence.line + i}: {sentence.tokens[i]!r} {sentence.tags[i]} ({kind})"
            )

    for i, tag in enumerate(sentence.tags):
        if tag == "O":
            close(i)
            continue
        prefix, lab = (tag[0], tag[2:]) if _is_tag(tag) else ("I", tag)  # a bare label reads as I-
        if prefix in {"B", "S", "U"}:
            close(i)
            start, label = i, lab
            if prefix != "B":
                close(i + 1)
        elif prefix == "I":
            if start is None:
                if not ioe:
                    repair("I- without B-", i)
                start, label = i, lab
            elif lab != label:
                repair("I- after a different label", i)
                close(i)
                start, label = i, lab
        else:  # E or L: last token of an entity
            if start is None or lab != label:
                if start is not None:
                    repair("E- after a different label", i)
                close(i)
                start, label = i, lab
            close(i + 1)
    close(len(sentence.tags))
    return spans


# --------------------------------------------------------------------------- label maps


def parse_label_map(pairs: list[str] | None = None, file: Path | None = None) -> dict[str, str]:
    """``FROM=TO`` pairs and/or a YAML mapping file (pairs win). TO empty, ``O`` or ``DROP`` drops the label."""
    mapping: dict[str, str] = {}
    if file is not None:
        loaded = read_yaml(Path(file), what="Label map file") or {}
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"Label map file {file} must be a mapping FROM: TO.",
                hint="e.g. `PER: PER` and `LD: GPE`, one per line.",
            )
        mapping.update({str(k): "" if v is None else str(v) for k, v in loaded.items()})
    for pair in pairs or []:
        source, sep, target = pair.partition("=")
        if not sep or not source:
            raise ConfigError(
                f"Label map entry {pair!r} is not FROM=TO.", hint="Write e.g. --label-map LD=GPE (or LD= to drop LD)."
            )
        mapping[source.strip()] = target.strip()
    return mapping


def _check_map(mapping: dict[str, str], schema: Schema) -> None:
    allowed = set(schema.entity_labels)
    bad = sorted({t for t in mapping.values() if t not in DROP and t not in allowed})
    if bad:
        raise ConfigError(
            f"Label map targets {', '.join(bad)} are not entity labels of the schema.",
            hint=f"Map to one of {', '.join(schema.entity_labels)}, or to O to drop a label.",
        )


# --------------------------------------------------------------------------- conversion


def import_conll(
    path: Path,
    *,
    schema: Schema,
    out: Path | None = None,
    label_map: dict[str, str] | None = None,
    column: int | None = None,
    sentences_per_doc: int = 10,
    tasks_out: Path | None = None,
    keep_tasks: bool = False,
) -> ConllResult:
    """Read a CoNLL file into a DocBin at ``out`` (default: beside it, ``.spacy``) plus ``<out>.report.json``.

    Labels in the schema are kept; others must be mapped (``label_map``) or are dropped and counted.
    With ``tasks_out``, also writes Label Studio tasks with the entities as annotations for review;
    ``keep_tasks`` returns them in the result (for pushing) without writing them.
    """
    import spacy
    from spacy.tokens import DocBin

    if sentences_per_doc < 1:
        raise ConfigError(f"sentences per doc must be at least 1, got {sentences_per_doc}.")
    path = Path(path)
    mapping = label_map or {}
    _check_map(mapping, schema)
    out = Path(out) if out else path.with_suffix(".spacy")
    report = ConllReport(path=str(path))
    vocab = spacy.blank(schema.language).vocab
    allowed = set(schema.entity_labels)

    docbin = DocBin(store_user_data=True)
    tasks: list[dict[str, Any]] = []
    batch: list[tuple[Sentence, list[tuple[int, int, str]]]] = []

    def flush() -> None:
        doc = _make_doc(vocab, batch, path, report.docs)
        docbin.add(doc)
        if tasks_out is not None or keep_tasks:
            tasks.append(doc_to_task(doc))
        report.docs += 1
        batch.clear()

    def add_sentence(sentence: Sentence) -> None:
        report.sentences += 1
        report.tokens += len(sentence.tokens)
        kept = []
        for start, end, label in decode_tags(sentence, report, ioe=ioe):
            target = mapping.get(label, label if label in allowed else None)
            if target is None:
                report.dropped[f"{label}: not in the schema and not mapped"] += 1
            elif target in DROP:
                report.dropped[f"{label}: mapped to drop"] += 1
            else:
                if target != label:
                    report.mapped[f"{label}→{target}"] += 1
                report.entities_kept[target] += 1
                kept.append((start, end, target))
        batch.append((sentence, kept))
        if len(batch) >= sentences_per_doc:
            flush()

    sentences = list(read_conll(path, column=column, report=report))
    tag_prefixes = {tag[:2] for sentence in sentences for tag in sentence.tags}
    ioe = bool(tag_prefixes & {"E-", "L-"}) and not tag_prefixes & {"B-", "U-", "S-"}
    with fast_msgpack():
        for sentence in sentences:
            add_sentence(sentence)
        if batch:
            flush()
    if report.sentences == 0:
        raise InputError(
            f"No sentences found in {path}.",
            hint="Is it a CoNLL file (one token and tag per line, blank line between sentences)?",
        )

    atomic_write_bytes(out, docbin.to_bytes())
    report_path = out.with_name(out.name + ".report.json")
    write_json(report_path, report.to_json())
    if tasks_out is not None:
        write_json(Path(tasks_out), tasks)
    return ConllResult(out, report, report_path, Path(tasks_out) if tasks_out else None, tasks)


def _make_doc(vocab: Vocab, batch: list[tuple[Sentence, list[tuple[int, int, str]]]], path: Path, number: int) -> Doc:
    from spacy.tokens import Doc, Span

    words: list[str] = []
    sent_starts: list[bool] = []
    offsets: list[tuple[int, int, str]] = []
    for sentence, spans in batch:
        base = len(words)
        words.extend(sentence.tokens)
        sent_starts.extend([True] + [False] * (len(sentence.tokens) - 1))
        offsets.extend((base + s, base + e, label) for s, e, label in spans)
    doc = Doc(vocab, words=words, spaces=[True] * (len(words) - 1) + [False], sent_starts=sent_starts)
    doc.ents = [Span(doc, s, e, label=label) for s, e, label in offsets]
    doc.spans["event_triggers"] = []
    doc.spans["events"] = []
    article_id = sha256_text(doc.text)[:16]
    first, last = batch[0][0].line, batch[-1][0].line
    doc.user_data["relations"] = []
    doc.user_data["meta"] = {
        "article_id": article_id,
        "task_id": None,
        "annotation_id": None,
        "annotator": None,
        "cluster": f"{path.name}#{number}",
        "published": None,
        "title": f"{path.name}, lines {first}–{last}",
        "source": path.name,
    }
    return doc


def doc_to_task(doc: Doc) -> dict[str, Any]:
    """A Label Studio task (data as in docs/architecture.md) with the Doc's entities as an annotation."""
    meta = doc.user_data["meta"]
    u16 = to_utf16(doc.text)  # Label Studio's front end counts UTF-16 units, like annotation/preannotate.py sends
    result = [
        {
            "id": f"conll-{i}",
            "from_name": ENTITY_TAG,
            "to_name": TEXT_TAG,
            "type": "labels",
            "origin": "manual",
            "value": {"start": u16(ent.start_char), "end": u16(ent.end_char), "text": ent.text, "labels": [ent.label_]},
        }
        for i, ent in enumerate(doc.ents)
    ]
    data = {key: meta[key] for key in ("article_id", "cluster", "title", "source", "published")}
    return {"data": {"text": doc.text, **data, "url": None}, "annotations": [{"result": result, "ground_truth": False}]}
