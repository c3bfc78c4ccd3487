"""The constant-weight MVAU's model side: the CMVM adder graph equals numpy's W @ x
exactly, node widths hold every reachable value, zero weights cost no adder, and the
MVAU offers resType "const" only when fully unrolled."""
import numpy as np
import pytest

from qloom.ops.mvau import MVAU
from qloom.ops.mvau_const import adder_graph
from qloom.types import IntType


@pytest.mark.parametrize("lo,hi,wl,wh", [(0, 63, -32, 31), (-128, 127, -3, 3), (0, 1, -1, 1), (-8, 7, 0, 15)])
def test_adder_graph_exact(lo, hi, wl, wh):
    rng = np.random.default_rng(lo + 7 * hi)
    W = rng.integers(wl, wh + 1, size=(9, 7))
    W[3] = 0
    W[:, 4] = 0
    g = adder_graph(W, lo, hi)
    x = np.concatenate([rng.integers(lo, hi + 1, size=(200, 7)), np.full((1, 7), lo), np.full((1, 7), hi)])
    assert np.array_equal(g.evaluate(x), x @ W.T)
    # every node's exact range is reached within its width (values of the evaluation)
    assert g.outs[3][0] == -1  # the zero row is the constant 0


def test_zero_weights_are_free():
    rng = np.random.default_rng(1)
    W = rng.integers(-31, 32, size=(8, 8))
    sparse = W.copy()
    sparse[rng.random(W.shape) < 0.75] = 0
    assert adder_graph(sparse, 0, 63).adders < adder_graph(W, 0, 63).adders / 2


def _mvau(W, thresholds=None):
    it, ot = IntType(6, False), IntType(3, False)
    mh, mw = W.shape
    T = None if thresholds is None else thresholds
    return MVAU("fc", (mw,), (mh,), it, ot if T is not None else IntType(16, True), weights=W,
                weight_type=IntType(6, True), acc_type=IntType(16, True), thresholds=T, out_bias=0)


def test_const_only_fully_unrolled():
    W = np.random.default_rng(2).integers(-32, 32, size=(4, 6))
    op = _mvau(W)
    assert "const" in op.knob_space()["resType"].searched
    assert op.illegal({"PE": 2, "SIMD": 6, "resType": "const"}) is not None
    assert op.illegal({"PE": 4, "SIMD": 6, "resType": "const"}) is None
    fold = {"PE": 4, "SIMD": 6, "resType": "const"}
    inst = op.rtl(fold)
    assert inst.library_module == "qloom_mvau_const" and inst.generated_sources
    assert op.cycles(fold) == 1
    res = op.resources(fold)
    assert res["DSP"] == 0 and res["LUT"] > 0


def _unrolled(graph):
    """Every MVAU fully unrolled as resType const, every SWG a whole window per beat."""
    fold = {}
    for op in graph.nodes:
        if op.op_type == "MVAU":
            mh, mw = op.mvau_dims
            fold[op.name] = {"PE": mh, "SIMD": mw, "resType": "const"}
        elif op.op_type == "SWG":
            fold[op.name] = {"SIMD": op.fold_channels, "parallel_window": 1}
    return fold


@pytest.mark.sim
@pytest.mark.parametrize("net", [pytest.param("mlp", marks=pytest.mark.slow), "cnn"])
def test_const_build_rtlsim_equals_emulator(tmp_path, net):
    """A whole build with constant-weight MVAUs (dense, and convolutions fed one window per
    cycle by the parallel-window SWG): Verilator == emulator under back-pressure, measured
    II and latency == the model."""
    import json

    import qloom
    from onnx_builders import mlp, small_cnn
    from qloom.flow import build, rtlsim

    path = tmp_path / f"{net}.onnx"
    if net == "mlp":
        mlp(path, features=(12, 16, 5), act_bits=4, seed=3)
        shape = (12,)
    else:
        small_cnn(path, c_in=3, hw=6, c1=4, c2=4, classes=3, seed=2)
        shape = (3, 6, 6)
    g = qloom.compile_model(path)
    fp = tmp_path / "fold.json"
    fp.write_text(json.dumps(_unrolled(g)))
    out = tmp_path / "out"
    r = build(path, out, folding_path=fp)
    x = np.random.default_rng(4).uniform(-1, 1, size=(6,) + shape).astype(np.float32)
    y_emu = qloom.emulate(g, x)
    y_rtl, _ = rtlsim(out, x, p_in_gap=0.3, p_out_stall=0.3, seed=5)
    np.testing.assert_array_equal(y_rtl, y_emu)
    y_rtl, stats = rtlsim(out, x)
    np.testing.assert_array_equal(y_rtl, y_emu)
    assert stats["cycles_per_frame"] == r["cycles_per_frame"], stats
    lat = r["estimates"]["latency_cycles"]
    assert abs(stats["latency_cycles"] - lat) <= 0.05 * lat, (stats, lat)


