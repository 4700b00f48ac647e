"""The background trainer of ``alloop label``: one worker thread that owns the model.

Request handlers never train: they write labels and call ``notify``; every ``query_size`` new
labels the worker refits the classifier on the majority-vote labels, ranks the unlabelled pool
with the engine's query step (``alloop.loop.query``, the one ``alloop run`` uses: every strategy,
``NAME+dedup`` and ``--pool-subsample`` work here as there), and publishes a new immutable
``Snapshot`` (queue + estimate). Until the first model exists the queue is the engine's k-means
cold start (``alloop.loop.initial``), or random, so nobody waits.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from alloop.errors import EmptyPoolError
from alloop.labelling.config import LabelConfig
from alloop.labelling.domain.final import final_labels
from alloop.labelling.domain.queue import Estimate, Snapshot, permutation, queue_length
from alloop.labelling.domain.suggest import Suggestions, pool_predictions
from alloop.labelling.domain.tree import LabelTree
from alloop.labelling.domain.trust import auto_labelled, project_calibration, suspects
from alloop.labelling.storage import flags as flag_store
from alloop.labelling.storage.store import Items, LabelStore
from alloop.loop.autolabel import CV_FOLDS, MIN_LABELS, Calibration, out_of_fold
from alloop.loop.candidates import near_labelled
from alloop.loop.evaluation import evaluate
from alloop.loop.initial import (
    class_name_texts,
    cosine_similarity,
    kmeans_representatives,
    label_name_representatives,
    label_turns,
)
from alloop.loop.partial import resolve_partial
from alloop.loop.query import Query, check_strategy, query
from alloop.loop.training import train_on_pool
from alloop.models import Classifier, Embedder, Precomputes, SlowToFit, classifier_factory, has_text_encoder
from alloop.models.base import FrozenFeatures, HasTextEncoder
from alloop.strategies.dedupe import near_duplicate_groups

log = logging.getLogger("alloop.label")
CV_MIN_LABELS = MIN_LABELS


def name_encoder(model: Classifier) -> Embedder | None:
    """The pretrained text encoder a classifier is built on, used frozen (every classifier but
    tfidf has one): what embeds the class names for the label-names cold start."""
    return model.text_encoder if isinstance(model, HasTextEncoder) else None


def cold_start_note(config: LabelConfig) -> str | None:
    """What ``alloop label`` says when the label-names cold start cannot run as asked."""
    if config.cold_start == "label-names" and not has_text_encoder(config.classifier):
        return (
            "`classifier` tfidf has no text encoder to compare items with the class names: the cold "
            "start is k-means on its TF-IDF embeddings instead (`cold_start` kmeans)"
        )
    return None


@dataclass(frozen=True)
class Progress:
    """What the trainer has done so far, kept in ``meta`` so a restart continues from it: model
    versions and round numbers never go back."""

    version: int = 0
    rounds: int = 0
    trained_on: int = 0


PROGRESS_KEY = "trainer"
TRAINER_NICE = 10
"""How much lower the trainer thread (and the torch threads it starts) runs than the request
threads: with the background pass beside 8 clients at 1M items, the requests' p99 was 2-4x
their p99 with nothing beside them (docs/scale.md), on a 2-core machine."""


def lower_own_priority(step: int = TRAINER_NICE) -> None:
    """Raise the calling thread's nice value by ``step`` (Linux: per thread, inherited by the
    threads it starts); a no-op where the OS has no per-thread priority."""
    if hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + step)
        except OSError:  # not permitted here: run at the same priority
            pass


def stored_progress(store: LabelStore) -> Progress:
    """The progress a previous server left (``last_model`` covers projects from before it was
    kept)."""
    state = store.get_meta(PROGRESS_KEY) or {}
    last = store.get_meta("last_model") or {}
    return Progress(
        version=max(int(state.get("version", 0)), int(last.get("version") or 0)),
        rounds=int(state.get("rounds", 0)),
        trained_on=int(state.get("trained_on", last.get("trained_on") or 0)),
    )


@dataclass(frozen=True)
class TrainingSet:
    positions: np.ndarray
    labels: np.ndarray
    """class codes into the project's label set"""
    unlabelled: np.ndarray
    """positions no one has given a class yet (partially labelled ones included: they still need
    their leaf, so the model ranks them again)"""
    partial_positions: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    """items whose final label is a category above the leaves (a tree's partial label)"""
    partial_leaves: tuple[tuple[int, ...], ...] = ()
    """for each of them, the class codes under its category"""

    @property
    def n_trained(self) -> int:
        return len(self.labels) + len(self.partial_positions)


