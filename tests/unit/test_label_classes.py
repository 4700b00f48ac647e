"""No class left behind: the classes with no label yet, word search (and labels from it), and the
label-names cold start. In process (FastAPI's TestClient), tfidf or a stand-in encoder."""

from __future__ import annotations

import json
import re
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from label_support import bearer, run_main, small_amazon
from test_label_api import Project

from alloop.labelling.config import LabelConfig
from alloop.labelling.domain.service import LabelService
from alloop.labelling.domain.trainer import cold_start_note
from alloop.labelling.storage.project import open_project
from alloop.labelling.storage.search import MAX_QUERY_CHARS, SearchIndex
from alloop.loop.initial import (
    class_name_texts,
    cosine_similarity,
    label_name_representatives,
    label_turns,
)

SYNTHETIC = {"guitar": 40, "kettle": 25, "sneaker": 12, "lipstick": 6, "tent": 3}
"""A pool where the classes are very unequal: a random first draw misses the small ones."""
FILLER = ["acme", "deluxe", "model", "edition", "pro", "classic", "mini", "max", "plus", "original"]


class WordEncoder:
    """A stand-in for the transformer: the normalised sum of a fixed random vector per word
    (seeded by crc32), so texts that share words are close, as with a real encoder, without
    loading weights."""

    def embed(self, texts: Sequence[str], progress: object = None) -> np.ndarray:
        def word(w: str) -> np.ndarray:
            return np.random.default_rng(zlib.crc32(w.encode())).normal(size=256)

        rows = [sum((word(w) for w in t.lower().split()), np.zeros(256)) for t in texts]
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def synthetic_titles(seed: int = 0) -> pd.DataFrame:
    """Titles of a class word among filler words, classes interleaved in a seeded order."""
    rng = np.random.default_rng(seed)
    rows = [
        (" ".join([*rng.choice(FILLER, 3, replace=False), name, str(i)]), name)
        for name, n in SYNTHETIC.items()
        for i in range(n)
    ]
    frame = pd.DataFrame(rows, columns=["title", "category"])
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


@pytest.fixture(scope="module")
def data(amazon_sample, tmp_path_factory) -> Path:
    return small_amazon(amazon_sample, tmp_path_factory.mktemp("classes-data"), per_class=6)


@pytest.fixture
def project(tmp_path, data) -> Iterator[Project]:
    p = Project(tmp_path / "project", data, query_size=50)  # no retrain while a test runs
    yield p
    p.close()


def search(p: Project, who: str | None, **params: object):
    headers = bearer(p.tokens[who]) if who else {}
    return p.client.get("/api/search", params=params, headers=headers)


def sources(p: Project) -> dict[str, str]:
    with sqlite3.connect(p.folder / "label.db") as db:
        rows = db.execute("SELECT i.item_id, l.source FROM labels l JOIN items i USING (pos)").fetchall()
    return dict(rows)


def test_search_needs_a_token_and_a_searchable_query(project):
    for headers in ({}, bearer("wrong-token")):
        answer = project.client.get("/api/search", params={"q": "microphone"}, headers=headers)
        assert answer.status_code == 401 and "token" in answer.json()["detail"]
    cases = [
        ({}, "empty search"),
        ({"q": "   "}, "empty search"),
        ({"q": "x" * (MAX_QUERY_CHARS + 1)}, f"too long: at most {MAX_QUERY_CHARS} characters"),
        ({"q": "?! --"}, "no word to search for"),
        ({"q": " ".join(f"w{i}" for i in range(20))}, "too many words"),
        ({"q": "microphone", "limit": 0}, "limit"),
        ({"q": "microphone", "limit": 1000}, "limit"),
    ]
    for params, message in cases:
        answer = search(project, "alice", **params)
        assert answer.status_code == 422, (params, answer.text)
        detail = answer.json()["detail"]
        assert message in detail and "\n" not in detail, (params, detail)


