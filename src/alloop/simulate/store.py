"""The results store: one SQLite file per run folder (WAL mode), one transaction per cycle.

Everything a report or a resume needs lives here: the config, each seed's initial set and
full-pool ceiling, and per cycle the metrics, timings, test predictions, the batch queried and the
strategy's RNG state after it. A process killed at any moment loses at most the cycle in flight.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alloop.checks import check_sqlite
from alloop.errors import AlloopError
from alloop.failures import connect
from alloop.loop.engine import CycleResult
from alloop.loop.evaluation import Scores

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS initial (
    seed INTEGER NOT NULL, rank INTEGER NOT NULL, position INTEGER NOT NULL, label INTEGER NOT NULL,
    PRIMARY KEY (seed, rank)
);
CREATE TABLE IF NOT EXISTS ceilings (
    seed INTEGER PRIMARY KEY, n_labelled INTEGER, macro_f1 REAL, accuracy REAL, seconds REAL
);
CREATE TABLE IF NOT EXISTS queried (
    strategy TEXT NOT NULL, seed INTEGER NOT NULL, cycle INTEGER NOT NULL, rank INTEGER NOT NULL,
    position INTEGER NOT NULL, item_id TEXT NOT NULL, label INTEGER NOT NULL,
    PRIMARY KEY (strategy, seed, cycle, rank)
);
"""


TIMING_COLUMNS = ("fit_seconds", "eval_seconds", "score_seconds", "query_seconds", "seconds", "auto_seconds")
"""The ``cycles`` columns that are wall times: they differ from one run of the same plan to the next."""


@dataclass(frozen=True)
class CycleRecord:
    """One cycle's row in results.db: the one shape a cycle has between the engine's
    ``CycleResult`` and the store. The ``cycles`` table's metric columns are derived from these
    fields (``cycles_schema``), ``cycles.csv`` reads them back, and a field added here becomes a
    column, added on open to a results.db written before it (NULL in its old rows)."""

    n_labelled: int
    macro_f1: float
    accuracy: float
    macro_precision: float
    macro_recall: float
    fit_seconds: float
    eval_seconds: float
    score_seconds: float
    query_seconds: float
    seconds: float
    stop_reason: str | None
    kappa: float
    uncertainty: float
    would_stop: str
    """JSON list of the label-free criteria that would have stopped here"""
    tree_scores: str | None = None
    """JSON object of the category tree's metrics (``loop.hierarchy``); NULL for flat data"""
    auto_threshold: float = math.nan
    """the confidence threshold chosen out of fold for ``--target-precision`` (NaN: none passes yet)"""
    auto_coverage_estimated: float = math.nan
    """share of the unlabelled stop set it accepts: what a user would be told, from labels only"""
    auto_coverage_test: float = math.nan
    """share of the test set it accepts"""
    auto_precision_test: float = math.nan
    """precision of those accepted test items against the gold labels (NaN: none accepted)"""
    auto_seconds: float = math.nan
    """time the out-of-fold fits and the threshold took this cycle"""

    @classmethod
    def from_result(cls, r: CycleResult) -> CycleRecord:
        auto = r.auto
        if auto is None:
            measured: dict[str, float] = {}
        else:
            value = auto.threshold.value
            measured = {
                "auto_threshold": math.nan if value is None else value,
                "auto_coverage_estimated": auto.estimated.share,
                "auto_coverage_test": auto.test.share,
                "auto_precision_test": auto.test.precision,
                "auto_seconds": auto.seconds,
            }
        return cls(
            n_labelled=r.n_labelled,
            macro_f1=r.scores.macro_f1,
            accuracy=r.scores.accuracy,
            macro_precision=r.scores.macro_precision,
            macro_recall=r.scores.macro_recall,
            fit_seconds=r.fit_seconds,
            eval_seconds=r.eval_seconds,
            score_seconds=r.score_seconds,
            query_seconds=r.query_seconds,
            seconds=r.seconds,
            stop_reason=r.stop_reason,
            kappa=r.kappa,
            uncertainty=r.uncertainty,
            would_stop=json.dumps(r.would_stop),
            tree_scores=json.dumps(r.scores.tree) if r.scores.tree else None,
            **measured,
        )

    def values(self) -> list[Any]:
        return [getattr(self, name) for name in METRIC_COLUMNS]


SQL_TYPES = {"int": "INTEGER", "float": "REAL", "str": "TEXT", "str | None": "TEXT"}
METRIC_COLUMNS = [f.name for f in fields(CycleRecord)]
"""The metric columns of ``cycles``, in order: ``CycleRecord``'s fields."""


