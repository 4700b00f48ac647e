"""The project's trained model, kept in ``DIR/model/`` so ``predict`` and ``export`` reuse it.

Training a ``bert-frozen`` or ``hybrid`` head takes seconds, fine-tuning ``bert`` minutes: paying
that on every ``alloop predict`` would make people avoid it. The model is saved with a
fingerprint of what it learnt from (the final labels, the label set, the model settings and the
seed) and reused while the fingerprint holds; any changed final label retrains it.

Only what training produced is saved (the linear head, the n-gram vocabulary, the hybrid's
neighbour graph and the labels spread over it). The sentence encoder is a shared, read-only
resource rebuilt from the project's settings on load, so a saved model never carries a copy of the
transformer weights it did not change.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alloop.errors import EmptyPoolError
from alloop.labelling.config import LabelConfig
from alloop.labelling.domain.trainer import TrainingSet, fit_model, training_set
from alloop.labelling.storage.store import Items, LabelStore, now_iso
from alloop.models import Classifier, classifier_factory
from alloop.models.base import Saveable

MODEL_DIR = "model"
MODEL_FILE = "model.joblib"
INFO_FILE = "model.json"
FORMAT = 1
RUNTIME_KEYS = ("device", "cache", "cache_dir")
"""Model settings that change where and how fast it runs, not what it learns."""


@dataclass(frozen=True)
class Fingerprint:
    labels: str
    """hash of the final labels (item positions and classes)"""
    settings: str
    """hash of the label set, the seed and the model settings that change what is learnt"""


@dataclass
class ProjectModel:
    model: Classifier
    seen: np.ndarray
    """class codes the model was trained on"""
    n_trained: int
    trained_at: str
    reused: bool
    reason: str
    """why it was retrained (or when the reused one was trained), for the one line ``predict`` says"""


def model_dir(project: Path) -> Path:
    return project / MODEL_DIR


def fingerprint(config: LabelConfig, data: TrainingSet) -> Fingerprint:
    settings = {k: v for k, v in asdict(config.model).items() if k not in RUNTIME_KEYS}
    settings.update(labels=list(config.labels), seed=config.seed, format=FORMAT)
    finals = [data.positions.tolist(), data.labels.tolist()]
    if len(data.partial_positions):  # a tree's partial labels train the model too
        finals.append([data.partial_positions.tolist(), [list(leaves) for leaves in data.partial_leaves]])
    return Fingerprint(labels=_sha(finals), settings=_sha(settings))


def project_model(
    project: Path,
    config: LabelConfig,
    store: LabelStore,
    items: Items,
    factory: Callable[[int], Classifier] | None = None,
) -> ProjectModel:
    """The model trained on the project's final labels: the saved one while its fingerprint
    holds, else a new fit, saved before it is returned."""
    data = training_set(store, len(items), config.labels)
    if len(data.labels) == 0:
        raise EmptyPoolError("the project has no labels yet; label some items first")
    factory = factory or classifier_factory(config.model, len(config.labels))
    wanted = fingerprint(config, data)
    payload, problem = _read(project)
    if payload is not None:
        stored = Fingerprint(**payload["fingerprint"])
        if stored == wanted:
            return ProjectModel(
                _attach(payload["model"], factory(config.seed)),
                np.asarray(payload["seen"]),
                int(payload["n_trained"]),
                payload["trained_at"],
                reused=True,
                reason=f"trained {payload['trained_at']}",
            )
        problem = (
            "the final labels changed since it was saved"
            if stored.settings == wanted.settings
            else "the model settings changed since it was saved"
        )
    model, _ = fit_model(config, store, items, factory, data)
    seen = np.unique(data.labels)
    trained_at = now_iso()
    _write(project, model, wanted, seen, len(data.labels), trained_at, config)
    return ProjectModel(model, seen, len(data.labels), trained_at, False, problem or "no model saved yet")


def saved_model(
    project: Path, config: LabelConfig, factory: Callable[[int], Classifier] | None = None
) -> tuple[Classifier, dict[str, Any]] | None:
    """The saved model whatever labels came since (``export`` attaches its predictions to Label
    Studio tasks without retraining), with its ``model.json`` info; None when there is none or
    it cannot be read."""
    payload, _ = _read(project)
    if payload is None:
        return None
    factory = factory or classifier_factory(config.model, len(config.labels))
    info = {k: v for k, v in payload.items() if k != "model"}
    return _attach(payload["model"], factory(config.seed)), info


def _read(project: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The saved payload, or None and why (a file from another version of alloop or of
    scikit-learn may not load: then the model is retrained, never a crash)."""
    path = model_dir(project) / MODEL_FILE
    if not path.exists():
        return None, None
    import joblib

    try:
        payload = joblib.load(path)
    except Exception as exc:  # unpickling raises many types; all mean "train a new one"
        return None, f"the saved model could not be read ({type(exc).__name__})"
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        return None, "the saved model is from another version of alloop"
    return payload, None


def _write(
    project: Path,
    model: Classifier,
    mark: Fingerprint,
    seen: np.ndarray,
    n_trained: int,
    trained_at: str,
    config: LabelConfig,
) -> None:
    """One file, replaced atomically: a crash leaves the old model or the new, never half of one."""
    import joblib

    folder = model_dir(project)
    folder.mkdir(parents=True, exist_ok=True)
    info = {
        "format": FORMAT,
        "fingerprint": asdict(mark),
        "seen": [int(c) for c in seen],
        "n_trained": n_trained,
        "trained_at": trained_at,
        "classifier": config.classifier,
        "labels": list(config.labels),
    }
    _atomic(folder / MODEL_FILE, lambda handle: joblib.dump({**info, "model": _detach(model)}, handle))
    _atomic(folder / INFO_FILE, lambda handle: handle.write(json.dumps(info, indent=2).encode()))


def _atomic(path: Path, write: Callable[[Any], object]) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _detach(model: Classifier) -> Classifier:
    """What training made, without the shared resources (the classifier says which)."""
    return model.detached() if isinstance(model, Saveable) else model


def _attach(model: Classifier, fresh: Classifier) -> Classifier:
    return model.reattached(fresh) if isinstance(model, Saveable) else model


def _sha(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()