def test_search_finds_items_by_words_and_says_which_are_labelled(project):
    texts = dict(zip(project.items.ids, project.items.texts, strict=True))
    found = search(project, "alice", q="wireless MICROPHONE").json()
    assert found["method"] == "fts5" and found["items"]
    for row in found["items"]:  # every word, any case, as a word or a word's start
        words = re.findall(r"\w+", texts[row["item_id"]].lower())
        assert all(any(w.startswith(q) for w in words) for q in ("wireless", "microphone")), row
        assert row["labelled"] is False and row["yours"] is None and row["held"] is False
    assert len(search(project, "alice", q="wireless", limit=1).json()["items"]) == 1
    prefix = {r["item_id"] for r in search(project, "alice", q="micro").json()["items"]}
    assert {r["item_id"] for r in found["items"]} <= prefix  # a word also matches as a prefix
    assert search(project, "alice", q="zzzqqq").json()["items"] == []

    target = found["items"][0]["item_id"]
    answer = project.post("bob", {"item_id": target, "label": "music", "source": "search"})
    assert answer.status_code == 200, answer.text
    rows = {r["item_id"]: r for r in search(project, "alice", q="wireless microphone").json()["items"]}
    assert rows[target]["labelled"] is True and rows[target]["n_labels"] == 1
    assert rows[target]["yours"] is None  # alice sees that it is labelled, not bob's answer
    mine = {r["item_id"]: r for r in search(project, "bob", q="wireless microphone").json()["items"]}
    assert mine[target]["yours"] == {"status": "label", "label": "music"}
    held = project.get("cat", "/api/next")["item_id"]
    words = " ".join(project.items.texts[project.items.ids.index(held)].split()[:4])[:MAX_QUERY_CHARS]
    rows = {r["item_id"]: r for r in search(project, "alice", q=words, limit=100).json()["items"]}
    assert rows[held]["held"] is True  # cat holds it: labelling it now would be refused


def test_the_like_fallback_and_an_index_built_for_an_older_project(project):
    fts = SearchIndex(project.store)
    like = SearchIndex(project.store, fts=False)
    assert fts.fts and not like.fts
    for query in ("wireless microphone", "guitar strings", "bluetooth"):
        assert {m.pos for m in fts.search(query, 100)} == {m.pos for m in like.search(query, 100)}, query
    with project.store.transaction() as db:  # a label.db from before search existed
        db.execute("DROP TABLE items_fts")
        db.execute("DELETE FROM meta WHERE key = 'search_index'")
    rebuilt = SearchIndex(project.store)
    assert rebuilt.fts and {m.pos for m in rebuilt.search("bluetooth", 100)} == {
        m.pos for m in like.search("bluetooth", 100)
    }


def test_a_search_label_is_recorded_with_its_source_and_leaves_the_queue_alone(project):
    held = project.get("alice", "/api/next")["item_id"]
    bobs = project.get("bob", "/api/next")["item_id"]
    found = [r["item_id"] for r in search(project, "alice", q="microphone").json()["items"]]
    target = next(i for i in found if i not in (held, bobs))
    body = {"item_id": target, "label": "music", "source": "search"}
    assert project.post("alice", body).status_code == 200
    assert sources(project) == {target: "search"}
    assert project.get("alice", "/api/next")["item_id"] == held  # alice still holds her item
    # refused: an item another annotator holds, an unknown source; nothing is written
    answer = project.post("alice", {"item_id": bobs, "label": "music", "source": "search"})
    assert answer.status_code == 409 and "another annotator" in answer.json()["detail"]
    answer = project.post("alice", {"item_id": held, "label": "music", "source": "import"})
    assert answer.status_code == 422 and "source" in answer.json()["detail"]
    assert sources(project) == {target: "search"}
    # the queue goes on: the searched item is not handed out again, queue labels say so
    project.post("alice", {"item_id": held, "label": project.gold[held]})
    handed = [project.label_next("bob") for _ in range(8)]
    assert target not in handed and bobs == handed[0]
    recorded = sources(project)
    assert recorded[target] == "search" and {recorded[i] for i in [held, *handed]} == {"queue"}
    stats = project.get("alice", "/api/stats")
    assert stats["labels"] == 10 and stats["per_class"]["music"] >= 1


