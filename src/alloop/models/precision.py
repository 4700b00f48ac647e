"""Which precisions a device computes natively, so ``--precision bf16`` never runs emulated.

On a CPU without AVX512-BF16 or AMX, PyTorch emulates bfloat16: a 1024x1024 matmul ran 45x
slower than fp32 on this project's AVX2-only machine (bench/README.md), 140x on another.
``resolve_precision`` falls back to fp32 there, with a note. Kept free of a top-level torch
import: the CLI reads ``PRECISIONS`` at start-up.
"""

from __future__ import annotations

from pathlib import Path

PRECISIONS = ("fp32", "bf16", "int8")
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
"""/proc/cpuinfo flags of x86 CPUs that compute bfloat16 in hardware."""


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str] | None:
    """The CPU's feature flags, or None where /proc/cpuinfo is not there (not Linux)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86, arm
            flags.update(value.split())
    return flags


def bf16_native(device_type: str, flags: set[str] | None = None) -> bool:
    """Whether ``device_type`` ("cpu", "cuda", ...) computes bfloat16 natively.

    CUDA asks torch; an x86 CPU needs AVX512-BF16 or AMX; an arm CPU needs the ``bf16`` feature.
    Where the flags cannot be read (not Linux), the answer is no: fp32 is never the slow choice."""
    if device_type == "cuda":
        import torch

        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device_type != "cpu":
        return True  # mps, xpu: trust the backend
    flags = cpu_flags() if flags is None else flags
    return bool(flags) and (any(f in flags for f in BF16_CPU_FLAGS) or "bf16" in flags)


def resolve_precision(precision: str, device_type: str) -> tuple[str, str | None]:
    """The precision to run at and, when it differs from the one asked for, a one-line note."""
    if precision == "bf16" and not bf16_native(device_type):
        where = "this CPU has neither AVX512-BF16 nor AMX" if device_type == "cpu" else f"{device_type}"
        return "fp32", f"`precision` bf16: {where}, so bfloat16 would be emulated (slower); running fp32"
    return precision, None
