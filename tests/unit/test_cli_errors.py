"""Malformed input to every command, as a new user would type it: each ends with exit code 2,
exactly one line on stderr naming the problem, no traceback, and no file created.

The real entry point (``alloop.cli.app.main``) runs in process, from a fresh working folder per case,
on tiny files made here and the ``tfidf`` classifier, so nothing loads the encoder.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from label_support import run_main

from alloop.labelling.storage.project import open_project
from alloop.labelling.storage.store import LabelStore

WORDS = ["guitar strings", "cotton shirt", "steel kettle", "drum sticks", "linen dress", "tea cup"]
LABELS = ["music", "clothing", "kitchen", "music", "clothing", "kitchen"]


def _sqlite_file(path: Path, rows: int = 2000) -> None:
    """A real SQLite file of several pages (to cut short for the truncation cases)."""
    db = sqlite3.connect(path)
    with db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.executemany("INSERT INTO meta VALUES (?, ?)", [(f"k{i}", "x" * 200) for i in range(rows)])
    db.close()


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, str]:
    """Every file the cases point at, by placeholder name."""
    root = tmp_path_factory.mktemp("errors")
    paths: dict[str, Path] = {}
    tiny = pd.DataFrame({"title": [f"{w} {i}" for i in range(4) for w in WORDS], "category": LABELS * 4})
    paths["tiny"] = root / "tiny.csv"
    tiny.to_csv(paths["tiny"], index=False)
    paths["header"] = root / "header.csv"
    paths["header"].write_text("title,category\n")
    paths["nolabel"] = root / "nolabel.csv"
    tiny.assign(category=None).to_csv(paths["nolabel"], index=False)
    paths["notext"] = root / "notext.csv"
    tiny.assign(title="").to_csv(paths["notext"], index=False)
    paths["onelabel"] = root / "onelabel.csv"
    tiny.assign(category="music").to_csv(paths["onelabel"], index=False)
    paths["bad_format"] = root / "data.xlsx"
    paths["bad_format"].write_text("x")
    paths["file"] = root / "a-file.txt"
    paths["file"].write_text("not a folder\n")
    paths["dir"] = root / "a-folder"
    paths["dir"].mkdir()
    paths["labels_file"] = root / "labels.txt"
    paths["labels_file"].write_text("music\nclothing\nkitchen\n")
    tomls = {
        "toml_bad": "query-size = \n",
        "toml_unknown": "speed = 3\n",
        "toml_type": 'seeds = "many"\n',
        "toml_binary": None,
    }
    for name, text in tomls.items():
        paths[name] = root / f"{name}.toml"
        if text is None:
            paths[name].write_bytes(b"\xff\xfe\x00garbage")
        else:
            paths[name].write_text(text)
    # run folders whose results.db is not a whole alloop database
    for name in ("run_garbage", "run_truncated", "run_empty", "run_foreign"):
        (root / name).mkdir()
        paths[name] = root / name
    (root / "run_garbage" / "results.db").write_bytes(b"this is not a database\n" * 50)
    _sqlite_file(root / "run_truncated" / "results.db")
    _truncate(root / "run_truncated" / "results.db")
    (root / "run_empty" / "results.db").write_bytes(b"")
    sqlite3.connect(root / "run_foreign" / "results.db").execute("CREATE TABLE other (x)").connection.close()
    # labelling projects: a good one (tfidf, no labels yet), a damaged one of each kind
    given = {"data": str(paths["tiny"]), "labels": ("music", "clothing", "kitchen"), "classifier": "tfidf"}
    store, _, _ = open_project(root / "project", given)
    store.add_annotator("alice")
    store.close()
    paths["project"] = root / "project"
    store = LabelStore.open(root / "only_annotators", create=True)
    store.add_annotator("alice")
    store.close()
    paths["only_annotators"] = root / "only_annotators"
    for name in ("project_garbage", "project_truncated", "project_empty"):
        (root / name).mkdir()
        paths[name] = root / name
    (root / "project_garbage" / "label.db").write_bytes(os.urandom(4096))
    _sqlite_file(root / "project_truncated" / "label.db")
    _truncate(root / "project_truncated" / "label.db")
    (root / "project_empty" / "label.db").write_bytes(b"")
    paths["new"] = root / "does-not-exist"
    # -- import-labels (label-io): one bad row each, against the tfidf project above (ids 0..23) --
    for name, text in {
        "imp_unknown": "id,label\n0,music\n999,music\n",
        "imp_outside": "id,label\n0,music\n1,toys\n",
        "imp_empty": "id,label\n0,music\n1,\n",
        "imp_dup": "id,label\n0,music\n1,clothing\n0,kitchen\n",
        "imp_header": "id,label\n",
    }.items():
        paths[name] = root / f"{name}.csv"
        paths[name].write_text(text)
    paths["ls_garbage"] = root / "ls_garbage.json"
    paths["ls_garbage"].write_text("[{not json")
    paths["ls_none"] = root / "ls_none.json"
    paths["ls_none"].write_text("[]")
    paths["ls_other_control"] = root / "ls_other_control.json"
    answer = {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["music"]}}
    ls_task = {"data": {"id": "0", "text": "t"}, "annotations": [{"result": [answer]}]}
    paths["ls_other_control"].write_text(json.dumps([ls_task]))
    return {name: str(path) for name, path in paths.items()}


RUN = ["run", "--classifier", "tfidf", "--no-ceiling", "--cycles", "1", "--initial", "6", "--query-size", "3"]
LABEL = ["label", "--port", "0", "--classifier", "tfidf"]
NEW_LABEL = [*LABEL, "--project", "{new}", "--labels", "music,clothing,kitchen"]
EXPORT = ["export", "--project", "{project}"]
IMPORT = ["import-labels", "--project", "{project}", "--id", "id", "--label", "label"]

# (args, a fragment of the one error line); placeholders name files of `world`; "{cwd}" is the
# case's own empty working folder, where nothing may appear.
CASES: list[tuple[list[str], str]] = [
    # -- alloop run: where it writes -------------------------------------------------------------
    ([*RUN, "--data", "{tiny}", "--out", "{file}"], "is a file; give a folder"),
    ([*RUN, "--data", "{tiny}", "--out", "{file}/run"], "is a file, not a folder"),
    ([*RUN, "--data", "{tiny}", "--out", "/proc/alloop-run"], "cannot write in /proc"),
    ([*RUN, "--data", "{tiny}", "--out", "{run_garbage}"], "already holds a run"),
    # -- alloop run: its config file ---------------------------------------------------------------
    ([*RUN, "--data", "{tiny}", "--config", "{dir}"], "is a folder; give a file"),
    ([*RUN, "--data", "{tiny}", "--config", "{new}/x.toml"], "not found"),
    ([*RUN, "--data", "{tiny}", "--config", "{toml_bad}"], "not valid TOML"),
    ([*RUN, "--data", "{tiny}", "--config", "{toml_binary}"], "not valid TOML"),
    ([*RUN, "--data", "{tiny}", "--config", "{toml_unknown}"], "unknown option 'speed'"),
    ([*RUN, "--data", "{tiny}", "--config", "{toml_type}"], "seeds"),
    # -- alloop run: its data ----------------------------------------------------------------------
    ([*RUN, "--data", ""], "--data is empty"),
    ([*RUN, "--data", "   "], "--data is empty"),
    ([*RUN, "--data", "{new}/x.parquet"], "data not found"),
    ([*RUN, "--data", "{bad_format}"], "unreadable format"),
    ([*RUN, "--data", "{header}"], "has no rows"),
    ([*RUN, "--data", "{nolabel}"], "every pool row was dropped"),
    ([*RUN, "--data", "{notext}"], "every pool row was dropped"),
    ([*RUN, "--data", "{onelabel}"], "need at least 2"),
    ([*RUN, "--data", "{tiny}", "--text", "name"], "column 'name' not found"),
    ([*RUN, "--data", "{tiny}", "--label", "cat"], "column 'cat' not found"),
    ([*RUN, "--data", "{tiny}", "--id", "sku"], "column 'sku' not found"),
    ([*RUN, "--data", "{tiny}", "--test-size", "1.5"], "--test-size"),
    # -- alloop run: sizes that only the loaded pool can refuse (19 items) -------------------------
    ([*RUN, "--data", "{tiny}", "--initial", "19"], "the pool has 19"),
    ([*RUN, "--data", "{tiny}", "--initial", "0.99"], "the pool has 19"),
    ([*RUN, "--data", "{tiny}", "--initial", "10", "--budget", "5"], "larger than --budget"),
    ([*RUN, "--data", "{tiny}", "--query-size", "50"], "larger than the unlabelled pool"),
    ([*RUN, "--data", "{tiny}", "--initial", "2.5"], "neither a fraction"),
    ([*RUN, "--data", "{tiny}", "--initial", "0"], "--initial must be positive"),
    # -- alloop run: options -----------------------------------------------------------------------
    ([*RUN, "--data", "{tiny}", "--query-size", "0"], "at least 1"),
    ([*RUN, "--data", "{tiny}", "--strategy", "best"], "unknown strategy"),
    ([*RUN, "--data", "{tiny}", "--strategy", "margin", "--strategy", "margin"], "given twice"),
    ([*RUN, "--data", "{tiny}", "--classifier", "svm"], "unknown classifier"),
    ([*RUN, "--data", "{tiny}", "--cycles", "x"], "Invalid value for '--cycles'"),
    ([*RUN, "--data", "{tiny}", "--target-f1", "2"], "--target-f1"),
    ([*RUN, "--data", "{tiny}", "--precision", "int4"], "unknown --precision"),
    ([*RUN, "--data", "{tiny}", "--device", "gpu0"], "unknown --device"),
    ([*RUN, "--data", "{tiny}", "--threads", "0"], "--threads"),
    ([*RUN, "--data", "{tiny}", "--seeds", "0"], "--seeds"),
    ([*RUN, "--data", "{tiny}", "--seed", "-1"], "--seed must be 0 or more"),
    ([*RUN, "--data", "{tiny}", "--max-steps", "0"], "--max-steps"),
    ([*RUN, "--data", "{tiny}", "--stop", "soon"], "unknown --stop"),
    ([*RUN, "--data", "{tiny}", "--stop-set-size", "2"], "--stop-set-size"),
    ([*RUN, "--data", "{tiny}", "--initial-strategy", "smart"], "--initial-strategy"),
    ([*RUN, "--data", "{tiny}", "--initial-strategy", "label-names"], "has no text encoder"),
    ([*RUN, "--data", "{tiny}", "--no-near-duplicates", "--near-duplicate-threshold", "2"], "between 0"),
    ([*RUN, "--data", "{tiny}", "--pool-subsample", "2"], "--pool-subsample"),
    ([*RUN, "--data", "{tiny}", "--max-length", "4"], "--max-length"),
    ([*RUN, "--data", "{tiny}", "--no-such-option"], "No such option"),
    # -- alloop run --resume -----------------------------------------------------------------------
    (["run", "--resume", "{new}"], "no results.db"),
    (["run", "--resume", "{file}"], "no results.db"),
    (["run", "--resume", "{run_garbage}"], "not an SQLite database"),
    (["run", "--resume", "{run_truncated}"], "is truncated"),
    (["run", "--resume", "{run_empty}"], "is empty"),
    (["run", "--resume", "{run_foreign}"], "holds no config"),
    (["run", "--resume", "{run_garbage}", "--classifier", "tfidf"], "drop --classifier"),
    # -- alloop report -----------------------------------------------------------------------------
    (["report", "{new}"], "no results.db"),
    (["report", "{dir}"], "no results.db"),
    (["report", "{run_garbage}"], "not an SQLite database"),
    (["report", "{run_truncated}"], "is truncated"),
    (["report", "{run_empty}"], "is empty"),
    (["report", "{run_foreign}"], "nothing to report"),
    (["report"], "Missing argument"),
    # -- alloop label ------------------------------------------------------------------------------
    ([*NEW_LABEL, "--data", "{tiny}", "--project", "{file}"], "is a file; give a folder"),
    ([*NEW_LABEL, "--data", "{tiny}", "--project", "{file}/p"], "is a file, not a folder"),
    ([*NEW_LABEL, "--data", "{tiny}", "--project", "/proc/alloop-project"], "cannot write in /proc"),
    ([*LABEL, "--project", "{project_garbage}"], "not an SQLite database"),
    ([*LABEL, "--project", "{project_truncated}"], "is truncated"),
    ([*LABEL, "--project", "{project_empty}"], "is empty"),
    ([*LABEL, "--project", "{new}", "--data", "{tiny}", "--labels-file", "{dir}"], "is a folder"),
    ([*LABEL, "--project", "{new}", "--data", "{tiny}", "--labels-file", "{new}/l.txt"], "not found"),
    ([*NEW_LABEL, "--data", ""], "--data is empty"),
    ([*NEW_LABEL, "--data", "{header}"], "no row of"),
    ([*NEW_LABEL, "--data", "{notext}"], "no row of"),
    ([*NEW_LABEL, "--data", "{tiny}", "--query-size", "50"], "larger than the project's 24 items"),
    ([*LABEL, "--project", "{project}", "--query-size", "50"], "larger than the project's 24 items"),
    ([*NEW_LABEL, "--data", "{tiny}", "--strategy", "best"], "unknown strategy"),
    ([*NEW_LABEL, "--data", "{tiny}", "--overlap", "2"], "--overlap"),
    ([*NEW_LABEL, "--data", "{tiny}", "--seed", "-1"], "--seed must be 0 or more"),
    ([*NEW_LABEL, "--data", "{tiny}", "--cold-start", "warm"], "--cold-start"),
    ([*LABEL, "--project", "{project}", "--labels", "a,b"], "created with --labels"),
    ([*LABEL, "--project", "{project}", "--port", "70000"], "--port must be between"),
    # -- alloop annotators -------------------------------------------------------------------------
    (["annotators", "add", "", "--project", "{new}"], "1 to 64 characters"),
    (["annotators", "add", "   ", "--project", "{new}"], "1 to 64 characters"),
    (["annotators", "add", "a\nb", "--project", "{new}"], "1 to 64 characters"),
    (["annotators", "add", "x" * 65, "--project", "{new}"], "1 to 64 characters"),
    (["annotators", "add", "alice", "--project", "{project}"], "already exists"),
    (["annotators", "add", "bob", "--project", "{file}"], "is a file; give a folder"),
    (["annotators", "add", "bob", "--project", "/proc/alloop-p"], "cannot write in /proc"),
    (["annotators", "add", "bob", "--project", "{project_garbage}"], "not an SQLite database"),
    (["annotators", "add", "bob", "--project", "{project_truncated}"], "is truncated"),
    (["annotators", "add", "bob"], "Missing option '--project'"),
    (["annotators", "list", "--project", "{project_garbage}"], "not an SQLite database"),
    (["annotators", "list", "--project", "{new}"], "no label.db"),
    # -- alloop label-stats ------------------------------------------------------------------------
    (["label-stats", "--project", "{new}"], "no label.db"),
    (["label-stats", "--project", "{project_garbage}"], "not an SQLite database"),
    (["label-stats", "--project", "{project_truncated}"], "is truncated"),
    (["label-stats", "--project", "{project_empty}"], "is empty"),
    (["label-stats", "--project", "{only_annotators}"], "no data yet"),
    # -- alloop export -----------------------------------------------------------------------------
    (["export", "--project", "{project}", "--out", "{dir}", "--format", "csv"], "is a folder name"),
    (["export", "--project", "{project}", "--out", "{cwd}/x.parquet", "--format", "csv"], "contradicts"),
    (["export", "--project", "{project}", "--out", "{cwd}/x.csv", "--format", "parquet"], "contradicts"),
    (["export", "--project", "{project}", "--out", "{cwd}/x.xlsx"], "unknown table format"),
    (["export", "--project", "{project}", "--out", "{cwd}/x.csv", "--format", "xlsx"], "unknown table"),
    (["export", "--project", "{project}", "--out", "{file}/x.csv"], "is a file, not a folder"),
    (["export", "--project", "{project}", "--out", "/proc/alloop.csv"], "cannot write in /proc"),
    (["export", "--project", "{project_garbage}", "--out", "{cwd}/x.csv"], "not an SQLite database"),
    (["export", "--project", "{project_truncated}", "--out", "{cwd}/x.csv"], "is truncated"),
    (["export", "--project", "{new}", "--out", "{cwd}/x.csv"], "no label.db"),
    (["export", "--project", "{only_annotators}", "--out", "{cwd}/x.csv"], "no data yet"),
    # -- alloop predict ----------------------------------------------------------------------------
    (["predict", "--project", "{project}", "--data", "{header}", "--out", "{cwd}/p.csv"], "has no rows"),
    (["predict", "--project", "{project}", "--data", "{new}/n.csv", "--out", "{cwd}/p.csv"], "not found"),
    (["predict", "--project", "{project}", "--data", "", "--out", "{cwd}/p.csv"], "--data is empty"),
    (["predict", "--project", "{project}", "--data", "{tiny}", "--out", "{dir}"], "is a folder"),
    (["predict", "--project", "{project}", "--data", "{tiny}", "--out", "{cwd}/p.xlsx"], "unknown table"),
    (["predict", "--project", "{project}", "--data", "{nolabel}", "--out", "/proc/p.csv"], "cannot write"),
    (["predict", "--project", "{project}", "--data", "{labels_file}", "--out", "{cwd}/p.csv"], "unreadable"),
    (["predict", "--project", "{project}", "--data", "{tiny}", "--out", "{cwd}/p.csv"], "no labels yet"),
    (["predict", "--project", "{project_garbage}", "--data", "{tiny}", "--out", "{cwd}/p.csv"], "SQLite"),
    # -- label-io: alloop import-labels, export formats, predict without --data --------------------
    ([*IMPORT, "--file", "{imp_unknown}"], "line 3: id '999' is not an item of this project"),
    ([*IMPORT, "--file", "{imp_outside}"], "line 3: label 'toys' is not in the project's label set"),
    ([*IMPORT, "--file", "{imp_empty}"], "line 3: empty label for id '1'"),
    ([*IMPORT, "--file", "{imp_dup}"], "line 4: id '0' is labelled 'kitchen' here but 'music' on line 2"),
    ([*IMPORT, "--file", "{imp_header}"], "no rows to import"),
    ([*IMPORT, "--file", "{tiny}"], "--id column 'id' not found"),
    ([*IMPORT, "--file", "{bad_format}"], "unreadable format '.xlsx'"),
    ([*IMPORT, "--file", "{new}/labels.csv"], "not found"),
    ([*IMPORT, "--file", "{dir}"], "is a folder"),
    ([*IMPORT, "--file", "{ls_garbage}"], "cannot read"),
    ([*IMPORT, "--file", "{ls_none}"], "holds no Label Studio tasks"),
    ([*IMPORT, "--file", "{ls_other_control}"], "no choices named 'label' (found sentiment)"),
    ([*IMPORT, "--file", "{imp_unknown}", "--annotator", " "], "1 to 64 characters"),
    (["import-labels", "--project", "{only_annotators}", *IMPORT[3:], "--file", "{imp_dup}"], "no data yet"),
    (["import-labels", "--project", "{new}", *IMPORT[3:], "--file", "{imp_dup}"], "no label.db"),
    (["import-labels", "--project", "{project}", "--file", "{imp_dup}", "--label", "label"], "'--id'"),
    (["export", "--project", "{project}", "--out", "{cwd}/x.json", "--format", "csv"], "contradicts"),
    ([*EXPORT, "--out", "{cwd}/x.jsonl", "--format", "label-studio"], "contradicts"),
    (["export", "--project", "{project}", "--out", "{cwd}/x.csv", "--format", "hf"], "contradicts"),
    (["export", "--project", "{project}", "--out", "{cwd}/hf", "--format", "jsonl"], "is a folder name"),
    (["export", "--project", "{project}", "--out", "{cwd}/x", "--format", "yaml"], "unknown table format"),
    (["export", "--project", "{project}", "--out", "{file}", "--format", "hf"], "is a file; give a folder"),
    (["export", "--project", "{project}", "--out", "{run_garbage}"], "alloop did not write"),
    (["export", "--project", "{project}", "--out", "{file}/x.json"], "is a file, not a folder"),
    (["predict", "--project", "{project}"], "no labels yet"),
    (["predict", "--project", "{project}", "--out", "{cwd}/p.json"], "unknown table format"),
    (["predict", "--project", "{new}"], "no label.db"),
    # -- the rest ----------------------------------------------------------------------------------
    (["version", "extra"], "unexpected extra argument"),
    (["version", "--verbose"], "No such option"),
    (["labelling"], "No such command"),
    (["annotators", "remove", "alice"], "No such command"),
    # -- review and roles: alloop annotators --role, set-role --------------------------------------
    (["annotators", "add", "bob", "--project", "{new}", "--role", "boss"], "unknown role 'boss'"),
    (["annotators", "add", "bob", "--project", "{project}", "--role", "Reviewer"], "unknown role"),
    (["annotators", "set-role", "alice", "--role", "boss", "--project", "{project}"], "unknown role"),
    (["annotators", "set-role", "nobody", "--role", "reviewer", "--project", "{project}"], "no annotator"),
    (["annotators", "set-role", "alice", "--role", "reviewer", "--project", "{new}"], "no label.db"),
    (["annotators", "set-role", "alice", "--role", "reviewer", "--project", "{project_garbage}"], "SQLite"),
    (["annotators", "set-role", "alice", "--project", "{project}"], "Missing option '--role'"),
    # -- suggest: alloop label --suggest, --show, --guidelines --------------------------------------
    ([*NEW_LABEL, "--data", "{tiny}", "--suggest", "maybe"], "--suggest is on or off, not 'maybe'"),
    ([*NEW_LABEL, "--data", "{tiny}", "--show", "colour"], "its columns are: title, category"),
    ([*LABEL, "--project", "{project}", "--show", "colour"], "--show column 'colour' is not in"),
    ([*LABEL, "--project", "{project}", "--guidelines", "{new}/rules.md"], "rules.md not found"),
    ([*LABEL, "--project", "{project}", "--guidelines", "{dir}"], "is a folder; give a file"),
    ([*LABEL, "--project", "{project}", "--guidelines", "{toml_binary}"], "is not UTF-8 text"),
]


def _files(*folders: Path) -> set[str]:
    return {str(p) for folder in folders for p in folder.rglob("*")}


def test_the_table_is_large_and_covers_every_command():
    assert len(CASES) >= 60
    commands = {args[0] for args, _ in CASES}
    assert {"run", "report", "label", "annotators", "label-stats", "export", "predict", "version"} <= commands
    assert "import-labels" in commands


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_malformed_input_is_one_line_exit_2_and_creates_nothing(
    world, tmp_path, monkeypatch, capsys, args, message
):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("COLUMNS", "400")
    args = [a.format(**world, cwd=cwd) for a in args]
    root = Path(world["tiny"]).parent
    before = _files(root, cwd)
    code, out, err = run_main(capsys, *args)
    assert code == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and message in lines[0], err
    assert "Traceback" not in out + err
    assert _files(root, cwd) == before, "a refused command created files"


def test_a_strategy_given_as_a_string_in_toml_runs(world, tmp_path, monkeypatch, capsys):
    import json

    config = tmp_path / "experiment.toml"
    config.write_text('strategy = "margin"\nclassifier = "tfidf"\n')
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "run"
    args = ["run", "--config", str(config), "--data", world["tiny"], "--no-ceiling", "--cycles", "1"]
    code, _, err = run_main(capsys, *args, "--initial", "6", "--query-size", "3", "--out", str(out))
    assert code == 0, err
    assert json.loads((out / "config.json").read_text())["config"]["strategies"] == ["margin"]


def test_predict_warns_when_every_final_label_is_one_class(world, tmp_path, capsys):
    given = {"data": world["tiny"], "labels": ("music", "clothing", "kitchen"), "classifier": "tfidf"}
    store, _, _ = open_project(tmp_path / "p", given)
    alice = LabelStore.annotator_for_token(store, store.add_annotator("alice"))
    assert alice is not None
    for pos in range(5):
        store.put_label(pos, alice.id, "label", "kitchen")
    store.close()
    out = tmp_path / "pred.csv"
    args = ["predict", "--project", str(tmp_path / "p"), "--data", world["tiny"], "--out", str(out)]
    code, _, err = run_main(capsys, *args)
    assert code == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: ") and "'kitchen'" in lines[0], err
    assert set(pd.read_csv(out)["predicted_label"]) == {"kitchen"}


def test_a_cuda_device_where_there_is_none_is_one_line():
    import torch

    from alloop.errors import AlloopError
    from alloop.models.encoder import pick_device

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(AlloopError, match="no CUDA device"):
        pick_device("cuda")
