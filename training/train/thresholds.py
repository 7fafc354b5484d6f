"""Per-label decision thresholds of the event classifier, chosen on the dev split after training.

A fixed 0.5 threshold leaves rare labels almost never predicted (their probabilities stay low under class
imbalance). For each label the threshold that maximises dev F1 over (sentence, label) decisions is kept (ties:
the higher threshold, i.e. the more precise one); a label without dev positives keeps the default. Thresholds are
stored in the component's cfg, so ``predict``, ``evaluate``, the uncertainty score and pre-annotations use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from treffpunkt.core.metrics import f1
from treffpunkt.training.pipeline.components import (
    EVENT_FACTORIES,
    EVENTS_KEY,
    SCORES_KEY,
    sentence_key,
    sentence_spans,
)

#: Candidate thresholds: fine at the low end where rare labels live.
GRID = (0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9)


def choose_thresholds(
    gold_docs: Sequence[Any], predicted_docs: Sequence[Any], labels: Sequence[str], *, default: float = 0.5
) -> dict[str, dict[str, float]]:
    """label -> {"threshold", "dev_f", "default_f"} from aligned gold and predicted docs (the same texts)."""
    decisions: dict[str, list[tuple[float, bool]]] = {label: [] for label in labels}
    for gold, pred in zip(gold_docs, predicted_docs, strict=True):
        truth = {(s.start_char, s.end_char, s.label_) for s in gold.spans.get(EVENTS_KEY, [])}
        scores = pred.user_data.get(SCORES_KEY) or {}
        for sent in sentence_spans(pred):
            row = scores.get(sentence_key(sent), {})
            for label in labels:
                decisions[label].append((float(row.get(label, 0.0)), (sent.start_char, sent.end_char, label) in truth))
    chosen: dict[str, dict[str, float]] = {}
    for label, rows in decisions.items():
        positives = sum(y for _, y in rows)

        def f_at(t: float, rows: list[tuple[float, bool]] = rows, positives: int = positives) -> float:
            tp = sum(1 for p, y in rows if p >= t and y)
            fp = sum(1 for p, y in rows if p >= t and not y)
            return float(f1(tp, fp, positives - tp))

        best = max((*GRID, default), key=lambda t: (round(f_at(t), 6), t)) if positives else default
        if f_at(best) == 0.0:  # nothing to gain on dev: keep the default rather than an arbitrary grid point
            best = default
        chosen[label] = {"threshold": best, "dev_f": f_at(best), "default_f": f_at(default)}
    return chosen


def tune_event_thresholds(nlp: Any, dev_docs: Sequence[Any], labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Choose thresholds on ``dev_docs`` and set them in every event component of ``nlp`` (not saved here)."""
    names = [n for n in nlp.pipe_names if nlp.get_pipe_meta(n).factory in EVENT_FACTORIES]
    if not names or not dev_docs or not labels:
        return {}
    predicted = list(nlp.pipe(doc.text for doc in dev_docs))
    chosen = choose_thresholds(dev_docs, predicted, labels, default=float(nlp.get_pipe(names[0]).cfg["threshold"]))
    for name in names:
        nlp.get_pipe(name).cfg["thresholds"] = {label: row["threshold"] for label, row in chosen.items()}
    return chosen
