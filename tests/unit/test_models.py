"""Classifiers: the protocol, shapes in the full class space, seeding, and a tiny fine-tune."""

from __future__ import annotations

import numpy as np
import pytest

from alloop.errors import AlloopError
from alloop.models import (
    Classifier,
    FineTunedClassifier,
    FrozenEncoderClassifier,
    ModelConfig,
    TfidfClassifier,
    classifier_factory,
)

TEXTS = [
    "stainless steel kitchen knife set",
    "non-stick frying pan 28cm",
    "ceramic dinner plates pack of 6",
    "running shoes for men breathable",
    "women's trail running sneakers",
    "leather formal shoes black",
    "bluetooth wireless earbuds",
    "4k smart led television 55 inch",
    "noise cancelling over-ear headphones",
]
LABELS = np.array([0, 0, 0, 1, 1, 1, 3, 3, 3])  # class 2 never labelled
N_CLASSES = 4


def check_proba(proba: np.ndarray, n_rows: int) -> None:
    assert proba.shape == (n_rows, N_CLASSES)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert (proba[:, 2] < 1e-6).all()  # the unlabelled class keeps its column, at ~0


def test_tfidf_learns_and_keeps_the_full_class_space():
    clf = TfidfClassifier(N_CLASSES).fit(TEXTS, LABELS)
    assert isinstance(clf, Classifier)
    proba = clf.predict_proba(["kitchen knife", "running shoes", "wireless headphones"])
    check_proba(proba, 3)
    assert proba.argmax(axis=1).tolist() == [0, 1, 3]


def test_single_class_training_predicts_that_class():
    clf = TfidfClassifier(N_CLASSES).fit(TEXTS[:3], LABELS[:3])
    assert clf.predict_proba(["anything"]).tolist() == [[1.0, 0.0, 0.0, 0.0]]


def test_fit_input_is_validated():
    with pytest.raises(AlloopError, match="2 texts but 3 labels"):
        TfidfClassifier(N_CLASSES).fit(TEXTS[:2], LABELS[:3])
    with pytest.raises(AlloopError, match="label codes"):
        TfidfClassifier(N_CLASSES).fit(TEXTS[:2], np.array([0, 9]))


def test_unknown_classifier_is_refused():
    with pytest.raises(AlloopError, match="unknown classifier"):
        classifier_factory(ModelConfig(classifier="svm"), 3)


@pytest.mark.slow
def test_frozen_encoder_embeds_once_and_classifies(encoder):
    clf = FrozenEncoderClassifier(encoder, N_CLASSES, seed=0).fit(TEXTS, LABELS)
    cached = len(encoder._row)
    proba = clf.predict_proba(["chef knife", "jogging shoes", "earphones with mic"])
    check_proba(proba, 3)
    assert proba.argmax(axis=1).tolist() == [0, 1, 3]
    clf.predict_proba(TEXTS)
    assert len(encoder._row) == cached + 3  # the training texts were not embedded again
    emb = clf.embed(TEXTS[:2])
    assert emb.shape == (2, encoder.hidden_size)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-3)  # stored as float16


@pytest.mark.slow
def test_tiny_bert_fine_tune_is_seeded_and_starts_from_the_probe(encoder):
    def fit(seed: int, steps: int) -> FineTunedClassifier:
        return FineTunedClassifier(encoder, N_CLASSES, seed=seed, batch_size=4, max_steps=steps).fit(
            TEXTS, LABELS
        )

    probe_only = fit(0, 0)  # zero steps: the linear probe alone
    frozen = FrozenEncoderClassifier(encoder, N_CLASSES, seed=0).fit(TEXTS, LABELS)
    np.testing.assert_allclose(probe_only.predict_proba(TEXTS), frozen.predict_proba(TEXTS), atol=1e-4)

    a, b = fit(0, 3), fit(0, 3)
    pa, pb = a.predict_proba(TEXTS), b.predict_proba(TEXTS)
    np.testing.assert_allclose(pa, pb, atol=1e-6)  # same seed, same model
    check_proba(pa, len(TEXTS))
    assert not np.allclose(pa, probe_only.predict_proba(TEXTS), atol=1e-4)  # training moved it
    assert (pa.argmax(axis=1) == LABELS).mean() >= 0.8
    assert a.embed(TEXTS[:2]).shape == (2, encoder.hidden_size)


@pytest.mark.slow
def test_warm_start_keeps_the_model_and_cold_start_rebuilds_it(encoder):
    warm = FineTunedClassifier(encoder, N_CLASSES, batch_size=4, max_steps=1, warm_start=True)
    warm.fit(TEXTS, LABELS)
    first = warm._module
    warm.fit(TEXTS, LABELS)
    assert warm._module is first
    cold = FineTunedClassifier(encoder, N_CLASSES, batch_size=4, max_steps=1)
    cold.fit(TEXTS, LABELS)
    first = cold._module
    cold.fit(TEXTS, LABELS)
    assert cold._module is not first
    # fine-tuning never touches the shared pretrained weights the frozen cache comes from
    before = encoder.embed(["bluetooth wireless earbuds"]).copy()
    from alloop.models.encoder import encode

    fresh = encode(encoder, encoder.model, ["bluetooth wireless earbuds"])
    # The cache holds float16; a batch of one and a cached batch may take different kernels (AVX2
    # and AVX512 round a few values one float16 step apart), so compare within two float16 steps.
    # A changed encoder moves the vector far more than that (cosine < 0.999).
    fresh16 = fresh.astype(np.float16).astype(np.float32)
    np.testing.assert_allclose(fresh16, before, rtol=2 * 2**-10, atol=2 * 2**-24)
    cosine = float((fresh16 * before).sum() / (np.linalg.norm(fresh16) * np.linalg.norm(before)))
    assert cosine > 0.99999


def test_an_unreachable_model_id_fails_fast_with_one_line(monkeypatch):
    from alloop.models import Encoder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(AlloopError, match="cannot load model 'bert-base-uncased'") as caught:
        Encoder("bert-base-uncased")
    assert "\n" not in str(caught.value)
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")  # never resolves: the probe must say so
    with pytest.raises(AlloopError, match="cannot reach the Hugging Face Hub"):
        Encoder("bert-base-uncased")


@pytest.mark.slow
def test_one_pass_gives_the_same_probabilities_and_embeddings(encoder):
    clf = FineTunedClassifier(encoder, N_CLASSES, seed=0, batch_size=4, max_steps=2).fit(TEXTS, LABELS)
    proba, vectors = clf.predict_proba_and_embed(TEXTS)
    np.testing.assert_allclose(proba, clf.predict_proba(TEXTS), atol=1e-6)
    np.testing.assert_allclose(vectors, clf.embed(TEXTS), atol=1e-5)


@pytest.mark.slow
def test_bf16_autocast_stays_close_to_fp32(tmp_path, monkeypatch):
    from alloop.models import Encoder, precision

    monkeypatch.setattr(precision, "bf16_native", lambda device_type: True)  # emulated is fine here

    fp32 = Encoder(max_length=32).embed(TEXTS)
    bf16 = Encoder(max_length=32, precision="bf16").embed(TEXTS)
    cosine = (fp32 * bf16).sum(axis=1)
    assert cosine.min() > 0.99
    assert not np.array_equal(fp32, bf16)  # autocast really ran in bfloat16


def test_unknown_precision_is_refused():
    with pytest.raises(AlloopError, match="unknown `precision`"):
        classifier_factory(ModelConfig(precision="int4"), 3)
