"""Candidates near the labelled items (SEALS, Coleman et al. 2022, "Similarity search for
efficient active learning and search of rare concepts").

On a big pool most items are far from every decision the model is unsure about. SEALS scores
only the unlabelled nearest neighbours of the labelled items, a set that grows with the labels,
so each query scores thousands of items instead of the whole pool. Here a random share of the
other unlabelled items is added (``n_random``), so a region no label has reached yet can still be
picked. The neighbours are the hybrid's own pool graph when it has one, else a graph built once
from the classifier's embeddings (``models.graph.PoolGraph``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from alloop.errors import AlloopError
from alloop.models.base import Classifier, Embedder, HasPoolGraph

if TYPE_CHECKING:  # the graph (scipy, scikit-learn) loads when a sampler is built, not on import:
    from alloop.models.graph import PoolGraph  # the CLI's light commands import the query step


def check_near_labelled(n_random: int | None) -> None:
    if n_random is not None and n_random < 0:
        raise AlloopError(f"`near_labelled_subsample` must be 0 or more, got {n_random}")


def near_labelled(n_random: int | None) -> NearLabelled | None:
    """The sampler for ``--near-labelled-subsample N``, or ``None`` when it is not set."""
    return None if n_random is None else NearLabelled(n_random)


class NearLabelled:
    """The unlabelled neighbours of the labelled items plus ``n_random`` other unlabelled items,
    drawn with the loop's RNG; the whole unlabelled pool while that is no bigger."""

    def __init__(self, n_random: int, graph: PoolGraph | None = None):
        check_near_labelled(n_random)
        self.n_random = n_random
        from alloop.models.graph import PoolGraph

        self._own_graph = graph or PoolGraph()
        self._nodes: tuple[int, np.ndarray] | None = None  # (graph key, node of each pool position)

    def graph(self, classifier: Classifier, pool_texts: Sequence[str]) -> PoolGraph:
        """The classifier's fitted pool graph (the hybrid's), else this sampler's own."""
        from alloop.models.graph import PoolGraph

        if isinstance(classifier, HasPoolGraph):
            graph = classifier.graph
            if isinstance(graph, PoolGraph) and graph.fitted and graph._key == hash(tuple(pool_texts)):
                return graph
        if not isinstance(classifier, Embedder):
            raise AlloopError(
                f"`near_labelled_subsample` needs embeddings, which {type(classifier).__name__} does not give"
            )
        return self._own_graph.fit(pool_texts, classifier.embed)

    def __call__(
        self,
        classifier: Classifier,
        pool_texts: Sequence[str],
        unlabelled: np.ndarray,
        labelled: np.ndarray,
        k: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Sorted pool positions to score, at least ``k`` of them while the pool holds that many."""
        if len(unlabelled) <= max(k, self.n_random):
            return unlabelled
        graph = self.graph(classifier, pool_texts)
        if not graph.fitted:  # a pool of one distinct text
            return unlabelled
        assert graph._walk is not None
        if self._nodes is None or self._nodes[0] != graph._key:
            self._nodes = (graph._key or 0, graph.rows(pool_texts))
        node_of = self._nodes[1]
        near = np.zeros(graph._walk.shape[0], dtype=bool)
        seeds = node_of[labelled]
        near[graph._walk[seeds[seeds >= 0]].indices] = True
        close = near[node_of[unlabelled]]
        chosen = unlabelled[close]
        rest = unlabelled[~close]
        extra = max(self.n_random, k - len(chosen))
        if len(rest):
            chosen = np.concatenate([chosen, rng.choice(rest, min(extra, len(rest)), replace=False)])
        return np.sort(chosen)
