"""``alloop import-labels``: seed a project with labels people already have.

In a project whose labels are category paths, a label is a path (levels joined with `` > ``), a
leaf's or, for a partial label, a category's above the leaves.

A table (CSV, Parquet, JSONL) with an id column and a label column, or a Label Studio JSON
export (the label of each task read from its annotations). Every row is checked first; one bad
row refuses the whole file, each bad row named with its reason, and nothing is written. A good
file is written in one transaction as one annotator's answers (``--annotator``, by default
"import"), with source ``import``. Importing the same file again changes nothing.
"""

from __future__ import annotations

import json
import math
import secrets
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from alloop.checks import check_input_file
from alloop.data.sources import read_splits
from alloop.data.taxonomy import DISPLAY_SEP, split_path
from alloop.errors import AlloopError, NotFoundError
from alloop.labelling.domain.tree import LabelTree
from alloop.labelling.interop import label_studio
from alloop.labelling.storage.store import LabelStore, check_annotator_name, hash_token, now_iso

DEFAULT_ANNOTATOR = "import"
MAX_SHOWN = 20
"""Bad rows named one by one; the rest are counted."""
TABLE_SUFFIXES = {
    ".csv": "line",
    ".tsv": "line",
    ".jsonl": "line",
    ".ndjson": "line",
    ".parquet": "row",
    ".pq": "row",
}
"""Readable tables, and what a position in each is called (a CSV's header is line 1)."""
LABEL_STUDIO_SUFFIX = ".json"


class ImportRefused(AlloopError):
    """Bad rows: ``lines`` name up to ``MAX_SHOWN`` of them (one each); the message sums up."""

    def __init__(self, message: str, lines: list[str]):
        super().__init__(message)
        self.lines = lines


@dataclass(frozen=True)
class Row:
    where: str
    """how a person finds the row in the file: "line 7", "row 7", "task 7" """
    item_id: object
    label: object
    problem: str | None = None


@dataclass
class ImportResult:
    annotator: str
    new_annotator: bool
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    left_out: Counter[str] = field(default_factory=Counter)
    """Label Studio tasks that give no label, by reason (no answer, tied answers)"""


def read_rows(path: Path, id_column: str, label_column: str) -> tuple[list[Row], Counter[str]]:
    """The file's rows as (where, id, label); Label Studio tasks without a label are counted."""
    check_input_file(path, "`file`")
    suffix = path.suffix.lower()
    if suffix == LABEL_STUDIO_SUFFIX:
        return _label_studio_rows(path, id_column, label_column)
    if suffix not in TABLE_SUFFIXES:
        raise AlloopError(
            f"unreadable format {suffix or '(none)'!r} for `file` {path}; use .csv, .parquet or .jsonl "
            "(one row per item), or .json (a Label Studio export)"
        )
    frame = read_splits(str(path))["all"]
    for option, column in (("`id_column`", id_column), ("`label_column`", label_column)):
        if column not in frame.columns:
            have = ", ".join(map(str, frame.columns[:12]))
            raise NotFoundError(f"{option} column {column!r} not found in {path}; it has: {have}")
    if frame.empty:
        raise AlloopError(f"{path} has no rows to import (only a header?)")
    unit = TABLE_SUFFIXES[suffix]
    first = 2 if suffix in (".csv", ".tsv") else 1
    rows = [
        Row(f"{unit} {first + i}", item_id, label)
        for i, (item_id, label) in enumerate(
            zip(frame[id_column].tolist(), frame[label_column].tolist(), strict=True)
        )
    ]
    return rows, Counter()


def _label_studio_rows(path: Path, id_key: str, from_name: str) -> tuple[list[Row], Counter[str]]:
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        first = str(exc).splitlines()[0]
        raise AlloopError(f"cannot read {path} as a Label Studio JSON export: {first}") from None
    if isinstance(tasks, dict):
        tasks = [tasks]  # Label Studio takes a single task object too
    if not isinstance(tasks, list) or not tasks:
        raise AlloopError(f"{path} holds no Label Studio tasks; expected a JSON list of tasks")
    rows: list[Row] = []
    left_out: Counter[str] = Counter()
    for i, task in enumerate(tasks):
        got = label_studio.task_label(task, id_key, from_name)
        if got.problem is not None:
            rows.append(Row(f"task {i + 1}", got.item_id, None, got.problem))
        elif got.label is None:
            left_out[got.note or "no answer"] += 1
        else:
            rows.append(Row(f"task {i + 1}", got.item_id, got.label))
    return rows, left_out


