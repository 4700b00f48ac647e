"""The whole amazon-in pool end to end with ``bert-frozen``: what the test suite ran until it
switched to 380 titles (tests/conftest.py ``amazon_small``). Prints wall time and final macro-F1
per strategy for the seed's four strategies, then for every strategy with a k-means cold start
and the label-free stop signals, as the two former tests did.

    python bench/full_pool.py
    python bench/full_pool.py --runs every
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

DATA = "../shared/data/amazon-in-products/amazon_in_products.parquet"
EVERY = [
    "random",
    "least-confidence",
    "entropy",
    "margin",
    "badge",
    "coreset",
    "cluster-margin",
    "margin+dedup",
]
RUNS = {
    "seed-four": ["--initial", "60", "--query-size", "20", "--cycles", "2"],
    "every": [
        *[a for s in EVERY for a in ("--strategy", s)],
        *("--initial-strategy", "kmeans", "--initial", "40", "--query-size", "20", "--cycles", "2"),
        *("--stop", "stabilizing", "--stop", "plateau", "--stop", "uncertainty", "--no-ceiling"),
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    parser.add_argument("--max-length", default="48")
    args = parser.parse_args()
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load avg {os.getloadavg()[0]:.1f} at start; bert-frozen, max length {args.max_length}, "
        "a fresh embedding cache per run (the pool is embedded each time)"
    )
    for name in args.runs:
        with tempfile.TemporaryDirectory(prefix="alloop-full-") as tmp:
            out = Path(tmp) / "run"
            env = {**os.environ, "ALLOOP_CACHE_DIR": str(Path(tmp) / "cache"), "HF_HUB_OFFLINE": "1"}
            cmd = [sys.executable, "-m", "alloop", "run", "--data", args.data, "--classifier", "bert-frozen"]
            cmd += ["--max-length", args.max_length, *RUNS[name], "--out", str(out)]
            start = time.perf_counter()
            result = subprocess.run(cmd, capture_output=True, text=True, env=env)
            seconds = time.perf_counter() - start
            if result.returncode != 0:
                print(f"{name}: failed after {seconds:.0f} s: {result.stderr.strip().splitlines()[-1:]}")
                continue
            cycles = pd.read_csv(out / "cycles.csv")
            final = cycles.sort_values("cycle").groupby("strategy", sort=False)["macro_f1"].last()
            shown = ", ".join(f"{s} {f:.3f}" for s, f in final.items())
            print(f"{name}: {seconds:.0f} s wall; final macro-F1: {shown}", flush=True)


if __name__ == "__main__":
    main()
