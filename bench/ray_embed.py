"""The embedding pass sharded over a 2-node local Ray cluster against one process, and what it
projects for 1M and 10M titles on N machines.

Both runs embed the same N titles (real amazon-in titles, copies with a numbered suffix beyond the
distinct ones) into empty caches with the default encoder on the CPU:

- *one process*: ``Encoder.embed`` with torch on every CPU of this machine;
- *sharded*: ``alloop.simulate.ray.embed_on_ray`` (what ``alloop simulate --ray-address`` runs) on a
  ``ray.cluster_utils.Cluster`` of two nodes with one CPU each, one worker per node. Both nodes
  share this machine's CPUs, so the cluster cannot be faster than one process here; what it shows
  is the overhead of sharding (start-up, shipping texts and vectors) and the per-worker throughput.

The workers' start-up (loading the encoder) is timed apart from the pass. The vectors of both runs
are compared (the shards are the serial pass's own chunks, so they should be equal).

    python bench/ray_embed.py --titles 20000
    python bench/ray_embed.py --titles 100000 --serial-titles 10000   # one process on the first 10k only
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[1] / "../shared/data/amazon-in-products/amazon_in_products.parquet"


def titles(n: int) -> list[str]:
    base = list(pd.read_parquet(DATA, columns=["title"])["title"].dropna().drop_duplicates())
    return [base[i % len(base)] + ("" if i < len(base) else f" | lot {i // len(base)}") for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--titles", type=int, default=20_000)
    parser.add_argument(
        "--serial-titles",
        type=int,
        help="the one-process pass embeds only the first N titles, rounded down to whole chunks of 2,048 "
        "(its rate, and the vectors compared)",
    )
    args = parser.parse_args()
    import ray
    import torch
    from ray.cluster_utils import Cluster

    from alloop.data import load_dataset
    from alloop.models import ModelConfig
    from alloop.models.encoder import EMBED_CHUNK, Encoder
    from alloop.simulate.config import RunConfig
    from alloop.simulate.ray import GridWorker, WorkerPool, embed_on_ray

    texts = titles(args.titles)
    load = os.getloadavg()[0]
    print(f"# {len(texts):,} titles, {os.cpu_count()} CPUs, load average {load:.1f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        torch.set_num_threads(os.cpu_count() or 1)
        serial = Encoder(cache_dir=Path(tmp) / "serial")
        n_first = args.serial_titles or len(texts)
        if n_first < len(texts):  # whole chunks, as the shards are: a shorter last chunk batches and
            # pads its texts differently, which moves a few float16 values by one step (6e-5)
            n_first = max(EMBED_CHUNK, n_first // EMBED_CHUNK * EMBED_CHUNK)
        first = texts[:n_first]
        start = time.perf_counter()
        one = serial.embed(first)
        one_s = time.perf_counter() - start
        rate = len(first) / one_s
        print(
            f"one process ({torch.get_num_threads()} threads), {len(first):,} titles: {one_s:.1f} s, "
            f"{rate:.0f} titles/s"
        )
        print(f"  load average {os.getloadavg()[0]:.1f}", flush=True)

        node = {"num_cpus": 1, "object_store_memory": 300 * 1024**2}
        cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
        try:
            cluster.add_node(**node)
            cluster.wait_for_nodes()
            ray.init(address=cluster.address, log_to_driver=False)
            model = ModelConfig(classifier="bert-frozen", cache_dir=str(Path(tmp) / "worker"))
            config = RunConfig(data=str(DATA), model=model)
            data = load_dataset(str(DATA))
            start = time.perf_counter()
            actor = ray.remote(GridWorker).options(num_cpus=1, max_restarts=0)
            pool = WorkerPool(actor, 2, config, ray.put(data), None)
            threads = ray.get([w.threads.remote() for w in pool.workers])
            ray.get([w.embed.remote(texts[:8]) for w in pool.workers])  # the encoder loaded
            startup_s = time.perf_counter() - start
            nodes = len([n for n in ray.nodes() if n["Alive"]])
            driver = Encoder(cache_dir=Path(tmp) / "sharded")
            start = time.perf_counter()
            embed_on_ray(driver, texts, pool, lambda n: None)
            sharded_s = time.perf_counter() - start
            pool.close()
        finally:
            ray.shutdown()
            cluster.shutdown()
        two = driver.embed(first)
        same = np.array_equal(one, two)
        print(
            f"sharded, {nodes} nodes x 1 worker ({threads} torch threads), {len(texts):,} titles: start-up "
            f"{startup_s:.1f} s, pass {sharded_s:.1f} s, {len(texts) / sharded_s:.0f} titles/s; vectors of "
            f"the first {len(first):,} equal to one process's: {same}"
            + ("" if same else f" (max diff {np.abs(one - two).max():.1e})")
        )
        speed = (len(texts) / sharded_s) / rate
        print(f"  load average {os.getloadavg()[0]:.1f}; sharded rate / one-process rate = {speed:.2f}")
        per_worker = len(texts) / sharded_s / 2
        print(f"per worker (1 CPU, sharing this machine): {per_worker:.0f} titles/s")
        for n in (1_000_000, 10_000_000):
            for machines in (1, 10, 100):  # machines like this one, each at the one-process rate
                minutes = n / rate / machines / 60
                print(f"  {n:>10,} titles on {machines:>3} machines like this one: {minutes:,.0f} min")


if __name__ == "__main__":
    main()
