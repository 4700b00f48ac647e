"""From raw tables to a pool and a test set: texts, encoded labels, stable item ids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from alloop.data.sources import POOL_SPLITS, TEST_SPLITS, read_splits
from alloop.data.taxonomy import Taxonomy, display, paths_from_levels, split_path, taxonomy_from_data
from alloop.errors import AlloopError, NotFoundError


@dataclass(frozen=True)
class TextDataset:
    """A labelled pool (the oracle's gold labels in simulation) and a held-out test set.

    Labels are integer codes into ``classes``; ``pool_ids`` are the items' ids as the user knows
    them (an ``--id`` column, or the row number in the pool).
    """

    pool_texts: list[str]
    pool_labels: np.ndarray
    pool_ids: np.ndarray
    test_texts: list[str]
    test_labels: np.ndarray
    classes: list[str]
    notes: list[str] = field(default_factory=list)
    taxonomy: Taxonomy | None = None
    """The category tree whose leaves are ``classes`` (their display names, in order); ``None`` is
    flat data (a one-level tree, see ``tree``)."""

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def tree(self) -> Taxonomy:
        """The category tree; flat data is a one-level tree over ``classes``."""
        return self.taxonomy if self.taxonomy is not None else Taxonomy.flat(self.classes)

    def summary(self) -> str:
        return (
            f"pool {len(self.pool_texts):,} items, test {len(self.test_texts):,} items, "
            f"{self.n_classes} classes"
        )


def join_value(value: object, depth: int = 0) -> str:
    """Flatten a cell to text. Lists (``feature-bullets``) become one item per line; inner lists
    (``tech_data``'s key-value pairs) become ``key: value``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (list, tuple, np.ndarray)):
        parts = (join_value(v, depth + 1) for v in value)
        return ("\n" if depth == 0 else ": ").join(p for p in parts if p)
    if isinstance(value, float) and np.isnan(value):
        return ""
    return str(value).strip()


def build_texts(frame: pd.DataFrame, text_columns: Sequence[str]) -> list[str]:
    """Join the chosen columns of each row, one column per line."""
    columns = [frame[c].tolist() for c in text_columns]
    return ["\n".join(t for t in (join_value(v) for v in row) if t) for row in zip(*columns, strict=True)]


def check_columns(frame: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns))
        raise NotFoundError(f"column {missing[0]!r} not found in {where}; available columns: {have}")


def stratified_split(labels: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded stratified split; a plain seeded shuffle when the data is too small to stratify."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    try:
        pool, test = train_test_split(index, test_size=test_size, random_state=seed, stratify=labels)
    except ValueError:  # a class with one item, or fewer test items than classes
        try:
            pool, test = train_test_split(index, test_size=test_size, random_state=seed)
        except ValueError as exc:
            raise AlloopError(
                f"cannot split {len(labels)} items with `test_size` {test_size}: {exc}"
            ) from exc
    return np.sort(pool), np.sort(test)


def balance(labels: np.ndarray, seed: int) -> np.ndarray:
    """Indices that cap every class at the size of the smallest (the seed's balanced test set)."""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    cap = counts.min()
    keep = [rng.choice(np.flatnonzero(labels == c), cap, replace=False) for c in classes]
    return np.sort(np.concatenate(keep))


def load_dataset(
    source: str,
    text_columns: Sequence[str] = ("title",),
    label_column: str | Sequence[str] = "category",
    id_column: str | None = None,
    test_size: float = 0.2,
    balanced_test: bool = False,
    seed: int = 0,
    label_sep: str | None = None,
    taxonomy: str | Taxonomy | None = None,
) -> TextDataset:
    """Load ``source`` (``hub:NAME``, a file or a folder) into a pool and a test set.

    Several ``label_column`` name the levels of a category tree, top-down; ``label_sep`` splits
    one path column instead; ``taxonomy`` (a file of one path per line, or a ``Taxonomy``)
    declares the tree, leaves no item has included. The classes are then the tree's leaves.
    """
    label_columns = [label_column] if isinstance(label_column, str) else list(label_column)
    if not label_columns:
        raise AlloopError("no label column given; pass `label_column` COLUMN")
    if len(set(label_columns)) != len(label_columns):
        raise AlloopError("a label column is given twice in `label_column`")
    if label_sep is not None and len(label_columns) > 1:
        raise AlloopError("`label_sep` splits one path column; give a single `label_column` with it")
    if label_sep is not None and not label_sep:
        raise AlloopError("`label_sep` is empty; give the separator between levels, e.g. ' > '")
    hierarchical = len(label_columns) > 1 or label_sep is not None or taxonomy is not None
    declared = Taxonomy.from_file(taxonomy, label_sep or " > ") if isinstance(taxonomy, str) else taxonomy
    if not text_columns:
        raise AlloopError("no text column given; pass `text_columns` COLUMN (repeatable)")
    if not 0.0 < test_size < 1.0:
        raise AlloopError(f"`test_size` must be between 0 and 1, got {test_size}")
    splits = read_splits(source)
    notes: list[str] = []
    pool_frames = [splits[s] for s in (*POOL_SPLITS, "all") if s in splits]
    test_frames = [splits[s] for s in TEST_SPLITS if s in splits]
    pool = pd.concat(pool_frames, ignore_index=True)
    test = pd.concat(test_frames, ignore_index=True) if test_frames else None
    for frame, where in ((pool, "the pool"), (test, "the test split")):
        if frame is not None:
            check_columns(frame, [*text_columns, *label_columns, *([id_column] if id_column else [])], where)
    ids = pool[id_column].to_numpy() if id_column else np.arange(len(pool))
    if id_column and pd.Series(ids).duplicated().any():
        raise AlloopError(f"`id_column` {id_column!r} has duplicate values; ids must be unique")
    label_column = label_columns[0]
    shown = ", ".join(map(repr, label_columns))
    paths_of: dict[str, tuple[str, ...]] = {}
    if hierarchical:
        pool, test = pool.copy(), test.copy() if test is not None else None
        label_column = _path_column(pool, label_columns, label_sep, ids, paths_of)
        if test is not None:
            _path_column(test, label_columns, label_sep, np.arange(len(test)), paths_of)

    pool_texts, pool_raw, pool_ids = _clean(pool, text_columns, label_column, ids, "pool", notes, shown)
    tree: Taxonomy | None = None
    if hierarchical:
        pool_paths = [paths_of[v] for v in pool_raw]
        tree = taxonomy_from_data(pool_paths, list(pool_ids), declared)
    if test is None:
        encoded_all = pd.Series(pool_raw).astype(str).to_numpy()
        pool_idx, test_idx = stratified_split(encoded_all, test_size, seed)
        test_texts = [pool_texts[i] for i in test_idx]
        test_raw = pool_raw[test_idx]
        pool_texts = [pool_texts[i] for i in pool_idx]
        pool_raw, pool_ids = pool_raw[pool_idx], pool_ids[pool_idx]
        notes.append(f"no test split: held out a stratified {test_size:.0%} (seed {seed})")
    else:
        test_ids = np.arange(len(test))
        test_texts, test_raw, _ = _clean(test, text_columns, label_column, test_ids, "test", notes, shown)

    classes = tree.names if tree is not None else sorted(pd.unique(pd.Series(pool_raw).astype(str)).tolist())
    if len(classes) < 2:
        raise AlloopError(
            f"the pool has {len(classes)} class(es) in {', '.join(map(repr, label_columns))}; need at least 2"
        )
    if tree is not None and test is not None and declared is not None:
        test_paths = [paths_of[v] for v in test_raw]
        declared.check_paths(test_paths, [f"{i} of the test split" for i in range(len(test_paths))])
    code = {c: i for i, c in enumerate(classes)}
    pool_labels = np.array([code[str(v)] for v in pool_raw], dtype=np.int64)
    known = np.array([str(v) in code for v in test_raw], dtype=bool)
    if not known.all():
        unseen = sorted({str(v) for v, k in zip(test_raw, known, strict=True) if not k})
        notes.append(
            f"dropped {int((~known).sum())} test items whose label never occurs in the pool: "
            + ", ".join(unseen[:5])
            + (" ..." if len(unseen) > 5 else "")
        )
    test_texts = [t for t, k in zip(test_texts, known, strict=True) if k]
    test_labels = np.array([code[str(v)] for v in test_raw[known]], dtype=np.int64)
    if len(test_labels) == 0:
        raise AlloopError("the test set is empty after dropping items with unknown labels")
    if balanced_test:
        keep = balance(test_labels, seed)
        notes.append(
            f"balanced test set: {len(keep)} of {len(test_labels)} items, "
            f"{len(keep) // len(np.unique(test_labels))} per class"
        )
        test_texts = [test_texts[i] for i in keep]
        test_labels = test_labels[keep]
    if tree is not None and tree.is_flat and declared is None:
        tree = None  # one --label-sep level: flat, exactly as a plain label column
    return TextDataset(pool_texts, pool_labels, pool_ids, test_texts, test_labels, classes, notes, tree)


def _path_column(
    frame: pd.DataFrame,
    label_columns: Sequence[str],
    label_sep: str | None,
    row_names: np.ndarray,
    paths_of: dict[str, tuple[str, ...]],
) -> str:
    """Add a column holding each row's path as its display name (``None`` where it has none), and
    return its name. A gap in the levels is refused here, naming the rows."""
    if label_sep is not None:
        cells = frame[label_columns[0]].tolist()
        paths = [() if _missing(v) else split_path(str(v), label_sep) for v in cells]
        gaps = [row_names[i] for i, p in enumerate(paths) if any(not part for part in p)]
        if gaps:
            shown = ", ".join(map(str, gaps[:5])) + (f" (and {len(gaps) - 5} more)" if len(gaps) > 5 else "")
            raise AlloopError(
                f"rows {shown} have an empty level above a filled one in {label_columns[0]!r} "
                f"(split on {label_sep!r}); a path must be filled from the top level down"
            )
    else:
        levels = [frame[c].tolist() for c in label_columns]
        paths = paths_from_levels(levels, list(row_names), label_columns)
    names: list[str | None] = []
    for path in paths:
        if not path:
            names.append(None)
            continue
        name = display(path)
        known = paths_of.setdefault(name, path)
        if known != path:
            raise AlloopError(f"category names must not contain ' > ' ({name!r} is ambiguous)")
        names.append(name)
    column = "\0alloop_path"
    frame[column] = names
    return column


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip()


def _clean(
    frame: pd.DataFrame,
    text_columns: Sequence[str],
    label_column: str,
    ids: np.ndarray,
    where: str,
    notes: list[str],
    label_name: str | None = None,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Drop rows with an empty text or a missing label, and say how many."""
    texts = build_texts(frame, text_columns)
    labels = frame[label_column].to_numpy(dtype=object)
    has_label = ~pd.isna(frame[label_column]).to_numpy()
    has_text = np.array([bool(t) for t in texts], dtype=bool)
    keep = has_label & has_text
    if (~has_text).any():
        notes.append(f"dropped {int((~has_text).sum())} {where} items with an empty or missing text")
    if (has_text & ~has_label).any():
        notes.append(f"dropped {int((has_text & ~has_label).sum())} {where} items with no label")
    if len(texts) and not keep.any():
        no_text, no_label = int((~has_text).sum()), int((has_text & ~has_label).sum())
        raise AlloopError(
            f"every {where} row was dropped: {no_text} with an empty text in {', '.join(text_columns)}, "
            f"{no_label} with no label in {label_name or repr(label_column)}"
        )
    if not len(texts):
        raise AlloopError(f"the {where} has no rows (only a header?)")
    return [t for t, k in zip(texts, keep, strict=True) if k], labels[keep], ids[keep]
