"""Property-based tests of the command line (Hypothesis): hostile arguments, config files and
data files for every command that reads or writes files. Whatever the input, the command exits 0,
or exits 2 with exactly one line on stderr; it never shows a traceback; and it creates, changes
or deletes no file outside its output (the --out target, its manifest, and the project folder a
labelling command owns). The project's label.db always survives whole.

The budget per test is ALLOOP_FUZZ_EXAMPLES (12 here, derandomized; `make fuzz` runs more)."""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_support import (
    SETTINGS,
    TRIED,
    args_text,
    check_outcome,
    config_file_bytes,
    data_file_bytes,
    hostile_name,
    invoke,
    make_world,
    record,
    snapshot,
)
from hypothesis import given
from hypothesis import strategies as st

from alloop.outputs import MANIFEST

FORMATS = ["parquet", "csv", "jsonl", "hf", "label-studio"]
SUFFIXES = ["", ".csv", ".parquet", ".jsonl", ".json", ".txt", ".db", ".CSV", "/"]
COUNTER = itertools.count()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[dict[str, Path]]:
    root = tmp_path_factory.mktemp("fuzz-world")
    paths = make_world(root / "world")
    run = root / "world" / "run"
    result = invoke(
        [
            *["run", "--data", str(paths["csv"]), "--classifier", "tfidf", "--initial", "6"],
            *[
                "--query-size",
                "2",
                "--cycles",
                "1",
                "--no-ceiling",
                "--strategy",
                "random",
                "--out",
                str(run),
            ],
        ]
    )
    assert result.code == 0, result.err
    paths["run"] = run
    paths["root"] = root
    yield paths
    record(TRIED, "cli")


def out_names(world: dict[str, Path]) -> st.SearchStrategy[str]:
    """--out values: new names of every suffix in the example's folder, the world's own files and
    folders (a project, a run, a folder of someone else's files), and hostile names."""
    fresh = st.tuples(
        st.sampled_from(["out", "labels", "a b", "ü", ".hidden", "x.y"]), st.sampled_from(SUFFIXES)
    )
    return st.one_of(fresh.map("".join), args_text(world), hostile_name())


class Example:
    """One example's own working folder, and the check that nothing outside the output changed."""

    def __init__(self, world: dict[str, Path]):
        self.world = world
        self.cwd = world["root"] / "cwd" / str(next(COUNTER))
        self.cwd.mkdir(parents=True)

    def file(self, suffix: str, data: bytes) -> str:
        path = self.cwd / f"input{suffix}"
        path.write_bytes(data)
        return str(path)

    def run(self, args: list[str], outputs: list[str | None], owns_project: bool = False) -> None:
        allowed: list[Path] = []
        for out in outputs:
            if out is None or out.strip() in ("", ".", "..", "/"):
                continue
            target = (self.cwd / out).absolute()
            allowed += [target, target.parent / MANIFEST, target.with_name(f"{target.stem}.label_config.xml")]
        project = self.world["project"]
        skip = (*allowed, project) if owns_project else (*allowed, project / "model")
        skip = (*skip, project / "label.db-wal", project / "label.db-shm")
        before = snapshot(self.world["root"] / "world", skip), snapshot(self.cwd, skip)
        here = os.getcwd()
        os.chdir(self.cwd)
        try:
            result = invoke(args)
        finally:
            os.chdir(here)
        check_outcome(result, args)
        after = snapshot(self.world["root"] / "world", skip), snapshot(self.cwd, skip)
        inputs = {k: v for k, v in before[1].items() if k.startswith("input")}
        assert after[0] == before[0], (args, set(after[0].items()) ^ set(before[0].items()))
        assert {k: v for k, v in after[1].items() if k in inputs} == inputs, args
        extra = set(after[1]) - set(before[1])
        assert not extra, (args, result.code, sorted(extra)[:5])
        db = project / "label.db"
        check = sqlite3.connect(f"{db.absolute().as_uri()}?mode=ro", uri=True)
        try:
            assert check.execute("PRAGMA quick_check").fetchone()[0] == "ok", args
        finally:
            check.close()


