"""Which solver fits the hybrid head fastest? newton-cg, lbfgs and saga on the same features.

Word 1-2-gram TF-IDF (every pool n-gram) with and without character 2-5-grams, plus the MiniLM
embedding; C=30; one random draw of 1,100 and 2,000 labels; validation macro-F1 as in
bench/hybrid_design.py. Prints wall and CPU seconds per fit.

    python bench/hybrid_solver.py
"""

import time

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from alloop.data import load_dataset
from alloop.models import Encoder
from alloop.models.cache import default_cache_dir
from alloop.models.hybrid import NgramFeatures

data = load_dataset("../shared/data/amazon-in-products/amazon_in_products.parquet")
texts = np.array(data.pool_texts, dtype=object)
y = np.asarray(data.pool_labels)
train, val = train_test_split(np.arange(len(texts)), test_size=0.2, stratify=y, random_state=0)
enc = Encoder(cache_dir=default_cache_dir())
E = enc.embed(list(texts))
for char in (False, True):
    f = NgramFeatures(char_ngrams=char).fit(list(texts[train]))
    for n in (1100, 2000):
        idx = np.random.default_rng(0).choice(train, n, replace=False)
        X = sp.hstack([f.transform(list(texts[idx])), sp.csr_matrix(E[idx])], format="csr")
        Xv = sp.hstack([f.transform(list(texts[val])), sp.csr_matrix(E[val])], format="csr")
        for solver, kw in [("newton-cg", {}), ("lbfgs", {}), ("saga", {"tol": 1e-3})]:
            t = time.perf_counter()
            c = time.process_time()
            m = LogisticRegression(C=30, solver=solver, max_iter=3000, **kw).fit(X, y[idx])
            print(
                char,
                n,
                solver,
                f"wall {time.perf_counter() - t:.2f} cpu {time.process_time() - c:.2f}",
                "iters",
                m.n_iter_,
                "f1 {:.4f}".format(f1_score(y[val], m.predict(Xv), average="macro")),
                flush=True,
            )
