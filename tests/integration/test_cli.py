"""`alloop run` end to end on the real amazon-in titles, and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from cli_support import alloop

STRATEGIES = ["random", "least-confidence", "entropy", "margin"]


def check_outputs(
    out: Path, source: pd.DataFrame, strategies: list[str], cycles: int, query: int
) -> pd.DataFrame:
    for name in ("config.json", "cycles.csv", "queried.csv", "per_class.csv", "summary.csv"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["strategies"] == strategies
    table = pd.read_csv(out / "cycles.csv")
    for column in ("strategy", "cycle", "n_labelled", "macro_f1", "accuracy", "seconds"):
        assert column in table.columns
    assert table["strategy"].unique().tolist() == strategies
    assert (table.groupby("strategy")["cycle"].max() == cycles).all()
    assert table["macro_f1"].between(0, 1).all()
    baseline = table[table["cycle"] == 0]
    assert baseline["macro_f1"].nunique() == 1  # same initial set and seed: same baseline model
    queried = pd.read_csv(out / "queried.csv")
    assert (queried.groupby("strategy").size() == cycles * query).all()
    assert not queried.duplicated(["strategy", "item_id"]).any()
    # item ids are rows of the source file: every revealed label is that row's own category
    assert (source["category"].to_numpy()[queried["item_id"]] == queried["label"].to_numpy()).all()
    return table


def test_run_tfidf_end_to_end_on_amazon_in(amazon_in, tmp_path):
    out = tmp_path / "run"
    result = alloop(
        "run", "--seeds", "1", "--data", str(amazon_in), "--classifier", "tfidf",
        "--initial", "100", "--query-size", "50", "--cycles", "3", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "strategies compared" in result.stdout
    table = check_outputs(out, pd.read_parquet(amazon_in), STRATEGIES, cycles=3, query=50)
    assert table.groupby("strategy")["n_labelled"].max().eq(250).all()


def test_speed_options_run_and_are_saved_with_the_config(amazon_in, tmp_path):
    out = tmp_path / "run"
    result = alloop(
        "run", "--seeds", "1", "--data", str(amazon_in), "--classifier", "tfidf", "--strategy", "margin",
        "--initial", "100", "--query-size", "20", "--cycles", "2", "--pool-subsample", "300",
        "--threads", "1", "--no-cache", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["pool_subsample"] == 300 and config["model"]["cache"] is False
    check_outputs(out, pd.read_parquet(amazon_in), ["margin"], cycles=2, query=20)


@pytest.mark.slow
def test_run_bert_frozen_end_to_end(amazon_small, tmp_path):
    out = tmp_path / "run"
    result = alloop(
        "run", "--seeds", "1", "--data", str(amazon_small), "--classifier", "bert-frozen",
        "--max-length", "32",
        "--initial", "60", "--query-size", "20", "--cycles", "2", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = check_outputs(out, pd.read_parquet(amazon_small), STRATEGIES, cycles=2, query=20)
    assert table["macro_f1"].max() > 0.2  # 60-100 labels of 19 classes: well above chance (0.05)


ALL = [
    "random",
    "least-confidence",
    "entropy",
    "margin",
    "badge",
    "coreset",
    "cluster-margin",
    "margin+dedup",
]


@pytest.mark.slow
def test_every_strategy_cold_start_and_stop_signal_with_bert_frozen(amazon_small, tmp_path):
    out = tmp_path / "run"
    picks = [a for s in ALL for a in ("--strategy", s)]
    result = alloop(
        "run", "--seeds", "1", "--data", str(amazon_small), "--classifier", "bert-frozen",
        "--max-length", "32", *picks,
        "--initial-strategy", "kmeans", "--initial", "40", "--query-size", "20", "--cycles", "2",
        "--stop", "stabilizing", "--stop", "plateau", "--stop", "uncertainty", "--no-ceiling",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = check_outputs(out, pd.read_parquet(amazon_small), ALL, cycles=2, query=20)
    assert table["uncertainty"].between(0, 1).all()
    assert table[table["cycle"] > 0]["kappa"].between(-1, 1).all()
    summary = pd.read_csv(out / "summary.csv").set_index("strategy")
    assert summary["classes_per_batch"].between(1, 19).all()
    criteria = {"stabilizing", "plateau", "uncertainty", "coverage-plateau"}
    assert set(pd.read_csv(out / "stopping.csv")["criterion"]) == criteria


def test_tfidf_exposes_embeddings_for_diversity_strategies(amazon_in, tmp_path):
    out = tmp_path / "run"
    result = alloop(
        "run", "--seeds", "1", "--data", str(amazon_in), "--classifier", "tfidf", "--strategy", "coreset",
        "--strategy", "badge", "--no-near-duplicates", "--initial-strategy", "kmeans", "--initial", "30",
        "--query-size", "15", "--cycles", "1", "--no-ceiling", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    check_outputs(out, pd.read_parquet(amazon_in), ["coreset", "badge"], cycles=1, query=15)


@pytest.mark.slow
def test_run_tiny_bert_fine_tune(amazon_small, tmp_path):
    small = amazon_small
    source = pd.read_parquet(amazon_small)
    out = tmp_path / "run"
    result = alloop(
        "run", "--seeds", "1", "--data", str(small), "--classifier", "bert", "--max-steps", "2",
        "--batch-size", "8",
        "--strategy", "margin", "--strategy", "random", "--initial", "40", "--query-size", "10",
        "--cycles", "1", "--max-length", "32", "--no-ceiling", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    check_outputs(out, source, ["margin", "random"], cycles=1, query=10)


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "tiny.csv"
    pd.DataFrame({"title": [f"t {i}" for i in range(20)], "category": ["a", "b"] * 10}).to_csv(
        path, index=False
    )
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "/no/such/file.parquet"], "data not found"),
        (["--data", "{tiny}", "--text", "name"], "column 'name' not found"),
        (["--data", "{tiny}", "--label", "cat"], "column 'cat' not found"),
        (["--data", "{bad}"], "unreadable format"),
        (["--data", "{one}"], "need at least 2"),
        (["--data", "{tiny}", "--initial", "16"], "pool has 16"),
        (["--data", "{tiny}", "--initial", "0.99"], "pool has 16"),
        (["--data", "{tiny}", "--query-size", "0"], "at least 1"),
        (["--data", "{tiny}", "--strategy", "best"], "unknown strategy"),
        (["--data", "{tiny}", "--classifier", "svm"], "unknown classifier"),
        (["--data", "{tiny}", "--cycles", "x"], "Invalid value for '--cycles'"),
        (["--data", "{tiny}", "--target-f1", "2"], "--target-f1"),
        (["--data", "{tiny}", "--budget", "4", "--initial", "5"], "larger than --budget"),
        (["--no-such-option"], "No such option"),
        (["--data", "{tiny}", "--precision", "int4"], "unknown --precision"),
        (["--data", "{tiny}", "--query-size", "5", "--pool-subsample", "3"], "--pool-subsample"),
        (["--data", "{tiny}", "--threads", "0"], "--threads"),
        (
            [
                "--data",
                "{tiny}",
                "--classifier",
                "bert-frozen",
                "--initial",
                "4",
                "--query-size",
                "2",
                "--cache-dir",
                "{bad}/x",
            ],
            "--no-cache",
        ),
    ],
)
def test_bad_input_one_line_exit_2_no_traceback(tiny_csv, tmp_path, args, message):
    bad = tmp_path / "bad.xlsx"
    bad.write_text("x")
    one = tmp_path / "one.csv"
    pd.DataFrame({"title": ["a", "b", "c", "d"], "category": ["x"] * 4}).to_csv(one, index=False)
    args = [a.format(tiny=tiny_csv, bad=bad, one=one) for a in args]
    result = alloop("run", "--classifier", "tfidf", *args, "--out", str(tmp_path / "o"))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_help_documents_every_option_with_defaults():
    result = alloop("run", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    options = "data text label classifier strategy initial query-size cycles budget target-f1 warm-start"
    options += " max-length epochs lr batch-size balanced-test test-size out seed model"
    for option in options.split():
        assert f"--{option}" in text, option
    assert "default: 10" in text and "hub:iarbel/amazon-product-data-filter" in text
