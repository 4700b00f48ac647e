"""The one query step: score what the strategy needs, then let it pick.

Both front ends call ``query``: the simulation loop (``ActiveLearner``) once per cycle, and the
live trainer of ``alloop label`` once per retrain. So every strategy, the near-duplicate guard
(``NAME+dedup``, ``--no-near-duplicates``) and ``--pool-subsample`` behave the same in both.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from alloop.errors import AlloopBug, AlloopError
from alloop.loop.candidates import NearLabelled, check_near_labelled
from alloop.loop.scoring import predict_in_chunks
from alloop.models.base import Classifier, Embedder, JointScorer
from alloop.models.config import ModelConfig
from alloop.strategies import Strategy, check_threshold
from alloop.strategies.selection import check_k


def _empty() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class Query:
    """A ranked batch and how it was made. ``positions`` index the pool, most useful first;
    ``scored`` are the candidates the strategy saw and ``proba`` their probabilities (``None``
    when the strategy needed none), so a caller can reuse them instead of scoring again."""

    positions: np.ndarray
    scored: np.ndarray
    proba: np.ndarray | None
    score_seconds: float = 0.0
    query_seconds: float = 0.0


def check_strategy(strategy: Strategy, classifier: Classifier) -> None:
    """Refuse a strategy that needs embeddings with a classifier that gives none, before any work."""
    if strategy.needs_embeddings and not isinstance(classifier, Embedder):
        raise AlloopError(
            f"strategy {strategy.name} needs embeddings, which {type(classifier).__name__} does not give"
        )


def check_pool_subsample(pool_subsample: int | None, query_size: int) -> None:
    if pool_subsample is not None and pool_subsample < query_size:
        raise AlloopError(
            f"`pool_subsample` ({pool_subsample}) must be at least the query size ({query_size})"
        )


def check_query_options(
    strategies: Sequence[Strategy],
    model: ModelConfig,
    query_size: int,
    pool_subsample: int | None,
    near_duplicate_threshold: float,
    seed: int,
    near_labelled_subsample: int | None = None,
) -> None:
    """The rules both front ends' configs share, checked in one place before any work: a whole
    batch size, a subsample that holds a batch, a valid near-duplicate threshold, a non-negative
    seed, and embeddings for every strategy that needs them."""
    check_k(query_size)
    model.validate()
    check_threshold(near_duplicate_threshold)
    for strategy in strategies:
        if strategy.needs_embeddings:
            model.require_embeddings(f"strategy {strategy.name}")
    if seed < 0:
        raise AlloopError(f"`seed` must be 0 or more, got {seed}")
    check_pool_subsample(pool_subsample, query_size)
    if near_labelled_subsample is not None:
        model.require_embeddings("`near_labelled_subsample`")
    check_near_labelled(near_labelled_subsample)


def score(
    classifier: Classifier,
    strategy: Strategy,
    pool_texts: Sequence[str],
    candidates: np.ndarray,
    labelled: np.ndarray,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Only what ``strategy`` needs, for the ``candidates``: probabilities (chunked, so memory
    stays flat on big pools), embeddings (and the labelled items', for coreset), or both from one
    forward pass when the classifier can (a fine-tuned encoder would otherwise run twice)."""
    texts = [pool_texts[i] for i in candidates]
    needs_proba, needs_embeddings = strategy.needs_proba, strategy.needs_embeddings
    check_strategy(strategy, classifier)
    if needs_proba and needs_embeddings and isinstance(classifier, JointScorer):
        proba, embeddings = classifier.predict_proba_and_embed(texts)
        assert isinstance(classifier, Embedder)
        return proba, embeddings, classifier.embed([pool_texts[i] for i in labelled])
    proba = predict_in_chunks(classifier, texts) if needs_proba else np.empty((len(texts), 0))
    if not needs_embeddings:
        return proba, None, None
    assert isinstance(classifier, Embedder)
    # the whole pool at once: tfidf's LSA is fitted on the texts it is given (and cached for them)
    everything = classifier.embed(list(pool_texts))
    return proba, everything[candidates], everything[labelled]


def query(
    classifier: Classifier,
    strategy: Strategy,
    pool_texts: Sequence[str],
    unlabelled: np.ndarray,
    labelled: np.ndarray,
    k: int,
    rng: np.random.Generator,
    pool_subsample: int | None = None,
    near_labelled: NearLabelled | None = None,
) -> Query:
    """The strategy's ``k`` most useful ``unlabelled`` pool positions, most useful first.

    With ``pool_subsample`` only that many unlabelled items, drawn with ``rng``, are scored: for a
    fine-tuned encoder scoring is the slow part, and the best of 2,000 random candidates is
    usually nearly as informative as the best of the whole pool. With ``near_labelled`` only the
    unlabelled neighbours of the labelled items and a random share are candidates (SEALS,
    ``loop/candidates.py``); ``pool_subsample`` then draws from those. ``classifier`` must be fitted.
    """
    unlabelled = np.asarray(unlabelled, dtype=np.int64)
    labelled = np.asarray(labelled, dtype=np.int64)
    candidates = unlabelled
    if near_labelled is not None:
        candidates = near_labelled(classifier, pool_texts, candidates, labelled, int(k), rng)
    if pool_subsample is not None and len(candidates) > pool_subsample:
        candidates = np.sort(rng.choice(candidates, pool_subsample, replace=False))
    k = min(int(k), len(candidates))
    if k <= 0:
        return Query(_empty(), candidates, None)
    t0 = time.perf_counter()
    proba, embeddings, labelled_embeddings = score(classifier, strategy, pool_texts, candidates, labelled)
    t1 = time.perf_counter()
    if proba is not None and proba.size and not np.isfinite(proba).all():
        raise AlloopBug(f"{type(classifier).__name__} returned NaN or infinite probabilities")
    rows = np.asarray(strategy(proba, k, rng, embeddings, labelled_embeddings), dtype=np.int64)
    if len(np.unique(rows)) != len(rows) or (len(rows) and (rows.min() < 0 or rows.max() >= len(candidates))):
        raise AlloopBug(f"strategy {strategy.name} returned repeated or out-of-range rows")
    picks = candidates[rows]
    if np.isin(picks, labelled).any():
        raise AlloopBug(f"strategy {strategy.name} queried an item that is labelled already")
    return Query(
        picks,
        candidates,
        proba if strategy.needs_proba else None,
        score_seconds=t1 - t0,
        query_seconds=time.perf_counter() - t1,
    )
