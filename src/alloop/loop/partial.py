"""Training on partial labels: an item known only down to a branch of the category tree.

A partial label (``Electronics > Audio``) says the item's leaf is one of the leaves under that
node. Every classifier here fits hard class codes, so a partial label is turned into one: the leaf
under its node that a model trained on the full labels finds most probable (one hard-EM step on
the marginal likelihood of the node, the sum of its leaves' probabilities). The item then pulls the
model towards its branch without a label outside it; with no model yet it waits for one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def resolve_partial(proba: np.ndarray, allowed: Sequence[Sequence[int]]) -> np.ndarray:
    """For each row of ``proba`` (items by leaves), the most probable leaf among ``allowed[i]``
    (the leaves under the item's node). Ties go to the first leaf, so the result is deterministic."""
    proba = np.asarray(proba)
    if len(proba) != len(allowed):
        raise ValueError(f"{len(proba)} probability rows for {len(allowed)} partial labels")
    out = np.empty(len(allowed), dtype=np.int64)
    for i, leaves in enumerate(allowed):
        leaves = np.asarray(leaves, dtype=np.int64)
        if not len(leaves):
            raise ValueError("a partial label with no leaf under it")
        out[i] = leaves[int(np.argmax(proba[i, leaves]))]
    return out
