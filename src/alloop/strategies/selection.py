"""Turning scores into a batch: the k highest, ties broken by a seeded RNG, no item twice."""

from __future__ import annotations

import numpy as np

from alloop.errors import AlloopError


def check_proba(proba: np.ndarray) -> np.ndarray:
    """A probability matrix: 2-D, finite, one row per unlabelled item."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] < 1:
        raise AlloopError(f"expected a (items, classes) probability matrix, got shape {proba.shape}")
    if not np.isfinite(proba).all():
        raise AlloopError("the probability matrix holds NaN or infinite values")
    return proba


def check_k(k: int) -> int:
    if int(k) != k or k < 1:
        raise AlloopError(f"the query size must be a whole number of at least 1, got {k}")
    return int(k)


def top_k(scores: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of the ``k`` highest scores, highest first.

    Exact ties at the cut-off are drawn uniformly at random with ``rng``, and ties inside the batch
    are ordered at random too, so no index position is favoured. O(n) via a partition: scoring a
    million items does not need a full sort.
    """
    scores = np.asarray(scores, dtype=np.float64)
    k = min(check_k(k), len(scores))
    if k == 0:
        return np.empty(0, dtype=np.int64)
    kth = np.partition(scores, len(scores) - k)[len(scores) - k]
    above = np.flatnonzero(scores > kth)
    tied = np.flatnonzero(scores == kth)
    chosen = np.concatenate([above, rng.choice(tied, k - len(above), replace=False)])
    order = np.lexsort((rng.random(len(chosen)), -scores[chosen]))
    return chosen[order].astype(np.int64)
