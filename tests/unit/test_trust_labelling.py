"""Trusting a labelling project's model: `predict --min-precision` marks what may be auto-accepted,
`export --min-precision` adds the model's labels, and suspected label errors (cleanlab, out of
fold) reach the reviewers' queue, `label-stats` and the export, until a reviewer decides them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from label_support import bearer, run_main, small_amazon

from alloop.labelling.api.app import create_app
from alloop.labelling.domain.service import LabelService
from alloop.labelling.storage import flags as flag_store
from alloop.labelling.storage.project import open_project

alloop = run_main
FLIPPED = 12
"""labels given wrong on purpose (to another class), among 300"""


@pytest.fixture(scope="module")
def project(amazon_sample, tmp_path_factory) -> Path:
    """A tfidf project of 380 titles; alice labelled 300 of them, 12 of those wrong on purpose;
    one trainer round ran (the out-of-fold estimate, auto-labelling and the label-error finder)."""
    folder = tmp_path_factory.mktemp("trust-project")
    data = small_amazon(amazon_sample, folder / "data", per_class=20)
    labels = tuple((folder / "data" / "labels.txt").read_text().split("\n")[:-1])
    given = {"data": str(data), "labels": labels, "gold": "category", "classifier": "tfidf", "query_size": 1}
    store, config, items = open_project(folder / "project", given)
    store.add_annotator("alice")
    store.add_annotator("rev", role="reviewer")
    rng = np.random.default_rng(0)
    chosen = rng.permutation(len(items))[:300]
    for i, pos in enumerate(chosen):
        label = items.gold[int(pos)]
        if i < FLIPPED:  # a clearly different class
            label = labels[(labels.index(label) + 7) % len(labels)]
        store.put_label(int(pos), 1, "label", label)
    service = LabelService(store, config, items).start()
    assert service.trainer is not None and service.trainer.wait_idle(120)
    assert service.trainer.error is None
    service.close()
    return folder / "project"


def predict(capsys, project: Path, out: Path, *extra: str) -> tuple[pd.DataFrame, str]:
    code, stdout, err = alloop(capsys, "predict", "--project", str(project), "--out", str(out), *extra)
    assert code == 0, err
    return pd.read_parquet(out), stdout


def test_predict_min_precision_marks_what_clears_the_threshold(project, tmp_path, capsys):
    frame, said = predict(
        capsys, project, tmp_path / "p.parquet", "--min-precision", "0.8", "--precision-confidence", "0.9"
    )
    assert list(frame.columns) == ["item_id", "text", "predicted_label", "confidence", "auto_accepted"]
    assert len(frame) == 80  # the items without a final label
    line = next(x for x in said.splitlines() if x.startswith("auto-accepted"))
    assert 0 < frame["auto_accepted"].sum() < len(frame)
    # the fold models decide (docs/trust.md), so the model's own confidence only tends to be higher
    accepted = frame["auto_accepted"]
    assert frame.loc[accepted, "confidence"].mean() > frame.loc[~accepted, "confidence"].mean()
    assert f"auto-accepted {int(frame['auto_accepted'].sum())} of 80 at >= 80% precision" in line
    strict, said = predict(capsys, project, tmp_path / "q.parquet", "--min-precision", "0.999")
    assert not strict["auto_accepted"].any() and "no confidence threshold reaches 99.9%" in said
    plain, _ = predict(capsys, project, tmp_path / "r.parquet")
    assert "auto_accepted" not in plain.columns


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["predict", "--min-precision", "1.5"], "--min-precision must be above 0 and below 1"),
        (["predict", "--min-precision", "0.9", "--precision-confidence", "1"], "--precision-confidence must"),
        (
            ["export", "--min-precision", "0.9", "--out", "{tmp}/ls.json"],
            "name --out .parquet, .csv or .jsonl",
        ),
    ],
)
def test_bad_min_precision_is_one_line_and_exit_2(project, tmp_path, capsys, args, message):
    args = [a.format(tmp=tmp_path) for a in args]
    code, out, err = alloop(capsys, *args, "--project", str(project))
    assert code == 2, out + err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_export_min_precision_adds_the_model_labels(project, tmp_path, capsys):
    out = tmp_path / "all.parquet"
    args = ["export", "--project", str(project), "--out", str(out), "--min-precision", "0.8"]
    code, said, err = alloop(capsys, *args, "--precision-confidence", "0.9")
    assert code == 0, err
    frame = pd.read_parquet(out)
    assert len(frame) == 380 and "auto-accepted" in said
    model = frame[frame["decided_by"].isin(["model", "none"])]
    assert len(model) == 80
    accepted = model[model["auto_accepted"].astype(bool)]
    assert len(accepted) and (accepted["final_label"] == accepted["predicted_label"]).all()
    assert (model.loc[model["decided_by"] == "none", "final_label"].isna()).all()
    people = frame[frame["decided_by"] == "vote"]
    assert len(people) == 300 and people["predicted_label"].isna().all()


def test_suspected_errors_reach_stats_export_and_the_review_queue_until_decided(project, tmp_path, capsys):
    from alloop.labelling.storage.store import LabelStore

    store = LabelStore.open(project)
    flagged = flag_store.open_flags(store)
    items = store.items()
    wrong = {pos for pos in flagged if store.label_of(pos, 1).label != items.gold[pos]}
    store.close()
    assert len(wrong) >= FLIPPED // 2  # cleanlab finds most of the labels given wrong on purpose

    code, out, err = alloop(capsys, "label-stats", "--project", str(project))
    assert code == 0, err
    text = " ".join(out.split())
    assert f"suspected label errors ({len(flagged)})" in text
    stated = re.search(r"auto-labelled at 95% precision: (\d+) items \((\d+\.\d)% of the catalogue\)", text)
    assert stated, text
    assert float(stated[2]) == pytest.approx(100 * int(stated[1]) / 380, abs=0.05)

    code, _, err = alloop(capsys, "export", "--project", str(project), "--out", str(tmp_path / "x.csv"))
    assert code == 0, err
    exported = pd.read_csv(tmp_path / "x.csv")
    assert exported["suspected_error"].sum() == len(flagged)
    row = exported[exported["suspected_error"]].iloc[0]
    assert row["model_label"] != row["final_label"] and 0 < row["model_confidence"] <= 1

    store = LabelStore.open(project)
    config, items = store.config(), store.items()
    service = LabelService(store, config, items).start()
    try:
        assert service.trainer.wait_idle(120)
        tokens = {"rev": store.add_annotator("rev2", role="reviewer")}
        client = TestClient(create_app(service))
        shown = client.get("/api/stats", headers=bearer(tokens["rev"])).json()["trust"]  # what the page shows
        assert shown["target"] == 0.95 and shown["n_items"] == 380
        assert shown["share"] == pytest.approx(shown["n_accepted"] / 380)
        assert shown["line"].startswith(f"auto-labelled at 95% precision: {shown['n_accepted']:,} items (")
        assert shown["suspected_errors"] >= 1
        first = client.get("/api/review", headers=bearer(tokens["rev"])).json()
        assert first["reason"] == "model" and first["model"]["why"] == "the model strongly disagrees"
        evidence = first["model"]
        assert evidence["given"] == first["current"] and evidence["predicted"] != evidence["given"]
        pos = items.ids.index(first["item_id"])
        keep = evidence["given"]  # the reviewer keeps the label: a decision is final all the same
        reply = client.post(
            "/api/review", headers=bearer(tokens["rev"]), json={"item_id": first["item_id"], "label": keep}
        )
        assert reply.status_code == 200, reply.text
        assert service.trainer.wait_idle(120) and service.trainer.error is None  # a new round ran
        assert service.snapshot.version >= 2
        assert pos not in flag_store.open_flags(store)
        assert flag_store.flags(store)[pos].cleared_label == keep
        left = client.get("/api/review", headers=bearer(tokens["rev"])).json()
        assert left["item_id"] != first["item_id"]
        again = client.post(
            "/api/review", headers=bearer(tokens["rev"]), json={"item_id": first["item_id"], "label": keep}
        )
        assert again.status_code == 404 and "already decided" in again.text
    finally:
        service.close()
