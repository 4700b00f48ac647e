"""Wall time of one active-learning cycle (train, score the pool, evaluate) and of its parts,
pool-scoring throughput and peak RSS, per classifier and label budget. Medians of --repeats runs.

Each classifier runs in its own process, so peak RSS is that classifier's alone.

    python bench/cycle.py                                   # all classifiers, 100/500/2000 labels
    python bench/cycle.py --classifiers bert-frozen --labels 500 --repeats 5
    python bench/cycle.py --classifiers hybrid bert-frozen --labels 100 500 1100 2000 --repeats 5
    python bench/cycle.py --classifiers hybrid --graph-weights 0 0.5 --labels 100 1100 2000 --repeats 5
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


def measure(
    classifier: str,
    budgets: list[int],
    repeats: int,
    data_path: str,
    max_length: int,
    precision: str,
    graph_weight: float = 0.5,
) -> list[dict]:
    import torch

    from alloop.data import load_dataset
    from alloop.models import ModelConfig, classifier_factory
    from alloop.models.base import with_pool

    data = load_dataset(data_path)
    cache = tempfile.mkdtemp(prefix="alloop-bench-")  # cold: nothing embedded before this run
    config = ModelConfig(
        classifier=classifier,
        max_length=max_length,
        precision=precision,
        cache_dir=cache,
        graph_weight=graph_weight,
    )
    make = classifier_factory(config, data.n_classes)
    rows = []
    first_embed = warm_embed = pool_setup = None
    if classifier in ("bert-frozen", "hybrid"):  # the one-off cost, reported apart from the cycles
        start = time.perf_counter()
        make(0).embed(data.pool_texts + data.test_texts)
        first_embed = time.perf_counter() - start
        # what the next run pays: a new encoder reads every vector back from the disk cache
        again = classifier_factory(config, data.n_classes)(0)
        start = time.perf_counter()
        again.embed(data.pool_texts + data.test_texts)
        warm_embed = time.perf_counter() - start
    if classifier == "hybrid":  # once per run: the n-gram vocabulary and the neighbour graph
        start = time.perf_counter()
        with_pool(make(0), data.pool_texts)
        pool_setup = time.perf_counter() - start
    for n in budgets:
        labelled = np.random.default_rng(n).choice(len(data.pool_texts), n, replace=False)
        rest = np.setdiff1d(np.arange(len(data.pool_texts)), labelled)
        texts = [data.pool_texts[i] for i in labelled]
        pool = [data.pool_texts[i] for i in rest]
        parts: dict[str, list[float]] = {"fit": [], "score": [], "eval": []}
        for r in range(repeats):
            model = with_pool(make(r), data.pool_texts)  # the hybrid's n-grams: once per run, as in the loop
            t0 = time.perf_counter()
            model.fit(texts, data.pool_labels[labelled])
            t1 = time.perf_counter()
            model.predict_proba(pool)
            t2 = time.perf_counter()
            model.predict_proba(data.test_texts)
            t3 = time.perf_counter()
            parts["fit"].append(t1 - t0)
            parts["score"].append(t2 - t1)
            parts["eval"].append(t3 - t2)
        med = {k: statistics.median(v) for k, v in parts.items()}
        rows.append(
            {
                "classifier": f"{classifier} g={graph_weight:g}" if classifier == "hybrid" else classifier,
                "labels": n,
                "cycle_s": med["fit"] + med["score"] + med["eval"],
                "fit_s": med["fit"],
                "score_s": med["score"],
                "eval_s": med["eval"],
                "pool": len(pool),
                "titles_per_s": len(pool) / med["score"],
                "first_embed_s": first_embed,
                "warm_embed_s": warm_embed,
                "pool_setup_s": pool_setup,
                "repeats": repeats,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "threads": torch.get_num_threads(),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--classifiers", nargs="+", default=["tfidf", "bert-frozen", "bert"])
    parser.add_argument("--labels", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "int8"])
    parser.add_argument(
        "--graph-weights", type=float, nargs="+", default=[0.5], help="hybrid: one row set per weight"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    from alloop.models.precision import bf16_native

    if args.precision == "bf16" and not bf16_native("cpu"):
        print("bf16: skipped, this CPU has neither AVX512-BF16 nor AMX (bfloat16 would be emulated)")
        return
    if args.worker:
        rows = measure(
            args.classifiers[0],
            args.labels,
            args.repeats,
            args.data,
            args.max_length,
            args.precision,
            args.graph_weights[0],
        )
        print(json.dumps(rows))
        return
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
        f"python {platform.python_version()}, precision {args.precision}"
    )
    print(
        f"{'classifier':12} {'labels':>6} {'cycle s':>8} {'fit s':>7} {'score s':>8} {'eval s':>7} "
        f"{'titles/s':>9} {'RSS MB':>7} {'1st embed s':>11} {'from disk s':>11} {'pool setup s':>12}"
    )
    runs = [(c, w) for c in args.classifiers for w in (args.graph_weights if c == "hybrid" else [0.5])]
    for classifier, weight in runs:
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            "--classifiers",
            classifier,
            "--repeats",
            str(args.repeats),
            "--data",
            args.data,
            "--max-length",
            str(args.max_length),
            "--precision",
            args.precision,
            "--graph-weights",
            str(weight),
            "--labels",
            *map(str, args.labels),
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        for r in json.loads(out):
            embed = f"{r['first_embed_s']:.1f}" if r["first_embed_s"] else "-"
            warm = f"{r['warm_embed_s']:.2f}" if r["warm_embed_s"] else "-"
            setup = f"{r['pool_setup_s']:.2f}" if r.get("pool_setup_s") else "-"
            print(
                f"{r['classifier']:12} {r['labels']:>6} {r['cycle_s']:>8.2f} {r['fit_s']:>7.2f} "
                f"{r['score_s']:>8.2f} {r['eval_s']:>7.2f} {r['titles_per_s']:>9.0f} "
                f"{r['peak_rss_mb']:>7.0f} {embed:>11} {warm:>11} {setup:>12}",
                flush=True,
            )


if __name__ == "__main__":
    main()
