"""results.db's cycles table is derived from ``CycleRecord``: one shape of a cycle, and an older
file gains a new field's column on open."""

from __future__ import annotations

import sqlite3
from dataclasses import fields

import numpy as np

from alloop.loop.engine import CycleResult
from alloop.loop.evaluation import evaluate
from alloop.simulate.store import METRIC_COLUMNS, TIMING_COLUMNS, CycleRecord, ResultStore


def result() -> CycleResult:
    scores = evaluate(np.array([0, 1, 1]), np.array([0, 1, 0]), ["a", "b"])
    return CycleResult(cycle=0, n_labelled=10, scores=scores, fit_seconds=0.5, would_stop=["plateau"])


def test_the_table_has_exactly_the_record_fields(tmp_path):
    store = ResultStore(tmp_path / "results.db")
    columns = [row[1] for row in store.db.execute("PRAGMA table_info(cycles)")]
    assert columns[3 : 3 + len(METRIC_COLUMNS)] == [f.name for f in fields(CycleRecord)]
    store.save_cycle(
        "margin", 0, 0, CycleRecord.from_result(result()), result().scores, np.zeros(3), {}, [], []
    )
    frame = store.cycles()
    assert frame.loc[0, "macro_f1"] == result().scores.macro_f1
    assert frame.loc[0, "fit_seconds"] == 0.5 and frame.loc[0, "would_stop"] == '["plateau"]'
    store.close()


def test_an_older_results_db_gains_a_missing_column(tmp_path):
    path = tmp_path / "results.db"
    ResultStore(path).close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE cycles DROP COLUMN uncertainty")  # as a file from before the field
    db.commit()
    db.close()
    store = ResultStore(path)
    assert "uncertainty" in {row[1] for row in store.db.execute("PRAGMA table_info(cycles)")}
    store.save_cycle(
        "random", 1, 0, CycleRecord.from_result(result()), result().scores, np.zeros(3), {}, [], []
    )
    assert store.cycles().loc[0, "n_labelled"] == 10
    store.close()


def test_every_wall_time_field_is_a_timing_column():
    """Tests that compare two runs of one plan drop exactly these columns."""
    assert set(TIMING_COLUMNS) == {f.name for f in fields(CycleRecord) if f.name.endswith("seconds")}
