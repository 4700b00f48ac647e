"""Review and roles, through the JSON API in process (FastAPI's TestClient) on real titles: the
review queue and its refusals, adjudications that change the final label and the training set,
annotators who cannot see each other, and counters that survive a restart."""

from __future__ import annotations

import contextlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from label_support import bearer, run_main, small_amazon

from alloop.errors import AlloopError
from alloop.labelling.api.app import create_app
from alloop.labelling.domain.final import final_labels
from alloop.labelling.domain.review import review_queue
from alloop.labelling.domain.service import Answer, LabelService
from alloop.labelling.domain.trainer import fit_model, training_set
from alloop.labelling.storage.project import open_project
from alloop.labelling.storage.store import LabelStore

# names no product title contains, so a leak can be found by searching the answers' text
ANNOTATORS = ("zz-alice", "zz-bob", "zz-cat")
REVIEWER = "zz-rita"


@pytest.fixture(scope="module")
def data(amazon_sample, tmp_path_factory) -> Path:
    return small_amazon(amazon_sample, tmp_path_factory.mktemp("review-data"), per_class=10)


class Project:
    """A tfidf project with three annotators and a reviewer, served in process."""

    def __init__(
        self,
        folder: Path,
        data: Path,
        train: bool = False,
        tokens: dict[str, str] | None = None,
        **options: Any,
    ):
        """``tokens``: reopen a project made before (a restart); training starts with ``start()``."""
        labels = tuple((data.parent / "labels.txt").read_text().split("\n")[:-1])
        given = {"data": str(data), "labels": labels, "gold": "category", "classifier": "tfidf", **options}
        self.folder = folder
        self.store, self.config, self.items = open_project(folder, given)
        if tokens is None:
            tokens = {name: self.store.add_annotator(name) for name in ANNOTATORS}
            tokens[REVIEWER] = self.store.add_annotator(REVIEWER, role="reviewer")
        self.tokens = tokens
        self.service = LabelService(self.store, self.config, self.items, train=train)
        self.client = TestClient(create_app(self.service))
        self.a, self.b = self.config.labels[0], self.config.labels[1]

    def call(self, who: str | None, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = bearer(self.tokens[who]) if who else {}
        return self.client.request(method, path, headers=headers, json=body)

    def answer(self, who: str, item_id: str, label: str | None = None, unsure: bool = False) -> None:
        body = {"item_id": item_id, "unsure": True} if unsure else {"item_id": item_id, "label": label}
        reply = self.call(who, "POST", "/api/labels", body)
        assert reply.status_code == 200, reply.text

    def contest(self) -> None:
        """Item 0 a tie, 1 unsure, 2 a disagreement with a majority, 3 agreed, 4 one label."""
        alice, bob, cat = ANNOTATORS
        self.answer(alice, "0", self.a)
        self.answer(bob, "0", self.b)
        self.answer(alice, "1", unsure=True)
        for who, label in ((alice, self.a), (bob, self.a), (cat, self.b)):
            self.answer(who, "2", label)
        self.answer(alice, "3", self.a)
        self.answer(bob, "3", self.a)
        self.answer(alice, "4", self.a)

    def finals(self) -> dict[str, str | None]:
        final = final_labels(self.store.label_rows(), self.store.adjudications())
        return {self.items.ids[p]: f.label for p, f in final.items()}

    def close(self) -> None:
        self.service.close()


@pytest.fixture
def project(tmp_path, data):
    p = Project(tmp_path / "project", data)
    yield p
    p.close()


def test_review_needs_a_token_and_the_reviewer_role(project):
    project.contest()
    decision = {"item_id": "0", "label": project.b}
    for method in ("GET", "POST"):
        for headers in ({}, bearer("not-a-token")):
            reply = project.client.request(method, "/api/review", headers=headers, json=decision)
            assert reply.status_code == 401 and reply.headers["www-authenticate"] == "Bearer", reply.text
        reply = project.call("zz-alice", method, "/api/review", decision)
        assert reply.status_code == 403 and "only a reviewer" in reply.json()["detail"], reply.text
        assert project.call("zz-alice", method, "/api/review", {"item_id": "0"}).status_code == 403
    assert project.store.adjudications() == {}
    assert project.call("zz-alice", "GET", "/api/me").json()["role"] == "annotator"
    project.store.set_role("zz-alice", "reviewer")  # as `alloop annotators set-role` does, live
    assert project.call("zz-alice", "GET", "/api/review").status_code == 200
    assert project.call(REVIEWER, "GET", "/api/me").json()["role"] == "reviewer"


def test_the_queue_serves_ties_then_unsure_then_disagreements_with_every_answer(project, capsys, monkeypatch):
    project.contest()
    alice, bob, cat = ANNOTATORS
    first = project.call(REVIEWER, "GET", "/api/review").json()
    assert (first["item_id"], first["reason"], first["current"], first["remaining"]) == ("0", "tie", None, 3)
    assert [(a["annotator"], a["label"]) for a in first["answers"]] == [(alice, project.a), (bob, project.b)]
    assert first["text"] == project.items.texts[0] and first["fields"]["title"] == first["text"]
    assert project.call(REVIEWER, "GET", "/api/review").json() == first  # reading changes nothing

    reply = project.call(REVIEWER, "POST", "/api/review", {"item_id": "0", "label": project.b}).json()
    assert reply["decided"]["item_id"] == "0" and reply["decided"]["label"] == project.b
    second = reply["next"]
    assert (second["item_id"], second["reason"], second["remaining"]) == ("1", "unsure", 2)
    assert [(a["annotator"], a["status"], a["label"]) for a in second["answers"]] == [(alice, "unsure", None)]

    reply = project.call(REVIEWER, "POST", "/api/review", {"item_id": 1, "label": project.a}).json()
    third = reply["next"]
    assert (third["item_id"], third["reason"], third["current"]) == ("2", "disagreement", project.a)
    assert {a["annotator"] for a in third["answers"]} == {alice, bob, cat}

    reply = project.call(REVIEWER, "POST", "/api/review", {"item_id": "2", "label": project.b}).json()
    assert reply["next"] == {"item_id": None, "done": True, "remaining": 0, "message": "nothing to review"}
    assert project.call(REVIEWER, "GET", "/api/review").json()["done"]
    a, b = project.a, project.b
    assert project.finals() == {"0": b, "1": a, "2": b, "3": a, "4": a}  # item 2: the minority won
    decided = project.store.adjudications()
    assert [project.items.ids[p] for p in decided] == ["0", "1", "2"]
    assert {d.reviewer for d in decided.values()} == {4}  # the reviewer's annotator id
    listed = {d["item_id"]: d for d in project.service.stats()["agreement"]["disagreements"]}
    assert (listed["0"]["tie"], listed["0"]["decided"], listed["2"]["decided"]) == (True, b, b)
    monkeypatch.setenv("COLUMNS", "400")  # one table row per line
    code, out, err = run_main(capsys, "label-stats", "--project", str(project.folder))
    assert code == 0 and f"{b} (reviewer)" in out and "tie: review" not in out, err
    # a new answer that disagrees brings an agreed item into the queue
    project.answer(cat, "3", project.b)
    assert project.call(REVIEWER, "GET", "/api/review").json()["item_id"] == "3"


def test_refused_adjudications_write_nothing(project):
    project.contest()
    rows = project.store.label_rows()
    a = project.a
    cases = [
        ({"item_id": "0", "label": "gadgets"}, 422, "label 'gadgets' is not in the label set: accessories"),
        ({"item_id": "0", "label": "y" * 400}, 422, "(400 characters) is not in the label set"),
        ({"item_id": "no-such-item", "label": a}, 422, "unknown item_id 'no-such-item'"),
        ({"item_id": "x" * 5000, "label": a}, 422, "5,000 characters"),
        ({"item_id": "0"}, 422, "label: Field required"),
        ({"label": a}, 422, "item_id: Field required"),
        ({"item_id": "0", "label": None}, 422, "label"),
        ({"item_id": "0", "label": a, "skip": True}, 422, "skip: Extra inputs are not permitted"),
        ({"item_id": True, "label": a}, 422, "item_id"),
        ({"item_id": "0", "label": [a]}, 422, "label"),
        ({"item_id": "3", "label": a}, 404, "item '3' does not need review: it has no tie, unsure answer"),
        ({"item_id": "4", "label": a}, 404, "does not need review"),
        ({"item_id": "150", "label": a}, 404, "does not need review"),  # nobody answered it
    ]
    for body, status, message in cases:
        reply = project.call(REVIEWER, "POST", "/api/review", body)
        assert reply.status_code == status, (body, reply.text)
        detail = reply.json()["detail"]
        assert message in detail and "\n" not in detail, (body, detail)
        assert "x" * 100 not in detail and "y" * 100 not in detail, "a long value is cut short"
        assert project.store.adjudications() == {} and project.store.label_rows() == rows
    assert project.call(REVIEWER, "POST", "/api/review", {"item_id": "0", "label": a}).status_code == 200
    again = project.call(REVIEWER, "POST", "/api/review", {"item_id": "0", "label": project.b})
    assert again.status_code == 404 and "a reviewer already decided it" in again.json()["detail"]
    assert [d.label for d in project.store.adjudications().values()] == [a]


class Recorder:
    """A classifier that only remembers what it was fitted on."""

    def __init__(self) -> None:
        self.fitted: list[tuple[str, int]] = []

    def fit(self, texts: list[str], labels: np.ndarray) -> Recorder:
        self.fitted = list(zip(texts, labels.tolist(), strict=True))
        return self


def test_an_adjudication_changes_what_the_model_trains_on(tmp_path, data):
    p = Project(tmp_path / "p", data, train=True, query_size=2)
    try:
        trainer = p.service.start().trainer
        assert trainer.wait_idle(60)
        p.contest()
        assert trainer.wait_idle(60)
        code = {label: i for i, label in enumerate(p.config.labels)}
        texts = p.items.texts
        before = training_set(p.store, len(p.items), p.config.labels)
        assert dict(zip(before.positions.tolist(), before.labels.tolist(), strict=True)) == {
            2: code[p.a],  # the majority
            3: code[p.a],
            4: code[p.a],
        }  # the tie (0) and the unsure item (1) have no final label yet
        # a round is asked for every 2 labels (the unsure answer is none): the round asked by the 8th
        # label may start before the 9th (item 4's) is committed, and the 9th asks for none
        assert p.service.snapshot.n_trained in (2, 3)
        for item_id, label in (("0", p.b), ("2", p.b)):
            assert (
                p.call(REVIEWER, "POST", "/api/review", {"item_id": item_id, "label": label}).status_code
                == 200
            )
        model, _ = fit_model(p.config, p.store, p.items, factory=lambda seed: Recorder())
        assert sorted(model.fitted) == sorted(  # type: ignore[attr-defined]
            [(texts[0], code[p.b]), (texts[2], code[p.b]), (texts[3], code[p.a]), (texts[4], code[p.a])]
        )
        # two adjudications are a --query-size of changes: the live trainer refits on them
        assert trainer.wait_idle(60)
        assert p.service.snapshot.n_trained == 4 and trainer.error is None
        stats = p.call(REVIEWER, "GET", "/api/stats").json()
        assert (stats["labelled_items"], stats["ties"]) == (4, 0)
        assert stats["per_class"][p.a] == 2 and stats["per_class"][p.b] == 2
    finally:
        p.close()


# every /api call an annotator can make, each checked for other people's names and answers; a new
# endpoint must be added here (the test below fails until it is)
ANNOTATOR_CALLS = [
    ("GET", "/api/me", None),
    ("GET", "/api/next", None),
    ("GET", "/api/recent?limit=100", None),
    ("GET", "/api/stats", None),
    ("POST", "/api/labels", {"item_id": "5", "label": "music"}),
    ("POST", "/api/undo", None),
    ("GET", "/api/review", None),
    ("POST", "/api/review", {"item_id": "0", "label": "music"}),
    ("GET", "/api/search?q=item", None),
    ("GET", "/api/guidelines", None),
    ("GET", "/api/model-history", None),
]


def test_annotators_see_neither_other_names_nor_other_answers(project):
    project.contest()
    alice, bob, cat = ANNOTATORS
    routes = {(m, r.path) for r in project.client.app.routes for m in getattr(r, "methods", ())}
    api = {(m, path) for m, path in routes if path.startswith("/api/")}
    assert api <= {(m, path.split("?")[0]) for m, path, _ in ANNOTATOR_CALLS}, "check the new endpoint here"
    others = [bob, cat, REVIEWER]
    for method, path, body in ANNOTATOR_CALLS:
        reply = project.call(alice, method, path, body)
        assert reply.status_code in (200, 403), (path, reply.text)
        assert not [name for name in others if name in reply.text], (path, reply.text)
    # her own answers only, and the aggregates
    recent = project.call(alice, "GET", "/api/recent?limit=100").json()["items"]
    assert {r["item_id"] for r in recent} == {"0", "1", "2", "3", "4"}  # the label on 5 was undone
    assert [r["label"] for r in recent if r["item_id"] == "0"] == [project.a]  # not bob's
    stats = project.call(alice, "GET", "/api/stats").json()
    assert [a["name"] for a in stats["annotators"]] == [alice]
    agreement = stats["agreement"]
    assert agreement["pairs"] == [] and agreement["disagreements"] == []
    assert agreement["n_disagreements"] == 2 and agreement["fleiss"]["n_annotators"] == 3
    assert (stats["labels"], stats["ties"], stats["labelled_items"]) == (8, 1, 3)
    # a reviewer sees everyone, and so does the project's owner at the command line
    full = project.call(REVIEWER, "GET", "/api/stats").json()
    assert [a["name"] for a in full["annotators"]] == [alice, bob, cat, REVIEWER]
    assert {(p["a"], p["b"]) for p in full["agreement"]["pairs"]} == {(alice, bob), (alice, cat), (bob, cat)}
    tie = full["agreement"]["disagreements"][0]
    assert tie["labels"] == {alice: project.a, bob: project.b}
    assert [a["name"] for a in project.service.stats()["annotators"]] == [alice, bob, cat, REVIEWER]


def test_stats_count_final_labels_as_final_labels_does(tmp_path):
    """Random answers, changes, undos and adjudications: the live counts, and the review queue
    read from the contested rows only, equal a recount from every row."""
    n, labels = 24, ("music", "clothing", "kitchen")
    frame = pd.DataFrame({"title": [f"item number {i}" for i in range(n)], "category": labels * (n // 3)})
    frame.to_csv(tmp_path / "items.csv", index=False)
    given = {"data": str(tmp_path / "items.csv"), "labels": labels, "classifier": "tfidf", "overlap": 0.5}
    store, config, items = open_project(tmp_path / "p", given)
    people = [store.annotator_for_token(store.add_annotator(name)) for name in ANNOTATORS]
    rita = store.annotator_for_token(store.add_annotator(REVIEWER, role="reviewer"))
    service = LabelService(store, config, items, train=False)
    rng = np.random.default_rng(0)
    try:
        for step in range(300):
            kind = rng.choice(["label", "label", "label", "unsure", "undo", "review"])
            who = people[int(rng.integers(len(people)))]
            if kind == "review":
                queue = review_queue(store.label_rows(), store.adjudications())
                if queue:
                    pos = queue[int(rng.integers(len(queue)))].pos
                    service.adjudicate(rita, items.ids[pos], str(rng.choice(labels)))
            elif kind == "undo":
                service.undo(who)
            else:
                label = str(rng.choice(labels)) if kind == "label" else None
                with contextlib.suppress(AlloopError):  # an item another annotator holds
                    service.submit(who, Answer(str(int(rng.integers(n))), label, False, kind == "unsure"))
            if step % 15 == 0 or step == 299:
                final = final_labels(store.label_rows(), store.adjudications())
                decided = [f.label for f in final.values() if f.label is not None]
                stats = service.stats()
                assert stats["per_class"] == {c: Counter(decided)[c] for c in labels}, step
                assert stats["labelled_items"] == len(decided), step
                ties = sum(
                    f.label is None and f.n_labels > 0 and f.decided_by != "adjudication"
                    for f in final.values()
                )
                assert stats["ties"] == ties, step
                full = review_queue(store.label_rows(), store.adjudications())
                assert review_queue(service.tally.contested_rows(), service.tally.adjudications) == full
                assert (service.review_next()["remaining"]) == len(full), step
        assert store.adjudications(), "the walk never adjudicated"
        again = LabelService(store, config, items, train=False)  # a restart rebuilds the same counts
        assert again.stats()["per_class"] == service.stats()["per_class"]
    finally:
        service.close()


def test_model_versions_rounds_and_sequences_never_go_back_across_restarts(tmp_path, data):
    p = Project(tmp_path / "p", data, train=True, query_size=5)
    alice = ANNOTATORS[0]
    assert p.service.start().trainer.wait_idle(60)
    for item_id in ("0", "1", "2", "3", "4"):
        p.answer(alice, item_id, p.a if int(item_id) % 2 else p.b)  # two classes: a model trains
    assert p.service.trainer.wait_idle(60)
    assert p.service.snapshot.version == 1
    rounds = p.service.trainer.rounds
    p.answer(alice, "5", p.a)
    undone_seq = max(r.seq for r in p.store.label_rows())
    assert p.call(alice, "POST", "/api/undo").status_code == 200  # the latest row is deleted
    p.close()

    again = Project(tmp_path / "p", data, train=True, tokens=p.tokens, query_size=5)
    try:
        assert again.service.snapshot.version == 1  # before the first round: not back to 0
        assert again.call(alice, "GET", "/api/stats").json()["model"]["version"] == 1
        again.service.start()
        assert again.service.trainer.wait_idle(60)
        assert again.service.snapshot.version == 2 and again.service.trainer.rounds == rounds + 1
        again.answer(alice, "6", again.a)
        assert max(r.seq for r in again.store.label_rows()) == undone_seq + 1  # not reused
    finally:
        again.close()
    store = LabelStore.open(tmp_path / "p")
    try:
        assert store.get_meta("trainer") == {"version": 2, "rounds": rounds + 1, "trained_on": 5}
    finally:
        store.close()


def test_roles_from_the_command_line(tmp_path, capsys):
    project = str(tmp_path / "p")
    code, out, err = run_main(
        capsys, "annotators", "add", "zz-rita", "--project", project, "--role", "reviewer"
    )
    assert code == 0 and "added reviewer 'zz-rita'" in out, err
    assert run_main(capsys, "annotators", "add", "zz-alice", "--project", project)[0] == 0
    code, out, _ = run_main(capsys, "annotators", "list", "--project", project)
    assert out.splitlines() == ["zz-rita\treviewer", "zz-alice\tannotator"]
    code, out, err = run_main(
        capsys, "annotators", "set-role", "zz-alice", "--role", "reviewer", "--project", project
    )
    assert code == 0 and "'zz-alice' is now a reviewer" in out, err
    code, out, _ = run_main(capsys, "annotators", "list", "--project", project)
    assert out.splitlines() == ["zz-rita\treviewer", "zz-alice\treviewer"]
    code, _, err = run_main(
        capsys, "annotators", "set-role", "zz-bob", "--role", "reviewer", "--project", project
    )
    assert code == 2 and err.strip() == (
        "error: no annotator 'zz-bob' in this project; `alloop annotators list --project DIR` shows them"
    )
