"""The category tree: construction, queries, refusals (alloop.data.taxonomy)."""

from __future__ import annotations

import numpy as np
import pytest

from alloop.data.taxonomy import Taxonomy, display, paths_from_levels, split_path, taxonomy_from_data
from alloop.errors import AlloopError

PATHS = [
    ("Electronics", "Phones"),
    ("Electronics", "Accessories"),
    ("Home", "Kitchen", "Cookware"),
    ("Home", "Kitchen", "Knives"),
    ("Home", "Accessories"),
    ("Books",),
]


def test_leaves_are_sorted_full_paths_and_same_name_under_two_parents_is_two_categories():
    tree = Taxonomy(PATHS)
    assert tree.leaves == (
        ("Books",),
        ("Electronics", "Accessories"),
        ("Electronics", "Phones"),
        ("Home", "Accessories"),
        ("Home", "Kitchen", "Cookware"),
        ("Home", "Kitchen", "Knives"),
    )
    assert tree.names[1] == "Electronics > Accessories"
    assert tree.depth == 3
    assert tree.leaf_index(("Home", "Accessories")) == 3


def test_nodes_parent_children_ancestors():
    tree = Taxonomy(PATHS)
    assert tree.nodes(1) == (("Books",), ("Electronics",), ("Home",))
    assert tree.nodes(3) == (("Home", "Kitchen", "Cookware"), ("Home", "Kitchen", "Knives"))
    assert tree.parent(("Home", "Kitchen")) == ("Home",)
    assert tree.parent(("Home",)) is None
    assert tree.children(("Home",)) == (("Home", "Accessories"), ("Home", "Kitchen"))
    assert tree.children() == tree.nodes(1)
    assert tree.ancestors(("Home", "Kitchen", "Knives")) == (("Home",), ("Home", "Kitchen"))
    assert tree.leaves_under(("Home",)) == (3, 4, 5)


def test_level_label_maps_a_shallow_leaf_to_itself():
    tree = Taxonomy(PATHS)
    assert tree.level_label(("Home", "Kitchen", "Knives"), 1) == ("Home",)
    assert tree.level_label(("Home", "Kitchen", "Knives"), 2) == ("Home", "Kitchen")
    assert tree.level_label(("Books",), 3) == ("Books",)
    assert tree.level_nodes(2) == (
        ("Books",),
        ("Electronics", "Accessories"),
        ("Electronics", "Phones"),
        ("Home", "Accessories"),
        ("Home", "Kitchen"),
    )
    assert tree.level_codes(2).tolist() == [0, 1, 2, 3, 4, 4]
    probs = np.array([[0.1, 0.1, 0.2, 0.1, 0.3, 0.2]])
    np.testing.assert_allclose(probs @ tree.level_matrix(1), [[0.1, 0.3, 0.6]])
    with pytest.raises(AlloopError, match="levels 1 to 3"):
        tree.level_label(("Books",), 4)


def test_flat_is_a_one_level_tree_in_the_flat_class_order():
    names = ["toys", "books", "a > b"]
    tree = Taxonomy.flat(names)
    assert tree.is_flat
    assert tree.names == sorted(names)
    assert tree.level_codes(1).tolist() == [0, 1, 2]


def test_paths_from_levels_allows_unbalanced_paths_and_refuses_a_gap():
    paths = paths_from_levels([["A", "A", "B"], ["x", None, "y"], [None, float("nan"), ""]])
    assert paths == [("A", "x"), ("A",), ("B", "y")]
    with pytest.raises(AlloopError, match=r"rows 7 have an empty level above a filled one") as info:
        paths_from_levels([["A", ""], ["x", "y"]], row_names=[6, 7])
    assert "\n" not in str(info.value)


def test_split_path():
    assert split_path("Home > Kitchen > Knives", " > ") == ("Home", "Kitchen", "Knives")
    assert split_path("Home/Kitchen/", "/") == ("Home", "Kitchen")
    assert split_path("Home >Kitchen", " > ") == ("Home", "Kitchen")


def test_a_row_stopping_at_a_parent_is_refused_unless_declared(tmp_path):
    paths = [("A", "x"), ("A",), ("B",)]
    with pytest.raises(AlloopError, match=r"rows 1 stop at 'A', which has sub-categories"):
        taxonomy_from_data(paths)
    file = tmp_path / "tree.txt"
    file.write_text("# the tree\nA >\nA > x\nB\n\nC > z\n")
    declared = Taxonomy.from_file(file)
    tree = taxonomy_from_data(paths, declared=declared)
    assert tree.leaves == (("A",), ("A", "x"), ("B",), ("C", "z"))
    probs = np.array([[0.1, 0.2, 0.3, 0.4]])
    np.testing.assert_allclose(probs @ tree.level_matrix(1), [[0.3, 0.3, 0.4]])


def test_declared_taxonomy_refuses_contradicting_and_deeper_paths(tmp_path):
    file = tmp_path / "tree.txt"
    file.write_text("Home > Kitchen\nHome > Garden\nBooks\n")
    declared = Taxonomy.from_file(file)
    assert ("Home", "Garden") in declared.leaves  # a leaf no item has yet
    with pytest.raises(AlloopError, match=r"rows 2 go deeper than the category tree"):
        taxonomy_from_data(
            [("Books",), ("Home", "Kitchen"), ("Home", "Kitchen", "Knives")], declared=declared
        )
    with pytest.raises(AlloopError, match=r"rows 0, 1 have a category path that is not in the category tree"):
        taxonomy_from_data([("Kitchen", "Home"), ("Garden",), ("Books",)], declared=declared)
    with pytest.raises(AlloopError, match="rows 10 stop at 'Home'"):
        taxonomy_from_data([("Home",)], row_names=[10], declared=declared)


def test_taxonomy_file_refusals(tmp_path):
    with pytest.raises(AlloopError, match="not found"):
        Taxonomy.from_file(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    with pytest.raises(AlloopError, match="has no paths"):
        Taxonomy.from_file(empty)
    gap = tmp_path / "gap.txt"
    gap.write_text("A >  > b\n")
    with pytest.raises(AlloopError, match="empty name"):
        Taxonomy.from_file(gap)


def test_unknown_nodes_are_refused_with_one_line():
    tree = Taxonomy(PATHS)
    with pytest.raises(AlloopError, match="not in the category tree"):
        tree.children(("Garden",))
    with pytest.raises(AlloopError, match="not a leaf"):
        tree.leaf_index(("Home",))
    assert display(("a", "b")) == "a > b"
    assert Taxonomy(PATHS) == Taxonomy(reversed(PATHS))
