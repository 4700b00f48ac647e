"""Label spreading alone at 100k and 1M nodes: seconds per ``PoolGraph.spread`` (20 steps, 19
classes, 2,000 labelled nodes) on a synthetic 10-neighbour graph, symmetrised and normalised as
``PoolGraph.fit`` does. Neighbours lie near in node order, as clusters of a sorted pool would.

    python bench/spread_scale.py [--sizes 100000 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import scipy.sparse as sp

from alloop.models.graph import PoolGraph


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for n in args.sizes:
        rng, k = np.random.default_rng(0), 10
        neighbour = (np.arange(n)[:, None] + rng.integers(1, 500, (n, k))) % n
        edges = (rng.random(n * k).astype(np.float32), neighbour.ravel(), np.arange(0, n * k + 1, k))
        graph = sp.csr_matrix(edges, shape=(n, n))
        graph = (graph + graph.T).tocsr()
        scale = sp.diags((1 / np.sqrt(np.asarray(graph.sum(1)).ravel())).astype(np.float32))
        pool = PoolGraph()
        pool._walk = (scale @ graph @ scale).tocsr()
        pool._row = {f"t{i}": i for i in range(2000)}
        texts, labels = list(pool._row), rng.integers(0, 19, 2000)
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            pool.spread(texts, labels, 19)
            seconds.append(time.perf_counter() - start)
        median = statistics.median(seconds)
        print(f"{n:>9,} nodes, {pool._walk.nnz:,} edges: spread {median:.2f} s", flush=True)


if __name__ == "__main__":
    main()
