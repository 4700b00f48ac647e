"""Test-set metrics: macro-F1 first, with accuracy, macro precision/recall and per-class F1."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from alloop.data.taxonomy import Taxonomy


@dataclass(frozen=True)
class Scores:
    """Metrics of one model on one test set. Per-class arrays follow ``classes``."""

    macro_f1: float
    accuracy: float
    macro_precision: float
    macro_recall: float
    classes: list[str]
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    tree: dict[str, float] = field(default_factory=dict)
    """Per-level macro-F1 and hierarchical P/R/F1 (``loop.hierarchy.tree_scores``); empty when flat."""

    def as_dict(self) -> dict[str, float]:
        return {
            "macro_f1": self.macro_f1,
            "accuracy": self.accuracy,
            "macro_precision": self.macro_precision,
            "macro_recall": self.macro_recall,
        }


def evaluate(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    classes: Sequence[str],
    proba: np.ndarray | None = None,
    tree: Taxonomy | None = None,
) -> Scores:
    """Macro averages run over the classes present in the test set, so a class the pool has but
    the test set lacks neither helps nor hides anything; predicting it still costs recall. With a
    category ``tree`` and the leaf probabilities, the levels above the leaves are scored too."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    present = np.unique(y_true)
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=present, average=None, zero_division=0
    )
    return Scores(
        macro_f1=float(np.mean(f)),
        accuracy=float(accuracy_score(y_true, y_pred)),
        macro_precision=float(np.mean(p)),
        macro_recall=float(np.mean(r)),
        classes=[classes[i] for i in present],
        precision=p,
        recall=r,
        f1=f,
        support=s,
        tree=_tree_scores(tree, y_true, proba),
    )


def _tree_scores(tree: Taxonomy | None, y_true: np.ndarray, proba: np.ndarray | None) -> dict[str, float]:
    if tree is None or proba is None:
        return {}
    from alloop.loop.hierarchy import tree_scores

    return tree_scores(tree, y_true, proba)
