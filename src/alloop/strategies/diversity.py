"""Diversity-aware batch strategies: they look at embeddings, not only at uncertainty, so a batch
does not fill up with near-identical colour and size variants of one product.

All work in O(n) memory per step (no n x n matrix), so a 100k pool stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from alloop.errors import AlloopError
from alloop.strategies.selection import check_k, check_proba, top_k
from alloop.strategies.uncertainty import margin

CHUNK = 4096


def check_embeddings(embeddings: np.ndarray | None, n: int, who: str) -> np.ndarray:
    if embeddings is None:
        raise AlloopError(f"{who} needs embeddings; this classifier exposes none")
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if embeddings.ndim != 2 or len(embeddings) != n:
        raise AlloopError(f"{who}: expected {n} embedding rows, got shape {embeddings.shape}")
    return embeddings


def normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def badge(
    proba: np.ndarray,
    k: int,
    rng: np.random.Generator,
    embeddings: np.ndarray | None = None,
    labelled_embeddings: np.ndarray | None = None,
) -> np.ndarray:
    """BADGE (Ash et al. 2020): k-means++ seeding over gradient embeddings.

    An item's gradient embedding is the last layer's loss gradient under its predicted label,
    (p - onehot(argmax p)) ⊗ x: large when the model is unsure, pointing where the item is.
    The outer product is never built: <g_i, g_j> = <a_i, a_j><x_i, x_j>, with a = p - onehot.
    """
    p = check_proba(proba)
    x = check_embeddings(embeddings, len(p), "badge").astype(np.float64)
    k = min(check_k(k), len(p))
    a = p.copy()
    a[np.arange(len(a)), a.argmax(axis=1)] -= 1.0
    sq = (a * a).sum(axis=1) * (x * x).sum(axis=1)  # ||g_i||^2
    chosen = [int(rng.choice(np.flatnonzero(sq == sq.max())))]  # the largest gradient first
    dist = np.full(len(p), np.inf)
    while len(chosen) < k:
        c = chosen[-1]
        d = sq + sq[c] - 2.0 * (a @ a[c]) * (x @ x[c])
        dist = np.minimum(dist, np.maximum(d, 0.0))
        dist[chosen] = 0.0
        total = dist.sum()
        if total <= 0:  # every remaining item duplicates a chosen one: fall back to random
            rest = np.setdiff1d(np.arange(len(p)), chosen)
            chosen.extend(rng.choice(rest, k - len(chosen), replace=False).tolist())
            break
        chosen.append(int(rng.choice(len(p), p=dist / total)))
    return np.array(chosen, dtype=np.int64)


def _min_sq_distance(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared distance from each row of x to its nearest center, in chunks (bounded memory)."""
    out = np.full(len(x), np.inf)
    if len(centers) == 0:
        return out
    c_sq = (centers * centers).sum(axis=1)
    for start in range(0, len(x), CHUNK):
        block = x[start : start + CHUNK]
        d = (block * block).sum(axis=1)[:, None] + c_sq[None, :] - 2.0 * block @ centers.T
        out[start : start + CHUNK] = np.maximum(d.min(axis=1), 0.0)
    return out


def coreset(
    proba: np.ndarray,
    k: int,
    rng: np.random.Generator,
    embeddings: np.ndarray | None = None,
    labelled_embeddings: np.ndarray | None = None,
) -> np.ndarray:
    """k-center greedy (Sener & Savarese 2018): repeatedly take the item farthest from every
    labelled and already chosen item, so the batch covers the pool's empty regions."""
    n = len(proba)
    x = check_embeddings(embeddings, n, "coreset")
    k = min(check_k(k), n)
    labelled = (
        np.zeros((0, x.shape[1]), dtype=np.float32) if labelled_embeddings is None else labelled_embeddings
    )
    dist = _min_sq_distance(x, np.asarray(labelled, dtype=np.float32))
    chosen: list[int] = []
    if not np.isfinite(dist).any():  # nothing labelled yet: start anywhere
        chosen.append(int(rng.integers(n)))
        dist = _min_sq_distance(x, x[chosen])
    while len(chosen) < k:
        far = np.flatnonzero(dist == dist.max())
        c = int(rng.choice(far))
        chosen.append(c)
        diff = x - x[c]
        dist = np.minimum(dist, (diff * diff).sum(axis=1))
        dist[chosen] = -1.0  # never again
    return np.array(chosen, dtype=np.int64)


def cluster_margin(
    proba: np.ndarray,
    k: int,
    rng: np.random.Generator,
    embeddings: np.ndarray | None = None,
    labelled_embeddings: np.ndarray | None = None,
    candidates_per_item: int = 10,
) -> np.ndarray:
    """Cluster-Margin (Citovsky et al. 2021), bounded-memory variant: the ``10k`` smallest-margin
    items are the candidates; they are clustered into ``k`` groups with k-means (the paper runs
    HAC once over the whole pool, which needs an n x n matrix); each cluster gives its
    smallest-margin item, so the batch stays uncertain but spread out."""
    return margin_clusters(
        proba, k, rng, embeddings, candidates_per_item, _smallest_margins, "cluster-margin"
    )


def _smallest_margins(proba: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return top_k(margin(proba), n, rng)


def margin_clusters(
    proba: np.ndarray,
    k: int,
    rng: np.random.Generator,
    embeddings: np.ndarray | None,
    candidates_per_item: int,
    pick: Callable[[np.ndarray, int, np.random.Generator], np.ndarray],
    who: str,
) -> np.ndarray:
    """The cluster-margin recipe with the candidate step given: ``pick`` chooses the
    ``candidates_per_item * k`` candidates, then each k-means cluster gives its smallest margin."""
    p = check_proba(proba)
    x = check_embeddings(embeddings, len(p), who)
    k = min(check_k(k), len(p))
    candidates = pick(p, min(len(p), candidates_per_item * k), rng)
    if len(candidates) <= k:
        return candidates
    scores = margin(p)
    candidates = candidates[np.argsort(-scores[candidates], kind="stable")]
    return one_per_cluster(candidates, scores, x, k, rng)


def one_per_cluster(
    candidates: np.ndarray, scores: np.ndarray, x: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Split ``candidates`` (best score first) into ``k`` k-means clusters of their normalised
    embeddings ``x``; each cluster gives its best item, and duplicates that leave fewer distinct
    clusters than ``k`` are made up by score. Returned best score first."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    seed = int(rng.integers(2**31 - 1))
    model = (
        KMeans(k, n_init=3, random_state=seed)
        if len(candidates) <= 20_000
        else MiniBatchKMeans(k, random_state=seed)
    )
    clusters = model.fit_predict(normalise(x[candidates]))
    picks: list[int] = []
    for cluster in np.unique(clusters):
        members = candidates[clusters == cluster]  # already in descending score order
        picks.append(int(members[0]))
    picked = set(picks)
    for c in candidates:  # fewer distinct clusters than k (duplicates): fill by score
        if len(picks) >= k:
            break
        if int(c) not in picked:
            picks.append(int(c))
            picked.add(int(c))
    picks_arr = np.array(picks[:k], dtype=np.int64)
    return picks_arr[np.argsort(-scores[picks_arr], kind="stable")]
