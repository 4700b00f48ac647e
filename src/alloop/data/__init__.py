"""Data: loading from the Hub or local files, splitting, and label encoding."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alloop.data.sources import DEFAULT_DATA

if TYPE_CHECKING:
    from alloop.data.prepare import TextDataset, load_dataset


def __getattr__(name: str) -> Any:
    """``prepare`` (pandas, numpy) loads on first use, so the CLI starts fast."""
    if name in ("TextDataset", "load_dataset"):
        from alloop.data import prepare

        return getattr(prepare, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DEFAULT_DATA", "TextDataset", "load_dataset"]
