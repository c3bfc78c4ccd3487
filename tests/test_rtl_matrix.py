"""The foundation test matrix through the RTL back end: build -> Verilator == emulator.

A representative subset of tests/test_matrix.py (every operator, type family and geometry
class that has RTL), each built with the default folding and simulated under random
back-pressure; the measured II must equal the cycle model. CNV runs on two frames.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import qloom
from brevitas_models import ArgMax, TopK, cnn, export, mlp, prepare
from qloom.flow import build, rtlsim
from test_matrix import make_input, pool_model

pytestmark = pytest.mark.sim


MODELS = {
    "conv_k5_pad2_9x11": lambda: (cnn((3, 9, 11), [dict(out=8, k=5, pad=2, wbits=4, bn="pos", act=("relu", 4)),
                                                   dict(out=6, k=1, wbits=3, bn="neg", act=("int", 3))]),
                                  (3, 9, 11), "uint"),
    "conv_k4_s3_12x12": lambda: (cnn((3, 12, 12), [dict(out=8, k=4, stride=3, wbits=2, bn="neg", act=("int", 2))]),
                                 (3, 12, 12), "uint"),
    "max3s2": lambda: pool_model("max3s2"),
    "max2_before_act_bnneg": lambda: pool_model("max2_before_act_bnneg"),
    "avg2_requant": lambda: pool_model("avg2_requant"),
    "truncavg2": lambda: pool_model("truncavg2"),
    "depthwise_k3s2": lambda: (cnn((3, 9, 9), [dict(out=8, k=1, wbits=4, bn="pos", act=("relu", 4)),
                                               dict(depthwise=True, k=3, stride=2, pad=1, wbits=4,
                                                    per_channel=True, bn="pos", act=("relu", 3))]),
                               (3, 9, 9), "uint"),
    "mlp_2bit_deep": lambda: (mlp(64, hidden=(32, 16, 16), classes=10, wbits=2, act=("int", 2),
                                  image=(1, 8, 8), in_q=("uint", 2)), (1, 8, 8), "uint"),
    "mlp_bipolar_in_8bit_w": lambda: (mlp(20, hidden=(16,), classes=8, wbits=8, act=("int", 8),
                                          in_q=("bipolar", 1)), (20,), "int"),
    "argmax": lambda: (mlp(24, hidden=(16,), classes=10, wbits=3, act=("relu", 3), last_bias=False,
                           tail=ArgMax(), pot=True), (24,), "uint"),
    "topk3": lambda: (mlp(24, hidden=(16,), classes=10, wbits=3, act=("relu", 3), last_bias=False,
                          tail=TopK(3), pot=True), (24,), "uint"),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_matrix_model_rtl_equals_emulator(name, tmp_path):
    torch.manual_seed(0)
    model, shape, kind = MODELS[name]()
    prepare(model, torch.from_numpy(make_input(shape, kind, 64, 1)), seed=0)
    path = export(model, (1, *shape), tmp_path)
    out = tmp_path / "out"
    r = build(path, out)
    x = make_input(shape, kind, 6, 2)
    y_emu = qloom.emulate(qloom.compile_model(path), x)
    y_rtl, _ = rtlsim(out, x, p_in_gap=0.2, p_out_stall=0.3, seed=3)
    np.testing.assert_array_equal(y_rtl, y_emu)
    _, stats = rtlsim(out, x)
    ii = stats["cycles_per_frame"]
    assert abs(ii - r["cycles_per_frame"]) <= max(15, 0.05 * r["cycles_per_frame"]), (ii, r)
    lat, est = stats["latency_cycles"], r["estimates"]["latency_cycles"]  # qloom.dse.latency
    assert abs(lat - est) <= max(15, 0.05 * lat), (lat, est)


@pytest.mark.slow
def test_cnv_w1a1_rtl_equals_emulator_at_3040_fps(tmp_path):
    """CNV-W1A1 built for BNN-PYNQ's 3.04k FPS on PYNQ-Z1: RTL == emulator on 2 frames and
    the measured II is the modelled one."""
    from qloom.zoo import export_bnn_pynq, input_shape

    path = export_bnn_pynq("cnv_1w1a", tmp_path / "cnv.onnx", seed=1)
    r = build(path, tmp_path / "out", board="pynq-z1", target_fps=3040)
    assert r["fps"] >= 3040
    x = np.random.default_rng(0).random((2,) + input_shape("cnv_1w1a"), dtype=np.float32)
    y_rtl, stats = rtlsim(tmp_path / "out", x)
    np.testing.assert_array_equal(y_rtl, qloom.emulate(qloom.compile_model(path), x))
    assert abs(stats["cycles_per_frame"] - r["cycles_per_frame"]) <= max(15, 0.02 * r["cycles_per_frame"])
    lat, est = stats["latency_cycles"], r["estimates"]["latency_cycles"]
    assert abs(lat - est) <= 0.05 * lat, (lat, est)


@pytest.mark.slow
def test_svhn_parallel_window_rtl_at_hls4ml_ii(tmp_path):
    """hls4ml's SVHN CNN at its II (1,028 cycles at 200 MHz on a U250): parallel-window SWGs
    and pixel-streaming pools take one input pixel per cycle; RTL == emulator, the measured
    II is at most 1,028 and the measured latency is the latency model's (3 %)."""
    from qloom.zoo import sample_input, zoo_export

    path = zoo_export("svhn_w6a6", tmp_path / "svhn.onnx")
    r = build(path, tmp_path / "out", board="u250", clock_mhz=200, target_fps=200e6 / 1028,
              target_latency=1400)
    assert r["folding"]["SWG_0"]["parallel_window"] == 1
    x = sample_input("svhn_w6a6", 2)
    y_rtl, stats = rtlsim(tmp_path / "out", x)
    np.testing.assert_array_equal(y_rtl, qloom.emulate(qloom.compile_model(path), x))
    assert stats["cycles_per_frame"] <= 1028
    lat, est = stats["latency_cycles"], r["estimates"]["latency_cycles"]
    assert lat <= 1400 * 1.03 and abs(lat - est) <= 0.03 * lat, (lat, est)
