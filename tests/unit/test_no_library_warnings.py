"""No library warning reaches the terminal: a 111-class run, in process, with every warning an error.

scikit-learn guesses 'regression?' when more than half of a fit's labels are distinct, which is the
normal first batch of an active-learning run over many classes (issue 20)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
from label_support import run_main

LIBRARY_WARNING = ("Warning:", "warnings.warn", "site-packages")


@pytest.fixture(scope="module")
def many_classes(amazon_sample, tmp_path_factory) -> Path:
    """Two real titles of each of the 111 amazon-in sub-categories (222 rows)."""
    frame = pd.read_parquet(amazon_sample).groupby("sub_category").head(2).reset_index(drop=True)
    assert frame["sub_category"].nunique() == 111
    path = tmp_path_factory.mktemp("many-classes") / "sub_category.parquet"
    frame.to_parquet(path)
    return path


def test_a_111_class_tfidf_run_emits_no_warning(many_classes, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["run", "--data", str(many_classes), "--label", "sub_category", "--classifier", "tfidf"]
    args += ["--strategy", "random", "--strategy", "margin", "--initial", "40", "--query-size", "20"]
    args += ["--cycles", "2", "--seeds", "1", "--no-ceiling", "--out", str(out)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning raised in process fails the run
        code, _out, err = run_main(capsys, *args)
    assert code == 0, err
    assert (out / "cycles.csv").exists()
    assert not [line for line in err.splitlines() if any(m in line for m in LIBRARY_WARNING)], err


def test_the_first_fit_of_a_111_class_run_is_the_case_scikit_learn_warns_about(many_classes):
    """Guards the test above: its data really is the case that used to warn (>50% distinct labels)."""
    from sklearn.utils.multiclass import check_classification_targets

    labels = pd.read_parquet(many_classes)["sub_category"].to_numpy()[::2][:40]
    with pytest.warns(UserWarning, match="greater than 50%"):
        check_classification_targets(labels)


def test_the_tfidf_fit_itself_is_silent_on_many_classes(many_classes):
    from alloop.models import TfidfClassifier

    frame = pd.read_parquet(many_classes)
    classes = sorted(frame["sub_category"].unique())
    sample = frame.groupby("sub_category").head(1).head(40)
    labels = sample["sub_category"].map(classes.index).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TfidfClassifier(len(classes), seed=0).fit(sample["title"].tolist(), labels)
