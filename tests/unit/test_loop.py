"""The engine, the oracle, stopping criteria and the initial set."""

from __future__ import annotations

import numpy as np
import pytest

from alloop.errors import AlloopError
from alloop.loop import ActiveLearner, draw_initial, initial_count
from alloop.loop.oracle import Oracle, SimulatedOracle
from alloop.loop.stopping import LabelBudget, MaxCycles, TargetF1
from alloop.strategies import STRATEGIES, get_strategy

N_CLASSES = 4


def gold(i: int) -> int:
    return (i * 7 + i // 3) % N_CLASSES


class SpyClassifier:
    """Checks, at every fit, that each training text carries its own gold label.

    Its probabilities vary per item, so uncertainty strategies pick from all over the pool; the
    seed's bug (dropping queried items from the pool but not from the label list) would hand it
    misaligned labels after the first cycle.
    """

    def __init__(self) -> None:
        self.n_classes = N_CLASSES
        self.fits = 0

    def fit(self, texts, labels):
        for text, label in zip(texts, labels, strict=True):
            assert label == gold(int(text.split()[1])), f"{text!r} got label {label}"
        self.fits += 1
        return self

    def embed(self, texts):
        ids = np.array([int(t.split()[1]) for t in texts])
        return np.stack([np.cos(ids * 0.37), np.sin(ids * 0.37), np.cos(ids * 1.3)], axis=1)

    def predict_proba(self, texts):
        ids = np.array([int(t.split()[1]) for t in texts])
        logits = np.sin(np.outer(ids + self.fits, np.arange(1, N_CLASSES + 1)))
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)


def make_learner(strategy="margin", n=300, query_size=7, stopping=(), ids=None, seed=0, pool_subsample=None):
    texts = [f"item {i}" for i in range(n)]
    labels = np.array([gold(i) for i in range(n)])
    ids = ids if ids is not None else [f"id-{i}" for i in range(n)]
    oracle = SimulatedOracle(ids, labels)
    test_texts = [f"item {i}" for i in range(40)]
    return ActiveLearner(
        SpyClassifier(),
        get_strategy(strategy),
        texts,
        pool_ids=ids,
        oracle=oracle,
        test_texts=test_texts,
        test_labels=np.array([gold(i) for i in range(40)]),
        classes=[f"c{k}" for k in range(N_CLASSES)],
        query_size=query_size,
        stopping=list(stopping),
        seed=seed,
        pool_subsample=pool_subsample,
    ), labels


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_every_queried_item_gets_its_own_label_after_many_cycles(strategy):
    # ids in scrambled order, so position and id differ
    ids = [f"id-{i}" for i in np.random.default_rng(1).permutation(300)]
    learner, labels = make_learner(strategy, ids=ids, stopping=[MaxCycles(30)])
    results = list(learner.run(np.arange(10)))
    assert len(results) == 31 and learner.classifier.fits == 31
    gold_by_id = dict(zip(ids, labels, strict=True))
    queried = [(i, lab) for r in results for i, lab in zip(r.queried_ids, r.queried_labels, strict=True)]
    assert len(queried) == 30 * 7
    assert len({i for i, _ in queried}) == len(queried)  # never the same item twice
    assert all(gold_by_id[i] == lab for i, lab in queried)
    labelled = learner.labelled
    assert np.array_equal(learner.labels[labelled], labels[labelled])
    assert (learner.labels >= 0).sum() == 10 + 30 * 7


def test_records_count_labels_and_stop_reason():
    learner, _ = make_learner(stopping=[MaxCycles(3)])
    results = list(learner.run(np.arange(5)))
    assert [r.n_labelled for r in results] == [5, 12, 19, 26]
    assert [r.stop_reason for r in results] == [None, None, None, "3 cycles"]
    assert results[-1].queried_ids == []


def test_budget_clamps_the_last_batch():
    learner, _ = make_learner(query_size=10, stopping=[LabelBudget(33)])
    results = list(learner.run(np.arange(5)))
    assert [r.n_labelled for r in results] == [5, 15, 25, 33]
    assert results[-1].stop_reason == "budget of 33"


def test_target_f1_stops_and_says_so():
    learner, _ = make_learner(stopping=[TargetF1(0.01), MaxCycles(50)])
    results = list(learner.run(np.arange(20)))
    assert results[-1].stop_reason == "target F1 0.01"
    assert len(results) < 51


def test_pool_exhaustion_stops_the_loop():
    learner, _ = make_learner(n=50, query_size=20)
    results = list(learner.run(np.arange(5)))
    assert [r.n_labelled for r in results] == [5, 25, 45, 50]
    assert results[-1].stop_reason == "pool exhausted"


def test_same_seed_same_queries_different_seed_different_queries():
    def queried(seed):
        learner, _ = make_learner("random", stopping=[MaxCycles(5)], seed=seed)
        return [r.queried_ids for r in learner.run(np.arange(10))]

    assert queried(3) == queried(3)
    assert queried(3) != queried(4)


def test_initial_larger_than_budget_is_refused():
    learner, _ = make_learner(stopping=[LabelBudget(5)])
    with pytest.raises(AlloopError, match="larger than `budget`"):
        list(learner.run(np.arange(10)))


def test_simulated_oracle_reveals_by_id():
    oracle = SimulatedOracle(["a", "b", "c"], [2, 0, 1])
    assert isinstance(oracle, Oracle)
    assert oracle.label(["c", "a"]).tolist() == [1, 2]
    assert oracle.n_revealed == 2
    with pytest.raises(AlloopError, match="no item with id 'z'"):
        oracle.label(["z"])
    with pytest.raises(AlloopError, match="unique"):
        SimulatedOracle(["a", "a"], [0, 1])


