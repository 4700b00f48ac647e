"""The README as a short front door, and the documentation site that cannot drift: the CLI page is
generated from the typer app, every public name has its API entry, and the strict build fails on
a broken link (``make test`` runs that build on the real pages)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import AMAZON_IN, ROOT

README = ROOT / "README.md"


def test_the_readme_is_a_short_front_door_whose_links_exist():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    assert "make run DATA=" in text and "\nmake test " in text
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if "://" not in t]
    assert local, "the README links to no page of the documentation"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README links to files that do not exist: {missing}"


def test_the_readme_python_tour_runs(capsys):
    if not AMAZON_IN.exists():
        pytest.skip(f"real data missing: {AMAZON_IN}")
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    code = blocks[0].replace('"products.parquet"', repr(str(AMAZON_IN)))
    exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"\[(\d+, ){4}\d+\]", printed), printed


def test_every_public_name_has_its_entry_in_the_api_reference():
    import alloop

    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^::: alloop\.(\w+)$", page, flags=re.M))
    public = set(alloop.__all__) - {"__version__"}
    assert public - documented == set(), "add a '::: alloop.NAME' line to docs/api.md"
    assert documented - public == set(), "docs/api.md documents names alloop does not export"


def test_every_registered_strategy_and_classifier_has_its_row():
    """The hand-written tables name every strategy and classifier the registries hold."""
    from alloop.models import CLASSIFIERS
    from alloop.strategies import STRATEGIES

    strategies = (ROOT / "docs" / "query-strategies.md").read_text(encoding="utf-8")
    classifiers = (ROOT / "docs" / "classifiers.md").read_text(encoding="utf-8")
    assert [n for n in STRATEGIES if f"| `{n}` |" not in strategies] == []
    assert [n for n in CLASSIFIERS if not re.search(rf"^\| `{re.escape(n)}`", classifiers, re.M)] == []


def _hook():
    sys.path.insert(0, str(ROOT / "docs_hooks"))
    try:
        import cli_reference
    finally:
        sys.path.remove(str(ROOT / "docs_hooks"))
    return cli_reference


def test_the_cli_page_is_generated_from_every_command_and_option():
    hook = _hook()
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert hook.MARKER in page
    rendered = hook.render()
    root = hook.load_command()
    ctx = root.make_context("alloop", [], resilient_parsing=True)
    commands = list(hook.walk(root, ctx, ()))
    assert {"run", "label", "export"} <= {path[0] for path, _, _ in commands}
    assert ("annotators", "add") in {path for path, _, _ in commands}
    sections = {
        section.split("`", 1)[0]: section for section in rendered.split("\n## `alloop ")[1:]
    }  # "run", "annotators add", ... -> that command's section
    for path, command, sub_ctx in commands:
        section = sections[" ".join(path)]
        assert f"{{ #alloop-{'-'.join(path)} }}" in section, path
        for param in command.params:
            if param.param_type_name == "option" and not param.hidden:
                opts = " ".join(param.get_help_record(sub_ctx)[0].split())
                assert f"| `{opts}` |" in section, (path, opts)
    # the text an option's --help shows, with its default, is on the page as it is
    run = root.get_command(ctx, "run")
    record = next(p for p in run.params if p.name == "query_size").get_help_record(
        run.make_context("run", [], parent=ctx, resilient_parsing=True)
    )
    assert " ".join(record[1].split()) in rendered


def build_copy(tmp_path: Path, defect: str | None = None) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict`, as `make test` runs it, on a copy of the real site (mkdocs.yml,
    docs/, the hook, src/), with ``defect`` appended to one page."""
    pytest.importorskip("mkdocs", reason="the docs extra is not installed: pip install -e '.[docs]'")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copytree(ROOT / "docs_hooks", tmp_path / "docs_hooks")
    (tmp_path / "src").symlink_to(ROOT / "src")
    (tmp_path / "bench").symlink_to(ROOT / "bench")  # docs/benchmarks.md includes bench/README.md
    if defect is not None:
        page = tmp_path / "docs" / "speed.md"
        page.write_text(page.read_text(encoding="utf-8") + f"\n\n{defect}\n", encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            "mkdocs.yml",
            "-d",
            str(tmp_path / "out"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )


def test_the_site_builds_cleanly_from_a_copy(tmp_path: Path):
    """The control for the test below: without a defect the copy builds, so the failures below come
    from their defect and not from the copying."""
    build = build_copy(tmp_path)
    assert build.returncode == 0, build.stderr[-2000:]
    assert "alloop run" in (tmp_path / "out" / "cli.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "defect, named",
    [
        ("See [a page](no-such-page.md).", "no-such-page.md"),
        ("See [an anchor](simulating.md#no-such-section).", "no-such-section"),
        ("::: alloop.no_such_name", "no_such_name"),
    ],
)
def test_the_strict_build_fails_on_a_broken_link_or_api_name(tmp_path: Path, defect: str, named: str):
    build = build_copy(tmp_path, defect)
    assert build.returncode != 0, build.stderr[-2000:]
    assert named in build.stderr, build.stderr[-2000:]
