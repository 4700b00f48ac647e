"""Loading real files, the reference dataset's schema, splits, and every bad-input message."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from alloop.data import load_dataset
from alloop.data import sources as sources_module
from alloop.data.prepare import join_value
from alloop.errors import AlloopError


def test_amazon_in_pool_test_split_is_stratified_and_seeded(amazon_in):
    data = load_dataset(str(amazon_in))
    assert data.n_classes == 19
    assert len(data.pool_texts) + len(data.test_texts) == 9322
    assert len(data.test_texts) == math.ceil(0.2 * 9322)
    assert any("no test split" in n for n in data.notes)
    pool_share = np.bincount(data.pool_labels) / len(data.pool_labels)
    test_share = np.bincount(data.test_labels) / len(data.test_labels)
    assert np.abs(pool_share - test_share).max() < 0.005
    again = load_dataset(str(amazon_in))
    assert again.test_texts == data.test_texts
    other = load_dataset(str(amazon_in), seed=1)
    assert other.test_texts != data.test_texts
    assert data.pool_ids.dtype.kind == "i" and len(set(data.pool_ids.tolist())) == len(data.pool_ids)


def test_balanced_test_caps_every_class_at_the_smallest(amazon_in):
    data = load_dataset(str(amazon_in), balanced_test=True)
    counts = np.bincount(data.test_labels)
    assert counts.min() == counts.max() == 20  # music: 100 rows, 20 held out


def test_id_column_keeps_user_ids(amazon_in):
    data = load_dataset(str(amazon_in), id_column="url")
    assert all(isinstance(i, str) and i.startswith("https://www.amazon.in/") for i in data.pool_ids)
    with pytest.raises(AlloopError, match="'asin' has duplicate values"):  # 2 repeated ASINs
        load_dataset(str(amazon_in), id_column="asin")


def test_reference_schema_via_the_hub_loader(iarbel_sample):
    """The real `datasets.load_dataset` code path, on a local copy of the reference dataset."""
    data = load_dataset(f"hub:{iarbel_sample}", text_columns=["title", "feature-bullets", "tech_data"])
    assert len(data.pool_texts) + len(data.test_texts) <= 20
    assert all(len(c) > 3 for c in data.classes)
    text = next(t for t in data.pool_texts if "Stapler" in t)
    assert text.startswith("Amazon Basics Stapler")
    assert "\nDesktop office stapler that holds up to 210 staples.\n" in text  # a bullet per line
    assert "Brand: Amazon Basics" in text  # tech_data pairs as key: value


def test_reference_schema_from_the_parquet_file(iarbel_sample):
    data = load_dataset(str(iarbel_sample / "train.parquet"), text_columns=["title", "feature-bullets"])
    assert data.n_classes >= 8


def test_unseen_test_labels_are_counted_and_dropped(tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    pd.DataFrame({"title": ["a b", "c d", "e f", "g h"], "category": ["x", "y", "x", "y"]}).to_csv(
        folder / "train.csv", index=False
    )
    pd.DataFrame({"title": ["i", "j", "k"], "category": ["x", "z", "z"]}).to_json(
        folder / "test.jsonl", orient="records", lines=True
    )
    data = load_dataset(str(folder))
    assert data.classes == ["x", "y"]
    assert data.test_texts == ["i"]
    assert any("dropped 2 test items whose label never occurs in the pool: z" in n for n in data.notes)


def test_empty_texts_are_dropped_with_a_count(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame(
        {"title": ["one", "", None, "four", "five", "six"], "category": ["a", "b", "a", "b", "a", "b"]}
    ).to_csv(path, index=False)
    data = load_dataset(str(path), test_size=0.25)
    assert len(data.pool_texts) + len(data.test_texts) == 4
    assert any("dropped 2 pool items with an empty or missing text" in n for n in data.notes)


def test_join_value_flattens_lists_and_pairs():
    assert join_value(["a", "b"]) == "a\nb"
    assert join_value([["Brand", "X"], ["Colour", "red"]]) == "Brand: X\nColour: red"
    assert join_value(np.array(["x"], dtype=object)) == "x"
    assert join_value(None) == "" and join_value(float("nan")) == ""


@pytest.mark.parametrize(
    ("make", "kwargs", "message"),
    [
        (None, {}, "data not found"),
        ("bad.xlsx", {}, "unreadable format '.xlsx'"),
        ("broken.parquet", {}, "cannot read"),
        ("ok.csv", {"text_columns": ["nope"]}, "column 'nope' not found"),
        ("ok.csv", {"label_column": "missing"}, "column 'missing' not found"),
        ("one_class.csv", {}, "need at least 2"),
        ("ok.csv", {"text_columns": []}, "no text column"),
        ("ok.csv", {"test_size": 1.5}, "`test_size`"),
        ("ok.csv", {"id_column": "dup"}, "duplicate"),
    ],
)
def test_bad_input_gets_one_line_that_names_the_fix(tmp_path, make, kwargs, message):
    path = tmp_path / (make or "absent.parquet")
    if make == "bad.xlsx" or make == "broken.parquet":
        path.write_bytes(b"not a real file")
    elif make == "ok.csv":
        pd.DataFrame(
            {"title": list("abcdefgh"), "category": list("xyxyxyxy"), "dup": [1, 1, 2, 3, 4, 5, 6, 7]}
        ).to_csv(path, index=False)
    elif make == "one_class.csv":
        pd.DataFrame({"title": list("abcd"), "category": ["x"] * 4}).to_csv(path, index=False)
    with pytest.raises(AlloopError, match=message) as caught:
        load_dataset(str(path), **kwargs)
    assert "\n" not in str(caught.value)


def test_unreachable_hub_fails_fast_with_a_local_hint(monkeypatch):
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")  # .invalid never resolves (RFC 2606)
    start = time.monotonic()
    with pytest.raises(AlloopError, match="cannot reach the Hugging Face Hub") as caught:
        load_dataset("hub:iarbel/amazon-product-data-filter")
    assert "pass a local file instead" in str(caught.value)
    assert time.monotonic() - start < 30  # a hang would be minutes; this bounds it, not times it


def test_offline_hub_without_a_cache_says_so(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(sources_module, "hub_reachable", lambda timeout: pytest.fail("must not probe"))
    with pytest.raises(AlloopError, match="cannot load hub dataset"):
        load_dataset("hub:iarbel/amazon-product-data-filter")
