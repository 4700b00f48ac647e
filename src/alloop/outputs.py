"""Writing outputs so that nothing a user owns is lost.

alloop replaces only what it can prove it wrote. Every file it writes in a folder is recorded,
with its SHA-256, in that folder's ``.alloop-manifest.json``; a later write may replace a file
only when the manifest names it and its content is unchanged since. Anything else in the folder
is never touched. Every output is written under a temporary name beside its target and renamed
into place, so a reader never sees half a file and a failed write leaves the old one.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from alloop.errors import AlloopError

MANIFEST = ".alloop-manifest.json"


def out_path(raw: str | os.PathLike[str], option: str = "`out`", protected: Iterable[Path] = ()) -> Path:
    """``raw`` as a path to write to, refused with one line when it is empty, the current folder
    or one above it, or one of the ``protected`` folders (a project) or a folder above one."""
    text = os.fspath(raw)
    if text.strip() == "":
        raise AlloopError(f"{option} is empty; give a file or folder name")
    path = Path(text)
    resolved = path.resolve()
    here = Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise AlloopError(
            f"{option} {text} is the current folder or one above it; give a new folder or a file name"
        )
    for folder in protected:
        guarded = folder.resolve()
        if resolved == guarded or resolved in guarded.parents:
            raise AlloopError(
                f"{option} {text} is the project folder {folder} or one above it; write outside the project"
            )
    return path


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def recorded(folder: Path) -> dict[str, str]:
    """The files alloop wrote in ``folder`` (relative name -> SHA-256), from its manifest."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def _ours(folder: Path, name: str, manifest: dict[str, str]) -> bool:
    """alloop wrote ``folder/name`` and nobody changed it since."""
    path = folder / name
    return name in manifest and path.is_file() and sha256(path) == manifest[name]


def _record(folder: Path, files: dict[str, str], forget: Iterable[str] = ()) -> None:
    manifest = recorded(folder)
    for name in forget:
        manifest.pop(name, None)
    manifest.update(files)
    _atomic_bytes(
        folder / MANIFEST,
        json.dumps({"written_by": "alloop", "files": manifest}, indent=1, sort_keys=True).encode(),
    )


def _temp_file(folder: Path, name: str, suffix: str = "") -> tuple[int, str]:
    """A new empty file beside the target, as ``tempfile.mkstemp`` makes one but with the mode an
    ordinary new file gets (0666 less the umask): mkstemp's 0600 would hide an export from the
    group it is shared with."""
    for _ in range(100):
        path = folder / f".{name}.{secrets.token_hex(4)}{suffix}"
        try:
            return os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666), str(path)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))


def _temp_dir(folder: Path, name: str) -> Path:
    """A new folder beside the target with an ordinary folder's mode (0777 less the umask)."""
    for _ in range(100):
        path = folder / f".{name}.{secrets.token_hex(4)}"
        try:
            path.mkdir(0o777)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))


def _atomic_bytes(path: Path, data: bytes) -> None:
    handle, temp = _temp_file(path.parent, path.name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def check_file_target(path: Path, option: str = "`out`") -> None:
    """Refuse, before any work, to replace a file alloop did not write (or that changed since)."""
    if path.exists() and not _ours(path.parent, path.name, recorded(path.parent)):
        raise AlloopError(
            f"{option} {path} already exists and alloop did not write it (or it changed since); "
            "choose another name, or move the file away yourself"
        )


def write_file(path: Path, write: Callable[[Path], object], option: str = "`out`") -> None:
    """``write(temp)`` fills a temporary file beside ``path``, which is then renamed into place
    and recorded in the folder's manifest."""
    check_file_target(path, option)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = _temp_file(path.parent, path.name, path.suffix)
    os.close(handle)
    temp = Path(name)
    try:
        write(temp)
        digest = sha256(temp)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _record(path.parent, {path.name: digest})


def check_folder_target(folder: Path, option: str = "`out`") -> None:
    """Refuse, before any work, a folder that holds files alloop did not write: only a new folder,
    an empty one or an earlier output of alloop (all of whose recorded files are unchanged) may
    receive a folder output."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise AlloopError(f"{option} {folder} is a file; give a folder (it is created if missing)")
    entries = [p.name for p in folder.iterdir()]
    if not entries:
        return
    manifest = recorded(folder)
    if not manifest:
        raise AlloopError(
            f"{option} {folder} already holds files alloop did not write; give a new or empty folder"
        )
    changed = [name for name in manifest if (folder / name).exists() and not _ours(folder, name, manifest)]
    if changed:
        raise AlloopError(
            f"{option} {folder}: {changed[0]} changed since alloop wrote it; give a new or empty folder"
        )


def write_folder(folder: Path, fill: Callable[[Path], object], option: str = "`out`") -> None:
    """``fill(temp)`` writes a folder output into a temporary folder beside ``folder``. A new or
    empty target is replaced by it in one rename. An earlier output of alloop keeps every file it
    did not write: only the files its manifest names are replaced."""
    check_folder_target(folder, option)
    folder.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_dir(folder.parent, folder.name)
    try:
        fill(temp)
        files = {p.relative_to(temp).as_posix(): sha256(p) for p in sorted(temp.rglob("*")) if p.is_file()}
        if not folder.exists() or not any(folder.iterdir()):
            _atomic_bytes(
                temp / MANIFEST, json.dumps({"written_by": "alloop", "files": files}, indent=1).encode()
            )
            with contextlib.suppress(FileNotFoundError):
                folder.rmdir()
            os.replace(temp, folder)
            return
        old = recorded(folder)
        clash = [name for name in files if (folder / name).exists() and name not in old]
        if clash:
            raise AlloopError(
                f"{option} {folder} holds {clash[0]}, which alloop did not write; give a new or empty folder"
            )
        for name in old:
            if _ours(folder, name, old):
                (folder / name).unlink()
        for name in files:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp / name, folder / name)
        _record(folder, files, forget=old)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def write_into(folder: Path, fill: Callable[[Path], object], what: str = "") -> None:
    """``fill(temp)`` writes files into a temporary folder inside ``folder`` (an output folder
    alloop made, such as a run folder); each is then renamed into ``folder``. Every file it would
    replace is checked first: one alloop did not write, or that changed since, stops the whole
    write with one line and nothing is replaced. Other files in the folder are never touched."""
    temp = _temp_dir(folder, "alloop-partial")
    try:
        fill(temp)
        files = {p.relative_to(temp).as_posix(): sha256(p) for p in sorted(temp.rglob("*")) if p.is_file()}
        old = recorded(folder)
        for name in files:
            if (folder / name).exists() and not _ours(folder, name, old):
                raise AlloopError(
                    f"{folder / name} was not written by alloop{what} (or changed since); "
                    "move it away and try again"
                )
        for name in files:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp / name, folder / name)
        _record(folder, files)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
