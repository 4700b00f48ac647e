"""Strict types wherever input enters: a --config TOML value must have its option's type; the
labelling API reads UTF-8 JSON only and names a too-deeply-nested body; --guidelines must be
UTF-8 text without control characters."""

from __future__ import annotations

import json

import pytest
from api_support import served_project
from label_support import bearer, run_main

RUN = ["run", "--classifier", "tfidf", "--no-ceiling"]


# -- issue 24, case 5: config values were coerced -----------------------------------------------
@pytest.mark.parametrize(
    ("toml", "said"),
    [
        ('cycles = "1"\n', "cycles in {cfg} is a string ('1'); expected an integer"),
        ("seeds = true\n", "seeds in {cfg} is a boolean (True); expected an integer"),
        ('ceiling = "yes"\n', "ceiling in {cfg} is a string ('yes'); expected a boolean"),
        ('test-size = "0.2"\n', "test-size in {cfg} is a string ('0.2'); expected a float"),
        ("query-size = 2.5\n", "query-size in {cfg} is a float (2.5); expected an integer"),
        ('strategy = ["margin", 3]\n', "strategy[1] in {cfg} is an integer (3); expected a string"),
        ("data = 5\n", "data in {cfg} is an integer (5); expected a string"),
        ("text = {a = 1}\n", "text in {cfg} is a table ({'a': 1}); expected a string or an array of them"),
        ("seed = 1979-05-27\n", "seed in {cfg} is a date or time"),
    ],
)
def test_a_config_value_of_the_wrong_type_is_named(tmp_path, capsys, monkeypatch, toml, said):
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml)
    code, _, err = run_main(capsys, *RUN, "--data", "missing.csv", "--config", str(cfg))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert said.replace("{cfg}", str(cfg)) in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]


def test_config_values_of_their_own_type_pass_on(tmp_path, capsys, monkeypatch):
    """An integer where a float is taken is a float; the run then stops on the missing data."""
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "c.toml"
    cfg.write_text('cycles = 1\nseeds = 1\nceiling = false\nlr = 1\ninitial = 6\nstrategy = "margin"\n')
    code, _, err = run_main(capsys, *RUN, "--data", "missing.csv", "--config", str(cfg))
    assert code == 2 and "missing.csv" in err and " in " + str(cfg) not in err, err


# -- issue 24, case 6: the API took UTF-16 and misnamed deep nesting -----------------------------
@pytest.fixture()
def api(tmp_path):
    with served_project(tmp_path) as served:
        yield served


def post_raw(api, body: bytes):
    headers = {**bearer(api.tokens["alice"]), "Content-Type": "application/json"}
    return api.client.post("/api/labels", headers=headers, content=body)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-8-sig"])
def test_a_body_not_in_plain_utf8_is_refused_and_nothing_is_written(api, encoding):
    item = api.client.get("/api/next", headers=bearer(api.tokens["alice"])).json()
    body = json.dumps({"item_id": item["item_id"], "label": "music"}).encode(encoding)
    answer = post_raw(api, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == "malformed request body: send JSON encoded as UTF-8"
    assert api.store.label_rows() == []
    good = post_raw(api, json.dumps({"item_id": item["item_id"], "label": "music"}).encode("utf-8"))
    assert good.status_code == 200, good.text  # the same answer in UTF-8 is taken


def test_a_deeply_nested_body_has_its_own_message(api):
    answer = post_raw(api, b"[" * 5000 + b"]" * 5000)
    assert answer.status_code == 422
    assert answer.json()["detail"] == "malformed request body: JSON nested deeper than 32 levels"
    # brackets inside a string are text, not nesting
    item = api.client.get("/api/next", headers=bearer(api.tokens["alice"])).json()
    answer = post_raw(api, json.dumps({"item_id": item["item_id"], "label": "[" * 100}).encode())
    assert answer.status_code == 422 and "nested" not in answer.json()["detail"], answer.text  # unknown label
    assert api.store.label_rows() == []


# -- issue 24, case 7: --guidelines took a file of NUL bytes -------------------------------------
@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"\x00" * 5000, "holds a control character (U+0000, line 1)"),
        (b"# Rules\n\nPress \x1b[31m red\n", "holds a control character (U+001B, line 3)"),
        (b"ok\n\x7f\n", "holds a control character (U+007F, line 2)"),
        ("caf\u00e9 \u0085".encode(), "holds a control character (U+0085, line 1)"),
        (b"\xff\xfe#\x00 \x00", "is not UTF-8 text"),
        (b"   \n", "is empty"),
    ],
)
def test_guidelines_must_be_utf8_text_without_control_characters(tmp_path, capsys, content, said):
    from api_support import LABELS

    guide = tmp_path / "guide.md"
    guide.write_bytes(content)
    args = ["label", "--project", str(tmp_path / "p"), "--data", "x.csv", "--labels", ",".join(LABELS)]
    code, _, err = run_main(capsys, *args, "--guidelines", str(guide))
    assert code == 2 and len(err.strip().splitlines()) == 1 and said in err, err
    assert not (tmp_path / "p").exists()


def test_plain_guidelines_with_tabs_and_accents_are_read():
    import tempfile
    from pathlib import Path

    from alloop.labelling.domain.guidelines import read_guidelines

    with tempfile.TemporaryDirectory() as folder:
        guide = Path(folder) / "g.md"
        guide.write_bytes("\ufeff# R\u00e8gles\r\n\n|a\t|b|\n".encode())
        assert read_guidelines(guide)["markdown"] == "# R\u00e8gles\r\n\n|a\t|b|\n"
