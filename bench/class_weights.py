"""Class weights in the hybrid's head: none against "balanced", with labels drawn at random.

Scores are macro-F1 on a validation split carved from the pool (stratified 20%, seed 0), as in
``bench/hybrid_design.py``; the test split is not read. Features: the hybrid's own (pool n-grams
and MiniLM embeddings, weight 1), head C=100. Usage:

    python bench/class_weights.py [--budgets 300 700 1100] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from alloop.data import load_dataset
from alloop.models import Encoder
from alloop.models.hybrid import HYBRID_C, NgramFeatures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="../shared/data/amazon-in-products/amazon_in_products.parquet")
    parser.add_argument("--budgets", type=int, nargs="+", default=[300, 700, 1100])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    data = load_dataset(args.data)
    texts = list(data.pool_texts)
    labels = np.asarray(data.pool_labels)
    train, val = train_test_split(np.arange(len(texts)), test_size=0.2, stratify=labels, random_state=0)
    ngrams = NgramFeatures().fit(texts)
    x = sp.hstack([ngrams.transform(texts), sp.csr_matrix(Encoder().embed(texts))], format="csr")
    print(f"{data.summary()}; validation {len(val)}; macro-F1 mean ± sd over seeds {args.seeds}")
    for budget in args.budgets:
        for weight in (None, "balanced"):
            scores = []
            for seed in args.seeds:
                picked = np.random.default_rng(seed).choice(train, budget, replace=False)
                head = LogisticRegression(C=HYBRID_C, solver="newton-cg", max_iter=2000, class_weight=weight)
                head.fit(x[picked], labels[picked])
                scores.append(f1_score(labels[val], head.predict(x[val]), average="macro"))
            mean, sd = np.mean(scores), np.std(scores)
            print(f"  {budget:>5} labels, class_weight={weight!s:<8}: {mean:.3f} ± {sd:.3f}")


if __name__ == "__main__":
    main()
