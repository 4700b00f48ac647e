"""The active-learning loop: train, evaluate, stop or query, label — by item id, never by shifting
positions, so every label stays with its own item however many cycles run."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import cohen_kappa_score

from alloop.errors import AlloopError
from alloop.loop.scoring import predict_in_chunks
from alloop.metrics import Scores, evaluate
from alloop.models.base import Classifier, with_pool
from alloop.oracle import Oracle
from alloop.stopping import (
    LABEL_FREE,
    LabelBudget,
    LoopState,
    PoolExhausted,
    StoppingCriterion,
    first_reason,
)
from alloop.strategies import Strategy
from alloop.strategies.selection import check_k


def _empty() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


@dataclass
class CycleResult:
    """One cycle: the model trained on ``n_labelled`` items, its test scores, the label-free
    stopping signals, and the batch it queried afterwards (empty when the loop stopped here)."""

    cycle: int
    n_labelled: int
    scores: Scores
    predictions: np.ndarray = field(default_factory=_empty)
    queried_positions: np.ndarray = field(default_factory=_empty)
    queried_ids: list[object] = field(default_factory=list)
    queried_labels: np.ndarray = field(default_factory=_empty)
    fit_seconds: float = 0.0
    eval_seconds: float = 0.0
    score_seconds: float = 0.0
    query_seconds: float = 0.0
    stop_reason: str | None = None
    kappa: float = math.nan
    uncertainty: float = math.nan
    stop_predictions: np.ndarray = field(default_factory=_empty)
    would_stop: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.fit_seconds + self.eval_seconds + self.score_seconds + self.query_seconds


@dataclass
class History:
    """What the label-free criteria remember between cycles (stored, so a resume continues it)."""

    f1: list[float] = field(default_factory=list)
    kappa: list[float] = field(default_factory=list)
    stop_predictions: np.ndarray | None = None


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two prediction vectors; 1.0 when they are identical (even if constant)."""
    if np.array_equal(a, b):
        return 1.0
    return float(cohen_kappa_score(a, b))


