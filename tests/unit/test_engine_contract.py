"""The one-engine contract: every strategy (and ``margin+dedup``) runs through both front ends,
the simulation loop and the live trainer of ``alloop label``, with ``tfidf`` and ``bert-frozen``,
on ~200 real amazon.in titles; a live retrain publishes the query step's own ranking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from label_support import small_amazon

from alloop.data import load_dataset
from alloop.labelling.domain.queue import queue_length
from alloop.labelling.domain.service import Answer, LabelService
from alloop.labelling.domain.trainer import training_set
from alloop.labelling.storage.project import open_project
from alloop.loop import ActiveLearner
from alloop.loop.oracle import SimulatedOracle
from alloop.loop.query import query
from alloop.loop.stopping import MaxCycles
from alloop.models import ModelConfig, classifier_factory
from alloop.strategies import STRATEGIES, get_strategy

NAMES = [*STRATEGIES, "margin+dedup"]
CLASSIFIERS = ["tfidf", "bert-frozen"]
QUERY_SIZE = 5
MAX_LENGTH = 32


@pytest.fixture(scope="module")
def data_file(amazon_sample, tmp_path_factory) -> Path:
    return small_amazon(amazon_sample, tmp_path_factory.mktemp("contract"), per_class=11)  # 209 titles


@pytest.fixture(scope="module")
def dataset(data_file):
    return load_dataset(str(data_file), text_columns=("title",), label_column="category", seed=0)


@pytest.fixture(scope="module")
def factories(dataset):
    """One factory per classifier for the whole module: the encoder loads once."""
    return {
        name: classifier_factory(ModelConfig(classifier=name, max_length=MAX_LENGTH), dataset.n_classes)
        for name in CLASSIFIERS
    }


@pytest.mark.parametrize("classifier", CLASSIFIERS)
@pytest.mark.parametrize("strategy", NAMES)
def test_every_strategy_runs_in_the_simulation_loop(dataset, factories, classifier, strategy):
    learner = ActiveLearner(
        factories[classifier](0),
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
    )
    initial = np.random.default_rng(0).choice(len(dataset.pool_texts), 20, replace=False)
    results = list(learner.run(initial))
    assert [r.cycle for r in results] == [0, 1, 2] and results[-1].stop_reason == "2 cycles"
    queried = np.concatenate([r.queried_positions for r in results])
    assert len(queried) == 2 * QUERY_SIZE and len(set(queried.tolist()) | set(initial.tolist())) == 30
    assert [r.n_labelled for r in results] == [20, 25, 30]
    np.testing.assert_array_equal(learner.labels[queried], dataset.pool_labels[queried])


def label_some(service: LabelService, n: int) -> None:
    """An annotator labels the next ``n`` items it is handed, with their gold labels."""
    alice = service.store.annotators()[0]
    for _ in range(n):
        item = service.next_item(alice)
        assert item is not None
        gold = service.items.gold[service.position[item["item_id"]]]
        service.submit(alice, Answer(item_id=item["item_id"], label=gold))


@pytest.mark.parametrize("classifier", CLASSIFIERS)
@pytest.mark.parametrize("strategy", NAMES)
def test_every_strategy_ranks_the_live_queue(data_file, tmp_path, classifier, strategy):
    labels = tuple((data_file.parent / "labels.txt").read_text().split("\n")[:-1])
    given = {
        "data": str(data_file),
        "labels": labels,
        "gold": "category",
        "classifier": classifier,
        "max_length": MAX_LENGTH,
        "strategy": strategy,
        "query_size": QUERY_SIZE,
    }
    store, config, items = open_project(tmp_path / "project", given)
    store.add_annotator("alice")
    service = LabelService(store, config, items).start()
    try:
        trainer = service.trainer
        assert trainer is not None and trainer.wait_idle(120)
        cold = service.snapshot
        assert trainer.error is None, trainer.error
        # the label-name cold start where the classifier has an encoder; k-means on tfidf's own vectors
        assert (cold.version, cold.source) == (0, "kmeans" if classifier == "tfidf" else "label-names")
        for version in (1, 2):
            label_some(service, QUERY_SIZE)
            assert trainer.wait_idle(120)
            assert trainer.error is None, trainer.error
            snapshot = service.snapshot
            assert (snapshot.version, snapshot.source) == (version, strategy)
            queue = np.array(snapshot.queue)
            data = training_set(store, len(items), config.labels)
            assert len(queue) == queue_length(QUERY_SIZE) and len(set(queue.tolist())) == len(queue)
            assert not set(queue.tolist()) & set(data.positions.tolist())
        # the queue is the engine's query step, exactly: same model, same strategy, same seeded RNG
        factory = classifier_factory(config.model, len(config.labels))
        model = factory(config.seed).fit([items.texts[p] for p in data.positions], data.labels)
        rng = np.random.default_rng([config.seed, trainer.rounds - 1])
        expected = query(
            model, config.get_strategy(), items.texts, data.unlabelled, data.positions, len(queue), rng
        )
        np.testing.assert_array_equal(queue, expected.positions)
        assert service.stats()["model"]["queue_source"] == strategy
    finally:
        service.close()
