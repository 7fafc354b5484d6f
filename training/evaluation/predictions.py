"""Per-sentence prediction tables: gold vs predicted events and entities, with the text, to browse errors.

``evaluate`` writes one (``predictions-<split>.jsonl`` beside the model, and a wandb Table); ``compare`` writes
one with a column per version, side by side. Sentences are the gold doc's; a predicted event or entity belongs to
the gold sentence it overlaps (texts are identical, so character offsets line up). Documents are named by
:func:`doc_label` here and in ``compare``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from treffpunkt.training.pipeline.components import event_pairs, sentence_spans


def doc_key(doc: Any) -> tuple[str | None, str]:
    """(article id or None, sha256 of the text): how a document is recognised across exports."""
    meta = doc.user_data.get("meta") or {}
    article = meta.get("article_id")
    return (str(article) if article not in (None, "") else None), hashlib.sha256(doc.text.encode("utf-8")).hexdigest()


def doc_label(doc: Any, index: int) -> str:
    """A readable id for listings: the article id, else the task id, else the position and a text hash."""
    meta = doc.user_data.get("meta") or {}
    if meta.get("article_id") not in (None, ""):
        return str(meta["article_id"])
    if meta.get("task_id") is not None:
        return f"task-{meta['task_id']}"
    return f"#{index}-{doc_key(doc)[1][:8]}"


def _events_in(pairs: set[tuple[int, int, str]], start: int, end: int) -> list[str]:
    return sorted({label for s, e, label in pairs if s < end and e > start})


def _ents_in(doc: Any, start: int, end: int) -> list[str]:
    return [f"{e.text} [{e.label_}]" for e in doc.ents if e.start_char < end and e.end_char > start]


def prediction_rows(
    gold_docs: Sequence[Any], predicted: Mapping[str, Sequence[Any]], *, errors_only: bool = False
) -> tuple[list[str], list[list[Any]]]:
    """Columns and one row per gold sentence: doc, sentence number, text, gold and each system's events and
    entities (``"; "``-joined), and per system whether its events / entities match gold exactly."""
    systems = list(predicted)
    columns = ["doc", "sentence", "text", "gold_events"]
    columns += [f"{s}_events" for s in systems] + ["gold_entities"] + [f"{s}_entities" for s in systems]
    columns += [f"{s}_{layer}_ok" for s in systems for layer in ("events", "entities")]
    rows: list[list[Any]] = []
    for i, gold in enumerate(gold_docs):
        docs = [predicted[s][i] for s in systems]
        gold_pairs, pred_pairs = event_pairs(gold), [event_pairs(d) for d in docs]
        for n, sent in enumerate(sentence_spans(gold)):
            a, b = sent.start_char, sent.end_char
            gold_events, gold_ents = _events_in(gold_pairs, a, b), _ents_in(gold, a, b)
            events = [_events_in(p, a, b) for p in pred_pairs]
            ents = [_ents_in(d, a, b) for d in docs]
            oks = [[ev == gold_events, en == gold_ents] for ev, en in zip(events, ents, strict=True)]
            if errors_only and all(all(ok) for ok in oks):
                continue
            rows.append(
                [
                    doc_label(gold, i),
                    n,
                    sent.text.strip(),
                    "; ".join(gold_events),
                    *("; ".join(e) for e in events),
                    "; ".join(gold_ents),
                    *("; ".join(e) for e in ents),
                    *(flag for ok in oks for flag in ok),
                ]
            )
    return columns, rows
