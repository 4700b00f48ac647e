"""The hybrid's own head solver: the same model as scikit-learn's LogisticRegression on the
stacked features, folded single-occurrence n-grams included."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.linear_model import LogisticRegression

from alloop.models.head import fit_head


def _problem(n: int, k: int, seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Texts of ``k`` classes: class-specific n-grams (many seen once), shared ones, and a dense
    block pointing at the class with noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    rows, cols, vals = [], [], []
    for i, c in enumerate(y):
        picked = {int(c) * 5 + int(rng.integers(0, 5)), 5 * k + int(rng.integers(0, 20))}
        picked.add(5 * k + 20 + i)  # an n-gram only this text has
        for j in picked:
            rows.append(i)
            cols.append(j)
            vals.append(float(rng.uniform(0.2, 1.0)))
    sparse = sp.csr_matrix((vals, (rows, cols)), shape=(n, 5 * k + 20 + 400), dtype=np.float32)
    centres = rng.standard_normal((k, 6))
    dense = (centres[y] + 1.5 * rng.standard_normal((n, 6))).astype(np.float32) / 4
    return sparse, dense, y


def _sklearn_proba(sparse, dense, y, C, sparse_test, dense_test):
    x = sp.hstack([sparse, sp.csr_matrix(dense)], format="csr").astype(np.float64)
    model = LogisticRegression(C=C, solver="newton-cg", tol=1e-8, max_iter=500, class_weight="balanced")
    model.fit(x, y)
    test = sp.hstack([sparse_test, sp.csr_matrix(dense_test)], format="csr").astype(np.float64)
    return model.predict_proba(test)


@pytest.mark.parametrize("k", [2, 3, 7])
def test_fit_head_is_scikit_learns_model(k: int) -> None:
    sparse, dense, y = _problem(150, k)
    test_sparse, test_dense, _ = _problem(150, k, seed=1)
    head = fit_head(sparse, dense, y, C=10.0, tol=1e-6)
    ours = softmax(head.scores(test_sparse, test_dense), axis=1)
    theirs = _sklearn_proba(sparse, dense, y, 10.0, test_sparse, test_dense)
    np.testing.assert_allclose(ours, theirs, atol=5e-3)
    # the texts' own single-occurrence n-grams carry weight again after folding
    assert np.abs(head.coef_sparse).sum(axis=1).min() > 0
    assert head.coef_sparse.shape[0] == len(head.columns) == len(np.unique(sparse.indices))


def test_fit_head_keeps_unseen_labels_out_and_is_deterministic() -> None:
    sparse, dense, y = _problem(120, 5)
    labels = np.array([0, 2, 4, 7, 9])[y]  # codes with gaps: classes not seen stay out
    first = fit_head(sparse, dense, labels, C=100.0)
    second = fit_head(sparse, dense, labels, C=100.0)
    np.testing.assert_array_equal(first.classes, [0, 2, 4, 7, 9])
    np.testing.assert_array_equal(first.coef_dense, second.coef_dense)
    np.testing.assert_array_equal(first.coef_sparse, second.coef_sparse)


def test_fit_head_refuses_one_class() -> None:
    sparse, dense, _ = _problem(10, 2)
    with pytest.raises(ValueError):
        fit_head(sparse, dense, np.zeros(10, dtype=int), C=1.0)
