"""Few-shot fine-tuning measured: SetFit against `bert` (LP-FT) and `hybrid` at the same budgets.

SetFit (Tunstall et al. 2022; PyPI ``setfit``, in the ``bench`` extra) fine-tunes the sentence
encoder contrastively on pairs of labelled texts, then fits a logistic-regression head. It is the
reference recipe for classification from few labels. Labels are drawn at random from the pool;
scores are macro-F1 on a validation split carved from the pool (stratified 20%, seed 0), as in
``bench/hybrid_design.py``; the test split is not read. Seconds are one fit (wall clock). Usage:

    python bench/setfit_compare.py [--budgets 100] [--seeds 0 1 2] [--iterations 20]
        [--methods hybrid hybrid-head bert setfit]

``hybrid`` is the default classifier, with label spreading over the neighbour graph of the pool
the labels are drawn from; ``hybrid-head`` is its linear head alone (``--graph-weight 0``).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time

import numpy as np
from sklearn.metrics import f1_score
from validation import pool_split

from alloop.data import load_dataset
from alloop.models import Encoder, FineTunedClassifier
from alloop.models.graph import PoolGraph
from alloop.models.hybrid import HybridClassifier, NgramFeatures


def setfit_predict(
    model_path: str, texts: list[str], labels: np.ndarray, queries: list[str], seed: int, iterations: int
) -> np.ndarray:
    """Train SetFit on (texts, labels) and predict ``queries``."""
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    model = SetFitModel.from_pretrained(model_path)
    scratch = tempfile.mkdtemp(prefix="alloop-setfit-")  # its checkpoints, not in the working tree
    args = TrainingArguments(
        output_dir=scratch,
        save_strategy="no",
        batch_size=16,
        num_epochs=1,
        num_iterations=iterations,
        seed=seed,
        report_to="none",
        show_progress_bar=False,
    )
    train = Dataset.from_dict({"text": texts, "label": labels.tolist()})
    trainer = Trainer(model=model, args=args, train_dataset=train)
    try:
        trainer.train()
        return np.asarray(model.predict(queries))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="../shared/data/amazon-in-products/amazon_in_products.parquet")
    parser.add_argument("--budgets", type=int, nargs="+", default=[100])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--iterations", type=int, default=20, help="SetFit pairs per labelled text")
    parser.add_argument("--methods", nargs="+", default=["hybrid", "bert", "setfit"])
    args = parser.parse_args()
    data = load_dataset(args.data)
    texts, labels, train, val = pool_split(data)
    encoder = Encoder()
    encoder.embed(list(texts))
    ngrams = NgramFeatures().fit(list(texts[train]))
    graph = PoolGraph().fit(list(texts[train]), encoder.embed)
    queries = list(texts[val])
    print(f"{data.summary()}; validation {len(val)}; model {encoder.name}")
    print(f"{'method':<8} {'labels':>6} {'seed':>4} {'val macro-F1':>12} {'fit s':>8}", flush=True)
    results: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for budget in args.budgets:
        for seed in args.seeds:
            picked = np.random.default_rng(seed).choice(train, budget, replace=False)
            x, y = list(texts[picked]), labels[picked]
            for method in args.methods:
                start = time.perf_counter()
                if method == "setfit":
                    predicted = setfit_predict(encoder.name, x, y, queries, seed, args.iterations)
                else:
                    model = (
                        HybridClassifier(
                            encoder,
                            data.n_classes,
                            seed=seed,
                            features=ngrams,
                            graph=graph,
                            graph_weight=0.0 if method == "hybrid-head" else 0.5,
                        )
                        if method.startswith("hybrid")
                        else FineTunedClassifier(encoder, data.n_classes, seed=seed)
                    )
                    model.fit(x, y)
                    predicted = model.predict_proba(queries).argmax(axis=1)
                seconds = time.perf_counter() - start
                f1 = f1_score(labels[val], predicted, average="macro")
                results.setdefault((method, budget), []).append((f1, seconds))
                print(f"{method:<8} {budget:>6} {seed:>4} {f1:>12.4f} {seconds:>8.1f}", flush=True)
    print("\nmean ± sd over seeds")
    for (method, budget), rows in results.items():
        f1s, secs = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
        print(f"{method:<8} {budget:>6} F1 {f1s.mean():.3f} ± {f1s.std():.3f}  fit {np.median(secs):.1f} s")


if __name__ == "__main__":
    main()
