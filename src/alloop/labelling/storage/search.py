"""Finding items by the words in their text, so an annotator can label a class on purpose.

SQLite's FTS5 full-text index over ``items.text`` (``items_fts``, an external-content table: the
text is not stored twice) ranks matches by BM25. It is built when a project is opened for the
first time by a version that searches, so projects made before search existed work unchanged;
items never change after a project is created, so the index is only rebuilt when the number of
items it was built for differs. Where this SQLite has no FTS5 the search falls back to a
``LIKE`` scan: every word must occur anywhere in the text (a substring, not only a word start;
ASCII case folded), in pool order; slower on a large pool.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass

from alloop.labelling.storage.store import LabelStore

MAX_QUERY_CHARS = 200
MAX_WORDS = 16
"""More words than this in one search are refused: each is one more index lookup."""
INDEX_META = "search_index"
WORD = re.compile(r"\w+", re.UNICODE)


class QueryError(ValueError):
    """A search text that cannot be run: empty, too long, or without a word."""


def query_words(text: str) -> list[str]:
    """The words of a search text (letters and digits; punctuation separates), lowercased.
    Raises ``QueryError`` with the one-line reason a person can act on."""
    if not text or not text.strip():
        raise QueryError("empty search: type one or more words of the item's text")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"search text too long: at most {MAX_QUERY_CHARS} characters, got {len(text):,}")
    words = list(dict.fromkeys(w.lower() for w in WORD.findall(text)))
    if not words:
        raise QueryError(f"no word to search for in {text.strip()[:40]!r}: use letters or digits")
    if len(words) > MAX_WORDS:
        raise QueryError(f"too many words: at most {MAX_WORDS} in one search, got {len(words)}")
    return words


@dataclass(frozen=True)
class Match:
    pos: int
    text: str


class SearchIndex:
    """Word search over a project's items; ``fts`` False forces the ``LIKE`` fallback."""

    def __init__(self, store: LabelStore, fts: bool = True):
        self.store = store
        self.fts = fts and self._ensure_index()

    def _ensure_index(self) -> bool:
        """Create and fill ``items_fts`` unless it matches the items; False without FTS5."""
        store = self.store
        n_items = int(store._query("SELECT COUNT(*) FROM items")[0][0])
        exists = store._query("SELECT 1 FROM sqlite_master WHERE name = 'items_fts'")
        if exists and store.get_meta(INDEX_META) == {"items": n_items}:
            return True
        try:
            with store.transaction() as db:
                db.execute("DROP TABLE IF EXISTS items_fts")
                db.execute(
                    "CREATE VIRTUAL TABLE items_fts USING fts5(text, content='items', "
                    "content_rowid='pos', tokenize='unicode61 remove_diacritics 2')"
                )
                db.execute("INSERT INTO items_fts (items_fts) VALUES ('rebuild')")
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)", (INDEX_META, json.dumps({"items": n_items}))
                )
        except sqlite3.OperationalError as exc:
            if "fts5" in str(exc).lower():
                return False  # this SQLite was built without FTS5: search with LIKE
            raise
        return True

    def search(self, text: str, limit: int) -> list[Match]:
        """Items holding every word of ``text`` (a word also matches as a prefix: "guitar"
        finds "guitars"), best first; at most ``limit``."""
        words = query_words(text)
        if self.fts:
            expression = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
            rows = self.store._query(
                "SELECT i.pos, i.text FROM items_fts JOIN items i ON i.pos = items_fts.rowid "
                "WHERE items_fts MATCH ? ORDER BY items_fts.rank, i.pos LIMIT ?",
                (expression, limit),
            )
        else:
            escaped = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words]
            where = " AND ".join("text LIKE ? ESCAPE '\\'" for _ in escaped)
            rows = self.store._query(
                f"SELECT pos, text FROM items WHERE {where} ORDER BY pos LIMIT ?",
                (*(f"%{w}%" for w in escaped), limit),
            )
        return [Match(int(pos), str(body)) for pos, body in rows]
