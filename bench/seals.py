"""Candidates near the labelled items (``--near-labelled-subsample``, SEALS) against scoring the
whole pool and against ``--pool-subsample``: AULC on amazon-in and seconds spent scoring per cycle.

Each seed starts every setting from the same stratified 100 labels, then runs the engine
(``ActiveLearner``, hybrid classifier with its graph) for 20 cycles of 50, evaluated on the test
split, as ``alloop run`` does. AULC = mean macro-F1 over the cycles (trapezoid).

    python bench/seals.py [--seeds 0 1 2] [--strategies margin] [--cycles 20]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.model_selection import train_test_split

from alloop.data import load_dataset
from alloop.loop.engine import ActiveLearner
from alloop.loop.oracle import SimulatedOracle
from alloop.loop.stopping import MaxCycles
from alloop.models import ModelConfig, classifier_factory
from alloop.models.base import with_pool
from alloop.strategies import get_strategy

SETTINGS = {  # name: (pool_subsample, near_labelled_subsample)
    "whole pool": (None, None),
    "near labelled + 0 random": (None, 0),
    "near labelled + 500 random": (None, 500),
    "pool subsample 1000 (random)": (1000, None),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="../shared/data/amazon-in-products/amazon_in_products.parquet")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--strategies", nargs="+", default=["margin"])
    parser.add_argument("--cycles", type=int, default=20)
    args = parser.parse_args()
    data = load_dataset(args.data, text_columns=["title"], label_column="category")
    print(data.summary())
    make = classifier_factory(ModelConfig(), data.n_classes)
    with_pool(make(0), data.pool_texts)  # embeddings, n-grams and graph once, shared by all runs
    print(
        f"AULC on the test split (100 -> {100 + 50 * args.cycles} labels), mean ± sd over seeds {args.seeds}"
    )
    print(f"{'strategy':<8} | {'candidates':<30} | {'AULC':>13} | scored per query | score s per cycle")
    for strategy in args.strategies:
        for name, (subsample, near) in SETTINGS.items():
            aulcs, scored, seconds = [], [], []
            for seed in args.seeds:
                initial, _ = train_test_split(
                    np.arange(len(data.pool_texts)),
                    train_size=100,
                    stratify=data.pool_labels,
                    random_state=seed,
                )
                learner = ActiveLearner(
                    make(seed),
                    get_strategy(strategy),
                    data.pool_texts,
                    oracle=SimulatedOracle(list(range(len(data.pool_texts))), data.pool_labels),
                    test_texts=data.test_texts,
                    test_labels=data.test_labels,
                    query_size=50,
                    stopping=[MaxCycles(args.cycles)],
                    seed=seed,
                    pool_subsample=subsample,
                    near_labelled_subsample=near,
                )
                curve = []
                for result in learner.run(initial):
                    curve.append(result.scores.macro_f1)
                    if learner.last_query is not None and not result.stop_reason:
                        scored.append(len(learner.last_query.scored))
                        seconds.append(result.score_seconds + result.query_seconds)
                aulcs.append(np.trapezoid(curve) / (len(curve) - 1))
            print(
                f"{strategy:<8} | {name:<30} | {np.mean(aulcs):.3f} ± {np.std(aulcs):.3f} | "
                f"{np.median(scored):>16,.0f} | {np.median(seconds):.3f}",
                flush=True,
            )


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"\n{time.perf_counter() - t0:.0f} s")
