"""The simulation loop: train, evaluate, stop or query, label — by item id, never by shifting
positions, so every label stays with its own item however many cycles run. The query step it
calls is ``loop/query.py``, shared with the live trainer of ``alloop label``."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import cohen_kappa_score

from alloop.data.taxonomy import DISPLAY_SEP, Taxonomy, split_path
from alloop.errors import AlloopBug, AlloopError
from alloop.loop.autolabel import MIN_LABELS, AutoLabelling, Coverage, Threshold, calibrate, coverage
from alloop.loop.candidates import near_labelled
from alloop.loop.evaluation import Scores, evaluate
from alloop.loop.oracle import AnswersLeaf, Oracle
from alloop.loop.partial import resolve_partial
from alloop.loop.query import Query, check_pool_subsample, check_strategy, query
from alloop.loop.stopping import (
    LABEL_FREE,
    LabelBudget,
    LabelFree,
    LoopState,
    PoolExhausted,
    StoppingCriterion,
    first_reason,
)
from alloop.models.base import Classifier, SlowToFit, with_pool
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
    auto: AutoCycle | None = None
    """auto-labelling at the target precision (``loop.autolabel``); None when not measured"""

    @property
    def seconds(self) -> float:
        """The loop's own time; the auto-labelling measurement is kept apart (``auto.seconds``)."""
        return self.fit_seconds + self.eval_seconds + self.score_seconds + self.query_seconds


@dataclass(frozen=True)
class AutoCycle:
    """One cycle's auto-labelling: the threshold chosen from the labels alone (out of fold), the
    share of the unlabelled stop set it accepts (the estimate a user would see), and on the test
    set the share accepted and the precision actually achieved."""

    threshold: Threshold
    estimated: Coverage
    test: Coverage
    seconds: float


