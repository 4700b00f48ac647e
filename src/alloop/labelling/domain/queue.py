"""Which item a person sees next: the ranked queue a model built, and the picks that never wait.

The ranking itself is the engine's query step (``alloop.loop.query``), run by the trainer.

The queue is an immutable snapshot (a tuple of item positions) that the background trainer
replaces whole; request handlers only read it. Picking walks, in order: items chosen for overlap
that still need another annotator, then the snapshot's queue, then a seeded permutation of the
whole pool, so an annotator always gets an item even while the first model is still training.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from alloop.labelling.domain.suggest import Suggestions


@dataclass(frozen=True)
class Estimate:
    """The model's estimated macro-F1: out-of-fold on the labels so far (``cv``) or on the
    unlabelled items' gold labels (``gold``); ``n`` items were scored."""

    macro_f1: float
    method: str
    n: int


@dataclass(frozen=True)
class Snapshot:
    """One queue and the model that built it. ``version`` 0 means no model yet (cold start)."""

    queue: tuple[int, ...]
    source: str
    version: int = 0
    n_trained: int = 0
    estimate: Estimate | None = None
    seconds: float = 0.0
    suggestions: Suggestions | None = None
    """this model's predicted label per unlabelled item (None: no model, or ``--suggest off``)"""
    reopened: frozenset[int] = frozenset()
    """items whose final label was partial (a tree's inner node) when this model trained: ranked
    again for their leaf, and handed out again from this queue, even to who answered them"""
    similar: dict[int, tuple[int, ...]] = field(default_factory=dict)
    """near-duplicates of each queued item among the unlabelled ones, most similar first: the page
    offers to give them the same label (empty without a model that embeds)"""
    trust: dict[str, Any] | None = None
    """auto-labelling at the default target precision and the number of suspected label errors
    (``domain/trust.py``); None without an out-of-fold estimate"""


def queue_length(query_size: int) -> int:
    """Twice a retrain's worth: people label the second half while the next model trains."""
    return max(2 * query_size, 10)


def permutation(n: int, seed: int) -> np.ndarray:
    """The seeded order of the whole pool: the random cold start and the fallback."""
    return np.random.default_rng(seed).permutation(n).astype(np.int64)


def in_overlap(item_id: str, seed: int, share: float) -> bool:
    """Whether an item goes to more than one annotator. A hash of (seed, id), not an RNG draw,
    so the choice does not depend on the order items were handed out and survives restarts."""
    if share <= 0.0:
        return False
    digest = hashlib.sha256(f"{seed}:{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64 < share


@dataclass(frozen=True)
class Pick:
    pos: int
    source: str
    rank: int | None = None


def pick(
    *,
    needs_another: Iterable[int],
    queue: Sequence[int],
    fallback: Sequence[int],
    available: Callable[[int], bool],
    unlabelled: Callable[[int], bool],
    queue_source: str,
    open_in_queue: Callable[[int], bool] | None = None,
) -> Pick | None:
    """The next item for one annotator. ``available`` says the item is neither held by another
    annotator nor already answered by this one; ``unlabelled`` that no one has labelled it;
    ``open_in_queue`` (default ``unlabelled``) which queued items may still be handed out (a
    partially labelled item, re-queued for its leaf)."""
    open_in_queue = open_in_queue or unlabelled
    for pos in needs_another:
        if available(pos):
            return Pick(pos, "overlap")
    for i, pos in enumerate(queue):
        if open_in_queue(pos) and available(pos):
            return Pick(pos, queue_source, i)
    for pos in fallback:
        if unlabelled(pos) and available(pos):
            return Pick(int(pos), "random")
    return None
