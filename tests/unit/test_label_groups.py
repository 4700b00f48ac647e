"""Near-duplicate groups: the page offers an item's near-duplicates, and one answer labels the ones
the annotator ticked (source ``group``), nothing else."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alloop.labelling.domain.queue import Snapshot
from alloop.labelling.domain.service import Answer, LabelService
from alloop.labelling.storage.project import open_project
from alloop.strategies.dedupe import near_duplicate_groups

LABELS = ("phones", "kitchen")
TITLES = [
    "apple iphone 8 plus 64gb silver",  # 0
    "apple iphone 8 plus 64 gb silver",  # 1: the same product, another seller's words
    "apple iphone 8 plus 64gb silver sim free",  # 2
    "steel kettle 1.7 litre",  # 3
    "steel kettle 1.7 l cordless",  # 4
    "cotton tea towel set",  # 5
]


def test_groups_hold_only_candidates_above_the_threshold_most_similar_first():
    vectors = np.array([[1, 0], [0.99, 0.141], [0.9, 0.436], [0, 1], [0.1, 0.995]], dtype=np.float32)

    def embed(rows: np.ndarray) -> np.ndarray:
        return vectors[rows]

    anchors = vectors[[0, 3]]
    groups = near_duplicate_groups(anchors, embed, np.array([1, 2, 4]), threshold=0.95, chunk=2)
    assert groups[0].tolist() == [1]  # cosine 0.99 > 0.95; item 2 (0.9) is not a near-duplicate
    assert groups[1].tolist() == [4]
    assert near_duplicate_groups(anchors, embed, np.array([1, 2, 4]), 0.85, limit=1)[0].tolist() == [1]


@pytest.fixture()
def service(tmp_path):
    data = tmp_path / "items.csv"
    gold = ["phones", "phones", "phones", "kitchen", "kitchen", "kitchen"]
    pd.DataFrame({"title": TITLES, "category": gold}).to_csv(data, index=False)
    store, config, items = open_project(
        tmp_path / "p", {"data": str(data), "labels": LABELS, "classifier": "tfidf", "query_size": 2}
    )
    tokens = [store.add_annotator(name) for name in ("alice", "bob")]
    svc = LabelService(store, config, items, train=False)
    svc._publish(Snapshot((0, 3), "margin", 1, 2, similar={0: (1, 2), 3: (4,)}))
    yield svc, [store.annotator_for_token(t) for t in tokens]
    svc.close()


def test_one_answer_labels_only_the_ticked_near_duplicates(service):
    svc, (alice, _) = service
    item = svc.next_item(alice)
    assert item["item_id"] == "0"
    assert [s["item_id"] for s in item["similar"]] == ["1", "2"]
    result = svc.submit(alice, Answer("0", "phones", also=("1",)))
    assert result["also_labelled"] == ["1"]
    rows = {r.pos: r for r in svc.store.label_rows()}
    assert rows[1].label == "phones" and rows[1].source == "group" and rows[1].annotator == alice.id
    assert 2 not in rows  # offered but not ticked: nothing written
    assert rows[0].source == "queue"


def test_without_ticks_nothing_else_is_labelled_and_unoffered_ids_are_ignored(service):
    svc, (alice, _) = service
    svc.next_item(alice)
    assert svc.submit(alice, Answer("0", "phones"))["also_labelled"] == []
    item = svc.next_item(alice)
    assert item["item_id"] == "3"
    # 5 was never offered with 3, and 0 is the answered item itself: neither is touched
    result = svc.submit(alice, Answer("3", "kitchen", also=("5", "0", "4", "unknown")))
    assert result["also_labelled"] == ["4"]
    labelled = {r.pos: r.label for r in svc.store.label_rows()}
    assert labelled == {0: "phones", 3: "kitchen", 4: "kitchen"}


def test_a_skip_labels_no_group_and_an_item_someone_holds_is_not_offered(service):
    svc, (alice, bob) = service
    svc.next_item(alice)  # alice holds 0
    svc.submit(alice, Answer("0", None, skip=True, also=("1",)))
    assert {r.pos for r in svc.store.label_rows() if r.status == "label"} == set()
    svc._publish(Snapshot((1, 3), "margin", 2, 2, similar={1: (2,), 3: (4,)}))
    assert svc.next_item(bob)["item_id"] == "1"  # bob holds 1
    item = svc.next_item(alice)
    assert item["item_id"] == "3" and [s["item_id"] for s in item["similar"]] == ["4"]
    svc._publish(Snapshot((2, 3), "margin", 3, 2, similar={2: (1,)}))
    svc.submit(alice, Answer("3", "kitchen"))
    assert svc.next_item(alice)["similar"] == []  # 1 is held by bob: not offered to alice


def test_the_trainer_finds_the_groups_of_its_queue(tmp_path):
    rng = np.random.default_rng(0)
    words = ["steel", "cotton", "guitar", "kettle", "shirt", "drum", "linen", "lamp", "chair", "phone"]
    titles, gold = [], []
    for i in range(40):
        base = " ".join(rng.choice(words, 4)) + f" model{i}"
        titles += [base, base.upper() + "!"]  # each product listed twice, by two sellers
        gold += [LABELS[i % 2]] * 2
    data = tmp_path / "items.csv"
    pd.DataFrame({"title": titles, "category": gold}).to_csv(data, index=False)
    given = {
        "data": str(data),
        "labels": LABELS,
        "classifier": "tfidf",
        "query_size": 4,
        "cold_start": "random",
    }
    store, config, items = open_project(tmp_path / "p", given)
    alice = store.annotator_for_token(store.add_annotator("alice"))
    svc = LabelService(store, config, items).start()
    try:
        for _ in range(8):  # at least a retrain's worth after the cold-start round, however it raced
            item = svc.next_item(alice)
            svc.submit(alice, Answer(item["item_id"], gold[int(item["item_id"])]))
        assert svc.trainer is not None and svc.trainer.wait_idle(120)
        snapshot = svc.snapshot
        assert snapshot.version >= 1, "no model round after the labels"
        labelled = {r.pos for r in store.label_rows()}
        checked = 0
        for q in snapshot.queue:
            if q ^ 1 not in labelled:  # the other listing of the same product is still open
                assert q ^ 1 in snapshot.similar.get(q, ()), q
                checked += 1
        assert checked > 0
    finally:
        svc.close()
