"""Issue 24, cases 1 and 4 exactly as reported: an export into the folder that holds the project
(and another tool's state.json) deleted the folder's files; from inside it, --out . or --out ''
emptied the current folder, project included, and then crashed. Now each is refused with one
line and every file is byte-identical afterwards."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from label_support import run_main, tiny_data, tiny_project


@pytest.fixture()
def work(tmp_path) -> Path:
    """work/ holds notes.txt, state.json (another tool's) and proj/label.db (the project)."""
    work = tmp_path / "work"
    work.mkdir()
    tiny_project(work / "proj", tiny_data(tmp_path / "items.csv"))
    (work / "notes.txt").write_text("my notes\n")
    (work / "state.json").write_text('{"tool": "not alloop"}\n')
    return work


def files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_case_1_export_into_the_folder_holding_the_project(work, capsys, monkeypatch):
    monkeypatch.chdir(work.parent)
    before = files(work)
    for args in (["--out", "work"], ["--out", "work", "--format", "hf"]):
        code, _, err = run_main(capsys, "export", "--project", "work/proj", *args)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert files(work) == before


@pytest.mark.parametrize("out", [".", ""])
def test_case_1_and_4_out_here_from_inside_the_folder(work, capsys, monkeypatch, out):
    monkeypatch.chdir(work)
    before = files(work)
    code, _, err = run_main(capsys, "export", "--project", "proj", "--out", out)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert ("empty" in err) if out == "" else ("current folder" in err)
    assert files(work) == before
