"""Errors name the real cause: a read-only place, no space left, permission denied, a locked or a
damaged database each get their own one line (exit 2), and "restore it from a copy" is said only
when SQLite's own integrity check finds the file damaged.

Read-only and full places are real where the test can make them (tests/place_support.py: chmod
when not root; as root a read-only bind mount and a filled 64 KiB tmpfs). Permission denied cannot
be made real for root, so those tests raise the OS error (EACCES, and ENOSPC once more) at the
boundary, ``os.replace``, which every output passes through."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest
from label_support import run_main, tiny_data, tiny_project
from place_support import full_place, read_only


def one_line(code: int, err: str) -> str:
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def refused_as_read_only(err: str, how: str) -> None:
    """The cause named (EROFS under a mount, EACCES under chmod), and no backup asked for."""
    assert ("read-only" in err) if how == "mount" else ("read-only" in err or "permission denied" in err), err
    assert "restore" not in err and "damaged" not in err, err


@pytest.fixture()
def world(tmp_path) -> dict[str, Path]:
    """A labelling project (30 items, 12 labels, tfidf) and a finished run folder."""
    data = tiny_data(tmp_path / "items.csv")
    tiny_project(tmp_path / "proj", data)
    imports = tmp_path / "imports.csv"
    imports.write_text("item_id,label\n0,music\n")
    return {"data": data, "project": tmp_path / "proj", "imports": imports, "tmp": tmp_path}


@pytest.fixture()
def run_dir(world, capsys) -> Path:
    out = world["tmp"] / "run"
    args = ["run", "--data", str(world["data"]), "--classifier", "tfidf", "--initial", "6"]
    args += ["--query-size", "2", "--cycles", "1", "--no-ceiling", "--strategy", "random", "--out", str(out)]
    code, _, err = run_main(capsys, *args)
    assert code == 0, err
    return out


# -- issue 24, case 2: predict into a read-only project was a traceback ----------------------------
def test_predict_with_a_read_only_model_folder_says_so(world, capsys):
    model = world["project"] / "model"
    model.mkdir()
    out = world["tmp"] / "p.csv"
    args = ["predict", "--project", str(world["project"]), "--data", str(world["data"]), "--out", str(out)]
    with read_only(model) as how:
        code, _, err = run_main(capsys, *args)
    refused_as_read_only(one_line(code, err), how)
    assert "model" in err and not out.exists()


def test_predict_in_a_read_only_project_says_so(world, capsys):
    out = world["tmp"] / "p.csv"
    with read_only(world["project"]) as how:
        code, _, err = run_main(
            capsys,
            "predict",
            "--project",
            str(world["project"]),
            "--data",
            str(world["data"]),
            "--out",
            str(out),
        )
    refused_as_read_only(one_line(code, err), how)
    assert not out.exists()


# -- issue 24, case 3: read-only places were called damaged ----------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["import-labels", "--project", "{project}", "--file", "{imports}", "--id", "item_id",
         "--label", "label",
         "--annotator", "alice"],
        ["annotators", "add", "bob", "--project", "{project}"],
        ["label", "--project", "{project}", "--port", "0"],
        ["label-stats", "--project", "{project}"],
        ["export", "--project", "{project}", "--out", "{tmp}/out.csv"],
    ],
    ids=lambda a: " ".join(a[:2]),
)  # fmt: skip
def test_a_read_only_project_is_not_called_damaged(world, capsys, args):
    filled = [a.format(**{k: str(v) for k, v in world.items()}) for a in args]
    with read_only(world["project"]) as how:
        code, _, err = run_main(capsys, *filled)
    refused_as_read_only(one_line(code, err), how)


@pytest.mark.parametrize("args", [["run", "--resume", "{run}"], ["report", "{run}"]], ids=lambda a: a[0])
def test_a_read_only_run_folder_is_not_called_damaged(run_dir, capsys, args):
    before = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    with read_only(run_dir) as how:
        code, _, err = run_main(capsys, *[a.format(run=run_dir) for a in args])
    refused_as_read_only(one_line(code, err), how)
    assert {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()} == before


# -- no space left ------------------------------------------------------------------------------
def test_no_space_left_is_named(world, capsys):
    with full_place(world["tmp"] / "full") as full:
        for args in (
            ["export", "--project", str(world["project"]), "--out", str(full / "labels.parquet")],
            ["export", "--project", str(world["project"]), "--out", str(full / "hf")],
            ["predict", "--project", str(world["project"]), "--out", str(full / "p.csv")],
        ):
            code, _, err = run_main(capsys, *args)
            assert "no space left" in one_line(code, err), args
        assert sorted(p.name for p in full.iterdir()) == ["filler"]  # no half-written file left


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "no space left"),
        (PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
        (OSError(errno.EROFS, "Read-only file system"), "read-only"),
    ],
)
def test_each_os_cause_has_its_line(world, capsys, monkeypatch, error, said):
    """Injected at the boundary (``os.replace``): root cannot be denied permission for real."""
    out = world["tmp"] / "out.csv"

    def refuse(src: object, dst: object) -> None:
        error.filename = str(dst)
        raise error

    monkeypatch.setattr(os, "replace", refuse)
    code, _, err = run_main(capsys, "export", "--project", str(world["project"]), "--out", str(out))
    assert said in one_line(code, err) and str(out) in err
    assert "restore" not in err and not out.exists()


# -- locked and damaged databases ------------------------------------------------------------------
def test_a_locked_database_is_called_locked(tmp_path):
    from alloop.errors import StorageError
    from alloop.failures import connect

    path = tmp_path / "x.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        db = connect(path, timeout=0.05)
        with pytest.raises(StorageError, match="is locked by another program") as found:
            db.execute("INSERT INTO t VALUES (1)")
        assert "restore" not in str(found.value)
        db.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _damage(path: Path) -> None:
    """Overwrite every page after the first two with bytes that are no b-tree page."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    assert len(data) > 3 * page, "the database needs more pages to damage"
    data[2 * page :] = b"\xa5" * (len(data) - 2 * page)
    path.write_bytes(bytes(data))


