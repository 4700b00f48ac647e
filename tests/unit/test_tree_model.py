"""The top-level x leaf design (``--tree-heads levels``): its combination by hand, and a fit."""

from __future__ import annotations

import numpy as np
import pytest

from alloop.data.taxonomy import Taxonomy
from alloop.errors import AlloopError
from alloop.models import ModelConfig, classifier_factory
from alloop.models.base import Embedder
from alloop.models.tree import LevelHeads, combine

TREE = Taxonomy([("A", "a1"), ("A", "a2"), ("B", "b1")])


def test_the_top_head_sets_each_branchs_share_and_the_leaf_head_splits_it():
    top = np.array([[0.8, 0.2], [0.5, 0.5]])
    leaf = np.array([[0.1, 0.3, 0.6], [0.0, 0.0, 1.0]])
    out = combine(top, leaf, TREE.level_codes(1), TREE.level_matrix(1))
    # row 0: A .4 -> .25/.75 of .8; B all of .2.  row 1: the leaf head gives A nothing: even split
    np.testing.assert_allclose(out, [[0.2, 0.6, 0.2], [0.25, 0.25, 0.5]])


def test_level_heads_fit_and_keep_the_leaf_models_abilities():
    texts = ["red guitar", "blue guitar", "steel pan", "iron pan", "green book", "old book"] * 3
    labels = np.array([0, 0, 1, 1, 2, 2] * 3)
    make = classifier_factory(ModelConfig(classifier="tfidf", tree_heads="levels"), 3, TREE)
    model = make(0)
    assert isinstance(model, LevelHeads) and isinstance(model, Embedder)
    proba = model.fit(texts, labels).predict_proba(["guitar", "book"])
    assert proba.shape == (2, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba.argmax(1).tolist() == [0, 2]
    flat = classifier_factory(ModelConfig(classifier="tfidf", tree_heads="levels"), 3)(0)
    assert not isinstance(flat, LevelHeads)  # no tree: the flat model, as before
    with pytest.raises(AlloopError, match="`tree_heads`"):
        ModelConfig(tree_heads="local").validate()
