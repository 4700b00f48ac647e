"""A pool of up to 1,000,000 titles: time and peak RSS of one cycle at 100k, 300k and 1M.

The pool is real amazon-in titles replicated with distinct suffixes (" | lot 17"), so every text is
distinct: caches cannot fold copies together. One cycle = fit on 2,000 labelled real titles, score
the whole pool in streaming chunks (``alloop.loop.scoring.predict_in_chunks``), pick 50 by margin,
evaluate on the test set. Each (classifier, size) runs in its own process, so RSS is its own.

- ``tfidf``: the whole cycle as alloop runs it.
- ``hybrid`` (the default, label spreading on): as bert-frozen for the embeddings, then the
  one-off set-up a run does once (n-gram vocabulary and rows, neighbour graph: exact up to 10,000
  titles, HNSW above), then each cycle fits the head and spreads the labels. *test s* is the
  one-off placing of the test titles (outside the pool) on the graph, which a run pays in its
  first evaluation; it is timed apart so that the per-cycle medians are the steady state.
  ``--near-labelled N`` scores only the candidates of ``--near-labelled-subsample N`` instead of
  the whole pool.
- ``bert-frozen``: from float16 embeddings in alloop's on-disk cache (``Encoder(cache_dir=...)``),
  read by a fresh process as a real run would. Embedding a million titles on this CPU takes about an
  hour, so the cache is filled by embedding the distinct real titles for real and storing each
  suffixed copy under its own text hash with its base title's vector plus a little noise (norm
  0.3, renormalised: cosine about 0.96 to its base), so the copies are distinct points for the
  neighbour graph, as a seller's variant of a listing would be; reading, memory and scoring do
  not depend on the values otherwise. Embedding throughput is measured apart (bench/peak.py, cycle.py).

    python bench/scale.py                       # 100k, 300k, 1M, both classifiers
    python bench/scale.py --sizes 100000 --classifiers tfidf
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime

import numpy as np

DATA = "../shared/data/amazon-in-products/amazon_in_products.parquet"
LABELS = 2000
QUERY = 50
NOISE = 0.3


def replicated_pool(base: list[str], n: int, start: int = 0) -> list[str]:
    """Titles ``start`` to ``n`` of the pool: the base list, then copies with a numbered suffix."""
    m = len(base)
    return [base[i % m] + ("" if i < m else f" | lot {i // m}") for i in range(start, n)]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill_cache(data_path: str, n: int, cache_dir: str) -> dict:
    """Embed the distinct real titles, then store the replicated pool's vectors under their hashes."""
    from alloop.data import load_dataset
    from alloop.models.encoder import Encoder

    data = load_dataset(data_path)
    encoder = Encoder(cache_dir=cache_dir)
    start = time.perf_counter()
    base = encoder.embed(data.pool_texts + data.test_texts)
    embed_s = time.perf_counter() - start
    vectors = base[: len(data.pool_texts)].astype(np.float16)
    start = time.perf_counter()
    step = 50_000
    rng = np.random.default_rng(0)
    for lo in range(len(data.pool_texts), n, step):
        texts = replicated_pool(data.pool_texts, min(n, lo + step), lo)
        rows = np.arange(lo, lo + len(texts)) % len(data.pool_texts)
        copies = vectors[rows].astype(np.float32)
        copies += rng.standard_normal(copies.shape).astype(np.float32) * (NOISE / np.sqrt(copies.shape[1]))
        encoder.cache.put(texts, copies / np.linalg.norm(copies, axis=1, keepdims=True))
    return {
        "distinct": len(data.pool_texts) + len(data.test_texts),
        "embed_s": embed_s,
        "titles_per_s": (len(data.pool_texts) + len(data.test_texts)) / embed_s,
        "store_s": time.perf_counter() - start,
    }


