"""Label spreading over the pool's nearest-neighbour graph: the unlabelled titles vote too.

Titles of one product type sit close together in embedding space, most of them unlabelled. Each
cycle the labels spread along a k-nearest-neighbour graph of the pool (Zhou et al. 2004,
"Learning with local and global consistency"), and the hybrid mixes the result with its linear
head. On amazon-in it lifted the AULC of every strategy measured by 0.016-0.031, on PriceRunner by
0.000-0.004 (docs/strategies.md, "The default classifier: hybrid with label spreading").

scikit-learn's ``LabelSpreading`` was measured first and scored lower (its graph is unweighted and
a frequent class's many seeds drown a rare one's); here the edges are cosine similarities and each
class's seeds carry the same total weight, since the score is macro-F1.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn import config_context
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize

from alloop.errors import NotFittedError

N_NEIGHBOURS = 10
"""Edges per title. Margin AULC 0.751, 0.751 and 0.750 with 5, 10 and 20 (bench/graph_design.py)."""
ALPHA = 0.9
"""How far labels travel: each step keeps ``1 - ALPHA`` of the seeds. Margin AULC 0.746 at 0.5, 0.751
at 0.9, 0.744 at 0.99 (bench/graph_design.py)."""
ITERATIONS = 20
"""Steps of spreading: 0.9^20 = 0.12, so farther steps change little."""
WORKING_MEMORY_MB = 128
"""Chunk size of the neighbour search's distance matrix. scikit-learn's 1 GB default raised the
peak memory of a 7.5k-title run by 640 MB against 180 MB here, at the same speed (0.9 s)."""

MAX_TITLES = 100_000
"""Largest pool the graph is built for. The exact neighbour search grows with the square of the
pool: 0.9 s for 7.5k titles, 20 s for 30k on a 2-core CPU, so about 4 minutes at 100k and hours at
a million. Above it the hybrid runs its linear head alone and says so."""

Embed = Callable[[Sequence[str]], np.ndarray]
log = logging.getLogger(__name__)


class PoolGraph:
    """A symmetric, normalised k-nearest-neighbour graph over the pool's distinct texts (cosine
    similarity of their embeddings), built once and shared by every seed of a run."""

    def __init__(
        self,
        n_neighbours: int = N_NEIGHBOURS,
        alpha: float = ALPHA,
        iterations: int = ITERATIONS,
        max_titles: int = MAX_TITLES,
    ):
        self.n_neighbours = n_neighbours
        self.alpha = alpha
        self.iterations = iterations
        self.max_titles = max_titles
        self._key: int | None = None
        self._row: dict[str, int] = {}
        self._index: NearestNeighbors | None = None
        self._walk: sp.csr_matrix | None = None
        self._outside: tuple[int, np.ndarray, np.ndarray] | None = None  # the last texts looked up

    @property
    def fitted(self) -> bool:
        return self._walk is not None

    def fit(self, texts: Sequence[str], embed: Embed) -> PoolGraph:
        """Build the graph of ``texts`` (no labels); a no-op for the same texts."""
        key = hash(tuple(texts))
        if key == self._key:
            return self
        unique = list(dict.fromkeys(texts))
        if len(unique) > self.max_titles:
            log.warning(
                "note: the pool holds %s distinct texts; the hybrid's neighbour graph is built for at "
                "most %s (its search grows with the square of the pool), so the linear head runs alone",
                f"{len(unique):,}",
                f"{self.max_titles:,}",
            )
        if len(unique) < 2 or len(unique) > self.max_titles:
            self._key, self._walk, self._index = key, None, None
            return self
        vectors = normalize(np.asarray(embed(unique), dtype=np.float32))
        k = min(self.n_neighbours, len(unique) - 1)
        index = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(vectors)
        with config_context(working_memory=WORKING_MEMORY_MB):
            graph = index.kneighbors_graph(mode="distance")  # itself left out
        graph.data = np.clip(1.0 - graph.data, 0.0, None)  # cosine distance -> similarity
        graph = (graph + graph.T).tocsr()
        degree = np.asarray(graph.sum(axis=1)).ravel()
        scale = sp.diags(1.0 / np.sqrt(np.maximum(degree, 1e-12)))
        self._walk = (scale @ graph @ scale).tocsr()
        self._index, self._key, self._outside = index, key, None
        self._row = {t: i for i, t in enumerate(unique)}
        return self

    def rows(self, texts: Sequence[str]) -> np.ndarray:
        """Each text's node, or -1 for a text outside the graph."""
        return np.fromiter((self._row.get(t, -1) for t in texts), dtype=np.int64, count=len(texts))

    def spread(self, texts: Sequence[str], labels: np.ndarray, n_classes: int) -> np.ndarray:
        """(nodes, classes): each node's share of every class after spreading the labelled
        ``texts``; rows sum to 1, or to 0 for a node no label reaches."""
        if self._walk is None:
            raise NotFittedError("fit the graph before spreading labels")
        nodes = self.rows(texts)
        known = nodes >= 0
        seeds = np.zeros((self._walk.shape[0], n_classes))
        np.add.at(seeds, (nodes[known], np.asarray(labels)[known]), 1.0)
        seeds /= np.maximum(seeds.sum(axis=0, keepdims=True), 1.0)  # every class weighs the same
        share = seeds
        for _ in range(self.iterations):
            share = self.alpha * (self._walk @ share) + (1.0 - self.alpha) * seeds
        total = share.sum(axis=1, keepdims=True)
        return np.divide(share, total, out=np.zeros_like(share), where=total > 0)

    def proba(self, share: np.ndarray, texts: Sequence[str], embed: Embed) -> np.ndarray:
        """The spread shares of ``texts``: their node's, or for a text outside the graph the
        similarity-weighted mean of its nearest nodes'. Rows of zeros where nothing reached."""
        nodes = self.rows(texts)
        out = np.zeros((len(texts), share.shape[1]))
        inside = nodes >= 0
        out[inside] = share[nodes[inside]]
        outside = np.flatnonzero(~inside)
        if len(outside) and self._index is not None:
            weight, neighbour = self._nearest([texts[i] for i in outside], embed)
            mixed = np.einsum("nk,nkc->nc", weight, share[neighbour])
            total = mixed.sum(axis=1, keepdims=True)
            out[outside] = np.divide(mixed, total, out=np.zeros_like(mixed), where=total > 0)
        return out

    def _nearest(self, texts: list[str], embed: Embed) -> tuple[np.ndarray, np.ndarray]:
        """Similarities to and indices of the nearest nodes; kept for the last texts asked,
        since the loop evaluates the same test titles every cycle."""
        key = hash(tuple(texts))
        if self._outside is not None and self._outside[0] == key:
            return self._outside[1], self._outside[2]
        assert self._index is not None
        vectors = normalize(np.asarray(embed(texts), dtype=np.float32))
        with config_context(working_memory=WORKING_MEMORY_MB):
            distance, neighbour = self._index.kneighbors(vectors)
        weight = np.clip(1.0 - distance, 0.0, None)
        self._outside = (key, weight, neighbour)
        return weight, neighbour
