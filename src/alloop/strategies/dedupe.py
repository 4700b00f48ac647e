"""The near-duplicate guard: no two items of one batch closer than a cosine threshold."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from alloop.strategies.diversity import check_embeddings, normalise
from alloop.strategies.selection import check_k

NEAR_DUPLICATE_THRESHOLD = 0.95
"""The guard's default cosine threshold, defined here only (``--near-duplicate-threshold``)."""


def greedy_distinct(ranked: np.ndarray, unit: np.ndarray, k: int, threshold: float) -> list[int]:
    """Walk the ranking and keep an item only if its cosine to every kept item is <= threshold."""
    kept: list[int] = []
    for idx in ranked:
        if kept and float((unit[kept] @ unit[idx]).max()) > threshold:
            continue
        kept.append(int(idx))
        if len(kept) == k:
            break
    return kept


GROUP_LIMIT = 50
"""At most this many near-duplicates offered with one item: a page can show them all."""


def near_duplicate_groups(
    anchors: np.ndarray,
    embed: Callable[[np.ndarray], np.ndarray],
    candidates: np.ndarray,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    limit: int = GROUP_LIMIT,
    chunk: int = 50_000,
) -> list[np.ndarray]:
    """For each row of ``anchors`` (embeddings of items about to be labelled), the ``candidates``
    (pool positions; ``embed`` gives their vectors) whose cosine to it exceeds ``threshold``, most
    similar first, at most ``limit``: the listings one label may cover (the same product in
    another size, colour or seller's words). The candidates are embedded in chunks, so memory
    stays flat on a million items."""
    anchors = normalise(np.asarray(anchors, dtype=np.float32))
    candidates = np.asarray(candidates, dtype=np.int64)
    found: list[list[tuple[float, int]]] = [[] for _ in range(len(anchors))]
    for start in range(0, len(candidates), chunk):
        rows = candidates[start : start + chunk]
        sims = normalise(np.asarray(embed(rows), dtype=np.float32)) @ anchors.T
        for a in range(len(anchors)):
            hit = np.flatnonzero(sims[:, a] > threshold)
            found[a].extend(zip(sims[hit, a].tolist(), rows[hit].tolist(), strict=True))
    groups = []
    for pairs in found:
        pairs.sort(key=lambda sp: (-sp[0], sp[1]))
        groups.append(np.array([pos for _, pos in pairs[:limit]], dtype=np.int64))
    return groups


def without_near_duplicates(strategy, threshold: float = NEAR_DUPLICATE_THRESHOLD):  # type: ignore[no-untyped-def]
    """Wrap any strategy: ask it for a longer ranking, then keep its best items that are not
    near-duplicates of each other. Returns fewer than ``k`` only if the whole pool is made of
    near-duplicates of the kept items."""

    def select(proba, k, rng, embeddings=None, labelled_embeddings=None):  # type: ignore[no-untyped-def]
        n = len(proba)
        unit = normalise(check_embeddings(embeddings, n, "the near-duplicate guard"))
        want = min(check_k(k), n)
        asked = min(n, max(3 * want, want + 20))
        while True:
            ranked = strategy(proba, asked, rng, embeddings, labelled_embeddings)
            kept = greedy_distinct(ranked, unit, want, threshold)
            if len(kept) == want or asked == n:
                return np.array(kept, dtype=np.int64)
            asked = min(n, asked * 2)

    return dataclasses.replace(
        strategy,
        name=f"{strategy.name}+dedup" if not strategy.name.endswith("+dedup") else strategy.name,
        select=select,
        needs_embeddings=True,
        description=f"{strategy.description}, no two items with cosine > {threshold}",
    )
