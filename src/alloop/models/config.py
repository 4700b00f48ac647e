"""The model registry and ``ModelConfig``: each ``--classifier`` name and its class, and every
model option with its only default. Light on purpose (no torch, no scikit-learn): the CLI reads
the defaults to show ``--help``, and the classifiers read them as their own defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass

from alloop.errors import AlloopError
from alloop.models.base import Embedder
from alloop.models.precision import PRECISIONS

CLASSIFIER_MODULES = {
    "FineTunedClassifier": "alloop.models.finetune",
    "FrozenEncoderClassifier": "alloop.models.frozen",
    "HybridClassifier": "alloop.models.hybrid",
    "TfidfClassifier": "alloop.models.tfidf",
}
"""Where each classifier class lives (imported on first use)."""

CLASSIFIER_TYPES: dict[str, str | type] = {
    "tfidf": "TfidfClassifier",
    "bert-frozen": "FrozenEncoderClassifier",
    "hybrid": "HybridClassifier",
    "bert": "FineTunedClassifier",
}
"""Each ``--classifier`` name and its class (imported on first use): the class declares what the
classifier can do, so a configuration that cannot work is refused before anything is built."""
CLASSIFIERS = tuple(CLASSIFIER_TYPES)


def classifier_type(name: str) -> type:
    """The class behind ``--classifier name`` (a registered class, or the name of one to import)."""
    entry = CLASSIFIER_TYPES[name]
    if isinstance(entry, type):
        return entry
    import importlib

    return getattr(importlib.import_module(CLASSIFIER_MODULES[entry]), entry)


def has_text_encoder(name: str) -> bool:
    """Whether classifier ``name`` is built on a pretrained text encoder (``HasTextEncoder``),
    asked of its class before anything is built or loaded."""
    return isinstance(getattr(classifier_type(name), "text_encoder", None), property)


DEFAULT_CLASSIFIER = "hybrid"
"""The default of ``alloop run`` and ``alloop label``: measured best in docs/strategies.md."""


@dataclass(frozen=True)
class ModelConfig:
    """Everything that decides which classifier is built and how it trains."""

    classifier: str = DEFAULT_CLASSIFIER
    model: str | None = None
    max_length: int = 64
    epochs: int = 3
    lr: float = 1e-4
    head_lr: float = 1e-3
    batch_size: int = 16
    warm_start: bool = False
    max_steps: int | None = None
    device: str | None = None
    precision: str = "fp32"
    cache: bool = True
    cache_dir: str | None = None
    graph_weight: float = 0.5
    """hybrid: share of label spreading over the pool's neighbour graph in the probabilities (0:
    the linear head alone). On a validation split of the amazon-in pool 0.3, 0.5 and 0.7 gave
    margin AULC 0.746, 0.751 and 0.737 against 0.714 without (bench/graph_design.py)."""
    tree_heads: str = "leaf"
    """With a category tree: ``leaf`` trains one model on the leaves and sums their probabilities
    up the tree; ``levels`` adds a top-level model that sets each branch's share
    (``models/tree.py``; measured in docs/taxonomy.md)."""

    def validate(self) -> ModelConfig:
        if self.classifier not in CLASSIFIER_TYPES:
            raise AlloopError(
                f"unknown classifier {self.classifier!r}; choose one of {', '.join(CLASSIFIER_TYPES)}"
            )
        if self.precision not in PRECISIONS:
            choices = ", ".join(PRECISIONS)
            raise AlloopError(f"unknown `precision` {self.precision!r}; choose one of {choices}")
        if self.epochs < 1 or self.batch_size < 1:
            raise AlloopError("`epochs` and `batch_size` must be at least 1")
        if not 0.0 <= self.graph_weight < 1.0:
            raise AlloopError(f"`graph_weight` must be at least 0 and below 1, got {self.graph_weight}")
        if self.tree_heads not in ("leaf", "levels"):
            raise AlloopError(f"unknown `tree_heads` {self.tree_heads!r}; choose leaf or levels")
        if self.max_length < 8:
            raise AlloopError(f"`max_length` must be at least 8, got {self.max_length}")
        if self.device is not None and not re.fullmatch(r"cpu|cuda(:\d+)?|mps|xpu(:\d+)?", self.device):
            raise AlloopError(f"unknown `device` {self.device!r}; use cpu, cuda or cuda:N")
        return self

    def can_embed(self) -> bool:
        """Whether this classifier gives embeddings (for diversity strategies, the near-duplicate
        guard and the k-means cold start), known from its class before it is built."""
        self.validate()
        return issubclass(classifier_type(self.classifier), Embedder)

    def require_embeddings(self, what: str) -> None:
        """Refuse, before any work, a configuration where ``what`` needs embeddings this
        classifier does not give."""
        if not self.can_embed():
            raise AlloopError(
                f"{what} needs embeddings, which `classifier` {self.classifier} does not give; "
                f"choose another strategy or a classifier with embeddings"
            )
