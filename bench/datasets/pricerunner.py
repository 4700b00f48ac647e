"""Prepare the PriceRunner product-offer titles (UCI, CC BY 4.0) as a second retailer's benchmark.

The raw file is not in this repository. Get it from the UCI Machine Learning Repository
("Product Classification and Clustering", dataset 837, file ``pricerunner_aggregate.csv``) or from a
public mirror, e.g. GitHub ``KelvinLam05/product_classification`` at commit
``af948551b9d73185a67a25e788c3f6d3479e83f2`` (the same 35,311 rows, without the header line; SHA-256
``c22207bd8f39f5a5e73ae8da2c3eccf8dbb616994cb46b74d345da8451119cca``). Then:

    python bench/datasets/pricerunner.py RAW.csv OUT.parquet [--rows 10000]

Transformation (printed when run): titles trimmed and whitespace collapsed; titles listed under
more than one category dropped; the first row of each duplicate title kept; a stratified sample of
``--rows`` rows (seed 0) so a benchmark run costs about as much as one on amazon-in.
Columns written: ``title``, ``category`` (10 classes), ``merchant_id``, ``product_id``, ``cluster_id``
(the product an offer is of: offers with one ``cluster_id`` are one product, bench/near_duplicates.py).
"""

from __future__ import annotations

import argparse

import pandas as pd
from sklearn.model_selection import train_test_split

COLUMNS = ["product_id", "title", "merchant_id", "cluster_id", "cluster_label", "category_id", "category"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("raw")
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    first = pd.read_csv(args.raw, nrows=1, header=None)
    header = 0 if str(first.iloc[0, 0]).strip().lower().startswith("product") else None
    df = pd.read_csv(args.raw, header=header, names=COLUMNS)
    df["title"] = df["title"].astype(str).str.strip().str.replace(r"\s+", " ", regex=True)
    print(f"{len(df):,} rows, {df['title'].nunique():,} distinct titles, {df['category'].nunique()} classes")
    ambiguous = df.groupby("title")["category"].transform("nunique") > 1
    df = df[~ambiguous & (df["title"] != "")].drop_duplicates("title")
    print(
        f"dropped {int(ambiguous.sum())} rows whose title has two categories; {len(df):,} unique titles left"
    )
    if args.rows < len(df):
        df, _ = train_test_split(df, train_size=args.rows, stratify=df["category"], random_state=0)
    df = df[["title", "category", "merchant_id", "product_id", "cluster_id"]].reset_index(drop=True)
    df.to_parquet(args.out, index=False)
    print(f"wrote {len(df):,} rows to {args.out}\n{df['category'].value_counts().to_string()}")


if __name__ == "__main__":
    main()
