"""bert fine-tuning: warm start (keep training one model across cycles, the seed's way) against
retraining from the pretrained weights each cycle. Same data, initial set, strategy and seeds;
prints per-cycle fit time and macro-F1 of both, from ``alloop run`` itself (its results.db).

    python bench/warm_start.py                    # margin, 100 initial, +100 per cycle, 3 cycles
    python bench/warm_start.py --seeds 2 --precision bf16
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

DATA = "../shared/data/amazon-in-products/amazon_in_products.parquet"


def run(out: Path, args: argparse.Namespace, warm: bool) -> pd.DataFrame:
    cmd = [sys.executable, "-m", "alloop.cli.app", "run", "--data", args.data, "--classifier", "bert"]
    cmd += ["--strategy", "margin", "--initial", str(args.initial), "--query-size", str(args.query_size)]
    cmd += ["--cycles", str(args.cycles), "--seeds", str(args.seeds), "--no-ceiling", "--out", str(out)]
    cmd += ["--precision", args.precision, "--cache-dir", str(out.parent / "cache")]
    if warm:
        cmd.append("--warm-start")
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    with sqlite3.connect(out / "results.db") as db:
        return pd.read_sql("SELECT seed, cycle, n_labelled, macro_f1, fit_seconds FROM cycles", db)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--initial", type=int, default=100)
    parser.add_argument("--query-size", type=int, default=100)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--precision", default="fp32")
    args = parser.parse_args()
    from alloop.models.precision import bf16_native

    if args.precision == "bf16" and not bf16_native("cpu"):
        print("bf16: skipped, this CPU has neither AVX512-BF16 nor AMX (bfloat16 would be emulated)")
        return
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {platform.python_version()}; "
        f"bert, margin, {args.initial} initial + {args.query_size}/cycle, {args.seeds} seed(s), "
        f"{args.precision}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        frames = {name: run(Path(tmp) / name, args, name == "warm") for name in ("retrain", "warm")}
    both = frames["retrain"].merge(frames["warm"], on=["seed", "cycle", "n_labelled"], suffixes=("", "_warm"))
    table = both.groupby("n_labelled")[
        ["fit_seconds", "fit_seconds_warm", "macro_f1", "macro_f1_warm"]
    ].mean()
    print(f"{'labels':>6} {'fit s retrain':>13} {'fit s warm':>10} {'F1 retrain':>10} {'F1 warm':>8}")
    for n, r in table.iterrows():
        print(
            f"{n:>6} {r.fit_seconds:>13.1f} {r.fit_seconds_warm:>10.1f} {r.macro_f1:>10.3f} "
            f"{r.macro_f1_warm:>8.3f}"
        )
    total = table.sum()
    print(
        f"total fit s: retrain {total.fit_seconds:.1f}, warm {total.fit_seconds_warm:.1f}; "
        f"final F1: retrain {table.macro_f1.iloc[-1]:.3f}, warm {table.macro_f1_warm.iloc[-1]:.3f}"
    )


if __name__ == "__main__":
    main()
