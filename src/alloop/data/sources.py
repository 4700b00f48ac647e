"""Reading raw tables: the Hugging Face Hub, a local file, or a folder of split files."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

from alloop.data.hub import hub_offline, hub_reachable
from alloop.errors import AlloopError, NotFoundError

HUB_PREFIX = "hub:"
DEFAULT_DATA = "hub:iarbel/amazon-product-data-filter"
READERS = {  # pandas loads on the first read, not when the CLI starts
    ".parquet": lambda p: _pd().read_parquet(p),
    ".pq": lambda p: _pd().read_parquet(p),
    ".csv": lambda p: _pd().read_csv(p),
    ".tsv": lambda p: _pd().read_csv(p, sep="\t"),
    ".jsonl": lambda p: _pd().read_json(p, lines=True),
    ".ndjson": lambda p: _pd().read_json(p, lines=True),
    ".json": lambda p: _pd().read_json(p),
}
POOL_SPLITS = ("train", "validation", "valid", "dev")
TEST_SPLITS = ("test",)
LOCAL_HINT = "pass a local file instead (a .parquet, .csv or .jsonl path)"


def _pd() -> ModuleType:
    import pandas

    return pandas


def read_splits(source: str, probe_timeout: float = 3.0) -> dict[str, pd.DataFrame]:
    """Return the source's splits by name. A single file is one split called ``all``."""
    if source.startswith(HUB_PREFIX):
        return _read_hub(source[len(HUB_PREFIX) :], probe_timeout)
    if not source.strip():
        raise AlloopError(f"`data` is empty; {LOCAL_HINT}")
    path = Path(source).expanduser()
    if not path.exists():
        raise NotFoundError(f"data not found: {source}; {LOCAL_HINT}, or hub:NAME for a hub dataset")
    if path.is_dir():
        return _read_folder(path)
    return {"all": _read_file(path)}


def _read_file(path: Path) -> pd.DataFrame:
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise AlloopError(f"unreadable format {path.suffix or '(none)'!r} for {path}; use one of {known}")
    try:
        return reader(path)
    except Exception as exc:  # the readers raise many types; all mean "not a valid file"
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AlloopError(f"cannot read {path} as {path.suffix[1:]}: {first}") from exc


def _read_folder(path: Path) -> dict[str, pd.DataFrame]:
    """A folder holds train/test files (validation/dev joins the pool), named like ``train.parquet``
    or ``train-00000-of-00001.parquet`` as in a Hub snapshot."""
    splits: dict[str, list[pd.DataFrame]] = {}
    for file in sorted(path.rglob("*")):
        if not file.is_file() or file.suffix.lower() not in READERS:
            continue
        stem = file.stem.lower()
        for split in (*POOL_SPLITS, *TEST_SPLITS):
            if stem == split or stem.startswith(split + "-") or stem.startswith(split + "_"):
                splits.setdefault(split, []).append(_read_file(file))
                break
    if not any(s in splits for s in POOL_SPLITS):
        raise AlloopError(
            f"no train file in folder {path}; name it train.parquet (or .csv/.jsonl), "
            "optionally with test.parquet beside it"
        )
    return {name: _pd().concat(frames, ignore_index=True) for name, frames in splits.items()}


def _read_hub(name: str, probe_timeout: float) -> dict[str, pd.DataFrame]:
    """Load with ``datasets.load_dataset``. Offline (HF_HUB_OFFLINE=1) it uses the local cache;
    online it first checks the host answers, so an unreachable Hub fails in seconds, not minutes."""
    import datasets

    if not name:
        raise AlloopError(f"empty hub dataset name; use e.g. {DEFAULT_DATA}")
    if not hub_offline() and not Path(name).exists() and not hub_reachable(probe_timeout):
        raise AlloopError(
            f"cannot reach the Hugging Face Hub to load {name!r}; {LOCAL_HINT} "
            "(or set HF_HUB_OFFLINE=1 to use a cached copy)"
        )
    try:
        loaded = datasets.load_dataset(name)
    except Exception as exc:  # network, auth and missing-dataset errors all end up here
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AlloopError(f"cannot load hub dataset {name!r}: {first}; {LOCAL_HINT}") from exc
    return {split: ds.to_pandas() for split, ds in loaded.items()}
