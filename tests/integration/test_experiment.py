"""The seed grid, the results store, kill -9 and resume, the report and config files."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from alloop.models import ModelConfig
from alloop.simulate.config import RunConfig
from alloop.simulate.experiment import run_experiment
from alloop.simulate.store import TIMING_COLUMNS, ResultStore

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "COLUMNS": "120"}
TIMING = list(TIMING_COLUMNS)


def alloop(*args: str, timeout: int = 3600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alloop", *args], capture_output=True, text=True, env=ENV, timeout=timeout
    )


def test_seed_grid_is_paired_and_reproducible(amazon_in, tmp_path):
    config = RunConfig(
        data=str(amazon_in),
        strategies=("random", "margin"),
        initial=50,
        query_size=25,
        cycles=2,
        seeds=2,
        model=ModelConfig(classifier="tfidf"),
    )
    report = run_experiment(config, tmp_path / "a")
    run_experiment(config, tmp_path / "b")
    assert report.name == "report.html"
    cycles = pd.read_csv(tmp_path / "a" / "cycles.csv")
    baseline = cycles[cycles["cycle"] == 0].set_index(["seed", "strategy"])["macro_f1"]
    assert baseline[0, "random"] == baseline[0, "margin"]  # one initial set per seed, shared
    assert baseline[1, "random"] == baseline[1, "margin"]
    queried_a = pd.read_csv(tmp_path / "a" / "queried.csv")
    queried_b = pd.read_csv(tmp_path / "b" / "queried.csv")
    pd.testing.assert_frame_equal(queried_a, queried_b)  # same config and seed, same item ids
    per_seed = queried_a[queried_a["strategy"] == "random"].groupby("seed")["item_id"].apply(set)
    assert per_seed[0] != per_seed[1]
    store = ResultStore.open_existing(tmp_path / "a")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    ceilings = store.ceilings()
    assert ceilings["seed"].tolist() == [0, 1] and (ceilings["macro_f1"] > 0.7).all()
    initial0 = store.initial(0)
    assert initial0 is not None and len(initial0[0]) == 50
    store.close()
    summary = pd.read_csv(tmp_path / "a" / "summary.csv")
    assert set(summary.columns) >= {"strategy", "aulc_mean", "aulc_sd", "p_vs_random", "labels_to_95_mean"}


def _kill_and_resume(data: Path, tmp_path: Path, classifier: str, extra: list[str]) -> None:
    args = [
        "run", "--data", str(data), "--classifier", classifier, "--strategy", "margin",
        "--strategy", "random", "--seeds", "2", "--initial", "40", "--query-size", "20",
        "--cycles", "5", "--no-ceiling", *extra,
    ]  # fmt: skip
    reference = alloop(*args, "--out", str(tmp_path / "reference"))
    assert reference.returncode == 0, reference.stderr
    total = 2 * 2 * 6

    out = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "alloop", *args, "--out", str(out)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    committed = 0
    deadline = time.monotonic() + 3600  # a bound, not a budget: a loaded machine is slow
    while time.monotonic() < deadline and process.poll() is None:
        if (out / "results.db").exists():
            with sqlite3.connect(out / "results.db") as db:
                try:
                    committed = db.execute("SELECT COUNT(*) FROM cycles").fetchone()[0]
                except sqlite3.OperationalError:  # tables not created yet
                    committed = 0
            if committed >= 9:
                break
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    with sqlite3.connect(out / "results.db") as db:
        stored = db.execute("SELECT COUNT(*) FROM cycles").fetchone()[0]
    assert 9 <= stored < total  # killed mid-run, with finished cycles on disk

    resumed = alloop("run", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert "cycles already stored" in resumed.stdout
    want = pd.read_csv(tmp_path / "reference" / "cycles.csv").drop(columns=TIMING)
    got = pd.read_csv(out / "cycles.csv").drop(columns=TIMING)
    key = ["strategy", "seed", "cycle"]
    pd.testing.assert_frame_equal(
        got.sort_values(key).reset_index(drop=True), want.sort_values(key).reset_index(drop=True)
    )
    want_q = pd.read_csv(tmp_path / "reference" / "queried.csv")
    got_q = pd.read_csv(out / "queried.csv")
    key_q = ["strategy", "seed", "cycle", "item_id"]
    pd.testing.assert_frame_equal(
        got_q.sort_values(key_q).reset_index(drop=True), want_q.sort_values(key_q).reset_index(drop=True)
    )
    assert len(got) == total


def test_kill_9_and_resume_equals_an_uninterrupted_run_tfidf(amazon_in, tmp_path):
    _kill_and_resume(amazon_in, tmp_path, "tfidf", [])


@pytest.mark.slow
def test_kill_9_and_resume_equals_an_uninterrupted_run_bert_frozen(amazon_small, tmp_path):
    _kill_and_resume(amazon_small, tmp_path, "bert-frozen", ["--max-length", "32"])


def test_report_rerenders_from_the_store_alone(amazon_in, tmp_path):
    out = tmp_path / "run"
    result = alloop(
        "run", "--data", str(amazon_in), "--classifier", "tfidf", "--strategy", "random",
        "--strategy", "entropy", "--initial", "50", "--query-size", "25", "--cycles", "2",
        "--seeds", "2", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    made = "report.html learning_curves.png queried_classes.png per_class_f1.png confusion_random.png"
    made = [
        *made.split(),
        "confusion_entropy.png",
        "stopping.png",
        "cycles.csv",
        "queried.csv",
        "summary.csv",
    ]
    before = (out / "cycles.csv").read_text()
    for name in made:
        (out / name).unlink()
    rerun = alloop("report", str(out))
    assert rerun.returncode == 0, rerun.stderr
    for name in made:
        assert (out / name).stat().st_size > 0, name
    assert (out / "cycles.csv").read_text() == before
    page = (out / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 6  # every figure embedded
    assert "http://" not in page and "https://" not in page  # opens offline
    for text in ("AULC", "p vs random", "labels to 95% of ceiling", "entropy", "Verdict"):
        assert text in page
    readable = re.sub(r'src="data:image/png;base64,[^"]*"', "", page)
    for raw in (">nan<", "None", "final_f1", "aulc_mean", " nan "):
        assert raw not in readable, raw
    assert (out / "verdict.txt").read_text().splitlines()[0] in page


def test_config_file_options_and_command_line_override(amazon_in, tmp_path):
    toml = tmp_path / "experiment.toml"
    toml.write_text(
        f'data = "{amazon_in}"\nclassifier = "tfidf"\nstrategy = ["margin"]\n'
        "initial = 30\nquery-size = 15\ncycles = 3\nseeds = 1\nno-ceiling = true\n"
    )
    bad = alloop("run", "--config", str(toml), "--out", str(tmp_path / "x"))
    assert bad.returncode == 2 and "unknown option 'no-ceiling'" in bad.stderr
    toml.write_text(toml.read_text().replace("no-ceiling = true", "ceiling = false"))
    out = tmp_path / "run"
    result = alloop("run", "--config", str(toml), "--cycles", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    cycles = pd.read_csv(out / "cycles.csv")
    assert cycles["strategy"].unique().tolist() == ["margin"]
    assert cycles["n_labelled"].tolist() == [30, 45]  # query-size from the file, cycles from the CLI
    saved = (out / "config.toml").read_text()
    assert "query-size = 15" in saved and "cycles = 1" in saved and "ceiling = false" in saved
    again = alloop("run", "--config", str(out / "config.toml"), "--out", str(tmp_path / "again"))
    assert again.returncode == 0, again.stderr
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "again" / "queried.csv"), pd.read_csv(out / "queried.csv")
    )


def test_resume_and_out_errors(amazon_in, tmp_path):
    out = tmp_path / "run"
    first = alloop(
        "run", "--data", str(amazon_in), "--classifier", "tfidf", "--strategy", "random", "--seeds", "1",
        "--initial", "30", "--cycles", "1", "--no-ceiling", "--out", str(out),
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    again = alloop("run", "--data", str(amazon_in), "--classifier", "tfidf", "--out", str(out))
    assert again.returncode == 2 and "already holds a run" in again.stderr
    mixed = alloop("run", "--resume", str(out), "--cycles", "5")
    assert mixed.returncode == 2 and "drop --cycles" in mixed.stderr
    missing = alloop("run", "--resume", str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "no results.db" in missing.stderr
    done = alloop("run", "--resume", str(out))  # a finished run resumes to the same result
    assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(out / "cycles.csv")) == 2
