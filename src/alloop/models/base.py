"""The classifier protocol every model follows, and helpers they share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from alloop.errors import AlloopError


@runtime_checkable
class Classifier(Protocol):
    """What the loop needs of a model: train on labelled texts, give class probabilities.

    ``predict_proba`` always returns ``(len(texts), n_classes)`` columns in the dataset's class
    order, even for classes the labelled set has not reached yet (probability 0), so strategies
    and metrics never see a shifted column.
    """

    n_classes: int

    def fit(self, texts: Sequence[str], labels: np.ndarray) -> Classifier: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


def check_fit_input(texts: Sequence[str], labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Validate training input the way scikit-learn estimators do, with a message a user can act on."""
    labels = np.asarray(labels)
    if len(texts) != len(labels):
        raise AlloopError(f"{len(texts)} texts but {len(labels)} labels; they must align")
    if len(labels) == 0:
        raise AlloopError("cannot train on an empty labelled set; raise --initial")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise AlloopError(f"label codes must lie in 0..{n_classes - 1}")
    return labels.astype(np.int64)


def expand_proba(proba: np.ndarray, seen: np.ndarray, n_classes: int) -> np.ndarray:
    """Place a model's columns (for the classes it has seen) into the full class space."""
    full = np.zeros((proba.shape[0], n_classes), dtype=np.float64)
    full[:, seen] = proba
    return full


def constant_proba(n_rows: int, label: int, n_classes: int) -> np.ndarray:
    """What a model trained on a single class can honestly say: that class, always."""
    full = np.zeros((n_rows, n_classes), dtype=np.float64)
    full[:, label] = 1.0
    return full


@runtime_checkable
class LearnsFromPool(Protocol):
    """A classifier that learns label-free features (an n-gram vocabulary) from the unlabelled pool.

    Every text the loop may score is known before the first label, so learning the vocabulary
    from all of them once is both legitimate and cheaper than refitting it on the labels each cycle.
    """

    def fit_unlabelled(self, texts: Sequence[str]) -> object: ...


def with_pool(classifier: Classifier, pool_texts: Sequence[str]) -> Classifier:
    """``classifier``, told about the unlabelled pool when it can learn from one."""
    if isinstance(classifier, LearnsFromPool):
        classifier.fit_unlabelled(pool_texts)
    return classifier


def fit_depends_on_seed(classifier: Classifier) -> bool:
    """Whether two fits on the same data with different seeds may differ (fine-tuning: yes; a
    convex linear head solved by newton-cg: no). Unknown classifiers are assumed to depend on it."""
    return bool(getattr(classifier, "seed_dependent_fit", True))
