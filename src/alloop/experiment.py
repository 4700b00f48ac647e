"""A simulated experiment: every chosen strategy from the same initial set and seed, results
written as they arrive (a crash keeps every finished cycle), figures at the end."""

from __future__ import annotations

import csv
import dataclasses
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

import numpy as np
import pandas as pd

from alloop import __version__
from alloop.data import DEFAULT_DATA, TextDataset, load_dataset
from alloop.errors import AlloopError
from alloop.loop import ActiveLearner, CycleResult, draw_initial
from alloop.loop.initial import INITIAL_STRATEGIES
from alloop.models import ModelConfig, classifier_factory
from alloop.models.encoder import Progress
from alloop.oracle import SimulatedOracle
from alloop.report import plot_learning_curves, summarise
from alloop.stopping import LabelBudget, MaxCycles, StoppingCriterion, TargetF1
from alloop.strategies import STRATEGIES, get_strategy
from alloop.strategies.selection import check_k

CYCLE_COLUMNS = [
    "strategy",
    "seed",
    "cycle",
    "n_labelled",
    "macro_f1",
    "accuracy",
    "macro_precision",
    "macro_recall",
    "fit_seconds",
    "eval_seconds",
    "score_seconds",
    "query_seconds",
    "seconds",
    "stop_reason",
]


@dataclass(frozen=True)
class RunConfig:
    """Every option of ``alloop run``; saved as ``config.json`` so a run can be repeated."""

    data: str = DEFAULT_DATA
    text: tuple[str, ...] = ("title",)
    label: str = "category"
    id_column: str | None = None
    test_size: float = 0.2
    balanced_test: bool = False
    strategies: tuple[str, ...] = tuple(STRATEGIES)
    initial: float = 100
    initial_strategy: str = "stratified"
    query_size: int = 10
    cycles: int | None = 10
    budget: int | None = None
    target_f1: float | None = None
    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)

    def validate(self) -> RunConfig:
        """Fail before any slow work, with the option's name in the message."""
        check_k(self.query_size)
        for name in self.strategies:
            get_strategy(name)
        if len(set(self.strategies)) != len(self.strategies):
            raise AlloopError("a strategy is given twice in --strategy")
        if self.initial_strategy not in INITIAL_STRATEGIES:
            raise AlloopError(
                f"unknown --initial-strategy {self.initial_strategy!r}; "
                f"choose from {', '.join(INITIAL_STRATEGIES)}"
            )
        if self.cycles is None and self.budget is None and self.target_f1 is None:
            raise AlloopError("no stopping criterion: give --cycles, --budget or --target-f1")
        self.stopping()
        if self.model.epochs < 1 or self.model.batch_size < 1 or self.model.max_length < 8:
            raise AlloopError("--epochs and --batch-size must be at least 1, --max-length at least 8")
        return self

    def stopping(self) -> list[StoppingCriterion]:
        criteria: list[StoppingCriterion] = []
        if self.cycles is not None:
            criteria.append(MaxCycles(self.cycles))
        if self.budget is not None:
            criteria.append(LabelBudget(self.budget))
        if self.target_f1 is not None:
            criteria.append(TargetF1(self.target_f1))
        return criteria

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


class Observer(Protocol):
    """What a front end (the CLI's progress bars) is told while an experiment runs."""

    def loaded(self, data: TextDataset) -> None: ...

    def task(self, description: str, total: int) -> Progress: ...

    def strategy_started(self, strategy: str, seed: int) -> None: ...

    def cycle_done(self, strategy: str, seed: int, result: CycleResult) -> None: ...


class QuietObserver:
    def loaded(self, data: TextDataset) -> None:
        pass

    def task(self, description: str, total: int) -> Progress:
        return lambda n: None

    def strategy_started(self, strategy: str, seed: int) -> None:
        pass

    def cycle_done(self, strategy: str, seed: int, result: CycleResult) -> None:
        pass


