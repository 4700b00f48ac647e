"""A classifier over a category tree built from two flat ones: a top-level head and a leaf head.

The default needs no wrapper: any leaf classifier gives the tree, a parent's probability being the
sum of its leaves' (``Taxonomy.level_matrix``). This alternative (``--tree-heads levels``) trains
a second model on the top-level categories, which have many more examples each, and lets it set
how much probability each branch gets; the leaf model only splits a branch's share among its
leaves: p(leaf) = p_top(branch) * p_leaf(leaf) / sum of p_leaf over the branch's leaves. Both see
the same labelled items. ``docs/taxonomy.md`` has the measurements that chose the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from alloop.data.taxonomy import Taxonomy
from alloop.models.base import Classifier, check_fit_input

TREE_HEADS = ("leaf", "levels")
"""``--tree-heads``: ``leaf`` (one leaf model, parents summed) or ``levels`` (top-level x leaf)."""


class LevelHeads:
    """Top-level head times leaf head within the branch. Other abilities (embeddings, the encoder,
    precomputing) are the leaf head's, so strategies and cold starts work as with the leaf model."""

    def __init__(self, tree: Taxonomy, top: Classifier, leaf: Classifier):
        self.tree = tree
        self.top = top
        self.leaf = leaf
        self.n_classes = len(tree.leaves)
        self.codes = tree.level_codes(1)
        self.branches = tree.level_matrix(1)

    def fit(self, texts: Sequence[str], labels: np.ndarray) -> LevelHeads:
        labels = check_fit_input(texts, labels, self.n_classes)
        self.top.fit(texts, self.codes[labels])
        self.leaf.fit(texts, labels)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        top = self.top.predict_proba(texts)
        leaf = self.leaf.predict_proba(texts)
        return combine(top, leaf, self.codes, self.branches)

    def fit_unlabelled(self, texts: Sequence[str]) -> LevelHeads:
        for head in (self.top, self.leaf):
            if hasattr(head, "fit_unlabelled"):
                head.fit_unlabelled(texts)
        return self

    def __getattr__(self, name: str) -> Any:
        """The leaf head's abilities (``embed``, ``precompute``, ``text_encoder``...), so the
        ability protocols answer for the wrapper as they would for the leaf model."""
        if name in ("top", "leaf", "tree") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.leaf, name)


def combine(top: np.ndarray, leaf: np.ndarray, codes: np.ndarray, branches: np.ndarray) -> np.ndarray:
    """p_top(branch) x p_leaf(leaf | branch). A branch the leaf head gives no probability shares
    its mass evenly among its leaves, so every row still sums to 1."""
    share = leaf @ branches  # (items, branches): the leaf head's mass per branch
    within = np.where(share[:, codes] > 0, leaf / np.maximum(share[:, codes], 1e-300), 0.0)
    empty = share <= 0
    if empty.any():
        sizes = branches.sum(axis=0)
        within = np.where(empty[:, codes], 1.0 / sizes[codes][None, :], within)
    out = top[:, codes] * within
    return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-300)
