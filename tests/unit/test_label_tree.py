"""Labelling with a category tree (synthetic 600-leaf catalogue, tfidf, in process): the label set
from a file of paths or from --label columns, partial labels stored, counted at their level,
trained on and re-queued for the leaf, and paths through every export and back in by import."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from label_support import run_main
from tree_data import tree_catalogue

from alloop.errors import AlloopError
from alloop.labelling.config import FLAT_STRATEGY, TREE_STRATEGY, LabelConfig, parse_labels
from alloop.labelling.domain.queue import Snapshot
from alloop.labelling.domain.service import Answer, LabelService
from alloop.labelling.domain.trainer import fit_model, train_with_partial, training_set
from alloop.labelling.storage.project import open_project
from alloop.loop.partial import resolve_partial
from alloop.models import ModelConfig, classifier_factory

ELECTRONICS_AUDIO = "Electronics > Audio"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return tree_catalogue(tmp_path_factory.mktemp("tree"), per_leaf=2)


def make(project: Path, data: Path, **given):
    values = {"data": str(data), "classifier": "tfidf", "query_size": 20, **given}
    if "labels" not in values and "gold_levels" not in values:
        values["labels"] = parse_labels(None, data.parent / "labels.txt")
    store, config, items = open_project(project, values)
    return store, config, items


def test_a_labels_file_of_paths_is_a_tree_and_a_flat_one_stays_flat(tmp_path):
    paths = tmp_path / "paths.txt"
    paths.write_text("# shop\nHome > Kitchen > Kettles\nHome>Kitchen>Mugs\nHome >\nHome > Garden\nToys\n")
    labels = parse_labels(None, paths)
    assert labels == ("Home", "Home > Garden", "Home > Kitchen > Kettles", "Home > Kitchen > Mugs", "Toys")
    slashed = tmp_path / "slashed.txt"
    slashed.write_text("Home/Kitchen/Kettles\nHome/Garden\n")
    assert parse_labels(None, slashed, "/") == ("Home > Garden", "Home > Kitchen > Kettles")
    flat = tmp_path / "flat.txt"
    flat.write_text("b, with comma\na\n")
    assert parse_labels(None, flat) == ("b, with comma", "a")  # file order, as before
    gap = tmp_path / "gap.txt"
    gap.write_text("Home >  > Kettles\nToys\n")
    with pytest.raises(AlloopError, match="empty"):
        parse_labels(None, gap)


def test_the_label_set_can_come_from_level_columns_with_gold(data, tmp_path):
    store, config, items = make(tmp_path / "p", data, gold_levels=("category", "sub_category", "leaf"),
                                gold="category")  # fmt: skip
    try:
        assert len(config.labels) == 600 and config.labels[0].count(" > ") == 2
        frame = pd.read_parquet(data)
        assert items.gold[:5] == frame["path"].tolist()[:5]  # gold is each row's path
    finally:
        store.close()
    frame = pd.read_parquet(data)
    frame.loc[3, "sub_category"] = None  # a gap above a filled level cannot be a tree
    frame.to_parquet(tmp_path / "gap.parquet")
    with pytest.raises(AlloopError, match="rows 3 have an empty level"):
        make(tmp_path / "q", tmp_path / "gap.parquet", gold_levels=("category", "sub_category", "leaf"),
             gold="category")  # fmt: skip


def test_the_cli_takes_a_path_column_and_refuses_label_with_gold(data, tmp_path, capsys):
    code, _, err = run_main(capsys, "label", "--project", str(tmp_path / "p"), "--data", str(data),
                            "--label", "path", "--gold", "path", "--port", "0")  # fmt: skip
    assert code == 2 and "either --gold or --label" in err
    args = ["--label", "category", "--label", "leaf", "--label-sep", ">", "--port", "0"]
    code, _, err = run_main(capsys, "label", "--project", str(tmp_path / "p"), "--data", str(data), *args)
    assert code == 2 and "--label-sep splits one path column" in err


def test_partial_labels_are_stored_counted_trained_on_and_requeued(data, tmp_path, capsys):
    project = tmp_path / "p"
    store, config, items = make(project, data)
    alice = store.add_annotator("alice")
    frame = pd.read_parquet(data)
    service = LabelService(store, config, items, train=False)
    who = service.authenticate(alice)
    assert who is not None
    # full labels for 40 items, a partial one for item 2 (an Electronics > Audio title)
    for pos in range(0, 1200, 30):
        service.submit(who, Answer(str(pos), frame["path"][pos]))
    assert frame["path"][2].startswith(ELECTRONICS_AUDIO + " > ")
    answer = service.submit(who, Answer("2", ELECTRONICS_AUDIO))
    assert answer["label"] == ELECTRONICS_AUDIO
    with pytest.raises(AlloopError, match="not in the label set"):
        service.submit(who, Answer("3", "Electronics > Nowhere"))
    # stored as the node's path
    row = store.label_of(2, who.id)
    assert (row.status, row.label) == ("label", ELECTRONICS_AUDIO)
    # counted at its level, grouped by branch, never a list of 600 names
    stats = service.stats()
    assert stats["partial"] == {ELECTRONICS_AUDIO: 1} and stats["partial_labels"] == 1
    assert "missing_classes" not in stats and stats["n_missing_classes"] == 600 - 40
    assert len(stats["per_class"]) == 40
    electronics = next(b for b in stats["branches"] if b["branch"] == "Electronics")
    assert electronics["partial"] == 1 and electronics["leaves"] == 100
    assert sum(b["labels"] for b in stats["branches"]) == 40
    service.close()
    code, out, _ = run_main(capsys, "label-stats", "--project", str(project))
    assert code == 0 and "labels per top-level branch" in out and "Electronics > Audio: 1" in out
    assert "560 leaves have no label yet" in out

    # trained on: the partial item gets a leaf under Electronics > Audio, never outside it
    store, config, items = open_project(project, {})
    data_set = training_set(store, len(items), config.labels)
    assert data_set.partial_positions.tolist() == [2] and 2 in data_set.unlabelled
    under = data_set.partial_leaves[0]
    assert len(under) == 10 and all(config.labels[c].startswith(ELECTRONICS_AUDIO + " > ") for c in under)
    factory = classifier_factory(ModelConfig(classifier="tfidf"), len(config.labels))
    model = train_with_partial(lambda: factory(0), items.texts, data_set)
    assert model.predict_proba([items.texts[2]]).shape == (1, 600)
    model, used = fit_model(config, store, items)
    assert used.n_trained == 41

    # re-queued: once a model trained with it, the same annotator is handed it again for its leaf
    service = LabelService(store, config, items, train=False)
    who = service.authenticate(alice)
    service._publish(Snapshot((2, 5), "margin", 1, 41, reopened=frozenset({2})))
    item = service.next_item(who)
    assert item["item_id"] == "2" and item["partial"] == ELECTRONICS_AUDIO
    service.submit(who, Answer("2", frame["path"][2]))  # the leaf replaces the partial answer
    assert store.label_of(2, who.id).label == frame["path"][2]
    assert service.next_item(who)["item_id"] == "5"
    assert service.stats()["partial_labels"] == 0
    service.close()


def test_resolve_partial_picks_the_most_probable_leaf_under_the_node():
    proba = np.array([[0.5, 0.1, 0.3, 0.1], [0.1, 0.2, 0.2, 0.5]])
    assert resolve_partial(proba, [(1, 2), (0, 1, 2)]).tolist() == [2, 1]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl", ".json"])
def test_paths_round_trip_through_export_and_import(data, tmp_path, capsys, suffix):
    project = tmp_path / "p"
    store, config, items = make(project, data)
    token = store.add_annotator("alice")
    frame = pd.read_parquet(data)
    service = LabelService(store, config, items, train=False)
    who = service.authenticate(token)
    given = {str(pos): frame["path"][pos] for pos in range(0, 1200, 100)}
    given["7"] = "Electronics > Audio"  # partial, at level 2
    given["501"] = "Home & Kitchen"  # partial, at level 1
    for item_id, label in given.items():
        service.submit(who, Answer(item_id, label))
    service.close()
    out = tmp_path / f"labels{suffix}"
    code, _, err = run_main(capsys, "export", "--project", str(project), "--out", str(out))
    assert code == 0, err
    if suffix == ".json":
        tasks = json.loads(out.read_text())
        result = tasks[7]["annotations"][0]["result"][0]
        assert result["type"] == "taxonomy" and result["value"] == {"taxonomy": [["Electronics", "Audio"]]}
        xml = ET.fromstring(out.with_name("labels.label_config.xml").read_text())
        taxonomy = xml.find("Taxonomy")
        assert taxonomy is not None and len(taxonomy.findall("Choice")) == 6  # the top level
        assert len(taxonomy.findall(".//Choice")) == 6 + 60 + 600
        id_key, label_key = "item_id", "label"
    else:
        table = (
            pd.read_parquet(out)
            if suffix == ".parquet"
            else (
                pd.read_csv(out, dtype=str)
                if suffix == ".csv"
                else pd.read_json(out, lines=True, dtype=False)
            )
        )
        table = table.set_index(table["item_id"].astype(str))
        assert table.loc["7", "final_label_level_1"] == "Electronics"
        assert table.loc["7", "final_label_level_2"] == "Audio"
        assert pd.isna(table.loc["7", "final_label_level_3"])
        assert str(table.loc["7", "partial"]) == "True" and str(table.loc["0", "partial"]) == "False"
        assert table.loc["0", "final_label_level_3"] == frame["leaf"][0]
        id_key, label_key = "item_id", "final_label"
    # into a fresh project of the same data: every path and partial path comes back
    fresh = tmp_path / "fresh"
    make(fresh, data)[0].close()
    code, stdout, err = run_main(capsys, "import-labels", "--project", str(fresh), "--file", str(out),
                                 "--id", id_key, "--label", label_key)  # fmt: skip
    assert code == 0, err
    assert f"imported {len(given)} labels" in stdout
    store, config, items = open_project(fresh, {})
    back = {items.ids[r.pos]: r.label for r in store.label_rows()}
    store.close()
    assert back == given


def test_import_refuses_a_path_outside_the_tree(data, tmp_path, capsys):
    project = tmp_path / "p"
    make(project, data)[0].close()
    pd.DataFrame({"id": ["1", "2"], "path": ["Electronics>Audio", "Electronics > Toasters"]}).to_csv(
        tmp_path / "in.csv", index=False
    )
    code, _, err = run_main(capsys, "import-labels", "--project", str(project), "--file",
                            str(tmp_path / "in.csv"), "--id", "id", "--label", "path")  # fmt: skip
    assert code == 2 and "line 3" in err and "Toasters" in err


def test_the_live_trainer_trains_on_a_partial_label_and_requeues_its_item(data, tmp_path):
    project = tmp_path / "p"
    store, config, items = make(project, data, query_size=10, cold_start="random")
    token = store.add_annotator("alice")
    frame = pd.read_parquet(data)
    service = LabelService(store, config, items, train=False)
    who = service.authenticate(token)
    for pos in range(0, 600, 60):  # 10 full labels and one partial
        service.submit(who, Answer(str(pos), frame["path"][pos]))
    service.submit(who, Answer("2", ELECTRONICS_AUDIO))
    service.close()
    store, config, items = open_project(project, {})
    service = LabelService(store, config, items).start()  # a restart trains once on everything
    try:
        assert service.trainer.wait_idle(120)
        assert service.trainer.error is None
        snapshot = service.snapshot
        assert snapshot.version == 1 and snapshot.source == TREE_STRATEGY
        assert snapshot.n_trained == 11  # the partial label is trained on
        assert snapshot.reopened == frozenset({2})  # and its item waits for its leaf
    finally:
        service.close()


def test_a_tree_project_ranks_with_the_tree_strategy_unless_one_is_chosen(data, tmp_path):
    _, config, _ = make(tmp_path / "p", data)
    assert config.strategy is None and config.strategy_name == TREE_STRATEGY
    strategy = config.get_strategy()
    assert strategy.knows_tree and len(strategy.select.keywords["tree"]) == len(config.labels)
    _, chosen, _ = make(tmp_path / "q", data, strategy="margin")
    assert chosen.strategy_name == "margin" and not chosen.get_strategy().knows_tree
    flat = LabelConfig(data=str(data), labels=("Kettles", "Mugs"))
    assert flat.strategy_name == FLAT_STRATEGY and not flat.get_strategy().knows_tree


def test_a_partial_label_agrees_with_a_leaf_under_it():
    from alloop.labelling.domain.agreement import majority

    leaf = "Electronics > Audio > Crimson Kettle"
    vote = majority([ELECTRONICS_AUDIO, leaf])
    assert (vote.label, vote.tie, vote.n_labels) == (leaf, False, 2)
    other = majority([ELECTRONICS_AUDIO, "Clothing > Audio > Onyx Tent"])
    assert other.label is None and other.tie
    assert majority(["a", "b", "a"]).label == "a"  # flat labels as before
