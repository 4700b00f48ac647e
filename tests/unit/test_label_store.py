"""label.db's schema: a project made before a column existed opens and keeps its labels."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from alloop.labelling.storage.store import LabelStore

OLD_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items (pos INTEGER PRIMARY KEY, item_id TEXT NOT NULL UNIQUE, text TEXT NOT NULL,
    fields TEXT NOT NULL, gold TEXT);
CREATE TABLE annotators (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
    token_sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE assignments (pos INTEGER NOT NULL, annotator INTEGER NOT NULL, handed_at REAL NOT NULL,
    PRIMARY KEY (pos, annotator));
CREATE TABLE labels (pos INTEGER NOT NULL, annotator INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('label', 'skip', 'unsure')), label TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (pos, annotator));
INSERT INTO items VALUES (0, 'a', 'red shoe', '{}', NULL), (1, 'b', 'blue pen', '{}', NULL);
INSERT INTO annotators VALUES (1, 'ann', 'x', '2026-01-01');
INSERT INTO labels VALUES (0, 1, 'label', 'shoes', '2026-01-01', '2026-01-01', 1);
"""


def test_an_older_label_db_gains_the_new_columns_and_keeps_its_labels(tmp_path: Path) -> None:
    path = tmp_path / "label.db"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
    store = LabelStore(path)
    try:
        (old,) = store.label_rows()
        assert (old.pos, old.label, old.source, old.suggestion) == (0, "shoes", "queue", None)
        assert [a.name for a in store.annotators()] == ["ann"]
        new = store.put_label(1, 1, "label", "pens", source="search", suggestion="pens", suggestion_p=0.7)
        assert (new.source, new.suggestion, new.suggestion_p) == ("search", "pens", 0.7)
        assert [r.label for r in store.label_rows()] == ["shoes", "pens"]
        edited = store.put_label(1, 1, "label", "shoes")  # corrected later, e.g. in the recent list
        assert (edited.label, edited.source) == ("shoes", "search")  # still found by search
        store.put_label(1, 1, "label", "pens", source="search")
        with pytest.raises(ValueError, match="unknown source"):
            store.put_label(1, 1, "label", "pens", source="guess")
    finally:
        store.close()
    reopened = LabelStore(path)  # the second open finds the columns there already
    try:
        assert [r.source for r in reopened.label_rows()] == ["queue", "search"]
    finally:
        reopened.close()


def test_final_labels_take_the_reviewer_over_the_vote_and_leave_ties_open(tmp_path: Path) -> None:
    from alloop.labelling.domain.final import final_labels

    store = LabelStore(tmp_path / "label.db")
    try:
        with store.transaction() as db:
            db.executemany(
                "INSERT INTO items VALUES (?, ?, ?, '{}', NULL)", [(p, f"i{p}", f"t{p}") for p in range(4)]
            )
        for name in ("a", "b", "rev"):
            store.add_annotator(name)
        assert len(store.items()) == 4
        a, b, rev = (x.id for x in store.annotators())
        store.put_label(0, a, "label", "x")
        store.put_label(0, b, "label", "x")  # agreed: a vote
        store.put_label(1, a, "label", "x")
        store.put_label(1, b, "label", "y")  # tie: open until reviewed
        store.put_label(2, a, "unsure", None)  # unsure only: open
        store.put_label(3, a, "label", "x")
        store.put_label(3, b, "label", "y")
        store.adjudicate(3, rev, "y")  # the tie a reviewer settled
        final = final_labels(store.label_rows(), store.adjudications())
        assert (final[0].label, final[0].decided_by, final[0].needs_review) == ("x", "vote", False)
        assert (final[1].label, final[1].needs_review) == (None, True)
        assert (final[2].label, final[2].decided_by, final[2].needs_review) == (None, "none", True)
        assert (final[3].label, final[3].decided_by, final[3].reviewer) == ("y", "adjudication", rev)
    finally:
        store.close()