def cycle(
    classifier: str,
    n: int,
    data_path: str,
    cache_dir: str,
    repeats: int,
    near: int | None,
    first_spread_too: bool = False,
) -> dict:
    from alloop.data import load_dataset
    from alloop.loop.evaluation import evaluate
    from alloop.loop.scoring import predict_in_chunks
    from alloop.models import ModelConfig, classifier_factory
    from alloop.strategies import get_strategy

    data = load_dataset(data_path)
    pool = replicated_pool(data.pool_texts, n)
    labelled = np.random.default_rng(0).choice(len(data.pool_texts), LABELS, replace=False)
    config = ModelConfig(classifier=classifier, cache_dir=cache_dir)
    model = classifier_factory(config, data.n_classes)(0)
    rss_before = _rss_mb()
    read_s = setup_s = graph_s = lookup_s = 0.0
    rss_read = rss_setup = 0.0
    if classifier in ("bert-frozen", "hybrid"):  # a fresh process: the pool's vectors come off the disk cache
        start = time.perf_counter()
        for lo in range(0, n, 65_536):
            model.embed(pool[lo : lo + 65_536])
        read_s = time.perf_counter() - start
        rss_read = _rss_mb()
    sampler = None
    if classifier == "hybrid":
        from alloop.loop.candidates import NearLabelled
        from alloop.models.base import with_pool

        start = time.perf_counter()
        model.features.fit(pool)
        model.features.transform(pool)  # the rows a run keeps for scoring
        ngram_s = time.perf_counter() - start
        start = time.perf_counter()
        with_pool(model, pool)
        graph_s = time.perf_counter() - start
        setup_s = ngram_s + graph_s
        rss_setup = _rss_mb()
        if model.graph.fitted:  # the test titles lie outside the pool: placed on its graph once
            start = time.perf_counter()
            model.graph._nearest(list(data.test_texts), model.embed)
            lookup_s = time.perf_counter() - start
        sampler = NearLabelled(near) if near is not None else None
    parts: dict[str, list[float]] = {"fit": [], "score": [], "eval": [], "spread": [], "first_spread": []}
    spread_diff = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.fit([data.pool_texts[i] for i in labelled], data.pool_labels[labelled])
        t1 = time.perf_counter()
        candidates = np.setdiff1d(np.arange(n), labelled)
        if sampler is not None:
            candidates = sampler(model, pool, candidates, labelled, QUERY, np.random.default_rng(0))
        proba = predict_in_chunks(model, [pool[i] for i in candidates])
        picks = get_strategy("margin")(proba, QUERY, np.random.default_rng(0))
        del proba
        t2 = time.perf_counter()
        predicted = model.predict_proba(data.test_texts).argmax(1)
        f1 = evaluate(data.test_labels, predicted, data.classes).macro_f1
        t3 = time.perf_counter()
        assert len(picks) == QUERY
        if classifier == "hybrid":  # the spreading alone, once more: its share of ``fit``
            t4 = time.perf_counter()
            seeds = [data.pool_texts[i] for i in labelled]
            new = model.graph.spread(seeds, data.pool_labels[labelled], data.n_classes)
            parts["spread"].append(time.perf_counter() - t4)
            if first_spread_too:  # the first formula, on the same graph in the pool's order
                from spread_scale import first_spread

                t4 = time.perf_counter()
                old = first_spread(
                    model.graph._walk, model.graph.rows(seeds), data.pool_labels[labelled], data.n_classes
                )
                parts["first_spread"].append(time.perf_counter() - t4)
                spread_diff = max(spread_diff, float(np.abs(old - new).max()))
                del old
            del new
        parts["fit"].append(t1 - t0)
        parts["score"].append(t2 - t1)
        parts["eval"].append(t3 - t2)
    med = {k: statistics.median(v) if v else 0.0 for k, v in parts.items()}
    return {
        "classifier": classifier,
        "n": n,
        "read_s": read_s,
        "setup_s": setup_s,
        "graph_s": graph_s,
        "lookup_s": lookup_s,
        "scored": len(candidates),
        "rss_read_mb": rss_read,
        "rss_setup_mb": rss_setup,
        "fit_s": med["fit"],
        "spread_s": med["spread"],
        "first_spread_s": med["first_spread"],
        "spread_diff": spread_diff,
        "score_s": med["score"],
        "eval_s": med["eval"],
        "cycle_s": med["fit"] + med["score"] + med["eval"],
        "f1": f1,
        "rss_mb": _rss_mb(),
        "rss_before_mb": rss_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--classifiers", nargs="+", default=["tfidf", "bert-frozen"])
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--cache-dir", help="reuse a filled cache (default: a temporary one)")
    parser.add_argument("--repeats", type=int, default=3, help="cycles per size (medians); read once")
    parser.add_argument(
        "--near-labelled", type=int, help="hybrid: score --near-labelled-subsample N candidates"
    )
    parser.add_argument(
        "--first-spread",
        action="store_true",
        help="hybrid: also time the first label-spreading formula (bench/spread_scale.py) on this graph",
    )
    parser.add_argument("--filled", action="store_true", help="--cache-dir already holds the pool's vectors")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        classifier, n = args.worker.split(":")
        if classifier == "fill":
            print(json.dumps(fill_cache(args.data, int(n), args.cache_dir)))
        else:
            near, first = args.near_labelled, args.first_spread
            result = cycle(classifier, int(n), args.data, args.cache_dir, args.repeats, near, first)
            print(json.dumps(result))
        return
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {platform.python_version()}; "
        f"fit/score/eval medians of {args.repeats}, cache read once per process"
    )
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = args.cache_dir or tmp

        def run(job: str) -> dict:
            cmd = [sys.executable, __file__, "--worker", job, "--data", args.data, "--cache-dir", cache_dir]
            cmd += ["--repeats", str(args.repeats)]
            cmd += [] if args.near_labelled is None else ["--near-labelled", str(args.near_labelled)]
            cmd += ["--first-spread"] if args.first_spread else []
            return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)

        if {"bert-frozen", "hybrid"} & set(args.classifiers) and not args.filled:
            fill = run(f"fill:{max(args.sizes)}")
            print(
                f"cache fill: {fill['distinct']} distinct titles embedded in {fill['embed_s']:.1f} s "
                f"({fill['titles_per_s']:.0f} titles/s, fp32); {max(args.sizes):,} vectors stored in "
                f"{fill['store_s']:.1f} s",
                flush=True,
            )
        print(
            f"{'classifier':12} {'pool':>9} {'read s':>7} {'fit s':>6} {'score s':>8} {'eval s':>7} "
            f"{'cycle s':>8} {'spread s':>8} {'scored':>9} {'set-up s':>8} {'graph s':>7} {'test s':>6} "
            f"{'RSS MB':>7} "
            f"{'after read':>10} "
            f"{'after set-up':>12} {'macro-F1':>9}"
        )
        for classifier in args.classifiers:
            for n in args.sizes:
                r = run(f"{classifier}:{n}")
                print(
                    f"{classifier:12} {n:>9,} {r['read_s']:>7.1f} {r['fit_s']:>6.2f} "
                    f"{r['score_s']:>8.2f} {r['eval_s']:>7.2f} {r['cycle_s']:>8.2f} {r['spread_s']:>8.2f} "
                    f"{r['scored']:>9,} "
                    f"{r['setup_s']:>8.1f} {r['graph_s']:>7.1f} {r.get('lookup_s', 0.0):>6.1f} "
                    f"{r['rss_mb']:>7.0f} "
                    f"{r['rss_read_mb']:>10.0f} {r['rss_setup_mb']:>12.0f} {r['f1']:>9.3f}",
                    flush=True,
                )
                if r["first_spread_s"]:
                    print(
                        f"{'':12} {n:>9,} label spreading on this pool's graph: first formula "
                        f"{r['first_spread_s']:.2f} s, now {r['spread_s']:.2f} s "
                        f"(max difference {r['spread_diff']:.1e})",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
