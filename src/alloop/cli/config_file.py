"""``--config FILE.toml``: its values must already have their option's type. TOML has types of
its own, so ``cycles = "1"`` or ``seeds = true`` is a mistake to name, not a value to convert."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alloop.errors import AlloopError

TOML_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a float",
    str: "a string",
    list: "an array",
    dict: "a table",
}


def toml_kind(value: object) -> str:
    """What TOML type a parsed value had, in words."""
    for kind, name in TOML_NAMES.items():
        if isinstance(value, kind):
            return name
    return "a date or time"


def _scalar(annotation: Any) -> Any:
    """``int | None`` -> ``int``; ``Path`` -> ``str``; anything else unchanged."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        annotation = args[0]
    return str if annotation is Path else annotation


def expected_types(command: Callable[..., Any]) -> dict[str, tuple[Any, bool]]:
    """Per parameter of a Typer command: its value type and whether it takes a list."""
    hints = typing.get_type_hints(command, include_extras=False)
    found: dict[str, tuple[Any, bool]] = {}
    for name, hint in hints.items():
        hint = _scalar(hint)
        if typing.get_origin(hint) is list:
            found[name] = (_scalar(typing.get_args(hint)[0]), True)
        elif hint in TOML_NAMES:
            found[name] = (hint, False)
    return found


def _fits(value: object, kind: Any) -> bool:
    if kind is float:  # an integer is a float value (initial = 100, test-size = 1)
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def check_value(key: str, value: object, kind: Any, many: bool, source: Path) -> object:
    """``value`` as the option takes it (a lone string for a list option is a list of one), or
    one line naming the key, the type given and the type expected."""
    want = TOML_NAMES.get(kind, "a string")
    if many:
        if isinstance(value, str) and kind is str:
            return [value]
        if not isinstance(value, list):
            raise AlloopError(
                f"{key} in {source} is {toml_kind(value)} ({value!r}); expected {want} or an array of them"
            )
        for i, each in enumerate(value):
            if not _fits(each, kind):
                raise AlloopError(f"{key}[{i}] in {source} is {toml_kind(each)} ({each!r}); expected {want}")
        return value
    if not _fits(value, kind):
        raise AlloopError(f"{key} in {source} is {toml_kind(value)} ({value!r}); expected {want}")
    return value
