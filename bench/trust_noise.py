"""How each strategy's learning curve degrades with a noisy annotator: one `alloop run` per noise
rate (``--oracle-noise``, uniform: a wrong answer names any other class), the same strategies,
seeds and budget, then AULC and macro-F1 at the last budget per strategy and rate (mean over seeds,
from each run's runs.csv) and, beside it, the share auto-labelled at the target precision
(estimated from the noisy labels, and measured on the test set, whose labels stay true).

    python bench/trust_noise.py --rates 0,0.05,0.1,0.2 --seeds 3 --budget 1100 --out /tmp/trust-noise

The runs stay under ``--out`` (one folder per rate); the table is printed and saved beside them.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

DATA = "../shared/data/amazon-in-products/amazon_in_products.parquet"
STRATEGIES = ["random", "margin", "balanced-margin", "coverage-margin"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--strategies", nargs="+", default=STRATEGIES)
    parser.add_argument("--rates", default="0,0.05,0.1,0.2")
    parser.add_argument("--kind", default="uniform", choices=["uniform", "confusion"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=1100)
    parser.add_argument("--alloop", default=str(Path(sys.executable).with_name("alloop")))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs, load avg "
        f"{os.getloadavg()[0]:.1f}; {' '.join(sys.argv[1:])}",
        flush=True,
    )
    rows = []
    for rate in [float(r) for r in args.rates.split(",")]:
        out = args.out / f"noise-{rate:g}"
        command = [
            args.alloop, "run", "--data", args.data, *[f"--strategy={s}" for s in args.strategies],
            "--seeds", str(args.seeds), "--budget", str(args.budget), "--cycles", "1000", "--no-ceiling",
            "--oracle-noise", str(rate), "--oracle-noise-kind", args.kind, "--out", str(out),
        ]  # fmt: skip
        print("$ " + " ".join(command), flush=True)
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        print(f"  {time.perf_counter() - start:.0f} s", flush=True)
        runs = pd.read_csv(out / "runs.csv")
        cycles = pd.read_csv(out / "cycles.csv")
        last = cycles.loc[cycles.groupby(["strategy", "seed"])["n_labelled"].idxmax()]
        auto = ["auto_coverage_estimated", "auto_coverage_test", "auto_precision_test"]
        runs = runs.merge(last[["strategy", "seed", *auto]], on=["strategy", "seed"])
        rows.append(runs.assign(noise=rate))
    frame = pd.concat(rows, ignore_index=True)
    frame.to_csv(args.out / "noise_runs.csv", index=False)
    table = frame.groupby(["strategy", "noise"], sort=False)[
        ["aulc", "final_f1", "final_labels", "auto_coverage_estimated", "auto_coverage_test"]
    ].mean()
    table["seeds"] = frame.groupby(["strategy", "noise"], sort=False).size()
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    wide = frame.pivot_table(index="strategy", columns="noise", values=["aulc", "final_f1"], aggfunc="mean")
    print(wide.reindex(args.strategies).to_string(float_format=lambda v: f"{v:.3f}"))
    claimed = frame[frame["auto_coverage_test"] > 0]
    low = claimed[claimed["auto_precision_test"] < 0.95]
    print(f"final cycles claiming auto-labelling at 95%: {len(claimed)}; measured below 95%: {len(low)}")


if __name__ == "__main__":
    main()
