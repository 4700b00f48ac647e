"""Narrow silencers for scikit-learn warnings that say nothing a user can act on.

Each one wraps a single library call (never a filter at start-up), so any other warning still shows."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def many_classes_ok() -> Iterator[None]:
    """Fitting on a first small batch of a task with many classes (111 sub-categories, 100 labels) is
    normal in active learning; scikit-learn's 'more than 50% unique classes: could be regression'
    guess is then wrong and not actionable, so it is dropped for this one call."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="The number of unique classes is greater than 50%", category=UserWarning
        )
        yield
