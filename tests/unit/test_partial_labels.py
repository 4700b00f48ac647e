"""Partial labels (a parent category, "music > ?") in the engine and in simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from label_support import run_main

from alloop.data.taxonomy import Taxonomy
from alloop.errors import AlloopError
from alloop.loop import ActiveLearner
from alloop.loop.oracle import PartialOracle, SimulatedOracle
from alloop.models import ModelConfig, classifier_factory
from alloop.strategies import get_strategy

TREE = Taxonomy([("music", "guitars"), ("music", "records"), ("home", "kettles"), ("home", "cups")])
# leaves sorted: 0 home > cups, 1 home > kettles, 2 music > guitars, 3 music > records
WORDS = {0: "tea cup mug", 1: "steel kettle boil", 2: "guitar strings fret", 3: "vinyl record jazz"}


def _pool(n: int = 80) -> tuple[list[str], np.ndarray]:
    labels = np.arange(n) % 4
    return [f"{WORDS[int(c)]} item{i}" for i, c in enumerate(labels)], labels


def _learner(oracle, texts, labels) -> ActiveLearner:
    return ActiveLearner(
        classifier_factory(ModelConfig(classifier="tfidf"), 4)(0),
        get_strategy("margin"),
        texts,
        oracle=oracle,
        test_texts=texts[:20],
        test_labels=labels[:20],
        classes=TREE.names,
        query_size=10,
        taxonomy=TREE,
    )


def test_the_partial_oracle_names_the_parent_for_a_seeded_share_and_the_leaf_when_asked_again():
    _, labels = _pool()
    oracle = PartialOracle(SimulatedOracle(range(80), labels), TREE, 0.5, seed=3)
    answers = oracle.label(list(range(80)))
    partial = answers < -1
    assert 20 < partial.sum() < 60
    parents = [TREE.node_of(int(c)) for c in answers[partial]]
    assert all(p == TREE.leaves[int(g)][:1] for p, g in zip(parents, labels[partial], strict=True))
    again = PartialOracle(SimulatedOracle(range(80), labels), TREE, 0.5, seed=3).label(list(range(80)))
    assert answers.tolist() == again.tolist()  # seeded: a resumed run gets the same answers
    assert oracle.label_leaf([0, 1]).tolist() == labels[:2].tolist()
    with pytest.raises(AlloopError, match="`oracle_partial`"):
        PartialOracle(SimulatedOracle(range(80), labels), TREE, 1.0, seed=0)


def test_teach_takes_a_parent_by_name_trains_within_the_branch_and_keeps_the_item_queryable():
    texts, labels = _pool()
    learner = _learner(None, texts, labels)
    learner.teach(np.arange(8), labels[:8])
    learner.fit()
    learner.teach([8, 9], ["music", ("home",)])  # item 8 is a cup (home), 9 a kettle (home)
    assert learner.labels[8] == TREE.partial_code(("music",)) and learner.n_partial == 2
    learner.fit()  # item 8 trains as the most probable leaf under music, not as a cup
    assert 8 in learner.query(80 - 10).tolist()  # still in the queue for its leaf
    learner.teach([8], ["home > cups"])
    assert learner.labels[8] == 0 and learner.n_partial == 1
    with pytest.raises(AlloopError, match="labelled twice"):
        learner.teach([8], [0])
    with pytest.raises(AlloopError, match="not a class"):
        learner.teach([10], ["garden"])


def test_partial_answers_are_stored_counted_and_asked_again_in_a_run(tmp_path, monkeypatch, capsys):
    texts, labels = _pool(160)
    frame = pd.DataFrame(
        {
            "title": texts,
            "category": [TREE.leaves[c][0] for c in labels],
            "sub": [TREE.leaves[c][1] for c in labels],
        }
    )
    frame.to_csv(tmp_path / "tree.csv", index=False)
    monkeypatch.chdir(tmp_path)
    args = ["run", "--data", "tree.csv", "--label", "category", "--label", "sub", "--classifier", "tfidf"]
    args += ["--strategy", "margin", "--initial", "12", "--query-size", "10", "--cycles", "6", "--seeds", "1"]
    code, _, err = run_main(capsys, *args, "--oracle-partial", "0.5", "--out", "out")
    assert code == 0, err
    queried = pd.read_csv(tmp_path / "out" / "queried.csv")
    partial = queried["label"].str.endswith(" > ?")
    assert partial.any() and (~partial).any()
    cycles = pd.read_csv(tmp_path / "out" / "cycles.csv")
    assert cycles["items_partial"].max() > 0
    assert cycles["n_labelled"].tolist() == [12 + 10 * c for c in range(7)]
    again = queried[queried["item_id"].duplicated(keep=False)].sort_values(["item_id", "cycle"])
    assert len(again), "no partly labelled item was asked again for its leaf"
    first = again.groupby("item_id")["label"].first()
    assert first.str.endswith(" > ?").all()  # an item comes back only after a partial answer
    flat = [a for a in args if a not in ("--label", "category", "sub")] + ["--label", "category"]
    code, _, err = run_main(capsys, *flat, "--oracle-partial", "0.5", "--out", "flat")
    assert code == 2 and "needs a category tree" in err


def test_a_run_with_partial_labels_resumes_exactly(tmp_path, monkeypatch, capsys):
    import shutil
    import sqlite3

    texts, labels = _pool(160)
    frame = pd.DataFrame(
        {
            "title": texts,
            "category": [TREE.leaves[c][0] for c in labels],
            "sub": [TREE.leaves[c][1] for c in labels],
        }
    )
    frame.to_csv(tmp_path / "tree.csv", index=False)
    monkeypatch.chdir(tmp_path)
    args = ["run", "--data", "tree.csv", "--label", "category", "--label", "sub", "--classifier", "tfidf"]
    args += ["--strategy", "margin", "--initial", "12", "--query-size", "10", "--cycles", "5", "--seeds", "1"]
    code, _, err = run_main(capsys, *args, "--oracle-partial", "0.5", "--out", "whole")
    assert code == 0, err
    shutil.copytree(tmp_path / "whole", tmp_path / "cut")
    db = sqlite3.connect(tmp_path / "cut" / "results.db")
    with db:  # as if killed after cycle 2
        db.execute("DELETE FROM cycles WHERE cycle > 2")
        db.execute("DELETE FROM queried WHERE cycle > 2")
    db.close()
    code, _, err = run_main(capsys, "run", "--resume", "cut")
    assert code == 0, err
    keep = ["strategy", "cycle", "n_labelled", "macro_f1", "macro_f1_level_1", "hier_f1", "items_partial"]
    whole = pd.read_csv(tmp_path / "whole" / "cycles.csv")[keep]
    cut = pd.read_csv(tmp_path / "cut" / "cycles.csv")[keep]
    pd.testing.assert_frame_equal(whole, cut)
    assert whole["items_partial"].max() > 0
