"""The plan of a simulated experiment: the steps of the strategy x
seed grid that both executors (``serial``, ``ray``) share: set up a seed, train the full-pool
ceiling, run one (strategy, seed) pair, save a cycle.

Each seed draws its own initial set and shares it across strategies (a paired design); the data
split stays fixed by ``--seed``. Results go to ``results.db`` (see ``store``), one transaction per
cycle, so ``--resume`` continues exactly where a killed run stopped.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from alloop import __version__
from alloop.data import TextDataset
from alloop.errors import AlloopBug, AlloopError
from alloop.loop import ActiveLearner, CycleResult, draw_initial
from alloop.loop.autolabel import AutoLabelling, out_of_fold
from alloop.loop.engine import History
from alloop.loop.evaluation import Scores, evaluate
from alloop.loop.initial import branch_turns, class_name_texts, cosine_similarity
from alloop.loop.oracle import AnswersLeaf, NoisyOracle, Oracle, PartialOracle, SimulatedOracle
from alloop.loop.training import train_on_pool
from alloop.models import Classifier, Embedder
from alloop.models.base import HasTextEncoder
from alloop.models.encoder import Progress
from alloop.outputs import write_into
from alloop.simulate.config import RunConfig
from alloop.simulate.store import CycleRecord, ResultStore, ResumePoint


class Observer(Protocol):
    """What a front end (the CLI's progress bars) is told while an experiment runs."""

    def loaded(self, data: TextDataset) -> None: ...

    def task(self, description: str, total: int) -> Progress: ...

    def strategy_started(self, strategy: str, seed: int, done_cycles: int) -> None: ...

    def cycle_done(self, strategy: str, seed: int, result: CycleResult) -> None: ...

    def ceiling_done(self, seed: int, scores: Scores, seconds: float) -> None: ...

    def retrying(self, what: str, next_cycle: int, reason: str) -> None: ...


class QuietObserver:
    def loaded(self, data: TextDataset) -> None:
        pass

    def task(self, description: str, total: int) -> Progress:
        return lambda n: None

    def strategy_started(self, strategy: str, seed: int, done_cycles: int) -> None:
        pass

    def cycle_done(self, strategy: str, seed: int, result: CycleResult) -> None:
        pass

    def ceiling_done(self, seed: int, scores: Scores, seconds: float) -> None:
        pass

    def retrying(self, what: str, next_cycle: int, reason: str) -> None:
        pass


def default_out_dir() -> Path:
    return Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")


def load_run_config(out: Path) -> RunConfig:
    """The config a run folder was started with, for ``--resume``."""
    store = ResultStore.open_existing(out)
    try:
        stored = store.get("config")
    finally:
        store.close()
    if not stored:
        raise AlloopError(f"{out}/results.db holds no config; it was not written by `alloop run`")
    return RunConfig.from_dict(stored)


@dataclass(frozen=True)
class SeedSetup:
    """What every strategy of one seed starts from: the initial set and the stop set (and, for
    ``--oracle-noise-kind confusion``, which classes the noisy annotator mixes up)."""

    seed: int
    initial: np.ndarray
    stop_set: np.ndarray
    similar: np.ndarray | None = None


CONFUSION_KEY = "oracle_confusion"
"""results.db meta: the out-of-fold confusion counts the confusion-shaped noise flips along."""


def class_confusion(
    config: RunConfig, data: TextDataset, make_classifier: Callable[[int], Classifier], store: ResultStore
) -> np.ndarray:
    """How often the run's classifier, trained out of fold on the pool's gold labels, predicts
    each class for each true class: computed once per run and kept in results.db, so a resumed
    or repeated run flips along the same classes."""
    stored = store.get(CONFUSION_KEY)
    if stored is not None:
        return np.asarray(stored, dtype=float)
    from sklearn.metrics import confusion_matrix

    proba = out_of_fold(
        lambda: make_classifier(config.seed),
        data.pool_texts,
        data.pool_labels,
        data.n_classes,
        config.seed,
        pool_texts=data.pool_texts,
    )
    counts = confusion_matrix(data.pool_labels, proba.argmax(axis=1), labels=range(data.n_classes))
    store.put(CONFUSION_KEY, counts.tolist())
    return counts.astype(float)


def name_similarity(model: Classifier, data: TextDataset) -> np.ndarray:
    """The label-names cold start's ``(n_pool, n_classes)`` cosine of the pool's texts to the class
    names, both embedded by the classifier's frozen text encoder; a tree's leaves are named by
    their full path ("PARENT > LEAF"), which tells one name under two parents apart."""
    if not isinstance(model, HasTextEncoder):  # RunConfig.validate refused this already
        raise AlloopBug(f"{type(model).__name__} has no text encoder")
    encoder = model.text_encoder
    return cosine_similarity(encoder.embed(data.pool_texts), encoder.embed(class_name_texts(data.tree.names)))


def prepare_seed(
    config: RunConfig,
    data: TextDataset,
    seed: int,
    make_classifier: Callable[[int], Classifier],
    store: ResultStore,
) -> SeedSetup:
    """The seed's initial set (drawn and stored once, read back on resume) and its stop set."""
    similar = None
    if config.oracle_noise and config.oracle_noise_kind == "confusion":
        similar = class_confusion(config, data, make_classifier, store)
    stored = store.initial(seed)
    if stored is None:
        oracle = make_oracle(config, data, seed, similar)
        answer = oracle.label_leaf if isinstance(oracle, AnswersLeaf) else oracle.label  # answered in full
        embeddings = similarity = None
        if config.initial_strategy == "kmeans":
            embedder = make_classifier(seed)
            if not isinstance(embedder, Embedder):  # RunConfig.validate refused this already
                raise AlloopBug(f"{type(embedder).__name__} declares no embeddings")
            embeddings = embedder.embed(data.pool_texts)
        elif config.initial_strategy == "label-names":
            similarity = name_similarity(make_classifier(seed), data)
        rng = np.random.default_rng(seed)
        initial = draw_initial(
            data.pool_labels,
            config.initial,
            config.initial_strategy,
            rng,
            embeddings,
            similarity,
            branch_turns(data.tree),
        )
        store.save_initial(seed, initial, answer(list(data.pool_ids[initial])))
    else:
        initial = stored[0]
    # the fixed unlabelled sample on which the label-free stopping signals are measured
    n_pool = len(data.pool_texts)
    stop_rng = np.random.default_rng([seed, 1])
    stop_set = np.sort(stop_rng.choice(n_pool, min(config.stop_set_size, n_pool), replace=False))
    return SeedSetup(seed, initial, stop_set, similar)


def full_pool_ceiling(
    data: TextDataset, seed: int, make_classifier: Callable[[int], Any]
) -> tuple[Scores, float]:
    """The same classifier trained once on the whole pool: the F1 the report compares to."""
    start = time.perf_counter()
    model = train_on_pool(make_classifier(seed), data.pool_texts, data.pool_texts, data.pool_labels)
    proba = model.predict_proba(data.test_texts)
    scores = evaluate(data.test_labels, proba.argmax(1), data.classes, proba, data.taxonomy)
    return scores, time.perf_counter() - start


def make_oracle(config: RunConfig, data: TextDataset, seed: int, similar: np.ndarray | None = None) -> Oracle:
    """The gold labels; with ``--oracle-partial`` an annotator who sometimes names only the parent;
    with ``--oracle-noise`` one who answers wrong on that share of items (seeded per item)."""
    oracle: Oracle = SimulatedOracle(data.pool_ids, data.pool_labels)
    if config.oracle_partial and data.taxonomy is not None:
        oracle = PartialOracle(oracle, data.taxonomy, config.oracle_partial, seed)  # type: ignore[arg-type]
    if config.oracle_noise:
        oracle = NoisyOracle(oracle, data.n_classes, config.oracle_noise, seed, similar)  # type: ignore[arg-type]
    return oracle


def run_pair(
    config: RunConfig,
    data: TextDataset,
    setup: SeedSetup,
    strategy: str,
    make_classifier: Callable[[int], Any],
    point: ResumePoint | None,
) -> Iterator[tuple[CycleResult, dict[str, Any]]]:
    """One (strategy, seed) pair from its start or from ``point``: each finished cycle with the
    strategy RNG's state after it. The serial loop and the Ray workers both run pairs this way."""
    seed = setup.seed
    learner = ActiveLearner(
        make_classifier(seed),
        config.strategy(strategy, data.taxonomy),
        data.pool_texts,
        pool_ids=data.pool_ids,
        oracle=make_oracle(config, data, seed, setup.similar),
        test_texts=data.test_texts,
        test_labels=data.test_labels,
        classes=data.classes,
        query_size=config.query_size,
        stopping=config.stopping(),
        seed=seed,
        stop_set=setup.stop_set,
        pool_subsample=config.pool_subsample,
        near_labelled_subsample=config.near_labelled_subsample,
        taxonomy=data.taxonomy,
        auto_label=AutoLabelling(
            lambda: make_classifier(seed), config.target_precision, config.precision_confidence, seed=seed
        ),
    )
    if point is None:
        results = learner.run(setup.initial)
    else:
        history = History(
            point.f1_history, point.kappa_history, point.stop_predictions, point.coverage_history
        )
        results = learner.resume(point.positions, point.labels, point.next_cycle, point.rng_state, history)
    for result in results:
        yield result, learner.rng_state()


def save_cycle(
    store: ResultStore, strategy: str, seed: int, r: CycleResult, rng_state: dict[str, Any]
) -> None:
    """One finished cycle into results.db, in one transaction (only ever called by the driver)."""
    queried = list(zip(r.queried_positions.tolist(), r.queried_ids, r.queried_labels.tolist(), strict=True))
    store.save_cycle(
        strategy,
        seed,
        r.cycle,
        CycleRecord.from_result(r),
        r.scores,
        r.predictions,
        rng_state,
        queried,
        r.stop_predictions,
    )


def save_meta(store: ResultStore, config: RunConfig, data: TextDataset, out: Path) -> None:
    import torch
    import transformers

    dataset = {
        "pool_size": len(data.pool_texts),
        "test_size": len(data.test_texts),
        "classes": data.classes,
        "notes": data.notes,
    }
    versions = {
        "alloop": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    store.put("config", config.as_dict())
    store.put("dataset", dataset)
    store.put("versions", versions)
    store.put("classes", data.classes)
    if data.taxonomy is not None:
        store.put("taxonomy", [list(p) for p in data.taxonomy.leaves])
        store.put("taxonomy_inner", [list(p) for p in data.taxonomy.inner_classes])
    store.put("test_labels", data.test_labels.tolist())
    store.put("pool_class_counts", np.bincount(data.pool_labels, minlength=data.n_classes).tolist())
    record = {
        "config": config.as_dict(),
        "dataset": dataset,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions,
    }

    def write(work: Path) -> None:
        (work / "config.json").write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
        _write_toml(config, work / "config.toml")

    write_into(out, write)


def config_to_options(config: RunConfig) -> dict[str, Any]:
    """The config as `alloop run` option names (for config.toml), Nones left out."""
    values = {k: v for k, v in config.as_dict().items() if k != "model"}
    values.update(config.as_dict()["model"])
    values["strategy"] = list(values.pop("strategies"))
    values["text"] = list(values["text"])
    values["stop"] = list(values["stop"])
    values["label"] = list(values["label"])
    values["id"] = values.pop("id_column")
    return {k.replace("_", "-"): v for k, v in values.items() if v is not None}


def _write_toml(config: RunConfig, path: Path) -> None:
    import tomli_w

    header = "# The effective config of this run: `alloop run --config config.toml` repeats it.\n"
    path.write_text(header + tomli_w.dumps(config_to_options(config)), encoding="utf-8")
