"""Approximate vs exact neighbour graph: build time, peak memory and recall@10 of faiss-cpu (HNSW),
hnswlib, pynndescent and usearch against the exact search, at 30k and 100k vectors.

The vectors are real: every 384-dim float16 embedding in alloop's cache (~18k titles of amazon-in
and the Hub sample), normalised. Larger pools are made of perturbed copies (each copy = a real
vector + Gaussian noise of norm ``--noise``, renormalised; cosine to its source about 0.96 at 0.3),
so a copy has its own neighbourhood near its source, as a seller's variant of a listing would.
Each (library, size) runs in its own process, single-threaded and seeded, so its peak RSS above
the loaded vectors is its own. Recall@10 = share of the exact 10 nearest (itself left out) found.

    python bench/ann_graph.py                          # 30k and 100k, all libraries
    python bench/ann_graph.py --sizes 30000 --libs exact hnswlib
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

K = 10
LIBS = ["exact", "faiss", "hnswlib", "pynndescent", "usearch"]


def real_vectors(cache: Path) -> np.ndarray:
    """Every cached vector of the largest model in the cache (the default encoder's), float32, normalised."""
    db = sqlite3.connect(cache / "embeddings.sqlite")
    (model,) = db.execute(
        "SELECT model FROM vectors GROUP BY model ORDER BY COUNT(*) DESC LIMIT 1"
    ).fetchone()
    rows = db.execute("SELECT vector FROM vectors WHERE model = ? ORDER BY hash", [model]).fetchall()
    v = np.stack([np.frombuffer(r[0], dtype=np.float16) for r in rows]).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def pool(base: np.ndarray, n: int, noise: float, seed: int = 0) -> np.ndarray:
    """``n`` vectors: the real ones, then perturbed copies of them."""
    rng = np.random.default_rng(seed)
    reps = [base[: min(n, len(base))]]
    have = len(reps[0])
    while have < n:
        take = min(len(base), n - have)
        extra = rng.standard_normal((take, base.shape[1])).astype(np.float32) * (
            noise / np.sqrt(base.shape[1])
        )
        copy = base[:take] + extra
        reps.append(copy / np.linalg.norm(copy, axis=1, keepdims=True))
        have += take
    return np.ascontiguousarray(np.concatenate(reps))


def exact(v: np.ndarray, k: int) -> np.ndarray:
    from alloop.models.graph import exact_neighbours

    return exact_neighbours(v, k)[0]


def build(lib: str, v: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Each row's ``k`` nearest other rows, by ``lib``, single-threaded."""
    n, d = v.shape
    if lib == "exact":
        return exact(v, k)
    if lib == "faiss":
        import faiss

        faiss.omp_set_num_threads(1)
        index = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 100
        index.hnsw.efSearch = 64
        index.add(v)
        _, idx = index.search(v, k + 1)
    elif lib == "hnswlib":
        import hnswlib

        index = hnswlib.Index(space="ip", dim=d)
        index.init_index(max_elements=n, ef_construction=100, M=16, random_seed=seed)
        index.set_num_threads(1)
        index.add_items(v, np.arange(n))
        index.set_ef(64)
        idx, _ = index.knn_query(v, k=k + 1)
    elif lib == "pynndescent":
        from pynndescent import NNDescent

        index = NNDescent(v, metric="cosine", n_neighbors=k + 1, random_state=seed, n_jobs=1, low_memory=True)
        idx, _ = index.neighbor_graph
    elif lib == "usearch":
        from usearch.index import Index

        index = Index(
            ndim=d, metric="ip", dtype="f32", connectivity=16, expansion_add=100, expansion_search=64
        )
        index.add(np.arange(n), v, threads=1)
        idx = index.search(v, k + 1, threads=1).keys
    else:
        raise SystemExit(f"unknown library {lib}")
    idx = np.asarray(idx, dtype=np.int64)
    out = np.empty((n, k), dtype=np.int64)
    for i in range(n):  # drop itself (or, for a duplicate, the last extra)
        row = idx[i][idx[i] != i]
        out[i] = row[:k]
    return out


def one(lib: str, n: int, noise: float, seed: int, truth_path: str) -> dict:
    v = pool(np.load(Path(truth_path).parent / "real.npy"), n, noise)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    idx = build(lib, v, K, seed)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"lib": lib, "n": n, "build_s": round(seconds, 2), "extra_rss_mb": round(peak - base_rss)}
    if lib == "exact":
        np.save(truth_path, idx)
        result["recall@10"] = 1.0
    else:
        truth = np.load(truth_path)
        hits = sum(len(np.intersect1d(a, b)) for a, b in zip(idx, truth, strict=True))
        result["recall@10"] = round(hits / truth.size, 4)
        again = build(lib, v, K, seed)
        result["deterministic"] = bool(np.array_equal(idx, again))
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[30_000, 100_000])
    parser.add_argument("--libs", nargs="+", default=LIBS)
    parser.add_argument("--noise", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", nargs=3, metavar=("LIB", "N", "TRUTH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        lib, n, truth = args.one
        print(json.dumps(one(lib, int(n), args.noise, args.seed, truth)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        real = real_vectors(Path.home() / ".cache" / "alloop")  # once: others may be filling the cache
        np.save(f"{tmp}/real.npy", real)
        print(f"{len(real):,} real vectors from the cache", flush=True)
        for n in args.sizes:
            truth = f"{tmp}/truth-{n}.npy"
            for lib in ["exact"] + [x for x in args.libs if x != "exact"]:
                cmd = [sys.executable, __file__, "--one", lib, str(n), truth, "--noise", str(args.noise)]
                out = subprocess.run(cmd, capture_output=True, text=True)
                if out.returncode:
                    print(f"{lib} {n}: failed: {out.stderr.strip().splitlines()[-1:]}")
                    continue
                print(out.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