def training_set(store: LabelStore, n_items: int, label_set: tuple[str, ...]) -> TrainingSet:
    """Final labels (a reviewer's, else the majority; ties left out until reviewed), the partial
    ones of a tree apart, and the positions no one has given a class yet."""
    code = {label: i for i, label in enumerate(label_set)}
    final = final_labels(store.label_rows(), store.adjudications())
    chosen = sorted(p for p, v in final.items() if v.label in code)
    tree = LabelTree.of(label_set)
    partial = sorted(p for p, v in final.items() if tree is not None and tree.is_partial(v.label))
    labelled = np.zeros(n_items, dtype=bool)
    labelled[[p for p, f in final.items() if f.n_labels or f.decided_by == "adjudication"]] = True
    labelled[partial] = False
    return TrainingSet(
        positions=np.array(chosen, dtype=np.int64),
        labels=np.array([code[final[p].label] for p in chosen], dtype=np.int64),  # type: ignore[index]
        unlabelled=np.flatnonzero(~labelled).astype(np.int64),
        partial_positions=np.array(partial, dtype=np.int64),
        partial_leaves=tuple(tree.leaves_under(final[p].label) for p in partial) if tree else (),  # type: ignore[arg-type]
    )


def train_with_partial(
    classifier: Callable[[], Classifier],
    pool_texts: list[str],
    data: TrainingSet,
    guide: Classifier | None = None,
) -> Classifier:
    """A classifier trained on the full labels and the partial ones, each partial label given the
    leaf under its category that ``guide`` (by default a model of the full labels alone) finds
    most probable (``alloop.loop.partial``)."""
    texts = [pool_texts[p] for p in data.positions]
    if not len(data.partial_positions):
        return train_on_pool(classifier(), pool_texts, texts, data.labels)
    if guide is None:
        guide = train_on_pool(classifier(), pool_texts, texts, data.labels)
    partial_texts = [pool_texts[p] for p in data.partial_positions]
    leaves = resolve_partial(guide.predict_proba(partial_texts), data.partial_leaves)
    labels = np.concatenate([data.labels, leaves])
    return train_on_pool(classifier(), pool_texts, texts + partial_texts, labels)


def fit_model(
    config: LabelConfig,
    store: LabelStore,
    items: Items,
    factory: Callable[[int], Classifier] | None = None,
    data: TrainingSet | None = None,
) -> tuple[Classifier, TrainingSet]:
    """The project's classifier trained on all final labels (what ``alloop predict`` uses);
    ``data``: the training set when the caller has read it already."""
    data = data if data is not None else training_set(store, len(items), config.labels)
    if len(data.labels) == 0:
        raise EmptyPoolError("the project has no labels yet; label some items first")
    factory = factory or classifier_factory(config.model, len(config.labels))
    model = train_with_partial(lambda: factory(config.seed), items.texts, data)
    return model, data


def cross_validated_f1(
    factory: Callable[[int], Classifier], texts: list[str], labels: np.ndarray, classes: list[str], seed: int
) -> float:
    """Out-of-fold macro-F1 on the labels so far: the honest estimate when no gold exists."""
    proba = out_of_fold(lambda: factory(seed), texts, labels, len(classes), seed, CV_FOLDS)
    return evaluate(labels, proba.argmax(axis=1), classes).macro_f1