def cycles_schema() -> str:
    """``CREATE TABLE cycles``: keys, the record's columns, then what a resume and the report need."""
    metrics = ", ".join(f"{f.name} {SQL_TYPES[str(f.type)]}" for f in fields(CycleRecord))
    return (
        "CREATE TABLE IF NOT EXISTS cycles (strategy TEXT NOT NULL, seed INTEGER NOT NULL, "
        f"cycle INTEGER NOT NULL, {metrics}, rng_state TEXT, per_class TEXT, predictions BLOB, "
        "stop_predictions BLOB, PRIMARY KEY (strategy, seed, cycle))"
    )


@dataclass(frozen=True)
class ResumePoint:
    """Where a (strategy, seed) pair stands: the labelled positions in order, their labels, the
    next cycle to run and the RNG state to run it with; ``done`` once a criterion fired."""

    positions: np.ndarray
    labels: np.ndarray
    next_cycle: int
    rng_state: dict[str, Any]
    done: bool
    f1_history: list[float]
    kappa_history: list[float]
    stop_predictions: np.ndarray | None
    coverage_history: list[float] = field(default_factory=list)


def expand_tree_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """The JSON ``tree_scores`` column as one column per metric (``macro_f1_level_1``, ...,
    ``hier_f1``); dropped for flat data, whose cycles.csv stays as it was."""
    if "tree_scores" not in frame:
        return frame
    column = frame.pop("tree_scores")
    if column.isna().all():
        return frame
    extra = pd.DataFrame([json.loads(v) if isinstance(v, str) else {} for v in column], index=frame.index)
    return pd.concat([frame, extra], axis=1)


