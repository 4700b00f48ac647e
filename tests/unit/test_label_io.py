"""Labels in and out: `alloop import-labels`, the export formats (tables, a Hugging Face dataset,
Label Studio tasks), round trips through the API, and `predict` with the saved model.

Real amazon-in titles (4 per class, 76 items, 19 classes), the tfidf classifier, in process."""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from label_support import bearer, run_main, small_amazon

from alloop.labelling.api.app import create_app
from alloop.labelling.domain.final import final_labels
from alloop.labelling.domain.service import LabelService
from alloop.labelling.domain.trainer import training_set
from alloop.labelling.interop.label_studio import task_label
from alloop.labelling.storage.project import open_project
from alloop.labelling.storage.store import LabelStore

# The "Basic Label Studio JSON format" as documented (labelstud.io/guide/tasks#Basic-Label-Studio-
# JSON-format and /guide/task_format#Relevant-JSON-property-descriptions): a list of tasks, each
# with ``data`` and optional ``annotations`` and ``predictions``; a result is a region of a
# control tag (from_name) on an object tag (to_name) with a tag-specific ``value`` (``choices``
# for the Choices tag); predictions add ``score`` and ``model_version``. Annotation and result
# keys are closed to the documented ones, so an invented key fails the check.
RESULT = {
    "type": "object",
    "required": ["from_name", "to_name", "type", "value"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string"},
        "from_name": {"type": "string", "minLength": 1},
        "to_name": {"type": "string", "minLength": 1},
        "type": {"type": "string"},
        "source": {"type": "string"},
        "readonly": {"type": "boolean"},
        "hidden": {"type": "boolean"},
        "value": {"type": "object"},
    },
    "if": {"properties": {"type": {"const": "choices"}}},
    "then": {
        "properties": {
            "value": {
                "type": "object",
                "required": ["choices"],
                "properties": {"choices": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
            }
        }
    },
}
ANNOTATION = {
    "type": "object",
    "required": ["result"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": ["integer", "string"]},
        "result": {"type": "array", "items": RESULT},
        "was_cancelled": {"type": "boolean"},
        "ground_truth": {"type": "boolean"},
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
        "completed_at": {"type": "string"},
        "lead_time": {"type": "number"},
        "result_count": {"type": "integer"},
        "task": {"type": "integer"},
        # a user id, or (on import) {"email": ...} of a user of the Label Studio instance
        "completed_by": {
            "oneOf": [
                {"type": "integer"},
                {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}},
            ]
        },
    },
}
PREDICTION = {
    "type": "object",
    "required": ["result"],
    "additionalProperties": False,
    "properties": {
        "result": {"type": "array", "items": RESULT},
        "score": {"type": "number"},
        "model_version": {"type": "string"},
        "created_ago": {"type": "string"},
    },
}
LABEL_STUDIO_TASKS = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "array",
    "items": {
        "type": "object",
        "required": ["data"],
        "properties": {
            "id": {"type": "integer"},
            "data": {"type": "object", "minProperties": 1},
            "annotations": {"type": "array", "items": ANNOTATION},
            "predictions": {"type": "array", "items": PREDICTION},
            "meta": {"type": "object"},
            "created_at": {"type": "string"},
            "updated_at": {"type": "string"},
            "project": {"type": "integer"},
        },
    },
}

alloop = run_main


@pytest.fixture(scope="module")
def data(amazon_sample, tmp_path_factory) -> Path:
    return small_amazon(amazon_sample, tmp_path_factory.mktemp("io-data"), per_class=4)


def new_project(folder: Path, data: Path, **options: object) -> tuple[LabelStore, tuple[str, ...]]:
    labels = tuple((data.parent / "labels.txt").read_text().split("\n")[:-1])
    given = {"data": str(data), "labels": labels, "classifier": "tfidf", "query_size": 50, **options}
    store, config, _ = open_project(folder, given)
    return store, config.labels


def finals_by_id(store: LabelStore) -> dict[str, str]:
    """Item id -> final label, for every item that has one."""
    ids = store.items().ids
    return {
        ids[p]: f.label for p, f in final_labels(store.label_rows(), store.adjudications()).items() if f.label
    }


