"""The model's suggestion: its predicted label and that label's probability, for each item.

The trainer predicts the unlabelled pool once per model version (reusing the probabilities the
query step already computed) and publishes the result with the snapshot, so ``GET /api/next``
only looks up two arrays. Items the model was trained on get no suggestion: for an item handed
to a second annotator it would repeat the first annotator's label, which nobody may see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from alloop.errors import AlloopError
from alloop.loop.query import Query
from alloop.loop.scoring import predict_in_chunks
from alloop.models import Classifier

SWITCH = {"on": True, "off": False}
TOP = 3
"""classes offered per item on a tree's page (keys 1-3)"""


def parse_switch(value: str, option: str = "`suggest`") -> bool:
    """``on`` or ``off`` (any case) as a bool; anything else is one clear error."""
    key = value.strip().lower()
    if key not in SWITCH:
        raise AlloopError(f"{option} is on or off, not {value!r}")
    return SWITCH[key]


@dataclass(frozen=True, eq=False)
class Suggestions:
    """Per pool position: the suggested class code (-1: none) and its probability."""

    label: np.ndarray
    p: np.ndarray
    top: np.ndarray | None = None
    """(n_items, TOP) class codes, most probable first (-1: none): a tree page's top paths"""
    top_p: np.ndarray | None = None

    @classmethod
    def from_query(cls, n_items: int, scored: Query) -> Suggestions | None:
        """From the probabilities in ``scored`` (positions ``scored.scored``); None without any."""
        if scored.proba is None or len(scored.scored) == 0:
            return None
        label = np.full(n_items, -1, dtype=np.int32)
        p = np.full(n_items, np.nan, dtype=np.float32)
        label[scored.scored] = np.argmax(scored.proba, axis=1)
        p[scored.scored] = np.max(scored.proba, axis=1)
        k = min(TOP, scored.proba.shape[1])
        best = np.argpartition(-scored.proba, k - 1, axis=1)[:, :k] if k < scored.proba.shape[1] else None
        if best is None:
            best = np.broadcast_to(np.arange(k), (len(scored.proba), k))
        order = np.argsort(-np.take_along_axis(scored.proba, best, axis=1), axis=1, kind="stable")
        best = np.take_along_axis(best, order, axis=1)
        top = np.full((n_items, k), -1, dtype=np.int32)
        top_p = np.zeros((n_items, k), dtype=np.float32)
        top[scored.scored] = best
        top_p[scored.scored] = np.take_along_axis(scored.proba, best, axis=1)
        return cls(label, p, top, top_p)

    def at(self, pos: int, labels: Sequence[str]) -> tuple[str, float] | None:
        """``(label, p)`` for ``pos``, or None when the model has no suggestion for it."""
        code = int(self.label[pos])
        if code < 0:
            return None
        return labels[code], round(float(self.p[pos]), 4)

    def top_at(self, pos: int, labels: Sequence[str]) -> list[dict[str, object]]:
        """The model's ``TOP`` most probable classes for ``pos`` as ``{"label", "p"}``, best first."""
        if self.top is None or self.top_p is None or self.top[pos, 0] < 0:
            return []
        return [
            {"label": labels[int(c)], "p": round(float(q), 4)}
            for c, q in zip(self.top[pos], self.top_p[pos], strict=True)
        ]

    def __len__(self) -> int:
        return int(np.count_nonzero(self.label >= 0))


def pool_predictions(
    model: Classifier, texts: Sequence[str], unlabelled: np.ndarray, ranked: Query, complete: bool
) -> Query:
    """``ranked`` with probabilities for every unlabelled item: those the query step scored are
    reused, the rest predicted now (only when ``complete``: a fine-tuned encoder scoring the whole
    pool each round would stall the loop, so it suggests only for what the strategy scored)."""
    have = ranked.scored if ranked.proba is not None else np.empty(0, dtype=np.int64)
    missing = np.setdiff1d(unlabelled, have) if complete else np.empty(0, dtype=np.int64)
    if len(missing) == 0:
        return ranked
    extra = predict_in_chunks(model, [texts[p] for p in missing])
    if ranked.proba is None or len(have) == 0:
        return replace(ranked, scored=missing, proba=extra)
    return replace(
        ranked,
        scored=np.concatenate([have, missing]),
        proba=np.concatenate([ranked.proba, extra.astype(ranked.proba.dtype)]),
    )
