"""A MobileNet-v1 depthwise-separable block (Brevitas: pointwise 1x1 -> depthwise 3x3 ->
pointwise 1x1, quantized, batch norm) through the whole flow: emulate == qonnx
``execute_onnx``; build + Verilator == emulator under back-pressure, measured II == the
cycle model, at the default folding and at a target FPS that folds the VVAU in parallel.
The depthwise convolution must become the VVAU (qloom_vvau), not a block-diagonal MVAU."""
from __future__ import annotations

import json

import numpy as np
import pytest

import qloom
from brevitas_models import cnn, export
from qloom.flow import build, rtlsim
from test_matrix import check_model, make_input

pytestmark = pytest.mark.sim

SHAPE = (3, 10, 10)


def _block():
    return cnn(SHAPE, [dict(out=16, k=1, wbits=4, bn="pos", act=("relu", 4)),
                       dict(depthwise=True, k=3, pad=1, wbits=4, per_channel=True, bn="neg",
                            act=("relu", 4)),
                       dict(out=8, k=1, wbits=3, bn="pos", act=("uint", 3))], classes=5)


def _vvau_layers(out):
    folding = json.loads((out / "folding.json").read_text())
    est = json.loads((out / "estimates.json").read_text())
    return {n: folding[n] for n, rec in est["layers"].items() if rec["op"] == "VVAU"}


def _check_rtl(path, out, r):
    x = make_input(SHAPE, "uint", 3, 7)
    y_emu = qloom.emulate(qloom.compile_model(path), x)
    y_rtl, _ = rtlsim(out, x, p_in_gap=0.2, p_out_stall=0.3, seed=5)
    np.testing.assert_array_equal(y_rtl, y_emu)
    _, stats = rtlsim(out, x)
    ii = stats["cycles_per_frame"]
    assert abs(ii - r["cycles_per_frame"]) <= max(15, 0.05 * r["cycles_per_frame"]), (ii, r["cycles_per_frame"])
    lat, est = stats["latency_cycles"], r["estimates"]["latency_cycles"]
    assert abs(lat - est) <= max(15, 0.05 * lat), (lat, est)
    return ii


def test_depthwise_separable_block(tmp_path):
    model = _block()
    graph = check_model(model, SHAPE, tmp_path, seed=11)  # emulate == qonnx reference
    assert [op.op_type for op in graph.nodes].count("VVAU") == 1
    path = export(model, (1, *SHAPE), tmp_path)

    out = tmp_path / "default"
    r = build(path, out)
    vv = _vvau_layers(out)
    assert len(vv) == 1
    assert "module qloom_vvau" in (out / "rtl" / "qloom_vvau.v").read_text()
    ii_default = _check_rtl(path, out, r)

    # a target FPS beyond the default folding's: the VVAU must fold in parallel
    clock = r["estimates"]["clock_mhz"] * 1e6
    target = 4 * clock / ii_default
    out2 = tmp_path / "fast"
    r2 = build(path, out2, target_fps=target)
    assert r2["fps"] >= target
    (name, f), = _vvau_layers(out2).items()
    assert int(f["PE"]) * int(f.get("SIMD", 1)) > 1, f
    _check_rtl(path, out2, r2)
