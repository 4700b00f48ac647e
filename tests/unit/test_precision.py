"""--precision bf16 runs only where the device computes bfloat16 natively; elsewhere fp32, with a note."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from alloop.models import precision
from alloop.models.precision import bf16_native, cpu_flags, resolve_precision


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n\nprocessor\t: 1\nflags\t: amx_bf16\n")
    assert cpu_flags(info) == {"fpu", "sse2", "avx2", "avx512f", "amx_bf16"}
    assert cpu_flags(tmp_path / "missing") is None


@pytest.mark.parametrize(
    ("flags", "native"),
    [
        ({"avx2", "fma"}, False),  # the machine of the issue: AVX2 only, bf16 140x slower than fp32
        ({"avx512f", "avx512_bf16"}, True),
        ({"amx_bf16", "amx_tile"}, True),
        ({"asimd", "bf16"}, True),  # arm
        (set(), False),  # flags unknown: fp32 is never the slow choice
    ],
)
def test_cpu_bf16_needs_a_hardware_flag(flags, native):
    assert bf16_native("cpu", flags) is native


def test_bf16_falls_back_to_fp32_with_a_note_where_it_would_be_emulated(monkeypatch):
    monkeypatch.setattr(precision, "bf16_native", lambda device_type: False)
    chosen, note = resolve_precision("bf16", "cpu")
    assert chosen == "fp32" and note is not None and "running fp32" in note and "\n" not in note
    monkeypatch.setattr(precision, "bf16_native", lambda device_type: True)
    assert resolve_precision("bf16", "cpu") == ("bf16", None)
    for other in ("fp32", "int8"):
        assert resolve_precision(other, "cpu") == (other, None)


@pytest.mark.slow
def test_an_encoder_asked_for_bf16_without_native_support_runs_fp32(monkeypatch, caplog):
    from alloop.models import Encoder

    monkeypatch.setattr(precision, "bf16_native", lambda device_type: False)
    texts = ["steel kettle 1.5 litre", "cotton shirt for men"]
    with caplog.at_level(logging.WARNING, logger="alloop.models"):
        encoder = Encoder(max_length=32, precision="bf16")
    assert encoder.precision == "fp32"
    notes = [r.getMessage() for r in caplog.records if r.name == "alloop.models"]
    assert len(notes) == 1 and notes[0].startswith("note: `precision` bf16") and "running fp32" in notes[0]
    np.testing.assert_array_equal(encoder.embed(texts), Encoder(max_length=32).embed(texts))
