"""Input arrays in, output files out: atomic writes (temporary file, then rename)."""
from __future__ import annotations

import os
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
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, arr)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
