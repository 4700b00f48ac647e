"""Suspected label errors in ``label.db`` (table ``flags``): items whose final label the model,
trained without them, strongly disagrees with (``alloop.loop.label_errors``), with the evidence.

A flag is open until a reviewer decides the item (an adjudication): the decision is final, the
flag is kept as cleared (who, when, which label) and the item is not flagged again. The trainer
replaces the open flags after each round; cleared ones stay for the record. The table is created
on first use, so a project from before it opens unchanged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from alloop.labelling.storage.store import LabelStore, now_iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS flags (
    pos INTEGER PRIMARY KEY REFERENCES items(pos), given TEXT NOT NULL, predicted TEXT NOT NULL,
    confidence REAL NOT NULL, model_version INTEGER NOT NULL, flagged_at TEXT NOT NULL,
    cleared_label TEXT, cleared_by INTEGER, cleared_at TEXT
)
"""
COLUMNS = (
    "pos, given, predicted, confidence, model_version, flagged_at, cleared_label, cleared_by, cleared_at"
)


@dataclass(frozen=True)
class Flag:
    """The model strongly disagrees with ``given``: it predicts ``predicted`` with probability
    ``confidence`` (out of fold: a model that never saw this item's label)."""

    pos: int
    given: str
    predicted: str
    confidence: float
    model_version: int
    flagged_at: str
    cleared_label: str | None = None
    """the reviewer's final label once decided (None: still open)"""
    cleared_by: int | None = None
    cleared_at: str | None = None

    @property
    def open(self) -> bool:
        return self.cleared_label is None


def _ensure(store: LabelStore) -> None:
    with store.transaction() as db:
        db.execute(SCHEMA)


def flags(store: LabelStore) -> dict[int, Flag]:
    """Every flag, open and cleared, by item position (none before the first is written: reads
    never write, so a read-only reader such as ``label-stats`` takes no write lock)."""
    try:
        rows = store._query(f"SELECT {COLUMNS} FROM flags ORDER BY pos")
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return {}
        raise
    return {int(r[0]): Flag(*r) for r in rows}


def open_flags(store: LabelStore) -> dict[int, Flag]:
    return {pos: f for pos, f in flags(store).items() if f.open}


def replace_open(store: LabelStore, found: Iterable[tuple[int, str, str, float]], version: int) -> None:
    """The trainer's latest suspects (position, given, predicted, confidence) become the open
    flags, in one transaction; an item a reviewer already decided keeps its cleared flag."""
    _ensure(store)
    stamp = now_iso()
    with store.transaction() as db:
        cleared = {int(r[0]) for r in db.execute("SELECT pos FROM flags WHERE cleared_label IS NOT NULL")}
        db.execute("DELETE FROM flags WHERE cleared_label IS NULL")
        db.executemany(
            f"INSERT INTO flags ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
            [
                (int(pos), given, predicted, float(p), int(version), stamp)
                for pos, given, predicted, p in found
                if int(pos) not in cleared
            ],
        )


def clear(store: LabelStore, pos: int, label: str, reviewer: int) -> bool:
    """Record a reviewer's decision on a flagged item; False when it had no open flag."""
    _ensure(store)
    with store.transaction() as db:
        changed = db.execute(
            "UPDATE flags SET cleared_label = ?, cleared_by = ?, cleared_at = ? "
            "WHERE pos = ? AND cleared_label IS NULL",
            (label, reviewer, now_iso(), pos),
        ).rowcount
    return bool(changed)
