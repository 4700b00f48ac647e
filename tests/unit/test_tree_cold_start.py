"""The label-name cold start over a tree's leaves: the branches take turns."""

from __future__ import annotations

import numpy as np

from alloop.data.taxonomy import Taxonomy
from alloop.loop.initial import branch_turns, class_name_texts, label_name_representatives

TREE = Taxonomy([("A", "a1"), ("A", "a2"), ("A", "a3"), ("B", "b1"), ("C", "c1"), ("C", "c2")])


def test_branches_take_turns_before_any_second_leaf():
    # leaves: 0 A>a1, 1 A>a2, 2 A>a3, 3 B>b1, 4 C>c1, 5 C>c2
    assert branch_turns(TREE) == [0, 3, 4, 1, 5, 2]
    assert class_name_texts(TREE.names)[0] == "A > a1 products"


def test_the_first_items_cover_every_branch():
    # item i is most similar to leaf i % 6; with the sorted order the first three would all be in A
    similarity = np.eye(6)[np.arange(60) % 6] + np.random.default_rng(0).random((60, 6)) * 0.01
    plain = label_name_representatives(similarity, 3, seed=0)
    turns = label_name_representatives(similarity, 3, seed=0, first=branch_turns(TREE))
    top = TREE.level_codes(1)[np.arange(60) % 6]
    assert len(set(top[plain])) == 1
    assert len(set(top[turns])) == 3
