"""``--show COLUMN``: fields of the data shown on the page under the text (brand, price, bullet
points) that the classifier never sees. Their values are read from ``--data`` when the list of
columns changes and stored in ``label.db`` (table ``shown``), matched to the items by id.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from alloop.data.prepare import join_value
from alloop.data.sources import read_splits
from alloop.errors import AlloopError
from alloop.labelling.config import LabelConfig
from alloop.labelling.storage.store import LabelStore


def clean_columns(columns: Sequence[str]) -> tuple[str, ...]:
    """The ``--show`` list as given, blanks dropped (``--show ""`` clears it), each once."""
    return tuple(dict.fromkeys(c.strip() for c in columns if c.strip()))


def read_shown(config: LabelConfig, ids: Sequence[str]) -> list[dict[str, str]]:
    """The ``config.show`` columns' values for each item id, in ``ids`` order. An unknown column
    is refused naming the columns that exist."""
    if not config.show:
        return [{} for _ in ids]
    frame = pd.concat(list(read_splits(config.data).values()), ignore_index=True)
    for column in config.show:
        if column not in frame.columns:
            have = ", ".join(map(str, frame.columns))
            raise AlloopError(f"`show` column {column!r} is not in {config.data}; its columns are: {have}")
    keys = [str(v) for v in frame[config.id_column].tolist()] if config.id_column else None
    row_of = {k: i for i, k in enumerate(keys)} if keys is not None else None
    values = {c: frame[c].tolist() for c in config.show}
    out = []
    for item_id in ids:
        row = row_of.get(item_id) if row_of is not None else int(item_id)
        if row is None or row >= len(frame):
            raise AlloopError(
                f"item {item_id!r} is no longer in {config.data}; "
                "`show` reads the data file the project was made from"
            )
        out.append({c: join_value(values[c][row]) for c in config.show})
    return out


def sync_shown(store: LabelStore, config: LabelConfig, ids: Sequence[str]) -> None:
    """Store the ``--show`` values when the project's list of columns differs from the stored one
    (a new project, or a restart with another ``--show``); refusals come before any write."""
    stored = store.get_meta("shown_columns", [])
    if list(config.show) == stored:
        return
    store.set_shown(config.show, read_shown(config, ids))
