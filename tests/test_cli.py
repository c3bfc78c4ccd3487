"""Command line: results, and bad input -> exit status 2, one line, nothing written."""
from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import onnx
import pytest

from onnx_builders import mlp
from qloom.cli import main
from qloom.reference import reference_outputs


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc, err, *needles):
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("qloom: error: ")
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


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


def test_not_onnx(tmp_path, capsys, digits_x):
    bad = tmp_path / "bad.onnx"
    bad.write_text("this is not a protobuf\n" * 10)
    yp = tmp_path / "y.npy"
    rc, _, err = run(capsys, "emulate", bad, "-i", digits_x[0], "-o", yp)
    assert_one_line_error(rc, err, "bad.onnx", "ONNX")
    assert not yp.exists()


def test_missing_model(tmp_path, capsys):
    rc, _, err = run(capsys, "info", tmp_path / "nope.onnx")
    assert_one_line_error(rc, err, "nope.onnx", "no such file")


def test_truncated_model(tmp_path, capsys, digits_model):
    data = digits_model.read_bytes()
    bad = tmp_path / "trunc.onnx"
    bad.write_bytes(data[: len(data) // 3])
    rc, _, err = run(capsys, "info", bad)
    assert_one_line_error(rc, err, "trunc.onnx")


def test_missing_external_data(tmp_path, capsys, digits_model):
    m = onnx.load(str(digits_model))
    p = tmp_path / "ext.onnx"
    onnx.save_model(m, str(p), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="ext.onnx.data", size_threshold=0)
    assert (tmp_path / "ext.onnx.data").exists()
    rc, out, _ = run(capsys, "info", p)  # with its side file: fine
    assert rc == 0, out
    (tmp_path / "ext.onnx.data").unlink()
    rc, _, err = run(capsys, "info", p)
    assert_one_line_error(rc, err, "ext.onnx.data", "missing")


def test_unsupported_op(tmp_path, capsys):
    p = mlp(tmp_path / "softmax.onnx", tail="Softmax")
    rc, _, err = run(capsys, "info", p)
    assert_one_line_error(rc, err, "Softmax_0", "unsupported op")


def test_float_op_that_cannot_be_streamlined(tmp_path, capsys):
    p = mlp(tmp_path / "float_between.onnx", quant_between=False)
    rc, _, err = run(capsys, "info", p)
    assert_one_line_error(rc, err, "MatMul_1", "not quantized")


def test_float_weights(tmp_path, capsys):
    p = mlp(tmp_path / "float_w.onnx", quant_weights=False)
    rc, _, err = run(capsys, "info", p)
    assert_one_line_error(rc, err, "MatMul_0", "not quantized")


@pytest.mark.parametrize("arr, needle", [
    (np.zeros((4, 1, 9, 9), np.float32), "expected shape (N, 1, 8, 8)"),
    (np.zeros((4, 1, 8, 8), np.int32), "expected a float array"),
    (np.zeros((4, 64), np.float32), "expected shape"),
])
def test_bad_input_array(tmp_path, capsys, digits_model, arr, needle):
    xp, yp = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(xp, arr)
    rc, _, err = run(capsys, "emulate", digits_model, "-i", xp, "-o", yp)
    assert_one_line_error(rc, err, "x.npy", needle)
    assert not yp.exists()


def test_input_not_npy(tmp_path, capsys, digits_model):
    xp, yp = tmp_path / "x.npy", tmp_path / "y.npy"
    xp.write_bytes(b"\x00garbage")
    rc, _, err = run(capsys, "emulate", digits_model, "-i", xp, "-o", yp)
    assert_one_line_error(rc, err, "x.npy", ".npy")
    assert not yp.exists()


def test_console_script_exit_status(tmp_path):
    """The installed entry point itself: status 2 and no traceback on stderr."""
    exe = shutil.which("qloom") or str((__import__("pathlib").Path(sys.executable).parent / "qloom"))
    r = subprocess.run([exe, "info", str(tmp_path / "missing.onnx")], capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
