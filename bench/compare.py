"""One fine-tuning AL cycle side by side: the seed-style loop, small-text and alloop's ``bert``.

Same model (the offline all-MiniLM-L6-v2), same data (amazon-in), same labelled set per repeat
(``--labels`` random pool items, drawn from the repeat number), same query (margin / small-text's
BreakingTies, 50 items). A cycle = train from the pretrained weights, score the unlabelled pool and
pick the batch, evaluate on the test set. Each system runs in its own process (its own peak RSS);
the script prints medians over ``--repeats`` and the ratios, all from this one invocation.

    python bench/compare.py                       # 500 labels, 3 repeats, all systems
    python bench/compare.py --systems alloop alloop-bf16 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

DATA = "../shared/data/amazon-in-products/amazon_in_products.parquet"
SYSTEMS = ("seed-style", "small-text", "alloop", "alloop-bf16")
QUERY = 50


def _draw(n_pool: int, n: int, repeat: int) -> np.ndarray:
    return np.sort(np.random.default_rng([repeat, 7]).choice(n_pool, n, replace=False))


def _macro_f1(data, predicted: np.ndarray) -> float:
    from alloop.loop.evaluation import evaluate

    return evaluate(data.test_labels, predicted, data.classes).macro_f1


def run_protocol(system: str, data, labelled: np.ndarray, repeat: int) -> dict:
    """alloop's protocol (fit, predict_proba) for the seed-style loop and alloop itself."""
    from alloop.models import ModelConfig, classifier_factory
    from alloop.models.encoder import default_model_path
    from alloop.strategies import get_strategy

    sys.path.insert(0, str(Path(__file__).parent))
    from seed_loop import SeedStyleClassifier

    if system == "seed-style":
        model = SeedStyleClassifier(default_model_path(), data.n_classes, seed=repeat)
    else:
        precision = "bf16" if system == "alloop-bf16" else "fp32"
        config = ModelConfig(classifier="bert", precision=precision, cache=False)
        model = classifier_factory(config, data.n_classes)(repeat)
    rest = np.setdiff1d(np.arange(len(data.pool_texts)), labelled)
    t0 = time.perf_counter()
    model.fit([data.pool_texts[i] for i in labelled], data.pool_labels[labelled])
    t1 = time.perf_counter()
    proba = model.predict_proba([data.pool_texts[i] for i in rest])
    get_strategy("margin")(proba, QUERY, np.random.default_rng(repeat))
    t2 = time.perf_counter()
    predicted = model.predict_proba(data.test_texts).argmax(axis=1)
    t3 = time.perf_counter()
    f1 = _macro_f1(data, predicted)
    return {"fit": t1 - t0, "score": t2 - t1, "eval": t3 - t2, "f1": f1, "pool": len(rest)}


def run_small_text(data, labelled: np.ndarray, repeat: int, max_length: int) -> dict:
    """small-text as its examples use it: PoolBasedActiveLearner, transformers integration,
    BreakingTies, default training settings except 3 epochs (the other systems' budget)."""
    import torch
    from small_text import (
        BreakingTies,
        PoolBasedActiveLearner,
        TransformerBasedClassificationFactory,
        TransformerModelArguments,
        TransformersDataset,
    )
    from transformers import AutoTokenizer

    from alloop.models.encoder import default_model_path

    path = default_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    targets = np.arange(data.n_classes)

    def dataset(texts: list[str], labels: np.ndarray) -> TransformersDataset:
        # by hand: TransformersDataset.from_arrays calls encode_plus, removed in transformers 5
        enc = tokenizer(
            texts, padding="max_length", truncation=True, max_length=max_length, return_tensors="pt"
        )
        rows = [
            (enc["input_ids"][i : i + 1], enc["attention_mask"][i : i + 1], int(labels[i]))
            for i in range(len(texts))
        ]
        return TransformersDataset(rows, target_labels=targets)

    t_build = time.perf_counter()
    train = dataset(data.pool_texts, data.pool_labels)
    test = dataset(data.test_texts, data.test_labels)
    build = time.perf_counter() - t_build
    torch.manual_seed(repeat)
    with tempfile.TemporaryDirectory() as cache:
        factory = TransformerBasedClassificationFactory(
            TransformerModelArguments(path),
            data.n_classes,
            kwargs={"device": "cpu", "num_epochs": 3, "cache_dir": cache},
        )
        learner = PoolBasedActiveLearner(factory, BreakingTies(), train)
        t0 = time.perf_counter()
        learner.initialize_data(labelled, data.pool_labels[labelled])
        t1 = time.perf_counter()
        learner.query(num_samples=QUERY)
        t2 = time.perf_counter()
        predicted = learner.classifier.predict(test)
        t3 = time.perf_counter()
    return {
        "fit": t1 - t0,
        "score": t2 - t1,
        "eval": t3 - t2,
        "f1": _macro_f1(data, np.asarray(predicted)),
        "pool": len(data.pool_texts) - len(labelled),
        "build": build,
    }


