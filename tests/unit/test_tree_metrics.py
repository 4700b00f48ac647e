"""Per-level and hierarchical metrics against values computed by hand (alloop.loop.hierarchy),
and their way into results.db and cycles.csv."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from alloop.data.taxonomy import Taxonomy
from alloop.loop.evaluation import evaluate
from alloop.loop.hierarchy import hierarchical_prf, tree_scores
from alloop.simulate.store import METRIC_COLUMNS, ResultStore

# leaves in order: 0 A > a1, 1 A > a2, 2 B > b1, 3 C (a leaf at level 1)
TREE = Taxonomy([("A", "a1"), ("A", "a2"), ("B", "b1"), ("C",)])
TRUE = np.array([0, 2, 3, 1])
PROBA = np.array(
    [
        [0.3, 0.3, 0.4, 0.0],  # leaf argmax B > b1, but A sums to 0.6
        [0.1, 0.1, 0.7, 0.1],
        [0.5, 0.1, 0.1, 0.3],
        [0.6, 0.2, 0.1, 0.1],
    ]
)


def test_level_macro_f1_sums_leaf_probabilities_and_differs_from_the_argmax_leafs_ancestor():
    scores = tree_scores(TREE, TRUE, PROBA)
    # summed: predicted [A, B, A, A] for true [A, B, C, A]: F1 A 0.8, B 1, C 0
    assert scores["macro_f1_level_1"] == pytest.approx((0.8 + 1.0 + 0.0) / 3)
    # ancestor of argmax leaf: [B, B, A, A]: F1 A 0.5, B 2/3, C 0
    assert scores["macro_f1_level_1_argmax_leaf"] == pytest.approx((0.5 + 2 / 3) / 3)
    assert "macro_f1_level_2" not in scores  # the leaf level is macro_f1


def test_hierarchical_precision_recall_f1_by_hand():
    # overlaps 0, 2, 0, 1 = 3; predicted sets 2+2+2+2 = 8; true sets 2+2+1+2 = 7
    p, r, f = hierarchical_prf(TREE, TRUE, PROBA.argmax(1))
    assert (p, r) == pytest.approx((3 / 8, 3 / 7))
    assert f == pytest.approx(0.4)
    assert hierarchical_prf(TREE, TRUE, TRUE) == (1.0, 1.0, 1.0)


def test_flat_data_gets_no_tree_scores():
    flat = Taxonomy.flat(["x", "y"])
    assert tree_scores(flat, np.array([0, 1]), np.eye(2)) == {}
    assert evaluate(np.array([0, 1]), np.array([0, 1]), ["x", "y"]).tree == {}
    scores = evaluate(TRUE, PROBA.argmax(1), TREE.names, PROBA, TREE)
    assert scores.tree["hier_f1"] == pytest.approx(0.4)


def test_an_old_results_db_gains_the_column_and_reads_back(tmp_path):
    path = tmp_path / "results.db"
    old = [c for c in METRIC_COLUMNS if c != "tree_scores"]
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE cycles (strategy TEXT NOT NULL, seed INTEGER NOT NULL, cycle INTEGER NOT NULL, "
        + ", ".join(old)
        + ", rng_state TEXT, per_class TEXT, predictions BLOB, stop_predictions BLOB, "
        "PRIMARY KEY (strategy, seed, cycle))"
    )
    row = {c: 0.5 for c in old} | {"n_labelled": 10, "stop_reason": None, "would_stop": "[]"}
    db.execute(
        f"INSERT INTO cycles (strategy, seed, cycle, {', '.join(old)}) VALUES (?, ?, ?, "
        + ", ".join("?" * len(old))
        + ")",
        ["margin", 0, 0, *[row[c] for c in old]],
    )
    db.commit()
    db.close()
    store = ResultStore(path)
    frame = store.cycles()
    assert "tree_scores" not in frame and "hier_f1" not in frame
    assert frame["macro_f1"].tolist() == [0.5]
    store.db.execute(
        "UPDATE cycles SET tree_scores = ?", (json.dumps({"macro_f1_level_1": 0.7, "hier_f1": 0.6}),)
    )
    frame = store.cycles()
    assert frame["macro_f1_level_1"].tolist() == [0.7] and frame["hier_f1"].tolist() == [0.6]
    store.close()


def test_the_verdict_names_the_winner_and_labels_to_target_per_level():
    import pandas as pd

    from alloop.report.levels import level_lines, level_metrics, level_table

    rows = []
    for strategy, top in (("random", [0.5, 0.6, 0.7]), ("margin", [0.6, 0.8, 0.9])):
        for seed in (0, 1):
            for cycle, value in enumerate(top):
                rows.append(
                    {
                        "strategy": strategy,
                        "seed": seed,
                        "cycle": cycle,
                        "n_labelled": 100 + 50 * cycle,
                        "macro_f1": value / 2,
                        "macro_f1_level_1": value,
                        "hier_f1": value,
                    }
                )
    cycles = pd.DataFrame(rows)
    ceilings = pd.DataFrame({"seed": [0, 1], "macro_f1": [0.5, 0.5], "macro_f1_level_1": [1.0, 1.0]})
    assert [c for c, _ in level_metrics(cycles)] == ["macro_f1_level_1", "macro_f1", "hier_f1"]
    table = level_table(cycles, ceilings)
    top = table[(table["column"] == "macro_f1_level_1") & (table["strategy"] == "margin")].iloc[0]
    assert top["labels_to_90"] == 200 and top["seeds_reached_90"] == 2 and pd.isna(top["labels_to_95"])
    lines = level_lines(table)
    assert lines[0].startswith("Level 1 macro-F1: best margin (AULC 0.775, random 0.600; final 0.900)")
    assert "90%: margin 200, random not reached" in lines[0]
    assert level_metrics(cycles.drop(columns=["macro_f1_level_1", "hier_f1"])) == []
