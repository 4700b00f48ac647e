"""Class-balanced batches: the predicted classes take turns, so a batch covers the label space.

The score is macro-F1, which weighs every class the same; plain margin spends most of a batch on
the two or three class boundaries the model is least sure of, and rare classes wait. Here each
predicted class in turn gives its most uncertain item not yet taken, the class holding the most
uncertain item first (Aggarwal et al. 2020 and Kirsch et al. 2023 discuss the idea). With the
hybrid it was the best of nine strategies on two retailers (docs/strategies.md).
"""

from __future__ import annotations

import numpy as np

from alloop.strategies.diversity import margin_clusters
from alloop.strategies.selection import check_k, check_proba, top_k
from alloop.strategies.uncertainty import margin


def classes_take_turns(
    scores: np.ndarray, groups: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """``k`` indices: each group (a predicted class) in turn gives its highest-scoring item not yet
    taken; groups play in the order of their best score. Ties are broken by ``rng``."""
    scores = np.asarray(scores, dtype=np.float64)
    groups = np.asarray(groups)
    k = min(check_k(k), len(scores))
    order = top_k(scores, len(scores), rng)  # every item, best first
    ranked = groups[order]
    _, first, inverse = np.unique(ranked, return_index=True, return_inverse=True)
    # the turn an item waits for: how many of its group rank above it
    turn = np.empty(len(order), dtype=np.int64)
    sort = np.argsort(inverse, kind="stable")
    counts = np.bincount(inverse)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    turn[sort] = np.arange(len(order)) - starts
    seat = first[inverse]  # a group's seat at the table: where its best item ranks overall
    return order[np.lexsort((seat, turn))[:k]].astype(np.int64)


def balanced_margin(proba: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Smallest-margin items, taken in turn from each predicted class."""
    p = check_proba(proba)
    return classes_take_turns(margin(p), p.argmax(axis=1), k, rng)


def balanced_cluster_margin(
    proba: np.ndarray,
    k: int,
    rng: np.random.Generator,
    embeddings: np.ndarray | None = None,
    labelled_embeddings: np.ndarray | None = None,
    candidates_per_item: int = 10,
) -> np.ndarray:
    """Cluster-margin over class-balanced candidates: the ``10k`` candidates come from
    ``balanced_margin``, then k-means splits them into ``k`` clusters and each cluster gives its
    smallest-margin item, so the batch is uncertain, spread over classes and not redundant."""
    return margin_clusters(
        proba, k, rng, embeddings, candidates_per_item, balanced_margin, "balanced-cluster-margin"
    )