@dataclass
class History:
    """What the label-free criteria remember between cycles (stored, so a resume continues it)."""

    f1: list[float] = field(default_factory=list)
    kappa: list[float] = field(default_factory=list)
    stop_predictions: np.ndarray | None = None
    coverage: list[float] = field(default_factory=list)
    """estimated auto-labelling coverage per cycle (NaN where not measured)"""


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two prediction vectors; 1.0 when they are identical (even if constant)."""
    if np.array_equal(a, b):
        return 1.0
    return float(cohen_kappa_score(a, b))


class ActiveLearner:
    """Runs one strategy from one initial set: the simulation loop, and the step-by-step loop of
    the Python API.

    Two ways to drive it. ``run(initial)`` labels ``initial`` with the ``oracle`` and yields one
    ``CycleResult`` per cycle (train, evaluate on the test set, stop or query, label) until a
    stopping criterion fires; ``alloop run`` does this. Or step by step, with your own oracle:
    ``teach(positions, labels)``, ``fit()``, ``query()`` -> positions, ``teach(...)`` again.
    The query itself is ``alloop.loop.query.query``, the same step the live trainer of
    ``alloop label`` calls.

    Items are known by position in ``pool_texts`` inside the loop and by ``pool_ids`` towards the
    oracle; labels are stored per position as they arrive, so training texts and labels are
    always taken with the same index array. ``stop_set`` (pool positions) is the fixed sample on
    which the label-free stopping signals are measured each cycle. ``pool_subsample`` scores only
    that many unlabelled items per query, drawn afresh each time with the loop's seeded RNG;
    ``near_labelled_subsample`` scores only the unlabelled neighbours of the labelled items plus
    that many random others (SEALS, ``loop/candidates.py``). ``auto_label`` measures each cycle
    how much of the pool could be auto-labelled at a target precision (``loop/autolabel.py``).
    """

    def __init__(
        self,
        classifier: Classifier,
        strategy: Strategy,
        pool_texts: Sequence[str],
        *,
        pool_ids: Sequence[object] | None = None,
        oracle: Oracle | None = None,
        test_texts: Sequence[str] = (),
        test_labels: np.ndarray | None = None,
        classes: Sequence[str] | None = None,
        query_size: int = 10,
        stopping: Sequence[StoppingCriterion] = (),
        seed: int = 0,
        stop_set: np.ndarray | None = None,
        pool_subsample: int | None = None,
        near_labelled_subsample: int | None = None,
        taxonomy: Taxonomy | None = None,
        auto_label: AutoLabelling | None = None,
    ):
        pool_ids = list(range(len(pool_texts))) if pool_ids is None else pool_ids
        if len(pool_texts) != len(pool_ids):
            raise AlloopError(f"{len(pool_texts)} pool texts but {len(pool_ids)} ids")
        check_strategy(strategy, classifier)
        self.classifier = classifier
        self.strategy = strategy
        self.oracle = oracle
        self.pool_texts = list(pool_texts)
        self.pool_ids = np.asarray(pool_ids, dtype=object)
        self.test_texts = list(test_texts)
        self.test_labels = np.asarray(test_labels if test_labels is not None else [], dtype=np.int64)
        if len(self.test_texts) != len(self.test_labels):
            raise AlloopError(f"{len(self.test_texts)} test texts but {len(self.test_labels)} test labels")
        self.classes = list(classes) if classes is not None else [str(c) for c in range(classifier.n_classes)]
        self.query_size = check_k(query_size)
        check_pool_subsample(pool_subsample, self.query_size)
        self.pool_subsample = pool_subsample
        self.near_labelled = near_labelled(near_labelled_subsample)
        self.stopping: list[StoppingCriterion] = [*stopping, PoolExhausted()]
        configured = {c.name: c for c in stopping if isinstance(c, LabelFree)}
        self.monitors = {name: configured.get(name) or make() for name, make in LABEL_FREE.items()}
        budgets = [c.n for c in stopping if isinstance(c, LabelBudget)]
        self.max_labels = min(budgets) if budgets else None
        self.rng = np.random.default_rng(seed)
        self.labels = np.full(len(self.pool_texts), -1, dtype=np.int64)
        self.order: list[int] = []  # labelled positions in the order they were labelled
        self.stop_set = None if stop_set is None else np.asarray(stop_set, dtype=np.int64)
        self.history = History()
        self.last_query: Query | None = None
        self.taxonomy = taxonomy
        self.auto_label = None if isinstance(classifier, SlowToFit) else auto_label
        """off for a classifier slow to fit: five more fine-tunings a cycle"""
        self._unlabelled_proba: np.ndarray | None = None
        """this cycle's probabilities of the stop set's unlabelled items"""

    # -- the steps, for the Python API (``run`` below strings them together) -------------------
    def teach(self, positions: Sequence[int] | np.ndarray, labels: Sequence[object] | np.ndarray) -> None:
        """Record labels for pool ``positions``: class codes, or class names from ``classes``.

        With a category tree a label may also be a partial one, a parent category (its display
        name, its path as a tuple, or its ``Taxonomy.partial_code``): the item trains the model
        within that branch and stays in the queue, to be asked again for its leaf."""
        positions = np.asarray(positions, dtype=np.int64)
        codes = self._codes(labels)
        if len(codes) != len(positions):
            raise AlloopError(f"{len(codes)} labels for {len(positions)} items")
        if len(positions) and (positions.min() < 0 or positions.max() >= len(self.pool_texts)):
            raise AlloopError(f"positions must lie in 0..{len(self.pool_texts) - 1}")
        if len(np.unique(positions)) != len(positions) or (self.labels[positions] >= 0).any():
            raise AlloopError("an item is labelled twice; teach each pool position once")
        self.labels[positions] = codes
        self.order.extend(int(p) for p in positions)

    def _codes(self, labels: Sequence[object] | np.ndarray) -> np.ndarray:
        values = labels if isinstance(labels, np.ndarray) else list(labels)
        array = (
            np.asarray(values)
            if isinstance(values, np.ndarray) or not any(isinstance(v, tuple) for v in values)
            else None
        )
        if array is not None and array.dtype.kind in "iu":
            codes = array.astype(np.int64)
        else:
            index = {c: i for i, c in enumerate(self.classes)}
            codes = np.array([self._code(v, index) for v in list(values)], dtype=np.int64)
        n_parents = len(self.taxonomy.parents) if self.taxonomy is not None else 0
        if len(codes) and (codes.max() >= self.classifier.n_classes or (codes == -1).any()):
            raise AlloopError(f"label codes must lie in 0..{self.classifier.n_classes - 1}")
        if len(codes) and codes.min() < -1 - n_parents:
            raise AlloopError(
                f"label codes must lie in 0..{self.classifier.n_classes - 1}"
                + (f" (or -2..{-1 - n_parents} for a parent category)" if n_parents else "")
            )
        return codes

    def _code(self, value: object, index: dict[str, int]) -> int:
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, str) and value in index:
            return index[value]
        tree = self.taxonomy
        if tree is not None:
            path = value if isinstance(value, tuple) else split_path(str(value), DISPLAY_SEP)
            if path in tree.parents:
                return tree.partial_code(path)
        raise AlloopError(f"label {value!r} is not a class; classes: {', '.join(self.classes)}")

    def fit(self) -> Classifier:
        """Train the classifier on every label so far; returns it (for ``predict_proba``).

        An item with a partial label (a parent category) trains as the leaf that a model fitted on
        the full labels alone finds most probable within its branch (one hard-EM step on the
        marginal likelihood of the branch). That model depends only on the labels, not on the
        cycles before, so a resumed run trains exactly as an uninterrupted one."""
        positions = self.labelled
        targets = self.labels[positions].copy()
        partial = targets < -1
        if partial.any():
            full = positions[~partial]
            self.classifier.fit([self.pool_texts[i] for i in full], targets[~partial])
            targets[partial] = self._within_branch(positions[partial], targets[partial])
        self.classifier.fit([self.pool_texts[i] for i in positions], targets)
        return self.classifier

    def _within_branch(self, positions: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """The most probable leaf under each item's partial label, by the model as last fitted."""
        tree = self.taxonomy
        if tree is None:
            raise AlloopBug("a partial label without a category tree")
        branches = [tree.leaves_under(tree.node_of(int(c))) for c in codes]
        proba = self.classifier.predict_proba([self.pool_texts[i] for i in positions])
        return resolve_partial(proba, branches)  # the same rule as the labelling app's trainer

    def query(self, k: int | None = None) -> np.ndarray:
        """The strategy's next ``k`` (default ``query_size``) unlabelled pool positions, most
        useful first, from the classifier as last fitted. Label them with ``teach``."""
        unlabelled = np.flatnonzero(self.labels < 0)  # a partly labelled item may be asked for its leaf
        self.last_query = query(
            self.classifier,
            self.strategy,
            self.pool_texts,
            unlabelled,
            np.flatnonzero(self.labels >= 0),
            self.query_size if k is None else check_k(k),
            self.rng,
            self.pool_subsample,
            self.near_labelled,
        )
        return self.last_query.positions

    def ids(self, positions: Sequence[int] | np.ndarray) -> list[object]:
        """The item ids of pool ``positions``."""
        return list(self.pool_ids[np.asarray(positions, dtype=np.int64)])

    @property
    def labelled(self) -> np.ndarray:
        """Positions with a label (a leaf or a partial one), each once, in the order first taught."""
        return np.asarray(list(dict.fromkeys(self.order)), dtype=np.int64)

    @property
    def n_partial(self) -> int:
        """Items whose label so far names only a parent category."""
        return int((self.labels < -1).sum())

    def _label(self, positions: np.ndarray, full: bool = False) -> np.ndarray:
        if self.oracle is None:
            raise AlloopError("run() needs an oracle; or drive the loop with teach, fit and query")
        ids = list(self.pool_ids[positions])
        again = self.labels[positions] < -1  # asked before, answered with a parent only
        leaf_only = self.oracle.label_leaf if isinstance(self.oracle, AnswersLeaf) else None
        if leaf_only is not None and (full or again.all()):
            labels = np.asarray(leaf_only(ids))
        elif leaf_only is not None and again.any():
            labels = np.asarray(self.oracle.label(ids))
            labels[again] = np.asarray(leaf_only([i for i, a in zip(ids, again, strict=True) if a]))
        else:
            labels = np.asarray(self.oracle.label(ids))
        if len(labels) != len(positions):
            raise AlloopError(f"the oracle answered {len(labels)} labels for {len(positions)} items")
        if (self.labels[positions] >= 0).any():
            raise AlloopBug("an item was queried twice")
        self.teach(positions, labels)
        return self.labels[positions]

    def run(self, initial: np.ndarray) -> Iterator[CycleResult]:
        """Label ``initial``, then yield one result per cycle until a criterion fires."""
        if self.oracle is None:
            raise AlloopError("run() needs an oracle; or drive the loop with teach, fit and query")
        if not self.test_texts:
            raise AlloopError("run() evaluates every cycle: give test_texts and test_labels")
        initial = np.asarray(initial, dtype=np.int64)
        if len(np.unique(initial)) != len(initial):
            raise AlloopError("the initial set holds an item twice")
        if self.max_labels is not None and len(initial) > self.max_labels:
            raise AlloopError(
                f"the initial set ({len(initial)}) is larger than `budget` {self.max_labels}; "
                "raise the budget or lower `initial`"
            )
        self._label(initial, full=True)
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
        for position, label in zip(positions.tolist(), labels.tolist(), strict=True):
            self.labels[position] = label  # in order: a leaf answer replaces an earlier partial one
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

    def _monitor(self, result: CycleResult, test_proba: np.ndarray) -> LoopState:
        """Measure the label-free signals on the stop set (auto-labelling coverage too) and build
        the criteria's view."""
        h = self.history
        h.f1.append(result.scores.macro_f1)
        self._unlabelled_proba = None
        if self.stop_set is not None and len(self.stop_set):
            proba = self.classifier.predict_proba([self.pool_texts[i] for i in self.stop_set])
            predictions = proba.argmax(axis=1)
            unlabelled = self.labels[self.stop_set] < 0
            self._unlabelled_proba = proba[unlabelled]
            if unlabelled.any():
                result.uncertainty = float((1.0 - proba[unlabelled].max(axis=1)).mean())
            if h.stop_predictions is not None:
                result.kappa = agreement(h.stop_predictions, predictions)
            h.stop_predictions = predictions
            result.stop_predictions = predictions
        result.auto = self._auto_label(test_proba)
        h.kappa.append(result.kappa)
        h.coverage.append(result.auto.estimated.share if result.auto is not None else math.nan)
        state = LoopState(
            result.cycle,
            result.n_labelled,
            int((self.labels < 0).sum()),
            result.scores.macro_f1,
            tuple(h.f1),
            tuple(h.kappa),
            result.uncertainty,
            tuple(h.coverage),
        )
        result.would_stop = [name for name, c in self.monitors.items() if c.reason(state)]
        return state

    def _auto_label(self, test_proba: np.ndarray) -> AutoCycle | None:
        """The threshold from out-of-fold predictions on the labelled items (leaf labels only),
        applied to the unlabelled stop set (or pool) and, to check it, to the test set."""
        settings = self.auto_label
        positions = self.labelled
        positions = positions[self.labels[positions] >= 0]
        if settings is None or len(positions) < MIN_LABELS:
            return None
        start = time.perf_counter()
        found = calibrate(
            settings.make_classifier,
            [self.pool_texts[i] for i in positions],
            self.labels[positions],
            self.classifier.n_classes,
            settings.seed,
            settings.folds,
            self.pool_texts,
        )
        threshold = found.threshold(settings.target, settings.confidence)
        if self._unlabelled_proba is not None and self.stop_set is not None:
            rest, model = self.stop_set[self.labels[self.stop_set] < 0], self._unlabelled_proba
        else:
            rest = np.flatnonzero(self.labels < 0)
            model = self.classifier.predict_proba([self.pool_texts[i] for i in rest])
        if threshold.value is None:  # nothing can be accepted: spare the fold models' predictions
            estimated, test = Coverage(0.0, 0), Coverage(0.0, 0)
        else:
            ensemble = found.least_proba([self.pool_texts[i] for i in rest])
            estimated = coverage(threshold, ensemble, model.argmax(axis=1))
            test_ensemble = found.least_proba(self.test_texts)
            test = coverage(threshold, test_ensemble, test_proba.argmax(axis=1), self.test_labels)
        return AutoCycle(threshold, estimated, test, time.perf_counter() - start)

    def _cycle(self, cycle: int) -> CycleResult:
        n_labelled = len(self.order)
        t0 = time.perf_counter()
        self.fit()
        t1 = time.perf_counter()
        proba = self.classifier.predict_proba(self.test_texts)
        predicted = proba.argmax(axis=1)
        scores = evaluate(self.test_labels, predicted, self.classes, proba, self.taxonomy)
        if scores.tree:
            scores.tree["items_partial"] = self.n_partial
        result = CycleResult(cycle, n_labelled, scores, predicted)
        state = self._monitor(result, proba)
        t2 = time.perf_counter()
        result.fit_seconds = t1 - t0
        result.eval_seconds = t2 - t1 - (result.auto.seconds if result.auto is not None else 0.0)
        result.stop_reason = first_reason(self.stopping, state)
        if result.stop_reason:
            return result
        k = self.query_size
        if self.max_labels is not None:
            k = min(k, self.max_labels - n_labelled)
        picks = self.query(k)
        assert self.last_query is not None
        result.queried_labels = self._label(picks)
        result.queried_positions = picks
        result.queried_ids = self.ids(picks)
        result.score_seconds = self.last_query.score_seconds
        result.query_seconds = self.last_query.query_seconds
        return result
