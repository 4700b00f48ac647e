"""The hybrid classifier (n-gram TF-IDF + frozen embeddings in one head) and its ways in:
the loop, `alloop run`, the labelling service and `predict`."""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from cli_support import alloop
from label_support import small_amazon
from scipy.special import softmax
from test_models import LABELS, TEXTS

from alloop.models import HybridClassifier, ModelConfig, TfidfClassifier, classifier_factory
from alloop.models.base import LearnsFromPool, fit_depends_on_seed, with_pool
from alloop.models.hybrid import NgramFeatures


class HashEncoder:
    """A stand-in for the transformer: deterministic unit vectors per text, so these tests run
    without loading weights and the head's arithmetic can be checked exactly."""

    def embed(self, texts: Sequence[str], progress: object = None) -> np.ndarray:
        rows = [np.random.default_rng(zlib.crc32(t.encode())).normal(size=16) for t in texts]
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def stacked(clf: HybridClassifier, texts: list[str]) -> sp.csr_matrix:
    ngrams = clf.features.transform(texts)
    return sp.hstack([ngrams, sp.csr_matrix(clf.embedding_weight * clf.embed(texts))], format="csr")


@pytest.mark.parametrize("labels", [LABELS, np.array([0, 0, 0, 1, 1, 1, 1, 1, 1])], ids=["4 classes", "2"])
def test_block_wise_probabilities_equal_the_head_on_the_stacked_features(labels):
    clf = HybridClassifier(HashEncoder(), 4, embedding_weight=2.0).fit(TEXTS, labels)
    queries = ["kitchen knife", "trail shoes", "wireless headphones", "an unseen title"]
    proba = clf.predict_proba(queries)
    assert proba.shape == (4, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    head, width = clf._head, clf.features.transform(TEXTS[:1]).shape[1]
    coef = np.zeros((width + head.coef_dense.shape[0], len(head.classes)))
    coef[head.columns] = head.coef_sparse
    coef[width:] = head.coef_dense
    expected = softmax(stacked(clf, queries) @ coef + head.intercept, axis=1)
    np.testing.assert_allclose(proba[:, head.classes], expected, atol=1e-6)
    assert (proba[:, 2] == 0).all()  # a class never labelled keeps its column, at 0


def test_it_learns_from_both_blocks():
    clf = HybridClassifier(HashEncoder(), 4).fit(TEXTS, LABELS)
    # the stand-in encoder carries no meaning, so only texts it has seen are a fair check
    assert clf.predict_proba(TEXTS).argmax(1).tolist() == LABELS.tolist()
    assert np.abs(clf._head.coef_sparse).sum() > 0 and np.abs(clf._head.coef_dense).sum() > 0
    ngrams_only = HybridClassifier(HashEncoder(), 4, embedding_weight=0.0).fit(TEXTS, LABELS)
    assert not np.abs(ngrams_only._head.coef_dense).any()  # weight 0 switches the block off


def test_single_class_and_protocols():
    clf = HybridClassifier(HashEncoder(), 4).fit(TEXTS[:3], LABELS[:3])
    assert clf.predict_proba(["anything"]).tolist() == [[1.0, 0.0, 0.0, 0.0]]
    assert isinstance(clf, LearnsFromPool) and not isinstance(TfidfClassifier(4), LearnsFromPool)
    assert not fit_depends_on_seed(clf) and not fit_depends_on_seed(TfidfClassifier(4))


def test_ngram_vocabulary_comes_from_the_pool_once_and_rows_are_cached():
    features = NgramFeatures()
    pool = [*TEXTS, "a pool title about garden hoses"]
    clf = with_pool(HybridClassifier(HashEncoder(), 4, features=features), pool)
    first = features.transform(["garden hoses"])
    assert first.nnz > 0  # words only the unlabelled pool holds are in the vocabulary
    vocabulary = features._vectorizers[0].vocabulary_
    clf.fit(TEXTS, LABELS)
    with_pool(clf, list(pool))  # the same pool again: nothing is refitted
    assert features._vectorizers[0].vocabulary_ is vocabulary
    np.testing.assert_allclose(features.transform(["garden hoses"]).toarray(), first.toarray())
    norms = sp.linalg.norm(features.transform(pool), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)  # one unit-norm sparse block per text


def test_without_a_pool_the_labelled_texts_are_the_corpus():
    clf = HybridClassifier(HashEncoder(), 4).fit(TEXTS, LABELS)
    assert clf.features.fitted and "knife" in clf.features._vectorizers[0].vocabulary_


def test_factory_shares_one_ngram_table_across_seeds():
    make = classifier_factory(ModelConfig(classifier="hybrid"), 4)
    a, b = make(0), make(1)
    assert isinstance(a, HybridClassifier) and a.features is b.features and a.encoder is b.encoder


@pytest.fixture(scope="module")
def small(amazon_sample, tmp_path_factory):
    """300 amazon-in titles (first ~16 of each category): small enough to embed in seconds."""
    return small_amazon(amazon_sample, tmp_path_factory.mktemp("hybrid-data"), per_class=16)


@pytest.mark.slow
def test_run_hybrid_end_to_end_with_the_ceiling_computed_once(small, tmp_path):
    out = tmp_path / "run"
    result = alloop(
        "run", "--data", str(small), "--classifier", "hybrid", "--max-length", "32",
        "--strategy", "margin", "--strategy", "coreset", "--strategy", "random", "--seeds", "2",
        "--initial", "40", "--query-size", "20", "--cycles", "2", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "cycles.csv")
    assert (table.groupby(["strategy", "seed"])["cycle"].max() == 2).all()
    assert (table[table["cycle"] == 0].groupby("seed")["macro_f1"].nunique() == 1).all()  # paired start
    queried = pd.read_csv(out / "queried.csv")
    assert (queried.groupby(["strategy", "seed"]).size() == 40).all()
    assert not queried.duplicated(["strategy", "seed", "item_id"]).any()
    source = pd.read_parquet(small)
    assert (source["category"].to_numpy()[queried["item_id"]] == queried["label"].to_numpy()).all()
    assert json.loads((out / "config.json").read_text())["config"]["model"]["classifier"] == "hybrid"
    with sqlite3.connect(out / "results.db") as db:
        ceilings = db.execute("SELECT seed, macro_f1, seconds FROM ceilings ORDER BY seed").fetchall()
    assert len(ceilings) == 2 and ceilings[0][1] == ceilings[1][1]
    assert ceilings[0][2] > 0 and ceilings[1][2] == 0.0  # trained once, shared by the second seed
    assert result.stdout.count("full-pool ceiling") == 1
    verdict = (out / "verdict.txt").read_text()
    assert verdict.startswith("Best strategy:") or verdict.startswith("No strategy beat random")


@pytest.mark.slow
def test_label_service_retrains_a_hybrid_and_predict_uses_it(small, tmp_path):
    from test_label_api import Project

    from alloop.labelling.interop.exporting import predict_file

    project = Project(tmp_path / "project", small, classifier="hybrid", query_size=10)
    try:
        trainer = project.service.trainer
        assert trainer.wait_idle(180)
        # a new project's cold start: the class names, embedded by the hybrid's frozen encoder
        assert project.service.snapshot.source == "label-names"
        for _ in range(20):
            project.label_next("alice")
        assert trainer.wait_idle(180), trainer.error
        snapshot = project.service.snapshot
        assert trainer.error is None and snapshot.version >= 1 and snapshot.source == "margin"
        stats = project.get("alice", "/api/stats")
        assert stats["model"]["estimate"] == "gold" and 0 <= stats["model"]["macro_f1"] <= 1
        new = pd.read_parquet(small).iloc[::7][["title", "category"]]
        new.to_parquet(tmp_path / "new.parquet")
        out = predict_file(project.folder, str(tmp_path / "new.parquet"), tmp_path / "pred.parquet")
        assert len(out) == len(new) and out["confidence"].between(0, 1).all()
        assert set(out["predicted_label"]) <= set(project.config.labels)
    finally:
        project.close()
