"""The contract every registered strategy runs, in the spirit of scikit-activeml's
``tests/template_query_strategy.py``: a new entry in ``STRATEGIES`` (and its ``+dedup`` form) is
covered here without writing a test, and ``test_every_registered_name_has_a_contract_run`` fails
if one is not. Both front ends' runs of each strategy are in ``test_engine_contract.py``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alloop.loop.query import query
from alloop.models import TfidfClassifier
from alloop.strategies import STRATEGIES, STRATEGY_NAMES, get_strategy

BATCH = 7
POOL = 120
LABELLED = 30


@pytest.fixture(scope="module")
def fitted(amazon_sample):
    """tfidf fitted on 30 real titles of a 120-title pool (the first 30 positions are labelled)."""
    frame = pd.read_parquet(amazon_sample).sample(n=POOL, random_state=0).reset_index(drop=True)
    classes = sorted(frame["category"].unique())
    labels = frame["category"].map(classes.index).to_numpy()
    texts = frame["title"].tolist()
    classifier = TfidfClassifier(len(classes), seed=0).fit(texts[:LABELLED], labels[:LABELLED])
    return classifier, texts


def run_query(fitted, name: str, unlabelled: np.ndarray, k: int, seed: int) -> np.ndarray:
    classifier, texts = fitted
    labelled = np.arange(LABELLED)
    step = query(classifier, get_strategy(name), texts, unlabelled, labelled, k, np.random.default_rng(seed))
    return step.positions


@pytest.mark.parametrize("name", STRATEGY_NAMES)
class TestStrategyContract:
    def test_picks_the_batch_size_of_unique_unlabelled_items(self, fitted, name):
        unlabelled = np.arange(LABELLED, POOL)
        picks = run_query(fitted, name, unlabelled, BATCH, seed=0)
        assert len(picks) == BATCH == len(set(picks.tolist()))
        assert np.isin(picks, unlabelled).all()

    def test_is_deterministic_under_a_seed(self, fitted, name):
        unlabelled = np.arange(LABELLED, POOL)
        first = run_query(fitted, name, unlabelled, BATCH, seed=3)
        np.testing.assert_array_equal(first, run_query(fitted, name, unlabelled, BATCH, seed=3))

    def test_works_with_the_smallest_pool(self, fitted, name):
        one = np.array([POOL - 1])
        np.testing.assert_array_equal(run_query(fitted, name, one, BATCH, seed=0), one)

    def test_a_pool_smaller_than_the_batch_is_taken_whole(self, fitted, name):
        few = np.arange(POOL - 4, POOL)
        assert sorted(run_query(fitted, name, few, BATCH, seed=0).tolist()) == few.tolist()


def test_every_registered_name_has_a_contract_run():
    """A strategy registered without this contract (or dropped from its parametrization) fails here."""
    (names,) = [m.args[1] for m in TestStrategyContract.pytestmark if m.name == "parametrize"]
    registered = {*STRATEGIES, *(f"{name}+dedup" for name in STRATEGIES)}
    missing = registered - set(names)
    assert not missing, f"strategies with no contract run: {sorted(missing)}"
