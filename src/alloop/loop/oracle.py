"""Oracles answer "what is the label of item X?". In simulation, the gold labels do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from alloop.errors import AlloopError, NotFoundError


@runtime_checkable
class Oracle(Protocol):
    """Labels items by id. Ids, not positions, so that nothing depends on how the pool shrinks."""

    def label(self, item_ids: Sequence[object]) -> np.ndarray: ...


class SimulatedOracle:
    """Reveals the gold label of each queried id and counts how many it revealed."""

    def __init__(self, item_ids: Sequence[object], labels: Sequence[int]):
        if len(item_ids) != len(labels):
            raise AlloopError(f"{len(item_ids)} item ids but {len(labels)} labels")
        self._gold = dict(zip(item_ids, labels, strict=True))
        if len(self._gold) != len(item_ids):
            raise AlloopError("item ids must be unique for the oracle to know which label is whose")
        self.n_revealed = 0

    def label(self, item_ids: Sequence[object]) -> np.ndarray:
        try:
            labels = np.array([self._gold[i] for i in item_ids], dtype=np.int64)
        except KeyError as exc:
            raise NotFoundError(f"the oracle has no item with id {exc.args[0]!r}") from None
        self.n_revealed += len(labels)
        return labels
