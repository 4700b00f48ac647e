"""Which item a person sees next: the ranked queue a model built, and the picks that never wait.

The queue is an immutable snapshot (a tuple of item positions) that the background trainer
replaces whole; request handlers only read it. Picking walks, in order: items chosen for overlap
that still need another annotator, then the snapshot's queue, then a seeded permutation of the
whole pool, so an annotator always gets an item even while the first model is still training.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from alloop.strategies import Strategy


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
    built_at: float = field(default_factory=time.time)
    seconds: float = 0.0


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


def kmeans_representatives(embeddings: np.ndarray, candidates: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Cold start without labels: cluster the candidates' embeddings into ``k`` groups and take
    the item nearest each centre, largest group first, so the first labels cover the pool."""
    from sklearn.cluster import KMeans

    k = min(k, len(candidates))
    if k == 0:
        return np.empty(0, dtype=np.int64)
    x = embeddings[candidates]
    model = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(x)
    distances = model.transform(x)
    sizes = np.bincount(model.labels_, minlength=k)
    chosen: list[int] = []
    for cluster in np.argsort(-sizes, kind="stable"):
        members = np.flatnonzero(model.labels_ == cluster)
        if len(members):
            chosen.append(int(candidates[members[np.argmin(distances[members, cluster])]]))
    return np.array(list(dict.fromkeys(chosen)), dtype=np.int64)


def rank(
    strategy: Strategy, proba: np.ndarray, candidates: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """The strategy's top ``k`` candidates, most useful first (positions into the pool)."""
    if len(candidates) == 0:
        return np.empty(0, dtype=np.int64)
    return candidates[strategy(proba, min(k, len(candidates)), rng)]


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
) -> Pick | None:
    """The next item for one annotator. ``available`` says the item is neither held by another
    annotator nor already answered by this one; ``unlabelled`` that no one has labelled it."""
    for pos in needs_another:
        if available(pos):
            return Pick(pos, "overlap")
    for i, pos in enumerate(queue):
        if unlabelled(pos) and available(pos):
            return Pick(pos, queue_source, i)
    for pos in fallback:
        if unlabelled(pos) and available(pos):
            return Pick(int(pos), "random")
    return None
