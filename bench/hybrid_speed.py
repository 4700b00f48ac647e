"""Can the hybrid head fit in well under a second? Vocabulary pruning and embedding size, measured.

The hybrid's cost is its logistic-regression fit (newton-cg, the fastest of newton-cg, lbfgs and
saga measured here). This prints CPU seconds per fit and validation macro-F1 (mean of seeds 0
and 1; random labels; validation split carved from the pool as in bench/hybrid_design.py) for:
word n-grams with every pool n-gram (min_df=1) or only those in two or more pool titles
(min_df=2); the MiniLM embedding as is (384) or reduced by PCA (128, 64); embedding weight 1 or 2.

    python bench/hybrid_speed.py
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import normalize

from alloop.data import load_dataset
from alloop.models import Encoder
from alloop.models.cache import default_cache_dir


def main() -> None:
    data = load_dataset("../shared/data/amazon-in-products/amazon_in_products.parquet")
    texts = np.array(data.pool_texts, dtype=object)
    y = np.asarray(data.pool_labels)
    train, val = train_test_split(np.arange(len(texts)), test_size=0.2, stratify=y, random_state=0)
    embeddings = Encoder(cache_dir=default_cache_dir()).embed(list(texts))
    for min_df in (1, 2):
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df)
        ngrams = normalize(vectorizer.fit(list(texts[train])).transform(list(texts))).astype(np.float32)
        for dims in (384, 128, 64):
            dense = (
                embeddings
                if dims == 384
                else PCA(dims, random_state=0).fit(embeddings[train]).transform(embeddings)
            )
            dense = normalize(dense).astype(np.float32)
            for weight in (1.0, 2.0):
                for n in (1100, 2000):
                    seconds, f1s = [], []
                    for seed in (0, 1):
                        idx = np.random.default_rng(seed).choice(train, n, replace=False)
                        x = sp.hstack([ngrams[idx], sp.csr_matrix(weight * dense[idx])], format="csr")
                        xv = sp.hstack([ngrams[val], sp.csr_matrix(weight * dense[val])], format="csr")
                        start = time.process_time()
                        head = LogisticRegression(C=100, solver="newton-cg", max_iter=3000).fit(x, y[idx])
                        seconds.append(time.process_time() - start)
                        f1s.append(f1_score(y[val], head.predict(xv), average="macro"))
                    print(
                        f"min_df={min_df} d={ngrams.shape[1]} emb={dims} w={weight} n={n} "
                        f"cpu {np.mean(seconds):.2f} f1 {np.mean(f1s):.4f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
