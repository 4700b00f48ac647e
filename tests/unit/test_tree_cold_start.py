"""The label-name cold start over a tree's leaves: the branches take turns."""

from __future__ import annotations

import numpy as np
import pytest
from cli_support import alloop
from conftest import AMAZON_SAMPLE

from alloop.data.prepare import load_dataset
from alloop.data.taxonomy import Taxonomy
from alloop.errors import AlloopError
from alloop.loop.initial import branch_turns, class_name_texts, draw_initial, label_name_representatives
from alloop.simulate.store import ResultStore

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


def test_draw_initial_label_names_lets_the_branches_take_turns_and_needs_the_similarity():
    similarity = np.eye(6)[np.arange(60) % 6] + np.random.default_rng(0).random((60, 6)) * 0.01
    labels = np.full(60, -99)  # no gold label is read
    picks = draw_initial(
        labels, 3, "label-names", np.random.default_rng(0), None, similarity, branch_turns(TREE)
    )
    assert len(set(TREE.level_codes(1)[np.arange(60) % 6][picks])) == 3
    with pytest.raises(AlloopError, match="label-names needs a classifier with a text encoder"):
        draw_initial(labels, 3, "label-names", np.random.default_rng(0))


@pytest.mark.slow
def test_run_starts_from_the_leaf_names_of_the_fixture_tree(tmp_path):
    """``alloop run --initial-strategy label-names`` on the committed fixture's 19 -> 111 tree: the
    first 19 items (one turn of every top-level branch) cover at least 14 top-level categories;
    19 random items cover 12.3 on average (200 draws)."""
    out = tmp_path / "run"
    result = alloop(
        "run", "--data", str(AMAZON_SAMPLE), "--label", "category", "--label", "sub_category",
        "--initial-strategy", "label-names", "--initial", "40", "--cycles", "1", "--seeds", "1",
        "--strategy", "random", "--no-ceiling", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    store = ResultStore.open_existing(out)
    try:
        stored = store.initial(0)
    finally:
        store.close()
    assert stored is not None
    data = load_dataset(str(AMAZON_SAMPLE), label_column=["category", "sub_category"], seed=0)
    top = data.tree.level_codes(1)[stored[1]]
    assert len(stored[0]) == 40
    assert len(set(top[:19].tolist())) >= 14