class ActiveLearner:
    """Runs one strategy from one initial set until a stopping criterion fires.

    Items are known by position in ``pool_texts`` inside the loop and by ``pool_ids`` towards the
    oracle; labels are stored per position as they arrive, so training texts and labels are
    always taken with the same index array. ``stop_set`` (pool positions) is the fixed sample on
    which the label-free stopping signals are measured each cycle. ``pool_subsample`` scores only
    that many unlabelled items per cycle, drawn afresh each time with the loop's seeded RNG: for a
    fine-tuned encoder scoring is the slow part, and the best of 2,000 random candidates is
    usually nearly as informative as the best of the whole pool.
    """

    def __init__(
        self,
        classifier: Classifier,
        strategy: Strategy,
        oracle: Oracle,
        pool_texts: Sequence[str],
        pool_ids: Sequence[object],
        test_texts: Sequence[str],
        test_labels: np.ndarray,
        classes: Sequence[str],
        query_size: int = 10,
        stopping: Sequence[StoppingCriterion] = (),
        seed: int = 0,
        stop_set: np.ndarray | None = None,
        pool_subsample: int | None = None,
    ):
        if len(pool_texts) != len(pool_ids):
            raise AlloopError(f"{len(pool_texts)} pool texts but {len(pool_ids)} ids")
        self.classifier = classifier
        self.strategy = strategy
        self.oracle = oracle
        self.pool_texts = list(pool_texts)
        self.pool_ids = np.asarray(pool_ids, dtype=object)
        self.test_texts = list(test_texts)
        self.test_labels = np.asarray(test_labels)
        self.classes = list(classes)
        self.query_size = check_k(query_size)
        if pool_subsample is not None and pool_subsample < self.query_size:
            raise AlloopError(
                f"--pool-subsample ({pool_subsample}) must be at least the query size ({self.query_size})"
            )
        self.pool_subsample = pool_subsample
        self.stopping: list[StoppingCriterion] = [*stopping, PoolExhausted()]
        configured = {getattr(c, "name", None): c for c in stopping}
        self.monitors = {name: configured.get(name) or make() for name, make in LABEL_FREE.items()}
        budgets = [c.n for c in stopping if isinstance(c, LabelBudget)]
        self.max_labels = min(budgets) if budgets else None
        self.rng = np.random.default_rng(seed)
        self.labels = np.full(len(self.pool_texts), -1, dtype=np.int64)
        self.order: list[int] = []  # labelled positions in the order they were labelled
        self.stop_set = None if stop_set is None else np.asarray(stop_set, dtype=np.int64)
        self.history = History()

    @property
    def labelled(self) -> np.ndarray:
        return np.asarray(self.order, dtype=np.int64)

    def _label(self, positions: np.ndarray) -> np.ndarray:
        labels = self.oracle.label(list(self.pool_ids[positions]))
        if len(labels) != len(positions):
            raise AlloopError(f"the oracle answered {len(labels)} labels for {len(positions)} items")
        if (self.labels[positions] >= 0).any():
            raise AlloopError("an item was queried twice; strategies must pick unlabelled items")
        self.labels[positions] = labels
        self.order.extend(int(p) for p in positions)
        return labels

    def run(self, initial: np.ndarray) -> Iterator[CycleResult]:
        """Label ``initial``, then yield one result per cycle until a criterion fires."""
        initial = np.asarray(initial, dtype=np.int64)
        if len(np.unique(initial)) != len(initial):
            raise AlloopError("the initial set holds an item twice")
        if self.max_labels is not None and len(initial) > self.max_labels:
            raise AlloopError(
                f"the initial set ({len(initial)}) is larger than --budget {self.max_labels}; "
                "raise the budget or lower --initial"
            )
        self._label(initial)
        yield from self._loop(0)

    def resume(
        self,
        positions: np.ndarray,
        labels: np.ndarray,
        next_cycle: int,
        rng_state: dict[str, object],
        history: History | None = None,
    ) -> Iterator[CycleResult]:
        """Continue a stopped run: the items labelled so far (in order), the RNG as it was, and the
        stopping signals' history."""
        self.labels[positions] = labels
        self.order = [int(p) for p in positions]
        self.rng.bit_generator.state = rng_state
        self.history = history or History()
        yield from self._loop(next_cycle)

    def rng_state(self) -> dict[str, object]:
        """The strategy RNG's state, to store with each cycle for an exact resume."""
        return self.rng.bit_generator.state

    def _loop(self, cycle: int) -> Iterator[CycleResult]:
        with_pool(self.classifier, self.pool_texts)  # label-free features, e.g. the hybrid's n-grams
        while True:
            result = self._cycle(cycle)
            yield result
            if result.stop_reason:
                return
            cycle += 1

    def _monitor(self, result: CycleResult) -> LoopState:
        """Measure the label-free signals on the stop set and build the criteria's view."""
        h = self.history
        h.f1.append(result.scores.macro_f1)
        if self.stop_set is not None and len(self.stop_set):
            proba = self.classifier.predict_proba([self.pool_texts[i] for i in self.stop_set])
            predictions = proba.argmax(axis=1)
            unlabelled = self.labels[self.stop_set] < 0
            if unlabelled.any():
                result.uncertainty = float((1.0 - proba[unlabelled].max(axis=1)).mean())
            if h.stop_predictions is not None:
                result.kappa = agreement(h.stop_predictions, predictions)
            h.stop_predictions = predictions
            result.stop_predictions = predictions
        h.kappa.append(result.kappa)
        state = LoopState(
            result.cycle,
            result.n_labelled,
            int((self.labels < 0).sum()),
            result.scores.macro_f1,
            tuple(h.f1),
            tuple(h.kappa),
            result.uncertainty,
        )
        result.would_stop = [name for name, c in self.monitors.items() if c.reason(state)]
        return state

    def _score(
        self, candidates: np.ndarray, labelled: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Only what the strategy needs: probabilities, embeddings, or both from one forward pass
        when the classifier can (a fine-tuned encoder would otherwise run over the pool twice)."""
        texts = [self.pool_texts[i] for i in candidates]
        needs_proba, needs_embeddings = self.strategy.needs_proba, self.strategy.needs_embeddings
        embed = getattr(self.classifier, "embed", None)
        if needs_embeddings and embed is None:
            raise AlloopError(f"strategy {self.strategy.name} needs embeddings; this classifier has none")
        both = getattr(self.classifier, "predict_proba_and_embed", None)
        if needs_proba and needs_embeddings and both is not None:
            proba, embeddings = both(texts)
            return proba, embeddings, embed([self.pool_texts[i] for i in labelled])
        proba = predict_in_chunks(self.classifier, texts) if needs_proba else np.empty((len(texts), 0))
        if not needs_embeddings:
            return proba, None, None
        # the whole pool at once: the LSA embedder of tfidf is fitted on the texts it is given
        everything = embed(self.pool_texts)
        return proba, everything[candidates], everything[labelled]

    def _cycle(self, cycle: int) -> CycleResult:
        positions = self.labelled
        t0 = time.perf_counter()
        self.classifier.fit([self.pool_texts[i] for i in positions], self.labels[positions])
        t1 = time.perf_counter()
        predicted = self.classifier.predict_proba(self.test_texts).argmax(axis=1)
        scores = evaluate(self.test_labels, predicted, self.classes)
        result = CycleResult(cycle, len(positions), scores, predicted)
        state = self._monitor(result)
        t2 = time.perf_counter()
        result.fit_seconds, result.eval_seconds = t1 - t0, t2 - t1
        result.stop_reason = first_reason(self.stopping, state)
        if result.stop_reason:
            return result
        unlabelled = np.flatnonzero(self.labels < 0)
        if self.pool_subsample is not None and len(unlabelled) > self.pool_subsample:
            unlabelled = np.sort(self.rng.choice(unlabelled, self.pool_subsample, replace=False))
        k = self.query_size
        if self.max_labels is not None:
            k = min(k, self.max_labels - len(positions))
        proba, embeddings, labelled_embeddings = self._score(unlabelled, positions)
        t3 = time.perf_counter()
        picks = unlabelled[self.strategy(proba, k, self.rng, embeddings, labelled_embeddings)]
        result.queried_labels = self._label(picks)
        result.queried_positions = picks
        result.queried_ids = list(self.pool_ids[picks])
        result.score_seconds, result.query_seconds = t3 - t2, time.perf_counter() - t3
        return result