class ResultWriter:
    """Appends each cycle to the CSV files the moment it is done, flushed."""

    def __init__(self, out: Path, classes: list[str]):
        self.classes = classes
        self._files: list[IO[str]] = []
        self.cycles = self._open(out / "cycles.csv", CYCLE_COLUMNS)
        self.queried = self._open(out / "queried.csv", ["strategy", "seed", "cycle", "item_id", "label"])
        self.per_class = self._open(
            out / "per_class.csv",
            ["strategy", "seed", "cycle", "class", "precision", "recall", "f1", "support"],
        )

    def _open(self, path: Path, header: list[str]) -> csv.writer:
        handle = path.open("w", newline="", encoding="utf-8")
        self._files.append(handle)
        writer = csv.writer(handle)
        writer.writerow(header)
        return writer

    def write(self, strategy: str, seed: int, r: CycleResult) -> None:
        s = r.scores
        self.cycles.writerow(
            [
                *(strategy, seed, r.cycle, r.n_labelled),
                *(s.macro_f1, s.accuracy, s.macro_precision, s.macro_recall),
                *(r.fit_seconds, r.eval_seconds, r.score_seconds, r.query_seconds, r.seconds),
                r.stop_reason or "",
            ]
        )
        for item_id, label in zip(r.queried_ids, r.queried_labels, strict=True):
            self.queried.writerow([strategy, seed, r.cycle, item_id, self.classes[label]])
        for i, name in enumerate(s.classes):
            self.per_class.writerow(
                [strategy, seed, r.cycle, name, s.precision[i], s.recall[i], s.f1[i], int(s.support[i])]
            )
        for handle in self._files:
            handle.flush()

    def close(self) -> None:
        for handle in self._files:
            handle.close()


def default_out_dir() -> Path:
    return Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")


def run_experiment(
    config: RunConfig,
    out: Path,
    observer: Observer | None = None,
    load: Callable[..., TextDataset] = load_dataset,
) -> pd.DataFrame:
    """Run every strategy of ``config`` and write the outputs to ``out``; returns the cycle table."""
    observer = observer or QuietObserver()
    config.validate()
    data = load(
        config.data,
        text_columns=config.text,
        label_column=config.label,
        id_column=config.id_column,
        test_size=config.test_size,
        balanced_test=config.balanced_test,
        seed=config.seed,
    )
    observer.loaded(data)
    initial = draw_initial(
        data.pool_labels, config.initial, config.initial_strategy, np.random.default_rng(config.seed)
    )
    make_classifier = classifier_factory(config.model, data.n_classes)
    out.mkdir(parents=True, exist_ok=True)
    _write_config(config, data, out)
    if config.model.classifier == "bert-frozen":  # embed once, with a progress bar, up front
        texts = data.pool_texts + data.test_texts
        make_classifier(config.seed).embed(texts, observer.task("embedding pool + test", len(texts)))
    writer = ResultWriter(out, data.classes)
    try:
        for name in config.strategies:
            observer.strategy_started(name, config.seed)
            learner = ActiveLearner(
                make_classifier(config.seed),
                get_strategy(name),
                SimulatedOracle(data.pool_ids, data.pool_labels),
                data.pool_texts,
                data.pool_ids,
                data.test_texts,
                data.test_labels,
                data.classes,
                query_size=config.query_size,
                stopping=config.stopping(),
                seed=config.seed,
            )
            for result in learner.run(initial):
                writer.write(name, config.seed, result)
                observer.cycle_done(name, config.seed, result)
    finally:
        writer.close()
    cycles = pd.read_csv(out / "cycles.csv", keep_default_na=False)
    plot_learning_curves(cycles, out / "learning_curves.png", title=_title(config, data))
    summarise(cycles).to_csv(out / "summary.csv", index=False)
    return cycles


def _title(config: RunConfig, data: TextDataset) -> str:
    source = Path(config.data).name if not config.data.startswith("hub:") else config.data[4:]
    return f"{source}: {config.model.classifier}, {data.n_classes} classes, seed {config.seed}"


def _write_config(config: RunConfig, data: TextDataset, out: Path) -> None:
    import torch
    import transformers

    record = {
        "config": config.as_dict(),
        "dataset": {
            "pool_size": len(data.pool_texts),
            "test_size": len(data.test_texts),
            "classes": data.classes,
            "notes": data.notes,
        },
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {
            "alloop": __version__,
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
    }
    (out / "config.json").write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
