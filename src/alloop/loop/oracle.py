"""Oracles answer "what is the label of item X?". In simulation, the gold labels do."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from alloop.errors import AlloopError, NotFoundError

if TYPE_CHECKING:
    from alloop.data.taxonomy import Taxonomy


@runtime_checkable
class Oracle(Protocol):
    """Labels items by id. Ids, not positions, so that nothing depends on how the pool shrinks."""

    def label(self, item_ids: Sequence[object]) -> np.ndarray: ...


@runtime_checkable
class AnswersLeaf(Protocol):
    """An oracle that may answer with a parent category, and can be asked again for the leaf."""

    def label(self, item_ids: Sequence[object]) -> np.ndarray: ...

    def label_leaf(self, item_ids: Sequence[object]) -> np.ndarray: ...


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


class PartialOracle:
    """A simulated annotator who, for ``fraction`` of the items queried, knows only the parent
    category ("Electronics > ?"): the answer is then the parent's partial code
    (``Taxonomy.partial_code``). Which items is fixed by ``seed`` and the item id, so a resumed run
    gets the same answers. Asked again for an item it answered partly (``label_leaf``), it gives
    the leaf. A leaf at the top level has no parent and is always answered in full."""

    def __init__(self, base: SimulatedOracle, tree: Taxonomy, fraction: float, seed: int):
        if not 0.0 <= fraction < 1.0:
            raise AlloopError(f"`oracle_partial` must be at least 0 and below 1, got {fraction}")
        self.base = base
        self.tree = tree
        self.fraction = fraction
        self.seed = seed
        self.n_partial = 0

    def _partial(self, item_id: object) -> bool:
        draw = np.random.default_rng([self.seed, 3, zlib.crc32(str(item_id).encode("utf-8"))]).random()
        return bool(draw < self.fraction)

    def label(self, item_ids: Sequence[object]) -> np.ndarray:
        labels = self.base.label(item_ids)
        for i, item_id in enumerate(item_ids):
            leaf = self.tree.leaves[int(labels[i])]
            if len(leaf) > 1 and self._partial(item_id):
                labels[i] = self.tree.partial_code(leaf[:-1])
                self.n_partial += 1
        return labels

    def label_leaf(self, item_ids: Sequence[object]) -> np.ndarray:
        return self.base.label(item_ids)
