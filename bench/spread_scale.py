"""Label spreading alone at 100k and 1M nodes, the first formula against today's, side by side:
seconds per spreading (20 steps, 19 classes, 2,000 labelled nodes) on a synthetic 10-neighbour
graph, symmetrised and normalised as ``PoolGraph.fit`` does.

Two graphs per size. *clustered, in order*: each node's neighbours lie near it in node order (the
best case for memory). *clustered, shuffled*: clusters of 200 nodes, 90% of the edges inside the
cluster and 10% to random nodes, node ids shuffled: as a real pool arrives, in no useful order.

*first*: the first version (``alpha * (W @ share) + (1 - alpha) * seeds``, 20 steps on the graph
in the pool's order). *now*: ``PoolGraph.spread`` (the graph reordered once by reverse
Cuthill-McKee, ``alpha`` folded into it, the seeds added on their own rows). *max diff*: the
largest difference between the two answers.

    python bench/spread_scale.py [--sizes 100000 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import scipy.sparse as sp

from alloop.models.graph import PoolGraph


def synthetic_walk(n: int, shuffled: bool, k: int = 10) -> sp.csr_matrix:
    rng = np.random.default_rng(0)
    if shuffled:
        neighbour = np.minimum(np.arange(n)[:, None] // 200 * 200 + rng.integers(0, 200, (n, k)), n - 1)
        cross = rng.random((n, k)) < 0.1
        neighbour[cross] = rng.integers(0, n, int(cross.sum()))
        perm = rng.permutation(n)
        neighbour = perm[neighbour][np.argsort(perm)]  # node perm[p] holds position p's neighbours
    else:
        neighbour = (np.arange(n)[:, None] + rng.integers(1, 500, (n, k))) % n
    edges = (rng.random(n * k).astype(np.float32), neighbour.ravel(), np.arange(0, n * k + 1, k))
    graph = sp.csr_matrix(edges, shape=(n, n))
    graph = (graph + graph.T).tocsr()
    scale = sp.diags((1 / np.sqrt(np.asarray(graph.sum(1)).ravel())).astype(np.float32))
    return (scale @ graph @ scale).tocsr()


def first_spread(walk: sp.csr_matrix, nodes: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """The first version of ``PoolGraph.spread``, kept here to time against."""
    alpha, steps = 0.9, 20
    seeds = np.zeros((walk.shape[0], n_classes), dtype=np.float32)
    np.add.at(seeds, (nodes, labels), 1.0)
    seeds /= np.maximum(seeds.sum(axis=0, keepdims=True), 1.0)
    share = seeds
    for _ in range(steps):
        share = alpha * (walk @ share) + (1.0 - alpha) * seeds
    total = share.sum(axis=1, keepdims=True)
    return np.divide(share, total, out=np.zeros_like(share), where=total > 0)


def timed(run: Callable[[], np.ndarray], repeats: int) -> tuple[float, np.ndarray]:
    seconds, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("| nodes | graph | edges | first s | now s | speed-up | reorder s (once) | max diff |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        for shuffled in (False, True):
            walk = synthetic_walk(n, shuffled)
            rng = np.random.default_rng(1)
            nodes, labels = rng.choice(n, 2000, replace=False), rng.integers(0, 19, 2000)
            pool = PoolGraph()
            start = time.perf_counter()
            pool.set_walk(walk)
            reorder = time.perf_counter() - start
            pool._row = {f"t{i}": int(i) for i in nodes}
            texts = [f"t{i}" for i in nodes]
            first, old = timed(partial(first_spread, walk, nodes, labels, 19), args.repeats)
            now, new = timed(partial(pool.spread, texts, labels, 19), args.repeats)
            name = "clustered, shuffled" if shuffled else "clustered, in order"
            print(
                f"| {n:,} | {name} | {walk.nnz:,} | {first:.2f} | {now:.2f} | {first / now:.1f}x "
                f"| {reorder:.1f} | {np.abs(old - new).max():.1e} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