def truth(data: Path) -> pd.DataFrame:
    frame = pd.read_parquet(data, columns=["category"]).reset_index(names="row")
    return frame.assign(item_id=frame["row"].astype(str))


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_import_then_import_again_changes_nothing(data, tmp_path, capsys, suffix):
    store, _ = new_project(tmp_path / "p", data)
    store.close()
    seed = truth(data).iloc[::3][["row", "category"]]
    file = tmp_path / f"seed{suffix}"
    {".csv": seed.to_csv, ".parquet": seed.to_parquet}.get(suffix, lambda f, **_: None)(file, index=False)
    if suffix == ".jsonl":
        seed.to_json(file, orient="records", lines=True)
    args = ["import-labels", "--project", str(tmp_path / "p"), "--file", str(file), "--id", "row"]
    code, out, err = alloop(capsys, *args, "--label", "category")
    assert code == 0, err
    assert f"imported {len(seed)} labels as new annotator 'import' (0 changed, 0 already there)" in out
    assert "restart it" in out  # the one line about a running server
    store = LabelStore.open(tmp_path / "p")
    rows = store.label_rows()
    assert len(rows) == len(seed) and {r.source for r in rows} == {"import"}
    assert finals_by_id(store) == dict(zip(seed["row"].astype(str), seed["category"], strict=True))
    store.close()
    code, out, err = alloop(capsys, *args, "--label", "category")
    assert code == 0 and f"imported 0 labels as 'import' (0 changed, {len(seed)} already there)" in out
    store = LabelStore.open(tmp_path / "p")
    assert store.label_rows() == rows  # not even a timestamp or a sequence number moved
    store.close()
    # a file that says otherwise about one item changes that answer, and only that one
    seed.iloc[0, 1] = "music" if seed.iloc[0, 1] != "music" else "books"
    seed.to_csv(tmp_path / "changed.csv", index=False)
    args[4] = str(tmp_path / "changed.csv")
    code, out, err = alloop(capsys, *args, "--label", "category", "--annotator", "import")
    assert code == 0 and f"imported 0 labels as 'import' (1 changed, {len(seed) - 1} already there)" in out


def test_a_file_with_bad_rows_imports_nothing_and_names_each(data, tmp_path, capsys):
    from alloop.labelling.interop.importing import read_rows, validate

    store, labels = new_project(tmp_path / "p", data)
    store.add_annotator("alice")
    store.close()
    before = (tmp_path / "p" / "label.db").read_bytes()
    good = truth(data)[["item_id", "category"]].set_axis(["id", "label"], axis=1)  # lines 2-77
    other = "music" if good.loc[6, "label"] != "music" else "books"
    bad = pd.DataFrame(
        {
            "id": [f"x{i}" for i in range(20)] + ["3", "4", "5", "6"],  # lines 78-101
            "label": ["music"] * 20 + ["Music", "", "toys", other],
        }
    )
    pd.concat([good, bad]).to_csv(tmp_path / "bad.csv", index=False)
    args = ["import-labels", "--project", str(tmp_path / "p"), "--file", str(tmp_path / "bad.csv")]
    code, out, err = alloop(capsys, *args, "--id", "id", "--label", "label")
    assert code == 2, out
    lines = err.strip().splitlines()
    assert len(lines) == 22  # 20 rows named, the count of the rest, the summary
    assert lines[:2] == [
        "line 78: id 'x0' is not an item of this project",
        "line 79: id 'x1' is not an item of this project",
    ]
    assert lines[20] == "... and 4 more"
    assert lines[21].startswith("error: 24 bad rows in ") and lines[21].endswith("; nothing imported")
    assert (tmp_path / "p" / "label.db").read_bytes() == before  # not one row, not the annotator
    db = sqlite3.connect(tmp_path / "p" / "label.db")
    assert db.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 0
    assert [r[0] for r in db.execute("SELECT name FROM annotators")] == ["alice"]
    db.close()
    # the four not shown, as a person would read them
    rows, _ = read_rows(tmp_path / "bad.csv", "id", "label")
    _, messages = validate(rows, [str(i) for i in range(76)], labels)
    assert messages[20:] == [
        "line 98: label 'Music' is not in the project's label set (did you mean 'music'?)",
        "line 99: empty label for id '4'",
        f"line 100: label 'toys' is not in the project's label set (the labels are {', '.join(labels[:8])} "
        "and 11 more)",
        f"line 101: id '6' is labelled {other!r} here but {good.loc[6, 'label']!r} on line 8",
    ]


