"""Classifiers behind one protocol, ``fit(texts, labels)`` and ``predict_proba(texts)``, with the
abilities each declares (``Embedder``, ``JointScorer``, ``Precomputes``, ``SlowToFit``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from alloop.models.base import Classifier, Embedder, JointScorer, Precomputes, SlowToFit
from alloop.models.config import (
    CLASSIFIER_MODULES,
    CLASSIFIER_TYPES,
    CLASSIFIERS,
    DEFAULT_CLASSIFIER,
    ModelConfig,
    classifier_type,
    has_text_encoder,
)

if TYPE_CHECKING:
    from alloop.data.taxonomy import Taxonomy
    from alloop.models.encoder import Encoder
    from alloop.models.finetune import FineTunedClassifier
    from alloop.models.frozen import FrozenEncoderClassifier
    from alloop.models.hybrid import HybridClassifier
    from alloop.models.tfidf import TfidfClassifier

_LAZY = {"Encoder": "alloop.models.encoder", **CLASSIFIER_MODULES}


def __getattr__(name: str) -> Any:
    """torch, transformers and scikit-learn load on first use of a classifier, not on import:
    ``alloop --help`` and the labelling commands start in about a second."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def classifier_factory(
    config: ModelConfig, n_classes: int, tree: Taxonomy | None = None
) -> Callable[[int], Classifier]:
    """A function seed -> fresh classifier. Transformer classifiers share one ``Encoder``, so the
    model loads once and every text is tokenised and embedded once per run. With a category
    ``tree`` and ``tree_heads="levels"``, a top-level head and a leaf head (``models/tree.py``)."""
    build = _builder(config)
    if tree is None or tree.is_flat or config.tree_heads == "leaf":
        return lambda seed: build(seed, n_classes)
    from alloop.models.tree import LevelHeads

    n_top = len(tree.level_nodes(1))
    return lambda seed: LevelHeads(tree, build(seed, n_top), build(seed, n_classes))  # type: ignore[return-value]


def _builder(config: ModelConfig) -> Callable[[int, int], Classifier]:
    """A function (seed, number of classes) -> fresh classifier, sharing what a run shares."""
    config.validate()
    if config.classifier == "tfidf":
        from alloop.models.tfidf import SvdEmbedder, TfidfClassifier

        embedder = SvdEmbedder()  # shared: the pool's LSA embedding is fitted once per run
        return lambda seed, n_classes: TfidfClassifier(n_classes, seed=seed, embedder=embedder)
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
        return lambda seed, n_classes: FrozenEncoderClassifier(encoder, n_classes, seed=seed)
    if config.classifier == "hybrid":
        ngrams, graph = NgramFeatures(), PoolGraph()  # shared: built from the pool once per run
        return lambda seed, n_classes: HybridClassifier(
            encoder, n_classes, seed=seed, features=ngrams, graph_weight=config.graph_weight, graph=graph
        )
    return lambda seed, n_classes: FineTunedClassifier(
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
    "CLASSIFIER_MODULES",
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
    "classifier_type",
    "has_text_encoder",
]
