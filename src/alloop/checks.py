"""Checks on the paths and files a command is given, run before the command creates anything.

Each raises ``AlloopError`` with one line that names the option and the fix, so a refused command
leaves nothing behind (no half-made run folder, no empty project) and shows no traceback.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from alloop.errors import AlloopError, NotFoundError

SQLITE_MAGIC = b"SQLite format 3\x00"
TABLE_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def _nearest_existing(path: Path) -> Path:
    """The path itself or its closest ancestor that exists: where a create would start."""
    current = path.absolute()
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


def _check_creatable(path: Path, option: str) -> None:
    """Every missing folder up to ``path`` can be made: the closest existing ancestor is a
    writable folder (not a file, not a read-only place)."""
    base = _nearest_existing(path if path.is_dir() else path.parent)  # an existing file: its folder
    if not base.is_dir():
        raise AlloopError(f"{option} {path}: {base} is a file, not a folder; choose another {option}")
    try:  # os.access alone says yes to root on a read-only file system: try it
        if not os.access(base, os.W_OK | os.X_OK):
            raise PermissionError("permission denied")
        handle, probe = tempfile.mkstemp(prefix=".alloop-probe-", dir=base)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise AlloopError(
            f"{option} {path}: cannot write in {base} ({reason}); choose another place"
        ) from None


def check_output_dir(path: Path, option: str = "`out`") -> None:
    """A folder the command will create or write into."""
    if str(path).strip() == "":
        raise AlloopError(f"{option} is empty; give a folder")
    if path.exists() and not path.is_dir():
        raise AlloopError(f"{option} {path} is a file; give a folder (it is created if missing)")
    _check_creatable(path, option)


def check_output_file(path: Path, option: str = "`out`") -> None:
    """A file the command will write (its folder is created if missing)."""
    if str(path).strip() == "" or path.name == "":
        raise AlloopError(f"{option} is empty; give a file name such as labels.parquet")
    if path.is_dir():
        raise AlloopError(f"{option} {path} is a folder; give a file name such as {path / 'labels.parquet'}")
    if path.exists() and not os.access(path, os.W_OK):
        raise AlloopError(f"{option} {path}: the file is not writable; choose another {option}")
    _check_creatable(path, option)


def check_input_file(path: Path, option: str) -> None:
    """A file the command will read."""
    if not path.exists():
        raise NotFoundError(f"{option} {path} not found")
    if path.is_dir():
        raise AlloopError(f"{option} {path} is a folder; give a file")
    if not os.access(path, os.R_OK):
        raise AlloopError(f"{option} {path} is not readable (permission denied)")


def table_format(out: Path, fmt: str | None, formats: tuple[str, ...]) -> str:
    """The format to write ``out`` in: ``--format`` or the file's suffix; the two must agree, so
    CSV never lands in a file named ``.parquet``."""
    from_suffix = TABLE_SUFFIXES.get(out.suffix.lower())
    chosen = fmt or from_suffix or out.suffix.lower().lstrip(".")
    if chosen not in formats:
        shown = repr(chosen) if chosen else "(no suffix)"
        raise AlloopError(
            f"unknown table format {shown} for {out}; use `format` {' or `format` '.join(formats)} "
            "or a .parquet/.csv file name"
        )
    if fmt is not None and from_suffix is not None and from_suffix != fmt:
        raise AlloopError(
            f"`format` {fmt} contradicts the file name {out.name}; name it {out.with_suffix('.' + fmt).name} "
            f"or use `format` {from_suffix}"
        )
    return chosen


def check_sqlite(path: Path, made_by: str) -> None:
    """``path`` (an existing ``results.db`` or ``label.db``) is a whole, readable SQLite file.

    A file of another kind, one cut short (its header counts more pages than it holds), or one
    SQLite cannot read is refused by name instead of failing later inside a query."""
    hint = f"it is damaged or was not written by {made_by}; restore it from a copy or start afresh"
    if path.is_dir():
        raise AlloopError(f"{path} is a folder, not a database file")
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
        size = path.stat().st_size
    except OSError as exc:
        raise AlloopError(f"cannot read {path}: {exc.strerror or exc}") from None
    if size == 0:
        raise AlloopError(f"{path} is empty; {hint}")
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise AlloopError(f"{path} is not an SQLite database; {hint}")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid_count = header[24:28] == header[92:96] and pages > 0
    wal = path.with_name(path.name + "-wal")
    wal_pending = wal.exists() and wal.stat().st_size > 0  # pages may live in the WAL until a checkpoint
    if valid_count and not wal_pending and size < pages * page_size:
        raise AlloopError(f"{path} is truncated ({size:,} of {pages * page_size:,} bytes); {hint}")
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            db.execute("SELECT name FROM sqlite_master").fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:  # damaged only if SQLite's integrity check says so
        from alloop.failures import explain_sqlite_error

        raise (explain_sqlite_error(exc, path) or AlloopError(f"cannot read {path}: {exc}")) from None
