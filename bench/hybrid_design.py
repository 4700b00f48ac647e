"""How should the hybrid classifier weigh its blocks and regularise? Prints validation macro-F1.

Every choice is made on a validation split carved from the pool (stratified 20%, seed 0); the test
split is never read. Labels are drawn at random from the rest of the pool (the same draws for
every variant of a seed), so the comparison isolates the features and the head. Usage:

    python bench/hybrid_design.py [--data PATH] [--budgets 100 500 1100 2000] [--seeds 0 1 2]
        [--weights 0.5 1 2] [--Cs 10 30 100] [--model DIR]
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
from sklearn.metrics import f1_score
from validation import pool_split

from alloop.data import load_dataset
from alloop.models import Encoder, FrozenEncoderClassifier, TfidfClassifier
from alloop.models.hybrid import HybridClassifier, NgramFeatures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="../shared/data/amazon-in-products/amazon_in_products.parquet")
    parser.add_argument("--text", nargs="+", default=["title"])
    parser.add_argument("--label", default="category")
    parser.add_argument("--budgets", type=int, nargs="+", default=[100, 500, 1100, 2000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--Cs", type=float, nargs="+", default=[10.0, 30.0, 100.0])
    parser.add_argument("--model", default=None)
    args = parser.parse_args()

    data = load_dataset(args.data, text_columns=args.text, label_column=args.label)
    texts, labels, train, val = pool_split(data)
    print(f"{data.summary()}\nvalidation split of the pool: {len(train)} to label from, {len(val)} to score")
    encoder = Encoder(args.model)
    t0 = time.perf_counter()
    encoder.embed(list(texts))
    print(f"embedded {len(texts)} pool texts in {time.perf_counter() - t0:.1f} s ({encoder.name})")
    pool = list(texts[train])  # the unlabelled corpus the n-gram vocabulary is learnt from
    ngram_sets = {char: NgramFeatures(char_ngrams=char).fit(pool) for char in (False, True)}

    variants: dict[str, object] = {
        "tfidf (word 1-2, fit on labels)": lambda s: TfidfClassifier(data.n_classes, seed=s),
        "bert-frozen": lambda s: FrozenEncoderClassifier(encoder, data.n_classes, seed=s),
    }
    for char, w, c in itertools.product((False, True), args.weights, args.Cs):
        name = f"hybrid {'word+char' if char else 'word'} w={w:g} C={c:g}"
        variants[name] = lambda s, char=char, w=w, c=c: HybridClassifier(
            encoder, data.n_classes, seed=s, C=c, embedding_weight=w, features=ngram_sets[char]
        )
    for char in (False, True):
        name = f"ngrams only {'word+char' if char else 'word'} C=30"
        variants[name] = lambda s, char=char: HybridClassifier(
            encoder, data.n_classes, seed=s, C=30.0, embedding_weight=0.0, features=ngram_sets[char]
        )

    header = " | ".join(f"{b:>13}" for b in args.budgets)
    print(f"\nvalidation macro-F1, mean ± sd over seeds {args.seeds} (fit seconds at the largest budget)")
    print(f"{'variant':<36} | {header} | fit s")
    for name, make in variants.items():
        cells, fit_s = [], 0.0
        for budget in args.budgets:
            scores = []
            for seed in args.seeds:
                picked = np.random.default_rng(seed).choice(train, budget, replace=False)
                t = time.perf_counter()
                model = make(seed).fit(list(texts[picked]), labels[picked])
                fit_s = time.perf_counter() - t
                predicted = model.predict_proba(list(texts[val])).argmax(axis=1)
                scores.append(f1_score(labels[val], predicted, average="macro"))
            cells.append(f"{np.mean(scores):.3f} ± {np.std(scores):.3f}")
        print(f"{name:<36} | {' | '.join(cells)} | {fit_s:.2f}", flush=True)


if __name__ == "__main__":
    main()
