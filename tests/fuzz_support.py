"""Property-based testing of the command line: Hypothesis strategies for hostile arguments, config
files and data files, the real entry point run in process under typer's ``CliRunner`` isolation,
and the invariants every run must keep.

The example budget is ``ALLOOP_FUZZ_EXAMPLES`` (a few per test inside ``make test``; ``make fuzz``
raises it)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("ALLOOP_FUZZ_EXAMPLES", "12"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a command may train a tiny model; tests never assert on wall time
    derandomize=os.environ.get("ALLOOP_FUZZ_EXAMPLES") is None,  # the suite is deterministic
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
    database=None,
)
LABELS = ("music", "clothing", "kitchen")
WORDS = ["guitar strings", "cotton shirt", "steel kettle", "drum sticks", "linen dress", "tea cup"]


TRIED: Counter[str] = Counter()
"""examples run per command and exit code (what ``make fuzz`` reports)"""


def record(counts: Counter[str], name: str) -> None:
    """Append ``counts`` to the file ALLOOP_FUZZ_REPORT names (JSON lines), when it names one."""
    target = os.environ.get("ALLOOP_FUZZ_REPORT")
    if target and counts:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps({"suite": name, "examples": dict(sorted(counts.items()))}) + "\n")


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def invoke(args: list[str]) -> Outcome:
    """The real ``alloop`` entry point (``alloop.cli.app.main``: one line and exit 2 for bad
    input), in process, its streams captured by typer's ``CliRunner`` isolation. Any exception
    that escapes ``main`` is a traceback a user would see: it is returned as exit code -1."""
    from typer.testing import CliRunner

    from alloop.cli.app import main

    old = sys.argv
    sys.argv = ["alloop", *args]
    code = 0
    try:
        with CliRunner().isolation() as streams:
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException as exc:
                import traceback

                sys.stderr.write("Traceback (escaped main)\n" + "".join(traceback.format_exception(exc)))
                code = -1
            sys.stdout.flush()
            sys.stderr.flush()
            out, err = streams[0].getvalue(), streams[1].getvalue()
    finally:
        sys.argv = old
    command = " ".join(args[:2]) if args[:1] == ["annotators"] else args[0]
    TRIED[f"{command}: exit {code}"] += 1
    return Outcome(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


ROW_REPORT = re.compile(r"^(line|row|task) \d+: |^\.\.\. and [\d,]+ more$")
"""``import-labels`` names its bad rows (up to 20, one line each) above its one error line."""


def check_outcome(result: Outcome, args: list[str]) -> None:
    """Exit 0, or exit 2 with exactly one error line on stderr (``import-labels`` may list the
    bad rows above it); never a traceback."""
    assert "Traceback" not in result.err, (args, result.err[-3000:])
    assert result.code in (0, 2), (args, result.code, result.err[-2000:])
    if result.code == 2:
        lines = [line for line in result.err.splitlines() if line.strip()]
        assert lines and lines[-1].startswith("error: "), (args, result.err)
        extra = lines[:-1]
        if args[0] == "import-labels":
            extra = [line for line in extra if not ROW_REPORT.match(line)]
        assert not extra, (args, result.err)


def snapshot(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, str]:
    """Every file under ``root`` by relative path -> SHA-256 (folders as ``/``), except under
    ``skip``."""
    found: dict[str, str] = {}
    skipped = tuple(p.absolute() for p in skip)
    for path in sorted(root.rglob("*")):
        absolute = path.absolute()
        if any(absolute == s or s in absolute.parents for s in skipped):
            continue
        key = path.relative_to(root).as_posix()
        found[key] = "/" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


# -- the world the commands are pointed at ---------------------------------------------------------
def make_world(root: Path) -> dict[str, Path]:
    """Data files good and bad, a labelling project (tfidf, 12 answers), a finished run folder and
    folders of files alloop did not write (including a state.json and a dataset_info.json)."""
    from alloop.labelling.storage.project import open_project

    root.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    colours = ["red", "blue", "green", "black", "white"]
    titles = [f"{w} {colours[i % 5]} {i}" for i in range(5) for w in WORDS]
    frame = pd.DataFrame({"title": titles, "category": [LABELS[i % 3] for i in range(len(titles))]})
    paths["csv"] = root / "items.csv"
    frame.to_csv(paths["csv"], index=False)
    paths["parquet"] = root / "items.parquet"
    frame.to_parquet(paths["parquet"])
    paths["jsonl"] = root / "items.jsonl"
    frame.to_json(paths["jsonl"], orient="records", lines=True)
    paths["labels_txt"] = root / "labels.txt"
    paths["labels_txt"].write_text("\n".join(LABELS) + "\n")
    paths["imports"] = root / "imports.csv"
    paths["imports"].write_text("item_id,label\n0,music\n1,clothing\n")
    store, _, _ = open_project(
        root / "proj", {"data": str(paths["csv"]), "labels": LABELS, "classifier": "tfidf", "query_size": 5}
    )
    alice = store.annotator_for_token(store.add_annotator("alice"))
    assert alice is not None
    for pos in range(12):
        store.put_label(pos, alice.id, "label", LABELS[pos % 3])
    store.close()
    paths["project"] = root / "proj"
    foreign = root / "mine"
    foreign.mkdir()
    for name, data in {
        "notes.txt": b"my notes\n",
        "state.json": b'{"not": "alloop"}\n',
        "dataset_info.json": b'{"also": "not alloop"}\n',
        "labels.parquet": b"a file of mine\n",
    }.items():
        (foreign / name).write_bytes(data)
    paths["foreign"] = foreign
    paths["foreign_file"] = foreign / "notes.txt"
    return paths


# -- strategies --------------------------------------------------------------------------------
def _text_in(encoding: str) -> st.SearchStrategy[bytes]:
    return st.text(max_size=200).map(lambda t: t.encode(encoding, "replace"))


CSV_ROWS = st.lists(
    st.tuples(
        st.one_of(st.text(max_size=40), st.integers(), st.floats(allow_nan=True), st.none()),
        st.one_of(st.sampled_from(LABELS), st.text(max_size=12), st.integers(), st.none()),
    ),
    max_size=40,
)


@st.composite
def data_file_bytes(draw: st.DrawFn) -> tuple[str, bytes]:
    """A data file's suffix and bytes: wrong types, empty, huge, binary, odd encodings."""
    kind = draw(st.sampled_from(["csv", "jsonl", "parquet", "binary", "empty", "huge", "encoded"]))
    if kind == "empty":
        return draw(st.sampled_from([".csv", ".jsonl", ".parquet"])), b""
    if kind == "binary":
        return draw(st.sampled_from([".csv", ".jsonl", ".parquet", ".txt"])), draw(st.binary(max_size=2000))
    if kind == "huge":  # one enormous field, or very many columns
        width = draw(st.sampled_from([200_000, 1]))
        columns = draw(st.sampled_from([2, 3000]))
        header = ",".join(["title", "category", *[f"c{i}" for i in range(columns - 2)]])
        row = ",".join(["x" * width, "music", *["1"] * (columns - 2)])
        return ".csv", (header + "\n" + row + "\n").encode()
    if kind == "encoded":
        encoding = draw(st.sampled_from(["utf-16", "utf-32", "latin-1", "cp1252", "utf-8-sig"]))
        rows = draw(CSV_ROWS)
        text = "title,category\n" + "".join(f"{t},{c}\n" for t, c in rows)
        return ".csv", text.encode(encoding, "replace")
    rows = draw(CSV_ROWS)
    frame = pd.DataFrame(
        rows, columns=draw(st.sampled_from([["title", "category"], ["a", "b"], ["title", ""]]))
    )
    if kind == "csv":
        return ".csv", frame.to_csv(index=False).encode("utf-8", "surrogatepass")
    if kind == "jsonl":
        lines = draw(
            st.lists(st.one_of(st.just(frame.to_json(orient="records", lines=True)), st.text(max_size=60)))
        )
        return ".jsonl", "\n".join(lines).encode("utf-8", "surrogatepass")
    import io

    buffer = io.BytesIO()
    try:
        frame.astype("string").to_parquet(buffer)
    except Exception:
        return ".parquet", draw(st.binary(max_size=500))
    return ".parquet", buffer.getvalue()


