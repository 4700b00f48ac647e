"""The model's suggestion, --show, --guidelines and the quality history, through the JSON API
(FastAPI's TestClient, in process) and the CLI, on real amazon-in titles with the tfidf model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from label_support import bearer, run_main, small_amazon

from alloop.labelling.api.app import create_app
from alloop.labelling.domain.service import LabelService
from alloop.labelling.domain.trainer import fit_model
from alloop.labelling.storage.project import open_project
from alloop.labelling.storage.store import LabelStore

EVIL_GUIDELINES = """# How to label

Pick the **main** product.

<script>window.__xss = 1</script>

[a link](javascript:alert(1)) and <img src=x onerror="alert(1)"> and [docs](https://example.org/docs)
"""


@pytest.fixture(scope="module")
def data(amazon_sample, tmp_path_factory) -> Path:
    return small_amazon(amazon_sample, tmp_path_factory.mktemp("suggest-data"), per_class=10)


class Project:
    """A fresh tfidf project (retrain every 5 labels) with a running service and a client."""

    def __init__(self, folder: Path, data: Path, guidelines: str | None = None, **options: Any):
        labels = tuple((data.parent / "labels.txt").read_text().split("\n")[:-1])
        given = {"data": str(data), "labels": labels, "gold": "category", "classifier": "tfidf"}
        self.folder = folder
        self.store, self.config, self.items = open_project(folder, {**given, "query_size": 5, **options})
        self.tokens = {name: self.store.add_annotator(name) for name in ("alice", "bob")}
        if guidelines is not None:
            self.store.put_meta("guidelines", {"file": "rules.md", "markdown": guidelines})
        self.service = LabelService(self.store, self.config, self.items).start()
        assert self.service.trainer.wait_idle(60)
        self.client = TestClient(create_app(self.service))
        truth = pd.read_parquet(data, columns=["category"])["category"]
        self.gold = {str(i): label for i, label in truth.items()}

    def get(self, who: str, path: str) -> Any:
        answer = self.client.get(path, headers=bearer(self.tokens[who]))
        assert answer.status_code == 200, answer.text
        return answer.json()

    def post(self, who: str, body: dict[str, Any], path: str = "/api/labels") -> Any:
        answer = self.client.post(path, headers=bearer(self.tokens[who]), json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def label(self, who: str, n: int) -> None:
        for _ in range(n):
            item = self.get(who, "/api/next")
            self.post(who, {"item_id": item["item_id"], "label": self.gold[item["item_id"]]})

    def trained(self, version: int) -> None:
        assert self.service.trainer.wait_idle(60)
        assert self.service.snapshot.version == version

    def row(self, item_id: str, who: str = "alice"):
        annotator = self.store.annotator_for_token(self.tokens[who])
        return self.store.label_of(self.items.ids.index(item_id), annotator.id)

    def close(self) -> None:
        self.service.close()


@pytest.fixture
def project(tmp_path, data) -> Iterator[Project]:
    p = Project(tmp_path / "project", data)
    yield p
    p.close()


def test_no_suggestion_before_a_model_then_the_models_label_and_probability(project):
    first = project.get("alice", "/api/next")
    assert "suggestion" not in first and first["model_version"] == 0  # cold start: no model yet
    project.post("alice", {"item_id": first["item_id"], "label": project.gold[first["item_id"]]})
    project.label("alice", 4)
    project.trained(1)
    suggestions = project.service.snapshot.suggestions
    trained = [p for p in range(len(project.items)) if project.service.tally.n_labels(p)]
    assert len(trained) == 5 and all(suggestions.label[p] == -1 for p in trained)  # none on trained items
    assert len(suggestions) == len(project.items) - 5  # the whole unlabelled pool, once per version
    item = project.get("alice", "/api/next")
    shown = item["suggestion"]
    assert shown["label"] in project.config.labels and 0 < shown["p"] <= 1
    # it is the model's prediction: the same classifier fitted on the same labels agrees
    model, _ = fit_model(project.config, project.store, project.items)
    proba = model.predict_proba([item["text"]])[0]
    assert project.config.labels[int(np.argmax(proba))] == shown["label"]
    assert shown["p"] == pytest.approx(float(np.max(proba)), abs=1e-3)
    again = project.get("alice", "/api/next")  # asked again: the same item, the same suggestion
    assert (again["item_id"], again["source"], again["suggestion"]) == (item["item_id"], "held", shown)


def test_the_suggestion_shown_is_stored_with_the_answer_and_gives_the_acceptance_rate(project):
    project.label("alice", 5)
    project.trained(1)
    a = project.get("alice", "/api/next")
    project.post("alice", {"item_id": a["item_id"], "label": a["suggestion"]["label"]})  # accepted
    b = project.get("alice", "/api/next")
    other = next(c for c in project.config.labels if c != b["suggestion"]["label"])
    project.post("alice", {"item_id": b["item_id"], "label": other})  # overridden
    row_a, row_b = project.row(a["item_id"]), project.row(b["item_id"])
    assert (row_a.suggestion, row_a.suggestion_p) == (a["suggestion"]["label"], a["suggestion"]["p"])
    assert (row_b.label, row_b.suggestion) == (other, b["suggestion"]["label"])
    rate = project.get("alice", "/api/stats")["suggestions"]
    assert (rate["enabled"], rate["with_suggestion"], rate["accepted"], rate["rate"]) == (True, 2, 1, 0.5)
    # the client cannot say what it was shown
    c = project.get("alice", "/api/next")
    body = {"item_id": c["item_id"], "label": "music", "suggestion": "music"}
    refused = project.client.post("/api/labels", headers=bearer(project.tokens["alice"]), json=body)
    assert refused.status_code == 422 and project.row(c["item_id"]) is None
    # a later change keeps the suggestion shown the first time; the rate follows the new label
    changed = next(x for x in project.config.labels if x != a["suggestion"]["label"])
    project.post("alice", {"item_id": a["item_id"], "label": changed})
    assert project.row(a["item_id"]).suggestion == a["suggestion"]["label"]
    assert project.get("alice", "/api/stats")["suggestions"]["accepted"] == 0
    # a skip stores the suggestion but is not an answer to it; undo hands the item back with it
    project.post("alice", {"item_id": c["item_id"], "skip": True})
    assert project.row(c["item_id"]).suggestion == c["suggestion"]["label"]
    assert project.get("alice", "/api/stats")["suggestions"]["with_suggestion"] == 2
    project.post("alice", {}, path="/api/undo")
    again = project.get("alice", "/api/next")
    assert again["item_id"] == c["item_id"] and again["suggestion"] == c["suggestion"]
    # the suggestion is the one recorded at hand-out, even after a newer model came out
    project.label("bob", 5)
    project.trained(2)
    assert project.get("alice", "/api/next")["suggestion"] == c["suggestion"]
    project.post("alice", {"item_id": c["item_id"], "label": c["suggestion"]["label"]})
    assert project.row(c["item_id"]).suggestion_p == c["suggestion"]["p"]
    expected = project.get("alice", "/api/stats")["suggestions"]
    shown = [r for r in project.store.label_rows() if r.status == "label" and r.suggestion is not None]
    assert expected["with_suggestion"] == len(shown) == 3 + 5  # alice's a, b, c and bob's five
    assert expected["accepted"] == sum(r.label == r.suggestion for r in shown)
    # read back from label.db alone (a restart, or `alloop label-stats`)
    again = LabelService(project.store, project.config, project.items, train=False).stats()
    assert again["suggestions"] == expected


def test_suggest_off_hides_the_suggestion_and_a_restart_turns_it_on(tmp_path, data):
    p = Project(tmp_path / "p", data, suggest=False)
    p.label("alice", 5)
    p.trained(1)
    assert p.service.snapshot.suggestions is None  # not even computed
    item = p.get("alice", "/api/next")
    assert "suggestion" not in item
    p.post("alice", {"item_id": item["item_id"], "label": p.gold[item["item_id"]]})
    assert p.row(item["item_id"]).suggestion is None
    stats = p.get("alice", "/api/stats")["suggestions"]
    assert (stats["enabled"], stats["with_suggestion"], stats["rate"]) == (False, 0, None)
    p.close()
    store, config, items = open_project(tmp_path / "p", {"suggest": True})
    assert config.suggest and store.config().suggest  # stored for the next restart too
    service = LabelService(store, config, items).start()
    try:
        assert service.trainer.wait_idle(60)
        alice = store.annotators()[0]
        assert "suggestion" in service.next_item(alice)
    finally:
        service.close()


def test_label_stats_prints_the_acceptance_rate(tmp_path, data, capsys):
    labels = tuple((data.parent / "labels.txt").read_text().split("\n")[:-1])
    given = {"data": str(data), "labels": labels, "classifier": "tfidf"}
    store = open_project(tmp_path / "p", given)[0]
    store.add_annotator("alice")
    x, y = labels[:2]
    for pos, (label, suggested) in enumerate([(x, x), (x, x), (x, x), (y, x), (y, None)]):
        store.put_label(pos, 1, "label", label, suggestion=suggested, suggestion_p=0.5 if suggested else None)
    store.close()
    code, out, err = run_main(capsys, "label-stats", "--project", str(tmp_path / "p"))
    assert code == 0, err
    assert "model suggestions on: accepted 3 of 4 answers that had one (75.0%" in " ".join(out.split())
    code, out, err = run_main(capsys, "label-stats", "--project", str(tmp_path / "p"), "--json")
    rate = json.loads(out)["suggestions"]
    assert (rate["with_suggestion"], rate["accepted"], rate["rate"], rate["recent_n"]) == (4, 3, 0.75, 4)


def test_guidelines_need_a_token_and_come_out_escaped(tmp_path, data):
    p = Project(tmp_path / "p", data, guidelines=EVIL_GUIDELINES)
    for path in ("/api/guidelines", "/api/model-history"):
        for headers in ({}, bearer("not-a-token")):
            answer = p.client.get(path, headers=headers)
            assert answer.status_code == 401 and "token" in answer.json()["detail"]
    g = p.get("alice", "/api/guidelines")
    assert g["file"] == "rules.md" and g["markdown"] == EVIL_GUIDELINES
    html = g["html"]
    assert "<h1>How to label</h1>" in html and "<strong>main</strong>" in html
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in html and "<script" not in html
    assert "<img" not in html and "&lt;img" in html
    assert "javascript:" not in html.replace("](javascript:", "")  # shown as text, never a link
    assert 'href="javascript' not in html
    assert '<a href="https://example.org/docs" target="_blank" rel="noopener noreferrer">docs</a>' in html
    p.close()
    bare = Project(tmp_path / "bare", data)
    assert bare.get("alice", "/api/guidelines") == {"file": None, "markdown": None, "html": None}
    bare.close()


def test_the_quality_history_has_one_point_per_model_and_survives_a_restart(project):
    assert project.get("alice", "/api/model-history") == {"points": []}
    project.label("alice", 5)
    project.trained(1)
    project.label("alice", 5)
    project.trained(2)
    points = project.get("alice", "/api/model-history")["points"]
    assert [(p["version"], p["labels"], p["estimate"]) for p in points] == [(1, 5, "gold"), (2, 10, "gold")]
    assert all(0 <= p["macro_f1"] <= 1 for p in points)
    assert points[-1]["macro_f1"] == round(project.service.snapshot.estimate.macro_f1, 4)
    restarted = LabelService(project.store, project.config, project.items, train=False)
    client = TestClient(create_app(restarted))
    assert client.get("/api/model-history", headers=bearer(project.tokens["bob"])).json()["points"] == points


def test_show_columns_are_served_and_never_trained_on(tmp_path, data):
    p = Project(tmp_path / "p", data, show=("sub_category",))
    frame = pd.read_parquet(data)
    item = p.get("alice", "/api/next")
    row = frame.iloc[int(item["item_id"])]
    assert item["shown"] == {"sub_category": row["sub_category"]}
    assert item["fields"] == {"title": row["title"]} and item["text"] == row["title"]
    p.close()


@pytest.fixture
def no_serving(monkeypatch):
    """`alloop label` runs to the point of serving, then returns (its service starts and stops)."""
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)


def test_label_stores_show_guidelines_and_suggest_and_a_restart_changes_them(
    tmp_path, data, capsys, no_serving
):
    rules = tmp_path / "rules.md"
    rules.write_text("# Rules\n\nBooks are **books**.\n")
    project = tmp_path / "p"
    base = ["label", "--project", str(project), "--port", "0"]
    create = [*base, "--data", str(data), "--labels-file", str(data.parent / "labels.txt")]
    create += ["--classifier", "tfidf", "--show", "sub_category", "--guidelines", str(rules)]
    code, out, err = run_main(capsys, *create, "--suggest", "off")
    assert code == 0, err
    assert "model suggestions off; showing sub_category; guidelines from rules.md" in out
    frame = pd.read_parquet(data)
    store = LabelStore.open(project)
    config, items = store.config(), store.items()
    assert (config.suggest, config.show) == (False, ("sub_category",))
    assert store.get_meta("guidelines") == {"file": "rules.md", "markdown": rules.read_text()}
    assert (
        store.shown()[3] == {"sub_category": frame["sub_category"][3]} and items.texts[3] == frame["title"][3]
    )
    store.close()
    code, out, err = run_main(
        capsys, *base, "--suggest", "ON", "--show", "category", "--show", "sub_category"
    )
    assert code == 0, err
    store = LabelStore.open(project)
    assert (store.config().suggest, store.config().show) == (True, ("category", "sub_category"))
    assert store.shown()[3] == {"category": frame["category"][3], "sub_category": frame["sub_category"][3]}
    assert store.get_meta("guidelines")["file"] == "rules.md"  # kept when not given again
    store.close()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--show", "colour"], "--show column 'colour' is not in"),
        (["--guidelines", "{tmp}/missing.md"], "--guidelines {tmp}/missing.md not found"),
        (["--suggest", "maybe"], "--suggest is on or off, not 'maybe'"),
    ],
)
def test_bad_show_guidelines_suggest_are_one_line_and_change_nothing(tmp_path, data, capsys, extra, message):
    project = tmp_path / "p"
    create = ["label", "--project", str(project), "--port", "0", "--data", str(data)]
    create += ["--labels-file", str(data.parent / "labels.txt"), "--classifier", "tfidf"]
    extra = [e.format(tmp=tmp_path) for e in extra]
    code, _, err = run_main(capsys, *create, *extra)
    assert code == 2 and err.count("\n") == 1 and message.format(tmp=tmp_path) in err, err
    assert not project.exists()  # a refused new project leaves nothing
    if extra[0] == "--show":
        assert "its columns are: title, category, sub_category" in err
        # an existing project refuses it too, and keeps its settings
        labels = tuple((data.parent / "labels.txt").read_text().split("\n")[:-1])
        open_project(project, {"data": str(data), "labels": labels, "classifier": "tfidf"})[0].close()
        code, _, err = run_main(capsys, "label", "--project", str(project), "--port", "0", *extra)
        assert code == 2 and message in err, err
        store = LabelStore.open(project)
        assert store.config().show == () and store.get_meta("shown_columns") is None
        store.close()
