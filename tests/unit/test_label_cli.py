"""The labelling commands: annotators add, label-stats, export, predict, and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from label_support import run_main, small_amazon

from alloop.labelling.storage.project import open_project
from alloop.labelling.storage.store import LabelStore

alloop = run_main


@pytest.fixture(scope="module")
def labelled(amazon_sample, tmp_path_factory) -> Path:
    """A project where alice and bob labelled some items (bob disagrees on one)."""
    folder = tmp_path_factory.mktemp("label-cli")
    data = small_amazon(amazon_sample, folder / "data", per_class=4)
    labels = tuple((folder / "data" / "labels.txt").read_text().split("\n")[:-1])
    given = {"data": str(data), "labels": labels, "gold": "category", "classifier": "tfidf"}
    store, _, items = open_project(folder / "project", given)
    store.add_annotator("alice")
    store.add_annotator("bob")
    for pos in range(0, 76, 2):
        store.put_label(pos, 1, "label", items.gold[pos])
    store.put_label(0, 2, "label", "music")
    store.put_label(2, 2, "label", items.gold[2])
    store.put_label(4, 2, "skip", None)
    store.close()
    return folder / "project"


def test_annotators_add_prints_the_token_alone_on_its_last_line(tmp_path, capsys):
    code, out, err = alloop(capsys, "annotators", "add", "alice", "--project", str(tmp_path / "p"))
    assert code == 0, err
    token = out.strip().splitlines()[-1]
    assert len(token) >= 30 and " " not in token
    store = LabelStore.open(tmp_path / "p")
    assert store.annotator_for_token(token).name == "alice"
    store.close()
    code, _, err = alloop(capsys, "annotators", "add", "alice", "--project", str(tmp_path / "p"))
    assert code == 2 and err.strip() == "error: annotator 'alice' already exists in this project"
    code, out, _ = alloop(capsys, "annotators", "list", "--project", str(tmp_path / "p"))
    assert out.splitlines() == ["alice\tannotator"]


def test_label_stats_shows_agreement_and_disagreements(labelled, capsys):
    code, out, err = alloop(capsys, "label-stats", "--project", str(labelled))
    assert code == 0, err
    text = " ".join(out.split())
    assert "37 of 76 items labelled (40 labels, 1 skips, 0 unsure, 1 ties to review)" in text
    assert "agreement (Cohen's kappa)" in text and "disagreements (1)" in text and "tie: review" in text
    code, out, _ = alloop(capsys, "label-stats", "--project", str(labelled), "--json")
    stats = json.loads(out)
    assert stats["agreement"]["pairs"][0]["n_items"] == 2 and stats["agreement"]["n_disagreements"] == 1
    assert [a["gold_accuracy"] for a in stats["annotators"]] == [1.0, 0.5]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export(labelled, tmp_path, capsys, fmt):
    out = tmp_path / f"labels.{fmt}"
    code, stdout, err = alloop(
        capsys, "export", "--project", str(labelled), "--format", fmt, "--out", str(out)
    )
    assert code == 0, err
    frame = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    assert len(frame) == 38 and f"wrote 38 items to {out}" in stdout
    for column in ("item_id", "text", "final_label", "needs_review", "label_alice", "labelled_at_bob"):
        assert column in frame.columns
    first = frame.iloc[0]
    assert pd.isna(first["final_label"]) and bool(first["needs_review"])  # alice vs bob: a tie
    assert first["label_bob"] == "music" and first["status_bob"] == "label"
    assert frame.iloc[2]["status_bob"] == "skip" and frame.iloc[2]["final_label"] == frame.iloc[2]["gold"]


def test_predict(labelled, amazon_in, tmp_path, capsys):
    new = pd.read_parquet(amazon_in, columns=["asin", "title"]).iloc[100:150]
    new.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "pred.parquet"
    args = ["--project", str(labelled), "--data", str(tmp_path / "new.csv"), "--out", str(out)]
    code, stdout, err = alloop(capsys, "predict", *args)
    assert code == 0 and f"wrote 50 predictions to {out}" in stdout, err
    frame = pd.read_parquet(out)
    assert list(frame.columns) == ["asin", "title", "predicted_label", "confidence"] and len(frame) == 50
    assert frame["confidence"].between(0, 1).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["label", "--project", "{new}"], "not a labelling project yet; pass --data"),
        (["label", "--project", "{new}", "--data", "{data}"], "pass the label set"),
        (["label", "--project", "{new}", "--data", "{data}", "--labels", "a"], "at least 2 labels"),
        (["label", "--project", "{new}", "--labels", "a,b", "--labels-file", "x"], "either --labels"),
        (["label", "--project", "{new}", "--data", "{data}", "--labels", "a,b", "--text", "nope"], "'nope'"),
        (["label", "--project", "{project}", "--labels", "a,b"], "created with --labels"),
        (["label", "--project", "{project}", "--strategy", "best"], "unknown strategy"),
        (["label", "--project", "{project}", "--port", "70000"], "--port must be between"),
        (
            ["label", "--project", "{new}", "--data", "{data}", "--labels", "a,b", "--gold", "category"],
            "gold",
        ),
        (["label-stats", "--project", "{new}"], "no label.db"),
        (["export", "--project", "{project}", "--out", "{new}/x.xlsx"], "unknown table format"),
        (
            ["predict", "--project", "{project}", "--data", "{new}/none.csv", "--out", "x.csv"],
            "data not found",
        ),
    ],
)
def test_bad_input_one_line_exit_2(labelled, tmp_path, capsys, args, message):
    data = labelled.parent / "data" / "data.parquet"
    args = [a.format(new=tmp_path / "new", data=data, project=labelled) for a in args]
    code, out, err = alloop(capsys, *args)
    assert code == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert not (tmp_path / "new" / "label.db").exists()  # a refused start leaves nothing behind


def test_listening_socket_sets_no_delay_and_a_busy_port_is_one_line():
    import socket

    from alloop.cli.label import _listen
    from alloop.errors import AlloopError

    sock = _listen("127.0.0.1", 0)
    try:  # asyncio sets TCP_NODELAY only on IPPROTO_TCP sockets; else each answer waits ~40 ms
        assert sock.proto == socket.IPPROTO_TCP
        with pytest.raises(AlloopError, match=r"cannot listen on 127\.0\.0\.1"):
            _listen("127.0.0.1", sock.getsockname()[1])
    finally:
        sock.close()
