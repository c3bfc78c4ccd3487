"""Input arrays in, output files out: atomic writes (temporary file, then rename)."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from qloom.errors import InputDataError, QloomError


def load_array(path: str | os.PathLike) -> np.ndarray:
    """Read a ``.npy`` array (no pickles). Raises InputDataError with one line."""
    p = Path(path)
    if not p.is_file():
        raise InputDataError(f"{p}: no such file (expected a .npy array)")
    try:
        return np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise InputDataError(f"{p}: not a readable .npy array ({str(e).splitlines()[0]})") from None


def save_array(path: str | os.PathLike, arr: np.ndarray) -> None:
    """Write ``arr`` to ``path`` as .npy atomically: nothing partial is ever left behind."""
    p = Path(path)
    if p.is_dir():
        raise QloomError(f"{p}: is a directory (expected an output .npy file)")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise QloomError(f"{p}: folder {parent} does not exist")

    def write(part):
        with open(part, "wb") as f:
            np.save(f, arr)

    write_atomic(p, write, suffix=".tmp")


def write_atomic(path: str | os.PathLike, write, suffix: str = ".part") -> Path:
    """Create ``path`` atomically: ``write(part)`` fills a temporary file beside it (same
    folder), which then gets the mode a plain ``open()`` would give (0666 less the umask,
    0644 by default) and is renamed onto ``path``; on any failure the temporary file is
    removed and nothing is left behind."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    fd, part = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=parent)
    os.close(fd)
    try:
        write(part)
        os.chmod(part, 0o666 & ~umask())  # mkstemp creates 0600; give what open() would
        os.replace(part, path)
    except BaseException:
        if os.path.exists(part):
            os.unlink(part)
        raise
    return path


def umask() -> int:
    """The process's file-mode creation mask (read without changing it where Linux allows)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def make_temp_dir(parent: str | os.PathLike, prefix: str) -> Path:
    """A new folder in ``parent`` for an output that is renamed into place when complete,
    with the mode a plain ``mkdir`` would give (0777 less the umask, 0755 by default;
    ``tempfile.mkdtemp`` alone makes it 0700, unreadable to other users and tools)."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(d, 0o777 & ~umask())
    return d


def staging_dir(out: str | os.PathLike) -> Path:
    """The temporary folder (:func:`make_temp_dir`) in which the output folder ``out`` is
    written before :func:`publish_dir` renames it into place. Raises QloomError (one line)
    when ``out`` exists and is not a folder, or its parent folder does not exist."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise QloomError(f"{out}: exists and is not a folder")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise QloomError(f"{out}: parent folder {parent} does not exist")
    return make_temp_dir(parent, f".{out.name}.tmp-")


def publish_dir(tmp: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Replace the folder ``dst`` by the finished folder ``tmp`` (same parent): renames only,
    so a reader sees the old folder or the new one, never a partial one; the old one is
    deleted last."""
    tmp, dst = Path(tmp), Path(dst)
    old = None
    if dst.exists():
        old = dst.with_name(f".{dst.name}.old-{os.getpid()}")
        os.rename(dst, old)
    os.rename(tmp, dst)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