def test_missing_classes_shrink_as_classes_get_labels(project, capsys):
    labels = list(project.config.labels)
    assert project.get("alice", "/api/stats")["missing_classes"] == labels
    by_class: dict[str, str] = {}
    for item_id, label in project.gold.items():
        by_class.setdefault(label, item_id)
    for n, label in enumerate(labels[:-1], start=1):
        source = "search" if n % 2 else "queue"
        body = {"item_id": by_class[label], "label": label, "source": source}
        assert project.post("alice", body).status_code == 200
        missing = project.get("alice", "/api/stats")["missing_classes"]
        assert missing == labels[n:]  # in label-set order
    # a tie is no final label: the last class stays missing until the tie is broken
    last, item = labels[-1], by_class[labels[-1]]
    project.post("alice", {"item_id": item, "label": last})
    project.post("bob", {"item_id": item, "label": labels[0]})
    assert project.get("alice", "/api/stats")["missing_classes"] == [last]
    project.close()
    code, out, err = run_main(capsys, "label-stats", "--project", str(project.folder))
    assert code == 0, err
    assert f"classes with no label yet (1): {last}" in " ".join(out.split())
    code, out, _ = run_main(capsys, "label-stats", "--project", str(project.folder), "--json")
    assert json.loads(out)["missing_classes"] == [last]
    store, config, items = open_project(project.folder, {})
    service = LabelService(store, config, items, train=False)
    service.submit(store.annotators()[2], _answer(item, last))  # cat breaks the tie
    assert service.stats()["missing_classes"] == []
    service.close()
    code, out, _ = run_main(capsys, "label-stats", "--project", str(project.folder))
    assert "every class has a label" in out


def _answer(item_id: str, label: str):
    from alloop.labelling.domain.service import Answer

    return Answer(item_id, label, source="search")


def test_label_name_round_robin_covers_every_class_with_the_stand_in_encoder():
    frame = synthetic_titles()
    names = list(SYNTHETIC)
    encoder = WordEncoder()
    similarity = cosine_similarity(encoder.embed(frame["title"]), encoder.embed(class_name_texts(names)))
    first = label_name_representatives(similarity, len(names), seed=0)
    assert sorted(frame["category"][first]) == sorted(names)  # one per class, the rare ones too
    assert frame["category"][first].tolist() == names  # in label-set order
    ten = label_name_representatives(similarity, 10, seed=0)
    assert len(set(ten.tolist())) == 10 and frame["category"][ten].value_counts().min() == 2
    # a random draw of the same size misses a class most of the time here
    random_hits = [
        frame["category"][np.random.default_rng(s).permutation(len(frame))[:5]].nunique() == 5
        for s in range(20)
    ]
    assert sum(random_hits) < 5
    # only candidates are picked; classes with no label yet go first
    candidates = np.flatnonzero(frame["category"] != "tent")
    picks = label_name_representatives(similarity, 4, seed=0, candidates=candidates, first=[3])
    assert set(picks.tolist()) <= set(candidates.tolist()) and frame["category"][picks[0]] == "lipstick"
    # no evidence (not finite): a class that runs out drops out; then a seeded random fill
    none = -np.inf
    sparse = np.array([[0.9, none], [0.5, none], [none, 0.7], *[[none, none]] * 20])
    picks = label_name_representatives(sparse, 6, seed=0)
    assert picks[:3].tolist() == [0, 2, 1] and set(picks[3:].tolist()) <= set(range(3, 23))
    fills = {tuple(label_name_representatives(sparse, 6, seed=s)[3:].tolist()) for s in range(3)}
    assert len(fills) == 3 and picks.tolist() == label_name_representatives(sparse, 6, seed=0).tolist()


