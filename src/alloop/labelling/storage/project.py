"""Creating a labelling project from a data file, or resuming one from its ``label.db``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from alloop.data.prepare import build_texts, check_columns, join_value
from alloop.data.sources import read_splits
from alloop.data.taxonomy import display, paths_from_levels, split_path, taxonomy_from_data
from alloop.errors import AlloopError
from alloop.labelling.config import LabelConfig
from alloop.labelling.storage.shown import read_shown, sync_shown
from alloop.labelling.storage.store import DB_NAME, Items, LabelStore


def read_items(config: LabelConfig) -> tuple[Items, list[str]]:
    """All rows of every split of ``config.data`` become items (there is no test set to hold
    out: people label). Rows with an empty text are dropped, and counted in the notes."""
    splits = read_splits(config.data)
    frame = pd.concat(list(splits.values()), ignore_index=True)
    extra = [c for c in (config.gold, *config.gold_levels, config.id_column) if c]
    check_columns(frame, [*config.text, *extra], config.data)
    texts = build_texts(frame, config.text)
    if config.id_column:
        ids = [str(v) for v in frame[config.id_column].tolist()]
        duplicated = pd.Series(ids).duplicated()
        if duplicated.any():
            raise AlloopError(
                f"`id_column` {config.id_column!r} has {int(duplicated.sum())} duplicate values; ids must "
                "be unique (leave `id_column` out to use row numbers)"
            )
    else:
        ids = [str(i) for i in range(len(frame))]
    columns = {c: [join_value(v) for v in frame[c].tolist()] for c in config.text}
    gold_values = gold_paths(frame, config) if config.gold else [None] * len(frame)
    keep = [i for i, t in enumerate(texts) if t]
    notes = []
    if len(keep) < len(texts):
        notes.append(f"dropped {len(texts) - len(keep)} rows with an empty text")
    if not keep:
        raise AlloopError(f"no row of {config.data} has a text in {', '.join(config.text)}")
    gold = [None if _missing(gold_values[i]) else str(gold_values[i]) for i in keep]
    if config.gold:
        outside = sum(g is not None and g not in config.labels for g in gold)
        if outside == len(keep):
            raise AlloopError(
                f"no value of `gold` column {config.gold!r} is in the label set; check `labels`"
            )
        if outside:
            notes.append(f"{outside} gold labels are outside the label set; they are not scored")
    items = Items(
        ids=[ids[i] for i in keep],
        texts=[texts[i] for i in keep],
        fields=[{c: columns[c][i] for c in config.text} for i in keep],
        gold=gold,
    )
    return items, notes


def gold_paths(frame: pd.DataFrame, config: LabelConfig) -> list[object]:
    """The gold column's values; for a category tree (``--label`` repeated, or a path column split
    on ``--label-sep``) each row's path as a label string (`` > ``-joined), None where it has none."""
    if not config.gold_levels and config.label_sep is None:
        return frame[config.gold].tolist()
    if config.label_sep is not None:
        paths = [() if _missing(v) else split_path(str(v), config.label_sep) for v in frame[config.gold]]
    else:
        levels = [frame[c].tolist() for c in config.gold_levels]
        paths = paths_from_levels(levels, list(range(len(frame))), config.gold_levels)
    return [display(p) if p else None for p in paths]


def labels_from_data(values: dict[str, Any]) -> tuple[str, ...]:
    """The label set a category tree in the data forms: every distinct gold path's leaves."""
    config = LabelConfig.from_json({**values, "labels": ("-", "--")})
    frame = pd.concat(list(read_splits(config.data).values()), ignore_index=True)
    check_columns(frame, [c for c in (config.gold, *config.gold_levels) if c], config.data)
    paths = [split_path(v, " > ") for v in gold_paths(frame, config) if isinstance(v, str)]
    if not paths:
        raise AlloopError(f"no row of {config.data} has a category path in {', '.join(config.gold_levels)}")
    return tuple(taxonomy_from_data(paths).names)


def open_project(project: Path, given: dict[str, Any]) -> tuple[LabelStore, LabelConfig, Items]:
    """Resume ``project`` (options given again must agree with its data) or create it from
    ``given`` (which then needs ``data`` and ``labels``). A refused start creates nothing."""
    existing = (project / DB_NAME).exists()
    store = LabelStore.open(project) if existing else None
    stored = store.config() if store is not None else None
    if store is not None and stored is not None:
        try:
            config = stored.merged(given)
            items = store.items()
            check_query_size(config.query_size, len(items))
            sync_shown(store, config, items.ids)  # suggest: --show values, when the list changed
            store.save_config(config)
            return store, config, items
        except BaseException:
            store.close()
            raise
    try:  # a new project (label.db may exist already, holding annotators only)
        if given.get("data") is None:
            raise AlloopError(f"{project} is not a labelling project yet; pass `data` FILE to create it")
        if given.get("labels") is None and (given.get("gold_levels") or given.get("label_sep")):
            given = {**given, "labels": labels_from_data(given)}
        if given.get("labels") is None:
            raise AlloopError("pass the label set: `labels` a,b,c or `labels_file` labels.txt")
        values = {k: v for k, v in given.items() if v is not None}
        items, notes = read_items(LabelConfig.from_json(values).validate())
        config = LabelConfig.from_json({**values, "notes": tuple(notes)}).validate()
        check_query_size(config.query_size, len(items))
        shown = read_shown(config, items.ids) if config.show else None  # suggest: checked first
        store = store or LabelStore.open(project, create=True)
        store.create(config, items)
        if shown is not None:
            store.set_shown(config.show, shown)
        return store, config, items
    except BaseException:
        if store is not None:
            store.close()
        raise


def check_query_size(query_size: int, n_items: int) -> None:
    """A retrain every ``query_size`` labels must be reachable, or no model would ever train."""
    if query_size > n_items:
        raise AlloopError(
            f"`query_size` {query_size} is larger than the project's {n_items} items; no model would "
            f"ever train: use `query_size` {max(1, n_items // 2)}"
        )


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA
