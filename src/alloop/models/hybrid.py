"""TF-IDF n-grams and frozen sentence embeddings in one linear head: the label-saving default.

Product titles are short and keyword-heavy. Word and character n-grams keep the brand and
product-type tokens that a small sentence encoder blurs; the encoder adds meaning (synonyms,
paraphrases) that n-grams miss. One logistic regression over both blocks beats either alone at
every budget measured (``bench/hybrid_design.py``, docs/strategies.md).

The n-gram vocabulary and IDF weights are learnt without labels from the pool (every text the
loop may ever see), once: ``fit_unlabelled``. Each cycle then only refits the linear head, so a
cycle stays well under a second on thousands of titles.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from alloop.errors import NotFittedError
from alloop.models.base import check_fit_input, constant_proba, expand_proba
from alloop.models.config import ModelConfig
from alloop.models.encoder import Encoder, Progress
from alloop.models.frozen import FrozenEmbeddings
from alloop.models.graph import PoolGraph
from alloop.models.head import LinearHead, fit_head

EMBEDDING_WEIGHT = 1.0
"""Norm of the embedding block next to the unit-norm n-gram block. Measured on a validation split
of the amazon-in pool (bench/hybrid_design.py): weight 2 is ahead by 0.02 at 100 labels, weight 1
from 500 labels on (by 0.01-0.02 at 1,100-2,000), and most of a learning curve lies there."""
HYBRID_C = 100.0
"""Inverse regularisation of the head: C=100 was ahead of 30 and 10 at every budget measured."""
MIN_DF = 2
"""Keep n-grams found in at least this many pool texts: an n-gram seen once can mark at most one
labelled item. On amazon-in it cuts the word vocabulary from 61k to 14k, fits 2x faster and scores
higher (bench/hybrid_speed.py)."""
MIN_DF_CORPUS = 200
"""Below this many distinct texts every n-gram is kept: a tiny corpus has too few repeats to prune."""


class NgramFeatures:
    """Word 1-2-gram TF-IDF (sublinear tf), optionally with character 2-5-grams, as one
    L2-normalised sparse block.

    Fitted once on an unlabelled corpus; the rows of every text seen are kept, so a text is
    vectorised once per run whatever the number of cycles, strategies and seeds that share it.
    Character n-grams are off by default: on amazon-in they added 0.004-0.011 macro-F1 at 5-10x
    the fit time (bench/hybrid_design.py), which breaks the one-second cycle.
    """

    def without_rows(self) -> NgramFeatures:
        """A copy keeping the fitted vocabulary, not the rows cached per text (what a saved model
        needs: the rows are rebuilt on use)."""
        clone = copy.copy(self)
        clone._row, clone._blocks, clone._matrix = {}, [], None
        return clone

    def __init__(self, char_ngrams: bool = False, max_features: int = 300_000):
        self.char_ngrams = char_ngrams
        self.max_features = max_features
        self._key: int | None = None
        self._vectorizers: list[TfidfVectorizer] = []
        self._row: dict[str, int] = {}
        self._blocks: list[sp.csr_matrix] = []
        self._matrix: sp.csr_matrix | None = None

    @property
    def fitted(self) -> bool:
        return bool(self._vectorizers)

    def fit(self, texts: Sequence[str]) -> NgramFeatures:
        """Learn the vocabulary and IDF from ``texts`` (no labels); a no-op for the same texts."""
        key = hash(tuple(texts))
        if key == self._key:
            return self
        unique = list(dict.fromkeys(texts))
        min_df = MIN_DF if len(unique) >= MIN_DF_CORPUS else 1
        words = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, min_df=min_df, max_features=self.max_features
        )
        vectorizers = [words]
        if self.char_ngrams:
            vectorizers.append(
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    min_df=min_df,
                    max_features=self.max_features,
                )
            )
        blocks = [v.fit_transform(unique) for v in vectorizers]
        self._vectorizers, self._key = vectorizers, key
        self._row = {t: i for i, t in enumerate(unique)}
        self._blocks, self._matrix = [self._combine(blocks)], None
        return self

    @staticmethod
    def _combine(blocks: list[sp.spmatrix]) -> sp.csr_matrix:
        return normalize(sp.hstack(blocks, format="csr"), copy=False).astype(np.float32)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The rows of ``texts``; texts not seen before are vectorised and kept."""
        if not self.fitted:
            raise NotFittedError("fit the n-gram features before transforming")
        missing = [t for t in dict.fromkeys(texts) if t not in self._row]
        if missing:
            start = len(self._row)
            self._blocks.append(self._combine([v.transform(missing) for v in self._vectorizers]))
            self._row.update((t, start + i) for i, t in enumerate(missing))
            self._matrix = None
        if self._matrix is None:
            self._matrix = sp.vstack(self._blocks, format="csr") if len(self._blocks) > 1 else self._blocks[0]
            self._blocks = [self._matrix]
        rows = np.fromiter((self._row[t] for t in texts), dtype=np.int64, count=len(texts))
        return self._matrix[rows]