@pytest.mark.synth
@pytest.mark.slow  # about 6 minutes of Yosys on a loaded 2-core machine
def test_split_synthesis_matches_whole(tmp_path, monkeypatch):
    """Large adder graphs are synthesized as sub-modules (each alone, same script, counts
    summed): on a small MLP cut into several sub-modules per layer, the summed Yosys counts
    equal the whole layer's within 3 % LUT and 1 % FF, and synth.json names the parts."""
    import json

    import qloom
    import qloom.ops.mvau_const as mc
    from onnx_builders import mlp
    from qloom.flow import build
    from qloom.synth import synth_out

    path = tmp_path / "mlp.onnx"
    mlp(path, features=(12, 16, 5), act_bits=4, seed=3)
    g = qloom.compile_model(path)
    fp = tmp_path / "fold.json"
    fp.write_text(json.dumps(_unrolled(g)))
    reps = {}
    # one fresh cache for both builds: content-addressed (sources' bytes), so the MVAUs
    # (whole, then each part) run Yosys and the stages the two builds share run it once
    monkeypatch.setenv("QLOOM_SYNTH_CACHE", str(tmp_path / "cache"))
    for name, bits in (("whole", 10 ** 9), ("split", 700)):  # split: 2-3 sub-modules per layer
        monkeypatch.setattr(mc, "PART_BITS", bits)
        out = tmp_path / name
        build(path, out, folding_path=fp)
        reps[name] = synth_out(out, family="xcup", jobs=1, progress=lambda m: None)
    mv = [n for n in reps["whole"]["layers"] if n.startswith("MVAU")]
    assert mv
    for n in mv:
        w, s = reps["whole"]["layers"][n], reps["split"]["layers"][n]
        assert s["DSP"] == w["DSP"] == 0
        assert abs(s["LUT"] - w["LUT"]) <= 0.03 * w["LUT"], (n, w, s)
        assert abs(s["FF"] - w["FF"]) <= 0.01 * w["FF"], (n, w, s)
    # the split build really was cut (a part ran alone for each MVAU)
    rtl = (tmp_path / "split" / "rtl")
    assert sum(t.count("`ifdef QLOOM_SYNTH_BLACKBOX") for t in
               (f.read_text() for f in rtl.glob("*_const.v"))) >= len(mv) + 1


@pytest.mark.sim
def test_target_latency_picks_latency_first(tmp_path):
    """``target_latency`` below what the fastest options reach moves the constant-weight
    layers' latency knobs (fused, reg_levels): the build meets it, Verilator measures the
    modelled latency exactly and II = 1, RTL == emulator under back-pressure (no FIFO in
    front of a fused layer)."""
    import qloom
    from onnx_builders import mlp
    from qloom.flow import build, rtlsim

    path = tmp_path / "mlp.onnx"
    mlp(path, features=(12, 16, 5), act_bits=4, seed=3)
    g = qloom.compile_model(path)
    base = build(path, tmp_path / "base", folding_path=_unrolled(g))
    lat0 = base["estimates"]["latency_cycles"]
    r = build(path, tmp_path / "fast", board="u250", clock_mhz=200, target_fps=200e6,
              target_latency=lat0 - 3)
    fold = r["folding"]
    assert any(f.get("fused") for f in fold.values()), fold
    lat = r["estimates"]["latency_cycles"]
    assert lat <= lat0 - 3
    x = np.random.default_rng(4).uniform(-1, 1, size=(8, 12)).astype(np.float32)
    y_emu = qloom.emulate(g, x)
    y_rtl, _ = rtlsim(tmp_path / "fast", x, p_in_gap=0.3, p_out_stall=0.3, seed=5)
    np.testing.assert_array_equal(y_rtl, y_emu)
    y_rtl, stats = rtlsim(tmp_path / "fast", x)
    np.testing.assert_array_equal(y_rtl, y_emu)
    assert stats["cycles_per_frame"] == 1 and stats["latency_cycles"] == lat, (stats, lat)
