"""qloom build + rtlsim: the generated accelerator, simulated by Verilator, equals the
emulator exactly, and its measured II equals the cycle model."""
from __future__ import annotations

import json

import numpy as np
import pytest

import qloom
from qloom.cli import main
from qloom.flow import build, rtlsim
from qloom.zoo import export_bnn_pynq, input_shape


@pytest.fixture(scope="module")
def tfc(tmp_path_factory):
    d = tmp_path_factory.mktemp("tfc")
    return export_bnn_pynq("tfc_1w1a", d / "tfc_1w1a.onnx", seed=3)


def within(measured, model, rel=0.05, abs_=15):
    return abs(measured - model) <= max(rel * model, abs_)


@pytest.mark.sim
@pytest.mark.parametrize("fold", [
    {"MVAU_0": {"PE": 4, "SIMD": 16}, "MVAU_1": {"PE": 4, "SIMD": 4},
     "MVAU_2": {"PE": 2, "SIMD": 4}, "MVAU_3": {"PE": 1, "SIMD": 2}},
    {"MVAU_0": {"PE": 1, "SIMD": 49}, "MVAU_1": {"PE": 2, "SIMD": 1},
     "MVAU_2": {"PE": 8, "SIMD": 2, "ram_style": "distributed"}, "MVAU_3": {"PE": 5, "SIMD": 8}},
])
def test_tfc_rtlsim_equals_emulator(tmp_path, tfc, fold):
    fp = tmp_path / "fold.json"
    fp.write_text(json.dumps(fold))
    out = tmp_path / "out"
    r = build(tfc, out, folding_path=fp)
    x = np.random.default_rng(1).random((5,) + input_shape("tfc_1w1a"), dtype=np.float32)
    y_emu = qloom.emulate(qloom.compile_model(tfc), x)
    y_rtl, stats = rtlsim(out, x, p_in_gap=0.2, p_out_stall=0.2, seed=7)
    np.testing.assert_array_equal(y_rtl, y_emu)
    y_rtl, stats = rtlsim(out, x)  # no stalls: II is the slowest layer's cycles
    np.testing.assert_array_equal(y_rtl, y_emu)
    assert within(stats["cycles_per_frame"], r["cycles_per_frame"]), (stats, r["cycles_per_frame"])
    assert within(stats["latency_cycles"], r["estimates"]["latency_cycles"]), stats  # dse.latency


def test_build_rejects_illegal_folding(tmp_path, tfc, capsys):
    fp = tmp_path / "fold.json"
    fp.write_text(json.dumps({"MVAU_0": {"PE": 65}}))  # MH = 64
    rc = main(["build", str(tfc), "-o", str(tmp_path / "out"), "--folding", str(fp)])
    err = capsys.readouterr().err
    assert rc == 2 and "MVAU_0" in err and "PE=65" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    fp.write_text(json.dumps({"NOPE_9": {"PE": 1}}))
    rc = main(["build", str(tfc), "-o", str(tmp_path / "out"), "--folding", str(fp)])
    assert rc == 2 and "NOPE_9" in capsys.readouterr().err
    fp.write_text("{not json")
    rc = main(["build", str(tfc), "-o", str(tmp_path / "out"), "--folding", str(fp)])
    assert rc == 2 and "not valid JSON" in capsys.readouterr().err
    assert not list(tmp_path.glob(".out.tmp-*"))


@pytest.mark.sim
def test_generated_verilog_lints_clean(tmp_path, tfc):
    """verilator --lint-only -Wall on the generated top and the library it uses."""
    from qloom.sim.verilator import lint

    out = tmp_path / "out"
    build(tfc, out)
    warnings = lint("qloom_top", sorted((out / "rtl").glob("*.v")))
    assert warnings == "", warnings


@pytest.mark.synth
def test_generated_top_synthesizes_without_latches(tmp_path, tfc):
    """Yosys synth_xilinx of every stage of a build: no errors, no latches; synth.json
    and the report carry the figures."""
    from qloom.synth import synth_out

    out = tmp_path / "out"
    fold = {"MVAU_0": {"PE": 4, "SIMD": 16}, "MVAU_1": {"PE": 4, "SIMD": 4},
            "MVAU_2": {"PE": 2, "SIMD": 4}, "MVAU_3": {"PE": 1, "SIMD": 2}}
    fp = tmp_path / "fold.json"
    fp.write_text(json.dumps(fold))
    build(tfc, out, folding_path=fp)
    rep = synth_out(out, family="xc7", progress=lambda m: None)
    assert rep["latches"] == 0
    assert rep["total"]["LUT"] > 0 and set(rep["layers"]) == set(fold)
    saved = json.loads((out / "synth.json").read_text())
    assert saved["total"] == rep["total"] and saved["family"] == "xc7"
    # Yosys seconds per stage are returned, not saved (synth.json stays reproducible)
    assert set(rep["times"]) == set(rep["stages"]) and "times" not in saved
    assert all(t["seconds"] >= 0 for t in rep["times"].values())


