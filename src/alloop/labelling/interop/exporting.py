"""Getting labels out: the export (a table, a Hugging Face dataset, Label Studio tasks), and
predictions for the project's own unlabelled items or for new products.

The final label of every export comes from ``final.final_labels``: a reviewer's adjudication,
else the annotators' majority; ties and unsure answers stay open until a reviewer decides.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alloop.checks import check_output_dir, check_output_file, table_format
from alloop.data.prepare import build_texts, check_columns
from alloop.data.sources import read_splits
from alloop.data.taxonomy import DISPLAY_SEP, split_path
from alloop.errors import AlloopError
from alloop.labelling.config import LabelConfig
from alloop.labelling.domain.final import Final, final_labels
from alloop.labelling.domain.trainer import training_set
from alloop.labelling.domain.tree import LabelTree
from alloop.labelling.domain.trust import AutoLabelled, auto_labelled, project_calibration
from alloop.labelling.interop import label_studio
from alloop.labelling.storage import flags as flag_store
from alloop.labelling.storage.saved_model import (
    ProjectModel,
    fingerprint,
    model_dir,
    project_model,
    saved_model,
)
from alloop.labelling.storage.store import Adjudication, Items, LabelRow, LabelStore
from alloop.loop.autolabel import (
    DEFAULT_CONFIDENCE,
    MIN_LABELS,
    Calibration,
    Threshold,
    check_confidence,
    check_precision,
    percent,
)
from alloop.models import classifier_factory
from alloop.outputs import check_file_target, check_folder_target, write_file, write_folder

FORMATS = ("parquet", "csv", "jsonl", "hf", "label-studio")
TABLES = ("parquet", "csv", "jsonl")
SUFFIXES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "label-studio",
}
"""The format each ``--out`` suffix means; a name without a suffix (or a folder) means ``hf``."""
PREDICTION_FORMATS = ("parquet", "csv")
PREDICTIONS_FILE = "predictions.parquet"


def export_frame(
    config: LabelConfig,
    items: Items,
    rows: list[LabelRow],
    names: dict[int, str],
    adjudications: dict[int, Adjudication] | None = None,
) -> pd.DataFrame:
    """One row per item anyone answered or a reviewer decided: id, text, the final label, who
    decided it (``adjudication``, ``vote`` or ``none``), the reviewer, when, whether it still
    needs review (a tie, or an unsure answer), gold when known, then per annotator their label,
    status (label/skip/unsure) and the time of their latest answer."""
    adjudications = adjudications or {}
    finals = final_labels(rows, adjudications)
    by_item: dict[int, dict[int, LabelRow]] = {}
    for row in rows:
        by_item.setdefault(row.pos, {})[row.annotator] = row
    who = [aid for aid in names if any(r.annotator == aid for r in rows)]
    records = []
    for pos, final in finals.items():
        answers = by_item.get(pos, {})
        record: dict[str, object] = {
            "item_id": items.ids[pos],
            "text": items.texts[pos],
            "final_label": final.label,
            "decided_by": final.decided_by,
            "reviewer": _name(names, final.reviewer),
            "decided_at": decided_at(final, answers.values(), adjudications.get(pos)),
            "needs_review": final.needs_review,
            "n_labels": final.n_labels,
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
        "decided_by",
        "reviewer",
        "decided_at",
        "needs_review",
        "n_labels",
        *(["gold"] if config.gold else []),
    ]
    frame = pd.DataFrame.from_records(records, columns=columns if not records else None)
    return with_levels(frame, config)


def with_levels(frame: pd.DataFrame, config: LabelConfig) -> pd.DataFrame:
    """A tree project's table gains, after ``final_label`` (the full path), one column per level
    (``final_label_level_1`` top-down; empty below where a path ends) and ``partial`` (the final
    label stops above the leaves)."""
    tree = LabelTree.of(config.labels)
    if tree is None:
        return frame
    paths = [split_path(v, DISPLAY_SEP) if isinstance(v, str) else () for v in frame["final_label"]]
    at = list(frame.columns).index("final_label") + 1
    for level in range(1, tree.taxonomy.depth + 1):
        values = [p[level - 1] if len(p) >= level else None for p in paths]
        frame.insert(at + level - 1, f"final_label_level_{level}", values)
    frame.insert(at + tree.taxonomy.depth, "partial", [tree.is_partial(v) for v in frame["final_label"]])
    return frame


def _name(names: dict[int, str], annotator: int | None) -> str | None:
    return names.get(annotator) if annotator is not None else None


def decided_at(final: Final, answers: object, adjudication: Adjudication | None) -> str | None:
    """When the final label was settled: the adjudication's time, or the latest class answer's."""
    if adjudication is not None:
        return adjudication.decided_at
    if final.label is None:
        return None
    times = [r.updated_at for r in answers if r.status == "label"]  # type: ignore[attr-defined]
    return max(times) if times else None


def export_format(out: Path, fmt: str | None) -> str:
    """The format to write: ``--format``, or what ``--out`` means (its suffix; a folder or a name
    without a suffix means a Hugging Face dataset folder). The two must agree."""
    if fmt is not None and fmt not in FORMATS:
        raise AlloopError(f"unknown table format {fmt!r}; use `format` {', '.join(FORMATS)}")
    suffix = out.suffix.lower()
    if out.is_dir() or not suffix:
        implied: str | None = "hf"
    else:
        implied = SUFFIXES.get(suffix)
        if implied is None and fmt != "hf":  # a dataset folder's name may hold a dot
            raise AlloopError(
                f"unknown table format {suffix.lstrip('.')!r} for {out}; name it .parquet, .csv, .jsonl, "
                ".json (Label Studio) or a folder (Hugging Face dataset), or pass `format`"
            )
    if fmt is not None and implied is not None and fmt != implied:
        if implied == "hf":
            raise AlloopError(
                f"`out` {out} is a folder name, which means `format` hf; for `format` {fmt} "
                f"give a file name such as {out.name or 'labels'}{_suffix(fmt)}"
            )
        raise AlloopError(
            f"`format` {fmt} contradicts the file name {out.name}; name it {out.stem}{_suffix(fmt)} "
            f"or use `format` {implied}"
        )
    return fmt or implied or "hf"


def _suffix(fmt: str) -> str:
    return {"parquet": ".parquet", "csv": ".csv", "jsonl": ".jsonl", "label-studio": ".json"}.get(fmt, "")


def config_path(out: Path) -> Path:
    """The Label Studio labelling config written beside the tasks: ``tasks.json`` ->
    ``tasks.label_config.xml``."""
    return out.with_name(f"{out.stem}.label_config.xml")


def check_export_target(out: Path, fmt: str) -> None:
    """Before any work: the target can be written, and replacing it loses nothing alloop did not
    write (``alloop.outputs``)."""
    if fmt == "hf":
        check_output_dir(out, "`out`")
        check_folder_target(out, "`out`")
        return
    check_output_file(out, "`out`")
    check_file_target(out, "`out`")
    if fmt == "label-studio":
        check_output_file(config_path(out), "`out` (its labelling config)")
        check_file_target(config_path(out), "`out` (its labelling config)")


@dataclass
class ExportResult:
    n: int
    """items written (tasks for Label Studio)"""
    fmt: str
    written: list[Path]
    notes: list[str] = field(default_factory=list)
    """warnings: something the user may want to act on"""
    said: list[str] = field(default_factory=list)
    """plain lines to print (what auto-labelling accepted)"""


def export_project(
    project: Path,
    out: Path,
    fmt: str | None,
    min_precision: float | None = None,
    precision_confidence: float = DEFAULT_CONFIDENCE,
) -> ExportResult:
    """Write the project's labels to ``out``; every check runs before anything is written.

    Tables carry the suspected label errors (``suspected_error``, with the model's out-of-fold
    ``model_label`` and ``model_confidence``). With ``min_precision`` a table also holds every
    item without a final label: the model's label where it is auto-accepted at that precision
    (``decided_by`` ``model``), else none; ``predicted_label``, ``confidence`` and
    ``auto_accepted`` say what the model predicted for each of them."""
    fmt = export_format(out, fmt)
    if min_precision is not None:
        check_precision(min_precision, "`min_precision`")
        check_confidence(precision_confidence, "`precision_confidence`")
        if fmt not in TABLES:
            raise AlloopError(
                "`min_precision` adds the model's labels to a table; name `out` .parquet, .csv or .jsonl"
            )
    check_export_target(out, fmt)
    store = LabelStore.open(project)
    try:
        config = _config(store, project)
        names = {a.id: a.name for a in store.annotators()}
        items, rows, adjudications = store.items(), store.label_rows(), store.adjudications()
        if fmt in TABLES:
            frame = with_flags(export_frame(config, items, rows, names, adjudications), store, items)
            said = []
            if min_precision is not None:
                model_rows, auto = _model_rows(
                    project, config, store, items, min_precision, precision_confidence
                )
                frame = pd.concat([frame, model_rows], ignore_index=True) if len(model_rows) else frame
                said.append(auto_line(auto))
            write_table(frame, out, fmt)
            return ExportResult(len(frame), fmt, [out], said=said)
        finals = final_labels(rows, adjudications)
        if fmt == "hf":
            n = write_hf(config, items, finals, names, rows, adjudications, out)
            return ExportResult(n, fmt, [out])
        notes: list[str] = []
        predictions, version = _saved_predictions(project, config, store, items, notes)
        tree = LabelTree.of(config.labels) is not None
        tasks = label_studio.tasks(items, rows, adjudications, finals, names, predictions, version, tree)
    finally:
        store.close()
    _write_text(out, json.dumps(tasks, ensure_ascii=False, indent=1))
    _write_text(config_path(out), label_studio.label_config(config.labels))
    return ExportResult(len(tasks), fmt, [out, config_path(out)], notes)


def with_flags(frame: pd.DataFrame, store: LabelStore, items: Items) -> pd.DataFrame:
    """``suspected_error`` (the model strongly disagrees with the final label, and no reviewer has
    decided it yet), with its evidence ``model_label`` and ``model_confidence``."""
    open_flags = {items.ids[pos]: flag for pos, flag in flag_store.open_flags(store).items()}
    ids = frame["item_id"].tolist()
    flagged = [open_flags.get(i) for i in ids]
    frame = frame.copy()
    frame["suspected_error"] = [f is not None for f in flagged]
    frame["model_label"] = [f.predicted if f is not None else None for f in flagged]
    frame["model_confidence"] = [f.confidence if f is not None else None for f in flagged]
    return frame


def _model_rows(
    project: Path, config: LabelConfig, store: LabelStore, items: Items, target: float, level: float
) -> tuple[pd.DataFrame, AutoLabelled]:
    """One row per item without a final label: the model's label where it is auto-accepted."""
    data = training_set(store, len(items), config.labels)
    factory = classifier_factory(config.model, len(config.labels))
    fitted = project_model(project, config, store, items, factory)
    calibration = project_calibration(config, items, data, factory)
    finals = final_labels(store.label_rows(), store.adjudications())
    open_items = [p for p in range(len(items)) if finals.get(p) is None or finals[p].label is None]
    texts = [items.texts[p] for p in open_items]
    proba = fitted.model.predict_proba(texts) if open_items else np.zeros((0, len(config.labels)))
    confidence = proba.max(axis=1)
    codes = proba.argmax(axis=1)
    predicted = [config.labels[int(c)] for c in codes]
    auto, accepted = _auto(calibration, texts, codes, target, level)
    frame = pd.DataFrame(
        {
            "item_id": [items.ids[p] for p in open_items],
            "text": [items.texts[p] for p in open_items],
            "final_label": [label if a else None for label, a in zip(predicted, accepted, strict=True)],
            "decided_by": ["model" if a else "none" for a in accepted],
            "predicted_label": predicted,
            "confidence": confidence,
            "auto_accepted": accepted,
        }
    )
    return frame, auto


