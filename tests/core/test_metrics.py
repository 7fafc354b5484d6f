"""One P/R/F: the definitions every layer uses (evaluation, comparison, agreement)."""

from __future__ import annotations

import numpy as np
import pytest

from treffpunkt.annotation.agreement.measure import SpanCounts
from treffpunkt.core.metrics import f1, prf


def test_metrics_prf_hand_computed():
    assert prf(3, 1, 2) == pytest.approx({"p": 0.75, "r": 0.6, "f": 2 * 0.75 * 0.6 / 1.35})
    assert prf(0, 0, 0) == {"p": 0.0, "r": 0.0, "f": 0.0}


def test_metrics_f1_agrees_with_prf_and_takes_arrays():
    assert f1(3, 1, 2) == pytest.approx(prf(3, 1, 2)["f"])
    out = f1(np.array([3, 0]), np.array([1, 0]), np.array([2, 0]))
    assert out.tolist() == pytest.approx([prf(3, 1, 2)["f"], 0.0])


def test_metrics_agreement_uses_the_same_f1():
    # two annotators: a marked 4 spans, b 5, 3 identical -> F1 = 2*3 / (4 + 5)
    assert SpanCounts(tp=3, n_a=4, n_b=5).f1 == pytest.approx(f1(3, 1, 2)) == pytest.approx(6 / 9)
    assert SpanCounts().f1 is None
