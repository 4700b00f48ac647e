"""The seed's uncertainty strategies, as vectorised scores: higher means more worth labelling."""

from __future__ import annotations

import numpy as np

from alloop.strategies.selection import check_proba


def least_confidence(proba: np.ndarray) -> np.ndarray:
    """1 - the top class probability: the model is least sure of its best guess."""
    return 1.0 - check_proba(proba).max(axis=1)


def entropy(proba: np.ndarray) -> np.ndarray:
    """Predictive entropy -Σ p log p (natural log, 0 log 0 = 0).

    Rows are sorted first so that the sum runs in the same order for any permutation of the same
    probabilities: permuted rows then score exactly equal and count as ties.
    """
    p = np.sort(check_proba(proba), axis=1)
    logs = np.log(p, out=np.zeros_like(p), where=p > 0)
    return -(p * logs).sum(axis=1)


def margin(proba: np.ndarray) -> np.ndarray:
    """-(p_top1 - p_top2): the smallest gap between the two best classes scores highest."""
    p = check_proba(proba)
    if p.shape[1] == 1:
        return np.full(len(p), -1.0)
    top2 = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return -(top2[:, 1] - top2[:, 0])