def worker(system: str, n_labels: int, repeats: int, data_path: str) -> list[dict]:
    import torch

    from alloop.data import load_dataset

    data = load_dataset(data_path)
    rows = []
    for repeat in range(repeats):
        labelled = _draw(len(data.pool_texts), n_labels, repeat)
        if system == "small-text":
            row = run_small_text(data, labelled, repeat, max_length=64)
        else:
            row = run_protocol(system, data, labelled, repeat)
        row.update(repeat=repeat, threads=torch.get_num_threads())
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for row in rows:
        row["rss_mb"] = rss
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--labels", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.systems[0], args.labels, args.repeats, args.data)))
        return
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, python "
        f"{platform.python_version()}; {args.labels} labels, query {QUERY}, medians of {args.repeats}"
    )
    print(
        f"{'system':12} {'cycle s':>8} {'fit s':>7} {'score s':>8} {'eval s':>7} {'titles/s':>9} "
        f"{'macro-F1':>9} {'F1 min-max':>12} {'RSS MB':>7}"
    )
    medians: dict[str, dict[str, float]] = {}
    from alloop.models.precision import bf16_native

    if "alloop-bf16" in args.systems and not bf16_native("cpu"):
        print("alloop-bf16: skipped, this CPU has neither AVX512-BF16 nor AMX (bfloat16 would be emulated)")
        args.systems = [s for s in args.systems if s != "alloop-bf16"]
    for system in args.systems:
        cmd = [sys.executable, __file__, "--worker", "--systems", system]
        cmd += ["--labels", str(args.labels), "--repeats", str(args.repeats), "--data", args.data]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{system:12} failed: {done.stderr.strip().splitlines()[-1]}", flush=True)
            continue
        rows = json.loads(done.stdout.strip().splitlines()[-1])
        med = {k: statistics.median(r[k] for r in rows) for k in ("fit", "score", "eval", "f1")}
        med["cycle"] = statistics.median(r["fit"] + r["score"] + r["eval"] for r in rows)
        med["tps"] = rows[0]["pool"] / med["score"]
        medians[system] = med
        f1s = [r["f1"] for r in rows]
        print(
            f"{system:12} {med['cycle']:>8.1f} {med['fit']:>7.1f} {med['score']:>8.1f} {med['eval']:>7.1f} "
            f"{med['tps']:>9.0f} {med['f1']:>9.3f} {min(f1s):>5.3f}-{max(f1s):.3f} {rows[0]['rss_mb']:>7.0f}",
            flush=True,
        )
    for base in ("seed-style", "small-text"):
        for mine in ("alloop", "alloop-bf16"):
            if base in medians and mine in medians:
                b, m = medians[base], medians[mine]
                print(
                    f"{mine} vs {base}: cycle time x{m['cycle'] / b['cycle']:.2f}, scoring throughput "
                    f"x{m['tps'] / b['tps']:.2f}, macro-F1 {m['f1'] - b['f1']:+.3f}"
                )


if __name__ == "__main__":
    main()
