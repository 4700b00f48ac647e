"""The initial labelled set: how many items, and which."""

from __future__ import annotations

import numpy as np

from alloop.errors import AlloopError

INITIAL_STRATEGIES = ("stratified", "random", "kmeans")


def initial_count(initial: float, pool_size: int) -> int:
    """``--initial 0.2`` is a fraction of the pool, ``--initial 100`` a count."""
    if initial <= 0:
        raise AlloopError(f"--initial must be positive (a fraction below 1 or a count), got {initial}")
    if initial < 1:
        count = round(initial * pool_size)
    elif float(initial).is_integer():
        count = int(initial)
    else:
        raise AlloopError(f"--initial {initial} is neither a fraction below 1 nor a whole count")
    if count < 1:
        raise AlloopError(f"--initial {initial} selects no item of a pool of {pool_size}")
    if count >= pool_size:
        raise AlloopError(
            f"--initial {initial} asks for {count} items but the pool has {pool_size}; "
            "leave some to query, e.g. --initial 0.1"
        )
    return count


def stratified_draw(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` positions with each class in proportion to the pool (largest remainders), and every
    class at least once when ``n`` allows. Uses the gold labels, as the seed does: a real user
    has none, which is what ``random`` is for."""
    classes, counts = np.unique(labels, return_counts=True)
    quota = n * counts / counts.sum()
    take = np.floor(quota).astype(np.int64)
    remainder_order = np.lexsort((rng.random(len(classes)), -(quota - take)))
    take[remainder_order[: n - take.sum()]] += 1
    if n >= len(classes):
        for c in np.flatnonzero(take == 0):
            take[np.argmax(take)] -= 1
            take[c] = 1
    take = np.minimum(take, counts)
    picks = [
        rng.choice(np.flatnonzero(labels == c), t, replace=False) for c, t in zip(classes, take, strict=True)
    ]
    return rng.permutation(np.concatenate(picks)).astype(np.int64)


def kmeans_representatives(embeddings: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """A label-free cold start: cluster the pool's embeddings into ``n`` groups and take the item
    nearest each centroid, so the first batch covers the pool instead of its densest corner."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    x = np.asarray(embeddings, dtype=np.float32)
    seed = int(rng.integers(2**31 - 1))
    model = (
        KMeans(n, n_init=1, random_state=seed) if len(x) <= 20_000 else MiniBatchKMeans(n, random_state=seed)
    )
    model.fit(x)
    picks: list[int] = []
    taken = np.zeros(len(x), dtype=bool)
    for centre in model.cluster_centers_:
        distance = ((x - centre) ** 2).sum(axis=1)
        distance[taken] = np.inf  # two centroids never share an item
        best = int(np.argmin(distance))
        taken[best] = True
        picks.append(best)
    return np.array(picks, dtype=np.int64)


def draw_initial(
    labels: np.ndarray,
    initial: float,
    how: str,
    rng: np.random.Generator,
    embeddings: np.ndarray | None = None,
) -> np.ndarray:
    """Positions of the initial labelled set in the pool. ``kmeans`` needs the pool's embeddings;
    ``stratified`` reads the gold labels; ``random`` and ``kmeans`` use no label."""
    n = initial_count(initial, len(labels))
    if how == "stratified":
        return stratified_draw(labels, n, rng)
    if how == "random":
        return rng.choice(len(labels), n, replace=False).astype(np.int64)
    if how == "kmeans":
        if embeddings is None:
            raise AlloopError("--initial-strategy kmeans needs embeddings; this classifier has none")
        return kmeans_representatives(embeddings, n, rng)
    raise AlloopError(f"unknown --initial-strategy {how!r}; choose from {', '.join(INITIAL_STRATEGIES)}")
