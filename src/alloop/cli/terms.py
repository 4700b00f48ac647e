"""The CLI's edge for messages: the library names a setting by its Python name in backticks
(`` `query_size` ``); someone at the command line typed a flag, so the CLI shows ``--query-size``.

Only bare names that are options of some command are rewritten; commands quoted in a message
(`` `alloop label --data FILE` ``) and other code names are left as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
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
            flag = max(flags, key=len)
            names.setdefault(param.name, flag)
            names.setdefault(flag[2:].replace("-", "_"), flag)
    return names


def cli_terms(message: str, flags: Mapping[str, str]) -> str:
    """``message`` with each backticked option name shown as its flag."""
    return NAME.sub(lambda m: flags.get(m[1], m[0]), message)
