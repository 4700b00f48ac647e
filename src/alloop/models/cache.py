"""An on-disk cache of frozen embeddings, keyed by model and text hash.

Embedding the pool is the one slow step of ``bert-frozen`` (tens of seconds for thousands of
titles on a CPU); with this cache each title is embedded once per model, across cycles,
strategies, seeds, runs and processes. Vectors are stored as float16 (768 bytes for 384 dims):
the encoder rounds fresh vectors the same way, so a run reads exactly the numbers it would have
computed, whether the cache was warm or cold.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from alloop.errors import AlloopError

SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    model TEXT NOT NULL, hash BLOB NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, hash)
) WITHOUT ROWID;
"""
_CHUNK = 900  # SQLite's default limit on host parameters is 999


def default_cache_dir() -> Path:
    """``$ALLOOP_CACHE_DIR``, else ``$XDG_CACHE_HOME/alloop``, else ``~/.cache/alloop``."""
    if os.environ.get("ALLOOP_CACHE_DIR"):
        return Path(os.environ["ALLOOP_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "alloop"


def text_hash(text: str) -> bytes:
    """16 bytes of BLAKE2b: collisions are negligible even for billions of titles."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def model_key(name: str, *parts: object) -> str:
    """Identify a model's embeddings: its id or folder, plus everything that changes the vectors.

    For a local folder the names, sizes and modification times of its files are included, so
    weights saved again to the same path get a fresh key instead of stale vectors.
    """
    fields = [name, *map(str, parts)]
    path = Path(name)
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            stat = file.stat()
            fields.append(f"{file.relative_to(path)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(fields).encode()).hexdigest()[:32]


class EmbeddingCache:
    """float16 vectors of one model in ``<folder>/embeddings.sqlite`` (WAL, safe across processes)."""

    def __init__(self, folder: str | Path, key: str, dim: int):
        self.path = Path(folder) / "embeddings.sqlite"
        self.key = key
        self.dim = dim
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise AlloopError(
                f"cannot use the embedding cache at {self.path}: {exc}; "
                "pass `cache_dir` elsewhere or `no_cache`"
            ) from exc

    def get(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(found, vectors): a mask over ``texts`` and the float16 vectors of the found ones."""
        hashes = [text_hash(t) for t in texts]
        stored: dict[bytes, bytes] = {}
        for start in range(0, len(hashes), _CHUNK):
            chunk = hashes[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT hash, vector FROM vectors WHERE model = ? AND hash IN ({marks})", [self.key, *chunk]
            )
            stored.update(rows)
        found = np.array([h in stored for h in hashes], dtype=bool)
        vectors = np.empty((int(found.sum()), self.dim), dtype=np.float16)
        for row, h in enumerate(h for h in hashes if h in stored):
            vectors[row] = np.frombuffer(stored[h], dtype=np.float16)
        return found, vectors

    def put(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store float16 vectors, one transaction per call (a killed process loses at most it)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float16)
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                ((self.key, text_hash(t), v.tobytes()) for t, v in zip(texts, vectors, strict=True)),
            )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM vectors WHERE model = ?", [self.key]).fetchone()[0])

    def close(self) -> None:
        self._db.close()
