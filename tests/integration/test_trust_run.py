"""`alloop run` measures auto-labelling every cycle, simulates a noisy annotator reproducibly, and
still reads a results.db written before either existed."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from cli_support import alloop

LOOSE = ("--target-precision", "0.5", "--precision-confidence", "0.9")
"""A target this small run of a weak classifier can certify (tfidf on a few hundred titles)."""
AUTO = ["auto_threshold", "auto_coverage_estimated", "auto_coverage_test", "auto_precision_test"]


def run(data, out, *extra: str):
    result = alloop(
        "run", "--data", str(data), "--classifier", "tfidf", "--strategy", "random", "--seeds", "1",
        "--initial", "60", "--query-size", "40", "--cycles", "4", "--no-ceiling", "--out", str(out), *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def noisy(amazon_sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("trust") / "noisy"
    run(amazon_sample, out, "--oracle-noise", "0.2", *LOOSE)
    return out


@pytest.fixture(scope="module")
def clean(amazon_sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("trust") / "clean"
    run(amazon_sample, out, *LOOSE)
    return out


def test_every_cycle_records_the_auto_labelling_columns(clean, noisy):
    assert all(c in pd.read_csv(noisy / "cycles.csv") for c in AUTO)
    cycles = pd.read_csv(clean / "cycles.csv")
    assert all(c in cycles for c in AUTO)
    assert cycles["auto_coverage_estimated"].between(0, 1).all()
    assert cycles["auto_coverage_test"].between(0, 1).all()
    measured = cycles[cycles["auto_coverage_test"] > 0]
    assert len(measured)  # at 50% precision this small run does certify a threshold
    assert measured["auto_precision_test"].between(0, 1).all()
    verdict = (clean / "verdict.txt").read_text()
    assert "Auto-labelling: after" in verdict and "at >= 50% precision" in verdict
    assert "Auto-labelling at the target precision" in (clean / "report.html").read_text()


def test_oracle_noise_is_reproducible_under_a_seed(noisy, clean, amazon_sample, tmp_path):
    again = tmp_path / "again"
    run(amazon_sample, again, "--oracle-noise", "0.2", *LOOSE)
    first, second = pd.read_csv(noisy / "queried.csv"), pd.read_csv(again / "queried.csv")
    pd.testing.assert_frame_equal(first, second)
    gold = pd.read_csv(clean / "queried.csv")
    # the same items are asked (random picks do not depend on the answers); about 20% answered wrong
    assert first["item_id"].tolist() == gold["item_id"].tolist()
    wrong = (first["label"] != gold["label"]).mean()
    assert 0.08 < wrong < 0.35
    other_seed = tmp_path / "seed1"
    run(amazon_sample, other_seed, "--oracle-noise", "0.2", *LOOSE, "--seed", "1")
    assert not pd.read_csv(other_seed / "queried.csv")["label"].equals(first["label"])


def test_a_results_db_from_before_auto_labelling_still_reports(noisy, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(noisy, old)
    db = sqlite3.connect(old / "results.db")
    for column in [*AUTO, "auto_seconds"]:
        db.execute(f"ALTER TABLE cycles DROP COLUMN {column}")
    db.commit()
    db.close()
    result = alloop("report", str(old))
    assert result.returncode == 0, result.stderr
    cycles = pd.read_csv(old / "cycles.csv")
    assert cycles["auto_coverage_estimated"].isna().all()
    assert "Auto-labelling" not in (old / "verdict.txt").read_text()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--oracle-noise", "-0.1", "--oracle-noise must be at least 0 and below 1"),
        ("--target-precision", "1.5", "--target-precision must be above 0 and below 1"),
        ("--precision-confidence", "0.2", "--precision-confidence must be at least 0.5"),
        ("--stop", "coverage:1.5", "a share above 0 and at most 1"),
    ],
)
def test_bad_values_are_one_line_and_exit_2(amazon_sample, tmp_path, option, value, message):
    result = alloop("run", "--data", str(amazon_sample), "--out", str(tmp_path / "x"), option, value)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_the_coverage_stop_ends_the_run_when_the_share_is_reached(amazon_sample, tmp_path):
    out = tmp_path / "stop"
    result = alloop(
        "run", "--data", str(amazon_sample), "--classifier", "tfidf", "--strategy", "random", "--seeds", "1",
        "--initial", "60", "--query-size", "40", "--cycles", "8", "--no-ceiling", *LOOSE,
        "--stop", "coverage:0.3", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    cycles = pd.read_csv(out / "cycles.csv")
    last = cycles.iloc[-1]
    assert last["stop_reason"].startswith("coverage:")
    assert last["auto_coverage_estimated"] >= 0.3
    assert (cycles["auto_coverage_estimated"].iloc[:-1].fillna(0) < 0.3).all()
    assert np.isfinite(cycles["auto_threshold"].iloc[-1])
