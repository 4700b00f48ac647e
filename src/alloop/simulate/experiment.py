"""``run_experiment``: load the data, check the plan against it, open results.db, and hand the
grid to an executor (serial by default, Ray with ``workers`` > 1 or a cluster address)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alloop.data import TextDataset, load_dataset
from alloop.errors import AlloopError
from alloop.loop.initial import initial_count
from alloop.models import classifier_factory
from alloop.report import render_report
from alloop.simulate.config import RunConfig
from alloop.simulate.plan import Observer, QuietObserver, save_meta
from alloop.simulate.serial import run_grid_serially
from alloop.simulate.store import ResultStore


def run_experiment(
    config: RunConfig,
    out: Path,
    observer: Observer | None = None,
    resume: bool = False,
    load: Callable[..., TextDataset] = load_dataset,
    workers: int | None = None,
    ray_address: str | None = None,
    cpus_per_worker: int | None = None,
) -> Path:
    """Run (or, with ``resume``, finish) the grid of ``config`` in ``out``; returns report.html.

    ``workers`` > 1 or a ``ray_address`` runs the (strategy, seed) pairs on Ray workers
    (``alloop.simulate.ray``); this process stays the only writer of results.db, and the
    results equal the serial run's. One worker (the default) without an address never imports Ray.
    """
    observer = observer or QuietObserver()
    config.validate()
    if workers is not None and workers < 1:
        raise AlloopError(f"`workers` must be at least 1, got {workers}")
    if cpus_per_worker is not None and cpus_per_worker < 1:
        raise AlloopError(f"`cpus_per_worker` must be at least 1, got {cpus_per_worker}")
    on_ray = (workers or 1) > 1 or ray_address is not None
    if on_ray:  # before any slow work or any file: a missing Ray or a bad address is one line
        from alloop.simulate.ray import check_request

        check_request(workers, ray_address, cpus_per_worker)
    if not resume and (out / "results.db").exists():
        raise AlloopError(
            f"{out} already holds a run; continue it with `resume` {out} or choose another `out`"
        )
    if not resume and out.is_dir() and any(out.iterdir()):  # a run writes many files: never over a user's
        raise AlloopError(f"{out} already holds files alloop did not write; a run needs a new or empty `out`")
    data = load(
        config.data,
        text_columns=config.text,
        label_column=config.label,
        label_sep=config.label_sep,
        taxonomy=config.taxonomy,
        id_column=config.id_column,
        test_size=config.test_size,
        balanced_test=config.balanced_test,
        seed=config.seed,
    )
    if not resume:  # refused here, nothing is created
        check_against_pool(config.initial, config.query_size, config.budget, len(data.pool_texts))
        if config.oracle_partial and data.taxonomy is None:
            raise AlloopError(
                "`oracle_partial` answers with a parent category, so it needs a category tree; name the "
                "levels with `label` (repeated) or `label_sep`"
            )
        if config.query_level is not None and config.query_level > data.tree.depth:
            raise AlloopError(
                f"`query_level` {config.query_level} is below the category tree, which has "
                f"{data.tree.depth} level(s); name the levels with `label` (repeated) or `label_sep`"
            )
    observer.loaded(data)
    make_classifier = classifier_factory(config.model, data.n_classes, data.taxonomy)
    out.mkdir(parents=True, exist_ok=True)
    store = ResultStore(out / "results.db")
    try:
        if not resume:
            save_meta(store, config, data, out)
        if on_ray:
            from alloop.simulate.ray import run_grid_on_ray

            run_grid_on_ray(
                config, data, make_classifier, store, observer, workers, ray_address, cpus_per_worker
            )
        else:
            run_grid_serially(config, data, make_classifier, store, observer)
    finally:
        store.close()
    return render_report(out)


def check_against_pool(initial: float, query_size: int, budget: int | None, pool_size: int) -> None:
    """What ``alloop run`` can only check once the data is loaded, checked before the run folder
    is made: the initial set leaves items to query, the budget holds it, a batch fits the pool."""
    n_initial = initial_count(initial, pool_size)
    if budget is not None and n_initial > budget:
        raise AlloopError(
            f"the initial set ({n_initial}) is larger than `budget` {budget}; "
            "raise the budget or lower `initial`"
        )
    left = pool_size - n_initial
    if query_size > left:
        raise AlloopError(
            f"`query_size` {query_size} is larger than the unlabelled pool ({left} items after an initial "
            f"set of {n_initial}); use `query_size` {left} or less"
        )
