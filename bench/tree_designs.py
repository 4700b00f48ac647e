"""Hierarchical classifier designs on a category tree (amazon-in: 19 categories -> 111 leaves).

For each classifier and label budget, the same random labelled sample trains:
  flat-top  a flat model on the 19 top-level categories only (what labelling the top level gives);
  leaf      one model on the leaves, a parent's probability the sum of its leaves' (the default);
  levels    a top-level model times the leaf model within the branch (``--tree-heads levels``).
Printed: leaf macro-F1, top-level macro-F1 (from summed probabilities), hierarchical F1 and fit
seconds, medians over --seeds samples.

    python bench/tree_designs.py --classifiers hybrid bert-frozen --labels 100 500 1000 2000 --seeds 2
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

import numpy as np

DATA = "../shared/data/amazon-in-products/amazon_in_products.parquet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--label", nargs="+", default=["category", "sub_category"])
    parser.add_argument("--classifiers", nargs="+", default=["hybrid", "bert-frozen"])
    parser.add_argument("--labels", nargs="+", type=int, default=[100, 500, 1000, 2000])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--out", default=None, help="also write the table to this file")
    args = parser.parse_args()

    from alloop.data import load_dataset
    from alloop.loop.hierarchy import hierarchical_prf, level_predictions, macro_f1
    from alloop.models import ModelConfig, classifier_factory
    from alloop.models.base import with_pool

    data = load_dataset(args.data, label_column=args.label)
    tree = data.tree
    codes = tree.level_codes(1)
    top_true = codes[data.test_labels]
    lines = [
        f"data {args.data}: {len(data.pool_texts)} pool, {len(data.test_texts)} test, "
        f"{len(tree.level_nodes(1))} top-level -> {len(tree.leaves)} leaves; seeds {args.seeds}",
        f"{'classifier':<12}{'design':<10}{'labels':>7}{'leaf F1':>9}{'top F1':>9}{'hier F1':>9}{'fit s':>8}",
    ]
    print(*lines, sep="\n", flush=True)
    for name in args.classifiers:
        makers = {
            "flat-top": classifier_factory(ModelConfig(classifier=name), len(tree.level_nodes(1))),
            "leaf": classifier_factory(ModelConfig(classifier=name), len(tree.leaves), tree),
            "levels": classifier_factory(
                ModelConfig(classifier=name, tree_heads="levels"), len(tree.leaves), tree
            ),
        }
        for n in args.labels:
            results: dict[str, list[tuple[float, float, float, float]]] = defaultdict(list)
            for seed in range(args.seeds):
                sample = np.random.default_rng(seed).choice(len(data.pool_texts), n, replace=False)
                texts = [data.pool_texts[i] for i in sample]
                for design, make in makers.items():
                    model = with_pool(make(seed), data.pool_texts)
                    labels = (
                        codes[data.pool_labels[sample]] if design == "flat-top" else data.pool_labels[sample]
                    )
                    start = time.perf_counter()
                    model.fit(texts, labels)
                    fit = time.perf_counter() - start
                    proba = model.predict_proba(data.test_texts)
                    if design == "flat-top":
                        results[design].append((np.nan, macro_f1(top_true, proba.argmax(1)), np.nan, fit))
                        continue
                    leaf = proba.argmax(1)
                    results[design].append(
                        (
                            macro_f1(data.test_labels, leaf),
                            macro_f1(top_true, level_predictions(tree, proba, 1)),
                            hierarchical_prf(tree, data.test_labels, leaf)[2],
                            fit,
                        )
                    )
            for design, rows in results.items():
                med = [statistics.median(col) for col in zip(*rows, strict=True)]
                line = (
                    f"{name:<12}{design:<10}{n:>7}"
                    + "".join(f"{'-':>9}" if np.isnan(v) else f"{v:>9.3f}" for v in med[:3])
                    + f"{med[3]:>8.2f}"
                )
                lines.append(line)
                print(line, flush=True)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
