"""The validation split the design benches choose on: 20% of the pool, stratified, seed 0. The
test split is never read, so a setting picked here is not fitted to the figures it is judged by."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from alloop.data import TextDataset


def pool_split(data: TextDataset) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pool's texts (an object array) and labels, and the positions to label from and to score."""
    texts = np.array(data.pool_texts, dtype=object)
    labels = np.asarray(data.pool_labels)
    train, val = train_test_split(np.arange(len(texts)), test_size=0.2, stratify=labels, random_state=0)
    return texts, labels, train, val
