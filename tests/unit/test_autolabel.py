"""The auto-labelling threshold (``alloop.loop.autolabel``) on synthetic scores with a known answer:
over many draws of the labelled items, the chosen threshold's true precision reaches the target at
least as often as the stated confidence says."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from alloop.errors import AlloopError
from alloop.loop.autolabel import (
    Calibration,
    Threshold,
    choose_threshold,
    coverage,
    decide,
    fewest_to_pass,
    out_of_fold,
    precision_lower_bound,
    start_count,
)

A, B = 4.0, 1.2
"""Confidences are Beta(4, 1.2): most predictions confident, a long tail of unsure ones."""


def p_right(c: np.ndarray | float) -> np.ndarray | float:
    """The chance a prediction of confidence ``c`` is right: rises with ``c`` but tops out at
    0.985, as real models' confident mistakes (and label errors) make it."""
    return np.minimum(0.6 + 0.4 * np.power(c, 1.5), 0.985)


GRID = np.linspace(0.0, 1.0, 20_001)
_density = stats.beta(A, B).pdf(GRID)
_mass = integrate.cumulative_trapezoid(_density[::-1], -GRID[::-1], initial=0)[::-1]
_right = integrate.cumulative_trapezoid((p_right(GRID) * _density)[::-1], -GRID[::-1], initial=0)[::-1]


def true_precision(t: float) -> float:
    """Precision of every prediction with confidence >= t over the whole population: the integral
    of p_right over the confidence density above t, on a fine grid."""
    i = min(int(np.searchsorted(GRID, t)), len(GRID) - 2)
    return float(_right[i] / _mass[i])


def test_the_known_answer_is_right():
    assert true_precision(0.0) == pytest.approx(
        integrate.quad(lambda c: p_right(c) * stats.beta(A, B).pdf(c), 0, 1)[0], abs=1e-5
    )
    assert true_precision(0.999) == pytest.approx(0.985, abs=1e-6)


def true_coverage(t: float) -> float:
    return float(stats.beta(A, B).sf(t))


def draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    c = rng.beta(A, B, n)
    return c, rng.random(n) < p_right(c)


def allowed_failures(draws: int, level: float) -> int:
    """Failures a rule that holds ``level`` exactly would exceed only once in a thousand runs."""
    return int(stats.binom.ppf(0.999, draws, 1 - level))


@pytest.mark.parametrize(("target", "level", "n"), [(0.95, 0.95, 800), (0.90, 0.90, 400)])
def test_the_chosen_threshold_reaches_the_target_at_the_stated_confidence(target, level, n):
    rng = np.random.default_rng(7)
    draws, failures, covered = 300, 0, []
    for _ in range(draws):
        found = choose_threshold(*draw(rng, n), target, level)
        if found.value is None:
            covered.append(0.0)
            continue
        covered.append(true_coverage(found.value))
        failures += true_precision(found.value) < target
    assert failures <= allowed_failures(draws, level)
    assert np.mean(covered) > 0.05  # it does accept a share: a rule accepting nothing would fail here


def test_taking_the_best_of_many_thresholds_would_not_hold_it():
    """The check above can fail: the naive rule (the lowest threshold whose observed precision on
    the labelled items reaches the target) misses the target in far more draws than 5%."""
    rng = np.random.default_rng(7)
    failures = 0
    for _ in range(200):
        c, right = draw(rng, 800)
        order = np.argsort(-c)
        precision = np.cumsum(right[order]) / np.arange(1, len(c) + 1)
        k = np.flatnonzero(precision >= 0.95).max()
        failures += true_precision(float(c[order][k])) < 0.95
    assert failures > 200 * 0.3


def test_the_bound_is_the_exact_binomial_one():
    bound = precision_lower_bound(200, 6, 0.95)
    # the precision at which 194 or more right of 200 happens only 5% of the time
    assert stats.binom.sf(193, 200, bound) == pytest.approx(0.05, abs=1e-6)
    assert precision_lower_bound(10, 10, 0.95) == 0.0
    assert precision_lower_bound(59, 0, 0.95) >= 0.95 > precision_lower_bound(58, 0, 0.95)
    assert fewest_to_pass(0.95, 0.95) == 59


def test_the_scan_starts_where_it_can_pass_with_a_few_errors():
    assert start_count(0.95, 0.95) == 153
    k = start_count(0.95, 0.95)
    assert precision_lower_bound(k - 1, math.floor((k - 1) * 0.025), 0.95) < 0.95


def test_too_few_labelled_items_accept_nothing():
    found = choose_threshold(np.full(40, 0.99), np.ones(40, dtype=bool), 0.95, 0.95)
    assert found.value is None
    assert not found.accepts(np.array([0.999, 1.0])).any()
    assert "no confidence threshold" in found.describe()


