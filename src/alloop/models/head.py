"""Multinomial logistic regression over a sparse block and a dense block, solved by Newton-CG.

The hybrid's features are ``[n-gram TF-IDF | frozen embedding]``: a wide, very sparse block (about
20 non-zeros in 18k columns per title) next to a narrow dense one (384 columns, all filled).
scikit-learn's solvers take them as one sparse matrix, so the dense block's products run through
sparse kernels, and every step works on weights for every n-gram of the pool. Here the dense
block's products are BLAS matrix products, and only the n-grams that occur in the labelled titles
get a weight (the others would stay exactly 0 under the L2 penalty). The objective is
scikit-learn's ``LogisticRegression(C, class_weight="balanced")`` one: the same minimum, reached
in about a fifth of the time at 111 classes (bench/cycle_by_classes.py).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

# scikit-learn's newton-cg imports these from the same private module; wolfe1 (MINPACK's search)
# first took 11 Newton steps where scipy's public wolfe2 took 14 (111 classes, 500 labels)
from scipy.optimize._linesearch import line_search_wolfe1, line_search_wolfe2
from scipy.special import logsumexp
from threadpoolctl import threadpool_limits

TOL = 1e-4
"""Stop when the largest gradient entry is below this (scikit-learn's default tolerance)."""
MAX_NEWTON = 100
MAX_CG = 200


@dataclass
class LinearHead:
    """A fitted head: scores are ``sparse @ coef_sparse + dense @ coef_dense + intercept`` over the
    classes in ``classes`` (the labels seen at fit time, sorted)."""

    classes: np.ndarray
    columns: np.ndarray  # the sparse block's columns that carry a weight
    coef_sparse: np.ndarray  # (len(columns), classes)
    coef_dense: np.ndarray  # (dense width, classes)
    intercept: np.ndarray  # (classes,)
    n_iter: int

    def scores(self, sparse: sp.csr_matrix, dense: np.ndarray) -> np.ndarray:
        """Decision values (texts, classes)."""
        kept = sparse[:, self.columns] if len(self.columns) else sp.csr_matrix((sparse.shape[0], 0))
        return np.asarray(kept @ self.coef_sparse) + dense @ self.coef_dense + self.intercept


class _Problem:
    """Weighted softmax cross-entropy plus an L2 penalty on the weights (not the intercept), scaled
    by the total sample weight as scikit-learn does, so its tolerance means the same thing.

    Everything runs in float32 (BLAS for the dense block), as scikit-learn's own newton-cg does on
    float32 input; sums of the loss are taken in float64. The time goes into moving the weight
    vectors through memory, so float32 halves it."""

    def __init__(self, sparse: sp.csr_matrix, dense: np.ndarray, y: np.ndarray, weight: np.ndarray, C: float):
        self.s, self.st = sparse, sparse.T.tocsr()
        self.d, self.dt = dense, np.ascontiguousarray(dense.T)
        self.n, self.k = len(y), int(y.max()) + 1
        self.ds, self.dd = sparse.shape[1], dense.shape[1]
        self.w = (weight / weight.sum()).astype(np.float32)[:, None]
        self.alpha = np.float32(1.0 / (C * weight.sum()))
        self.size = (self.ds + self.dd + 1) * self.k
        self.y = y
        self.rows = np.arange(self.n)

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ws = x[: self.ds * self.k].reshape(self.ds, self.k)
        wd = x[self.ds * self.k : (self.ds + self.dd) * self.k].reshape(self.dd, self.k)
        return ws, wd, x[(self.ds + self.dd) * self.k :]

    def logits(self, x: np.ndarray) -> np.ndarray:
        ws, wd, b = self.split(x)
        return np.asarray(self.s @ ws) + self.d @ wd + b

    def back(self, r: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Gradient-shaped vector from per-sample residuals ``r`` (n, k), plus the penalty of ``x``."""
        a, b = self.ds * self.k, (self.ds + self.dd) * self.k
        out = np.empty(self.size, dtype=np.float32)
        out[:a] = np.asarray(self.st @ r).ravel()
        out[a:b] = (self.dt @ r).ravel()
        out[b:] = r.sum(axis=0)
        out[:b] += self.alpha * x[:b]
        return out

    def _loss(self, x: np.ndarray, z: np.ndarray, lse: np.ndarray) -> float:
        weights = x[: (self.ds + self.dd) * self.k]
        data = float((self.w[:, 0] * (lse - z[self.rows, self.y])).sum(dtype=np.float64))
        return data + 0.5 * float(self.alpha) * float(np.dot(weights, weights))

    def loss(self, x: np.ndarray) -> float:
        z = self.logits(x)
        return self._loss(x, z, logsumexp(z, axis=1))

    def loss_grad(self, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        z = self.logits(x)
        lse = logsumexp(z, axis=1)
        p = np.exp(z - lse[:, None])
        r = p.copy()
        r[self.rows, self.y] -= 1.0
        return self._loss(x, z, lse), self.back(r * self.w, x), p

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self.loss_grad(x)[1]

    def hessp(self, p: np.ndarray, v: np.ndarray) -> np.ndarray:
        dz = self.logits(v)
        r = p * (dz - (p * dz).sum(axis=1, keepdims=True)) * self.w
        return self.back(r, v)


def _cg(problem: _Problem, p: np.ndarray, grad: np.ndarray, tol: float) -> np.ndarray:
    """Conjugate gradients on ``H d = -grad`` until the residual's L1 norm is below ``tol`` (as
    scikit-learn's newton-cg, whose iteration counts it then matches)."""
    d = np.zeros_like(grad)
    r = grad.copy()  # residual of H d + grad
    q = -r
    rr = float(r @ r)
    eps = 16 * np.finfo(np.float32).eps
    for i in range(MAX_CG + 1):
        if float(np.abs(r).sum()) <= tol:
            break
        hq = problem.hessp(p, q)
        curvature = float(q @ hq)
        if 0 <= curvature <= eps * float(q @ q):
            break
        if curvature < 0:
            if i == 0:
                d += rr / curvature * q
            break
        step = rr / curvature
        d += step * q
        r += step * hq
        rr_new = float(r @ r)
        q = -r + (rr_new / rr) * q
        rr = rr_new
    return d


def _newton_cg(problem: _Problem, x: np.ndarray, tol: float) -> tuple[np.ndarray, int]:
    """Truncated Newton with a Wolfe line search (as scikit-learn's: wolfe1, then wolfe2); stops
    when ``max |gradient| <= tol``."""
    loss, grad, p = problem.loss_grad(x)
    previous = None
    for it in range(MAX_NEWTON):
        if np.abs(grad).max() <= tol:
            return x, it
        g1 = float(np.abs(grad).sum())
        d = _cg(problem, p, grad, min(0.5, np.sqrt(g1)) * g1)
        with warnings.catch_warnings():  # a failed search is handled below, not reported
            warnings.simplefilter("ignore", RuntimeWarning)  # scipy's LineSearchWarning
            step, *_ = line_search_wolfe1(problem.loss, problem.grad, x, d, grad, loss, previous)
            if step is None:
                step, *_ = line_search_wolfe2(problem.loss, problem.grad, x, d, grad, loss, previous)
        if step is None:  # no Wolfe step: fall back to halving until the loss decreases enough
            slope, step = float(grad @ d), 1.0
            while step > 1e-8 and problem.loss(x + step * d) > loss + 1e-4 * step * slope:
                step /= 2
            if step <= 1e-8:  # no decrease left at float32 precision: this is the optimum
                return x, it
        previous = loss
        x = x + step * d
        loss, grad, p = problem.loss_grad(x)
    return x, MAX_NEWTON


def _collapse(sparse: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, sp.csr_matrix]:
    """Fewer weights for the same optimum: an n-gram found in only one labelled text gets, at the
    optimum, a weight proportional to its value in that text (the gradient of its weight is that
    value times the text's residual). So a text's single-occurrence n-grams fold into one column
    of value ``sqrt(sum of their squares)``; ``expand`` maps that column's weight back to theirs.

    Returns the folded matrix, the kept (shared) and folded (single) columns, and ``expand``
    (columns of ``sparse`` x folded per-text columns)."""
    csc = sparse.tocsc()
    counts = np.diff(csc.indptr)
    shared = np.flatnonzero(counts > 1)
    single = np.flatnonzero(counts == 1)
    rows = csc.indices[csc.indptr[single]]
    values = csc.data[csc.indptr[single]].astype(np.float64)
    norms = np.sqrt(np.bincount(rows, weights=values**2, minlength=sparse.shape[0]))
    texts = np.flatnonzero(norms > 0)
    slot = np.full(sparse.shape[0], -1)
    slot[texts] = np.arange(len(texts))
    folded = sp.csr_matrix(
        (norms[texts], (texts, np.arange(len(texts)))), shape=(sparse.shape[0], len(texts))
    )
    expand = sp.csr_matrix((values / norms[rows], (single, slot[rows])), shape=(sparse.shape[1], len(texts)))
    matrix = sp.hstack([sparse[:, shared], folded], format="csr", dtype=np.float32)
    return matrix, shared, single, expand


def fit_head(
    sparse: sp.csr_matrix,
    dense: np.ndarray,
    labels: np.ndarray,
    C: float,
    tol: float = TOL,
) -> LinearHead:
    """The L2-penalised multinomial logistic regression of ``labels`` on ``[sparse | dense]``, with
    an unpenalised intercept and balanced class weights: each class weighs the same in the loss,
    however few labels it has, since the score is macro-F1 and product catalogues are skewed
    (measured: docs/strategies.md, "Class weights").
    Deterministic: no randomness enters the solver. Needs at least two distinct labels."""
    classes, y = np.unique(labels, return_inverse=True)
    if len(classes) < 2:
        raise ValueError("fit_head needs at least two classes")
    if len(classes) == 2:  # scikit-learn fits one weight vector there; this penalty gives the same
        C = C / 2
    counts = np.bincount(y)
    weight = (len(y) / (len(classes) * counts))[y]  # scikit-learn's "balanced"
    sparse = sp.csr_matrix(sparse, dtype=np.float32)
    matrix, shared, single, expand = _collapse(sparse)
    problem = _Problem(matrix, np.asarray(dense, dtype=np.float32), y, weight, C)
    # one BLAS thread: the products are small, and OpenBLAS threads spinning on a busy CPU made a
    # fit 8x slower (7.1 s against 0.9 s at 111 classes, 1,100 labels, 2 shared cores)
    with threadpool_limits(1, user_api="blas"):
        x, n_iter = _newton_cg(problem, np.zeros(problem.size, dtype=np.float32), tol)
    ws, wd, b = problem.split(x)
    # back to one weight per n-gram that occurs in the labelled texts
    columns = np.union1d(shared, single)
    full = np.asarray(expand @ ws[len(shared) :])
    full[shared] = ws[: len(shared)]
    return LinearHead(classes, columns.astype(np.int64), full[columns], wd.copy(), b.copy(), n_iter)
