"""The classifier protocol every model follows, the abilities a model may declare, and helpers.

Abilities are typed protocols, checked with ``isinstance`` (or ``issubclass`` on the class, before
anything is built): the engine asks a classifier what it can do instead of probing attributes or
comparing classifier names.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np

from alloop.errors import AlloopError, EmptyPoolError

if TYPE_CHECKING:
    from alloop.models.graph import PoolGraph


@runtime_checkable
class Classifier(Protocol):
    """What the loop needs of a model: train on labelled texts, give class probabilities.

    ``predict_proba`` always returns ``(len(texts), n_classes)`` columns in the dataset's class
    order, even for classes the labelled set has not reached yet (probability 0), so strategies
    and metrics never see a shifted column.
    """

    n_classes: int

    def fit(self, texts: Sequence[str], labels: np.ndarray) -> Classifier: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


Progress = Callable[[int], None]
"""Called with the number of texts just processed, to drive a progress bar."""


@runtime_checkable
class Embedder(Protocol):
    """Can place texts in a vector space: what diversity strategies (badge, coreset,
    cluster-margin), the near-duplicate guard and the k-means cold start need.

    The engine always passes the whole pool and indexes the rows it wants, since an embedding may
    be fitted on the texts it is given (tfidf's LSA is).
    """

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class JointScorer(Protocol):
    """Gives probabilities and embeddings from one forward pass (a fine-tuned encoder), so a
    strategy that needs both does not pay for the encoder twice."""

    def predict_proba_and_embed(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]: ...


@runtime_checkable
class Precomputes(Protocol):
    """Has slow per-text work that does not depend on training (a frozen encoder's embeddings,
    cached per text): a front end runs it once up front, with a progress bar, instead of inside
    the first cycle."""

    def precompute(self, texts: Sequence[str], progress: Progress | None = None) -> None: ...


@runtime_checkable
class HasTextEncoder(Protocol):
    """Built on a pretrained text encoder (``text_encoder``, used frozen): it can embed class names
    (the label-names cold start), and it runs faster on a GPU when one is present."""

    @property
    def text_encoder(self) -> Embedder: ...


@runtime_checkable
class FrozenFeatures(Protocol):
    """Its features are a frozen encoder's embeddings (``frozen_encoder``), which do not depend on
    training: they can be computed anywhere, e.g. sharded over Ray workers, and cached."""

    @property
    def frozen_encoder(self) -> Embedder: ...


@runtime_checkable
class SlowToFit(Protocol):
    """Declares that one ``fit`` takes minutes (fine-tuning an encoder): the live trainer then
    skips its 5-fold cross-validated estimate, which would cost five more fits every round."""

    slow_to_fit: Literal[True]


@runtime_checkable
class Saveable(Protocol):
    """Can be saved without what it shares with other classifiers of a run (the transformer,
    tfidf's LSA embedder, the hybrid's per-text n-gram rows): ``detached`` is a copy holding only
    what training made, ``reattached`` takes the shared parts from a freshly built classifier."""

    def detached(self) -> Classifier: ...

    def reattached(self, fresh: Classifier) -> Classifier: ...


class SharesResources:
    """``Saveable`` for a classifier that names its shared attributes in ``shared``."""

    shared: ClassVar[tuple[str, ...]] = ()

    def detached(self) -> Classifier:
        clone = copy.copy(self)
        for name in self.shared:
            setattr(clone, name, None)
        return clone  # type: ignore[return-value]

    def reattached(self, fresh: Classifier) -> Classifier:
        for name in self.shared:
            setattr(self, name, getattr(fresh, name))
        return self  # type: ignore[return-value]


def check_fit_input(texts: Sequence[str], labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Validate training input the way scikit-learn estimators do, with a message a user can act on."""
    labels = np.asarray(labels)
    if len(texts) != len(labels):
        raise AlloopError(f"{len(texts)} texts but {len(labels)} labels; they must align")
    if len(labels) == 0:
        raise EmptyPoolError("cannot train on an empty labelled set; raise `initial`")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise AlloopError(f"label codes must lie in 0..{n_classes - 1}")
    return labels.astype(np.int64)


def expand_proba(proba: np.ndarray, seen: np.ndarray, n_classes: int) -> np.ndarray:
    """Place a model's columns (for the classes it has seen) into the full class space."""
    full = np.zeros((proba.shape[0], n_classes), dtype=np.float64)
    full[:, seen] = proba
    return full


def constant_proba(n_rows: int, label: int, n_classes: int) -> np.ndarray:
    """What a model trained on a single class can honestly say: that class, always."""
    full = np.zeros((n_rows, n_classes), dtype=np.float64)
    full[:, label] = 1.0
    return full


@runtime_checkable
class LearnsFromPool(Protocol):
    """A classifier that learns label-free features (an n-gram vocabulary) from the unlabelled pool.

    Every text the loop may score is known before the first label, so learning the vocabulary
    from all of them once is both legitimate and cheaper than refitting it on the labels each cycle.
    """

    def fit_unlabelled(self, texts: Sequence[str]) -> object: ...


@runtime_checkable
class HasPoolGraph(Protocol):
    """A classifier that keeps a neighbour graph over its pool (the hybrid's label spreading), so
    that other steps needing neighbours (the near-labelled sampler) reuse it instead of building one."""

    graph: PoolGraph


def with_pool(classifier: Classifier, pool_texts: Sequence[str]) -> Classifier:
    """``classifier``, told about the unlabelled pool when it can learn from one."""
    if isinstance(classifier, LearnsFromPool):
        classifier.fit_unlabelled(pool_texts)
    return classifier


def fit_depends_on_seed(classifier: Classifier) -> bool:
    """Whether two fits on the same data with different seeds may differ (fine-tuning: yes; a
    convex linear head solved by newton-cg: no). Unknown classifiers are assumed to depend on it."""
    return bool(getattr(classifier, "seed_dependent_fit", True))
