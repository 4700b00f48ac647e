"""The engine's surface: declared abilities refuse what cannot work, a broken invariant is a bug
(not a user error), one option vocabulary for both commands, and the example of docs/python-api.md."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SHARED_DATA
from typer.testing import CliRunner

from alloop.errors import AlloopBug, AlloopError
from alloop.labelling.config import LabelConfig
from alloop.loop import ActiveLearner
from alloop.loop.oracle import SimulatedOracle
from alloop.loop.query import query
from alloop.models import CLASSIFIER_TYPES, Embedder, JointScorer, ModelConfig
from alloop.simulate.config import RunConfig
from alloop.strategies import Strategy, get_strategy


class PlainClassifier:
    """Probabilities only: no ``embed``, so no diversity strategy and no near-duplicate guard."""

    n_classes = 3

    def __init__(self, n_classes: int = 3, seed: int = 0):
        self.fits = 0

    def fit(self, texts, labels):
        self.fits += 1
        return self

    def predict_proba(self, texts):
        x = np.array([len(t) for t in texts], dtype=float)
        logits = np.stack([np.sin(x), np.cos(x), np.sin(2 * x)], axis=1)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)


TEXTS = [f"item {'x' * (i % 17)} {i}" for i in range(60)]


def test_classes_declare_their_abilities():
    from alloop.models import FineTunedClassifier, FrozenEncoderClassifier, TfidfClassifier

    assert all(
        issubclass(c, Embedder) for c in (TfidfClassifier, FrozenEncoderClassifier, FineTunedClassifier)
    )
    assert issubclass(FineTunedClassifier, JointScorer) and not issubclass(TfidfClassifier, JointScorer)
    assert not issubclass(PlainClassifier, Embedder)


@pytest.mark.parametrize("strategy", ["badge", "coreset", "cluster-margin", "margin+dedup"])
def test_a_strategy_needing_embeddings_with_a_classifier_without_is_refused_before_any_work(
    monkeypatch, strategy
):
    monkeypatch.setitem(CLASSIFIER_TYPES, "plain", PlainClassifier)
    model = ModelConfig(classifier="plain")
    with pytest.raises(AlloopError, match=f"strategy {re.escape(strategy)} needs embeddings"):
        RunConfig(strategies=(strategy,), model=model).validate()
    with pytest.raises(AlloopError, match="needs embeddings"):
        LabelConfig(data="x.csv", labels=("a", "b"), strategy=strategy, model=model).validate()
    with pytest.raises(AlloopError, match="needs embeddings"):
        ActiveLearner(PlainClassifier(), get_strategy(strategy), TEXTS)
    with pytest.raises(AlloopError, match="`initial_strategy` kmeans needs embeddings"):
        RunConfig(strategies=("margin",), initial_strategy="kmeans", model=model).validate()
    RunConfig(strategies=("margin", "random"), model=model).validate()  # these need none


def test_a_broken_invariant_is_a_bug_not_a_user_error():
    assert not issubclass(AlloopBug, AlloopError) and issubclass(AlloopBug, RuntimeError)
    labelled = np.arange(10)
    sneaky = Strategy("sneaky", lambda proba, k, rng: np.zeros(k, dtype=np.int64))  # the same row k times
    clf = PlainClassifier()
    with pytest.raises(AlloopBug, match="this is a bug in alloop"):
        query(clf, sneaky, TEXTS, np.arange(10, 60), labelled, 3, np.random.default_rng(0))
    ids = [f"id{i}" for i in range(len(TEXTS))]
    learner = ActiveLearner(
        clf,
        sneaky,
        TEXTS,
        pool_ids=ids,
        oracle=SimulatedOracle(ids, [i % 3 for i in range(len(TEXTS))]),
        test_texts=TEXTS[:5],
        test_labels=np.array([0, 1, 2, 0, 1]),
        query_size=3,
    )
    with pytest.raises(AlloopBug, match="strategy sneaky returned repeated"):
        list(learner.run(np.arange(5)))  # through the whole loop, the same class of error


def test_step_by_step_with_your_own_oracle():
    learner = ActiveLearner(
        PlainClassifier(), get_strategy("margin"), TEXTS, classes=["a", "b", "c"], query_size=4, seed=1
    )
    learner.teach([0, 1, 2], ["a", "b", "c"])  # class names or codes
    learner.fit()
    picks = learner.query()
    assert len(picks) == 4 and not set(picks.tolist()) & {0, 1, 2}
    learner.teach(picks, [0, 1, 2, 0])
    assert len(learner.labelled) == 7 and learner.fit().fits == 2
    with pytest.raises(AlloopError, match="labelled twice"):
        learner.teach([picks[0]], ["a"])
    with pytest.raises(AlloopError, match="not a class"):
        learner.teach([50], ["d"])
    with pytest.raises(AlloopError, match="needs an oracle"):
        next(learner.run(np.array([40])))


def test_near_duplicate_threshold_applies_to_name_dedup():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(10, 64))
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    noise = rng.normal(size=(10, 64))
    noise -= (noise * base).sum(axis=1, keepdims=True) * base
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    emb = np.concatenate([base, 0.8 * base + 0.6 * noise])  # item i + 10 is item i's twin: cosine 0.8
    gap = np.full(20, 0.9)
    gap[[0, 10, 1, 11, 2, 12]] = np.arange(6) * 0.01  # margin ranks the twin pairs first
    proba = np.stack([0.5 + gap / 2, 0.5 - gap / 2], axis=1)

    def picked_cosine(threshold: float) -> float:
        config = RunConfig(strategies=("margin+dedup",), near_duplicate_threshold=threshold)
        strategy = config.strategy("margin+dedup")
        assert f"cosine > {threshold}" in strategy.description
        picked = strategy(proba, 4, np.random.default_rng(0), emb, None)
        cosine = emb[picked] @ emb[picked].T - 2 * np.eye(len(picked))
        return float(cosine.max())

    assert picked_cosine(0.95) == pytest.approx(0.8)  # twins are not near-duplicates at 0.95
    assert picked_cosine(0.5) <= 0.5  # but are at 0.5: the threshold reached NAME+dedup
    live = LabelConfig(data="x.csv", labels=("a", "b"), strategy="margin+dedup", near_duplicate_threshold=0.3)
    assert "cosine > 0.3" in live.get_strategy().description
    assert "cosine > 0.95" in get_strategy("margin+dedup").description  # the default, defined once


def test_label_and_run_share_one_option_vocabulary():
    from alloop.cli.app import app

    runner = CliRunner()
    shared = [
        "--classifier",
        "--model",
        "--max-length",
        "--precision",
        "--device",
        "--no-cache",
        "--cache-dir",
    ]
    shared += ["--query-size", "--seed", "--near-duplicate-threshold", "--pool-subsample", "--text", "--id"]
    for command in ("run", "label"):
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200", "TERMINAL_WIDTH": "200"})
        assert result.exit_code == 0, result.output
        for option in shared:
            assert option in result.output, f"alloop {command} lacks {option}"
    from alloop.cli.app import run
    from alloop.cli.label import label

    for name in (
        "classifier",
        "precision",
        "device",
        "cache",
        "cache_dir",
        "near_duplicate_threshold",
        "seed",
    ):
        assert run.__annotations__[name] == label.__annotations__[name]  # the same alias, not a copy


def test_a_label_project_stored_before_model_config_still_opens():
    flat = {"data": "d.csv", "labels": ["a", "b"], "classifier": "tfidf", "model": None, "max_length": 48}
    config = LabelConfig.from_json(flat)
    assert config.model == ModelConfig(classifier="tfidf", max_length=48)
    assert LabelConfig.from_json(config.to_json()) == config
    merged = config.merged({"precision": "bf16", "device": "cpu", "cache": False, "strategy": "badge"})
    assert (merged.model.precision, merged.model.device, merged.model.cache) == ("bf16", "cpu", False)
    assert merged.model.classifier == "tfidf" and merged.strategy == "badge"


def test_import_alloop_is_light_and_every_api_name_resolves():
    code = "import sys, alloop; print(sorted({'torch', 'sklearn', 'matplotlib'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout == "[]\n"
    import alloop

    for name in alloop.__all__:
        assert getattr(alloop, name) is not None
    assert set(alloop.__all__) == {*alloop._API, "__version__"}
    with pytest.raises(AttributeError):
        alloop.nothing_here  # noqa: B018


def doc_python_blocks(page: str) -> str:
    """The ```python blocks of a documentation page (README.md or a page under docs/), joined."""
    text = (ROOT / page).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, f"no python block in {page}"
    return "\n".join(blocks)


def test_the_python_api_page_example_runs(tmp_path, monkeypatch, capsys):
    """The Python API page's code, as written, except that the data path points at this checkout's data."""
    if not (SHARED_DATA / "amazon-in-products").exists():
        pytest.skip(f"real data missing: {SHARED_DATA} (../shared must sit beside the checkout)")
    code = doc_python_blocks("docs/python-api.md").replace("../shared/data", str(SHARED_DATA))
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(ROOT / "docs" / "python-api.md"), "exec"), {"__name__": "__docs__"})
    out = capsys.readouterr().out
    assert "labelled" in out and "macro-F1" in out
    assert (Path("runs/notebook") / "results.db").exists() and (
        Path("runs/notebook") / "report.html"
    ).exists()


def test_alloop_label_takes_the_model_options_and_keeps_them_between_runs(
    amazon_sample, tmp_path, monkeypatch
):
    """`alloop label` through its real command line (the server's run is a no-op here): the new
    model options reach the stored config; a later run given only --project keeps them."""
    import uvicorn
    from label_support import small_amazon

    from alloop.cli.app import app
    from alloop.labelling.storage.store import LabelStore

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    data = small_amazon(amazon_sample, tmp_path / "data", per_class=3)
    project = tmp_path / "project"
    runner = CliRunner()

    def label(*args: str) -> LabelConfig:
        result = runner.invoke(app, ["label", "--project", str(project), "--port", "0", *args])
        assert result.exit_code == 0, result.output
        store = LabelStore.open(project)
        try:
            config = store.config()
        finally:
            store.close()
        assert config is not None
        return config

    first = label(
        "--data", str(data), "--labels-file", str(data.parent / "labels.txt"), "--classifier", "tfidf",
        "--strategy", "coreset+dedup", "--near-duplicate-threshold", "0.9", "--precision", "bf16",
        "--device", "cpu", "--no-cache", "--cache-dir", str(tmp_path / "cache"), "--pool-subsample", "40",
    )  # fmt: skip
    model = first.model
    assert (model.classifier, model.precision, model.device, model.cache) == ("tfidf", "bf16", "cpu", False)
    assert model.cache_dir == str(tmp_path / "cache") and first.pool_subsample == 40
    assert (first.strategy, first.near_duplicate_threshold) == ("coreset+dedup", 0.9)
    again = label()  # --project alone: everything as stored
    assert again == first
    changed = label("--precision", "fp32", "--strategy", "badge")
    assert changed.model == dataclasses.replace(first.model, precision="fp32") and changed.strategy == "badge"
    bad = runner.invoke(app, ["label", "--project", str(project), "--port", "0", "--precision", "fp64"])
    assert bad.exit_code != 0 and "unknown `precision` 'fp64'" in str(bad.exception)