def _saved_predictions(
    project: Path, config: LabelConfig, store: LabelStore, items: Items, notes: list[str]
) -> tuple[dict[int, tuple[str, float]] | None, str]:
    """The saved model's prediction for every item (Label Studio shows them as pre-annotations),
    or None without a saved model; a model older than the latest labels is used, with a note."""
    loaded = saved_model(project, config)
    if loaded is None:
        notes.append(
            f"no predictions in the tasks: no saved model; run `alloop predict --project {project}` first"
        )
        return None, ""
    model, info = loaded
    current = fingerprint(config, training_set(store, len(items), config.labels))
    if info["fingerprint"]["labels"] != current.labels:
        notes.append(
            "the predictions come from a model trained before the latest labels; "
            f"`alloop predict --project {project}` retrains it"
        )
    proba = model.predict_proba(items.texts)
    best = proba.argmax(axis=1)
    predictions = {
        pos: (config.labels[int(best[pos])], float(proba[pos, best[pos]])) for pos in range(len(items))
    }
    version = f"alloop {info['classifier']} on {info['n_trained']} labels, {info['trained_at']}"
    return predictions, version


def write_hf(
    config: LabelConfig,
    items: Items,
    finals: dict[int, Final],
    names: dict[int, str],
    rows: list[LabelRow],
    adjudications: dict[int, Adjudication],
    out: Path,
) -> int:
    """A ``datasets`` folder (``save_to_disk``) of the items with a final label, the label a
    ``ClassLabel`` over the project's label set (so class ids are stable across exports). Written
    to a temporary folder beside ``out`` and moved into place: a failed export leaves nothing."""
    import datasets

    code = {label: i for i, label in enumerate(config.labels)}
    tree = LabelTree.of(config.labels)
    kept = set(code) | (tree.partial_nodes if tree is not None else set())
    chosen = [pos for pos, f in finals.items() if f.label in kept]
    answers: dict[int, list[LabelRow]] = {}
    for row in rows:
        answers.setdefault(row.pos, []).append(row)
    columns: dict[str, list[object]] = {
        "item_id": [items.ids[p] for p in chosen],
        "text": [items.texts[p] for p in chosen],
        "label": [code.get(finals[p].label, -1) for p in chosen],  # type: ignore[arg-type]
        "decided_by": [finals[p].decided_by for p in chosen],
        "reviewer": [
            names.get(finals[p].reviewer) if finals[p].reviewer is not None else None for p in chosen
        ],
        "decided_at": [decided_at(finals[p], answers.get(p, []), adjudications.get(p)) for p in chosen],
        "n_labels": [finals[p].n_labels for p in chosen],
    }
    features = {
        "item_id": datasets.Value("string"),
        "text": datasets.Value("string"),
        "label": datasets.ClassLabel(names=list(config.labels)),
        "decided_by": datasets.Value("string"),
        "reviewer": datasets.Value("string"),
        "decided_at": datasets.Value("string"),
        "n_labels": datasets.Value("int64"),
    }
    if config.gold:
        columns["gold"] = [items.gold[p] for p in chosen]
        features["gold"] = datasets.Value("string")
    if tree is not None:  # the path, whole and per level; a partial label has label -1 (no leaf)
        paths = [split_path(finals[p].label or "", DISPLAY_SEP) for p in chosen]
        columns["label_path"] = [finals[p].label for p in chosen]
        features["label_path"] = datasets.Value("string")
        for level in range(1, tree.taxonomy.depth + 1):
            columns[f"label_level_{level}"] = [q[level - 1] if len(q) >= level else None for q in paths]
            features[f"label_level_{level}"] = datasets.Value("string")
        columns["partial"] = [tree.is_partial(finals[p].label) for p in chosen]
        features["partial"] = datasets.Value("bool")
    dataset = datasets.Dataset.from_dict(columns, features=datasets.Features(features))
    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # one line of output, not a progress bar per export
    try:
        write_folder(out, lambda temp: dataset.save_to_disk(str(temp)))
    finally:
        if bars:
            datasets.enable_progress_bars()
    return len(chosen)


