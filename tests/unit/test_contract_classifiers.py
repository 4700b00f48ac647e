"""The contract every registered classifier runs, the classifiers' counterpart of
``test_contract_strategies.py``: a new entry in ``CLASSIFIER_TYPES`` is covered here without
writing a test, and ``test_every_registered_name_has_a_contract_run`` fails if one is not.

What the engine relies on: the full class space in every ``predict_proba`` (0 for a class no
label has reached), probabilities that are probabilities, a fit that is deterministic under its
seed, ``NotFittedError`` before ``fit``, bad training input refused in one line, and each ability
a class declares (embeddings, saving, learning from the pool) working as declared. Classifiers
built on the transformer load it, so they run under the ``slow`` mark.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from alloop.errors import AlloopError, NotFittedError
from alloop.models import ModelConfig, classifier_factory
from alloop.models.base import Embedder, LearnsFromPool, Saveable, with_pool
from alloop.models.config import CLASSIFIER_TYPES, CLASSIFIERS, classifier_type, has_text_encoder

N_LABELLED = 48
UNSEEN = 5  # the class code no training label has
CLOSE = 1e-4  # probabilities of two equal fits may differ in the last float bits across kernels


def _config(name: str) -> ModelConfig:
    """Small but real settings: one epoch and a few steps for the fine-tuned transformer."""
    return ModelConfig(classifier=name, max_length=32, epochs=1, max_steps=3, batch_size=8)


PARAMS = [
    pytest.param(name, marks=pytest.mark.slow) if has_text_encoder(name) else name for name in CLASSIFIERS
]


@pytest.fixture(scope="module")
def task(amazon_sample):
    """Real titles of 6 categories; the labelled ones lack category ``UNSEEN``."""
    frame = pd.read_parquet(amazon_sample)
    names = sorted(frame["category"].unique())[:6]
    frame = frame[frame["category"].isin(names)].sample(frac=1.0, random_state=0).reset_index(drop=True)
    labels = frame["category"].map(names.index).to_numpy()
    texts = frame["title"].tolist()
    seen = np.flatnonzero(labels != UNSEEN)[:N_LABELLED]
    return texts, labels, seen, len(names)


def _fitted(name: str, task, seed: int = 0):
    texts, labels, seen, n_classes = task
    classifier = with_pool(classifier_factory(_config(name), n_classes)(seed), texts)
    fitted = classifier.fit([texts[i] for i in seen], labels[seen])
    assert fitted is classifier, "fit returns the classifier itself"
    return classifier


@pytest.fixture(scope="module")
def fitted():
    """One fitted classifier per name, shared by the checks that only read it."""
    built: dict[str, object] = {}

    def get(name: str, task):
        if name not in built:
            built[name] = _fitted(name, task)
        return built[name]

    return get


def test_every_registered_name_has_a_contract_run():
    assert [p if isinstance(p, str) else p.values[0] for p in PARAMS] == list(CLASSIFIER_TYPES)


@pytest.mark.parametrize("name", PARAMS)
class TestClassifierContract:
    def test_the_factory_builds_the_registered_class(self, name):
        built = classifier_factory(_config(name), 3)(0)
        assert isinstance(built, classifier_type(name))
        assert built.n_classes == 3

    def test_predicting_before_fit_is_not_fitted(self, name, task):
        texts, _, _, n_classes = task
        classifier = with_pool(classifier_factory(_config(name), n_classes)(0), texts)
        with pytest.raises(NotFittedError):
            classifier.predict_proba(texts[:3])

    def test_bad_training_input_is_one_line(self, name, task):
        texts, labels, _, n_classes = task
        classifier = classifier_factory(_config(name), n_classes)(0)
        with pytest.raises(AlloopError) as caught:
            classifier.fit(texts[:2], labels[:3])
        assert "\n" not in str(caught.value)
        with pytest.raises(AlloopError):
            classifier.fit(texts[:2], np.array([0, n_classes + 3]))

    def test_probabilities_cover_every_class(self, name, task, fitted):
        texts, _, _, n_classes = task
        proba = fitted(name, task).predict_proba(texts)
        assert proba.shape == (len(texts), n_classes)
        assert np.isfinite(proba).all() and (proba >= 0).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
        assert proba[:, UNSEEN].max() <= 1e-6, "a class no label has reached gets no probability"

    def test_it_learns_from_its_labels(self, name, task, fitted):
        """Better than always answering the most common class, on the items it was taught
        (the fine-tuned transformer starts from a probe trained on the same labels)."""
        texts, labels, seen, _ = task
        predicted = fitted(name, task).predict_proba([texts[i] for i in seen]).argmax(axis=1)
        majority = np.bincount(labels[seen]).max() / len(seen)
        assert (predicted == labels[seen]).mean() > majority

    def test_a_seed_decides_the_fit(self, name, task, fitted):
        texts = task[0]
        first = fitted(name, task).predict_proba(texts)
        again = _fitted(name, task, seed=0).predict_proba(texts)
        np.testing.assert_allclose(first, again, atol=CLOSE)

    def test_declared_abilities_work(self, name, task, fitted):
        texts, _, _, _ = task
        classifier = fitted(name, task)
        kind = classifier_type(name)
        assert issubclass(kind, Embedder) == isinstance(classifier, Embedder)
        if isinstance(classifier, Embedder):
            vectors = classifier.embed(texts[:10])
            assert vectors.ndim == 2 and len(vectors) == 10 and np.isfinite(vectors).all()
            np.testing.assert_allclose(classifier.embed(texts[:10]), vectors, atol=CLOSE)
        if isinstance(classifier, LearnsFromPool):
            assert issubclass(kind, LearnsFromPool)
        if isinstance(classifier, Saveable):
            stored = pickle.loads(pickle.dumps(classifier.detached()))
            fresh = with_pool(classifier_factory(_config(name), task[3])(0), texts)
            back = stored.reattached(fresh)
            np.testing.assert_allclose(back.predict_proba(texts), classifier.predict_proba(texts), atol=CLOSE)