def test_import_label_export_round_trips_through_hf_and_label_studio(data, tmp_path, capsys):
    import datasets

    project = tmp_path / "p"
    store, labels = new_project(project, data, gold="category")
    tokens = {name: store.add_annotator(name) for name in ("alice", "bob", "rita")}
    store.close()
    known = truth(data)
    seed = known.iloc[:30][["item_id", "category"]]
    seed.to_parquet(tmp_path / "seed.parquet")
    code, _, err = alloop(
        capsys, "import-labels", "--project", str(project), "--file", str(tmp_path / "seed.parquet"),
        "--id", "item_id", "--label", "category", "--annotator", "legacy",
    )  # fmt: skip
    assert code == 0, err
    # label through the API: alice labels what she is given, bob disagrees on two of her items
    # and on one imported item; rita (a reviewer) settles one of the ties
    store, config, items = open_project(project, {})
    service = LabelService(store, config, items).start()
    assert service.trainer.wait_idle(60)
    client = TestClient(create_app(service))
    gold = dict(zip(known["item_id"], known["category"], strict=True))
    other = {label: labels[(i + 1) % len(labels)] for i, label in enumerate(labels)}

    def post(who: str, item_id: str, label: str) -> None:
        answer = client.post(
            "/api/labels", headers=bearer(tokens[who]), json={"item_id": item_id, "label": label}
        )
        assert answer.status_code == 200, answer.text

    alice = []
    for _ in range(12):
        item = client.get("/api/next", headers=bearer(tokens["alice"])).json()
        post("alice", item["item_id"], gold[item["item_id"]])
        alice.append(item["item_id"])
    assert not set(alice) & set(seed["item_id"])  # imported items are not handed out again
    for item_id in (alice[0], alice[1], "0"):
        post("bob", item_id, other[gold[item_id]])
    rita = next(a.id for a in store.annotators() if a.name == "rita")
    store.adjudicate(items.ids.index(alice[0]), rita, other[gold[alice[0]]])
    # an import while the server runs: its own connection writes beside the server's (WAL), and
    # the trainer's next round sees the labels
    late = known[~known["item_id"].isin([*alice, *seed["item_id"]])].iloc[:3][["item_id", "category"]]
    late.to_csv(tmp_path / "late.csv", index=False)
    code, _, err = alloop(
        capsys, "import-labels", "--project", str(project), "--file", str(tmp_path / "late.csv"),
        "--id", "item_id", "--label", "category",
    )  # fmt: skip
    assert code == 0, err
    trained = training_set(store, len(items), config.labels).positions.tolist()
    assert {items.ids.index(i) for i in late["item_id"]} <= set(trained)
    service.close()
    store = LabelStore.open(project)
    expected = finals_by_id(store)
    store.close()
    assert len(expected) == 30 - 1 + 12 - 1 + 3  # the ties of bob with 'legacy' and with alice stay open
    assert expected[alice[0]] == other[gold[alice[0]]] and alice[1] not in expected and "0" not in expected
    # the saved model gives the Label Studio tasks their predictions
    code, out, err = alloop(capsys, "predict", "--project", str(project))
    assert code == 0 and "model: retrained on 43 final labels (no model saved yet)" in out, err
    # the Hugging Face dataset: every final label exactly once, the label a ClassLabel
    code, out, err = alloop(capsys, "export", "--project", str(project), "--out", str(tmp_path / "hf"))
    assert code == 0 and f"wrote 43 items to {tmp_path / 'hf'} (hf)" in out, err
    dataset = datasets.load_from_disk(str(tmp_path / "hf"))
    assert dataset.features["label"].names == list(labels)
    names = dataset.features["label"].names
    assert len(set(dataset["item_id"])) == len(dataset) == 43
    assert {i: names[c] for i, c in zip(dataset["item_id"], dataset["label"], strict=True)} == expected
    row = dataset[dataset["item_id"].index(alice[0])]
    assert (row["decided_by"], row["reviewer"], row["n_labels"]) == ("adjudication", "rita", 2)
    assert set(dataset["decided_by"]) == {"adjudication", "vote"}
    # Label Studio: valid against the documented format, one task per item, finals exactly once
    out_json = tmp_path / "ls" / "tasks.json"
    for _ in range(2):  # a second export replaces the first
        code, out, err = alloop(capsys, "export", "--project", str(project), "--out", str(out_json))
        assert code == 0 and "wrote 76 tasks" in out and "(label-studio)" in out and not err, err
    tasks = json.loads(out_json.read_text())
    jsonschema.validate(tasks, LABEL_STUDIO_TASKS)
    assert len({t["data"]["item_id"] for t in tasks}) == len(tasks) == len(items)
    derived = {t["data"]["item_id"]: task_label(t, "item_id", "label").label for t in tasks}
    assert {k: v for k, v in derived.items() if v} == expected
    by_id = {t["data"]["item_id"]: t for t in tasks}
    assert [a["ground_truth"] for a in by_id[alice[0]]["annotations"]] == [False, False, True]
    assert all(
        "ground_truth" in a for t in tasks for a in t["annotations"]
    )  # Label Studio defaults it to true
    assert by_id[alice[0]]["meta"]["reviewer"] == "rita" and by_id["0"]["meta"]["decided_by"] == "none"
    predictions = [t["predictions"] for t in tasks]
    assert all(len(p) == 1 and 0 < p[0]["score"] <= 1 for p in predictions)
    assert {p[0]["result"][0]["value"]["choices"][0] for p in predictions} <= set(labels)
    xml = ET.fromstring((tmp_path / "ls" / "tasks.label_config.xml").read_text())
    assert [c.get("value") for c in xml.iter("Choice")] == list(labels)
    assert xml.find("Choices").get("name") == "label" and xml.find("Text").get("value") == "$text"
    # ... and back: the tasks import into a fresh project with the same final labels
    fresh, _ = new_project(tmp_path / "fresh", data)
    fresh.close()
    code, out, err = alloop(
        capsys, "import-labels", "--project", str(tmp_path / "fresh"), "--file", str(out_json),
        "--id", "item_id", "--label", "label",
    )  # fmt: skip
    assert code == 0, err
    assert "imported 43 labels" in out and "31 with no answer" in out and "2 with tied answers" in out
    store = LabelStore.open(tmp_path / "fresh")
    assert finals_by_id(store) == expected
    store.close()


