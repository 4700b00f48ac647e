"""What ``--precision int8`` buys and costs on this CPU, side by side with fp32 and bf16.

Speed: frozen-embedding throughput (titles/s, median of --repeats runs on the same pool titles,
no disk cache, in-memory caches emptied before every run so tokenisation counts too; the
precisions take turns within each run, so load from other processes hits all of them alike),
plus the one-off export + quantise time of int8. Accuracy: cosine of each precision's vectors to
fp32 ones over pool + test, and test macro-F1 of the linear head of ``bert-frozen`` trained on
random pool labels (the same draws for every precision).

    python bench/onnx_int8.py | tee bench/results/onnx_int8_cpu.txt
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from alloop.models import Encoder

DATA = "../shared/data/amazon-in-products/amazon_in_products.parquet"
PRECISIONS = ("fp32", "bf16", "int8")


def empty_caches(encoder: Encoder) -> None:
    """Forget every text the encoder has tokenised or embedded (what a fresh Encoder would know)."""
    encoder._tokens.clear()
    encoder._row.clear()
    encoder._n = 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--titles", type=int, default=2000, help="pool titles per throughput run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budgets", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--subset", type=int, default=None, help="first N pool and test titles (smoke tests)")
    args = parser.parse_args()

    import torch
    from sklearn.metrics import f1_score

    from alloop.data import load_dataset
    from alloop.models import Encoder
    from alloop.models.frozen import fit_linear_head

    data = load_dataset(args.data)
    pool_texts, pool_labels = data.pool_texts[: args.subset], data.pool_labels[: args.subset]
    test_texts, test_labels = data.test_texts[: args.subset], data.test_labels[: args.subset]
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.platform()}, {platform.machine()}, "
        f"nproc {os.cpu_count()}, torch {torch.__version__} threads {torch.get_num_threads()}, "
        f"load avg {os.getloadavg()[0]:.2f} at start"
    )
    print(f"# {args.data}: pool {len(pool_texts)}, test {len(test_texts)}, max_length {args.max_length}")

    from alloop.models.precision import bf16_native

    precisions = PRECISIONS
    if not bf16_native("cpu"):
        print("# bf16: skipped, this CPU has neither AVX512-BF16 nor AMX (bfloat16 would be emulated)")
        precisions = tuple(p for p in PRECISIONS if p != "bf16")
    encoders = {p: Encoder(max_length=args.max_length, precision=p, cache_dir=None) for p in precisions}
    start = time.perf_counter()
    encoders["int8"].ort_session()  # no cache dir: exported and quantised into a temporary folder
    export_s = time.perf_counter() - start

    titles = pool_texts[: args.titles]
    for encoder in encoders.values():  # warm-up: first-call allocations and kernel choices
        encoder.embed(titles[:64])
    speeds: dict[str, list[float]] = {p: [] for p in precisions}
    for _ in range(args.repeats):
        for precision, encoder in encoders.items():
            empty_caches(encoder)
            start = time.perf_counter()
            encoder.embed(titles)
            speeds[precision].append(len(titles) / (time.perf_counter() - start))

    texts = pool_texts + test_texts
    vectors, embed_s = {}, {}
    for precision, encoder in encoders.items():
        empty_caches(encoder)
        start = time.perf_counter()
        vectors[precision] = encoder.embed(texts)
        embed_s[precision] = time.perf_counter() - start
    n_pool = len(pool_texts)
    draws = {
        (n, seed): np.random.default_rng(seed).choice(n_pool, size=n, replace=False)
        for n in args.budgets
        for seed in range(args.seeds)
    }
    f1: dict[tuple[str, int], list[float]] = {}
    for precision in precisions:
        pool, test = vectors[precision][:n_pool], vectors[precision][n_pool:]
        for (n, seed), rows in draws.items():
            head = fit_linear_head(pool[rows], pool_labels[rows], C=30.0, seed=seed)
            predicted = head.predict(test)
            f1.setdefault((precision, n), []).append(f1_score(test_labels, predicted, average="macro"))

    print(f"# int8 export + quantise (one-off, cached per model with a cache dir): {export_s:.1f} s")
    print(f"# throughput: median of {args.repeats} runs on {len(titles)} pool titles, batch 64, sorted")
    print(f"# test macro-F1: mean (sd) over seeds 0-{args.seeds - 1}, same label draws per precision")
    header = f"{'precision':<10}{'titles/s':>9}{'runs':>22}{'embed all s':>12}{'cos min':>8}{'cos mean':>9}"
    header += "".join(f"{f'F1@{n}':>16}" for n in args.budgets)
    print(header)
    for precision in precisions:
        cosine = (vectors[precision] * vectors["fp32"]).sum(axis=1)
        runs = "/".join(f"{s:.0f}" for s in speeds[precision])
        median = statistics.median(speeds[precision])
        line = f"{precision:<10}{median:>9.0f}{runs:>22}{embed_s[precision]:>12.1f}"
        line += f"{cosine.min():>8.4f}{cosine.mean():>9.4f}"
        for n in args.budgets:
            scores = f1[(precision, n)]
            delta = np.mean(scores) - np.mean(f1[("fp32", n)])
            if precision == "fp32":
                line += f"{np.mean(scores):>8.4f} ({np.std(scores):.3f})"
            else:
                line += f"{np.mean(scores):>8.4f} {delta:+.4f}"
        print(line)
    for (precision, n), scores in f1.items():
        listed = " ".join(f"{s:.4f}" for s in scores)
        print(f"# F1 per seed, {precision} @{n}: {listed} (sd {np.std(scores):.4f})")
    load = os.getloadavg()[0]
    print(f"# load avg {load:.2f} at end ({os.cpu_count()} cores; this benchmark alone keeps it near that)")


if __name__ == "__main__":
    main()
