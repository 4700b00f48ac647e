"""MkDocs hook: the CLI reference page is generated from the typer app at build time.

A page holding the marker ``<!-- alloop-cli-reference -->`` gets, in its place, one section per
command (usage, description, arguments and options with their help and defaults) read from the
``alloop`` command itself, so the page cannot drift from ``alloop COMMAND --help``. Nothing is
hand-written or cached: a renamed option or a new command shows up at the next build.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MARKER = "<!-- alloop-cli-reference -->"
APP = "alloop.cli.app:app"  # the typer app behind the `alloop` command (pyproject's [project.scripts])


def load_command(target: str = APP) -> Any:
    """The click command tree of the typer app named ``module:attribute``."""
    import typer.main

    module, _, attribute = target.partition(":")
    return typer.main.get_command(getattr(importlib.import_module(module), attribute))


def walk(command: Any, ctx: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """Every visible command under ``command``, depth first, in the order ``--help`` lists them."""
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        if sub is None or getattr(sub, "hidden", False):
            continue
        sub_ctx = sub.make_context(name, [], parent=ctx, resilient_parsing=True)
        yield (*path, name), sub, sub_ctx
        if hasattr(sub, "list_commands"):
            yield from walk(sub, sub_ctx, (*path, name))


def _cell(text: str) -> str:
    """Text safe inside one Markdown table cell."""
    text = " ".join(text.split())
    for char, escaped in (("|", "\\|"), ("*", "\\*"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, escaped)
    return text


def _anchor(path: tuple[str, ...]) -> str:
    return "alloop-" + "-".join(path)


def render_command(path: tuple[str, ...], command: Any, ctx: Any) -> str:
    """One command's section: heading, usage, help text, then its arguments and options."""
    name = " ".join(("alloop", *path))
    lines = [f"## `{name}` {{ #{_anchor(path)} }}", ""]
    help_text = (command.help or "").strip()
    if help_text:
        lines += [help_text, ""]
    usage = command.get_usage(ctx).strip().removeprefix("Usage:").strip()
    lines += ["```text", usage, "```", ""]
    if hasattr(command, "list_commands"):
        subs = [
            (n, c) for n in command.list_commands(ctx) if (c := command.get_command(ctx, n)) and not c.hidden
        ]
        lines += ["| command | does |", "|---|---|"]
        for sub_name, sub in subs:
            link = f"[`{name} {sub_name}`](#{_anchor((*path, sub_name))})"
            lines.append(f"| {link} | {_cell(sub.get_short_help_str(limit=300))} |")
        lines.append("")
        return "\n".join(lines)
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    options = [p for p in command.params if p.param_type_name == "option" and not p.hidden]
    if arguments:
        lines += ["| argument | what |", "|---|---|"]
        for p in arguments:
            required = "" if p.required else " (optional)"
            lines.append(f"| `{p.name.upper()}`{required} | {_cell(p.help or '')} |")
        lines.append("")
    if options:
        lines += ["| option | what |", "|---|---|"]
        for p in options:
            record = p.get_help_record(ctx)
            if record is None:
                continue
            opts, what = record
            lines.append(f"| `{' '.join(opts.split())}` | {_cell(what)} |")
        lines.append("")
    return "\n".join(lines)


def render(target: str = APP) -> str:
    """The whole reference: the top-level help, then every command."""
    root = load_command(target)
    ctx = root.make_context("alloop", [], resilient_parsing=True)
    parts = [(root.help or "").strip(), ""]
    parts += ["| command | does |", "|---|---|"]
    for path, command, _ in walk(root, ctx, ()):
        if len(path) == 1:
            short = command.get_short_help_str(limit=300)
            parts.append(f"| [`alloop {path[0]}`](#{_anchor(path)}) | {_cell(short)} |")
    parts.append("")
    parts += [render_command(path, command, sub_ctx) for path, command, sub_ctx in walk(root, ctx, ())]
    return "\n".join(parts)


def on_config(config: Any) -> Any:
    """MkDocs event: document the checkout being built, not whichever alloop the venv points at."""
    src = Path(config.config_file_path).resolve().parent / "src"
    if src.is_dir() and str(src) not in sys.path:
        sys.path.insert(0, str(src))
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """MkDocs event: swap the marker for the generated reference."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render())