def validate(rows: list[Row], ids: list[str], labels: tuple[str, ...]) -> tuple[dict[int, str], list[str]]:
    """Item position -> label for the good rows, and one message per bad row: an unknown id, a
    label outside the label set, an empty id or label, an id given twice with different labels.
    The same id twice with the same label is one label."""
    position = {item_id: pos for pos, item_id in enumerate(ids)}
    tree = LabelTree.of(labels)
    label_set = set(labels) | (tree.partial_nodes if tree is not None else set())
    """a tree also takes a category above the leaves: a partial label"""
    folded = {label.casefold(): label for label in labels}
    chosen: dict[int, str] = {}
    first_seen: dict[int, str] = {}
    bad: list[str] = []
    for row in rows:
        if row.problem is not None:
            bad.append(f"{row.where}: {row.problem}")
            continue
        item_id, label = _text(row.item_id, strip=False), _text(row.label)
        if tree is not None and label is not None:  # "A>B", "A > B " and "A > B" are one path
            label = DISPLAY_SEP.join(split_path(label, DISPLAY_SEP))
        if item_id is None:
            bad.append(f"{row.where}: empty id")
            continue
        pos = position.get(item_id)
        if pos is None:
            bad.append(f"{row.where}: id {_short(item_id)} is not an item of this project")
            continue
        if label is None:
            bad.append(f"{row.where}: empty label for id {_short(item_id)}")
            continue
        if label not in label_set:
            near = folded.get(label.casefold())
            hint = f"did you mean {near!r}?" if near else f"the labels are {_some(labels)}"
            bad.append(f"{row.where}: label {_short(label)} is not in the project's label set ({hint})")
            continue
        if pos in chosen and chosen[pos] != label:
            bad.append(
                f"{row.where}: id {_short(item_id)} is labelled {label!r} here but {chosen[pos]!r} on "
                f"{first_seen[pos]}"
            )
            continue
        chosen.setdefault(pos, label)
        first_seen.setdefault(pos, row.where)
    return chosen, bad


def import_labels(
    project: Path, path: Path, id_column: str, label_column: str, annotator: str = DEFAULT_ANNOTATOR
) -> ImportResult:
    """Check every row of ``path``, then write the good file in one transaction (see the module
    docstring). Raises ``ImportRefused`` naming the bad rows, with nothing written."""
    name = check_annotator_name(annotator)
    store = LabelStore.open(project)
    try:
        config = store.config()
        if config is None:
            raise AlloopError(f"{project} has no data yet; start it with `alloop label --data ...`")
        rows, left_out = read_rows(path, id_column, label_column)
        chosen, bad = validate(rows, store.items().ids, config.labels)
        if bad:
            raise _refusal(path, bad)
        if not chosen:
            reasons = ", ".join(f"{n} {why}" for why, n in left_out.items())
            raise AlloopError(f"{path} holds no label to import ({reasons or 'no rows'})")
        result = _write(store, name, chosen)
    finally:
        store.close()
    result.left_out = left_out
    return result


def _refusal(path: Path, bad: list[str]) -> ImportRefused:
    if len(bad) == 1:
        return ImportRefused(f"{path}, {bad[0]}; nothing imported", [])
    reasons = {line.split(": ", 1)[-1] for line in bad}
    if len(reasons) == 1:  # a wrong --id or --label: every row says the same, so say it once
        unit = bad[0].split(" ", 1)[0]
        return ImportRefused(f"{path}, all {len(bad):,} {unit}s: {reasons.pop()}; nothing imported", [])
    shown = bad[:MAX_SHOWN]
    if len(bad) > MAX_SHOWN:
        shown.append(f"... and {len(bad) - MAX_SHOWN:,} more")
    return ImportRefused(f"{len(bad):,} bad rows in {path}; nothing imported", shown)


def _write(store: LabelStore, name: str, chosen: dict[int, str]) -> ImportResult:
    """All the labels, and the annotator if new, in one transaction: all or nothing. An answer
    this annotator already gave with the same label is left as it is (a re-import is a no-op)."""
    stamp = now_iso()
    with store.transaction() as db:
        found = db.execute("SELECT id FROM annotators WHERE name = ?", (name,)).fetchone()
        if found is None:  # nobody logs in as the import: its token is made and forgotten
            cursor = db.execute(
                "INSERT INTO annotators (name, token_sha256, created_at) VALUES (?, ?, ?)",
                (name, hash_token(secrets.token_urlsafe(24)), stamp),
            )
            annotator = int(cursor.lastrowid)  # type: ignore[arg-type]
        else:
            annotator = int(found[0])
        result = ImportResult(name, found is None)
        had = {
            int(pos): (status, label)
            for pos, status, label in db.execute(
                "SELECT pos, status, label FROM labels WHERE annotator = ?", (annotator,)
            )
        }
        for pos, label in chosen.items():
            before = had.get(pos)
            if before == ("label", label):
                result.unchanged += 1
                continue
            seq = store.next_seq(db, "labels")  # the project's counter: never goes back
            db.execute(
                "INSERT INTO labels (pos, annotator, status, label, created_at, updated_at, seq, source) "
                "VALUES (?, ?, 'label', ?, ?, ?, ?, 'import') ON CONFLICT (pos, annotator) DO UPDATE "
                "SET status = 'label', label = excluded.label, updated_at = excluded.updated_at, "
                "seq = excluded.seq, source = 'import', suggestion = NULL, suggestion_p = NULL",
                (pos, annotator, label, stamp, stamp, seq),
            )
            if before is None:
                result.added += 1
            else:
                result.changed += 1
    return result


def _text(value: object, strip: bool = True) -> str | None:
    """A cell as text, None when empty. Whole floats lose their ``.0`` (pandas reads an integer
    id column with a gap as floats), so id 12 matches whatever way the file stored it."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            value = int(value)
    text = str(value)
    if not text.strip():
        return None
    return text.strip() if strip else text


def _short(value: str, limit: int = 64) -> str:
    return repr(value) if len(value) <= limit else repr(value[:limit]) + "..."


def _some(labels: tuple[str, ...], limit: int = 8) -> str:
    shown = ", ".join(labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")