def test_initial_count_fraction_and_count():
    assert initial_count(0.2, 1000) == 200
    assert initial_count(100, 1000) == 100
    for bad, message in [(1000, "pool has 1000"), (0, "positive"), (0.0001, "no item"), (2.5, "whole")]:
        with pytest.raises(AlloopError, match=message):
            initial_count(bad, 1000)


def test_stratified_initial_keeps_class_shares_and_every_class():
    labels = np.array([0] * 700 + [1] * 200 + [2] * 95 + [3] * 5)
    quota = np.array([70, 20, 9.5, 0.5])  # 100 items in proportion to the pool
    for seed in range(10):
        picked = draw_initial(labels, 100, "stratified", np.random.default_rng(seed))
        assert len(picked) == len(set(picked.tolist())) == 100
        counts = np.bincount(labels[picked], minlength=4)
        assert counts[3] == 1  # the rarest class still gets its one item
        assert np.abs(counts - quota).max() <= 1
    small = draw_initial(labels, 4, "stratified", np.random.default_rng(0))
    assert sorted(labels[small].tolist()) == [0, 1, 2, 3]


def test_random_initial_is_seeded_and_label_free():
    labels = np.zeros(500, dtype=int)
    a = draw_initial(labels, 0.1, "random", np.random.default_rng(2))
    b = draw_initial(labels, 0.1, "random", np.random.default_rng(2))
    assert a.tolist() == b.tolist() and len(a) == 50
    with pytest.raises(AlloopError, match="`initial_strategy`"):
        draw_initial(labels, 10, "kmeans-typo", np.random.default_rng(0))


class CountingSpy(SpyClassifier):
    """Records how many texts each scoring call saw."""

    def __init__(self) -> None:
        super().__init__()
        self.scored: list[int] = []
        self.both_calls = 0

    def predict_proba(self, texts):
        self.scored.append(len(texts))
        return super().predict_proba(texts)


def test_pool_subsample_scores_only_that_many_and_is_seeded():
    learner, _ = make_learner("entropy", n=300, query_size=5, stopping=[MaxCycles(3)], pool_subsample=25)
    learner.classifier = spy = CountingSpy()
    picks = [r.queried_positions for r in learner.run(np.arange(10))]
    assert spy.scored == [40, 25, 40, 25, 40, 25, 40]  # test set (40) and 25 candidates, never 290
    # the best of the subsample, not of the pool: entropy over the whole pool picks differently
    full, _ = make_learner("entropy", n=300, query_size=5, stopping=[MaxCycles(3)])
    full_picks = [r.queried_positions for r in full.run(np.arange(10))]
    assert not all(np.array_equal(a, b) for a, b in zip(picks, full_picks, strict=True))
    again, _ = make_learner("entropy", n=300, query_size=5, stopping=[MaxCycles(3)], pool_subsample=25)
    again_picks = [r.queried_positions for r in again.run(np.arange(10))]
    for a, b in zip(picks, again_picks, strict=True):
        np.testing.assert_array_equal(a, b)


def test_pool_subsample_smaller_than_a_batch_is_refused():
    with pytest.raises(AlloopError, match="`pool_subsample`"):
        make_learner(query_size=10, pool_subsample=5)


class BothSpy(CountingSpy):
    """A classifier that can give probabilities and embeddings from one pass."""

    def predict_proba_and_embed(self, texts):
        self.both_calls += 1
        return SpyClassifier.predict_proba(self, texts), self.embed(texts)


def test_strategies_needing_both_get_them_from_one_pass():
    learner, _ = make_learner("badge", n=120, query_size=5, stopping=[MaxCycles(2)])
    learner.classifier = spy = BothSpy()
    results = list(learner.run(np.arange(10)))
    assert spy.both_calls == 2
    # only the test set went through predict_proba; the pool was scored by the combined pass
    assert spy.scored == [40, 40, 40]
    reference, _ = make_learner("badge", n=120, query_size=5, stopping=[MaxCycles(2)])
    for a, b in zip(results, reference.run(np.arange(10)), strict=True):
        np.testing.assert_array_equal(a.queried_positions, b.queried_positions)


def test_chunked_scoring_equals_one_call_and_bounds_each_call():
    from alloop.loop.scoring import predict_in_chunks

    spy = CountingSpy()
    texts = [f"item {i}" for i in range(250)]
    chunked = predict_in_chunks(spy, texts, chunk=64)
    assert spy.scored == [64, 64, 64, 58]
    np.testing.assert_array_equal(chunked, SpyClassifier().predict_proba(texts))
    assert predict_in_chunks(spy, [], chunk=64).shape == (0, 0)
    with pytest.raises(ValueError, match="chunk"):
        predict_in_chunks(spy, texts, chunk=0)


def test_a_resumed_subsampled_run_queries_what_an_uninterrupted_one_does():
    whole, _ = make_learner("margin", stopping=[MaxCycles(6)], pool_subsample=30)
    expected = [r.queried_ids for r in whole.run(np.arange(10))]

    first, _ = make_learner("margin", stopping=[MaxCycles(6)], pool_subsample=30)
    results = first.run(np.arange(10))
    seen = [next(results).queried_ids for _ in range(3)]  # stop after cycle 2, as a kill would
    positions, labels = first.labelled, first.labels[first.labelled]
    state = first.rng_state()
    again, _ = make_learner("margin", stopping=[MaxCycles(6)], pool_subsample=30)
    again.classifier.fits = first.classifier.fits  # the spy's probabilities depend on its fit count
    seen += [r.queried_ids for r in again.resume(positions, labels, 3, state)]
    assert seen == expected
