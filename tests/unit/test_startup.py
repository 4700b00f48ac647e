"""The CLI starts without loading torch, transformers, scikit-learn, matplotlib or pandas, and a
run whose output goes to a file or pipe prints one plain line per finished cycle."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

HEAVY = ("torch", "transformers", "sklearn", "matplotlib", "pandas", "scipy")


def test_the_light_commands_import_nothing_heavy():
    # what `alloop --help`, `version`, `annotators add` and `label-stats` import before they run
    code = (
        "import sys, json, alloop.cli.app, alloop.labelling.storage.store, alloop.labelling.domain.service; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


def test_a_piped_run_prints_one_plain_line_per_cycle(tmp_path, capsys, monkeypatch):
    from alloop.cli.app import main

    words = ["guitar strings", "cotton shirt", "steel kettle", "drum sticks", "linen dress", "tea cup"]
    data = tmp_path / "words.csv"
    labels = ["music", "clothing", "kitchen"] * 8
    pd.DataFrame({"title": [f"{w} {i}" for i in range(4) for w in words], "category": labels}).to_csv(
        data, index=False
    )
    out = tmp_path / "run"
    args = [
        "run",
        "--data",
        str(data),
        "--classifier",
        "tfidf",
        "--strategy",
        "margin",
        "--strategy",
        "random",
    ]
    args += ["--initial", "6", "--query-size", "2", "--cycles", "2", "--no-ceiling", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", ["alloop", *args])
    main()  # capsys: stdout is not a terminal
    lines = capsys.readouterr().out.splitlines()
    for strategy in ("margin", "random"):
        cycles = [line for line in lines if line.startswith(f"{strategy} seed 0 cycle ")]
        assert [line.split(":")[0] for line in cycles] == [f"{strategy} seed 0 cycle {c}" for c in range(3)]
        assert all("labels, macro-F1 " in line for line in cycles)
    assert not any("━" in line or "\x1b[" in line for line in lines[: lines.index(cycles[-1])])
