"""The label-name cold start over a category tree's leaves: how many leaves and how many top-level
categories the first 100 / 200 items cover, with no label yet, against k-means and random.

Leaf names are embedded as full paths ("PARENT > LEAF", template "{name} products") with the default
frozen encoder (on-disk cache); label-names then takes one item per leaf in turn, the top-level
branches alternating (``branch_turns``), or in plain sorted leaf order for comparison.
Pool only (amazon-in's stratified 80 % pool at seed 0).

    python bench/tree_cold_start.py --seeds 3
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from alloop.data.prepare import load_dataset
from alloop.loop.initial import (
    branch_turns,
    class_name_texts,
    cosine_similarity,
    kmeans_representatives,
    label_name_representatives,
)
from alloop.models.cache import default_cache_dir
from alloop.models.encoder import Encoder

DATA = str(
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "amazon-in-products"
    / "amazon_in_products.parquet"
)
SIZES = (20, 100, 200)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--label", nargs="+", default=["category", "sub_category"])
    parser.add_argument("--seeds", type=int, default=3, help="k-means and random seeds")
    args = parser.parse_args()
    data = load_dataset(args.data, label_column=args.label, seed=0)
    tree = data.tree
    labels = data.pool_labels
    top = tree.level_codes(1)[labels]
    encoder = Encoder(max_length=64, cache_dir=default_cache_dir())
    items = encoder.embed(data.pool_texts)
    similarity = cosine_similarity(items, encoder.embed(class_name_texts(tree.names)))
    n_top, n_leaves = len(np.unique(top)), len(np.unique(labels))
    print(f"pool {len(labels):,} items; {n_top} top-level categories, {n_leaves} leaves with items")
    print(f"{'method':<44}" + "".join(f"{'n=' + str(s) + ' leaves/top':>20}" for s in SIZES))

    def row(method: str, orders: list[np.ndarray] | None = None, per_size=None) -> None:  # type: ignore[no-untyped-def]
        cells = []
        for s in SIZES:
            picks = [o[:s] for o in orders] if orders is not None else per_size(s)
            leaves = np.mean([len(np.unique(labels[p])) for p in picks])
            tops = np.mean([len(np.unique(top[p])) for p in picks])
            cells.append(f"{leaves:.1f} / {tops:.1f}")
        print(f"{method:<44}" + "".join(f"{c:>20}" for c in cells), flush=True)

    k = max(SIZES)
    row(
        "label-names, branches take turns",
        [label_name_representatives(similarity, k, 0, first=branch_turns(tree))],
    )
    row("label-names, sorted leaf order", [label_name_representatives(similarity, k, 0)])
    row(
        f"kmeans (frozen embeddings), {args.seeds} seeds",
        per_size=lambda s: [kmeans_representatives(items, s, seed) for seed in range(args.seeds)],
    )
    row(
        f"random, {args.seeds} seeds",
        [np.random.default_rng(s).permutation(len(labels)) for s in range(args.seeds)],
    )


if __name__ == "__main__":
    main()
