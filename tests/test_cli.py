"""Command line: results (error lines: tests/test_errors.py, one catalogue)."""
from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from qloom.cli import main
from qloom.reference import reference_outputs


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def digits_x(tmp_path):
    from qloom.data import digits_split

    x = digits_split()[2][:16]
    p = tmp_path / "x.npy"
    np.save(p, x)
    return p, x


def test_emulate_writes_reference_equal_output(tmp_path, capsys, digits_model, digits_x):
    xp, x = digits_x
    yp = tmp_path / "y.npy"
    rc, out, _ = run(capsys, "emulate", digits_model, "-i", xp, "-o", yp)
    assert rc == 0, out
    y = np.load(yp)
    ref = reference_outputs(digits_model, x)
    assert y.shape == ref.shape and y.dtype == np.float32
    assert np.abs(y - ref).max() <= 1e-5 * np.abs(ref).max()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_info_table(capsys, digits_model):
    rc, out, _ = run(capsys, "info", digits_model)
    assert rc == 0
    for word in ("MVAU", "SWG", "StreamingMaxPool", "MACs/frame", "total", "UINT4"):
        assert word in out


def test_console_script_exit_status(tmp_path):
    """The installed entry point itself: status 2 and no traceback on stderr."""
    exe = shutil.which("qloom") or str((__import__("pathlib").Path(sys.executable).parent / "qloom"))
    r = subprocess.run([exe, "info", str(tmp_path / "missing.onnx")], capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