def test_the_schema_refuses_what_label_studio_would(tmp_path):
    good = [{"data": {"text": "t"}, "annotations": [{"result": [], "ground_truth": False}]}]
    jsonschema.validate(good, LABEL_STUDIO_TASKS)
    choice = {"from_name": "label", "to_name": "text", "type": "choices", "value": {}}
    for bad in (
        [{"annotations": []}],  # no data
        [{"data": {"text": "t"}, "annotations": [{"result": [], "completed_by": "alice"}]}],
        [{"data": {"text": "t"}, "annotations": [{"result": [choice]}]}],  # choices without choices
        [{"data": {"text": "t"}, "annotations": [{"result": [], "annotator_name": "x"}]}],
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, LABEL_STUDIO_TASKS)


def test_export_tables_carry_who_decided(data, tmp_path, capsys):
    store, labels = new_project(tmp_path / "p", data)
    alice = store.annotator_for_token(store.add_annotator("alice"))
    rita = store.annotator_for_token(store.add_annotator("rita"))
    store.put_label(0, alice.id, "label", labels[0])
    store.put_label(1, alice.id, "unsure", None)
    store.adjudicate(1, rita.id, labels[2])
    store.put_label(2, alice.id, "skip", None)
    store.close()
    frames = {}
    for suffix in (".parquet", ".csv", ".jsonl"):
        out = tmp_path / f"labels{suffix}"
        code, stdout, err = alloop(capsys, "export", "--project", str(tmp_path / "p"), "--out", str(out))
        assert code == 0 and f"wrote 3 items to {out} ({suffix[1:]})" in stdout, err
        reader = {".parquet": pd.read_parquet, ".csv": pd.read_csv}.get(
            suffix, lambda p: pd.read_json(p, lines=True, dtype=False)
        )
        frames[suffix] = reader(out).set_index("item_id")
    for frame in frames.values():
        frame.index = frame.index.astype(str)
        assert list(frame["decided_by"]) == ["vote", "adjudication", "none"]
        assert frame.loc["1", "final_label"] == labels[2] and frame.loc["1", "reviewer"] == "rita"
        assert frame.loc["0", "decided_at"] == frame.loc["0", "labelled_at_alice"]
        assert pd.isna(frame.loc["2", "final_label"]) and pd.isna(frame.loc["2", "decided_at"])


