"""Getting labels out: the export table, and predictions for new products."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from alloop.checks import check_output_file, table_format
from alloop.data.prepare import build_texts, check_columns
from alloop.data.sources import read_splits
from alloop.errors import AlloopError
from alloop.label.agreement import majority
from alloop.label.config import LabelConfig
from alloop.label.store import Items, LabelRow, LabelStore
from alloop.label.trainer import fit_model

FORMATS = ("parquet", "csv")


def export_frame(
    config: LabelConfig, items: Items, rows: list[LabelRow], names: dict[int, str]
) -> pd.DataFrame:
    """One row per item anyone answered: id, text, final (majority) label, whether it needs
    review (a tie, or an annotator was unsure), gold when known, then per annotator their
    label, status (label/skip/unsure) and time of the latest answer."""
    by_item: dict[int, list[LabelRow]] = defaultdict(list)
    for row in rows:
        by_item[row.pos].append(row)
    who = [aid for aid in names if any(r.annotator == aid for r in rows)]
    records = []
    for pos in sorted(by_item):
        answers = {r.annotator: r for r in by_item[pos]}
        vote = majority([r.label for r in answers.values() if r.status == "label" and r.label is not None])
        record: dict[str, object] = {
            "item_id": items.ids[pos],
            "text": items.texts[pos],
            "final_label": vote.label,
            "needs_review": vote.tie or any(r.status == "unsure" for r in answers.values()),
            "n_labels": vote.n_labels,
        }
        if config.gold:
            record["gold"] = items.gold[pos]
        for aid in who:
            row = answers.get(aid)
            name = names[aid]
            record[f"label_{name}"] = row.label if row else None
            record[f"status_{name}"] = row.status if row else None
            record[f"labelled_at_{name}"] = row.updated_at if row else None
        records.append(record)
    columns = [
        "item_id",
        "text",
        "final_label",
        "needs_review",
        "n_labels",
        *(["gold"] if config.gold else []),
    ]
    return pd.DataFrame.from_records(records, columns=columns if not records else None)


def write_table(frame: pd.DataFrame, out: Path, fmt: str | None) -> str:
    fmt = table_format(out, fmt, FORMATS)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
    return fmt


def export_project(project: Path, out: Path, fmt: str | None) -> tuple[int, str]:
    check_output_file(out, "--out")
    table_format(out, fmt, FORMATS)
    store = LabelStore.open(project)
    try:
        config = _config(store, project)
        names = {a.id: a.name for a in store.annotators()}
        frame = export_frame(config, store.items(), store.label_rows(), names)
    finally:
        store.close()
    return len(frame), write_table(frame, out, fmt)


def predict_file(
    project: Path,
    data: str,
    out: Path,
    fmt: str | None = None,
    warn: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Classify new products with the project's classifier, trained on all final labels with the
    project's seed (the model the live loop would train next), and add the confidence. ``--out``,
    the format and the new data are checked before training; ``warn`` hears about a model that
    can only ever answer one class."""
    check_output_file(out, "--out")
    table_format(out, fmt, FORMATS)
    store = LabelStore.open(project)
    try:
        config = _config(store, project)
        frame = pd.concat(list(read_splits(data).values()), ignore_index=True)
        check_columns(frame, config.text, data)
        if frame.empty:
            raise AlloopError(f"{data} has no rows to classify (only a header?)")
        model, trained = fit_model(config, store, store.items())
    finally:
        store.close()
    seen = np.unique(trained.labels)
    if len(seen) == 1 and warn is not None:
        only = config.labels[int(seen[0])]
        warn(
            f"every final label of {project} is {only!r}, so every prediction is {only!r}; "
            "label items of other classes first"
        )
    proba = model.predict_proba(build_texts(frame, config.text))
    classes = np.array(config.labels, dtype=object)
    frame = frame.copy()
    frame["predicted_label"] = classes[proba.argmax(axis=1)]
    frame["confidence"] = proba.max(axis=1)
    write_table(frame, out, fmt)
    return frame


def _config(store: LabelStore, project: Path) -> LabelConfig:
    config = store.config()
    if config is None:
        raise AlloopError(
            f"{project} has annotators but no data yet; start it with `alloop label --data ...`"
        )
    return config
