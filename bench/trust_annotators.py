"""Several simulated annotators of known noise rates label the same items; cleanlab's
multi-annotator functions (CROWDLAB) estimate each annotator's quality from their labels and the
model's out-of-fold probabilities. Prints, per annotator, the injected noise rate, their measured
accuracy against the true labels, cleanlab's quality estimate and their agreement with the
consensus; and the consensus label's accuracy (majority vote vs cleanlab's).

    python bench/trust_annotators.py --seeds 3      # amazon-in, 1,100 items, 3 of 5 annotators each
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import warnings
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from scipy import stats

from alloop import ModelConfig, classifier_factory, load_dataset
from alloop.loop.autolabel import out_of_fold
from alloop.loop.oracle import NoisyOracle, SimulatedOracle

DATA = "../shared/data/amazon-in-products/amazon_in_products.parquet"


def majority(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each row's most frequent label (NaN = not labelled), ties broken at random."""
    out = np.empty(len(labels), dtype=np.int64)
    for i, row in enumerate(labels):
        values, counts = np.unique(row[~np.isnan(row)].astype(int), return_counts=True)
        out[i] = rng.choice(values[counts == counts.max()])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--items", type=int, default=1100)
    parser.add_argument("--rates", default="0.02,0.05,0.1,0.2,0.3")
    parser.add_argument("--per-item", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{args.items} items, {args.per_item} of {len(rates)} annotators each, hybrid out-of-fold "
        "probabilities on the majority vote"
    )
    from cleanlab.multiannotator import get_label_quality_multiannotator

    data = load_dataset(args.data, text_columns=["title"], label_column="category", seed=0)
    make = classifier_factory(ModelConfig(), data.n_classes)
    make(0).precompute(data.pool_texts)
    rows = []
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        chosen = rng.choice(len(data.pool_texts), args.items, replace=False)
        ids = list(data.pool_ids[chosen])
        truth = data.pool_labels[chosen]
        labels = np.full((args.items, len(rates)), np.nan)
        for i in range(args.items):
            for a in rng.choice(len(rates), args.per_item, replace=False):
                labels[i, a] = -1  # to be answered below
        for a, rate in enumerate(rates):
            asked = np.flatnonzero(labels[:, a] == -1)
            base = SimulatedOracle(data.pool_ids, data.pool_labels)
            noisy = NoisyOracle(base, data.n_classes, rate, seed * 100 + a) if rate else base
            labels[asked, a] = noisy.label([ids[i] for i in asked])
        vote = majority(labels, rng)
        texts = [data.pool_texts[i] for i in chosen]
        build = functools.partial(make, seed)
        proba = out_of_fold(build, texts, vote, data.n_classes, seed, pool_texts=data.pool_texts)
        proba = np.clip(proba, 1e-6, None)
        proba /= proba.sum(axis=1, keepdims=True)
        present = np.unique(np.concatenate([vote, labels[~np.isnan(labels)].astype(int)]))
        given = ~np.isnan(labels)
        recoded = np.full(labels.shape, np.nan)
        recoded[given] = np.searchsorted(present, labels[given].astype(int))
        sub = proba[:, present] / proba[:, present].sum(axis=1, keepdims=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = get_label_quality_multiannotator(
                pd.DataFrame(recoded, columns=[f"a{a}" for a in range(len(rates))]), sub, verbose=False
            )
        annotators = found["annotator_stats"].reindex([f"a{a}" for a in range(len(rates))])
        consensus = present[found["label_quality"]["consensus_label"].to_numpy()]
        for a, rate in enumerate(rates):
            mine = ~np.isnan(labels[:, a])
            rows.append(
                {
                    "seed": seed,
                    "annotator": f"a{a}",
                    "injected_rate": rate,
                    "accuracy": float((labels[mine, a] == truth[mine]).mean()),
                    "cleanlab_quality": float(annotators.loc[f"a{a}", "annotator_quality"]),
                    "agreement_with_consensus": float(annotators.loc[f"a{a}", "agreement_with_consensus"]),
                    "vote_accuracy": float((vote == truth).mean()),
                    "cleanlab_consensus_accuracy": float((consensus == truth).mean()),
                }
            )
        print(f"seed {seed} done", flush=True)
    frame = pd.DataFrame(rows)
    table = frame.groupby(["annotator", "injected_rate"])[
        ["accuracy", "cleanlab_quality", "agreement_with_consensus"]
    ].mean()
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    rho = [stats.spearmanr(g["cleanlab_quality"], g["accuracy"]).statistic for _, g in frame.groupby("seed")]
    print(f"Spearman rank correlation of cleanlab's quality with true accuracy, per seed: {np.round(rho, 3)}")
    print(
        f"consensus accuracy: majority vote {frame['vote_accuracy'].mean():.3f}, cleanlab (CROWDLAB) "
        f"{frame['cleanlab_consensus_accuracy'].mean():.3f}"
    )


if __name__ == "__main__":
    main()
