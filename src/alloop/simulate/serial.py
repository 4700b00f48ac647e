"""The serial executor: the (strategy, seed) grid of a plan, run in this process, one pair after
another, each cycle saved as it finishes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alloop.data import TextDataset
from alloop.models import Precomputes
from alloop.models.base import fit_depends_on_seed
from alloop.simulate.config import RunConfig
from alloop.simulate.plan import (
    Observer,
    full_pool_ceiling,
    prepare_seed,
    run_pair,
    save_cycle,
)
from alloop.simulate.store import ResultStore


def run_grid_serially(
    config: RunConfig,
    data: TextDataset,
    make_classifier: Callable[[int], Any],
    store: ResultStore,
    observer: Observer,
) -> None:
    """Every seed of the grid in turn; a classifier that precomputes (embeds the texts) does it
    once, up front, with a progress bar."""
    first = make_classifier(config.seed)
    if isinstance(first, Precomputes):
        texts = data.pool_texts + data.test_texts
        first.precompute(texts, observer.task("embedding pool + test", len(texts)))
    for seed in config.seed_list:
        run_seed(config, data, seed, make_classifier, store, observer)


def run_seed(
    config: RunConfig,
    data: TextDataset,
    seed: int,
    make_classifier: Callable[[int], Any],
    store: ResultStore,
    observer: Observer,
) -> None:
    setup = prepare_seed(config, data, seed, make_classifier, store)
    # the split and the classifier are the same for every seed; a fit that ignores the seed gives
    # the same full-pool model, so it is trained once and its scores shared
    shared = (
        config.ceiling
        and not store.has_ceiling(seed)
        and not fit_depends_on_seed(make_classifier(seed))
        and store.share_ceiling(seed)
    )
    if config.ceiling and not shared and not store.has_ceiling(seed):
        scores, seconds = full_pool_ceiling(data, seed, make_classifier)
        store.save_ceiling(seed, len(data.pool_texts), scores, seconds)
        observer.ceiling_done(seed, scores, seconds)
    for name in config.strategies:
        point = store.resume_point(name, seed)
        observer.strategy_started(name, seed, point.next_cycle if point else 0)
        if point is not None and point.done:
            continue
        for result, rng_state in run_pair(config, data, setup, name, make_classifier, point):
            save_cycle(store, name, seed, result, rng_state)
            observer.cycle_done(name, seed, result)