class ResultStore:
    """Typed access to ``results.db``; safe against a crash between any two cycles."""

    def __init__(self, path: Path):
        self.path = path
        self.db = connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a commit survives a crash of the machine too
        self.db.executescript(SCHEMA)
        self.db.execute(cycles_schema())
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A results.db from before a ``CycleRecord`` field existed gets that column (NULL in its
        old rows), so it still resumes and reports."""
        present = {row[1] for row in self.db.execute("PRAGMA table_info(cycles)")}
        with self.db:
            for f in fields(CycleRecord):
                if f.name not in present:
                    self.db.execute(f"ALTER TABLE cycles ADD COLUMN {f.name} {SQL_TYPES[str(f.type)]}")

    @classmethod
    def open_existing(cls, folder: Path) -> ResultStore:
        path = folder / "results.db"
        if not path.exists():
            raise AlloopError(f"no results.db in {folder}; give the folder an `alloop run` wrote")
        check_sqlite(path, "`alloop run`")
        return cls(path)

    def close(self) -> None:
        self.db.close()

    # -- meta ---------------------------------------------------------------------------------
    def put(self, key: str, value: object) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value, default=str))
            )

    def get(self, key: str, default: object = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    # -- per seed -----------------------------------------------------------------------------
    def save_initial(self, seed: int, positions: np.ndarray, labels: np.ndarray) -> None:
        with self.db:
            self.db.executemany(
                "INSERT INTO initial VALUES (?, ?, ?, ?)",
                [
                    (seed, r, int(p), int(lab))
                    for r, (p, lab) in enumerate(zip(positions, labels, strict=True))
                ],
            )

    def initial(self, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The seed's initial positions and their labels, in draw order."""
        rows = self.db.execute(
            "SELECT position, label FROM initial WHERE seed = ? ORDER BY rank", (seed,)
        ).fetchall()
        if not rows:
            return None
        return np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int64)

    def save_ceiling(self, seed: int, n_labelled: int, scores: Scores, seconds: float) -> None:
        if scores.tree:
            self.put(f"ceiling_tree_{seed}", scores.tree)
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO ceilings VALUES (?, ?, ?, ?, ?)",
                (seed, n_labelled, scores.macro_f1, scores.accuracy, seconds),
            )

    def ceilings(self) -> pd.DataFrame:
        """Per seed the full-pool ceiling; with a category tree, its per-level metrics as columns."""
        frame = pd.read_sql_query("SELECT * FROM ceilings ORDER BY seed", self.db)
        tree = [self.get(f"ceiling_tree_{int(seed)}") for seed in frame["seed"]]
        if any(tree):
            extra = pd.DataFrame([t or {} for t in tree], index=frame.index)
            frame = pd.concat([frame, extra], axis=1)
        return frame

    def share_ceiling(self, seed: int) -> bool:
        """Store for ``seed`` the ceiling another seed already has (it took 0 s); False if none has."""
        with self.db:
            cursor = self.db.execute(
                "INSERT INTO ceilings SELECT ?, n_labelled, macro_f1, accuracy, 0.0 FROM ceilings "
                "ORDER BY seed LIMIT 1",
                (seed,),
            )
            first = self.db.execute("SELECT seed FROM ceilings ORDER BY seed LIMIT 1").fetchone()
        if cursor.rowcount > 0 and first is not None and self.get(f"ceiling_tree_{first[0]}"):
            self.put(f"ceiling_tree_{seed}", self.get(f"ceiling_tree_{first[0]}"))
        return cursor.rowcount > 0

    def has_ceiling(self, seed: int) -> bool:
        return self.db.execute("SELECT 1 FROM ceilings WHERE seed = ?", (seed,)).fetchone() is not None

    # -- per cycle ----------------------------------------------------------------------------
    def save_cycle(
        self,
        strategy: str,
        seed: int,
        cycle: int,
        record: CycleRecord,
        scores: Scores,
        predictions: np.ndarray,
        rng_state: dict[str, Any],
        queried: list[tuple[int, object, int]],
        stop_predictions: np.ndarray,
    ) -> None:
        """One transaction: the cycle's row and its queried batch land together or not at all."""
        per_class = {
            "classes": scores.classes,
            "precision": scores.precision.tolist(),
            "recall": scores.recall.tolist(),
            "f1": scores.f1.tolist(),
            "support": scores.support.tolist(),
        }
        names = ["strategy", "seed", "cycle", *METRIC_COLUMNS, "rng_state", "per_class"]
        names += ["predictions", "stop_predictions"]
        with self.db:
            self.db.execute(
                f"INSERT INTO cycles ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                (
                    strategy,
                    seed,
                    cycle,
                    *record.values(),
                    json.dumps(rng_state),
                    json.dumps(per_class),
                    np.asarray(predictions, dtype=np.int32).tobytes(),
                    np.asarray(stop_predictions, dtype=np.int32).tobytes(),
                ),
            )
            self.db.executemany(
                "INSERT INTO queried VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (strategy, seed, cycle, r, int(p), str(i), int(lab))
                    for r, (p, i, lab) in enumerate(queried)
                ],
            )

    def resume_point(self, strategy: str, seed: int) -> ResumePoint | None:
        history = self.db.execute(
            "SELECT cycle, stop_reason, rng_state, macro_f1, kappa, stop_predictions, "
            "auto_coverage_estimated FROM cycles WHERE strategy = ? AND seed = ? ORDER BY cycle",
            (strategy, seed),
        ).fetchall()
        if not history:
            return None
        last = history[-1]
        rows = self.db.execute(
            "SELECT position, label FROM queried WHERE strategy = ? AND seed = ? ORDER BY cycle, rank",
            (strategy, seed),
        ).fetchall()
        initial = self.initial(seed)
        if initial is None:
            raise AlloopError(f"{self.path} has cycles but no initial set for seed {seed}; it is damaged")
        return ResumePoint(
            positions=np.concatenate([initial[0], np.array([r[0] for r in rows], dtype=np.int64)]),
            labels=np.concatenate([initial[1], np.array([r[1] for r in rows], dtype=np.int64)]),
            next_cycle=int(last[0]) + 1,
            rng_state=json.loads(last[2]),
            done=bool(last[1]),
            f1_history=[float(h[3]) for h in history],
            kappa_history=[float("nan") if h[4] is None else float(h[4]) for h in history],
            stop_predictions=np.frombuffer(last[5], dtype=np.int32).astype(np.int64) if last[5] else None,
            coverage_history=[math.nan if h[6] is None else float(h[6]) for h in history],
        )

    # -- reading back -------------------------------------------------------------------------
    def cycles(self) -> pd.DataFrame:
        columns = ", ".join(["strategy", "seed", "cycle", *METRIC_COLUMNS])
        frame = pd.read_sql_query(f"SELECT {columns} FROM cycles ORDER BY seed, rowid", self.db)
        frame["stop_reason"] = frame["stop_reason"].fillna("")
        return expand_tree_scores(frame)

    def queried(self) -> pd.DataFrame:
        return pd.read_sql_query(
            "SELECT strategy, seed, cycle, item_id, label FROM queried ORDER BY seed, rowid", self.db
        )

    def per_class(self) -> pd.DataFrame:
        rows = []
        for strategy, seed, cycle, blob in self.db.execute(
            "SELECT strategy, seed, cycle, per_class FROM cycles ORDER BY seed, rowid"
        ):
            pc = json.loads(blob)
            for i, name in enumerate(pc["classes"]):
                values = [pc[k][i] for k in ("precision", "recall", "f1", "support")]
                rows.append([strategy, seed, cycle, name, *values])
        columns = ["strategy", "seed", "cycle", "class", "precision", "recall", "f1", "support"]
        return pd.DataFrame(rows, columns=columns)

    def final_predictions(self) -> dict[tuple[str, int], np.ndarray]:
        """Test-set predictions of the last model of each (strategy, seed)."""
        out: dict[tuple[str, int], np.ndarray] = {}
        for strategy, seed, blob in self.db.execute(
            "SELECT strategy, seed, predictions FROM cycles c WHERE cycle = "
            "(SELECT MAX(cycle) FROM cycles d WHERE d.strategy = c.strategy AND d.seed = c.seed)"
        ):
            out[(strategy, int(seed))] = np.frombuffer(blob, dtype=np.int32)
        return out
