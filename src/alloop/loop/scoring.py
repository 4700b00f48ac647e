"""Scoring a pool in bounded chunks, so memory stays flat however large the pool is."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from alloop.models.base import Classifier

CHUNK = 65_536
"""Texts per ``predict_proba`` call: TF-IDF matrices and encoder batches stay small at 1M titles."""


def predict_in_chunks(classifier: Classifier, texts: Sequence[str], chunk: int = CHUNK) -> np.ndarray:
    """``classifier.predict_proba(texts)``, computed ``chunk`` texts at a time.

    Only the probability matrix grows with the pool (1M x 14 float64 is 112 MB); the features a
    classifier builds to score (a TF-IDF matrix, encoder batches) live for one chunk.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be positive, got {chunk}")
    out: np.ndarray | None = None
    for start in range(0, len(texts), chunk):
        part = classifier.predict_proba(texts[start : start + chunk])
        if out is None:
            out = np.empty((len(texts), part.shape[1]), dtype=part.dtype)
        out[start : start + len(part)] = part
    return out if out is not None else np.empty((0, 0))
