"""The approximate (HNSW) neighbour graph against the exact one, and a pool above the old
100,000-title limit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from alloop.models.graph import NeighbourIndex, PoolGraph, exact_neighbours, search_blocks


def clustered(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    """Unit vectors around 20 centres, like titles of 20 product types."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dim))
    v = centres[rng.integers(0, 20, n)] + 0.4 * rng.standard_normal((n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


class ArrayEncoder:
    """Text "t{i}" is row i of a fixed array."""

    def __init__(self, vectors: np.ndarray):
        self.vectors = vectors

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.vectors[[int(t[1:]) for t in texts]]


def test_exact_neighbours_are_the_brute_force_ones():
    v = clustered(700)
    index, similarity = exact_neighbours(v, 5)
    full = v @ v.T
    np.fill_diagonal(full, -np.inf)
    expected = np.argsort(-full, axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(index, expected)
    np.testing.assert_allclose(similarity, np.take_along_axis(full, expected, axis=1), rtol=1e-6)


def test_the_approximate_graph_agrees_with_the_exact_one_and_spreads_the_same():
    n = 3000
    encoder = ArrayEncoder(clustered(n))
    texts = [f"t{i}" for i in range(n)]
    exact = PoolGraph(exact_max=n).fit(texts, encoder.embed)
    approx = PoolGraph(exact_max=100).fit(texts, encoder.embed)
    assert not exact.approximate and approx.approximate
    a, b = exact._walk, approx._walk
    overlap = np.mean([len(np.intersect1d(a[i].indices, b[i].indices)) / len(a[i].indices) for i in range(n)])
    assert overlap > 0.97
    rng = np.random.default_rng(1)
    seeds = rng.choice(n, 200, replace=False)
    labels = rng.integers(0, 4, 200)
    labelled = [texts[i] for i in seeds]
    agree = exact.spread(labelled, labels, 4).argmax(1) == approx.spread(labelled, labels, 4).argmax(1)
    assert agree.mean() > 0.97
    outside = ArrayEncoder(clustered(50, seed=2))
    share = approx.spread(labelled, labels, 4)
    total = approx.proba(share, [f"t{i}" for i in range(50)], outside.embed).sum(1)
    np.testing.assert_allclose(total, 1.0, rtol=1e-5)  # float32 shares


def test_the_approximate_graph_is_the_same_each_time():
    n = 2000
    encoder = ArrayEncoder(clustered(n, seed=3))
    texts = [f"t{i}" for i in range(n)]
    first = PoolGraph(exact_max=10).fit(texts, encoder.embed)._walk
    second = PoolGraph(exact_max=10).fit(texts, encoder.embed)._walk
    assert (first != second).nnz == 0


def test_a_pool_above_the_old_limit_of_100000_titles_gets_its_graph():
    n = 100_500
    encoder = ArrayEncoder(clustered(n, dim=8, seed=4))
    g = PoolGraph().fit([f"t{i}" for i in range(n)], encoder.embed)
    assert g.fitted and g._walk.shape == (n, n) and g.approximate
    share = g.spread(["t0", "t1"], np.array([0, 1]), 2)
    assert (share.sum(axis=1) > 0).mean() > 0.5  # the labels reached far into the pool


def reference_spread(walk, nodes: np.ndarray, labels: np.ndarray, n_classes: int, alpha: float, steps: int):
    """Label spreading as first written (20 dense steps on the graph in the pool's order), to check
    the reordered, seed-rows-only version against."""
    seeds = np.zeros((walk.shape[0], n_classes))
    np.add.at(seeds, (nodes, labels), 1.0)
    seeds /= np.maximum(seeds.sum(axis=0, keepdims=True), 1.0)
    share = seeds
    for _ in range(steps):
        share = alpha * (walk @ share) + (1.0 - alpha) * seeds
    total = share.sum(axis=1, keepdims=True)
    return np.divide(share, total, out=np.zeros_like(share), where=total > 0)


def test_the_fast_spreading_matches_the_first_formula_and_repeats_itself():
    n = 2500
    vectors = clustered(n, seed=3)
    texts = [f"t{i}" for i in range(n)]
    g = PoolGraph().fit(texts, ArrayEncoder(vectors).embed)  # exact graph below EXACT_MAX
    # the graph built independently, as the first version did: exact neighbours, symmetric, normalised
    index, similarity = exact_neighbours(vectors, g.n_neighbours)
    k = g.n_neighbours
    graph = sp.csr_matrix((np.clip(similarity.ravel(), 0, None), index.ravel(), np.arange(0, n * k + 1, k)))
    graph = (graph + graph.T).tocsr()
    scale = sp.diags(1.0 / np.sqrt(np.asarray(graph.sum(axis=1)).ravel()))
    walk = (scale @ graph @ scale).tocsr()
    assert not np.array_equal(g._position, np.arange(n))  # the nodes really were reordered
    rng = np.random.default_rng(0)
    for labelled in (3, 40, 400):
        nodes = rng.choice(n, labelled, replace=False)
        nodes[-1] = nodes[0]  # one title labelled twice (the labelling app allows it)
        labels = rng.integers(0, 6, labelled)
        share = g.spread([f"t{i}" for i in nodes], labels, 6)
        expected = reference_spread(walk, nodes, labels, 6, g.alpha, g.iterations)
        np.testing.assert_allclose(share, expected, atol=1e-5)
        assert np.array_equal((share.sum(axis=1) > 0), (expected.sum(axis=1) > 0))
        again = PoolGraph().fit(texts, ArrayEncoder(vectors).embed)
        again = again.spread([f"t{i}" for i in nodes], labels, 6)
        np.testing.assert_array_equal(share, again)  # deterministic: the same pool, the same answer


def test_the_block_search_is_the_brute_force_search_ties_included():
    pool = clustered(1000, seed=5)
    pool[700:720] = pool[3]  # exact ties: the lower index must win, as in exact_neighbours
    queries = np.concatenate([clustered(300, seed=6), pool[3:4]])
    full = queries @ pool.T
    expected = np.lexsort((np.broadcast_to(np.arange(1000), full.shape), -full), axis=1)[:, :7]
    for size in (1, 6, 64, 333, 1000):  # blocks smaller than k, uneven, one block
        blocks = (pool[lo : lo + size] for lo in range(0, 1000, size))
        index, similarity = search_blocks(queries, blocks, 7)
        np.testing.assert_array_equal(index, expected)
        np.testing.assert_allclose(similarity, np.take_along_axis(full, expected, axis=1), rtol=1e-6)


class NamedEncoder:
    """Pool text "t{i}" is row i of ``pool``, outside text "o{i}" row i of ``outside``."""

    def __init__(self, pool: np.ndarray, outside: np.ndarray):
        self.rows = {"t": pool, "o": outside}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.rows[t[0]][int(t[1:])] for t in texts])


def test_texts_outside_the_pool_find_their_neighbours_without_keeping_the_index():
    n = 3000
    pool, outside = clustered(n, seed=7), clustered(200, seed=8)
    encoder = NamedEncoder(pool, outside)
    g = PoolGraph(exact_max=100).fit([f"t{i}" for i in range(n)], encoder.embed)
    assert g.approximate
    assert not any(isinstance(v, NeighbourIndex) for v in vars(g).values())  # the index was dropped
    texts = [f"o{i}" for i in range(200)]
    weight, nodes = g._nearest(texts, encoder.embed)
    # the exact nearest nodes, as brute force finds them
    full = outside @ pool.T
    expected = np.lexsort((np.broadcast_to(np.arange(n), full.shape), -full), axis=1)[:, :10]
    np.testing.assert_array_equal(nodes, expected)
    nearest = np.take_along_axis(full, expected, axis=1)
    np.testing.assert_allclose(weight, np.clip(nearest, 0, None), rtol=1e-5)
    # the HNSW index kept before found most of them (it is approximate: 0.96 on these 16-dim clusters)
    index = NeighbourIndex(n, pool.shape[1], exact_max=100)
    index.add(0, pool)
    hnsw, _ = index.search(outside, 10)
    assert np.mean([len(np.intersect1d(a, b)) for a, b in zip(hnsw, nodes, strict=True)]) / 10 > 0.9
    # and the shares of an outside text are the same from a second graph of the same pool
    share = g.spread(["t0", "t1", "t2"], np.array([0, 1, 2]), 3)
    again = PoolGraph(exact_max=100).fit([f"t{i}" for i in range(n)], encoder.embed)
    first, second = (graph.proba(share, texts, encoder.embed) for graph in (g, again))
    np.testing.assert_array_equal(first, second)
