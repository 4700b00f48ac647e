"""The labelling project's SQLite file, ``label.db`` (WAL, ``synchronous=FULL``).

Every write is one transaction that is committed before the caller returns, so an API answer is
only sent for a label that is on disk: a ``kill -9`` at any moment loses no acknowledged label.
One connection is shared by the server's threads behind a lock; other processes (``alloop
annotators add`` while the server runs) open their own, which WAL allows.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alloop.checks import check_output_dir, check_sqlite
from alloop.errors import AlloopError
from alloop.failures import connect
from alloop.labelling.config import LabelConfig

DB_NAME = "label.db"
STATUSES = ("label", "skip", "unsure")
ROLES = ("annotator", "reviewer")
SOURCES = ("queue", "search", "import", "group")
"""Where a label came from: the handed-out queue, the page's search box, `alloop import-labels`."""
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    pos INTEGER PRIMARY KEY, item_id TEXT NOT NULL UNIQUE, text TEXT NOT NULL,
    fields TEXT NOT NULL, gold TEXT
);
CREATE TABLE IF NOT EXISTS annotators (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
    token_sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS assignments (
    pos INTEGER NOT NULL REFERENCES items(pos), annotator INTEGER NOT NULL REFERENCES annotators(id),
    handed_at REAL NOT NULL, PRIMARY KEY (pos, annotator)
);
CREATE TABLE IF NOT EXISTS labels (
    pos INTEGER NOT NULL REFERENCES items(pos), annotator INTEGER NOT NULL REFERENCES annotators(id),
    status TEXT NOT NULL CHECK (status IN ('label', 'skip', 'unsure')), label TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (pos, annotator)
);
CREATE INDEX IF NOT EXISTS labels_by_seq ON labels (annotator, seq);
CREATE INDEX IF NOT EXISTS labels_by_global_seq ON labels (seq);
CREATE TABLE IF NOT EXISTS shown (
    pos INTEGER PRIMARY KEY REFERENCES items(pos), fields TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS adjudications (
    pos INTEGER PRIMARY KEY REFERENCES items(pos), label TEXT NOT NULL,
    reviewer INTEGER NOT NULL REFERENCES annotators(id), decided_at TEXT NOT NULL, seq INTEGER NOT NULL
);
"""
COLUMNS: dict[str, dict[str, str]] = {
    "annotators": {"role": "TEXT NOT NULL DEFAULT 'annotator'"},
    # suggest: the model's suggestion recorded when the item is handed out (what the page shows)
    "assignments": {"suggestion": "TEXT", "suggestion_p": "REAL"},
    "labels": {
        "source": "TEXT NOT NULL DEFAULT 'queue'",
        "suggestion": "TEXT",
        "suggestion_p": "REAL",
    },
}
"""Columns added after the first release: created on a new project, added to an older
``label.db`` when it is opened (``ALTER TABLE ... ADD COLUMN``), so old projects keep working."""
SCHEMA_TABLES = tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA))
LABEL_COLUMNS = "pos, annotator, status, label, created_at, updated_at, seq, source, suggestion, suggestion_p"
ASSIGNMENT_COLUMNS = "pos, annotator, handed_at, suggestion, suggestion_p"


@dataclass(frozen=True)
class Annotator:
    id: int
    name: str
    role: str = "annotator"
    """``annotator`` sees only their own answers; ``reviewer`` sees everyone's and adjudicates"""


@dataclass(frozen=True)
class LabelRow:
    """One annotator's answer on one item; ``label`` is None for a skip or an unsure."""

    pos: int
    annotator: int
    status: str
    label: str | None
    created_at: str
    updated_at: str
    seq: int
    source: str = "queue"
    suggestion: str | None = None
    """the model's suggested label shown with the item when it was answered (None: none shown)"""
    suggestion_p: float | None = None


@dataclass(frozen=True)
class Adjudication:
    """A reviewer's final label for an item; it overrides the annotators' vote."""

    pos: int
    label: str
    reviewer: int
    decided_at: str
    seq: int


@dataclass(frozen=True)
class Items:
    """The items to label, by position ``pos`` (0..n-1): ids as the user knows them, the text the
    model sees, the fields the page shows, and the optional gold label."""

    ids: list[str]
    texts: list[str]
    fields: list[dict[str, str]]
    gold: list[str | None]

    def __len__(self) -> int:
        return len(self.ids)


def hash_token(token: str) -> str:
    """Tokens are kept only as SHA-256: a leaked label.db gives no one a login."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_annotator_name(name: str) -> str:
    """The name as stored (stripped); refused unless 1 to 64 characters on one line."""
    name = name.strip()
    if not name or len(name) > 64 or any(c in name for c in "\r\n\t"):
        raise AlloopError("an annotator name must be 1 to 64 characters on one line")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AlloopError(f"unknown role {role!r}; use {' or '.join(ROLES)}")
    return role


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class LabelStore:
    """Typed access to ``label.db``."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.RLock()
        self.db = connect(path, check_same_thread=False, timeout=30.0, isolation_level=None)
        self.db.execute("PRAGMA busy_timeout=30000")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a commit survives a crash of the machine too
        self.db.execute("PRAGMA foreign_keys=ON")
        self.upgrade_backup: Path | None = None
        """the copy of ``label.db`` taken before this open upgraded an older project's schema"""
        if self._older_schema():
            from alloop.labelling.storage.backup import backup_before_upgrade

            self.upgrade_backup = backup_before_upgrade(path)
        with self.transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            for table, columns in COLUMNS.items():
                have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
                for name, declaration in columns.items():
                    if name not in have:
                        self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")

    def _older_schema(self) -> bool:
        """``label.db`` was made by an older alloop: it has alloop's tables but lacks a table or
        a column this version adds (a new, empty file is no older project)."""
        tables = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" not in tables:
            return False
        if any(name not in tables for name in SCHEMA_TABLES):
            return True
        for table, columns in COLUMNS.items():
            have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            if any(name not in have for name in columns):
                return True
        return False

    @classmethod
    def open(cls, project: Path, create: bool = False) -> LabelStore:
        path = project / DB_NAME
        if path.exists():
            check_sqlite(path, "`alloop label`")
        else:
            check_output_dir(project, "`project`")
            if not create:
                raise AlloopError(
                    f"no {DB_NAME} in {project}; start the project first with "
                    "`alloop label --project DIR --data FILE --labels ...`"
                )
            project.mkdir(parents=True, exist_ok=True)
        return cls(path)

    def close(self) -> None:
        with self._lock:
            self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT under the lock: the write lock is taken up front, so two
        processes never deadlock upgrading a read to a write; COMMIT returns once on disk."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    @staticmethod
    def next_seq(db: sqlite3.Connection, table: str) -> int:
        """The next sequence number of ``table`` (labels, adjudications), kept in ``meta`` so it
        never goes back, even after the latest row is undone; call inside a transaction. The
        table's own maximum covers projects from before the counter existed."""
        key = f"seq:{table}"
        stored = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        highest = db.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {table}").fetchone()[0]
        seq = max(int(json.loads(stored[0])) if stored else 0, int(highest)) + 1
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(seq)))
        return seq

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self.db.execute(sql, args).fetchall()

    # -- project ------------------------------------------------------------------------------
    def config(self) -> LabelConfig | None:
        rows = self._query("SELECT value FROM meta WHERE key = 'config'")
        return LabelConfig.from_json(json.loads(rows[0][0])) if rows else None

    def save_config(self, config: LabelConfig) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('config', ?)", (json.dumps(config.to_json()),))

    def create(self, config: LabelConfig, items: Items) -> None:
        """The items and the config in one transaction: a project is either complete or absent."""
        with self.transaction() as db:
            if db.execute("SELECT COUNT(*) FROM items").fetchone()[0]:
                raise AlloopError(f"{self.path} already holds items")
            db.executemany(
                "INSERT INTO items VALUES (?, ?, ?, ?, ?)",
                [
                    (pos, items.ids[pos], items.texts[pos], json.dumps(items.fields[pos]), items.gold[pos])
                    for pos in range(len(items))
                ],
            )
            db.execute("INSERT OR REPLACE INTO meta VALUES ('config', ?)", (json.dumps(config.to_json()),))

    def put_meta(self, key: str, value: object) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def get_meta(self, key: str, default: object = None) -> Any:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def items(self) -> Items:
        rows = self._query("SELECT item_id, text, fields, gold FROM items ORDER BY pos")
        return Items(
            ids=[r[0] for r in rows],
            texts=[r[1] for r in rows],
            fields=[json.loads(r[2]) for r in rows],
            gold=[r[3] for r in rows],
        )

    def shown(self) -> list[dict[str, str]]:
        """The ``--show`` columns' values by position (table ``shown``; empty dicts where none)."""
        out: list[dict[str, str]] = [{} for _ in range(self._query("SELECT COUNT(*) FROM items")[0][0])]
        for pos, fields in self._query("SELECT pos, fields FROM shown"):
            out[int(pos)] = json.loads(fields)
        return out

    def set_shown(self, columns: Sequence[str], values: Sequence[dict[str, str]]) -> None:
        """Store the ``--show`` columns' values (one dict per position) and which columns they
        are (meta ``shown_columns``), in one transaction."""
        with self.transaction() as db:
            db.execute("DELETE FROM shown")
            db.executemany(
                "INSERT INTO shown VALUES (?, ?)", [(pos, json.dumps(v)) for pos, v in enumerate(values) if v]
            )
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('shown_columns', ?)", (json.dumps(list(columns)),)
            )

    # -- annotators ---------------------------------------------------------------------------
    def add_annotator(self, name: str, role: str = "annotator") -> str:
        """Create an annotator; returns the token, which is shown once and never stored."""
        name = check_annotator_name(name)
        check_role(role)
        token = secrets.token_urlsafe(24)
        try:
            with self.transaction() as db:
                db.execute(
                    "INSERT INTO annotators (name, token_sha256, created_at, role) VALUES (?, ?, ?, ?)",
                    (name, hash_token(token), now_iso(), role),
                )
        except sqlite3.IntegrityError:
            raise AlloopError(f"annotator {name!r} already exists in this project") from None
        return token

    def set_role(self, name: str, role: str) -> None:
        """Change a role; a running server reads it on the person's next request."""
        check_role(role)
        with self.transaction() as db:
            update = db.execute("UPDATE annotators SET role = ? WHERE name = ?", (role, name.strip()))
            changed = update.rowcount
        if not changed:
            raise AlloopError(
                f"no annotator {name.strip()!r} in this project; `alloop annotators list --project DIR` "
                "shows them"
            )

    def annotator_for_token(self, token: str) -> Annotator | None:
        rows = self._query(
            "SELECT id, name, role FROM annotators WHERE token_sha256 = ?", (hash_token(token),)
        )
        return Annotator(*rows[0]) if rows else None

    def annotators(self) -> list[Annotator]:
        return [Annotator(*r) for r in self._query("SELECT id, name, role FROM annotators ORDER BY id")]

    # -- assignments --------------------------------------------------------------------------
    def active_assignments(self, since: float) -> dict[int, int]:
        """Items handed out after ``since`` (epoch seconds): position -> annotator."""
        rows = self._query("SELECT pos, annotator FROM assignments WHERE handed_at >= ?", (since,))
        return {int(p): int(a) for p, a in rows}

    def assignment_of(self, annotator: int, since: float) -> int | None:
        rows = self._query(
            "SELECT pos FROM assignments WHERE annotator = ? AND handed_at >= ? "
            "ORDER BY handed_at DESC LIMIT 1",
            (annotator, since),
        )
        return int(rows[0][0]) if rows else None

    def assign(
        self, pos: int, annotator: int, *, suggestion: str | None = None, suggestion_p: float | None = None
    ) -> None:
        """Hand ``pos`` to ``annotator``: an annotator holds one item at a time. ``suggestion`` is
        the model's label shown with it, kept so the answer records what was really shown."""
        with self.transaction() as db:
            db.execute("DELETE FROM assignments WHERE annotator = ?", (annotator,))
            db.execute(
                f"INSERT OR REPLACE INTO assignments ({ASSIGNMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (pos, annotator, time.time(), suggestion, suggestion_p),
            )

    def handed(self, pos: int, annotator: int) -> tuple[str | None, float | None] | None:
        """The suggestion recorded when ``pos`` was handed to ``annotator`` (both None when none
        was shown); None when the item is not handed to them."""
        rows = self._query(
            "SELECT suggestion, suggestion_p FROM assignments WHERE pos = ? AND annotator = ?",
            (pos, annotator),
        )
        return (rows[0][0], rows[0][1]) if rows else None

    # -- labels -------------------------------------------------------------------------------
    def put_label(
        self,
        pos: int,
        annotator: int,
        status: str,
        label: str | None,
        *,
        source: str = "queue",
        suggestion: str | None = None,
        suggestion_p: float | None = None,
    ) -> LabelRow:
        """Insert or replace this annotator's answer on ``pos`` and release the assignment, in
        one committed transaction. Unique per (item, annotator): a retried POST or an edit
        updates the row, never adds a second one. An edit keeps the answer's ``source``, where it
        was first given (an item found by search and later corrected in the recent list stays
        ``search``)."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}")
        stamp = now_iso()
        with self.transaction() as db:
            seq = self.next_seq(db, "labels")
            db.execute(
                f"INSERT INTO labels ({LABEL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (pos, annotator) DO UPDATE "
                "SET status = excluded.status, label = excluded.label, updated_at = excluded.updated_at, "
                "seq = excluded.seq, suggestion = excluded.suggestion, "
                "suggestion_p = excluded.suggestion_p",
                (pos, annotator, status, label, stamp, stamp, seq, source, suggestion, suggestion_p),
            )
            db.execute("DELETE FROM assignments WHERE pos = ? AND annotator = ?", (pos, annotator))
            row = db.execute(
                f"SELECT {LABEL_COLUMNS} FROM labels WHERE pos = ? AND annotator = ?", (pos, annotator)
            ).fetchone()
        return LabelRow(*row)

    def undo_last(self, annotator: int) -> LabelRow | None:
        """Delete the annotator's latest answer and hand the item back to them."""
        with self.transaction() as db:
            row = db.execute(
                f"SELECT {LABEL_COLUMNS} FROM labels WHERE annotator = ? ORDER BY seq DESC LIMIT 1",
                (annotator,),
            ).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM labels WHERE pos = ? AND annotator = ?", (row[0], annotator))
            db.execute("DELETE FROM assignments WHERE annotator = ?", (annotator,))
            db.execute(  # handed back with the suggestion it was answered with
                f"INSERT OR REPLACE INTO assignments ({ASSIGNMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (row[0], annotator, time.time(), row[8], row[9]),
            )
        return LabelRow(*row)

    def label_rows(self) -> list[LabelRow]:
        return [LabelRow(*r) for r in self._query(f"SELECT {LABEL_COLUMNS} FROM labels ORDER BY seq")]

    def label_of(self, pos: int, annotator: int) -> LabelRow | None:
        rows = self._query(
            f"SELECT {LABEL_COLUMNS} FROM labels WHERE pos = ? AND annotator = ?", (pos, annotator)
        )
        return LabelRow(*rows[0]) if rows else None

    def recent(self, annotator: int, limit: int) -> list[LabelRow]:
        rows = self._query(
            f"SELECT {LABEL_COLUMNS} FROM labels WHERE annotator = ? ORDER BY seq DESC LIMIT ?",
            (annotator, limit),
        )
        return [LabelRow(*r) for r in rows]

    def count_labels(self) -> int:
        """Answers with a class (not skips or unsures): what drives retraining."""
        return int(self._query("SELECT COUNT(*) FROM labels WHERE status = 'label'")[0][0])

    def count_adjudications(self) -> int:
        """A reviewer's decision changes the training set too, so it counts towards a retrain."""
        return int(self._query("SELECT COUNT(*) FROM adjudications")[0][0])

    # -- adjudications ------------------------------------------------------------------------
    def adjudicate(self, pos: int, reviewer: int, label: str) -> Adjudication:
        """Set (or change) the final label of ``pos``, committed before returning."""
        stamp = now_iso()
        with self.transaction() as db:
            seq = self.next_seq(db, "adjudications")
            db.execute(
                "INSERT OR REPLACE INTO adjudications VALUES (?, ?, ?, ?, ?)",
                (pos, label, reviewer, stamp, seq),
            )
        return Adjudication(pos, label, reviewer, stamp, seq)

    def adjudications(self) -> dict[int, Adjudication]:
        rows = self._query("SELECT pos, label, reviewer, decided_at, seq FROM adjudications ORDER BY seq")
        return {int(r[0]): Adjudication(*r) for r in rows}