def test_predict_saves_the_model_and_reuses_it_until_a_final_label_changes(data, tmp_path, capsys):
    store, labels = new_project(tmp_path / "p", data)
    alice = store.annotator_for_token(store.add_annotator("alice"))
    known = truth(data)
    for pos in range(0, 40, 2):
        store.put_label(pos, alice.id, "label", known["category"][pos])
    store.close()
    args = ["predict", "--project", str(tmp_path / "p")]
    code, out, err = alloop(capsys, *args)
    assert code == 0 and "model: retrained on 20 final labels (no model saved yet)" in out, err
    unseen = sorted(set(labels) - set(known["category"][0:40:2]))
    warning = err.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith(
        f"warning: the model has never seen {len(unseen)} of the 19"
    )
    assert all(repr(c) in warning[0] for c in unseen[:10])
    first = pd.read_parquet(tmp_path / "p" / "predictions.parquet")
    assert len(first) == 76 - 20 and not set(first["item_id"]) & {str(p) for p in range(0, 40, 2)}
    assert set(first["predicted_label"]) <= set(known["category"][0:40:2])  # never an unseen class
    assert (tmp_path / "p" / "model" / "model.joblib").exists()
    info = json.loads((tmp_path / "p" / "model" / "model.json").read_text())
    assert info["n_trained"] == 20 and info["classifier"] == "tfidf"
    code, out, _ = alloop(capsys, *args, "--out", str(tmp_path / "again.csv"))
    assert code == 0 and "model: reused the one saved in" in out and "(20 final labels" in out
    again = pd.read_csv(tmp_path / "again.csv", dtype={"item_id": str})
    np.testing.assert_allclose(again["confidence"], first["confidence"])
    assert list(again["predicted_label"]) == list(first["predicted_label"])
    store = LabelStore.open(tmp_path / "p")
    store.put_label(1, alice.id, "label", known["category"][1])
    store.close()
    code, out, _ = alloop(capsys, *args)
    assert (
        code == 0
        and "model: retrained on 21 final labels (the final labels changed since it was saved)" in out
    )
    store = LabelStore.open(tmp_path / "p")
    store.save_config(store.config().merged({"seed": 5}))
    store.close()
    code, out, _ = alloop(capsys, *args)
    assert "(the model settings changed since it was saved)" in out
    (tmp_path / "p" / "model" / "model.joblib").write_bytes(b"not a model")
    code, out, _ = alloop(capsys, *args)
    assert code == 0 and "(the saved model could not be read (" in out


def test_a_saved_hybrid_keeps_its_head_and_vocabulary_not_the_encoder(data, tmp_path):
    import joblib
    from test_hybrid import HashEncoder

    from alloop.labelling.storage.saved_model import MODEL_FILE, model_dir, project_model
    from alloop.models import HybridClassifier

    store, labels = new_project(tmp_path / "p", data, classifier="hybrid")
    alice = store.annotator_for_token(store.add_annotator("alice"))
    known = truth(data)
    for pos in range(0, 76, 3):
        store.put_label(pos, alice.id, "label", known["category"][pos])
    config, items = store.config(), store.items()

    def factory(seed: int) -> HybridClassifier:
        return HybridClassifier(HashEncoder(), len(labels), seed=seed)

    trained = project_model(tmp_path / "p", config, store, items, factory)
    reused = project_model(tmp_path / "p", config, store, items, factory)
    store.close()
    assert not trained.reused and reused.reused
    np.testing.assert_allclose(
        reused.model.predict_proba(items.texts), trained.model.predict_proba(items.texts)
    )
    saved = joblib.load(model_dir(tmp_path / "p") / MODEL_FILE)["model"]
    assert saved.encoder is None and saved.features._row == {} and saved.features.fitted
    assert isinstance(reused.model.encoder, HashEncoder)
    assert saved.features._matrix is None  # the pool's rows are recomputed, not stored
