"""Suspected label errors: items whose given label the model, trained without them, strongly
disagrees with. The finding is cleanlab's (``cleanlab.filter.find_label_issues``, confident
learning, Northcutt et al. 2021), run on out-of-fold probabilities (``loop.autolabel``), the input
it is designed for; alloop only prepares that input and reads the answer."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SuspectedError:
    """One suspected error and its evidence: the label given, the label the model predicts out
    of fold, and its probability for that prediction."""

    index: int
    """row of the labelled items given to ``suspected_errors``"""
    given: int
    predicted: int
    confidence: float


def find_label_errors(proba: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """A boolean mask over the rows: cleanlab's label issues among ``labels`` given their
    out-of-fold ``proba`` (classes that no item carries are left out first, as cleanlab needs
    every class it is shown to have examples)."""
    labels = np.asarray(labels, dtype=np.int64)
    flagged = np.zeros(len(labels), dtype=bool)
    present, codes = np.unique(labels, return_inverse=True)
    counts = np.bincount(codes)
    if len(present) < 2:
        return flagged
    if counts.min() < 2:  # cleanlab needs two items of every class it sees: a lone one is left out
        keep = counts[codes] >= 2
        if len(np.unique(codes[keep])) >= 2:
            flagged[keep] = find_label_errors(proba[keep], labels[keep])
        return flagged
    sub = np.asarray(proba, dtype=float)[:, present]
    totals = sub.sum(axis=1, keepdims=True)
    sub = np.where(totals > 0, sub / np.where(totals > 0, totals, 1.0), 1.0 / len(present))
    from cleanlab.filter import find_label_issues

    with warnings.catch_warnings():  # cleanlab warns about small classes; the answer still stands
        warnings.simplefilter("ignore")
        return np.asarray(find_label_issues(codes, sub, n_jobs=1), dtype=bool)


def suspected_errors(proba: np.ndarray, labels: np.ndarray) -> list[SuspectedError]:
    """The flagged items with their evidence, the most confident disagreement first."""
    labels = np.asarray(labels, dtype=np.int64)
    mask = find_label_errors(proba, labels)
    predicted = proba.argmax(axis=1)
    found = [
        SuspectedError(int(i), int(labels[i]), int(predicted[i]), float(proba[i, predicted[i]]))
        for i in np.flatnonzero(mask)
        if predicted[i] != labels[i]
    ]
    return sorted(found, key=lambda e: -e.confidence)
