"""Nothing a user owns is lost: alloop replaces only files it wrote (its manifest says so, and
they are unchanged), and refuses an --out that is empty, the current folder, the project or a
folder above one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from label_support import run_main, tiny_data, tiny_project

from alloop.errors import AlloopError
from alloop.outputs import MANIFEST, out_path, write_file, write_folder

FOREIGN = {
    "notes.txt": b"my notes\n",
    "state.json": b'{"not": "alloop"}\n',
    "dataset_info.json": b'{"also": "not alloop"}\n',
    "labels.parquet": b"a file of mine that merely has alloop's favourite name\n",
    "sub/deep.txt": b"deep\n",
}


def fill(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in FOREIGN.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return snapshot(folder)


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture()
def project(tmp_path) -> Path:
    return tiny_project(tmp_path / "proj", tiny_data(tmp_path / "items.csv"))


def test_every_export_predict_and_report_leave_foreign_files_alone(project, tmp_path, capsys, monkeypatch):
    work = tmp_path / "work"
    before = fill(work)
    monkeypatch.chdir(tmp_path)
    attempts = [
        ["export", "--project", str(project), "--out", str(work)],  # hf into a foreign folder
        ["export", "--project", str(project), "--out", str(work), "--format", "hf"],
        ["export", "--project", str(project), "--out", str(work / "labels.parquet")],  # a foreign file
        ["predict", "--project", str(project), "--out", str(work / "labels.parquet")],
        ["report", str(work)],
    ]
    for args in attempts:
        code, _out, err = run_main(capsys, *args)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (args, err)
    assert snapshot(work) == before
    # next to it, and into new names inside it: written, and the foreign files still untouched
    for target in ("labels.csv", "labels.jsonl", "tasks.json", "hf-export"):
        code, _, err = run_main(capsys, "export", "--project", str(project), "--out", str(work / target))
        assert code == 0, err
    code, _, err = run_main(
        capsys, "export", "--project", str(project), "--out", str(tmp_path / "beside.parquet")
    )
    assert code == 0, err
    code, _, err = run_main(capsys, "predict", "--project", str(project), "--out", str(work / "pred.csv"))
    assert code == 0, err
    after = snapshot(work)
    assert {k: v for k, v in after.items() if k in before} == before
    assert {
        "labels.csv",
        "labels.jsonl",
        "tasks.json",
        "tasks.label_config.xml",
        "pred.csv",
        MANIFEST,
    } <= set(after)


def test_an_earlier_export_is_replaced_but_files_added_beside_it_are_kept(project, tmp_path, capsys):
    out = tmp_path / "hf"
    assert run_main(capsys, "export", "--project", str(project), "--out", str(out))[0] == 0
    (out / "README.md").write_text("my notes on this export\n")
    assert run_main(capsys, "export", "--project", str(project), "--out", str(out))[0] == 0
    assert (out / "README.md").read_text() == "my notes on this export\n"
    assert (out / "dataset_info.json").exists()
    # a file alloop wrote and the user then changed is not replaced
    (out / "dataset_info.json").write_text("{}")
    code, _, err = run_main(capsys, "export", "--project", str(project), "--out", str(out))
    assert code == 2 and "changed since alloop wrote it" in err
    assert (out / "dataset_info.json").read_text() == "{}"


@pytest.mark.parametrize("given", ["", "  ", ".", "{project}", "{parent}"])
def test_an_out_that_is_empty_here_or_the_project_is_refused(project, tmp_path, capsys, monkeypatch, given):
    monkeypatch.chdir(project)  # inside the project folder, as the user was
    before = snapshot(project.parent)
    value = given.format(project=project, parent=project.parent)
    for command in ("export", "predict"):
        code, out, err = run_main(capsys, command, "--project", str(project), "--out", value)
        assert code == 2, (command, value, out, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert snapshot(project.parent) == before


def test_a_run_never_writes_into_a_folder_of_foreign_files(tmp_path, capsys):
    data = tiny_data(tmp_path / "d.csv", repeats=4)
    work = tmp_path / "work"
    before = fill(work)
    args = ["run", "--data", str(data), "--classifier", "tfidf", "--initial", "6", "--query-size", "2"]
    code, _, err = run_main(capsys, *args, "--cycles", "1", "--no-ceiling", "--out", str(work))
    assert code == 2 and "alloop did not write" in err
    assert snapshot(work) == before


def test_the_writers_directly(tmp_path, monkeypatch):
    target = tmp_path / "t.txt"
    write_file(target, lambda p: p.write_text("one"))
    write_file(target, lambda p: p.write_text("two"))  # ours and unchanged: replaced
    assert target.read_text() == "two"
    target.write_text("edited by a person")
    with pytest.raises(AlloopError, match="did not write"):
        write_file(target, lambda p: p.write_text("three"))
    assert target.read_text() == "edited by a person"
    folder = tmp_path / "f"
    write_folder(folder, lambda p: (p / "a.txt").write_text("a"))
    write_folder(folder, lambda p: (p / "b.txt").write_text("b"))  # the old output's a.txt goes
    assert sorted(q.name for q in folder.iterdir()) == sorted([MANIFEST, "b.txt"])
    failed = tmp_path / "g"
    with pytest.raises(RuntimeError):
        write_folder(failed, lambda p: (_ for _ in ()).throw(RuntimeError("boom")))
    assert not failed.exists() and not [q for q in tmp_path.iterdir() if q.name.startswith(".g.")]
    monkeypatch.chdir(tmp_path)
    for bad in ("", ".", str(tmp_path.parent)):
        with pytest.raises(AlloopError):
            out_path(bad)
