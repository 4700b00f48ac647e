"""The out-of-fold probabilities of a project's labelled items (``alloop.loop.autolabel``), kept
in ``DIR/model/calibration.npz`` with a hash of what they were computed from. The trainer writes
them each round; ``predict --min-precision`` and ``export --min-precision`` reuse them while no
final label and no model setting changed, instead of fitting five more models."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from alloop.labelling.config import LabelConfig
from alloop.loop.autolabel import Calibration

FILE = "calibration.npz"
RUNTIME_KEYS = ("device", "cache", "cache_dir")


def calibration_key(config: LabelConfig, positions: np.ndarray, labels: np.ndarray) -> str:
    """A hash of the labelled items and their labels, the label set, the seed and the model
    settings that change what is learnt."""
    settings = {k: v for k, v in asdict(config.model).items() if k not in RUNTIME_KEYS}
    value = [list(config.labels), config.seed, settings, np.asarray(positions).tolist(), labels.tolist()]
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def load(project: Path, key: str) -> Calibration | None:
    """The stored calibration when its key matches, else None (also for an unreadable file)."""
    path = project / "model" / FILE
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            if str(stored["key"]) != key:
                return None
            return Calibration(stored["proba"], stored["labels"])
    except (OSError, ValueError, KeyError):
        return None


def save(project: Path, key: str, calibration: Calibration) -> None:
    """Written beside and renamed into place: a reader sees the old file or the new one."""
    folder = project / "model"
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{FILE}.", suffix=".npz", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, key=np.array(key), proba=calibration.proba, labels=calibration.labels)
        os.replace(temp, folder / FILE)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
