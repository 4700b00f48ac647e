"""The real cause of a failed read or write, in one line: a read-only file system, a read-only
file or folder, permission denied, no space left, a locked database, or a damaged one.

A database is called damaged only when SQLite's own ``PRAGMA integrity_check`` says so: a
read-only or full disk makes SQLite fail too, and telling the user to restore a backup they do
not need would be wrong. ``connect`` opens SQLite files whose environment errors arrive already
translated (as ``StorageError``), with the file's name; errors of alloop's own SQL pass through.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alloop.errors import StorageError

READ_ONLY_FS = "the file system is read-only; copy the folder to a writable place or mount it read-write"
NO_SPACE = "no space left on the device; free some space and try again"
# SQLite's primary result codes (https://sqlite.org/rescode.html) this module tells apart
SQLITE_PERM, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY = 3, 5, 6, 8
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 10, 11, 13, 14, 26
PLACE_CODES = {SQLITE_PERM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN}
"""Codes whose cause lies in the file's place (read-only, permissions, space) or in damage."""
OS_CODES = {
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.ENOSPC,
    errno.EDQUOT,
    errno.ENAMETOOLONG,
    errno.ENOTDIR,
    errno.ELOOP,
}


def _existing(path: Path) -> Path:
    current = path.absolute()
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


def read_only_fs(path: Path) -> bool:
    """``path`` (or where it would be made) lies on a file system mounted read-only."""
    try:
        return bool(os.statvfs(_existing(path)).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def disk_full(path: Path) -> bool:
    try:
        return os.statvfs(_existing(path)).f_bavail == 0
    except OSError:
        return False


def explain_os_error(exc: OSError, path: Path | str | None = None) -> StorageError | None:
    """One line for an ``OSError`` the user can fix (read-only, permission, space, a name too
    long, a file where a folder should be); None for any other, which surfaces as it is."""
    if exc.errno not in OS_CODES:
        return None
    where = path if path is not None else exc.filename
    name = f" {where}" if where not in (None, "") else ""
    if name and Path(str(where)).name.startswith(".") and not Path(str(where)).exists():
        name = f" in {Path(str(where)).parent}"  # alloop's temporary file: its folder is what matters
    if exc.errno == errno.EROFS:
        return StorageError(f"cannot write{name}: {READ_ONLY_FS}")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageError(f"cannot write{name}: {NO_SPACE}")
    if exc.errno == errno.ENAMETOOLONG:
        return StorageError(
            f"cannot use{name}: the name is too long for the file system; choose a shorter one"
        )
    if exc.errno == errno.ENOTDIR:
        return StorageError(f"cannot use{name}: a part of the path is a file, not a folder")
    if exc.errno == errno.ELOOP:
        return StorageError(f"cannot use{name}: too many symbolic links (a loop?)")
    return StorageError(
        f"cannot write{name}: permission denied; change its permissions or choose another place"
    )


def integrity(path: Path) -> str:
    """SQLite's own verdict on ``path``: ``"ok"``, or its first complaint. Read-only (immutable
    when the place cannot take SQLite's lock files), so it never changes the file."""
    uri = path.absolute().as_uri()
    last: sqlite3.Error | None = None
    for query in ("mode=ro", "mode=ro&immutable=1"):
        try:
            db = sqlite3.connect(f"{uri}?{query}", uri=True)
            try:
                rows = db.execute("PRAGMA integrity_check").fetchall()
            finally:
                db.close()
            return str(rows[0][0]) if rows else "ok"
        except sqlite3.DatabaseError as exc:
            last = exc
            if _code(exc) in (SQLITE_CORRUPT, SQLITE_NOTADB):
                return str(exc)
    return f"cannot be checked ({last})"


def _code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # an error raised by Python's sqlite3 module itself, or a test's stand-in
        text = str(exc).lower()
        for needle, guess in (
            ("readonly", SQLITE_READONLY),
            ("locked", SQLITE_BUSY),
            ("disk is full", SQLITE_FULL),
            ("unable to open", SQLITE_CANTOPEN),
            ("disk i/o", SQLITE_IOERR),
            ("malformed", SQLITE_CORRUPT),
            ("not a database", SQLITE_NOTADB),
        ):
            if needle in text:
                return guess
        return None
    return int(code) & 0xFF


def explain_sqlite_error(exc: sqlite3.Error, path: Path) -> StorageError | None:
    """One line naming why SQLite failed on ``path``, or None for an error of alloop's own SQL
    (a constraint, a missing table), which callers handle or report as a bug."""
    code = _code(exc)
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return StorageError(
            f"{path} is locked by another program (another alloop command, or a tool holding it open); "
            "try again when it has finished"
        )
    if code == SQLITE_FULL:
        return StorageError(f"cannot write {path}: {NO_SPACE}")
    if code in PLACE_CODES:
        found = _place_problem(path)
        if found is not None:
            return StorageError(found)
    if code in PLACE_CODES or code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        if not path.exists():
            return StorageError(f"cannot open {path}: {exc}")
        verdict = integrity(path)
        if verdict != "ok" and not verdict.startswith("cannot be checked"):
            return StorageError(
                f"{path} is damaged (SQLite's integrity check: {verdict.splitlines()[0]}); "
                "restore it from a copy (see `alloop backup`) or start afresh"
            )
        return StorageError(f"cannot use {path}: {exc} (SQLite's integrity check finds the file whole)")
    return None


def _place_problem(path: Path) -> str | None:
    """What about the file's place stops SQLite writing it, if anything can be seen."""
    if read_only_fs(path):
        return f"cannot write {path}: {READ_ONLY_FS}"
    folder = path.parent if path.parent != Path("") else Path(".")
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if each.exists() and not os.access(each, os.W_OK):
            return f"cannot write {each}: the file is read-only; make it writable (chmod u+w) or copy it"
    if folder.exists() and not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"cannot write in {folder}: permission denied (SQLite keeps its journal beside {path.name}); "
            "make the folder writable or copy it"
        )
    if disk_full(path):
        return f"cannot write {path}: {NO_SPACE}"
    return None


