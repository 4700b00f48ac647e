"""The noisy simulated annotator (``--oracle-noise``): wrong on the stated share of items, the same
answers under the same seed, and, confusion-shaped, wrong towards the classes the model confuses."""

from __future__ import annotations

import numpy as np
import pytest

from alloop.errors import AlloopError
from alloop.loop.oracle import NoisyOracle, SimulatedOracle, check_noise, flip_weights

N, K = 4000, 5


def oracle(rate: float, seed: int, similar: np.ndarray | None = None) -> NoisyOracle:
    ids = [f"item-{i}" for i in range(N)]
    gold = np.arange(N) % K
    return NoisyOracle(SimulatedOracle(ids, gold), K, rate, seed, similar)


def test_the_share_answered_wrong_is_the_rate_and_never_the_right_class():
    ids = [f"item-{i}" for i in range(N)]
    answers = oracle(0.2, 0).label(ids)
    wrong = answers != np.arange(N) % K
    assert abs(wrong.mean() - 0.2) < 0.02
    assert np.bincount(answers[wrong], minlength=K).min() > 0.8 * wrong.sum() / K  # uniform flips


def test_the_same_seed_gives_the_same_answers_in_any_order_and_batch():
    ids = [f"item-{i}" for i in range(N)]
    first = oracle(0.1, 3).label(ids)
    shuffled = np.random.default_rng(1).permutation(N)
    again = oracle(0.1, 3)
    by_batch = np.concatenate([again.label([ids[i] for i in chunk]) for chunk in np.array_split(shuffled, 7)])
    assert np.array_equal(by_batch, first[shuffled])
    assert len(again.flipped) == int((first != np.arange(N) % K).sum())
    assert not np.array_equal(oracle(0.1, 4).label(ids), first)


def test_confusion_shaped_noise_flips_towards_the_confused_class():
    similar = np.eye(K) * 50
    similar[0, 1] = 9  # class 0 is mistaken for 1 nine times as often as for 2
    similar[0, 2] = 1
    answers = oracle(0.3, 0, similar).label([f"item-{i}" for i in range(N)])
    gold = np.arange(N) % K
    from_zero = answers[(gold == 0) & (answers != 0)]
    assert set(from_zero.tolist()) <= {1, 2}
    assert (from_zero == 1).mean() > 0.8
    weights = flip_weights(similar)
    assert np.allclose(weights.sum(axis=1), 1) and np.allclose(np.diag(weights), 0)
    assert np.allclose(weights[3], [0.25, 0.25, 0.25, 0, 0.25])  # never confused: uniform


@pytest.mark.parametrize(("rate", "kind"), [(-0.1, "uniform"), (1.0, "uniform"), (0.1, "loud")])
def test_bad_noise_is_refused(rate, kind):
    with pytest.raises(AlloopError):
        check_noise(rate, kind)
