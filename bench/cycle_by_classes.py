"""The hybrid's cycle time by number of classes, before and after its own head solver, side by side.

One cycle = fit on the labelled texts (label spreading + linear head), score the rest of the pool,
score the test split, as in bench/cycle.py. "before" is the head as it was: scikit-learn's
``LogisticRegression(newton-cg)`` on the stacked ``[n-grams | embedding]`` matrix; "after" is
``alloop.models.head.fit_head`` (the same objective). Both run in this one process, alternating,
so the machine's load hits them alike. Medians of --repeats fits.

Classes: amazon-in's 19 ``category`` values, its 111 ``sub_category`` leaves, and 1,000+ leaves
made by splitting each sub-category into up to 10 (k-means on the title embeddings inside the leaf,
seed 0; a leaf of n titles gets min(10, n // 8) parts), a stand-in for a deeper catalogue tree.

    python bench/cycle_by_classes.py                                  # 19, 111, 1000+; 500/1100/2000 labels
    python bench/cycle_by_classes.py --levels 111 --labels 1100 --repeats 5
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression

from alloop.data import TextDataset, load_dataset
from alloop.models import HybridClassifier, ModelConfig, classifier_factory
from alloop.models.base import check_fit_input, with_pool
from alloop.models.head import LinearHead

DATA = "../shared/data/amazon-in-products/amazon_in_products.parquet"


class SklearnHead(HybridClassifier):
    """The hybrid with its head fitted as before: scikit-learn on the stacked features."""

    def fit(self, texts: Sequence[str], labels: np.ndarray) -> SklearnHead:
        labels = check_fit_input(texts, labels, self.n_classes)
        self._seen, self._share = np.unique(labels), None
        if len(self._seen) < 2:
            self._head = None
            return self
        if self.graph_weight > 0 and self.graph.fitted:
            self._share = self.graph.spread(texts, labels, self.n_classes)
        ngrams, dense = self._blocks(texts)
        x = sp.hstack([ngrams, sp.csr_matrix(dense)], format="csr")
        model = LogisticRegression(C=self.C, solver="newton-cg", max_iter=2000, class_weight="balanced")
        model.fit(x, labels)
        coef, intercept, width = model.coef_, model.intercept_, ngrams.shape[1]
        if len(coef) == 1:  # binary: scores [0, z]
            coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.array([0.0, intercept[0]])
        blocks = (coef[:, :width].T, coef[:, width:].T)
        self._head = LinearHead(model.classes_, np.arange(width), *blocks, intercept, int(model.n_iter_[0]))
        return self


def split_leaves(data: TextDataset, embed, parts: int = 10, per_part: int = 8) -> TextDataset:
    """Each class cut into up to ``parts`` classes by k-means on its titles' embeddings."""
    texts = data.pool_texts + data.test_texts
    labels = np.concatenate([data.pool_labels, data.test_labels])
    vectors = embed(texts)
    fine = np.zeros(len(texts), dtype=np.int64)
    classes: list[str] = []
    for c in range(data.n_classes):
        members = np.flatnonzero(labels == c)
        k = int(min(parts, max(1, len(members) // per_part)))
        cut = (
            KMeans(n_clusters=k, n_init=1, random_state=0).fit_predict(vectors[members])
            if k > 1
            else np.zeros(len(members), dtype=np.int64)
        )
        fine[members] = len(classes) + cut
        classes += [f"{data.classes[c]} > part {i + 1}" for i in range(k)]
    n = len(data.pool_texts)
    return TextDataset(data.pool_texts, fine[:n], data.pool_ids, data.test_texts, fine[n:], classes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--levels", nargs="+", default=["19", "111", "1000+"], choices=["19", "111", "1000+"])
    parser.add_argument("--labels", type=int, nargs="+", default=[500, 1100, 2000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--solvers", nargs="+", default=["before", "after"], choices=["before", "after"])
    args = parser.parse_args()
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"python {platform.python_version()}; "
        f"hybrid (graph weight {ModelConfig.graph_weight}), medians of {args.repeats}"
    )
    print(
        f"{'classes':>7} {'labels':>6} {'solver':>7} {'cycle s':>8} {'fit s':>7} {'score+eval s':>12} "
        f"{'iters':>5}"
    )
    config = ModelConfig(classifier="hybrid")
    datasets = {}
    for level in args.levels:
        column = "category" if level == "19" else "sub_category"
        data = load_dataset(args.data, label_column=column)
        if level == "1000+":
            data = split_leaves(data, classifier_factory(config, data.n_classes)(0).embed)
        datasets[level] = data
    for data in datasets.values():
        after = with_pool(classifier_factory(config, data.n_classes)(0), data.pool_texts)
        before = SklearnHead(after.encoder, data.n_classes, features=after.features, graph=after.graph)
        models = {"before": before, "after": after}
        for n in args.labels:
            labelled = np.random.default_rng(n).choice(len(data.pool_texts), n, replace=False)
            rest = np.setdiff1d(np.arange(len(data.pool_texts)), labelled)
            texts = [data.pool_texts[i] for i in labelled]
            pool = [data.pool_texts[i] for i in rest]
            times: dict[str, dict[str, list[float]]] = {
                s: {"fit": [], "rest": [], "it": []} for s in args.solvers
            }
            for _ in range(args.repeats):
                for solver in args.solvers:
                    model = models[solver]
                    t0 = time.perf_counter()
                    model.fit(texts, data.pool_labels[labelled])
                    t1 = time.perf_counter()
                    model.predict_proba(pool)
                    model.predict_proba(data.test_texts)
                    t2 = time.perf_counter()
                    times[solver]["fit"].append(t1 - t0)
                    times[solver]["rest"].append(t2 - t1)
                    times[solver]["it"].append(model._head.n_iter)
            for solver in args.solvers:
                fit = statistics.median(times[solver]["fit"])
                rest_s = statistics.median(times[solver]["rest"])
                iters = int(statistics.median(times[solver]["it"]))
                print(
                    f"{data.n_classes:>7} {n:>6} {solver:>7} {fit + rest_s:>8.2f} {fit:>7.2f} "
                    f"{rest_s:>12.2f} {iters:>5}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