@contextmanager
def naming(path: Path) -> Iterator[None]:
    """SQLite errors of the environment inside become ``StorageError`` naming ``path``; errors of
    alloop's own SQL (constraints, syntax) pass unchanged."""
    try:
        yield
    except sqlite3.Error as exc:
        found = explain_sqlite_error(exc, path)
        if found is None:
            raise
        raise found from exc


class Cursor(sqlite3.Cursor):
    """A cursor of ``Connection``: a damaged page met while fetching is named too."""

    def _path(self) -> Path:
        return self.connection.path  # type: ignore[attr-defined,no-any-return]

    def execute(self, *args: Any, **kwargs: Any) -> Cursor:
        with naming(self._path()):
            return super().execute(*args, **kwargs)

    def executemany(self, *args: Any, **kwargs: Any) -> Cursor:
        with naming(self._path()):
            return super().executemany(*args, **kwargs)

    def fetchone(self) -> Any:
        with naming(self._path()):
            return super().fetchone()

    def fetchmany(self, *args: Any, **kwargs: Any) -> list[Any]:
        with naming(self._path()):
            return super().fetchmany(*args, **kwargs)

    def fetchall(self) -> list[Any]:
        with naming(self._path()):
            return super().fetchall()

    def __next__(self) -> Any:
        try:  # per row: no context manager on this path
            return super().__next__()
        except sqlite3.Error as exc:
            found = explain_sqlite_error(exc, self._path())
            if found is None:
                raise
            raise found from exc


class Connection(sqlite3.Connection):
    """An SQLite connection whose environment errors name the file and their cause."""

    path: Path

    def cursor(self, factory: Any = Cursor) -> Any:
        return super().cursor(factory)

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        return self.cursor().execute(*args, **kwargs)

    def executemany(self, *args: Any, **kwargs: Any) -> Any:
        return self.cursor().executemany(*args, **kwargs)

    def executescript(self, *args: Any, **kwargs: Any) -> Any:
        with naming(self.path):
            return super().executescript(*args, **kwargs)

    def commit(self) -> None:
        with naming(self.path):
            super().commit()

    def __exit__(self, *args: Any) -> Any:
        with naming(self.path):
            return super().__exit__(*args)


def connect(path: Path, **kwargs: Any) -> Connection:
    """``sqlite3.connect`` for alloop's own files, with errors that say what went wrong."""
    with naming(path):
        db = sqlite3.connect(path, factory=Connection, **kwargs)
    assert isinstance(db, Connection)
    db.path = path
    return db
