"""Copies of ``label.db`` made with SQLite's online backup API: a consistent snapshot taken
while the server keeps labelling (WAL lets it write meanwhile), checked with SQLite's own
``PRAGMA integrity_check`` before it is renamed into place.

``alloop backup`` makes one on request; ``LabelStore`` makes one by itself, beside ``label.db``,
before it upgrades the schema of a project made by an older alloop (docs/outputs.md#backup-and-restore).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alloop.errors import AlloopError
from alloop.failures import integrity, naming
from alloop.outputs import write_file


@dataclass(frozen=True)
class Backup:
    path: Path
    labels: int
    annotators: int


def _copy(source: Path, temp: Path) -> None:
    """The whole database as of one moment, into ``temp`` (one backup step holds one read
    snapshot: answers committed after it began are not in the copy, none before it is missing)."""
    with naming(source):
        src = sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True, timeout=30.0)
        try:
            dst = sqlite3.connect(temp)
            try:
                src.backup(dst, pages=-1)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            finally:
                dst.close()
        finally:
            src.close()
    verdict = integrity(temp)
    if verdict != "ok":
        raise AlloopError(
            f"the copy of {source} fails SQLite's integrity check ({verdict}); {source} itself may be "
            "damaged: run `sqlite3 FILE 'PRAGMA integrity_check'` on it"
        )


def _counts(path: Path) -> tuple[int, int]:
    db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        labels = db.execute("SELECT COUNT(*) FROM labels").fetchone()[0] if "labels" in tables else 0
        people = db.execute("SELECT COUNT(*) FROM annotators").fetchone()[0] if "annotators" in tables else 0
        return int(labels), int(people)
    finally:
        db.close()


def backup_database(source: Path, out: Path, option: str = "`out`") -> Backup:
    """Copy ``source`` to ``out`` (written beside and renamed into place; an existing ``out`` is
    replaced only when alloop wrote it and it is unchanged, ``alloop.outputs``)."""
    write_file(out, lambda temp: _copy(source, temp), option)
    labels, people = _counts(out)
    return Backup(out, labels, people)


def backup_before_upgrade(source: Path) -> Path:
    """A copy of ``source`` beside it, named for the moment, before its schema is changed."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    out = source.with_name(f"{source.stem}.before-upgrade-{stamp}.db")
    backup_database(source, out, "the copy before the upgrade")
    return out
