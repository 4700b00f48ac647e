"""Metrics over a category tree, derived from the leaf model's probabilities.

A parent's probability is the sum of its leaves' (``Taxonomy.level_matrix``), so every classifier
predicts over the whole tree consistently. The predicted node at a level is the argmax of those
summed probabilities (``macro_f1_level_N``), which can differ from the ancestor of the argmax leaf
(``macro_f1_level_N_argmax_leaf``, kept to show what summing is worth). The leaf level is the
existing ``macro_f1``. Hierarchical precision, recall and F1 follow Kiritchenko et al. (2005): each
label is the set of its node and the node's ancestors, and the overlaps are micro-averaged over
items.
"""

from __future__ import annotations

import numpy as np

from alloop.data.taxonomy import Taxonomy

HIER_KEYS = ("hier_precision", "hier_recall", "hier_f1")


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro-F1 over the classes present in ``y_true`` (as ``evaluate`` averages)."""
    from sklearn.metrics import f1_score

    present = np.unique(y_true)
    return float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0))


def level_predictions(tree: Taxonomy, proba: np.ndarray, level: int) -> np.ndarray:
    """The node each item is predicted at ``level`` (codes into ``tree.level_nodes(level)``):
    argmax of the leaf probabilities summed per node."""
    return (np.asarray(proba) @ tree.level_matrix(level)).argmax(axis=1)


def hierarchical_prf(tree: Taxonomy, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float, float]:
    """Set-of-ancestors precision, recall and F1 of leaf predictions, micro-averaged over items."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    depths = np.array([len(leaf) for leaf in tree.leaves])
    overlap = np.zeros(len(y_true), dtype=np.int64)
    for level in range(1, tree.depth + 1):
        codes = tree.level_codes(level)
        overlap += (
            (codes[y_true] == codes[y_pred]) & (depths[y_true] >= level) & (depths[y_pred] >= level)
        ).astype(np.int64)
    predicted, true = depths[y_pred].sum(), depths[y_true].sum()
    precision = float(overlap.sum() / predicted) if predicted else 0.0
    recall = float(overlap.sum() / true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def tree_scores(tree: Taxonomy, y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Macro-F1 at each level above the leaves, both ways, and hierarchical P/R/F1; empty for a
    flat tree (its only level is the leaf ``macro_f1``)."""
    if tree.is_flat:
        return {}
    y_true = np.asarray(y_true)
    leaf_pred = np.asarray(proba).argmax(axis=1)
    out: dict[str, float] = {}
    for level in range(1, tree.depth):
        codes = tree.level_codes(level)
        out[f"macro_f1_level_{level}"] = macro_f1(codes[y_true], level_predictions(tree, proba, level))
        out[f"macro_f1_level_{level}_argmax_leaf"] = macro_f1(codes[y_true], codes[leaf_pred])
    out.update(zip(HIER_KEYS, hierarchical_prf(tree, y_true, leaf_pred), strict=True))
    return out


def level_columns(depth: int) -> list[str]:
    """The per-level macro-F1 columns of a tree ``depth`` levels deep, top-down (leaf excluded)."""
    return [f"macro_f1_level_{level}" for level in range(1, depth)]
