"""Real read-only and full places for tests, made the only ways a test can make them.

Not root: ``chmod a-w`` (the kernel refuses writes with EACCES). Root ignores file modes, so as
root a read-only bind mount (EROFS) or a tiny tmpfs (ENOSPC) is used, which needs CAP_SYS_ADMIN;
a root without it skips, and the same messages are checked with errors injected at the OS
boundary in tests/unit/test_real_causes.py."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest


@cache
def can_mount() -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    probe = tempfile.mkdtemp(prefix="alloop-mount-probe-")
    try:
        made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", probe], capture_output=True)
        if made.returncode != 0:
            return False
        subprocess.run(["umount", probe], check=True, capture_output=True)
        return True
    finally:
        os.rmdir(probe)


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


@contextmanager
def read_only(path: Path) -> Iterator[str]:
    """``path`` (a folder) read-only while inside; yields how ("chmod" or "mount")."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")]}
        for p, mode in modes.items():
            p.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        try:
            yield "chmod"
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    if not can_mount():
        pytest.skip("root without CAP_SYS_ADMIN cannot make a real read-only place (chmod binds no root)")
    subprocess.run(["mount", "--bind", str(path), str(path)], check=True, capture_output=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True, capture_output=True)
        yield "mount"
    finally:
        _umount(path)


def fill_up(folder: Path) -> None:
    """Write ``folder/filler`` until its file system has no byte left."""
    with (folder / "filler").open("ab", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 512)
        except OSError:
            pass


@contextmanager
def small_place(path: Path, size: str = "64k") -> Iterator[Path]:
    """``path``: a new folder on a tmpfs of ``size`` (fill it with ``fill_up``)."""
    if not can_mount():
        pytest.skip("no tmpfs mount (needs root with CAP_SYS_ADMIN); ENOSPC is injected in another test")
    path.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        _umount(path)


@contextmanager
def full_place(path: Path) -> Iterator[Path]:
    """``path``: a new folder on a 64 KiB file system filled to the last byte."""
    with small_place(path) as place:
        fill_up(place)
        yield place