@pytest.mark.sim
@pytest.mark.parametrize("how", ["default", "target"])
def test_digits_whole_test_split_rtl_equals_emulator(tmp_path, digits_model, how):
    """The embedded model: RTL simulation == emulator on all 360 test images, under random
    back-pressure, and the measured II equals the cycle model when nothing stalls."""
    from qloom.data import digits_split

    x, y = digits_split()[2:]
    out = tmp_path / "out"
    r = build(digits_model, out, target_fps=50_000 if how == "target" else None)
    if how == "target":
        assert r["fps"] >= 50_000
    y_emu = qloom.emulate(qloom.compile_model(digits_model), x)
    y_rtl, stats = rtlsim(out, x, p_in_gap=0.1, p_out_stall=0.3, seed=5)
    np.testing.assert_array_equal(y_rtl, y_emu)
    assert (y_rtl.argmax(1) == y).mean() >= 0.95
    _, stats = rtlsim(out, x[:8])
    assert within(stats["cycles_per_frame"], r["cycles_per_frame"]), (stats, r)
    assert within(stats["latency_cycles"], r["estimates"]["latency_cycles"]), stats  # dse.latency
    for name, layer in stats["layers"].items():  # the pipeline runs at the slowest layer's pace
        assert within(layer["cycles"], r["cycles_per_frame"])


@pytest.mark.sim
def test_rtlsim_of_a_slow_folding_runs_to_the_end(tmp_path, digits_model):
    """The slowest folding of the embedded model (every PE = SIMD = 1: II 73,728 cycles):
    four frames take ~300k cycles, beyond the beat-count bound alone (200,000 + 50 per
    beat); the cycle limit follows the modelled II and latency (flow.sim_cycle_limit), so
    the simulation finishes and equals the emulator."""
    from qloom.data import digits_split
    from qloom.flow import host_encode, out_beats_per_frame

    g = qloom.compile_model(digits_model)
    fold = {op.name: {"PE": 1, "SIMD": 1} for op in g.nodes if "PE" in op.knob_space()}
    out = tmp_path / "slow"
    r = build(digits_model, out, folding_path=fold)
    x = digits_split()[2][:4]
    y_rtl, stats = rtlsim(out, x)
    np.testing.assert_array_equal(y_rtl, qloom.emulate(g, x))
    meta = json.loads((out / "build.json").read_text())
    beats = len(host_encode(g, meta, x)) + 4 * out_beats_per_frame(g, meta)
    assert stats["total_cycles"] > 200_000 + 50 * beats  # the beat-count bound would have stopped it
    assert within(stats["cycles_per_frame"], r["cycles_per_frame"])


@pytest.mark.sim
def test_bitplane_conv_rtlsim_equals_emulator(tmp_path):
    """resType bitplane (qloom_dot_bitplane) in every MVAU of a small CNN: UINT4 x INT4 (16
    plane pairs), UINT3 x INT4 convolutions and the dense layer, through build + rtlsim
    under back-pressure; the measured II equals the cycle model."""
    from onnx_builders import small_cnn

    model = small_cnn(tmp_path / "cnn.onnx", hw=6, c1=4, c2=4, seed=5)
    fold = {"MVAU_0": {"PE": 2, "SIMD": 9, "resType": "bitplane"},
            "MVAU_1": {"PE": 4, "SIMD": 12, "resType": "bitplane"},
            "MVAU_2": {"PE": 1, "SIMD": 4, "resType": "bitplane"}}
    fp = tmp_path / "fold.json"
    fp.write_text(json.dumps(fold))
    out = tmp_path / "out"
    r = build(model, out, folding_path=fp)
    top = (out / "rtl" / "qloom_top.v").read_text()
    assert top.count(".MUL_STYLE(3)") == 3, "every MVAU takes the bit-plane datapath"
    x = np.random.default_rng(2).random((3, 3, 6, 6), dtype=np.float32)
    y_emu = qloom.emulate(qloom.compile_model(model), x)
    y_rtl, _ = rtlsim(out, x, p_in_gap=0.3, p_out_stall=0.4, seed=3)
    np.testing.assert_array_equal(y_rtl, y_emu)
    y_rtl, stats = rtlsim(out, x)
    np.testing.assert_array_equal(y_rtl, y_emu)
    assert within(stats["cycles_per_frame"], r["cycles_per_frame"]), (stats, r["cycles_per_frame"])
