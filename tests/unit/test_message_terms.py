"""Errors speak in the terms of whoever made the mistake: the library names a setting by its
Python name (`` `query_size` ``); the CLI, at its edge, shows the flag the user typed."""

from __future__ import annotations

import re
import tokenize
from pathlib import Path

import pytest
import typer
from label_support import run_main

import alloop
from alloop.cli.app import app
from alloop.cli.terms import cli_terms, flag_names
from alloop.errors import AlloopError
from alloop.simulate.config import RunConfig

SRC = Path(alloop.__file__).parent
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
FRONT_ENDS = ("cli", "report")
"""Packages whose text is read by someone at the command line, so flags are their terms."""


def test_the_python_api_names_its_own_parameters():
    with pytest.raises(AlloopError) as caught:
        RunConfig(data="x.parquet", seeds=0).validate()
    assert str(caught.value) == "`seeds` must be at least 1, got 0"


def test_the_cli_names_the_flag(capsys, tmp_path, monkeypatch, amazon_sample):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_main(capsys, "run", "--data", str(amazon_sample), "--seeds", "0", "--out", "r")
    assert code == 2 and err.strip() == "error: --seeds must be at least 1, got 0"
    code, _, err = run_main(
        capsys, "run", "--data", str(amazon_sample), "--classifier", "tfidf",
        "--near-labelled-subsample", "-3", "--out", "r",
    )  # fmt: skip
    assert code == 2 and "--near-labelled-subsample must be 0 or more" in err


def test_names_whose_flag_differs_are_translated():
    flags = flag_names(typer.main.get_command(app))
    assert cli_terms("`id_column` 'sku' has duplicate values", flags) == "--id 'sku' has duplicate values"
    assert cli_terms("no strategy chosen; pass `strategies` NAME", flags).endswith("pass --strategy NAME")
    assert cli_terms("pass `text_columns` COLUMN", flags) == "pass --text COLUMN"


def test_commands_and_other_code_names_are_left_as_written():
    flags = flag_names(typer.main.get_command(app))
    message = "run `alloop predict --project p` first; `predict_proba` returned NaN"
    assert cli_terms(message, flags) == message


def _strings_naming_flags(path: Path) -> list[str]:
    """String literals (not docstrings) that name a flag outside backticks."""
    found = []
    with path.open("rb") as fh:
        for tok in tokenize.tokenize(fh.readline):
            if tok.type != tokenize.STRING or re.match(r"[rRbBfFuU]*('''|\"\"\")", tok.string):
                continue
            outside = tok.string.split("`")[::2]
            if any(FLAG.search(part) for part in outside) and "description=" not in tok.line:
                found.append(f"{path.relative_to(SRC)}:{tok.start[0]}: {tok.string[:80]}")
    return found


def test_library_messages_do_not_name_flags():
    offenders = [
        hit
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).parts[0] not in FRONT_ENDS
        for hit in _strings_naming_flags(path)
    ]
    assert not offenders, "name the Python parameter in backticks instead:\n" + "\n".join(offenders)


def test_a_library_note_reaches_the_terminal_in_cli_terms(capsys):
    import logging

    from alloop.cli.terms import notes_in_cli_terms

    notes_in_cli_terms(lambda: flag_names(typer.main.get_command(app)))
    note = "`precision` bf16 is emulated here; running fp32"
    logging.getLogger("alloop.models.encoder").warning("note: %s", note)
    assert capsys.readouterr().err.strip() == "note: --precision bf16 is emulated here; running fp32"
