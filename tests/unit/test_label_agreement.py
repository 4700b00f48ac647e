"""Agreement statistics against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from alloop.labelling.domain.agreement import (
    disagreements,
    fleiss_from_rows,
    fleiss_kappa,
    majority,
    pairwise_cohen,
    votes,
)
from alloop.labelling.storage.store import LabelRow


def rows(table: dict[int, dict[int, str]], skips: tuple[tuple[int, int], ...] = ()) -> list[LabelRow]:
    out = [
        LabelRow(pos, annotator, "label", label, "t", "t", i)
        for i, (pos, annotator, label) in enumerate(
            (p, a, lab) for p, by in table.items() for a, lab in by.items()
        )
    ]
    out += [LabelRow(p, a, "skip", None, "t", "t", 100 + i) for i, (p, a) in enumerate(skips)]
    return out


def test_fleiss_kappa_by_hand():
    # 3 items, 3 raters, 2 classes. P_i = 1, 1/3, 1 -> mean 7/9; shares 5/9, 4/9 -> Pe = 41/81;
    # kappa = (7/9 - 41/81) / (1 - 41/81) = 22/40.
    assert fleiss_kappa(np.array([[3, 0], [2, 1], [0, 3]])) == pytest.approx(0.55)


def test_fleiss_kappa_matches_fleiss_1971_worked_example():
    # The classic table (10 subjects, 14 raters, 5 categories); published kappa 0.210.
    table = np.array(
        [
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ]
    )
    assert fleiss_kappa(table) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_kappa_with_varying_raters_and_undefined_cases():
    # item 1: 2 raters split (P=0); item 2: 3 agree (P=1); single-rated item dropped.
    # mean P = 0.5; shares 4/5, 1/5 -> Pe = 0.68; kappa = (0.5 - 0.68) / 0.32.
    assert fleiss_kappa(np.array([[1, 1], [3, 0], [1, 0]])) == pytest.approx(-0.5625)
    assert fleiss_kappa(np.array([[2, 0], [3, 0]])) is None  # every rating one class
    assert fleiss_kappa(np.array([[1, 0]])) is None  # no item with two ratings


def test_cohen_kappa_by_hand_and_from_rows():
    # alice x x y y, bob x y y y: po = 3/4, pe = .5*.25 + .5*.75 = .5 -> kappa = .5
    table = {0: {1: "x", 2: "x"}, 1: {1: "x", 2: "y"}, 2: {1: "y", 2: "y"}, 3: {1: "y", 2: "y"}, 4: {1: "x"}}
    (pair,) = pairwise_cohen(rows(table), {1: "alice", 2: "bob"})
    assert (pair.a, pair.b, pair.n_items) == ("alice", "bob", 4)
    assert pair.kappa == pytest.approx(0.5)
    same = {0: {1: "x", 2: "x"}, 1: {1: "x", 2: "x"}}
    assert pairwise_cohen(rows(same), {1: "a", 2: "b"})[0].kappa is None  # undefined, not 1 or NaN


def test_majority_vote_and_ties():
    assert majority(["a", "b", "a"]).label == "a"
    tie = majority(["a", "b"])
    assert tie.label is None and tie.tie and tie.n_labels == 2
    table = {0: {1: "a"}, 1: {1: "a", 2: "b"}, 2: {1: "a", 2: "b", 3: "b"}}
    final = votes(rows(table, skips=((3, 1),)))
    assert final[0].label == "a" and final[1].tie and final[2].label == "b"
    assert 3 not in final  # a skip is not a label


def test_disagreements_ties_first_and_fleiss_needs_shared_items():
    table = {0: {1: "a", 2: "a"}, 1: {1: "a", 2: "b", 3: "b"}, 2: {1: "a", 2: "b"}}
    found = disagreements(rows(table), {1: "ann", 2: "ben", 3: "cat"})
    assert [d.pos for d in found] == [2, 1]  # the tie first
    assert found[1].labels == {"ann": "a", "ben": "b", "cat": "b"} and found[1].vote.label == "b"
    kappa, n_items, n_raters = fleiss_from_rows(rows(table), ["a", "b"])
    assert (n_items, n_raters) == (3, 3)
    # by hand: P = 1, 1/3, 0 -> 4/9; shares 4/7, 3/7 -> Pe = 25/49
    assert kappa == pytest.approx((4 / 9 - 25 / 49) / (1 - 25 / 49))
