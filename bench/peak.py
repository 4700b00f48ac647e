"""How close pool scoring gets to the machine's peak: torch matmul FLOP/s (fp32, bf16) measured in
the same run as the encoder, and the encoder's useful FLOP/s counted from the real token lengths.

FLOPs per title (a BERT layer on L tokens, hidden d, feed-forward f): 2*L*(4*d*d + 2*d*f) for the
projections and the feed-forward, plus 4*L*L*d for the attention scores and their weighted sum;
times the number of layers. Padding is not useful work, so it is not counted; the padded total is
printed beside it. Also sweeps torch's CPU thread count.

    python bench/peak.py
    python bench/peak.py --titles 4000 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import UTC, datetime

import numpy as np
import torch

DATA = "../shared/data/amazon-in-products/amazon_in_products.parquet"


def matmul_peak(dtype: torch.dtype, n: int = 2048, repeats: int = 5) -> float:
    """Best-of-median FLOP/s of an n x n matmul: the ceiling dense encoder work can approach."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    for _ in range(2):
        a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(4):
            a @ b
        times.append((time.perf_counter() - start) / 4)
    return 2 * n**3 / statistics.median(times)


def flops_per_title(lengths: np.ndarray, config) -> np.ndarray:
    d, f, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    return layers * (2 * lengths * (4 * d * d + 2 * d * f) + 4 * lengths**2 * d)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--titles", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", default=DATA)
    args = parser.parse_args()

    from alloop.data import load_dataset
    from alloop.models.encoder import Encoder, encode
    from alloop.models.precision import bf16_native

    data = load_dataset(args.data)
    titles = list(np.random.default_rng(0).permutation(data.pool_texts)[: args.titles])
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; {len(titles)} real titles, "
        f"medians of {args.repeats}"
    )
    precisions = ["fp32"]
    if bf16_native("cpu"):
        precisions.append("bf16")
    else:  # emulated bf16 ran 140x slower than fp32 on such a CPU: minutes for no figure
        print("bf16: skipped, this CPU has neither AVX512-BF16 nor AMX (bfloat16 would be emulated)")
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16}
    peaks = {p: matmul_peak(dtypes[p]) for p in precisions}
    for name, value in peaks.items():
        print(f"matmul peak {name}: {value / 1e9:.0f} GFLOP/s")

    encoders = {p: Encoder(precision=p, cache_dir=None) for p in precisions}
    tokens = encoders["fp32"].tokenize(titles)
    lengths = np.array([len(t) for t in tokens])
    useful = flops_per_title(lengths, encoders["fp32"].model.config)
    order = np.argsort(lengths, kind="stable")
    padded_lengths = np.concatenate(
        [np.full(len(order[i : i + 64]), lengths[order[i : i + 64]].max()) for i in range(0, len(order), 64)]
    )
    padded = flops_per_title(padded_lengths, encoders["fp32"].model.config)
    seed_style = flops_per_title(np.full_like(lengths, 128), encoders["fp32"].model.config)
    print(
        f"tokens per title: mean {lengths.mean():.1f}, max {lengths.max()}; useful {useful.mean() / 1e6:.0f} "
        f"MFLOP/title; with the length-sorted padding {padded.sum() / useful.sum() - 1:+.1%}; "
        f"padded to 128 {seed_style.mean() / 1e6:.0f} MFLOP/title"
    )
    print(f"{'precision':9} {'threads':>7} {'titles/s':>9} {'GFLOP/s':>8} {'of peak':>8}")
    default_threads = torch.get_num_threads()
    for precision, encoder in encoders.items():
        sweep = sorted({1, default_threads}) if precision == "fp32" else [default_threads]
        for threads in sweep:
            torch.set_num_threads(threads)
            encode(encoder, encoder.model, titles[:128])  # warm-up
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                encode(encoder, encoder.model, titles)
                times.append(time.perf_counter() - start)
            rate = len(titles) / statistics.median(times)
            achieved = rate * useful.mean()
            print(
                f"{precision:9} {threads:>7} {rate:>9.0f} {achieved / 1e9:>8.0f} "
                f"{achieved / peaks[precision]:>8.0%}",
                flush=True,
            )
    torch.set_num_threads(default_threads)


if __name__ == "__main__":
    main()