def write_table(frame: pd.DataFrame, out: Path, fmt: str | None) -> str:
    """Written beside and renamed into place, replacing only a file alloop wrote."""
    fmt = fmt or export_format(out, None)

    def write(temp: Path) -> None:
        if fmt == "parquet":
            import pyarrow as pa

            try:
                frame.to_parquet(temp, index=False)
            except (pa.ArrowTypeError, pa.ArrowInvalid):  # a column of mixed types (new data's): as text
                _mixed_as_text(frame).to_parquet(temp, index=False)
        elif fmt == "jsonl":
            frame.to_json(temp, orient="records", lines=True, force_ascii=False)
        else:
            frame.to_csv(temp, index=False)

    write_file(out, write)
    return fmt


def _mixed_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every object column as pandas strings (missing values stay missing): a column of the
    user's that holds both numbers and text has no one Parquet type."""
    return frame.assign(**{c: frame[c].astype("string") for c in frame.columns if frame[c].dtype == object})


def _write_text(path: Path, text: str) -> None:
    """Written beside and renamed into place: readers never see half a file."""
    write_file(path, lambda temp: temp.write_text(text, encoding="utf-8"))


# -- predict --------------------------------------------------------------------------------------
@dataclass
class Predictions:
    frame: pd.DataFrame
    out: Path
    model: ProjectModel
    auto: AutoLabelled | None = None
    """with ``min_precision``: the threshold and how many rows it accepted"""