def test_a_damaged_project_is_called_damaged_by_the_integrity_check(world, capsys):
    from alloop.failures import integrity

    db = world["project"] / "label.db"
    assert integrity(db) == "ok"
    _damage(db)
    assert integrity(db) != "ok"
    code, _, err = run_main(
        capsys, "export", "--project", str(world["project"]), "--out", str(world["tmp"] / "o.csv")
    )
    assert "is damaged (SQLite's integrity check" in one_line(code, err) and "restore it from a copy" in err


def test_an_error_on_a_whole_file_never_asks_for_a_backup(tmp_path):
    from alloop.failures import explain_sqlite_error

    path = tmp_path / "whole.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    said = explain_sqlite_error(sqlite3.DatabaseError("database disk image is malformed"), path)
    assert said is not None and "integrity check finds the file whole" in str(said)
    assert "restore" not in str(said)
    said = explain_sqlite_error(sqlite3.OperationalError("attempt to write a readonly database"), path)
    assert said is not None and "restore" not in str(said)
    assert explain_sqlite_error(sqlite3.IntegrityError("UNIQUE constraint failed: t.x"), path) is None


def test_the_api_answers_a_full_disk_with_503_and_the_cause(tmp_path):
    """The project lives on a 4 MiB tmpfs that fills up while the server runs: SQLite's own
    SQLITE_FULL, for real. (A read-only remount cannot be shown this way: the server's open
    file outlives a bind remount.)"""
    from api_support import served_project
    from label_support import bearer
    from place_support import fill_up, small_place

    with small_place(tmp_path / "small", "4m") as place, served_project(place / "w") as api:
        headers = bearer(api.tokens["alice"])
        item = api.client.get("/api/next", headers=headers).json()
        fill_up(place)
        body = {"item_id": item["item_id"], "label": "music"}
        answer = api.client.post("/api/labels", headers=headers, json=body)
        assert answer.status_code == 503, answer.text
        assert "no space left" in answer.json()["detail"] and "restore" not in answer.json()["detail"]
        (place / "filler").unlink()
        assert api.client.post("/api/labels", headers=headers, json=body).status_code == 200
