"""Ray scale-out: the embedding pass and a bert-frozen grid at --workers 1 against --workers 2.

- ``embed``: frozen embeddings of N distinct titles (real amazon-in titles, then copies with a
  numbered suffix, as bench/scale.py builds its pools), no cache. ``--workers 1`` is the serial
  pass (``Encoder.embed``, no Ray); ``--workers 2`` is the sharded pass (``embed_on_ray``) on a
  local Ray with one CPU per worker. The timed part is the pass alone; starting Ray and loading
  one encoder per worker are timed apart.
- ``grid``: ``run_experiment`` of a strategies x seeds ``bert-frozen`` grid on amazon-in, wall
  time end to end (Ray start included), first from an empty embedding cache, then warm.
- ``project``: the time of a 1M-title embedding pass and of an 8 x 5 ``bert`` grid on N machines,
  from a measured embedding rate per machine and a measured ``bert`` cycle time (both given).

    python bench/ray_grid.py embed --titles 2048 --shard 512 --repeats 3
    python bench/ray_grid.py grid --strategies 4 --seeds 4 --cycles 10 --per-class 150 [--classifier hybrid]
    python bench/ray_grid.py project --titles-per-s 267 --bert-cycle-s 78.5
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

DATA = "../shared/data/amazon-in-products/amazon_in_products.parquet"
STRATEGIES = ("random", "margin", "entropy", "least-confidence", "badge", "coreset", "cluster-margin")


def header() -> None:
    load = os.getloadavg()
    print(
        f"# {datetime.now(UTC).isoformat(timespec='seconds')} {platform.node()} "
        f"cpus={os.cpu_count()} load1/5/15={load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} "
        f"python={platform.python_version()}"
    )


def titles(n: int) -> list[str]:
    from alloop.data import load_dataset

    data = load_dataset(DATA)
    base = list(dict.fromkeys(data.pool_texts + data.test_texts))
    return [base[i % len(base)] + ("" if i < len(base) else f" | lot {i // len(base)}") for i in range(n)]


def bench_embed(n: int, repeats: int, max_length: int, shard: int) -> None:
    """Serial and sharded passes alternate, so a change in the machine's load hits both alike.
    ``shard`` sets the chunk of both passes (alloop's is 2,048), so a short bench still gives each
    worker several shards."""
    import numpy as np
    import ray
    import torch

    import alloop.models.encoder
    import alloop.simulate.ray
    from alloop.data import load_dataset
    from alloop.models import ModelConfig
    from alloop.models.encoder import Encoder
    from alloop.simulate.config import RunConfig
    from alloop.simulate.ray import GridWorker, WorkerPool, embed_on_ray

    alloop.models.encoder.EMBED_CHUNK = alloop.simulate.ray.EMBED_CHUNK = shard
    texts = titles(n)
    print(f"embed: {n} distinct titles in chunks of {shard}, max_length {max_length}, fp32, no cache")
    config = RunConfig(data=DATA, model=ModelConfig(max_length=max_length, cache=False))
    start = time.perf_counter()
    ray.init(
        address="local",
        num_cpus=2,
        object_store_memory=400 * 1024**2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
    )
    ray_s = time.perf_counter() - start
    actor = ray.remote(GridWorker).options(num_cpus=1, max_restarts=0)
    start = time.perf_counter()
    pool = WorkerPool(actor, 2, config, ray.put(load_dataset(DATA)), None)
    threads = ray.get([w.threads.remote() for w in pool.workers])
    workers_s = time.perf_counter() - start
    print(
        f"  ray start {ray_s:.1f} s; 2 workers up with their encoders {workers_s:.1f} s (threads {threads})"
    )
    serial: list[float] = []
    sharded: list[float] = []
    try:
        for r in range(repeats):
            encoder = Encoder(max_length=max_length)
            start = time.perf_counter()
            reference = encoder.embed(texts)
            serial.append(time.perf_counter() - start)
            print(
                f"  run {r} workers 1 (serial, torch threads {torch.get_num_threads()}): "
                f"{serial[-1]:.1f} s, {n / serial[-1]:.0f} titles/s, load1 {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            encoder = Encoder(max_length=max_length)
            start = time.perf_counter()
            embed_on_ray(encoder, texts, pool, lambda k: None)
            got = encoder.embed(texts)
            sharded.append(time.perf_counter() - start)
            print(
                f"  run {r} workers 2 (sharded, 1 thread each): {sharded[-1]:.1f} s, "
                f"{n / sharded[-1]:.0f} titles/s, load1 {os.getloadavg()[0]:.1f}, "
                f"vectors equal serial: {bool(np.array_equal(got, reference))}",
                flush=True,
            )
    finally:
        pool.close()
        ray.shutdown()
    s, p = statistics.median(serial), statistics.median(sharded)
    print(
        f"embed median of {repeats}: workers 1 {s:.1f} s ({n / s:.0f} titles/s), workers 2 {p:.1f} s "
        f"({n / p:.0f} titles/s), speed-up {s / p:.2f}x (runs: {min(serial):.1f}-{max(serial):.1f} s "
        f"vs {min(sharded):.1f}-{max(sharded):.1f} s); per worker {n / p / 2:.0f} titles/s"
    )


def bench_grid(
    n_strategies: int,
    seeds: int,
    cycles: int,
    query: int,
    per_class: int,
    warm_only: bool,
    classifier: str = "bert-frozen",
) -> None:
    """End to end as a user runs it: first from an empty embedding cache (the embedding pass is
    serial at one worker, sharded at two), then again with the cache warm (the grid alone).
    ``warm_only`` fills one cache untimed first and times only the warm runs."""
    import pandas as pd

    from alloop.models import ModelConfig
    from alloop.simulate.config import RunConfig
    from alloop.simulate.experiment import run_experiment

    with tempfile.TemporaryDirectory() as tmp:
        data = DATA
        if per_class:
            data = f"{tmp}/data.parquet"
            pd.read_parquet(DATA).groupby("category").head(per_class).reset_index(drop=True).to_parquet(data)
        print(
            f"grid: {classifier}, {n_strategies} strategies {STRATEGIES[:n_strategies]} x {seeds} seeds, "
            f"{cycles} cycles of {query}, ceilings on, data {per_class or 'all'} per class"
        )
        if warm_only:
            from alloop.data import load_dataset
            from alloop.models.encoder import Encoder

            loaded = load_dataset(data)
            start = time.perf_counter()
            Encoder(cache_dir=f"{tmp}/cache").embed(loaded.pool_texts + loaded.test_texts)
            print(f"  cache filled, untimed in the runs ({time.perf_counter() - start:.1f} s)", flush=True)
        for workers in (1, 2):
            config = RunConfig(
                data=data,
                strategies=STRATEGIES[:n_strategies],
                initial=100,
                query_size=query,
                cycles=cycles,
                seeds=seeds,
                model=ModelConfig(
                    classifier=classifier,
                    cache_dir=f"{tmp}/cache" if warm_only else f"{tmp}/cache-{workers}",
                ),
            )
            for state in ("warm cache",) if warm_only else ("cold cache", "warm cache"):
                start = time.perf_counter()
                run_experiment(config, Path(tmp) / f"run-{workers}-{state[:4]}", workers=workers)
                print(
                    f"  workers {workers}, {state}: {time.perf_counter() - start:.1f} s, "
                    f"load1 {os.getloadavg()[0]:.1f}",
                    flush=True,
                )


def project(titles_per_s: float, bert_cycle_s: float, machines: list[int]) -> None:
    pairs, cycles = 8 * 5, 21
    print(
        f"project: 1M titles at {titles_per_s:.0f} titles/s per machine; 8 x 5 bert grid, {cycles} "
        f"cycles per pair at {bert_cycle_s:.0f} s per cycle, one worker per machine (all its cores); "
        "Ray start-up and the driver's cache writes left out"
    )
    for n in machines:
        embed_h = 1_000_000 / (titles_per_s * n) / 3600
        rounds = -(-pairs // n)
        grid_h = rounds * cycles * bert_cycle_s / 3600
        print(
            f"  {n:>3} machine(s): embed 1M {embed_h:.2f} h; 8x5 bert grid {grid_h:.1f} h ({rounds} rounds)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    e = sub.add_parser("embed")
    e.add_argument("--titles", type=int, default=4000)
    e.add_argument("--repeats", type=int, default=3)
    e.add_argument("--max-length", type=int, default=64)
    e.add_argument("--shard", type=int, default=2048)
    g = sub.add_parser("grid")
    g.add_argument("--strategies", type=int, default=4)
    g.add_argument("--seeds", type=int, default=4)
    g.add_argument("--cycles", type=int, default=10)
    g.add_argument("--query-size", type=int, default=50)
    g.add_argument("--per-class", type=int, default=0, help="titles kept per class (0: all)")
    g.add_argument("--warm-only", action="store_true", help="fill the cache first, time warm runs only")
    g.add_argument("--classifier", default="bert-frozen", help="bert-frozen, hybrid or tfidf")
    p = sub.add_parser("project")
    p.add_argument("--titles-per-s", type=float, required=True)
    p.add_argument("--bert-cycle-s", type=float, required=True)
    p.add_argument("--machines", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    args = parser.parse_args()
    header()
    if args.what == "embed":
        bench_embed(args.titles, args.repeats, args.max_length, args.shard)
    elif args.what == "grid":
        bench_grid(
            args.strategies,
            args.seeds,
            args.cycles,
            args.query_size,
            args.per_class,
            args.warm_only,
            args.classifier,
        )
    else:
        project(args.titles_per_s, args.bert_cycle_s, args.machines)


if __name__ == "__main__":
    main()
