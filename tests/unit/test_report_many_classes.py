"""A report over a category tree of hundreds of leaves keeps its pictures readable: the heat map and
the confusion matrices show the classes that need attention, and long paths keep their leaf."""

from __future__ import annotations

import numpy as np

from alloop.report.figures import LABEL_CHARS, short
from alloop.report.html import most_confused


def test_most_confused_keeps_the_classes_with_the_most_errors_in_index_order():
    matrix = np.diag([50, 50, 50, 50, 50])
    matrix[0, 3] = 7  # class 0 taken for 3: both count 7 errors
    matrix[4, 2] = 2
    matrix[1, 1] = 10
    assert most_confused(matrix, 2).tolist() == [0, 3]
    assert most_confused(matrix, 4).tolist() == [0, 2, 3, 4]
    assert most_confused(np.diag([5, 5, 5]), 2).tolist() == [0, 1]  # no errors: the first, stably


def test_a_long_path_keeps_its_leaf():
    path = "Appliances > Small Kitchen Appliances > Coffee, Tea & Espresso > Espresso Machines"
    assert short(path).endswith("Espresso Machines") and len(short(path)) == LABEL_CHARS
    assert short("Kettles") == "Kettles"
