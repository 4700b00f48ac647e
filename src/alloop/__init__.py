"""alloop: active learning for text classification.

The Python API, for notebooks and scripts (docs/python-api.md): everything below is importable
as ``from alloop import NAME`` and kept stable. Names are imported on first use, so
``import alloop`` (and the ``alloop`` command's start) does not pay for torch or scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = {
    # data
    "load_dataset": "alloop.data",
    "TextDataset": "alloop.data",
    # classifiers and what they can do
    "ModelConfig": "alloop.models",
    "classifier_factory": "alloop.models",
    "CLASSIFIERS": "alloop.models",
    "Classifier": "alloop.models",
    "Embedder": "alloop.models",
    "JointScorer": "alloop.models",
    # strategies
    "get_strategy": "alloop.strategies",
    "Strategy": "alloop.strategies",
    "STRATEGIES": "alloop.strategies",
    # the loop, step by step or whole
    "ActiveLearner": "alloop.loop",
    "CycleResult": "alloop.loop",
    "draw_initial": "alloop.loop",
    "Oracle": "alloop.loop.oracle",
    "SimulatedOracle": "alloop.loop.oracle",
    "MaxCycles": "alloop.loop.stopping",
    "LabelBudget": "alloop.loop.stopping",
    "TargetF1": "alloop.loop.stopping",
    "evaluate": "alloop.loop.evaluation",
    # experiments
    "RunConfig": "alloop.simulate.config",
    "run_experiment": "alloop.simulate.experiment",
    # errors
    "AlloopError": "alloop.errors",
    "AlloopBug": "alloop.errors",
    "ConflictError": "alloop.errors",
    "EmptyPoolError": "alloop.errors",
    "NotFittedError": "alloop.errors",
    "NotFoundError": "alloop.errors",
    "StorageError": "alloop.errors",
}

__all__ = [
    "CLASSIFIERS",
    "STRATEGIES",
    "ActiveLearner",
    "AlloopBug",
    "AlloopError",
    "Classifier",
    "ConflictError",
    "CycleResult",
    "Embedder",
    "EmptyPoolError",
    "JointScorer",
    "LabelBudget",
    "MaxCycles",
    "ModelConfig",
    "NotFittedError",
    "NotFoundError",
    "Oracle",
    "RunConfig",
    "SimulatedOracle",
    "StorageError",
    "Strategy",
    "TargetF1",
    "TextDataset",
    "__version__",
    "classifier_factory",
    "draw_initial",
    "evaluate",
    "get_strategy",
    "load_dataset",
    "run_experiment",
]

if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from alloop.data import TextDataset, load_dataset
    from alloop.errors import (
        AlloopBug,
        AlloopError,
        ConflictError,
        EmptyPoolError,
        NotFittedError,
        NotFoundError,
        StorageError,
    )
    from alloop.loop import ActiveLearner, CycleResult, draw_initial
    from alloop.loop.evaluation import evaluate
    from alloop.loop.oracle import Oracle, SimulatedOracle
    from alloop.loop.stopping import LabelBudget, MaxCycles, TargetF1
    from alloop.models import CLASSIFIERS, Classifier, Embedder, JointScorer, ModelConfig, classifier_factory
    from alloop.simulate.config import RunConfig
    from alloop.simulate.experiment import run_experiment
    from alloop.strategies import STRATEGIES, Strategy, get_strategy


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'alloop' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
