"""Strategies that know the category tree, against rankings worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from alloop.data.taxonomy import Taxonomy
from alloop.errors import AlloopError
from alloop.simulate.config import RunConfig
from alloop.strategies import get_strategy

# leaves: 0 A > a1, 1 A > a2, 2 B > b1, 3 C
TREE = Taxonomy([("A", "a1"), ("A", "a2"), ("B", "b1"), ("C",)])
P = np.array(
    [
        [0.30, 0.30, 0.40, 0.00],  # top level A .6 / B .4: margin .2; leaf margin .1; inside A: 0
        [0.40, 0.04, 0.45, 0.11],  # top level B .45 / A .44: unsure parent, margin .01; leaf margin .05
        [0.90, 0.05, 0.05, 0.00],  # confident everywhere
        [0.50, 0.50, 0.00, 0.00],  # top level A 1.0, but the leaves inside A are a coin toss
    ]
)


def _pick(name: str, k: int = 4, **kwargs) -> list[int]:
    return get_strategy(name, **kwargs)(P, k, np.random.default_rng(0)).tolist()


def test_level_margin_scores_the_top_level():
    assert _pick("level-margin", tree=TREE) == [1, 0, 2, 3]
    assert _pick("level-margin", tree=TREE, query_level=2) == _pick("margin")
    assert _pick("margin")[0] == 3


def test_top_down_margin_alternates_unsure_parents_and_unsure_leaves_inside_confident_parents():
    # top-level margins rank 1, 0, 2, 3; inside a confident parent (rows 0, 2, 3) rows 0 and 3
    # are coin tosses (margin 0), row 2 is settled
    picked = _pick("top-down-margin", tree=TREE)
    assert picked[0] == 1 and picked[1] in (0, 3)
    assert sorted(picked) == [0, 1, 2, 3]
    q = np.array(
        [
            [0.40, 0.05, 0.45, 0.10],  # top level A .45 / B .45: the most unsure parent
            [0.30, 0.10, 0.60, 0.00],  # B .6 / A .4: second at the top level; B has one leaf
            [0.48, 0.47, 0.05, 0.00],  # A .95, settled, but a1 / a2 is a coin toss
        ]
    )
    rng = np.random.default_rng(0)
    assert get_strategy("top-down-margin", tree=TREE)(q, 2, rng).tolist() == [0, 2]
    assert get_strategy("level-margin", tree=TREE)(q, 2, rng).tolist() == [0, 1]


def test_balanced_branch_margin_lets_the_top_level_categories_take_turns():
    # leaf margins rank 3, 1, 0, 2; predicted branches A, B, A, A: A and B each give one, then A
    assert _pick("balanced-branch-margin", tree=TREE) == [3, 1, 0, 2]


def test_without_a_tree_they_fall_back_to_the_leaves():
    assert _pick("level-margin") == _pick("margin")
    assert _pick("balanced-branch-margin") == _pick("balanced-margin")
    assert _pick("top-down-margin", k=1) == _pick("margin", k=1)


def test_query_level_refusals():
    with pytest.raises(AlloopError, match="`query_level` must be 1"):
        RunConfig(query_level=0).validate()
