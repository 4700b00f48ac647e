"""What a project's model can be trusted with, from its labels alone: which items it may label
on its own at a target precision (``alloop.loop.autolabel``), and which people's labels it
strongly disagrees with (``alloop.loop.label_errors``, cleanlab).

Both start from the same out-of-fold probabilities of the labelled items (each predicted by a
model trained on the other four fifths), computed by the trainer once per model version and by
``predict``/``export --min-precision`` on demand (five fits of the project's classifier).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from alloop.labelling.config import LabelConfig
from alloop.labelling.storage.store import Items
from alloop.loop.autolabel import (
    DEFAULT_CONFIDENCE,
    DEFAULT_TARGET_PRECISION,
    MIN_LABELS,
    Calibration,
    Threshold,
    calibrate,
    decide,
    percent,
)
from alloop.loop.label_errors import suspected_errors
from alloop.models import Classifier

if TYPE_CHECKING:
    from alloop.labelling.domain.trainer import TrainingSet

TRUST_KEY = "trust"
"""label.db meta: the last model's auto-labelling summary, for ``label-stats`` without a server"""


def project_calibration(
    config: LabelConfig,
    items: Items,
    data: TrainingSet,
    factory: Callable[[int], Classifier],
) -> Calibration | None:
    """Out-of-fold probabilities of the project's final (leaf) labels and the fold models (five
    fits); None with fewer than ``MIN_LABELS`` labels."""
    if len(data.labels) < MIN_LABELS:
        return None
    return calibrate(
        lambda: factory(config.seed),
        [items.texts[p] for p in data.positions],
        data.labels,
        len(config.labels),
        config.seed,
        pool_texts=items.texts,
    )


@dataclass(frozen=True)
class AutoLabelled:
    """The items without a final label that the model may label on its own."""

    threshold: Threshold
    n_accepted: int
    n_open: int
    """items without a final label (the ones the threshold was applied to)"""
    n_items: int

    @property
    def share(self) -> float:
        """of the whole catalogue"""
        return self.n_accepted / self.n_items if self.n_items else 0.0

    def line(self) -> str:
        """``auto-labelled at 95% precision: N items (X% of the catalogue)``, and how sure."""
        t = self.threshold
        return (
            f"auto-labelled at {percent(t.target)} precision: {self.n_accepted:,} items "
            f"({self.share:.1%} of the catalogue); {t.describe()}"
        )

    def as_json(self) -> dict[str, Any]:
        t = self.threshold
        return {
            "target": t.target,
            "confidence": t.confidence,
            "threshold": t.value,
            "n_accepted": self.n_accepted,
            "n_open": self.n_open,
            "n_items": self.n_items,
            "share": self.share,
            "n_labelled": t.n_labelled,
            "lower_bound": t.lower_bound if t.value is not None else None,
            "line": self.line(),
        }


def auto_labelled(
    calibration: Calibration,
    texts: list[str],
    predicted: np.ndarray,
    n_items: int,
    target: float = DEFAULT_TARGET_PRECISION,
    level: float = DEFAULT_CONFIDENCE,
) -> tuple[AutoLabelled, np.ndarray]:
    """The threshold for ``target``, which of ``texts`` (the open items, or new ones, whose labels
    by the model trained on every label are ``predicted``) it auto-accepts (``loop.autolabel
    .decide``), and the summary."""
    threshold = calibration.threshold(target, level)
    if threshold.value is None or not texts:
        accepted = np.zeros(len(texts), dtype=bool)
    else:
        accepted = decide(threshold, calibration.least_proba(texts), predicted)
    return AutoLabelled(threshold, int(accepted.sum()), len(texts), n_items), accepted


def suspects(
    calibration: Calibration, data: TrainingSet, labels: tuple[str, ...], decided: set[int]
) -> list[tuple[int, str, str, float]]:
    """The suspected label errors among the final labels, as (position, given label, predicted
    label, confidence), the most confident disagreement first; items a reviewer decided are
    never suspects (a decision is final)."""
    return [
        (int(data.positions[e.index]), labels[e.given], labels[e.predicted], e.confidence)
        for e in suspected_errors(calibration.proba, calibration.labels)
        if int(data.positions[e.index]) not in decided
    ]
