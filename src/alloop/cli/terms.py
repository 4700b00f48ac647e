"""The CLI's edge for messages: the library names a setting by its Python name in backticks
(`` `query_size` ``); someone at the command line typed a flag, so the CLI shows ``--query-size``.

Only bare names that are options of some command are rewritten; commands quoted in a message
(`` `alloop label --data FILE` ``) and other code names are left as written.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

NAME = re.compile(r"`([a-z][a-z0-9_]*)`")

ALIASES = {
    "strategies": "--strategy",
    "text_columns": "--text",
    "label_columns": "--label",
}
"""Library names that differ from the name of the CLI option that sets them."""


def _commands(command: Any) -> Iterable[Any]:
    """``command`` and every command under it (click's, or the copy typer vendors)."""
    yield command
    for sub in (getattr(command, "commands", None) or {}).values():
        yield from _commands(sub)


def flag_names(root: Any) -> dict[str, str]:
    """Python name -> long flag, for every option of every command under ``root``. An option is
    known by its parameter name (``id_column``) and by its flag spelled as a name (``id``)."""
    names = dict(ALIASES)
    for command in _commands(root):
        for param in command.params:
            flags = [o for o in getattr(param, "opts", []) if o.startswith("--")]
            if not flags or param.name is None:
                continue
            names.setdefault(param.name, max(flags, key=len))
            for flag in flags + [o for o in getattr(param, "secondary_opts", []) if o.startswith("--")]:
                names.setdefault(flag[2:].replace("-", "_"), flag)  # --no-cache is `no_cache`
    return names


def cli_terms(message: str, flags: Mapping[str, str]) -> str:
    """``message`` with each backticked option name shown as its flag."""
    return NAME.sub(lambda m: flags.get(m[1], m[0]), message)


class _NoteHandler(logging.StreamHandler):
    """Prints alloop's own ``note:`` lines (logged by the library) on stderr, in CLI terms."""

    def __init__(self, flags: Callable[[], Mapping[str, str]]):
        super().__init__(sys.stderr)
        self.setFormatter(logging.Formatter("%(message)s"))
        self._flags = flags

    def format(self, record: logging.LogRecord) -> str:
        return cli_terms(super().format(record), self._flags())

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # whatever stderr is now (a test may have swapped it)
        super().emit(record)


def notes_in_cli_terms(flags: Callable[[], Mapping[str, str]]) -> None:
    """Route the ``alloop`` loggers' notes through a handler that shows flags (once per process)."""
    logger = logging.getLogger("alloop")
    if any(isinstance(handler, _NoteHandler) for handler in logger.handlers):
        return
    handler = _NoteHandler(flags)
    handler.setLevel(logging.WARNING)
    logger.addHandler(handler)
