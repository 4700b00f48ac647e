"""Candidates near the labelled items (``--near-labelled-subsample``, SEALS): what they hold, and
every strategy's contract through both front ends with them on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from test_engine_contract import MAX_LENGTH, NAMES, QUERY_SIZE, data_file, dataset, label_some  # noqa: F401

from alloop.errors import AlloopError
from alloop.labelling.domain.service import LabelService
from alloop.labelling.storage.project import open_project
from alloop.loop import ActiveLearner
from alloop.loop.candidates import NearLabelled
from alloop.loop.oracle import SimulatedOracle
from alloop.loop.query import query
from alloop.loop.stopping import MaxCycles
from alloop.models import ModelConfig, classifier_factory
from alloop.strategies import get_strategy


class LineEmbedder:
    """Text "t{i}" sits at angle i/100 on a circle: its neighbours are i-1, i+1, i-2, ..."""

    n_classes = 2

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        angle = np.array([int(t[1:]) for t in texts]) / 100.0
        return np.stack([np.cos(angle), np.sin(angle)], axis=1).astype(np.float32)


def test_candidates_are_the_labelled_items_neighbours_plus_a_random_share():
    pool = [f"t{i}" for i in range(300)]
    labelled = np.array([50, 200])
    unlabelled = np.setdiff1d(np.arange(300), labelled)
    sampler = NearLabelled(n_random=10)
    sampler._own_graph.n_neighbours = 4
    got = sampler(LineEmbedder(), pool, unlabelled, labelled, 5, np.random.default_rng(0))
    near = {48, 49, 51, 52, 198, 199, 201, 202}
    assert near <= set(got.tolist()) and len(got) == len(near) + 10
    assert not set(got.tolist()) & set(labelled.tolist()) and (np.diff(got) > 0).all()
    again = NearLabelled(n_random=10)
    again._own_graph.n_neighbours = 4
    np.testing.assert_array_equal(
        again(LineEmbedder(), pool, unlabelled, labelled, 5, np.random.default_rng(0)), got
    )
    # too few near ones for a batch: random ones fill it; a small pool is scored whole
    assert (
        len(NearLabelled(0)(LineEmbedder(), pool, unlabelled, labelled, 40, np.random.default_rng(0))) >= 40
    )
    assert (
        len(NearLabelled(500)(LineEmbedder(), pool, unlabelled, labelled, 5, np.random.default_rng(0))) == 298
    )


def test_a_negative_share_is_refused():
    with pytest.raises(AlloopError, match="`near_labelled_subsample`"):
        NearLabelled(-1)


@pytest.mark.parametrize("strategy", NAMES)
def test_every_strategy_runs_in_the_simulation_loop_on_near_candidates(dataset, strategy):  # noqa: F811
    make = classifier_factory(ModelConfig(classifier="tfidf"), dataset.n_classes)
    learner = ActiveLearner(
        make(0),
        get_strategy(strategy),
        dataset.pool_texts,
        pool_ids=dataset.pool_ids,
        oracle=SimulatedOracle(dataset.pool_ids, dataset.pool_labels),
        test_texts=dataset.test_texts,
        test_labels=dataset.test_labels,
        classes=dataset.classes,
        query_size=QUERY_SIZE,
        stopping=[MaxCycles(2)],
        seed=0,
        near_labelled_subsample=10,
    )
    initial = np.random.default_rng(0).choice(len(dataset.pool_texts), 20, replace=False)
    results = list(learner.run(initial))
    queried = np.concatenate([r.queried_positions for r in results])
    assert len(queried) == 2 * QUERY_SIZE and len(set(queried.tolist()) | set(initial.tolist())) == 30
    assert len(learner.last_query.scored) < len(dataset.pool_texts) - 25  # not the whole pool
    np.testing.assert_array_equal(learner.labels[queried], dataset.pool_labels[queried])


@pytest.mark.parametrize("strategy", NAMES)
def test_every_strategy_ranks_the_live_queue_from_near_candidates(data_file, tmp_path, strategy):  # noqa: F811
    labels = tuple((data_file.parent / "labels.txt").read_text().split("\n")[:-1])
    given = {
        "data": str(data_file),
        "labels": labels,
        "gold": "category",
        "classifier": "tfidf",
        "strategy": strategy,
        "query_size": QUERY_SIZE,
        "near_labelled_subsample": 10,
    }
    store, config, items = open_project(tmp_path / "project", given)
    store.add_annotator("alice")
    service = LabelService(store, config, items).start()
    try:
        trainer = service.trainer
        assert trainer is not None and trainer.wait_idle(120)
        label_some(service, QUERY_SIZE)
        assert trainer.wait_idle(120) and trainer.error is None, trainer.error
        snapshot = service.snapshot
        assert (snapshot.version, snapshot.source) == (1, strategy)
        from alloop.labelling.domain.trainer import training_set

        data = training_set(store, len(items), config.labels)
        queue = np.array(snapshot.queue)
        model = classifier_factory(config.model, len(config.labels))(config.seed)
        model.fit([items.texts[p] for p in data.positions], data.labels)
        rng = np.random.default_rng([config.seed, trainer.rounds - 1])
        expected = query(
            model,
            config.get_strategy(),
            items.texts,
            data.unlabelled,
            data.positions,
            len(queue),
            rng,
            near_labelled=NearLabelled(10),
        )
        np.testing.assert_array_equal(queue, expected.positions)
        assert len(expected.scored) < len(data.unlabelled)
    finally:
        service.close()


def test_cli_refuses_a_negative_near_labelled_subsample(tmp_path):
    from cli_support import alloop

    result = alloop("run", "--near-labelled-subsample", "-1", "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "near-labelled-subsample" in result.stderr
    assert "Traceback" not in result.stderr