def test_the_live_cold_start_uses_the_class_names(tmp_path, monkeypatch):
    from alloop.models import HybridClassifier

    frame = synthetic_titles(seed=1)
    frame.to_parquet(tmp_path / "data.parquet")
    monkeypatch.setattr(
        "alloop.labelling.domain.trainer.classifier_factory",
        lambda config, n: lambda seed: HybridClassifier(WordEncoder(), n, seed=seed),
    )
    given = {"data": str(tmp_path / "data.parquet"), "labels": tuple(SYNTHETIC), "classifier": "hybrid"}
    store, config, items = open_project(tmp_path / "p", given)
    assert config.cold_start == "label-names"  # the default of a new project
    assert cold_start_note(config) is None
    token = store.add_annotator("alice")
    service = LabelService(store, config, items).start()
    assert service.trainer.wait_idle(60), service.trainer.error
    assert service.snapshot.source == "label-names" and service.snapshot.version == 0
    who = store.annotator_for_token(token)
    first = []
    for _ in SYNTHETIC:
        item = service.next_item(who)
        assert item["source"] == "label-names"
        first.append(frame["category"][int(item["item_id"])])
        service.submit(who, _answer(item["item_id"], first[-1]))
    assert sorted(first) == sorted(SYNTHETIC)  # the first five items: one of each class


TREE_LEAVES = {"A > guitar": 20, "A > kettle": 20, "A > sneaker": 20, "B > lipstick": 20, "C > tent": 20}


def test_label_turns_lets_the_branches_take_turns():
    assert label_turns(tuple(TREE_LEAVES)) == [0, 3, 4, 1, 2]
    assert label_turns(("b", "a", "c")) == [0, 1, 2]  # flat labels keep their order


def test_the_live_cold_start_over_a_tree_covers_the_branches_first(tmp_path, monkeypatch):
    """Leaves named by full path: the first three items are one per top-level branch (in leaf
    order they would all be in A)."""
    from alloop.models import HybridClassifier

    rng = np.random.default_rng(2)
    rows = [
        (" ".join([*rng.choice(FILLER, 3, replace=False), leaf.split(" > ")[1], str(i)]), leaf)
        for leaf, n in TREE_LEAVES.items()
        for i in range(n)
    ]
    frame = pd.DataFrame(rows, columns=["title", "category"]).iloc[rng.permutation(len(rows))]
    frame.reset_index(drop=True).to_parquet(tmp_path / "data.parquet")
    frame = frame.reset_index(drop=True)
    monkeypatch.setattr(
        "alloop.labelling.domain.trainer.classifier_factory",
        lambda config, n: lambda seed: HybridClassifier(WordEncoder(), n, seed=seed),
    )
    given = {"data": str(tmp_path / "data.parquet"), "labels": tuple(TREE_LEAVES), "classifier": "hybrid"}
    store, config, items = open_project(tmp_path / "p", given)
    token = store.add_annotator("alice")
    service = LabelService(store, config, items).start()
    assert service.trainer.wait_idle(60), service.trainer.error
    who = store.annotator_for_token(token)
    first = []
    for _ in range(3):
        item = service.next_item(who)
        assert item["source"] == "label-names"
        first.append(frame["category"][int(item["item_id"])])
        service.submit(who, _answer(item["item_id"], first[-1]))
    assert [leaf.split(" > ")[0] for leaf in first] == ["A", "B", "C"]
    service.close()


def test_tfidf_falls_back_to_kmeans_and_old_projects_keep_their_cold_start(tmp_path, data):
    p = Project(tmp_path / "new", data)
    assert p.config.cold_start == "label-names" and p.service.snapshot.source == "kmeans"
    assert "k-means" in cold_start_note(p.config)  # what `alloop label` prints at start
    p.close()
    old = Project(tmp_path / "old", data, cold_start="kmeans")  # as every project before this
    old.close()
    store, config, _ = open_project(tmp_path / "old", {})
    assert config.cold_start == "kmeans"  # resuming keeps the stored cold start
    store.close()
    assert LabelConfig(data="x", labels=("a", "b")).cold_start == "label-names"