class HybridClassifier(FrozenEmbeddings):
    """Logistic regression on ``[n-gram TF-IDF | embedding_weight x frozen embedding]``, mixed
    with labels spread over the pool's neighbour graph (``graph_weight``; ``models.graph``).

    ``embed`` returns the frozen embeddings (cached in the shared encoder), which is what the
    diversity strategies and the k-means cold start use, exactly as with ``bert-frozen``.
    """

    seed_dependent_fit = False  # a convex head solved exactly: the seed does not change the fit

    def detached(self) -> HybridClassifier:
        """Without the encoder, and with the n-gram vocabulary but not its per-text rows."""
        clone: HybridClassifier = super().detached()  # type: ignore[assignment]
        if clone.features is not None:
            clone.features = clone.features.without_rows()
        return clone

    def __init__(
        self,
        encoder: Encoder,
        n_classes: int,
        seed: int = 0,
        C: float = HYBRID_C,
        embedding_weight: float = EMBEDDING_WEIGHT,
        features: NgramFeatures | None = None,
        graph_weight: float = ModelConfig.graph_weight,
        graph: PoolGraph | None = None,
    ):
        self.encoder = encoder
        self.n_classes = n_classes
        self.seed = seed
        self.C = C
        self.embedding_weight = embedding_weight
        self.features = features or NgramFeatures()
        self.graph_weight = graph_weight
        self.graph = graph or PoolGraph()
        self.progress: Progress | None = None
        self._head: LinearHead | None = None
        self._seen: np.ndarray | None = None
        self._share: np.ndarray | None = None

    def fit_unlabelled(self, texts: Sequence[str]) -> HybridClassifier:
        """Learn the n-gram vocabulary and the neighbour graph from the unlabelled pool (the loop
        calls this once; both are shared by the seeds of a run)."""
        self.features.fit(texts)
        if self.graph_weight > 0:
            self.graph.fit(texts, self.embed)
        return self

    def _blocks(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, np.ndarray]:
        return self.features.transform(texts), self.embedding_weight * self.embed(texts)

    def fit(self, texts: Sequence[str], labels: np.ndarray) -> HybridClassifier:
        labels = check_fit_input(texts, labels, self.n_classes)
        if not self.features.fitted:  # used outside the loop: the labelled texts are the corpus
            self.features.fit(texts)
        self._seen = np.unique(labels)
        self._share = None
        if len(self._seen) < 2:
            self._head = None
            return self
        if self.graph_weight > 0 and self.graph.fitted:  # without a pool there is no graph
            self._share = self.graph.spread(texts, labels, self.n_classes)
        ngrams, dense = self._blocks(texts)
        self._head = fit_head(ngrams, dense, labels, self.C)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if self._seen is None:
            raise NotFittedError("call fit before predict_proba")
        if self._head is None:
            return constant_proba(len(texts), int(self._seen[0]), self.n_classes)
        ngrams, dense = self._blocks(texts)
        proba = softmax(self._head.scores(ngrams, dense), axis=1)
        proba = expand_proba(proba, self._head.classes, self.n_classes)
        if self._share is None:
            return proba
        spread = self.graph.proba(self._share, texts, self.embed)
        reached = spread.sum(axis=1) > 0  # elsewhere the head alone speaks
        proba[reached] = (1 - self.graph_weight) * proba[reached] + self.graph_weight * spread[reached]
        return proba
