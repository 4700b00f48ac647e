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


NOISE_KINDS = ("uniform", "confusion")
"""``--oracle-noise-kind``: a wrong answer names any other class alike (``uniform``), or a class
the model confuses with the right one (``confusion``: people mix up what models mix up)."""


def check_noise(rate: float, kind: str = "uniform") -> None:
    if not isinstance(rate, int | float) or not 0.0 <= rate < 1.0 or rate != rate:
        raise AlloopError(f"`oracle_noise` must be at least 0 and below 1 (e.g. 0.1), got {rate}")
    if kind not in NOISE_KINDS:
        raise AlloopError(f"unknown `oracle_noise_kind` {kind!r}; choose {' or '.join(NOISE_KINDS)}")


class NoisyOracle:
    """A simulated annotator who answers wrong on a share ``rate`` of the items (a label-noise
    model). Whether an item's answer is wrong, and which wrong class it names, is fixed by
    ``seed`` and the item id, so the same run gives the same answers, a resumed run too.

    The wrong class is drawn uniformly from the other classes, or, with ``similar`` (an
    ``(n_classes, n_classes)`` matrix whose row ``c`` weighs the classes confused with ``c``;
    its diagonal is ignored), in proportion to that row. ``flipped`` maps each item answered
    wrong so far to (gold, answer)."""

    def __init__(
        self,
        base: SimulatedOracle,
        n_classes: int,
        rate: float,
        seed: int,
        similar: np.ndarray | None = None,
    ):
        check_noise(rate)
        if n_classes < 2:
            raise AlloopError("`oracle_noise` needs at least two classes to answer wrong")
        self.base = base
        self.n_classes = n_classes
        self.rate = rate
        self.seed = seed
        self.similar = None if similar is None else flip_weights(np.asarray(similar, dtype=float))
        self.flipped: dict[object, tuple[int, int]] = {}

    def _wrong(self, item_id: object, gold: int) -> int | None:
        if gold < 0:  # a partial label is answered as it is
            return None
        rng = np.random.default_rng([self.seed, 5, zlib.crc32(str(item_id).encode("utf-8"))])
        if rng.random() >= self.rate:
            return None
        if self.similar is not None:
            return int(rng.choice(self.n_classes, p=self.similar[gold]))
        other = int(rng.integers(self.n_classes - 1))
        return other + (other >= gold)

    def _noisy(self, item_ids: Sequence[object], labels: np.ndarray) -> np.ndarray:
        labels = labels.copy()
        for i, item_id in enumerate(item_ids):
            wrong = self._wrong(item_id, int(labels[i]))
            if wrong is not None:
                self.flipped[item_id] = (int(labels[i]), wrong)
                labels[i] = wrong
        return labels

    def label(self, item_ids: Sequence[object]) -> np.ndarray:
        return self._noisy(item_ids, self.base.label(item_ids))

    def label_leaf(self, item_ids: Sequence[object]) -> np.ndarray:
        leaf = getattr(self.base, "label_leaf", None)
        return self._noisy(item_ids, np.asarray(leaf(item_ids) if leaf else self.base.label(item_ids)))


def flip_weights(similar: np.ndarray) -> np.ndarray:
    """Rows of ``similar`` with the diagonal removed and normalised to sum to 1; a row with no
    weight off the diagonal (a class never confused) flips uniformly."""
    weights = np.clip(similar, 0.0, None).astype(float)
    np.fill_diagonal(weights, 0.0)
    n = len(weights)
    totals = weights.sum(axis=1, keepdims=True)
    uniform = (np.ones((n, n)) - np.eye(n)) / max(n - 1, 1)
    return np.where(totals > 0, weights / np.where(totals > 0, totals, 1.0), uniform)
