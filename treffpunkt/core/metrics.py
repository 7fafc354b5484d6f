"""Precision, recall and F1 from counts: the one definition used by evaluation, comparison and agreement."""

from __future__ import annotations

from typing import Any

import numpy as np


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    """P, R and F1 of one count triple; 0.0 where a ratio has nothing to divide by."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f": f}


def f1(tp: Any, fp: Any, fn: Any) -> Any:
    """F1 = 2tp / (2tp + fp + fn), for numbers or numpy arrays; 0 where there is nothing at all."""
    tp, fp, fn = (np.asarray(x, dtype=float) for x in (tp, fp, fn))
    denom = 2 * tp + fp + fn
    out = np.divide(2 * tp, denom, out=np.zeros_like(denom), where=denom > 0)
    return float(out) if out.ndim == 0 else out