def predict_file(
    project: Path,
    data: str | None,
    out: Path | None,
    fmt: str | None = None,
    warn: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """``predict`` for callers that want the table only (see ``predict``)."""
    return predict(project, data, out, fmt, warn).frame


def predict(
    project: Path,
    data: str | None,
    out: Path | None,
    fmt: str | None = None,
    warn: Callable[[str], None] | None = None,
    min_precision: float | None = None,
    precision_confidence: float = DEFAULT_CONFIDENCE,
) -> Predictions:
    """Classify ``data`` (new products), or without it the project's own items that have no
    final label yet, with the project's model: the saved one while no final label changed, else
    one trained on all final labels with the project's seed and saved in ``DIR/model/``. Adds
    the predicted label and its confidence; with ``min_precision``, whether the prediction is
    auto-accepted: its confidence clears the threshold that out-of-fold predictions on the
    labels show to reach that precision with ``precision_confidence`` (``alloop.loop.autolabel``).
    ``--out`` (default ``DIR/predictions.parquet``), the format and the new data are checked
    before training; ``warn`` hears about classes the model has never seen."""
    if min_precision is not None:
        check_precision(min_precision, "`min_precision`")
        check_confidence(precision_confidence, "`precision_confidence`")
    out = out if out is not None else project / PREDICTIONS_FILE
    check_output_file(out, "`out`")
    check_file_target(out, "`out`")
    fmt = table_format(out, fmt, PREDICTION_FORMATS)
    store = LabelStore.open(project)
    try:
        config = _config(store, project)
        items = store.items()
        if data is not None:
            frame = pd.concat(list(read_splits(data).values()), ignore_index=True)
            check_columns(frame, config.text, data)
            if frame.empty:
                raise AlloopError(f"{data} has no rows to classify (only a header?)")
            texts = build_texts(frame, config.text)
        else:
            finals = final_labels(store.label_rows(), store.adjudications())
            open_items = [p for p in range(len(items)) if finals.get(p) is None or finals[p].label is None]
            frame = pd.DataFrame(
                {"item_id": [items.ids[p] for p in open_items], "text": [items.texts[p] for p in open_items]}
            )
            texts = frame["text"].tolist()
        factory = classifier_factory(config.model, len(config.labels))
        fitted = project_model(project, config, store, items, factory)
        calibration = None
        if min_precision is not None:
            trained = training_set(store, len(items), config.labels)
            calibration = project_calibration(config, items, trained, factory)
    finally:
        store.close()
    if warn is not None:
        unseen = unseen_classes(config.labels, fitted.seen)
        if len(fitted.seen) == 1:
            only = config.labels[int(fitted.seen[0])]
            warn(
                f"every final label of {project} is {only!r}, so every prediction is {only!r}; "
                "label items of other classes first"
            )
        elif unseen:
            shown = ", ".join(repr(c) for c in unseen[:10]) + (" ..." if len(unseen) > 10 else "")
            warn(
                f"the model has never seen {len(unseen)} of the {len(config.labels)} classes, so it never "
                f"predicts them: {shown}; label examples of them (the page's search finds some)"
            )
    frame = frame.copy()
    if len(frame):
        proba = fitted.model.predict_proba(texts)
        classes = np.array(config.labels, dtype=object)
        frame["predicted_label"] = classes[proba.argmax(axis=1)]
        frame["confidence"] = proba.max(axis=1)
    else:
        frame["predicted_label"] = pd.Series(dtype=object)
        frame["confidence"] = pd.Series(dtype=float)
    auto = None
    if min_precision is not None:
        codes = {label: i for i, label in enumerate(config.labels)}
        predicted = np.array([codes[v] for v in frame["predicted_label"]], dtype=np.int64)
        auto, accepted = _auto(calibration, texts, predicted, min_precision, precision_confidence)
        frame["auto_accepted"] = accepted
    write_table(frame, out, fmt)
    return Predictions(frame, out, fitted, auto)


def _auto(
    calibration: Calibration | None, texts: list[str], predicted: np.ndarray, target: float, level: float
) -> tuple[AutoLabelled, np.ndarray]:
    """The threshold for ``target`` and which of ``texts`` it accepts; with too few labels for an
    out-of-fold estimate, a threshold that accepts nothing."""
    if calibration is None:
        none = Threshold(None, target, level, 0)
        return AutoLabelled(none, 0, len(texts), len(texts)), np.zeros(len(texts), dtype=bool)
    return auto_labelled(calibration, texts, predicted, len(texts), target, level)


def auto_line(auto: AutoLabelled) -> str:
    """The one line ``predict`` and ``export`` say about auto-labelling."""
    t = auto.threshold
    if t.n_labelled == 0:
        return (
            f"auto-accepted none: fewer than {MIN_LABELS} final labels, too few to estimate any "
            f"precision; label more"
        )
    return (
        f"auto-accepted {auto.n_accepted:,} of {auto.n_open:,} at >= {percent(t.target)} precision "
        f"({t.describe()})"
    )


def unseen_classes(labels: tuple[str, ...], seen: np.ndarray) -> list[str]:
    have = {int(c) for c in seen}
    return [label for i, label in enumerate(labels) if i not in have]


def model_line(project: Path, fitted: ProjectModel) -> str:
    """The one line ``predict`` says about its model: reused, or retrained and why."""
    where = model_dir(project)
    if fitted.reused:
        return f"model: reused the one saved in {where} ({fitted.n_trained:,} final labels, {fitted.reason})"
    return f"model: retrained on {fitted.n_trained:,} final labels ({fitted.reason}); saved in {where}"


def _config(store: LabelStore, project: Path) -> LabelConfig:
    config = store.config()
    if config is None:
        raise AlloopError(
            f"{project} has annotators but no data yet; start it with `alloop label --data ...`"
        )
    return config
