"""Does the hybrid's own head solver learn as well as scikit-learn's? Active-learning curves of both
on the validation split (bench/validation.py: 80% of the pool to label from, 20% to score), same
strategies, seeds and batches, so any gap is the solver's.

Both minimise the same objective to the same tolerance (max |gradient| <= 1e-4), so they stop at
slightly different points; the question is whether that moves macro-F1 beyond seed noise.

    PYTHONPATH=src:bench python bench/head_quality.py              # 19 and 111 classes, 2 seeds
    PYTHONPATH=src:bench python bench/head_quality.py --labels sub_category --seeds 3 --end 2000
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from datetime import UTC, datetime

import numpy as np
from cycle_by_classes import DATA, SklearnHead
from sklearn.metrics import f1_score
from validation import pool_split

from alloop.data import load_dataset
from alloop.models import ModelConfig, classifier_factory
from alloop.models.base import with_pool


def curve(model, texts, labels, train, val, strategy, seed, start, end, step) -> tuple[list[float], float]:
    """Macro-F1 on ``val`` after each batch, and the total fit seconds."""
    rng = np.random.default_rng(seed)
    labelled = list(rng.choice(train, start, replace=False))
    scores, fit_s = [], 0.0
    while True:
        t = time.perf_counter()
        model.fit(list(texts[labelled]), labels[labelled])
        fit_s += time.perf_counter() - t
        scores.append(f1_score(labels[val], model.predict_proba(list(texts[val])).argmax(1), average="macro"))
        if len(labelled) >= end:
            return scores, fit_s
        rest = np.setdiff1d(train, labelled)
        if strategy == "random":
            picked = rng.choice(rest, step, replace=False)
        else:  # margin: the smallest gap between the two most likely classes
            proba = model.predict_proba(list(texts[rest]))
            top = np.sort(proba, axis=1)[:, -2:]
            picked = rest[np.argsort(top[:, 1] - top[:, 0], kind="stable")[:step]]
        labelled += list(picked)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--labels", nargs="+", default=["category", "sub_category"])
    parser.add_argument("--strategies", nargs="+", default=["random", "margin"])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--solvers", nargs="+", default=["before", "after"], choices=["before", "after"])
    parser.add_argument("--start", type=int, default=100)
    parser.add_argument("--end", type=int, default=1100)
    parser.add_argument("--step", type=int, default=100)
    args = parser.parse_args()
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}; hybrid, validation split, "
        f"{args.start} -> {args.end} labels in batches of {args.step}, "
        f"seeds {args.first_seed}..{args.first_seed + args.seeds - 1}"
    )
    print(f"{'classes':>7} {'strategy':>8} {'solver':>7} {'AULC':>6} {'final F1':>8} {'fit s total':>11}")
    for column in args.labels:
        data = load_dataset(args.data, label_column=column)
        texts, labels, train, val = pool_split(data)
        after = with_pool(
            classifier_factory(ModelConfig(classifier="hybrid"), data.n_classes)(0), list(texts[train])
        )
        before = SklearnHead(after.encoder, data.n_classes, features=after.features, graph=after.graph)
        for strategy in args.strategies:
            for name, model in ((s, {"before": before, "after": after}[s]) for s in args.solvers):
                runs = [
                    curve(model, texts, labels, train, val, strategy, s, args.start, args.end, args.step)
                    for s in range(args.first_seed, args.first_seed + args.seeds)
                ]
                aulc = statistics.mean(float(np.mean(r[0])) for r in runs)
                final = statistics.mean(r[0][-1] for r in runs)
                fit_s = statistics.mean(r[1] for r in runs)
                print(
                    f"{data.n_classes:>7} {strategy:>8} {name:>7} {aulc:>6.4f} {final:>8.4f} {fit_s:>11.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
