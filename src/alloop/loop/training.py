"""Training, the engine's one way: a classifier first learns what it can from the whole pool
without labels (``with_pool``: the hybrid's n-gram vocabulary and neighbour graph), then fits the
labelled texts. Both front ends and the full-pool ceiling train through here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from alloop.models.base import Classifier, with_pool


def train_on_pool(
    classifier: Classifier, pool_texts: Sequence[str], texts: Sequence[str], labels: np.ndarray
) -> Classifier:
    """``classifier`` trained on ``texts``/``labels`` with ``pool_texts`` as its unlabelled pool."""
    return with_pool(classifier, pool_texts).fit(texts, labels)
