"""How much should label spreading over the pool's neighbour graph weigh in the hybrid? Prints
the validation AULC of random and margin for each setting.

Every choice is made on a validation split carved from the pool (stratified 20%, seed 0); the test
split is never read. Each seed starts from the same stratified 100 labels for every setting, then
runs the engine (``ActiveLearner``) for 20 cycles of 50. Usage:

    python bench/graph_design.py [--data PATH] [--seeds 0 1 2] [--cycles 20] [--sklearn]
    python bench/graph_design.py --outside --seeds 0 1 --cycles 10   # texts outside the pool: exact vs index
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import normalize
from sklearn.semi_supervised import LabelSpreading
from validation import pool_split

from alloop.data import load_dataset
from alloop.loop.engine import ActiveLearner
from alloop.loop.oracle import SimulatedOracle
from alloop.loop.stopping import MaxCycles
from alloop.models import Encoder, ModelConfig
from alloop.models.graph import Embed, NeighbourIndex, PoolGraph
from alloop.models.hybrid import HybridClassifier, NgramFeatures
from alloop.strategies import get_strategy

SETTINGS = [  # (graph weight, alpha, neighbours)
    (0.0, 0.9, 10),
    (0.3, 0.9, 10),
    (0.5, 0.9, 10),
    (0.7, 0.9, 10),
    (0.5, 0.5, 10),
    (0.5, 0.99, 10),
    (0.5, 0.9, 5),
    (0.5, 0.9, 20),
]


class KeptIndexGraph(PoolGraph):
    """The HNSW graph, with texts outside the pool placed by an HNSW index kept beside it (what
    ``PoolGraph`` did before it dropped its index after the build to save memory)."""

    def fit(self, texts: Sequence[str], embed: Embed) -> KeptIndexGraph:
        super().fit(texts, embed)
        vectors = normalize(np.asarray(embed(self._texts), dtype=np.float32))
        self._kept = NeighbourIndex(len(vectors), vectors.shape[1], self.exact_max)
        self._kept.add(0, vectors)
        return self

    def _nearest(self, texts: list[str], embed: Embed) -> tuple[np.ndarray, np.ndarray]:
        vectors = normalize(np.asarray(embed(texts), dtype=np.float32))
        neighbour, similarity = self._kept.search(vectors, min(self.n_neighbours, self._kept.n))
        return np.clip(similarity.astype(np.float64), 0.0, None), neighbour


class SklearnGraph(PoolGraph):
    """The same nodes, spread by scikit-learn's ``LabelSpreading`` (unweighted kNN graph, no
    balance between classes): the library's recipe, for comparison."""

    def fit(self, texts: Sequence[str], embed: Embed) -> SklearnGraph:
        super().fit(texts, embed)
        self._vectors = np.asarray(embed(list(self._row)), dtype=np.float32)
        return self

    def spread(self, texts: Sequence[str], labels: np.ndarray, n_classes: int) -> np.ndarray:
        nodes = self.rows(texts)
        target = np.full(len(self._row), -1)
        target[nodes[nodes >= 0]] = np.asarray(labels)[nodes >= 0]
        model = LabelSpreading(kernel="knn", n_neighbors=self.n_neighbours, alpha=self.alpha, max_iter=30)
        model.fit(self._vectors, target)
        share = np.zeros((len(target), n_classes))
        share[:, model.classes_[model.classes_ >= 0]] = model.label_distributions_
        return share


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="../shared/data/amazon-in-products/amazon_in_products.parquet")
    parser.add_argument("--text", nargs="+", default=["title"])
    parser.add_argument("--label", default="category")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--sklearn", action="store_true", help="also scikit-learn's LabelSpreading")
    parser.add_argument(
        "--ann", action="store_true", help="only: head alone, exact graph, approximate (HNSW) graph"
    )
    parser.add_argument(
        "--outside",
        action="store_true",
        help="only the HNSW graph, texts outside the pool placed by exact search (now) or by a kept index",
    )
    args = parser.parse_args()

    data = load_dataset(args.data, text_columns=args.text, label_column=args.label)
    texts, labels, train, val = pool_split(data)
    print(f"{data.summary()}\nvalidation split of the pool: {len(train)} to label from, {len(val)} to score")
    encoder = Encoder()
    encoder.embed(list(texts))
    pool, pool_labels = list(texts[train]), labels[train]
    ngrams = NgramFeatures().fit(pool)
    settings: list[tuple[str, float, PoolGraph]] = [
        (f"weight {w:g}, alpha {a:g}, {k} neighbours", w, PoolGraph(k, a)) for w, a, k in SETTINGS
    ]
    if args.ann:
        weight = ModelConfig().graph_weight
        settings = [
            (f"weight {weight:g}, exact neighbours", weight, PoolGraph(exact_max=len(pool))),
            (f"weight {weight:g}, approximate (HNSW) neighbours", weight, PoolGraph(exact_max=0)),
        ]
    if args.outside:
        weight = ModelConfig().graph_weight
        settings = [
            (f"weight {weight:g}, HNSW graph, outside: exact search", weight, PoolGraph(exact_max=0)),
            (f"weight {weight:g}, HNSW graph, outside: kept HNSW index", weight, KeptIndexGraph(exact_max=0)),
        ]
    if args.sklearn:
        settings.append(("weight 0.5, scikit-learn LabelSpreading (alpha 0.2)", 0.5, SklearnGraph(10, 0.2)))
        settings.append(("weight 0.5, scikit-learn LabelSpreading (alpha 0.9)", 0.5, SklearnGraph(10, 0.9)))
    print(f"\nvalidation AULC (100 -> {100 + 50 * args.cycles} labels), mean ± sd over seeds {args.seeds}")
    print(f"{'setting':<54} | {'random':>13} | {'margin':>13} | gap   | median s per cycle")
    for name, weight, graph in settings:
        cells, aulcs, seconds = [], {}, []
        for strategy in ("random", "margin"):
            runs = []
            for seed in args.seeds:
                initial, _ = train_test_split(
                    np.arange(len(pool)), train_size=100, stratify=pool_labels, random_state=seed
                )
                model = HybridClassifier(
                    encoder, data.n_classes, seed=seed, features=ngrams, graph_weight=weight, graph=graph
                )
                learner = ActiveLearner(
                    model,
                    get_strategy(strategy),
                    pool,
                    oracle=SimulatedOracle(list(range(len(pool))), pool_labels),
                    test_texts=list(texts[val]),
                    test_labels=labels[val],
                    query_size=50,
                    stopping=[MaxCycles(args.cycles)],
                    seed=seed,
                )
                curve = []
                for result in learner.run(initial):
                    curve.append(result.scores.macro_f1)
                    seconds.append(result.seconds)
                runs.append(np.trapezoid(curve) / (len(curve) - 1))
            aulcs[strategy] = np.mean(runs)
            cells.append(f"{np.mean(runs):.3f} ± {np.std(runs):.3f}")
        gap = aulcs["margin"] - aulcs["random"]
        print(f"{name:<54} | {' | '.join(cells)} | {gap:+.3f} | {np.median(seconds):.2f}", flush=True)


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"\n{time.perf_counter() - t0:.0f} s")
