"""Prepare Best Buy product names with their category tree as a second retailer's taxonomy benchmark.

The raw files are not in this repository. They come from GitHub ``mjmiranda-dhi/w210-dataquality-project``
(UC Berkeley MIDS W210, spring 2017, products pulled from the Best Buy products API) at commit
``73321b5e75f8688ea3f4060d7a72afac60ede90b``: ``data/BestBuy/categories_BestBuy.csv`` (the category
tree, one row per node with its ancestors) and the three product chunks under 4 MiB,
``data/BestBuy/extended/product2_BestBuy.zip``, ``product4c_BestBuy.zip`` and ``product4e_BestBuy.zip``
(unzipped: ``*.tsv``). Then:

    python bench/datasets/bestbuy.py RAW_DIR OUT.parquet [--rows 10000] [--depth 3] [--min-items 5]

Transformation (printed when run): products joined to their category node's path (root "Best Buy"
removed); one row per SKU and per name (a name filed under two paths is dropped); paths cut to
``--depth`` levels (default 3; shorter paths stay shorter: the tree is unbalanced); paths with fewer
than ``--min-items`` items dropped; the "Movies & Music" branch (mostly CDs, whose genre the title
barely shows) sampled down so it holds at most as many rows as the other branches together; then a
sample of ``--rows`` rows stratified by path (seed 0).
Columns written: ``title``, ``level_1`` ... ``level_<depth>`` (empty below a path's end),
``category_path`` (levels joined by " > "), ``sku``, ``type``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

CHUNKS = ["product2_BestBuy.tsv", "product4c_BestBuy.tsv", "product4e_BestBuy.tsv"]
MEDIA = "Movies & Music"


def read_products(raw: Path) -> pd.DataFrame:
    frames = [
        pd.read_csv(
            raw / name,
            sep="\t",
            encoding="latin1",  # the dump is not valid UTF-8; latin1 reads every byte
            usecols=["sku", "name", "type", "categoryPathId"],
            dtype=str,
            on_bad_lines="skip",
        )
        for name in CHUNKS
    ]
    return pd.concat(frames, ignore_index=True)


def category_paths(raw: Path) -> pd.Series:
    """Node id -> top-down path of names, the root "Best Buy" left out."""
    tree = pd.read_csv(raw / "categories_BestBuy.csv", encoding="utf-8-sig", dtype=str)
    upward = ["categoryName", *[f"categoryNameLevel{i}" for i in range(1, 8)]]
    paths = {}
    for row in tree.itertuples(index=False):
        names = [getattr(row, c) for c in upward if isinstance(getattr(row, c), str)]
        names = names[::-1]
        if names and names[0] == "Best Buy":
            paths[row.categoryID] = names[1:]
    return pd.Series(paths)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("raw", type=Path)
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--min-items", type=int, default=5)
    args = parser.parse_args()
    df = read_products(args.raw)
    print(f"{len(df):,} product rows read")
    paths = category_paths(args.raw)
    df["path"] = df["categoryPathId"].map(paths)
    df = df[df["path"].map(lambda p: isinstance(p, list) and len(p) > 0)]
    df["title"] = df["name"].astype(str).str.strip().str.replace(r"\s+", " ", regex=True)
    df = df[df["title"] != ""].drop_duplicates("sku")
    df["category_path"] = df["path"].map(lambda p: " > ".join(p[: args.depth]))
    ambiguous = df.groupby("title")["category_path"].transform("nunique") > 1
    df = df[~ambiguous].drop_duplicates("title")
    print(f"{len(df):,} with a category path; dropped {int(ambiguous.sum())} rows whose name has two paths")
    counts = df["category_path"].map(df["category_path"].value_counts())
    df = df[counts >= args.min_items]
    print(f"{len(df):,} rows on paths with at least {args.min_items} items")
    media = df["category_path"].str.startswith(MEDIA)
    other = int((~media).sum())
    if media.sum() > other:
        keep = df[media].sample(n=other, random_state=0)
        df = pd.concat([df[~media], keep])
        print(f"'{MEDIA}' sampled down to {other:,} rows (as many as all other branches)")
    if args.rows < len(df):
        df, _ = train_test_split(df, train_size=args.rows, stratify=df["category_path"], random_state=0)
    levels = [f"level_{i + 1}" for i in range(args.depth)]
    split = df["category_path"].str.split(" > ")
    for i, column in enumerate(levels):
        df[column] = split.map(lambda p, i=i: p[i] if len(p) > i else "")
    df = df[["title", *levels, "category_path", "sku", "type"]].sort_values("sku").reset_index(drop=True)
    df.to_parquet(args.out, index=False)
    print(f"wrote {len(df):,} rows to {args.out}")
    for i in range(args.depth):
        names = (
            df["category_path"]
            .str.split(" > ")
            .map(lambda p, i=i: " > ".join(p[: i + 1]) if len(p) > i else None)
            .dropna()
        )
        print(f"level {i + 1}: {names.nunique()} categories over {len(names):,} rows")
    depth = df["category_path"].str.count(" > ") + 1
    print(f"leaves (distinct full paths): {df['category_path'].nunique()}")
    print(f"path depth: {depth.value_counts().sort_index().to_dict()}")


if __name__ == "__main__":
    main()
