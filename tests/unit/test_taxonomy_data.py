"""Category trees in the data: ``--label`` repeated, ``--label-sep``, ``--taxonomy``, and their
refusals through the real CLI (one line, exit 2, nothing created)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from label_support import run_main

from alloop.data import load_dataset
from alloop.errors import AlloopError

ROWS = [
    ("guitar strings", "music", "instruments"),
    ("drum sticks", "music", "instruments"),
    ("vinyl record", "music", "records"),
    ("jazz record", "music", "records"),
    ("cotton shirt", "clothing", "shirts"),
    ("linen shirt", "clothing", "shirts"),
    ("steel kettle", "kitchen", "accessories"),
    ("tea cup", "kitchen", "accessories"),
    ("leather belt", "clothing", "accessories"),
    ("silk scarf", "clothing", "accessories"),
    ("paper book", "books", None),
    ("comic book", "books", None),
]


def _frame(copies: int = 3) -> pd.DataFrame:
    rows = [(f"{t} {i}", a, b) for i in range(copies) for t, a, b in ROWS]
    return pd.DataFrame(rows, columns=["title", "category", "sub"])


@pytest.fixture
def tree_csv(tmp_path) -> Path:
    path = tmp_path / "tree.csv"
    _frame().to_csv(path, index=False)
    return path


def test_levels_as_columns_make_leaves_of_full_paths(tree_csv):
    data = load_dataset(str(tree_csv), label_column=["category", "sub"], test_size=0.25)
    assert data.classes == [
        "books",
        "clothing > accessories",
        "clothing > shirts",
        "kitchen > accessories",
        "music > instruments",
        "music > records",
    ]
    assert data.taxonomy is not None and data.taxonomy.depth == 2
    assert data.tree.level_codes(1).tolist() == [0, 1, 1, 2, 3, 3]
    assert len(data.pool_texts) + len(data.test_texts) == len(ROWS) * 3


def test_one_path_column_split_on_a_separator_gives_the_same_tree(tmp_path, tree_csv):
    frame = _frame()
    pairs = zip(frame["category"], frame["sub"], strict=True)
    frame["path"] = [a if pd.isna(b) else f"{a} / {b}" for a, b in pairs]
    path = tmp_path / "paths.csv"
    frame.to_csv(path, index=False)
    split = load_dataset(str(path), label_column="path", label_sep=" / ", test_size=0.25)
    columns = load_dataset(str(tree_csv), label_column=["category", "sub"], test_size=0.25)
    assert split.classes == columns.classes
    assert split.pool_labels.tolist() == columns.pool_labels.tolist()


def test_flat_data_stays_exactly_as_before(tree_csv):
    flat = load_dataset(str(tree_csv), label_column="category", test_size=0.25)
    assert flat.taxonomy is None and flat.tree.is_flat
    assert flat.classes == ["books", "clothing", "kitchen", "music"]
    one_level = load_dataset(str(tree_csv), label_column="category", label_sep=" > ", test_size=0.25)
    assert one_level.taxonomy is None
    assert one_level.classes == flat.classes and one_level.pool_labels.tolist() == flat.pool_labels.tolist()


def test_a_declared_taxonomy_adds_leaves_no_item_has(tmp_path, tree_csv):
    declared = tmp_path / "tree.txt"
    declared.write_text(
        "books\nclothing > accessories\nclothing > shirts\nclothing > shoes\n"
        "kitchen > accessories\nmusic > instruments\nmusic > records\n"
    )
    data = load_dataset(
        str(tree_csv), label_column=["category", "sub"], taxonomy=str(declared), test_size=0.25
    )
    assert "clothing > shoes" in data.classes and len(data.classes) == 7


def test_a_gap_in_the_levels_names_the_rows(tmp_path):
    frame = _frame(1)
    frame.loc[3, "category"] = None
    path = tmp_path / "gap.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(AlloopError, match=r"rows 3 have an empty level above a filled one"):
        load_dataset(str(path), label_column=["category", "sub"])


RUN = ["run", "--classifier", "tfidf", "--initial", "6", "--query-size", "3", "--cycles", "1", "--seeds", "1"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--label", "category", "--label", "sub", "--label-sep", "/"], "give a single --label"),
        (["--label", "category", "--label", "category"], "given twice"),
        (["--label", "category", "--label", "nope"], "column 'nope' not found"),
        (["--label", "category", "--label", "sub", "--taxonomy", "{missing}"], "not found"),
        (["--label", "category", "--label", "sub", "--taxonomy", "{short}"], "not in the category tree"),
        (["--label", "category", "--label", "sub", "--taxonomy", "{shallow}"], "go deeper than"),
        (["--label", "category", "--label", "sub", "--data", "{gap}"], "empty level above a filled one"),
        (["--label", "category", "--label", "sub", "--data", "{inner}"], "which has sub-categories"),
        (["--label", "category", "--label", "sub", "--query-level", "3"], "--query-level 3 is below"),
        (["--label", "category", "--query-level", "0"], "--query-level must be 1"),
    ],
)
def test_tree_refusals_are_one_line_and_exit_2(tmp_path, monkeypatch, capsys, tree_csv, extra, message):
    files = {
        "missing": tmp_path / "none.txt",
        "short": tmp_path / "short.txt",
        "shallow": tmp_path / "shallow.txt",
        "gap": tmp_path / "gap.csv",
        "inner": tmp_path / "inner.csv",
    }
    files["short"].write_text("music > instruments\nmusic > records\nbooks\n")
    files["shallow"].write_text("music\nclothing\nkitchen\nbooks\n")
    frame = _frame(2)
    frame.loc[1, "category"] = None
    frame.to_csv(files["gap"], index=False)
    frame = _frame(2)
    frame.loc[[0, 5], "sub"] = None
    frame.to_csv(files["inner"], index=False)
    args = [*RUN, "--data", str(tree_csv), "--out", str(tmp_path / "out")]
    args += [a.format(**{k: str(v) for k, v in files.items()}) for a in extra]
    monkeypatch.chdir(tmp_path)
    code, _, err = run_main(capsys, *args)
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out").exists()
