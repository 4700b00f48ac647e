"""The frozen encoder as an int8 ONNX Runtime graph: ``--precision int8``.

Scoring the pool with the frozen encoder is the slow step of ``bert-frozen`` on a CPU. Exported to
ONNX and dynamically quantised to int8 (weights int8, activations quantised per batch at run
time), all-MiniLM-L6-v2 embedded 504 titles/s against 248 for fp32 torch on a 2-core CPU;
cosine to fp32 vectors is 0.993 on average and the linear-head macro-F1 changes by at most
0.0014 (bench/results/onnx_int8_cpu.txt). Export and quantisation take a few
seconds and happen once per model: the file is kept under ``<cache_dir>/onnx/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import torch

from alloop.errors import AlloopError
from alloop.models.cache import model_key

if TYPE_CHECKING:
    from alloop.models.encoder import Encoder

OPSET = 17
INPUTS = ("input_ids", "attention_mask")
MISSING = "`precision` int8 needs onnxruntime; pip install 'alloop[onnx]'"


def import_onnxruntime() -> ModuleType:
    """onnxruntime, imported only when int8 is asked for: it is an optional extra."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise AlloopError(MISSING) from exc
    return onnxruntime


class _LastHiddenState(torch.nn.Module):
    """Calls the model by keyword with only ids and mask, and returns a plain tensor.

    Traced positionally, transformers 5's ``BertModel.forward`` receives arguments in the wrong
    slots ("got multiple values for argument 'use_cache'"). token_type_ids is left out on purpose:
    BertModel then uses its all-zero buffer, exactly as the torch path does (``Encoder.batches``
    never passes it), and the buffer becomes a constant sliced to the sequence length.
    """

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


QUANTIZE = """
import sys
from onnxruntime.quantization import QuantType, quantize_dynamic
quantize_dynamic(sys.argv[1], sys.argv[2], weight_type=QuantType.QInt8, per_channel=True)
"""


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of an ONNX file, per output channel, in a child process:
    ``quantize_dynamic`` logs through the root logger (``logging.info``), which installs a stderr
    handler for the whole process. In a child, its advice is captured and our logging untouched."""
    done = subprocess.run(
        [sys.executable, "-c", QUANTIZE, str(source), str(target)], capture_output=True, text=True
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["no message"]
        raise AlloopError(f"int8 quantisation with ONNX Runtime failed: {lines[-1]}")


def export_int8(model: torch.nn.Module, folder: str | Path, key: str) -> Path:
    """Export ``model`` (a HF encoder) to ONNX and quantise its weights to int8; returns the file.

    Uses the TorchScript exporter (``dynamo=False``): with torch 2.13 it still works, while the
    dynamo exporter needs the extra package onnxscript. Weights are quantised per output channel:
    with one scale per tensor the cosine to fp32 vectors fell to 0.955 on average (min 0.91) on
    600 amazon.in titles, per channel it is 0.993 (min 0.983) at the same speed. Batch and
    sequence axes are dynamic, and the example batch is padded, so nothing about either is baked
    into the graph. Files are written under temporary names and renamed, so concurrent runs never
    read half a file.
    """
    ort = import_onnxruntime()

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{key}.int8.onnx"
    ids = torch.tensor([[1, 5, 6, 7, 2], [1, 8, 2, 0, 0]], dtype=torch.long)  # valid in any vocabulary
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.long)
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUTS, "last_hidden_state")}
    device = next(model.parameters()).device
    was_training = model.training
    with tempfile.TemporaryDirectory(dir=folder, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        int8 = Path(tmp) / "int8.onnx"
        try:
            with warnings.catch_warnings():
                # the legacy-exporter deprecation and tracer warnings about Python bools
                # (shape checks that hold for every BERT batch) are noise to a user
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    _LastHiddenState(model.eval().cpu()),
                    (ids, mask),
                    str(fp32),
                    input_names=list(INPUTS),
                    output_names=["last_hidden_state"],
                    dynamic_axes=axes,
                    opset_version=OPSET,
                    dynamo=False,
                )
            quantize_int8(fp32, int8)
        finally:
            model.to(device).train(was_training)
        ort.InferenceSession(str(int8), providers=["CPUExecutionProvider"])  # fail here, not later
        os.replace(int8, target)
    return target


def int8_key(name: str) -> str:
    """Cache key of a model's int8 file: its id or folder (with file stats), opset, ORT version.

    max_length is not part of it: the sequence axis is dynamic.
    """
    return model_key(name, "onnx-int8", OPSET, import_onnxruntime().__version__)


class OrtEncoderSession:
    """An int8 ONNX Runtime session of a frozen encoder: ids and mask in, last hidden state out.

    Runs on the CPU with as many intra-op threads as torch uses, so ``--threads`` holds for both.
    """

    def __init__(self, path: str | Path):
        ort = import_onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    @classmethod
    def for_encoder(cls, encoder: Encoder) -> OrtEncoderSession:
        """The session of ``encoder.model``, exporting it only if no cached file exists.

        Without a cache folder the file goes to a temporary folder, deleted once loaded (ORT
        keeps the graph in memory), so such runs export again each time.
        """
        import_onnxruntime()
        key = int8_key(encoder.name)
        if encoder.cache_dir is None:
            with tempfile.TemporaryDirectory(prefix="alloop-onnx-") as tmp:
                return cls(export_int8(encoder.model, tmp, key))
        path = Path(encoder.cache_dir) / "onnx" / f"{key}.int8.onnx"
        if not path.exists():
            try:
                export_int8(encoder.model, path.parent, key)
            except OSError as exc:
                raise AlloopError(
                    f"cannot write the int8 model under {path.parent}: {exc}; pass `cache_dir` elsewhere"
                ) from exc
        return cls(path)

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Last hidden state, float32 (batch, sequence, hidden)."""
        feed = {"input_ids": input_ids.astype(np.int64), "attention_mask": attention_mask.astype(np.int64)}
        return self.session.run(["last_hidden_state"], feed)[0]