def test_all_right_accepts_all_and_ties_go_together():
    c = np.array([0.9] * 300 + [0.5] * 100)
    found = choose_threshold(c, np.ones(400, dtype=bool), 0.95, 0.95)
    assert found.value == 0.5 and found.n_accepted == 400 and found.n_errors == 0
    mixed = choose_threshold(c, np.r_[np.ones(300, dtype=bool), np.zeros(100, dtype=bool)], 0.95, 0.95)
    assert mixed.value == 0.9 and mixed.n_accepted == 300  # the 300 tied at 0.9 enter together
    assert mixed.observed_precision == 1.0 and mixed.lower_bound >= 0.95


def test_coverage_counts_the_accepted_and_their_precision():
    threshold = Threshold(0.8, 0.95, 0.95, 100, 50, 1, 0.96)
    proba = np.array([[0.9, 0.1], [0.85, 0.15], [0.3, 0.7], [0.5, 0.5]])
    found = coverage(threshold, proba, None, np.array([0, 1, 1, 1]))
    assert found.share == 0.5 and found.n_accepted == 2 and found.precision == 0.5
    assert math.isnan(coverage(threshold, proba[2:3], None, np.array([1])).precision)
    # the fold models' top class must agree with the shipped label: row 1 disagrees, so only row 0
    agreeing = coverage(threshold, proba, np.array([0, 1, 1, 0]), np.array([0, 1, 1, 1]))
    assert agreeing.n_accepted == 1 and agreeing.precision == 1.0
    assert decide(threshold, proba, np.array([0, 1, 1, 0])).tolist() == [True, False, False, False]


class Fixed:
    """A fold model that gives fixed probabilities, whatever the texts."""

    def __init__(self, rows: list[list[float]]):
        self.rows = np.array(rows)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.rows[: len(texts)]


def test_every_fold_model_must_clear_the_threshold_with_the_same_class():
    threshold = Threshold(0.8, 0.95, 0.95, 100, 50, 1, 0.96)
    folds = (
        Fixed([[0.95, 0.05], [0.99, 0.01], [0.9, 0.1]]),
        Fixed([[0.9, 0.1], [0.99, 0.01], [0.9, 0.1]]),
        Fixed([[0.85, 0.15], [0.7, 0.3], [0.1, 0.9]]),  # unsure of item 1, the other class for item 2
    )
    found = Calibration(np.zeros((0, 2)), np.zeros(0, dtype=np.int64), folds)  # type: ignore[arg-type]
    least = found.least_proba(["a", "b", "c"])
    np.testing.assert_allclose(least, [[0.85, 0.05], [0.7, 0.01], [0.1, 0.1]])
    # item 1's mean confidence (0.893) clears 0.8, but one fold model is below it: not accepted
    assert decide(threshold, least, np.array([0, 0, 0])).tolist() == [True, False, False]


@pytest.mark.parametrize("bad", [1.5, 1.0, 0.0, -0.1, float("nan")])
def test_bad_targets_are_one_line_errors(bad):
    with pytest.raises(AlloopError, match="must be above 0 and below 1"):
        choose_threshold(np.ones(3), np.ones(3, dtype=bool), bad)


class Memoriser:
    """Knows exactly the texts it was trained on, nothing else: out of fold it must know nothing."""

    n_classes = 3

    def fit(self, texts, labels):
        self.known = dict(zip(texts, labels, strict=True))
        return self

    def predict_proba(self, texts):
        out = np.full((len(texts), 3), 1 / 3)
        for i, t in enumerate(texts):
            if t in self.known:
                out[i] = np.eye(3)[self.known[t]]
        return out


def test_out_of_fold_never_scores_an_item_with_a_model_that_saw_it():
    texts = [f"item {i}" for i in range(23)]
    labels = np.arange(23) % 3
    proba = out_of_fold(Memoriser, texts, labels, 3, seed=1)
    assert np.allclose(proba, 1 / 3)


def test_the_coverage_stops_read_the_estimated_coverage():
    from alloop.loop.stopping import CoveragePlateau, CoverageReached, LoopState, label_free

    def state(*history: float) -> LoopState:
        return LoopState(len(history), 100, 100, 0.5, coverage_history=history)

    reached = CoverageReached(0.5)
    assert reached.reason(state(0.1, 0.49)) is None and reached.reason(state(math.nan)) is None
    assert reached.reason(state(0.2, 0.51)).startswith("coverage: 51.0% of the pool")
    plateau = CoveragePlateau()
    assert plateau.reason(state(0.0, 0.0, 0.0, 0.0, 0.0)) is None  # nothing certified yet: no plateau
    assert plateau.reason(state(0.1, 0.2, 0.3, 0.4)) is None  # still growing
    assert plateau.reason(state(0.1, 0.40, 0.41, 0.40, 0.405)).startswith("coverage-plateau")
    assert [type(c).__name__ for c in label_free(["coverage:0.3", "coverage-plateau"])] == [
        "CoverageReached",
        "CoveragePlateau",
    ]
    with pytest.raises(AlloopError, match="give the share as a number"):
        label_free(["coverage:half"])
