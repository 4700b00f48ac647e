"""A run folder and its report: every file goes in under a temporary name and is recorded in the
folder's manifest, and re-rendering the report replaces only report files alloop wrote."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from label_support import run_main, tiny_data

from alloop.outputs import MANIFEST


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def data(tmp_path) -> Path:
    path = tiny_data(tmp_path / "d.csv", repeats=4)
    return path


def run_args(data: Path, out: str) -> list[str]:
    return [
        "run", "--data", str(data), "--classifier", "tfidf", "--initial", "6", "--query-size", "2",
        "--cycles", "1", "--no-ceiling", "--strategy", "random", "--out", out,
    ]  # fmt: skip


def test_report_replaces_its_own_files_and_nothing_else(data, tmp_path, capsys):
    run = tmp_path / "run"
    code, _, err = run_main(capsys, *run_args(data, str(run)))
    assert code == 0, err
    recorded = json.loads((run / MANIFEST).read_text())["files"]
    assert {"report.html", "cycles.csv", "config.json", "config.toml", "verdict.txt"} <= set(recorded)
    assert not [p for p in run.iterdir() if p.name.startswith(".alloop-partial")]
    (run / "notes.txt").write_text("mine\n")
    assert run_main(capsys, "report", str(run))[0] == 0  # its own files, unchanged: replaced
    assert (run / "notes.txt").read_text() == "mine\n"
    (run / "cycles.csv").write_text("edited by hand\n")
    code, _, err = run_main(capsys, "report", str(run))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "cycles.csv" in err, err
    assert (run / "cycles.csv").read_text() == "edited by hand\n"  # nothing replaced, nothing left over
    assert not [p for p in run.iterdir() if p.name.startswith(".alloop-partial")]


def test_report_of_a_folder_that_is_no_run_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "nothing-here"
    code, _, err = run_main(capsys, "report", str(missing))
    assert code == 2 and "results.db" in err
    assert not missing.exists()


@pytest.mark.parametrize("given", ["", " ", ".", ".."])
def test_run_refuses_an_out_that_is_empty_or_here(data, tmp_path, capsys, monkeypatch, given):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    code, _, err = run_main(capsys, *run_args(data, given))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert list(here.iterdir()) == []
