"""The model's estimated quality over time: one point per model version (labels trained on, the
macro-F1 estimate), kept in ``label.db`` (meta ``model_history``) so the page's chart survives
restarts. A curve, not the last bouncing number: cross-validated estimates on a few labels jump.
"""

from __future__ import annotations

from typing import Any

from alloop.labelling.domain.queue import Snapshot
from alloop.labelling.storage.store import LabelStore, now_iso

KEY = "model_history"
MAX_POINTS = 1000
"""beyond this, every other point of the older half is dropped: the curve keeps its shape"""


def record(store: LabelStore, snapshot: Snapshot) -> None:
    """Append the snapshot's model (call once per published model version)."""
    estimate = snapshot.estimate
    points = history(store)
    points.append(
        {
            "version": snapshot.version,
            "labels": snapshot.n_trained,
            "macro_f1": None if estimate is None else round(estimate.macro_f1, 4),
            "estimate": None if estimate is None else estimate.method,
            "estimate_n": 0 if estimate is None else estimate.n,
            "at": now_iso(),
        }
    )
    if len(points) > MAX_POINTS:
        half = len(points) // 2
        points = points[:half:2] + points[half:]
    store.put_meta(KEY, points)


def history(store: LabelStore) -> list[dict[str, Any]]:
    """Every recorded point, oldest first."""
    value = store.get_meta(KEY, [])
    return list(value) if isinstance(value, list) else []
