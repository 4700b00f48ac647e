"""A project's labelling guidelines: a Markdown file given with ``--guidelines``, kept in
``label.db`` (meta ``guidelines``) so the project carries them, and rendered to HTML for the page.

Rendering is safe by construction: markdown-it-py with raw HTML disabled escapes any tag in the
text (a ``<script>`` comes out as text), refuses ``javascript:`` links, and images are off (the
page's Content-Security-Policy would block outside images anyway). Links open in a new tab.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alloop.checks import check_input_file
from alloop.errors import AlloopError

KEY = "guidelines"
MAX_BYTES = 256 * 1024


def read_guidelines(path: Path) -> dict[str, str]:
    """The file's name and text, checked before the project is touched."""
    check_input_file(path, "`guidelines`")
    if path.stat().st_size > MAX_BYTES:
        raise AlloopError(f"`guidelines` {path} is over {MAX_BYTES // 1024} KiB; guidelines are a short text")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise AlloopError(f"`guidelines` {path} is not UTF-8 text") from None
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write: not content
    bad = next((i for i, ch in enumerate(text) if _control(ch)), None)
    if bad is not None:
        line = text.count("\n", 0, bad) + 1
        raise AlloopError(
            f"`guidelines` {path} holds a control character (U+{ord(text[bad]):04X}, line {line}); "
            "guidelines are plain Markdown text"
        )
    if not text.strip():
        raise AlloopError(f"`guidelines` {path} is empty")
    return {"file": path.name, "markdown": text}


def _control(ch: str) -> bool:
    """A character no text file of guidelines holds: C0 and C1 controls (NUL, ESC, ...) other
    than tab, line feed and carriage return, and DEL."""
    code = ord(ch)
    return (code < 0x20 and ch not in "\t\n\r") or 0x7F <= code <= 0x9F


def render(markdown: str) -> str:
    """Markdown to HTML with raw HTML escaped (CommonMark, plus tables and strikethrough)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).disable("image")

    def link_open(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("target", "_blank")
        tokens[idx].attrSet("rel", "noopener noreferrer")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md.render(markdown)


def served(stored: Any) -> dict[str, Any]:
    """What ``GET /api/guidelines`` answers: the file name, the Markdown and its HTML, or nulls
    when the project has no guidelines."""
    if not isinstance(stored, dict) or not isinstance(stored.get("markdown"), str):
        return {"file": None, "markdown": None, "html": None}
    return {"file": stored.get("file"), "markdown": stored["markdown"], "html": render(stored["markdown"])}
