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
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import reverse_cuthill_mckee
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

EXACT_MAX = 10_000
"""Largest pool searched exactly (brute force); above it an HNSW index (hnswlib) finds the
neighbours: at 30k titles 10.8 s against 28 s exact, recall@10 0.998 (bench/ann_graph.py,
docs/scale.md)."""
HNSW_M = 16
"""Links per node of the HNSW index: 16 gave recall@10 0.998 at 30k and 100k (bench/ann_graph.py)."""
HNSW_EF_CONSTRUCTION = 100
HNSW_EF_SEARCH = 64
CHUNK = 16_384
"""Texts embedded (float32) at a time while the graph is built and while texts outside it are
looked up, so a million titles never sit in memory twice (a chunk is 25 MB at 384 dimensions)."""

Embed = Callable[[Sequence[str]], np.ndarray]
log = logging.getLogger(__name__)


def exact_neighbours(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` most similar other rows (indices, cosine similarities) of unit ``vectors``,
    most similar first, by brute force in row chunks of ``WORKING_MEMORY_MB``."""
    n = len(vectors)
    chunk = max(1, (WORKING_MEMORY_MB << 20) // (12 * n))  # similarities + argpartition's indices
    index = np.empty((n, k), dtype=np.int64)
    similarity = np.empty((n, k), dtype=np.float32)
    for lo in range(0, n, chunk):
        block = vectors[lo : lo + chunk] @ vectors.T
        rows = np.arange(len(block))
        block[rows, lo + rows] = -np.inf  # itself left out
        top = np.argpartition(block, n - k, axis=1)[:, n - k :]
        sims = np.take_along_axis(block, top, axis=1)
        order = np.lexsort((top, -sims), axis=1)  # most similar first, ties by index
        index[lo : lo + chunk] = np.take_along_axis(top, order, axis=1)
        similarity[lo : lo + chunk] = np.take_along_axis(sims, order, axis=1)
    return index, similarity


def search_blocks(queries: np.ndarray, blocks: Iterable[np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows most similar to each of ``queries`` (indices, similarities), most similar
    first and ties by index, among the rows of ``blocks`` taken in turn (row indices run on from
    one block to the next): an exact search that never holds more than one block of the rows.

    After the first rows, a block's similarities are only kept where they beat a query's
    ``k``-th best so far, so the top-k selection costs little beside the matrix product."""
    n_queries = len(queries)
    best_index = np.full((n_queries, k), -1, dtype=np.int64)
    best_sim = np.full((n_queries, k), -np.inf, dtype=np.float32)
    start = 0
    for block in blocks:
        step = max(1, (WORKING_MEMORY_MB << 20) // (4 * max(len(block), 1)))
        for lo in range(0, n_queries, step):
            hi = min(n_queries, lo + step)
            sims = queries[lo:hi] @ block.T
            floor = best_sim[lo:hi, -1:]
            rows, cols = np.nonzero(sims > floor)  # a tie with the k-th best loses: higher index
            if len(rows) > 8 * sims.shape[0] * k:  # the first rows: select before merging
                m = sims.shape[1]
                top = np.argpartition(sims, m - min(k, m), axis=1)[:, m - min(k, m) :]
                kth = np.take_along_axis(sims, top, axis=1).min(axis=1, keepdims=True)
                rows, cols = np.nonzero(sims >= kth)  # every row tied with the k-th, as above
            merged_rows = np.concatenate([np.repeat(np.arange(hi - lo), k), rows])
            merged_index = np.concatenate([best_index[lo:hi].ravel(), start + cols.astype(np.int64)])
            merged_sim = np.concatenate([best_sim[lo:hi].ravel(), sims[rows, cols]])
            order = np.lexsort((merged_index, -merged_sim, merged_rows))
            first = np.searchsorted(merged_rows[order], np.arange(hi - lo))
            take = order[(first[:, None] + np.arange(k)).ravel()]
            best_index[lo:hi] = merged_index[take].reshape(hi - lo, k)
            best_sim[lo:hi] = merged_sim[take].reshape(hi - lo, k)
        start += len(block)
    return best_index, best_sim


class NeighbourIndex:
    """The pool's nodes, searchable by cosine similarity while the graph is built: brute force up
    to ``exact_max`` nodes (exact, and faster there), an HNSW index above (approximate; built
    single-threaded with a fixed seed, so the same pool gives the same graph)."""

    def __init__(self, n: int, dim: int, exact_max: int = EXACT_MAX, seed: int = 0):
        self.n, self.exact = n, n <= exact_max
        self._vectors = np.empty((n, dim), dtype=np.float32) if self.exact else None
        self._hnsw = None
        if not self.exact:
            import hnswlib

            self._hnsw = hnswlib.Index(space="ip", dim=dim)
            self._hnsw.init_index(
                max_elements=n, ef_construction=HNSW_EF_CONSTRUCTION, M=HNSW_M, random_seed=seed
            )
            self._hnsw.set_num_threads(1)  # insertion order decides the graph: one thread, one graph

    def add(self, start: int, vectors: np.ndarray) -> None:
        """Nodes ``start`` onwards (unit vectors)."""
        if self._vectors is not None:
            self._vectors[start : start + len(vectors)] = vectors
        else:
            assert self._hnsw is not None
            self._hnsw.add_items(vectors, np.arange(start, start + len(vectors)))

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(indices, similarities) of the ``k`` nearest nodes of each of ``vectors``, nearest first."""
        if self._vectors is not None:
            sims = vectors @ self._vectors.T
            top = np.argpartition(sims, self.n - k, axis=1)[:, self.n - k :]
            order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1, kind="stable")
            top = np.take_along_axis(top, order, axis=1)
            return top, np.take_along_axis(sims, top, axis=1)
        assert self._hnsw is not None
        self._hnsw.set_ef(max(HNSW_EF_SEARCH, k))
        labels, distance = self._hnsw.knn_query(vectors, k=k, num_threads=1)
        return labels.astype(np.int64), (1.0 - distance).astype(np.float32)

    def self_neighbours(self, start: int, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest other nodes of nodes ``start`` onwards (``vectors`` are theirs)."""
        if self._vectors is not None and start == 0 and len(vectors) == self.n:
            return exact_neighbours(self._vectors, k)
        index, sims = self.search(vectors, k + 1)
        own = index == np.arange(start, start + len(vectors))[:, None]
        keep = ~own
        keep[own.sum(axis=1) == 0, k] = False  # itself not found (a duplicate vector): drop the last
        return index[keep].reshape(len(vectors), k), sims[keep].reshape(len(vectors), k)


class PoolGraph:
    """A symmetric, normalised k-nearest-neighbour graph over the pool's distinct texts (cosine
    similarity of their embeddings), built once and shared by every seed of a run. The search
    index that finds the neighbours is dropped once the graph is built (at a million titles it
    would be 1.7 GB of a 3.7 GB peak); texts outside the pool are placed by ``_nearest``."""

    def __init__(
        self,
        n_neighbours: int = N_NEIGHBOURS,
        alpha: float = ALPHA,
        iterations: int = ITERATIONS,
        max_titles: int | None = None,
        exact_max: int = EXACT_MAX,
    ):
        self.n_neighbours = n_neighbours
        self.alpha = alpha
        self.iterations = iterations
        self.max_titles = max_titles
        self.exact_max = exact_max
        self._key: int | None = None
        self._row: dict[str, int] = {}
        self._texts: list[str] = []  # the nodes' texts, in node order
        self.approximate = False
        """Whether the last graph was found by the HNSW index (else exactly)."""
        self._walk: sp.csr_matrix | None = None
        self._step: sp.csr_matrix | None = None  # alpha * walk, nodes in the order of _nodes
        self._position: np.ndarray | None = None  # each node's row in _step
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
        too_many = self.max_titles is not None and len(unique) > self.max_titles
        if too_many:
            log.warning(
                "note: the pool holds %s distinct texts; the hybrid's neighbour graph is built for at "
                "most %s, so the linear head runs alone",
                f"{len(unique):,}",
                f"{self.max_titles:,}",
            )
        if len(unique) < 2 or too_many:
            self._key, self._walk, self._texts, self._row = key, None, [], {}
            self._step = self._position = None
            return self
        n, k = len(unique), min(self.n_neighbours, len(unique) - 1)
        index: NeighbourIndex | None = None
        for start in range(0, n, CHUNK):
            vectors = normalize(np.asarray(embed(unique[start : start + CHUNK]), dtype=np.float32))
            index = index or NeighbourIndex(n, vectors.shape[1], self.exact_max)
            index.add(start, vectors)
        assert index is not None
        neighbour = np.empty((n, k), dtype=np.int64)
        similarity = np.empty((n, k), dtype=np.float32)
        step = n if index.exact else CHUNK
        for start in range(0, n, step):
            vectors = normalize(np.asarray(embed(unique[start : start + step]), dtype=np.float32))
            rows = slice(start, start + len(vectors))
            neighbour[rows], similarity[rows] = index.self_neighbours(start, vectors, k)
        self.approximate = not index.exact
        del index  # the HNSW index holds a float32 copy of every vector: 1.7 GB at 1M titles
        graph = sp.csr_matrix(
            (np.clip(similarity.ravel(), 0.0, None), neighbour.ravel(), np.arange(0, n * k + 1, k)),
            shape=(n, n),
        )
        del neighbour, similarity
        graph = (graph + graph.T).tocsr()
        degree = np.asarray(graph.sum(axis=1)).ravel()
        scale = sp.diags((1.0 / np.sqrt(np.maximum(degree, 1e-12))).astype(np.float32))
        self.set_walk((scale @ graph @ scale).tocsr())
        self._key, self._outside, self._texts = key, None, unique
        self._row = {t: i for i, t in enumerate(unique)}
        return self

    def set_walk(self, walk: sp.csr_matrix) -> None:
        """Take ``walk`` (symmetric, normalised, float32) as the graph and prepare the spreading
        step: ``alpha * walk`` with its nodes reordered (reverse Cuthill-McKee) so that neighbours
        sit near each other in memory. A pool's order is arbitrary, and a step over a 1M-node
        graph in that order reads the shares about 5x slower than in a clustered order
        (bench/spread_scale.py); the reordering is done once, costs about 2 s at 1M nodes, and
        does not change the result."""
        order = reverse_cuthill_mckee(walk, symmetric_mode=True)
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))
        step = walk[order][:, order].tocsr()
        step.data *= np.float32(self.alpha)
        self._walk, self._step, self._position = walk, step, position

    def rows(self, texts: Sequence[str]) -> np.ndarray:
        """Each text's node, or -1 for a text outside the graph."""
        return np.fromiter((self._row.get(t, -1) for t in texts), dtype=np.int64, count=len(texts))

    def spread(self, texts: Sequence[str], labels: np.ndarray, n_classes: int) -> np.ndarray:
        """(nodes, classes): each node's share of every class after spreading the labelled
        ``texts``; rows sum to 1, or to 0 for a node no label reaches."""
        if self._walk is None:
            raise NotFittedError("fit the graph before spreading labels")
        assert self._step is not None and self._position is not None
        nodes = self.rows(texts)
        known = nodes >= 0
        labels = np.asarray(labels)[known]
        # the seeds: one row per labelled node, every class weighing the same in total
        seed_rows, where = np.unique(self._position[nodes[known]], return_inverse=True)
        seeds = np.zeros((len(seed_rows), n_classes), dtype=np.float32)  # float32: half the traffic
        np.add.at(seeds, (where, labels), 1.0)
        seeds /= np.maximum(np.bincount(labels, minlength=n_classes), 1).astype(np.float32)
        share = np.zeros((self._step.shape[0], n_classes), dtype=np.float32)
        share[seed_rows] = seeds
        seeds *= np.float32(1.0 - self.alpha)
        for _ in range(self.iterations):  # share <- alpha W share + (1 - alpha) seeds
            share = self._step @ share
            share[seed_rows] += seeds  # the seeds are a few rows: no pass over the whole pool
        share = share[self._position]  # back to the nodes' own order
        total = share.sum(axis=1, keepdims=True)
        return np.divide(share, total, out=share, where=total > 0)

    def proba(self, share: np.ndarray, texts: Sequence[str], embed: Embed) -> np.ndarray:
        """The spread shares of ``texts``: their node's, or for a text outside the graph the
        similarity-weighted mean of its nearest nodes'. Rows of zeros where nothing reached."""
        nodes = self.rows(texts)
        out = np.zeros((len(texts), share.shape[1]))
        inside = nodes >= 0
        out[inside] = share[nodes[inside]]
        outside = np.flatnonzero(~inside)
        if len(outside) and self._texts:
            weight, neighbour = self._nearest([texts[i] for i in outside], embed)
            mixed = np.einsum("nk,nkc->nc", weight, share[neighbour])
            total = mixed.sum(axis=1, keepdims=True)
            out[outside] = np.divide(mixed, total, out=np.zeros_like(mixed), where=total > 0)
        return out

    def _nearest(self, texts: list[str], embed: Embed) -> tuple[np.ndarray, np.ndarray]:
        """Similarities to and indices of the nearest nodes, found exactly against the nodes'
        own vectors, read through ``embed`` a chunk at a time (the encoder keeps them in float16);
        kept for the last texts asked, since the loop evaluates the same test titles every cycle.

        No index is kept for this: an HNSW index holds its own float32 copy of every vector (1.7
        GB at a million titles, the largest item of a run's memory there), and the texts outside
        the pool are few (the test set) and asked once. The exact search costs a pass over the
        pool's vectors per batch of texts: 29 s for 1,865 texts against 1M nodes on the shared
        2-core machine of docs/scale.md, once per run."""
        key = hash(tuple(texts))
        if self._outside is not None and self._outside[0] == key:
            return self._outside[1], self._outside[2]
        vectors = normalize(np.asarray(embed(texts), dtype=np.float32))
        k = min(self.n_neighbours, len(self._texts))
        nodes = self._texts
        blocks = (
            normalize(np.asarray(embed(nodes[lo : lo + CHUNK]), dtype=np.float32))
            for lo in range(0, len(nodes), CHUNK)
        )
        neighbour, similarity = search_blocks(vectors, blocks, k)
        weight = np.clip(similarity.astype(np.float64), 0.0, None)
        self._outside = (key, weight, neighbour)
        return weight, neighbour
