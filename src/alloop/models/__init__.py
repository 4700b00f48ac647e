"""Classifiers behind one protocol: ``fit(texts, labels)`` and ``predict_proba(texts)``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alloop.errors import AlloopError
from alloop.models.base import Classifier
from alloop.models.precision import PRECISIONS

if TYPE_CHECKING:
    from alloop.models.encoder import Encoder
    from alloop.models.finetune import FineTunedClassifier
    from alloop.models.frozen import FrozenEncoderClassifier
    from alloop.models.tfidf import TfidfClassifier

_LAZY = {
    "Encoder": "alloop.models.encoder",
    "FineTunedClassifier": "alloop.models.finetune",
    "FrozenEncoderClassifier": "alloop.models.frozen",
    "TfidfClassifier": "alloop.models.tfidf",
}


def __getattr__(name: str) -> Any:
    """torch, transformers and scikit-learn load on first use of a classifier, not on import:
    ``alloop --help`` and the labelling commands start in about a second."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


CLASSIFIERS = ("tfidf", "bert-frozen", "bert")


@dataclass(frozen=True)
class ModelConfig:
    """Everything that decides which classifier is built and how it trains."""

    classifier: str = "bert-frozen"
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

    def validate(self) -> ModelConfig:
        if self.classifier not in CLASSIFIERS:
            raise AlloopError(
                f"unknown classifier {self.classifier!r}; choose one of {', '.join(CLASSIFIERS)}"
            )
        if self.precision not in PRECISIONS:
            choices = ", ".join(PRECISIONS)
            raise AlloopError(f"unknown --precision {self.precision!r}; choose one of {choices}")
        if self.device is not None and not re.fullmatch(r"cpu|cuda(:\d+)?|mps|xpu(:\d+)?", self.device):
            raise AlloopError(f"unknown --device {self.device!r}; use cpu, cuda or cuda:N")
        return self


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
    "Classifier",
    "Encoder",
    "FineTunedClassifier",
    "FrozenEncoderClassifier",
    "ModelConfig",
    "TfidfClassifier",
    "classifier_factory",
]
