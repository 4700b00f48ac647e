"""alloop: active learning for text classification."""

__version__ = "0.1.0"
