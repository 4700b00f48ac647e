"""The labelling service and its JSON API, in process (FastAPI's TestClient), on real titles."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from label_support import bearer, small_amazon

from alloop.errors import AlloopError
from alloop.labelling.api.app import MAX_BODY_BYTES, create_app
from alloop.labelling.domain.queue import in_overlap
from alloop.labelling.domain.service import LabelService
from alloop.labelling.interop.exporting import export_frame, predict_file
from alloop.labelling.storage.project import open_project
from alloop.loop.initial import kmeans_representatives

ENDPOINTS = [
    ("GET", "/api/me"),
    ("GET", "/api/next"),
    ("POST", "/api/labels"),
    ("POST", "/api/undo"),
    ("GET", "/api/recent"),
    ("GET", "/api/stats"),
]


@pytest.fixture(scope="module")
def data(amazon_sample, tmp_path_factory) -> Path:
    return small_amazon(amazon_sample, tmp_path_factory.mktemp("label-data"), per_class=10)


class Project:
    """A fresh tfidf project with a running service, a client and named tokens."""

    def __init__(self, folder: Path, data: Path, **options: Any):
        labels = tuple((data.parent / "labels.txt").read_text().split("\n")[:-1])
        given = {
            "data": str(data),
            "labels": labels,
            "gold": "category",
            "classifier": "tfidf",
            "query_size": 5,
            **options,
        }
        self.folder = folder
        self.store, self.config, self.items = open_project(folder, given)
        self.tokens = {name: self.store.add_annotator(name) for name in ("alice", "bob", "cat")}
        self.service = LabelService(self.store, self.config, self.items).start()
        assert self.service.trainer.wait_idle(60)  # the cold-start queue is out before anyone labels
        self.client = TestClient(create_app(self.service))
        truth = pd.read_parquet(data, columns=["category"])["category"]
        self.gold = {str(i): label for i, label in truth.items()}  # ids are row numbers

    def get(self, who: str, path: str) -> Any:
        answer = self.client.get(path, headers=bearer(self.tokens[who]))
        assert answer.status_code == 200, answer.text
        return answer.json()

    def post(self, who: str, body: dict[str, Any], path: str = "/api/labels") -> Any:
        return self.client.post(path, headers=bearer(self.tokens[who]), json=body)

    def label_next(self, who: str, label: str | None = None) -> str:
        item = self.get(who, "/api/next")
        answer = self.post(who, {"item_id": item["item_id"], "label": label or self.gold[item["item_id"]]})
        assert answer.status_code == 200, answer.text
        return item["item_id"]

    def close(self) -> None:
        self.service.close()


@pytest.fixture
def project(tmp_path, data) -> Iterator[Project]:
    p = Project(tmp_path / "project", data)
    yield p
    p.close()


def test_every_api_call_needs_a_valid_token(project):
    for method, path in ENDPOINTS:
        for headers in ({}, bearer("not-a-token"), {"Authorization": f"Basic {project.tokens['alice']}"}):
            answer = project.client.request(
                method, path, headers=headers, json={"item_id": "0", "label": "x"}
            )
            assert answer.status_code == 401, (method, path, headers)
            assert answer.headers["www-authenticate"] == "Bearer"
            assert "token" in answer.json()["detail"]
    me = project.get("alice", "/api/me")
    assert me["annotator"] == "alice" and me["labels"] == list(project.config.labels)
    # the page itself carries no data, and forbids inline script
    page = project.client.get("/")
    assert page.status_code == 200 and '<script src="/static/app.js">' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert project.client.get("/static/app.js").headers["content-type"].startswith("text/javascript")


def test_tokens_are_stored_hashed(project):
    db = (project.folder / "label.db").read_bytes()
    for token in project.tokens.values():
        assert token.encode() not in db
    wal = project.folder / "label.db-wal"
    if wal.exists():
        assert all(token.encode() not in wal.read_bytes() for token in project.tokens.values())


def test_label_is_committed_before_the_answer_and_never_duplicated(project):
    item = project.get("alice", "/api/next")
    assert set(item) >= {"item_id", "text", "fields", "source"} and item["fields"]["title"] == item["text"]
    label = project.gold[item["item_id"]]
    answer = project.post("alice", {"item_id": item["item_id"], "label": label})
    assert answer.status_code == 200 and answer.json()["label"] == label
    other = sqlite3.connect(project.folder / "label.db")  # another connection sees it at once
    query = "SELECT l.label FROM labels l JOIN items i USING (pos) WHERE i.item_id = ?"
    assert other.execute(query, (item["item_id"],)).fetchall() == [(label,)]
    # a retried POST and an edit update the one row
    assert project.post("alice", {"item_id": item["item_id"], "label": label}).status_code == 200
    changed = next(c for c in project.config.labels if c != label)
    assert project.post("alice", {"item_id": int(item["item_id"]), "label": changed}).status_code == 200
    assert other.execute(query, (item["item_id"],)).fetchall() == [(changed,)]
    recent = project.get("alice", "/api/recent")["items"]
    assert [(r["item_id"], r["label"]) for r in recent] == [(item["item_id"], changed)]
    other.close()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"item_id": "0", "label": "gadgets"}, 422, "not in the label set: accessories, appliances"),
        ({"item_id": "no-such-item", "label": "music"}, 404, "unknown item_id 'no-such-item'"),
        ({"item_id": "0"}, 422, 'exactly one of "label"'),
        ({"item_id": "0", "label": "music", "skip": True}, 422, 'exactly one of "label"'),
        ({"item_id": "0", "lable": "music"}, 422, "lable: Extra inputs are not permitted"),
        ({"label": "music"}, 422, "item_id: Field required"),
        ({"item_id": "0", "label": "x" * (MAX_BODY_BYTES + 10)}, 413, f"limit is {MAX_BODY_BYTES} bytes"),
    ],
)
def test_bad_requests_are_refused_with_a_clear_message(project, body, status, message):
    answer = project.post("alice", body)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["detail"]
    assert project.store.label_rows() == []


def test_malformed_json_bad_query_and_streamed_oversized_body_are_4xx(project):
    headers = {**bearer(project.tokens["alice"]), "Content-Type": "application/json"}
    chunks = (b'{"item_id": "0", "label": "' + b"x" * 1000 for _ in range(MAX_BODY_BYTES // 1000 + 2))
    answer = project.client.post("/api/labels", headers=headers, content=chunks)  # no Content-Length
    assert answer.status_code == 413 and "too large" in answer.json()["detail"]
    answer = project.client.post("/api/labels", headers=headers, content=b"{not json")
    assert answer.status_code == 422 and "JSON" in answer.json()["detail"]
    assert project.client.get("/api/recent?limit=1000", headers=headers).status_code == 422


def test_an_item_is_never_handed_to_two_annotators_at_once(tmp_path, data):
    p = Project(tmp_path / "p", data)
    for name in ("dan", "eve", "fay"):
        p.tokens[name] = p.store.add_annotator(name)
    held: dict[str, str] = {}
    barrier = threading.Barrier(len(p.tokens))

    def grab(name: str) -> None:
        barrier.wait()
        held[name] = p.get(name, "/api/next")["item_id"]

    threads = [threading.Thread(target=grab, args=(name,)) for name in p.tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(held.values())) == len(p.tokens)
    assert p.get("alice", "/api/next")["item_id"] == held["alice"]  # asking again: the same item
    answer = p.post("bob", {"item_id": held["alice"], "label": "music"})
    assert answer.status_code == 409 and "another annotator" in answer.json()["detail"]
    p.close()


def test_skip_unsure_undo(tmp_path, data):
    project = Project(tmp_path / "p", data, query_size=50)  # no retrain reorders the queue meanwhile
    first = project.get("alice", "/api/next")["item_id"]
    assert project.post("alice", {"item_id": first, "skip": True}).status_code == 200
    second = project.get("alice", "/api/next")["item_id"]
    assert second != first
    assert project.post("alice", {"item_id": second, "unsure": True}).status_code == 200
    third = project.label_next("alice")
    seen = {project.label_next("alice") for _ in range(6)}
    assert first not in seen and second not in seen  # never handed back to who skipped it
    assert project.get("bob", "/api/next")["item_id"] == first  # but someone else gets it
    stats = project.get("alice", "/api/stats")
    assert (stats["skips"], stats["unsure"], stats["labels"]) == (1, 1, 7)
    last = [r["item_id"] for r in project.get("alice", "/api/recent?limit=20")["items"]]
    assert last[-3:] == [third, second, first]
    undone = project.post("alice", {}, path="/api/undo").json()
    assert undone["item_id"] == last[0]
    assert project.get("alice", "/api/next")["item_id"] == last[0]  # the undone item comes back
    assert project.get("alice", "/api/stats")["labels"] == 6
    project.close()


def test_retraining_in_the_background_refills_the_queue(project):
    trainer = project.service.trainer
    assert trainer.wait_idle(60)
    assert project.service.snapshot.version == 0  # no labels yet: cold start
    labelled = [project.label_next("alice") for _ in range(5)]
    assert {project.get("alice", "/api/stats")["model"]["query_size"]} == {5}
    assert trainer.wait_idle(60)
    snapshot = project.service.snapshot
    assert snapshot.version == 1 and snapshot.source == "margin" and snapshot.n_trained == 5
    queued = [project.items.ids[p] for p in snapshot.queue]
    assert not set(queued) & set(labelled) and len(queued) == 10
    item = project.get("alice", "/api/next")
    assert item["source"] == "margin" and item["item_id"] == queued[0] and item["model_version"] == 1
    for _ in range(5):
        project.label_next("alice")
    assert trainer.wait_idle(60)
    stats = project.get("alice", "/api/stats")
    assert stats["model"]["version"] == 2 and stats["model"]["trained_on"] == 10
    assert stats["model"]["estimate"] == "gold" and 0 <= stats["model"]["macro_f1"] <= 1
    assert stats["model"]["estimate_n"] == len(project.items) - 10
    assert stats["labelled_items"] == 10 and sum(stats["per_class"].values()) == 10


def test_cross_validated_estimate_without_gold(tmp_path, data):
    p = Project(tmp_path / "p", data, gold=None, query_size=12)
    for _ in range(12):
        p.label_next("alice")  # true labels from the data file, not from --gold
    assert p.service.trainer.wait_idle(60)
    model = p.get("alice", "/api/stats")["model"]
    assert model["estimate"] == "cv" and model["estimate_n"] == 12 and 0 <= model["macro_f1"] <= 1
    assert all(a["gold_accuracy"] is None for a in p.get("alice", "/api/stats")["annotators"])
    p.close()


def test_overlap_sends_a_share_to_a_second_annotator(tmp_path, data):
    p = Project(tmp_path / "p", data, overlap=0.5)
    p.store.set_role("alice", "reviewer")  # who answered what, below, is shown to reviewers only
    alice = [p.label_next("alice") for _ in range(12)]
    chosen = [i for i in alice if in_overlap(i, 0, 0.5)]
    assert 0 < len(chosen) < 12  # the hash picks about half
    bob = [p.get("bob", "/api/next")["item_id"]]
    p.post("bob", {"item_id": bob[0], "label": "music"})  # bob disagrees with alice here
    bob += [p.label_next("bob") for _ in range(len(chosen) - 1)]
    assert bob == chosen  # overlap items go to a second annotator first, oldest first
    assert p.get("bob", "/api/next")["item_id"] not in alice  # then new items
    stats = p.get("alice", "/api/stats")
    (pair,) = stats["agreement"]["pairs"]
    assert (pair["a"], pair["b"], pair["n_items"]) == ("alice", "bob", len(chosen))
    assert stats["agreement"]["fleiss"] is None  # two annotators: pairs say it all
    tie = stats["agreement"]["disagreements"][0]
    assert tie["item_id"] == chosen[0] and tie["tie"] and tie["majority"] is None
    assert tie["labels"] == {"alice": p.gold[chosen[0]], "bob": "music"}
    assert stats["ties"] == 1
    # a third opinion breaks the tie; with 3 annotators Fleiss' kappa appears
    assert p.post("cat", {"item_id": chosen[0], "label": "music"}).status_code == 200
    stats = p.get("alice", "/api/stats")
    assert stats["ties"] == 0 and stats["agreement"]["disagreements"][0]["majority"] == "music"
    assert stats["agreement"]["fleiss"]["n_annotators"] == 3
    frame = export_frame(p.config, p.items, p.store.label_rows(), {1: "alice", 2: "bob", 3: "cat"})
    row = frame.set_index("item_id").loc[chosen[0]]
    assert row["final_label"] == "music" and row["n_labels"] == 3 and not row["needs_review"]
    assert row["label_alice"] == p.gold[chosen[0]] and row["label_cat"] == "music"
    assert row["labelled_at_bob"].endswith("+00:00")
    assert len(frame) == len(set(alice) | set(bob))
    p.close()


def test_restart_resumes_the_project_with_the_queue_rebuilt(tmp_path, data):
    p = Project(tmp_path / "p", data)
    done = [p.label_next("alice") for _ in range(7)]
    held = p.get("bob", "/api/next")["item_id"]
    assert p.service.trainer.wait_idle(60) and p.service.snapshot.version == 1  # model v1: 5 labels
    p.close()
    store, config, items = open_project(tmp_path / "p", {"classifier": "tfidf"})  # --project alone
    assert config.data == str(data) and items.ids == p.items.ids
    service = LabelService(store, config, items)
    assert service.snapshot.version == 1  # the version goes on from the last model, never back to 0
    assert service.start().trainer.wait_idle(60)
    assert service.snapshot.version == 2 and service.snapshot.n_trained == 7
    assert not {items.ids[i] for i in service.snapshot.queue} & set(done)
    bob = store.annotators()[1]
    assert service.next_item(bob)["item_id"] == held  # assignments survive a restart
    service.close()
    with pytest.raises(AlloopError, match="created with `labels`"):
        open_project(tmp_path / "p", {"labels": ("a", "b")})
    with pytest.raises(AlloopError, match="created with `data`"):
        open_project(tmp_path / "p", {"data": str(tmp_path / "other.parquet")})


def test_same_seed_same_queues(tmp_path, data):
    queues = []
    for run in ("a", "b"):
        p = Project(tmp_path / run, data, seed=3)
        order = [p.label_next("alice") for _ in range(5)]
        assert p.service.trainer.wait_idle(60)
        queues.append((order, p.service.snapshot.queue))
        p.close()
    assert queues[0] == queues[1]


def test_kmeans_cold_start_takes_one_representative_per_group():
    rng = np.random.default_rng(0)
    centres = np.eye(4) * 10
    points = np.concatenate(
        [c + rng.normal(0, 0.1, (n, 4)) for c, n in zip(centres, (40, 30, 20, 10), strict=True)]
    )
    chosen = kmeans_representatives(points, 4, seed=0)
    groups = [int(np.argmax(points[i])) for i in chosen]
    assert groups == [0, 1, 2, 3]  # every group once, largest first
    subset = np.arange(40, 100)  # only the unlabelled candidates are eligible
    assert set(kmeans_representatives(points, 3, seed=0, candidates=subset)) <= set(subset.tolist())


def test_predict_uses_the_project_labels(project, tmp_path, amazon_in):
    for _ in range(40):
        project.label_next("alice")
    new = pd.read_parquet(amazon_in, columns=["title", "category"]).iloc[5000:5200]
    new.to_parquet(tmp_path / "new.parquet")
    out = predict_file(project.folder, str(tmp_path / "new.parquet"), tmp_path / "pred.parquet")
    written = pd.read_parquet(tmp_path / "pred.parquet")
    assert list(written.columns) == ["title", "category", "predicted_label", "confidence"]
    assert written["confidence"].between(0, 1).all() and len(out) == 200
    assert set(written["predicted_label"]) <= set(project.config.labels)
    accuracy = (written["predicted_label"] == written["category"]).mean()
    assert accuracy > 0.15  # 40 labels of 19 classes: well above chance (~0.05)


@pytest.mark.parametrize(
    "body",
    [
        {"item_id": True, "label": "music"},
        {"item_id": 1.0, "label": "music"},
        {"item_id": ["0"], "label": "music"},
        {"item_id": "0", "skip": "yes"},
        {"item_id": "0", "skip": 1},
        {"item_id": "0", "unsure": "true"},
        {"item_id": "0", "unsure": 0},
        {"item_id": "0", "label": 3},
        {"item_id": "0", "label": ["music"]},
    ],
)
def test_types_are_strict(project, body):
    answer = project.post("alice", body)
    assert answer.status_code == 422, answer.text
    assert project.store.label_rows() == []


def test_an_integer_item_id_is_still_accepted(project):
    item = project.get("alice", "/api/next")
    answer = project.post("alice", {"item_id": int(item["item_id"]), "skip": True})
    assert answer.status_code == 200 and answer.json()["status"] == "skip", answer.text


def test_a_body_that_is_not_utf8_is_the_documented_422(project):
    headers = {**bearer(project.tokens["alice"]), "Content-Type": "application/json"}
    answer = project.client.post("/api/labels", headers=headers, content=b'{"item_id": "\xff\xfe"}')
    assert answer.status_code == 422 and "UTF-8" in answer.json()["detail"], answer.text


def test_a_404_does_not_echo_a_long_id_back(project):
    answer = project.post("alice", {"item_id": "x" * 10_000, "label": "music"})
    assert answer.status_code == 404
    detail = answer.json()["detail"]
    assert len(detail) < 200 and "10,000 characters" in detail
