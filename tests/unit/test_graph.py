"""Label spreading over the pool's neighbour graph, and the hybrid's use of it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from cli_support import alloop

from alloop.errors import AlloopError
from alloop.models import HybridClassifier, ModelConfig, classifier_factory
from alloop.models.base import with_pool
from alloop.models.config import ModelConfig as _Defaults
from alloop.models.graph import PoolGraph

GRAPH_WEIGHT = _Defaults.graph_weight

# two tight clusters in embedding space ("blue" near x, "red" near y) and one loner far from both
VECTORS = {
    **{f"blue {i}": [1.0, 0.05 * i, 0.0] for i in range(5)},
    **{f"red {i}": [0.05 * i, 1.0, 0.0] for i in range(5)},
    "navy scarf": [1.0, 0.12, 0.0],  # in the blue cluster, with none of its words
    "middle": [1.0, 1.0, 0.0],  # as near blue 4 as red 4
    "loner": [0.0, 0.0, 1.0],
}


class TableEncoder:
    """Embeddings looked up in ``VECTORS``; unknown texts lie between the two clusters, nearer
    red if they start with "reddish", else nearer blue."""

    def embed(self, texts: Sequence[str], progress: object = None) -> np.ndarray:
        between = {True: [0.6, 1.0, 0.0], False: [1.0, 0.6, 0.0]}
        rows = [VECTORS.get(t, between[t.startswith("reddish")]) for t in texts]
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


POOL = list(VECTORS)


def graph(n_neighbours: int = 3) -> PoolGraph:
    return PoolGraph(n_neighbours=n_neighbours).fit(POOL, TableEncoder().embed)


def test_labels_spread_within_their_cluster_and_not_to_an_isolated_title():
    g = graph()
    share = g.spread(["blue 0", "red 4"], np.array([0, 1]), n_classes=3)
    rows = g.rows(POOL)
    blue, red = rows[:5], rows[5:10]  # the first ten titles
    assert (share[blue].argmax(1) == 0).all() and (share[red].argmax(1) == 1).all()
    np.testing.assert_allclose(share[np.r_[blue, red]].sum(axis=1), 1.0)
    assert not share[g.rows(["loner"])].any()  # no edge with a positive similarity reaches it
    assert not share[:, 2].any()  # a class never labelled gets nothing


def test_every_class_seeds_the_same_total_weight():
    g = graph()
    share = g.spread(["blue 1", "blue 2", "blue 3", "blue 4", "red 4"], np.array([0, 0, 0, 0, 1]), 2)
    middle, red = share[g.rows(["middle", "red 0"])]
    # four blue seeds against one red do not flood the title between the clusters, nor the red
    # cluster (one seed per label without the balance: middle 0.84 blue, red 0 only 0.68 red)
    assert middle[0] < 0.65 and red[1] > 0.85


def test_a_title_outside_the_graph_takes_its_nearest_nodes_shares():
    g = graph()
    share = g.spread(["blue 0", "red 0"], np.array([0, 1]), 2)
    outside = g.proba(share, ["a new title"], TableEncoder().embed)[0]
    similarity = (TableEncoder().embed(g._texts) @ TableEncoder().embed(["a new title"]).T).ravel()
    nodes = np.lexsort((np.arange(len(similarity)), -similarity))[:3]  # the 3 nearest, ties by node
    weight = np.clip(similarity[nodes], 0.0, None)
    expected = (weight[:, None] * share[nodes]).sum(0)
    np.testing.assert_allclose(outside, expected / expected.sum())
    assert outside.argmax() == 0  # nearer the blue cluster
    np.testing.assert_allclose(g.proba(share, ["red 3"], TableEncoder().embed), share[g.rows(["red 3"])])
    # the neighbours of the last texts asked are kept; other texts are looked up afresh
    assert g.proba(share, ["reddish new title"], TableEncoder().embed)[0].argmax() == 1
    np.testing.assert_allclose(g.proba(share, ["a new title"], TableEncoder().embed)[0], outside)


def test_the_same_pool_is_not_rebuilt_and_a_tiny_one_has_no_graph():
    g = graph()
    walk = g._walk
    g.fit(list(POOL), TableEncoder().embed)
    assert g._walk is walk
    assert not PoolGraph().fit(["only one"], TableEncoder().embed).fitted
    with pytest.raises(RuntimeError):
        PoolGraph().spread(["x"], np.array([0]), 2)


def test_a_pool_above_a_set_limit_gets_no_graph_and_a_note(caplog):
    with caplog.at_level("WARNING"):
        g = PoolGraph(max_titles=len(POOL) - 1).fit(POOL, TableEncoder().embed)
    assert not g.fitted and "neighbour graph is built for at most" in caplog.text
    clf = with_pool(HybridClassifier(TableEncoder(), 2, graph=g), POOL).fit(
        ["blue 0", "red 0"], np.array([0, 1])
    )
    assert clf._share is None  # the head alone


def test_the_hybrid_mixes_its_head_with_the_spread_labels():
    labelled, labels = ["blue 0", "red 0"], np.array([0, 1])
    mixed = with_pool(HybridClassifier(TableEncoder(), 2, graph=PoolGraph(n_neighbours=3)), POOL)
    head_only = with_pool(HybridClassifier(TableEncoder(), 2, graph_weight=0.0), POOL)
    mixed.fit(labelled, labels)
    head_only.fit(labelled, labels)
    assert not head_only.graph.fitted  # weight 0: the graph is never built
    share = mixed.graph.spread(labelled, labels, 2)
    texts = ["blue 3", "red 2", "loner"]
    spread = mixed.graph.proba(share, texts, TableEncoder().embed)
    expected = (1 - GRAPH_WEIGHT) * head_only.predict_proba(texts) + GRAPH_WEIGHT * spread
    expected[2] = head_only.predict_proba(["loner"])[0]  # nothing reached it: the head alone
    np.testing.assert_allclose(mixed.predict_proba(texts), expected, atol=1e-9)
    # "navy scarf" shares no word with a labelled title; its neighbours make it surer of blue
    assert mixed.predict_proba(["navy scarf"])[0, 0] > head_only.predict_proba(["navy scarf"])[0, 0]


def test_without_a_pool_the_hybrid_is_its_head_alone():
    texts, labels = ["blue 0", "red 0", "blue 1"], np.array([0, 1, 0])
    clf = HybridClassifier(TableEncoder(), 2).fit(texts, labels)
    assert clf._share is None and not clf.graph.fitted


def test_factory_shares_one_graph_and_the_config_default_is_the_models():
    assert ModelConfig().graph_weight == GRAPH_WEIGHT
    # the hybrid's own default is the config's, defined once
    import inspect

    from alloop.models.hybrid import HybridClassifier

    assert inspect.signature(HybridClassifier).parameters["graph_weight"].default == GRAPH_WEIGHT
    make = classifier_factory(ModelConfig(classifier="hybrid", graph_weight=0.3), 4)
    a, b = make(0), make(1)
    assert isinstance(a, HybridClassifier) and a.graph is b.graph and a.graph_weight == 0.3
    for bad in (-0.1, 1.0):
        with pytest.raises(AlloopError, match="`graph_weight`"):
            ModelConfig(graph_weight=bad).validate()


def test_a_run_recorded_before_label_spreading_resumes_without_it():
    from alloop.simulate.config import RunConfig

    stored = RunConfig(data="x.parquet").as_dict()
    assert RunConfig.from_dict(stored).model.graph_weight == GRAPH_WEIGHT
    del stored["model"]["graph_weight"]
    assert RunConfig.from_dict(stored).model.graph_weight == 0.0


def test_cli_refuses_a_graph_weight_out_of_range(tmp_path):
    result = alloop("run", "--graph-weight", "1.5", "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "graph-weight" in result.stderr
