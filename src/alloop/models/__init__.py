"""Classifiers behind one protocol, ``fit(texts, labels)`` and ``predict_proba(texts)``, with the
abilities each declares (``Embedder``, ``JointScorer``, ``Precomputes``, ``SlowToFit``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alloop.errors import AlloopError
from alloop.models.base import Classifier, Embedder, JointScorer, Precomputes, SlowToFit
from alloop.models.precision import PRECISIONS

if TYPE_CHECKING:
    from alloop.models.encoder import Encoder
    from alloop.models.finetune import FineTunedClassifier
    from alloop.models.frozen import FrozenEncoderClassifier
    from alloop.models.hybrid import HybridClassifier
    from alloop.models.tfidf import TfidfClassifier

_LAZY = {
    "Encoder": "alloop.models.encoder",
    "FineTunedClassifier": "alloop.models.finetune",
    "FrozenEncoderClassifier": "alloop.models.frozen",
    "HybridClassifier": "alloop.models.hybrid",
    "TfidfClassifier": "alloop.models.tfidf",
}


def __getattr__(name: str) -> Any:
    """torch, transformers and scikit-learn load on first use of a classifier, not on import:
    ``alloop --help`` and the labelling commands start in about a second."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    return entry if isinstance(entry, type) else __getattr__(entry)


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
    """hybrid: share of label spreading over the pool's neighbour graph; ``hybrid.GRAPH_WEIGHT``,
    written out here so the CLI does not import scikit-learn to show its help"""

    def validate(self) -> ModelConfig:
        if self.classifier not in CLASSIFIER_TYPES:
            raise AlloopError(
                f"unknown classifier {self.classifier!r}; choose one of {', '.join(CLASSIFIER_TYPES)}"
            )
        if self.precision not in PRECISIONS:
            choices = ", ".join(PRECISIONS)
            raise AlloopError(f"unknown --precision {self.precision!r}; choose one of {choices}")
        if self.epochs < 1 or self.batch_size < 1:
            raise AlloopError("--epochs and --batch-size must be at least 1")
        if not 0.0 <= self.graph_weight < 1.0:
            raise AlloopError(f"--graph-weight must be at least 0 and below 1, got {self.graph_weight}")
        if self.max_length < 8:
            raise AlloopError(f"--max-length must be at least 8, got {self.max_length}")
        if self.device is not None and not re.fullmatch(r"cpu|cuda(:\d+)?|mps|xpu(:\d+)?", self.device):
            raise AlloopError(f"unknown --device {self.device!r}; use cpu, cuda or cuda:N")
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
                f"{what} needs embeddings, which --classifier {self.classifier} does not give; "
                f"choose another strategy or a classifier with embeddings"
            )


def classifier_factory(config: ModelConfig, n_classes: int) -> Callable[[int], Classifier]:
    """A function seed -> fresh classifier. Transformer classifiers share one ``Encoder``, so the
    model loads once and every text is tokenised and embedded once per run."""
    config.validate()
    if config.classifier == "tfidf":
        from alloop.models.tfidf import SvdEmbedder, TfidfClassifier

        embedder = SvdEmbedder()  # shared: the pool's LSA embedding is fitted once per run
        return lambda seed: TfidfClassifier(n_classes, seed=seed, embedder=embedder)
    from alloop.models.cache import default_cache_dir
    from alloop.models.encoder import Encoder
    from alloop.models.finetune import FineTunedClassifier
    from alloop.models.frozen import FrozenEncoderClassifier
    from alloop.models.graph import PoolGraph
    from alloop.models.hybrid import HybridClassifier, NgramFeatures

    cache_dir = (config.cache_dir or default_cache_dir()) if config.cache else None
    encoder = Encoder(
        config.model,
        max_length=config.max_length,
        device=config.device,
        precision=config.precision,
        cache_dir=cache_dir,
    )
    if config.classifier == "bert-frozen":
        return lambda seed: FrozenEncoderClassifier(encoder, n_classes, seed=seed)
    if config.classifier == "hybrid":
        ngrams, graph = NgramFeatures(), PoolGraph()  # shared: built from the pool once per run
        return lambda seed: HybridClassifier(
            encoder, n_classes, seed=seed, features=ngrams, graph_weight=config.graph_weight, graph=graph
        )
    return lambda seed: FineTunedClassifier(
        encoder,
        n_classes,
        seed=seed,
        epochs=config.epochs,
        lr=config.lr,
        head_lr=config.head_lr,
        batch_size=config.batch_size,
        warm_start=config.warm_start,
        max_steps=config.max_steps,
    )


__all__ = [
    "CLASSIFIERS",
    "CLASSIFIER_TYPES",
    "DEFAULT_CLASSIFIER",
    "Classifier",
    "Embedder",
    "Encoder",
    "FineTunedClassifier",
    "FrozenEncoderClassifier",
    "HybridClassifier",
    "JointScorer",
    "ModelConfig",
    "Precomputes",
    "SlowToFit",
    "TfidfClassifier",
    "classifier_factory",
]