@SETTINGS
@given(data=st.data())
def test_export(world, data):
    example = Example(world)
    project = data.draw(st.one_of(st.just(str(world["project"])), args_text(world)), label="project")
    out = data.draw(out_names(world), label="out")
    args = ["export", "--project", project, "--out", out]
    if data.draw(st.booleans(), label="with --format"):
        args += [
            "--format",
            data.draw(st.one_of(st.sampled_from(FORMATS), st.text(max_size=8)), label="format"),
        ]
    example.run(args, [out])


@SETTINGS
@given(data=st.data())
def test_predict(world, data):
    example = Example(world)
    args = ["predict", "--project", str(world["project"])]
    if data.draw(st.booleans(), label="with --data"):
        if data.draw(st.booleans(), label="generated data"):
            suffix, content = data.draw(data_file_bytes(), label="data file")
            args += ["--data", example.file(suffix, content)]
        else:
            args += ["--data", data.draw(args_text(world), label="data")]
    out = data.draw(st.one_of(st.none(), out_names(world)), label="out")
    if out is not None:
        args += ["--out", out]
    example.run(args, [out], owns_project=True)


@SETTINGS
@given(data=st.data())
def test_import_labels(world, data):
    example = Example(world)
    suffix, content = data.draw(data_file_bytes(), label="file")
    file = example.file(suffix, content) if data.draw(st.booleans()) else str(world["imports"])
    column = st.one_of(st.sampled_from(["item_id", "title", "category", "label", ""]), st.text(max_size=10))
    args = ["import-labels", "--project", str(world["project"]), "--file", file]
    args += ["--id", data.draw(column, label="id"), "--label", data.draw(column, label="label")]
    args += ["--annotator", data.draw(st.one_of(st.just("alice"), st.text(max_size=70)), label="annotator")]
    example.run(args, [], owns_project=True)


@SETTINGS
@given(data=st.data())
def test_run_with_hostile_config_and_data(world, data):
    """The command line fixes what could make a valid run slow (tfidf, one seed, one cycle); the
    config file and the data file are free."""
    example = Example(world)
    args = ["run", "--classifier", "tfidf", "--seeds", "1", "--cycles", "1", "--no-ceiling", "--threads", "1"]
    args += ["--initial", "6", "--query-size", "2", "--strategy", "random"]
    if data.draw(st.booleans(), label="generated data"):
        suffix, content = data.draw(data_file_bytes(), label="data file")
        args += ["--data", example.file(suffix, content)]
    else:
        args += ["--data", data.draw(args_text(world), label="data")]
    if data.draw(st.booleans(), label="with --config"):
        args += ["--config", example.file(".toml", data.draw(config_file_bytes(), label="config"))]
    out = data.draw(out_names(world), label="out")
    example.run([*args, "--out", out], [out])


@SETTINGS
@given(data=st.data())
def test_report_backup_stats_and_annotators(world, data):
    example = Example(world)
    command = data.draw(
        st.sampled_from(["report", "backup", "label-stats", "annotators add"]), label="command"
    )
    if command == "report":
        target = data.draw(st.one_of(st.just(str(world["run"])), args_text(world)), label="run")
        # a run folder is its own output: report may rewrite its report files there
        example.run(["report", target], [str(world["run"])])
    elif command == "backup":
        project = data.draw(st.one_of(st.just(str(world["project"])), args_text(world)), label="project")
        out = data.draw(out_names(world), label="out")
        example.run(["backup", "--project", project, "--out", out], [out])
    elif command == "label-stats":
        project = data.draw(st.one_of(st.just(str(world["project"])), args_text(world)), label="project")
        example.run(["label-stats", "--project", project], [])
    else:
        name = data.draw(st.text(max_size=80), label="name")
        example.run(["annotators", "add", name, "--project", str(world["project"])], [], owns_project=True)
