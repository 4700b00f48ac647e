"""Data: loading from the Hub or local files, splitting, and label encoding."""

from alloop.data.prepare import TextDataset, load_dataset
from alloop.data.sources import DEFAULT_DATA

__all__ = ["DEFAULT_DATA", "TextDataset", "load_dataset"]