class Trainer:
    """Owns the model and the embeddings; publishes snapshots through ``publish``."""

    def __init__(
        self,
        config: LabelConfig,
        store: LabelStore,
        items: Items,
        publish: Callable[[Snapshot], None],
    ):
        self.config = config
        self.store = store
        self.items = items
        self.publish = publish
        self.phase = "starting"
        self.error: str | None = None
        progress = stored_progress(store)
        self.rounds = progress.rounds
        self.version = progress.version
        """models trained so far, in this project's life: the version shown with each queue"""
        self.last_seconds = 0.0
        self._factory: Callable[[int], Classifier] | None = None
        self._last_model: Classifier | None = None
        """the previous round's model: it picks the leaf of each partial label for the next fit"""
        self._embeddings: np.ndarray | None = None
        self._name_similarity: np.ndarray | None = None
        """label-names cold start: (n_items, n_classes) similarity of item texts to class names"""
        self._near_labelled = near_labelled(config.near_labelled_subsample)
        """kept across retrains: its own neighbour graph is built once"""
        self._baseline = 0
        self._pending = False
        self._busy = False
        self._stop = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="alloop-trainer", daemon=True)

    # -- control (any thread) ------------------------------------------------------------------
    def start(self) -> None:
        with self._cond:
            self._pending = True
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def notify(self, n_labels: int) -> None:
        """Called after each committed label or adjudication (``n_labels`` counts both): asks for
        a round every ``query_size`` new ones. Requests that arrive while a round runs coalesce
        into one more round."""
        with self._cond:
            if n_labels - self._baseline >= self.config.query_size:
                self._baseline = n_labels
                self._pending = True
                self._cond.notify_all()

    @property
    def busy(self) -> bool:
        return self._busy or self._pending

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no round is running or pending (tests and benchmarks use it)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._busy or self._pending:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._cond.wait(left)
        return True

    # -- the worker ---------------------------------------------------------------------------
    def _run(self) -> None:
        lower_own_priority()  # requests first: the page must not wait on the background pass
        while True:
            with self._cond:
                while not self._pending and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                self._pending, self._busy = False, True
            try:
                self._round()
                self.error = None
            except Exception as exc:  # keep serving the last queue; the page shows the error
                self.error = f"{type(exc).__name__}: {exc}"
                log.exception("training round failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _prepare(self) -> None:
        """Load the model, precompute what it needs (bert-frozen: embed the pool, ~30 s for 9k
        titles on a CPU) and the cold start's embeddings, once."""
        if self._factory is not None:
            return
        self.phase = "loading the model"
        factory = classifier_factory(self.config.model, len(self.config.labels))
        model = factory(self.config.seed)
        check_strategy(self.config.get_strategy(), model)
        total, done = len(self.items), 0

        def progress(n: int) -> None:
            nonlocal done
            done += n
            self.phase = f"embedding the pool {done:,}/{total:,}"

        if isinstance(model, Precomputes):
            self.phase = f"embedding the pool 0/{total:,}"
            model.precompute(self.items.texts, progress)
        encoder = name_encoder(model)
        if self.config.cold_start == "label-names" and encoder is not None:
            self.phase = "ranking the pool by similarity to the class names"
            items = encoder.embed(self.items.texts)  # cached already by precompute
            names = encoder.embed(class_name_texts(self.config.labels))
            self._name_similarity = cosine_similarity(items, names)
        elif self.config.cold_start != "random" and isinstance(model, Embedder):
            # k-means; also label-names without an encoder (tfidf): measured better than matching
            # the words of the class names, which did worse than random (bench/cold_start.py)
            self.phase = "embedding the pool for the cold start"
            self._embeddings = model.embed(self.items.texts)
        self._factory = factory

    def _round(self) -> None:
        started = time.perf_counter()
        self._prepare()
        assert self._factory is not None
        self.phase = "training"
        config, texts = self.config, self.items.texts
        data = training_set(self.store, len(self.items), config.labels)
        with self._cond:
            self._baseline = max(self._baseline, self.store.count_labels() + self.store.count_adjudications())
        k = queue_length(config.query_size)
        rng = np.random.default_rng([config.seed, self.rounds])
        if len(np.unique(data.labels)) < 2:
            queue, source = self._cold_start(data, k)
            snapshot = Snapshot(tuple(int(p) for p in queue), source, self.version, data.n_trained)
        else:
            factory = self._factory
            model = train_with_partial(lambda: factory(config.seed), texts, data, self._last_model)
            self._last_model = model
            self.phase = "ranking the pool"
            ranked = query(
                model,
                config.get_strategy(),
                texts,
                data.unlabelled,
                data.positions,
                k,
                rng,
                config.pool_subsample,
                self._near_labelled,
            )
            suggestions = None
            if config.suggest:  # the pool's predictions, reused by the gold estimate below
                self.phase = "predicting the pool"
                complete = not isinstance(model, SlowToFit)
                ranked = pool_predictions(model, texts, data.unlabelled, ranked, complete)
                suggestions = Suggestions.from_query(len(texts), ranked)
            self.phase = "estimating macro-F1"
            estimate, calibration = self._estimate(model, data, ranked)
            self.phase = "checking labels and auto-labelling"
            trust = self._trust(model, data, ranked, calibration)
            self.phase = "finding near-duplicates of the queue"
            similar = self._near_duplicates(model, ranked.positions, data.unlabelled)
            self.version += 1
            snapshot = Snapshot(
                tuple(int(p) for p in ranked.positions),
                config.strategy_name,
                self.version,
                data.n_trained,
                estimate,
                suggestions=suggestions,
                similar=similar,
                reopened=frozenset(int(p) for p in data.partial_positions),
                trust=trust,
            )
        self.rounds += 1
        self.store.put_meta(  # before publishing: a version shown is never shown again after a crash
            PROGRESS_KEY, {"version": self.version, "rounds": self.rounds, "trained_on": snapshot.n_trained}
        )
        self.last_seconds = time.perf_counter() - started
        self.publish(replace(snapshot, seconds=self.last_seconds))
        self.phase = "idle"

    def _near_duplicates(
        self, model: Classifier, queue: np.ndarray, unlabelled: np.ndarray
    ) -> dict[int, tuple[int, ...]]:
        """Each queued item's near-duplicates among the unlabelled items (cosine above the
        project's near-duplicate threshold), for the page to offer one label to the group."""
        if not isinstance(model, Embedder) or not len(queue):
            return {}
        texts = self.items.texts
        if isinstance(model, FrozenFeatures):  # per-text vectors: embed the pool chunk by chunk

            def embed(rows: np.ndarray) -> np.ndarray:
                return model.embed([texts[i] for i in rows])

        else:  # an embedding fitted on the texts it is given (tfidf's LSA): the whole pool at once
            everything = model.embed(list(texts))

            def embed(rows: np.ndarray) -> np.ndarray:
                return everything[rows]

        groups = near_duplicate_groups(
            embed(np.asarray(queue)), embed, unlabelled, self.config.near_duplicate_threshold
        )
        return {
            int(q): tuple(int(p) for p in group if p != q) for q, group in zip(queue, groups, strict=True)
        }

    def _cold_start(self, data: TrainingSet, k: int) -> tuple[np.ndarray, str]:
        unlabelled = data.unlabelled
        if self._name_similarity is not None and len(unlabelled):
            n_classes = len(self.config.labels)
            seen = set(data.labels.tolist())
            # a tree's branches take turns, so the first items cover the branches (flat: in order)
            missing = [c for c in label_turns(self.config.labels) if c not in seen]
            chosen = label_name_representatives(
                self._name_similarity, max(k, n_classes), self.config.seed, unlabelled, first=missing
            )
            return chosen, "label-names"
        if self._embeddings is not None and len(unlabelled):
            return kmeans_representatives(self._embeddings, k, self.config.seed, unlabelled), "kmeans"
        order = permutation(len(self.items), self.config.seed)
        free = np.zeros(len(self.items), dtype=bool)
        free[unlabelled] = True
        return order[free[order]][:k], "random"

    def _estimate(
        self, model: Classifier, data: TrainingSet, ranked: Query
    ) -> tuple[Estimate | None, Calibration | None]:
        """On gold when the project has it (items not trained on), else out of fold; and the
        out-of-fold probabilities themselves (for auto-labelling and the label-error finder),
        kept beside the saved model. Reuses the probabilities the query step computed, scoring
        only the items it did not."""
        assert self._factory is not None
        config, texts, gold = self.config, self.items.texts, self.items.gold
        classes = list(config.labels)
        code = {label: i for i, label in enumerate(classes)}
        calibration = None
        if not isinstance(model, SlowToFit) and len(data.labels) >= CV_MIN_LABELS:
            # fine-tuning 5 folds each round would stall the loop
            calibration = project_calibration(config, self.items, data, self._factory)
        if config.gold is None:
            if calibration is None:
                return None, None
            f1 = evaluate(calibration.labels, calibration.predicted, classes).macro_f1
            return Estimate(f1, "cv", len(data.labels)), calibration
        trained = set(data.positions.tolist())
        scored = [p for p in range(len(texts)) if gold[p] in code and p not in trained]
        if not scored:
            return None, calibration
        known: dict[int, np.ndarray] = {}
        if ranked.proba is not None:
            known = {int(p): row for p, row in zip(ranked.scored, ranked.proba, strict=True)}
        missing = [p for p in scored if p not in known]
        if missing:
            known.update(zip(missing, model.predict_proba([texts[p] for p in missing]), strict=True))
        predicted = np.array([int(np.argmax(known[p])) for p in scored])
        truth = np.array([code[gold[p]] for p in scored])  # type: ignore[index]
        f1 = evaluate(truth, predicted, classes).macro_f1
        return Estimate(f1, "gold", len(scored)), calibration

    def _trust(
        self, model: Classifier, data: TrainingSet, ranked: Query, calibration: Calibration | None
    ) -> dict[str, Any] | None:
        """How many open items the model may label at the default target precision, and the
        suspected label errors (stored as open flags for the reviewers' queue)."""
        if calibration is None:
            return None
        open_ = data.unlabelled
        known: dict[int, int] = {}
        if ranked.proba is not None:
            known = {int(p): int(row.argmax()) for p, row in zip(ranked.scored, ranked.proba, strict=True)}
        missing = [int(p) for p in open_ if int(p) not in known]
        if missing:
            proba = model.predict_proba([self.items.texts[p] for p in missing])
            known.update(zip(missing, proba.argmax(axis=1).tolist(), strict=True))
        predicted = np.array([known[int(p)] for p in open_], dtype=np.int64)
        texts = [self.items.texts[int(p)] for p in open_]
        auto, _ = auto_labelled(calibration, texts, predicted, len(self.items))
        decided = set(self.store.adjudications())
        found = suspects(calibration, data, self.config.labels, decided)
        flag_store.replace_open(self.store, found, self.version + 1)
        return {**auto.as_json(), "suspected_errors": len(found)}
