"""The cold start of ``alloop label``: how many of the classes the first 20 / 50 / 100 items
cover, with no label yet, when they are chosen by similarity to the class names (label-names,
round-robin over the classes; several ways of wording a class name), as k-means
representatives, or at random. Pools only (amazon-in's stratified 80 % pool at seed 0, never its
test split; the iarbel sample's pool), embedded with the default frozen encoder (on-disk cache).

    python bench/cold_start.py                     # writes bench/results/cold_start_cpu.txt
    python bench/cold_start.py --seeds 3 --out -   # print only
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from alloop.data.prepare import load_dataset
from alloop.loop.initial import (
    class_name_texts,
    cosine_similarity,
    kmeans_representatives,
    label_name_representatives,
)
from alloop.models.cache import default_cache_dir
from alloop.models.encoder import Encoder, default_model_path
from alloop.models.tfidf import SvdEmbedder

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DATASETS = {
    "amazon-in": str(SHARED / "amazon-in-products" / "amazon_in_products.parquet"),
    "iarbel-sample": str(SHARED / "iarbel-sample"),
}
TEMPLATES = ("{name}", "a product in the category {name}", "{name} products")
SIZES = (20, 50, 100)


def tfidf_name_similarity(texts: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """A label-names cold start without an encoder, measured here only: TF-IDF cosine of each
    class name's words with each item's (fitted on the items). An item sharing no word with a class
    name gets ``-inf`` for it: no evidence. It covered fewer classes than random on amazon-in, so
    ``alloop label --classifier tfidf`` falls back to k-means instead."""
    vectorizer = TfidfVectorizer(sublinear_tf=True)
    try:
        items = vectorizer.fit_transform(texts)
    except ValueError:  # no word of two or more characters in any text
        return np.full((len(texts), len(labels)), -np.inf, dtype=np.float32)
    names = vectorizer.transform(class_name_texts(labels, "{name}"))
    similarity = np.asarray((items @ names.T).todense(), dtype=np.float32)
    similarity[similarity <= 0] = -np.inf
    return similarity


def covered(labels: np.ndarray, picks: np.ndarray) -> int:
    return len(np.unique(labels[picks]))


def to_cover_all(labels: np.ndarray, order: np.ndarray) -> int | None:
    """Items of ``order`` needed until every class of the pool has appeared (None: never)."""
    seen: set[int] = set()
    for i, pos in enumerate(order, start=1):
        seen.add(int(labels[pos]))
        if len(seen) == len(np.unique(labels)):
            return i
    return None


def measure(name: str, source: str, encoder: Encoder, seeds: int) -> list[str]:
    data = load_dataset(source, seed=0)
    texts, labels, classes = data.pool_texts, data.pool_labels, data.classes
    n_classes, pool = len(classes), len(texts)
    started = time.perf_counter()
    items = encoder.embed(texts)
    embed_seconds = time.perf_counter() - started
    sizes = sorted({s for s in (n_classes, *SIZES) if s <= pool} | ({pool} if pool < max(SIZES) else set()))
    lines = [
        f"## {name}: pool {pool:,} items, {n_classes} classes (embedded in {embed_seconds:.1f} s; "
        "on-disk cache, so a second run reads them)",
        "classes covered by the first n items (mean over seeds where seeded; min-max in brackets)",
        f"{'method':<48}" + "".join(f"{'n=' + str(s):>14}" for s in sizes) + f"{'all after':>11}",
    ]

    def row(method: str, counts: list[list[int]], all_after: str) -> str:
        cells = []
        for per_seed in counts:
            mean = float(np.mean(per_seed))
            spread = f" [{min(per_seed)}-{max(per_seed)}]" if len(set(per_seed)) > 1 else ""
            cells.append(f"{mean:.1f}{spread}")
        return f"{method:<48}" + "".join(f"{c:>14}" for c in cells) + f"{all_after:>11}"

    missed = []
    for template in TEMPLATES:
        similarity = cosine_similarity(items, encoder.embed(class_name_texts(classes, template)))
        order = label_name_representatives(similarity, pool, seed=0)
        counts = [[covered(labels, order[:s])] for s in sizes]
        lines.append(row(f'label-names "{template}"', counts, str(to_cover_all(labels, order))))
        absent = sorted(set(classes) - {classes[c] for c in labels[order[:n_classes]]})
        missed.append(f'  "{template}": first {n_classes} miss {", ".join(absent) or "nothing"}')
    order = label_name_representatives(tfidf_name_similarity(texts, classes), pool, seed=0)
    counts = [[covered(labels, order[:s])] for s in sizes]
    method = "TF-IDF words of the class names (not used)"
    lines.append(row(method, counts, str(to_cover_all(labels, order))))
    for what, vectors in (
        ("frozen embeddings", items),
        ("tfidf's LSA embeddings", SvdEmbedder().embed(texts)),
    ):
        counts = [
            [covered(labels, kmeans_representatives(vectors, s, seed)) for seed in range(seeds)]
            for s in sizes
        ]
        lines.append(row(f"kmeans ({what}), {seeds} seeds", counts, "-"))
    orders = [np.random.default_rng(seed).permutation(pool) for seed in range(2 * seeds)]
    counts = [[covered(labels, o[:s]) for o in orders] for s in sizes]
    after = [to_cover_all(labels, o) for o in orders]
    lines.append(row(f"random, {2 * seeds} seeds", counts, f"{np.mean(after):.0f}"))
    return [*lines, "classes label-names misses in its first round (one item per class):", *missed]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5, help="k-means seeds (random gets twice as many)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "cold_start_cpu.txt"))
    args = parser.parse_args()
    encoder = Encoder(max_length=64, cache_dir=default_cache_dir())
    lines = [
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"Python {platform.python_version()}; "
        f"encoder {'all-MiniLM-L6-v2 (default)' if encoder.name == default_model_path() else encoder.name}, "
        "max length 64",
        f"# {' '.join(['python', *sys.argv])}",
    ]
    for name, source in DATASETS.items():
        lines += ["", *measure(name, source, encoder, args.seeds)]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out != "-":
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
