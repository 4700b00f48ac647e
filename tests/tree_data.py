"""A synthetic product catalogue with a category tree, for the labelling tree tests (no real data
needed): 6 top-level branches, 10 sub-categories each, 10 leaves each (600 leaves), and titles that
name their leaf's words with filler. Some leaf names repeat under different parents, as real trees'
"Accessories" do; a category is its full path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

TOPS = ["Electronics", "Home & Kitchen", "Clothing", "Sports", "Toys & Games", "Beauty"]
MIDS = ["Audio", "Storage", "Lighting", "Outdoor", "Travel", "Office", "Kids", "Classic", "Smart", "Care"]
ADJECTIVES = [
    "Crimson",
    "Velvet",
    "Arctic",
    "Copper",
    "Lunar",
    "Amber",
    "Cobalt",
    "Maple",
    "Onyx",
    "Saffron",
    "Indigo",
    "Juniper",
    "Marble",
    "Nimbus",
    "Pebble",
    "Quartz",
    "Russet",
    "Sable",
    "Tundra",
    "Umber",
]
NOUNS = [
    "Kettle",
    "Speaker",
    "Lantern",
    "Backpack",
    "Blender",
    "Sneaker",
    "Puzzle",
    "Brush",
    "Cable",
    "Drone",
    "Jacket",
    "Mixer",
    "Notebook",
    "Pillow",
    "Racket",
    "Scarf",
    "Tripod",
    "Wallet",
    "Yoyo",
    "Router",
    "Helmet",
    "Candle",
    "Charger",
    "Mug",
    "Ladder",
    "Glove",
    "Tent",
    "Easel",
    "Flask",
    "Clock",
]
FILLER = ["new", "pack of 2", "premium", "with warranty", "2024 edition", "large", "compact", "for home"]


def leaf_paths() -> list[tuple[str, str, str]]:
    """600 paths (top, mid, leaf); leaf names are unique except 'Accessories' in every mid."""
    rng = np.random.default_rng(7)
    names = [f"{a} {n}" for a in ADJECTIVES for n in NOUNS]
    order = rng.permutation(len(names))
    out: list[tuple[str, str, str]] = []
    k = 0
    for top in TOPS:
        for mid in MIDS:
            out.append((top, mid, "Accessories"))
            for _ in range(9):
                out.append((top, mid, names[order[k]]))
                k += 1
    return out


def tree_catalogue(folder: Path, per_leaf: int = 2, seed: int = 0) -> Path:
    """``folder/data.parquet`` (title, category, sub_category, leaf, path) and ``folder/labels.txt``
    (one path per line). Returns the data file."""
    rng = np.random.default_rng(seed)
    rows = []
    for top, mid, leaf in leaf_paths():
        for _ in range(per_leaf):
            extra = FILLER[int(rng.integers(len(FILLER)))]
            title = (
                f"{leaf} {mid.lower()} {extra} #{len(rows)}"
                if leaf != "Accessories"
                else f"{mid} accessory kit {top} {extra} #{len(rows)}"
            )
            rows.append(
                {
                    "title": title,
                    "category": top,
                    "sub_category": mid,
                    "leaf": leaf,
                    "path": f"{top} > {mid} > {leaf}",
                }
            )
    frame = pd.DataFrame(rows)
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "data.parquet")
    (folder / "labels.txt").write_text("\n".join(frame["path"].drop_duplicates()) + "\n")
    return folder / "data.parquet"
