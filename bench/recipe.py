"""Which fine-tuning recipe should `bert` use by default? Prints macro-F1 per recipe and budget.

Labels are drawn at random from the pool; recipes are compared on a validation split carved from
the pool (defaults are chosen there) and on the test split (reported). Usage:

    python bench/recipe.py [--data PATH] [--budgets 100 500 2000] [--seeds 0 1 2] [--model DIR]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.metrics import f1_score

from alloop.data import load_dataset
from alloop.models import Encoder, FineTunedClassifier, FrozenEncoderClassifier

RECIPES = {
    "frozen+LR": {},
    "LP-FT lr5e-5 head1e-3": {"lr": 5e-5, "head_lr": 1e-3},
    "FT no-probe lr5e-5 head1e-3": {"lr": 5e-5, "head_lr": 1e-3, "linear_probe": False},
    "LP-FT lr1e-4 head1e-3 (default)": {"lr": 1e-4, "head_lr": 1e-3},
    "LP-FT lr5e-5 head1e-4": {"lr": 5e-5, "head_lr": 1e-4},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="../shared/data/amazon-in-products/amazon_in_products.parquet")
    parser.add_argument("--budgets", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES))
    args = parser.parse_args()
    data = load_dataset(args.data)
    encoder = Encoder(args.model)
    print(f"device {encoder.device}; {data.summary()}")
    texts = np.array(data.pool_texts, dtype=object)
    for seed in args.seeds:
        perm = np.random.default_rng(seed).permutation(len(texts))
        val, train = perm[:1500], perm[1500:]
        for n in args.budgets:
            idx = train[:n]
            for name in args.recipes:
                params = RECIPES[name]
                start = time.perf_counter()
                if params:
                    clf = FineTunedClassifier(encoder, data.n_classes, seed=seed, **params)
                else:
                    clf = FrozenEncoderClassifier(encoder, data.n_classes, seed=seed)
                clf.fit(list(texts[idx]), data.pool_labels[idx])
                fit_s = time.perf_counter() - start
                f1v = f1_score(
                    data.pool_labels[val], clf.predict_proba(list(texts[val])).argmax(1), average="macro"
                )
                f1t = f1_score(
                    data.test_labels, clf.predict_proba(data.test_texts).argmax(1), average="macro"
                )
                print(
                    f"seed {seed} n {n:5d} {name:34s} val {f1v:.3f} test {f1t:.3f} fit {fit_s:6.1f}s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
