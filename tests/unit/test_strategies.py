"""Each strategy against matrices computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from alloop.errors import AlloopError
from alloop.strategies import STRATEGIES, get_strategy, top_k
from alloop.strategies.uncertainty import entropy, least_confidence, margin

P = np.array(
    [
        [0.90, 0.05, 0.05],  # confident
        [0.40, 0.35, 0.25],  # margin 0.05, top 0.40
        [0.34, 0.33, 0.33],  # near uniform: margin 0.01, top 0.34, max entropy
        [0.50, 0.50, 0.00],  # margin 0, top 0.50, entropy ln 2
        [0.70, 0.20, 0.10],
    ]
)


def test_least_confidence_scores_are_one_minus_top_probability():
    np.testing.assert_allclose(least_confidence(P), [0.10, 0.60, 0.66, 0.50, 0.30])


def test_entropy_scores_by_hand():
    expected = [
        -(0.9 * np.log(0.9) + 2 * 0.05 * np.log(0.05)),
        -(0.4 * np.log(0.4) + 0.35 * np.log(0.35) + 0.25 * np.log(0.25)),
        -(0.34 * np.log(0.34) + 2 * 0.33 * np.log(0.33)),
        np.log(2),  # the zero column adds nothing: 0 log 0 = 0
        -(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1)),
    ]
    np.testing.assert_allclose(entropy(P), expected)


def test_margin_scores_are_minus_top_two_gap():
    np.testing.assert_allclose(margin(P), [-0.85, -0.05, -0.01, 0.0, -0.50], atol=1e-12)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("least-confidence", [2, 1, 3]),  # 0.66 > 0.60 > 0.50
        ("entropy", [2, 1, 4]),  # 1.0985 > 1.0805 > 0.8018 (row 3: 0.6931)
        ("margin", [3, 2, 1]),  # gaps 0 < 0.01 < 0.05
    ],
)
def test_strategies_pick_the_hand_ranked_items(name, expected):
    picked = get_strategy(name)(P, 3, np.random.default_rng(0))
    assert picked.tolist() == expected


def test_the_strategies_disagree_where_they_should():
    """Row 3 (50/50 over two classes) is margin's first pick but only entropy's fourth."""
    rng = np.random.default_rng(0)
    assert get_strategy("margin")(P, 1, rng).tolist() == [3]
    assert get_strategy("entropy")(P, 1, rng).tolist() == [2]


def test_ties_are_broken_by_the_seeded_rng_not_by_position():
    scores = np.array([0.5, 0.9, 0.5, 0.5, 0.5, 0.1])
    firsts = set()
    for seed in range(40):
        picked = top_k(scores, 2, np.random.default_rng(seed))
        assert picked[0] == 1  # the clear winner always comes first
        assert picked[1] in {0, 2, 3, 4}
        firsts.add(int(picked[1]))
    assert firsts == {0, 2, 3, 4}  # every tied item gets drawn for some seed
    again = [top_k(scores, 2, np.random.default_rng(7)).tolist() for _ in range(3)]
    assert again[0] == again[1] == again[2]  # same seed, same batch


def test_permuted_rows_score_as_exact_ties_for_entropy():
    p = np.array([[0.2, 0.3, 0.5], [0.5, 0.2, 0.3], [0.3, 0.5, 0.2]])
    assert len(set(entropy(p).tolist())) == 1


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_a_batch_never_holds_an_item_twice(name):
    rng = np.random.default_rng(3)
    proba = rng.dirichlet(np.ones(5), size=200)
    proba[::2] = proba[0]  # many exact ties
    embeddings = rng.normal(size=(200, 8))
    embeddings[::2] = embeddings[0]  # duplicates in embedding space too
    picked = get_strategy(name)(proba, 60, rng, embeddings, embeddings[:5])
    assert len(picked) == 60 == len(set(picked.tolist()))
    assert picked.min() >= 0 and picked.max() < 200


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_asking_for_more_than_the_pool_returns_the_pool(name):
    embeddings = np.eye(5)
    picked = get_strategy(name)(P, 50, np.random.default_rng(0), embeddings, embeddings[:1])
    assert sorted(picked.tolist()) == [0, 1, 2, 3, 4]


def test_random_is_seeded():
    a = get_strategy("random")(np.empty((100, 0)), 10, np.random.default_rng(5))
    b = get_strategy("random")(np.empty((100, 0)), 10, np.random.default_rng(5))
    assert a.tolist() == b.tolist()


def test_bad_inputs_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(AlloopError, match="at least 1"):
        get_strategy("margin")(P, 0, rng)
    with pytest.raises(AlloopError, match="NaN"):
        get_strategy("margin")(np.array([[np.nan, 1.0]]), 1, rng)
    with pytest.raises(AlloopError, match="unknown strategy"):
        get_strategy("nope")


def test_balanced_margin_lets_each_predicted_class_take_a_turn():
    # margins: class 0 holds the three most uncertain items, class 1 and class 2 one each
    p = np.array(
        [
            [0.50, 0.49, 0.01],  # class 0, gap 0.01
            [0.51, 0.48, 0.01],  # class 0, gap 0.03
            [0.52, 0.46, 0.02],  # class 0, gap 0.06
            [0.30, 0.60, 0.10],  # class 1, gap 0.30
            [0.05, 0.15, 0.80],  # class 2, gap 0.65
            [0.80, 0.10, 0.10],  # class 0, gap 0.70
        ]
    )
    assert get_strategy("margin")(p, 3, np.random.default_rng(0)).tolist() == [0, 1, 2]
    # turn 1: class 0 (it holds the best item), class 1, class 2; turn 2: class 0 again
    assert get_strategy("balanced-margin")(p, 4, np.random.default_rng(0)).tolist() == [0, 3, 4, 1]
    assert get_strategy("balanced-margin")(p, 6, np.random.default_rng(0)).tolist() == [0, 3, 4, 1, 2, 5]


def test_classes_take_turns_on_a_large_random_pool_matches_a_plain_loop():
    from alloop.strategies.balanced import classes_take_turns

    rng = np.random.default_rng(3)
    scores = rng.random(500)
    groups = rng.integers(0, 7, 500)
    fast = classes_take_turns(scores, groups, 200, np.random.default_rng(0))
    queues = {g: sorted(np.flatnonzero(groups == g), key=lambda i: -scores[i]) for g in set(groups.tolist())}
    seats = sorted(queues, key=lambda g: -scores[queues[g][0]])
    slow: list[int] = []
    while len(slow) < 200:
        for g in seats:
            if queues[g] and len(slow) < 200:
                slow.append(int(queues[g].pop(0)))
    assert fast.tolist() == slow


def test_coverage_margin_takes_half_by_margin_and_half_from_the_confident_half():
    from alloop.strategies.coverage import coverage_margin

    rng = np.random.default_rng(0)
    n = 1000
    top = np.linspace(0.5, 0.99, n)  # item i's top-class probability (and margin) rises with i
    proba = np.column_stack([top, (1 - top) * 0.9, (1 - top) * 0.1])
    picks = coverage_margin(proba, 20, rng)
    assert len(set(picks.tolist())) == 20
    taught, drawn = picks[:10], picks[10:]
    assert sorted(taught.tolist()) == list(range(10))  # the smallest margins are the least confident
    assert (drawn >= 500).all()  # the random half comes from the more confident half
    again = coverage_margin(proba, 20, np.random.default_rng(0))
    assert again.tolist() == picks.tolist()