TOML_VALUE = st.recursive(
    st.one_of(
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=False),
        st.text(max_size=30),
    ),
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=6,
)
RUN_KEYS = st.sampled_from(
    [
        "cycles", "seeds", "ceiling", "test-size", "query-size", "initial", "strategy", "text", "label",
        "seed", "budget", "classifier", "data", "stop", "stop-set-size", "balanced-test", "target-f1",
        "initial-strategy", "near-duplicate-threshold", "max-length", "epochs", "lr", "out", "config",
        "resume", "no-such-option", "id", "threads", "precision", "device",
    ]
)  # fmt: skip


@st.composite
def config_file_bytes(draw: st.DrawFn) -> bytes:
    """A --config file: TOML of option names with values of any type, or bytes that are no TOML."""
    import tomli_w

    if draw(st.booleans()):
        values = draw(st.dictionaries(RUN_KEYS, TOML_VALUE, max_size=5))
        values.pop("classifier", None)  # the encoder stays out of the suite: tfidf only
        try:
            return tomli_w.dumps(values).encode()
        except (TypeError, ValueError):
            return b"cycles = \n"
    return draw(st.one_of(st.binary(max_size=300), _text_in("utf-16"), st.text(max_size=300).map(str.encode)))


def hostile_name() -> st.SearchStrategy[str]:
    """A path a user (or a script gone wrong) might pass: empty, here, above, absolute system
    places, very long, odd unicode; never a NUL (no shell can pass one)."""
    return st.one_of(
        st.sampled_from(
            ["", " ", ".", "..", "./", "/", "/proc/x", "/dev/null", "~", "-", "--out", "a" * 300]
        ),
        st.text(  # no "/": a generated name never reaches outside the example's own folder
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/"),
            min_size=1,
            max_size=20,
        ),
    )


def args_text(world: dict[str, Path]) -> st.SearchStrategy[str]:
    """Any value an option might be given: a path of the world, a hostile name, a number."""
    return st.one_of(
        st.sampled_from([str(p) for p in world.values()]),
        hostile_name(),
        st.integers(min_value=-(10**20), max_value=10**20).map(str),
        st.floats().map(str),
    )


def write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value))
