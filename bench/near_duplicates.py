"""Labels saved by near-duplicate groups, on real repeated products (PriceRunner: offers with one
``cluster_id`` are one product sold by several merchants).

The labelling app offers, with each item, its unlabelled near-duplicates (cosine of the default
encoder's embeddings above a threshold, at most 50) and gives the answer's label to the ones the
annotator ticks. Simulated here, items handed out in a seeded random order until ``--target``
items carry a label:

- a **product** annotator ticks only the offered listings that are the same product (same
  ``cluster_id``), the strictest reading of "the same listing";
- a **category** annotator ticks the offered listings that belong in the same category (what
  the label is about): every label is right;
- a **hasty** annotator ticks every offered listing: labels come faster, some in the wrong
  category (counted against the gold category).

Printed per threshold and annotator: answers needed (one per handed-out item; without groups it
is ``--target``) and labels saved; then the share of offered listings that are the same product,
and the hasty annotator's label accuracy. Medians over ``--seeds`` orders.

    python bench/datasets/pricerunner.py RAW.csv ../data-ext/pricerunner.parquet
    python bench/near_duplicates.py --data ../data-ext/pricerunner.parquet
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import pandas as pd

from alloop.models import Encoder
from alloop.models.cache import default_cache_dir
from alloop.strategies.dedupe import GROUP_LIMIT


def simulate(
    unit: np.ndarray,
    cluster: np.ndarray,
    category: np.ndarray,
    threshold: float,
    target: int,
    seed: int,
    ticks: str,
) -> dict[str, float]:
    """One labelling session in a seeded order; ``ticks``: which offered listings get the label
    (``product``: same cluster_id, ``category``: same gold category, ``all``)."""
    n = len(unit)
    order = np.random.default_rng(seed).permutation(n)
    labelled = np.zeros(n, dtype=bool)
    answers = offered = same_product = given = wrong = 0
    for pos in order:
        if labelled[pos]:
            continue
        answers += 1
        labelled[pos] = True
        sims = unit @ unit[pos]
        sims[labelled] = -1
        group = np.flatnonzero(sims > threshold)
        group = group[np.argsort(-sims[group], kind="stable")][:GROUP_LIMIT]
        offered += len(group)
        same_product += int((cluster[group] == cluster[pos]).sum())
        if ticks == "product":
            group = group[cluster[group] == cluster[pos]]
        elif ticks == "category":
            group = group[category[group] == category[pos]]
        labelled[group] = True
        given += len(group)
        wrong += int((category[group] != category[pos]).sum())
        if labelled.sum() >= target:
            break
    return {
        "answers": answers,
        "saved": 1 - answers / int(labelled.sum()),
        "same_product": same_product / offered if offered else float("nan"),
        "accuracy": 1 - wrong / (answers + given),
        "offered": offered / answers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default="../data-ext/pricerunner.parquet")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.85, 0.9, 0.93, 0.95, 0.97])
    parser.add_argument("--target", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    frame = pd.read_parquet(args.data)
    encoder = Encoder(cache_dir=default_cache_dir())
    vectors = encoder.embed(frame["title"].tolist()).astype(np.float32)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cluster = frame["cluster_id"].to_numpy()
    category = frame["category"].to_numpy()
    repeated = int((frame["cluster_id"].value_counts() > 1).sum())
    print(
        f"{len(frame):,} offers of {frame['cluster_id'].nunique():,} products ({repeated:,} with 2+ offers); "
        f"label {args.target:,} items; medians over {args.seeds} random orders"
    )
    print(
        "threshold  offered/item  same product | answers, labels saved: product  category  all  "
        "(accuracy of all)"
    )
    for t in args.thresholds:
        row = {}
        for ticks in ("product", "category", "all"):
            runs = [simulate(unit, cluster, category, t, args.target, s, ticks) for s in range(args.seeds)]
            row[ticks] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        cells = "  ".join(
            f"{row[k]['answers']:5.0f} {row[k]['saved']:6.1%}" for k in ("product", "category", "all")
        )
        print(
            f"{t:9.2f}  {row['all']['offered']:12.2f}  {row['all']['same_product']:12.1%} | {cells}  "
            f"({row['all']['accuracy']:.1%})"
        )


if __name__ == "__main__":
    main()
