"""``alloop backup``: SQLite's online backup of label.db while annotators label, the documented
restore, and the copy taken by itself before an older project's schema is upgraded."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from api_support import LABELS, served_project
from label_support import bearer, run_main

from alloop.labelling.storage.store import LabelStore


def answers(path: Path) -> set[tuple[int, int]]:
    db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        return {(int(p), int(a)) for p, a in db.execute("SELECT pos, annotator FROM labels")}
    finally:
        db.close()


def check(path: Path) -> str:
    db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def test_a_backup_while_four_annotators_label_holds_every_acknowledged_answer(tmp_path, capsys):
    with served_project(tmp_path / "w", n_per_word=60) as api:
        store: LabelStore = api.store  # type: ignore[assignment]
        tokens = {name: store.add_annotator(name) for name in ("bob", "cat", "dan")}
        tokens["alice"] = api.tokens["alice"]
        ids = {a.name: a.id for a in store.annotators()}
        acked: list[tuple[int, int]] = []
        lock = threading.Lock()
        stop = threading.Event()
        errors: list[str] = []

        def annotate(name: str) -> None:
            n = 0
            while not stop.is_set():
                item = api.client.get("/api/next", headers=bearer(tokens[name])).json()
                if item.get("done"):
                    return
                body = {"item_id": item["item_id"], "label": LABELS[n % 3]}
                answer = api.client.post("/api/labels", headers=bearer(tokens[name]), json=body)
                if answer.status_code != 200:
                    errors.append(answer.text)
                    return
                with lock:  # acknowledged: the 200 came back
                    acked.append((int(item["item_id"]), ids[name]))
                n += 1

        threads = [threading.Thread(target=annotate, args=(name,)) for name in tokens]
        for thread in threads:
            thread.start()
        try:
            while len(acked) < 40 and not errors and any(t.is_alive() for t in threads):
                stop.wait(0.01)
            with lock:
                before = set(acked)
            alive = sum(t.is_alive() for t in threads)  # all four still labelling as the backup starts
            out = tmp_path / "backup.db"
            code, said, err = run_main(capsys, "backup", "--project", str(api.folder), "--out", str(out))
            while len(acked) < len(before) + 20 and not errors and any(t.is_alive() for t in threads):
                stop.wait(0.01)  # and they go on labelling after it
        finally:
            stop.set()
            for thread in threads:
                thread.join(60)
        assert not errors, errors[0]
        assert code == 0, err
        assert len(before) >= 40 and alive == 4 and len(acked) >= len(before) + 20
        # item ids are row numbers here, which are also positions
        assert check(out) == "ok"
        kept = answers(out)
        assert before <= kept, f"{len(before - kept)} acknowledged answers missing from the backup"
        assert kept <= answers(api.folder / "label.db")
        assert "SQLite's integrity check: ok" in said


def test_the_documented_restore_brings_the_labels_back(tmp_path, capsys):
    with served_project(tmp_path / "w") as api:
        store: LabelStore = api.store  # type: ignore[assignment]
        alice = store.annotator_for_token(api.tokens["alice"])
        assert alice is not None
        for pos in range(6):
            store.put_label(pos, alice.id, "label", LABELS[pos % 3])
        out = tmp_path / "copy.db"
        assert run_main(capsys, "backup", "--project", str(api.folder), "--out", str(out))[0] == 0
        saved = answers(out)
    project = api.folder
    (project / "label.db").write_bytes(b"damaged beyond repair" * 100)
    # docs/outputs.md: stop the server, move label.db and its -wal/-shm aside, copy the backup in
    aside = tmp_path / "aside"
    aside.mkdir()
    for name in ("label.db", "label.db-wal", "label.db-shm"):
        if (project / name).exists():
            shutil.move(project / name, aside / name)
    shutil.copyfile(out, project / "label.db")
    restored = LabelStore.open(project)
    try:
        assert {(r.pos, r.annotator) for r in restored.label_rows()} == saved and len(saved) == 6
    finally:
        restored.close()


def test_an_older_project_is_copied_before_its_schema_is_upgraded(tmp_path):
    with served_project(tmp_path / "w") as api:
        store: LabelStore = api.store  # type: ignore[assignment]
        alice = store.annotator_for_token(api.tokens["alice"])
        assert alice is not None
        store.put_label(0, alice.id, "label", LABELS[0])
    path = api.folder / "label.db"
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE labels DROP COLUMN suggestion_p")  # as a project from before the column
    db.execute("DROP TABLE shown")
    db.commit()
    db.close()
    old = path.read_bytes()
    upgraded = LabelStore.open(api.folder)
    copy = upgraded.upgrade_backup
    upgraded.close()
    assert copy is not None and copy.parent == api.folder and check(copy) == "ok"
    columns = {row[1] for row in sqlite3.connect(copy).execute("PRAGMA table_info(labels)")}
    assert "suggestion_p" not in columns  # the copy is the project as it was
    assert answers(copy) == answers(path) == {(0, alice.id)}
    assert len(old) > 0
    again = LabelStore.open(api.folder)  # already upgraded: no second copy
    assert again.upgrade_backup is None
    again.close()
    assert [p.name for p in api.folder.glob("label.before-upgrade-*.db")] == [copy.name]


def test_a_new_project_is_not_backed_up(tmp_path):
    store = LabelStore.open(tmp_path / "fresh", create=True)
    assert store.upgrade_backup is None
    store.close()
    assert not list((tmp_path / "fresh").glob("*before-upgrade*"))


@pytest.mark.parametrize("given", ["", "{project}", "{project}/..", "{foreign}"])
def test_backup_refuses_an_out_it_must_not_write(tmp_path, capsys, given):
    with served_project(tmp_path / "w") as api:
        foreign = tmp_path / "mine.db"
        foreign.write_bytes(b"not alloop's")
        out = given.format(project=api.folder, foreign=foreign)
        code, _, err = run_main(capsys, "backup", "--project", str(api.folder), "--out", out)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert foreign.read_bytes() == b"not alloop's"


def test_outputs_get_an_ordinary_file_mode(tmp_path, capsys):
    with served_project(tmp_path / "w") as api:
        out = tmp_path / "copy.db"
        assert run_main(capsys, "backup", "--project", str(api.folder), "--out", str(out))[0] == 0
        export = tmp_path / "labels.csv"
        assert run_main(capsys, "export", "--project", str(api.folder), "--out", str(export))[0] == 0
    import os

    mask = os.umask(0)
    os.umask(mask)
    for path in (out, export):
        assert path.stat().st_mode & 0o777 == 0o666 & ~mask, path
