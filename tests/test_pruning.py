"""Pruning pays (issue 10): on the shipped pruned jet-tagger MLPs (examples/train_pruned.py,
the same network pruned to 0, 50, 75 and 90 %), the constant-weight MVAU's adder count and
resource estimate fall with sparsity, all-zero rows and columns cost nothing, and a pruned
model built and simulated stays bit-exact (RTL == emulator == qonnx execute_onnx)."""
import json
from functools import lru_cache

import numpy as np
import pytest

import qloom
from qloom.models import model_path
from qloom.ops.mvau_const import adder_graph, csd_digits

SPARSITIES = ("s00", "s50", "s75", "s90")


@lru_cache(maxsize=None)
def _graph(s):
    return qloom.compile_model(model_path(f"pruned/jet_w6a6_{s}"))


def _mvau(g, name):
    return next(op for op in g.nodes if op.name == name)


def _unrolled(op):
    mh, mw = op.mvau_dims
    return {"PE": mh, "SIMD": mw, "resType": "const"}


def _naive_adders(W) -> int:
    """Shift-add without any sharing: per output, one adder per canonical-signed-digit term
    of its weights beyond the first (an upper bound any adder graph may only undercut)."""
    terms = [sum(len(csd_digits(int(w))) for w in row) for row in np.asarray(W)]
    return sum(max(t - 1, 0) for t in terms)


def test_shipped_models_reach_their_sparsity():
    """The exported integer weights are at least as sparse as the recipe's target, and the
    sidecar's accuracy is qonnx's (the recipe checked torch against execute_onnx)."""
    for s in SPARSITIES:
        meta = json.loads(model_path(f"pruned/jet_w6a6_{s}").with_suffix(".json").read_text())
        g = _graph(s)
        ws = [op.weights for op in g.nodes if op.op_type == "MVAU"]
        zeros = sum(int((w == 0).sum()) for w in ws) / sum(w.size for w in ws)
        assert zeros >= meta["target_sparsity"] - 1e-9
        assert zeros == pytest.approx(meta["integer_sparsity"], abs=1e-3)
        assert abs(meta["qonnx_test_correct"] - meta["test_correct"]) <= 1


@pytest.mark.parametrize("layer", ["MVAU_0", "MVAU_3"])
def test_adders_and_estimate_fall_with_sparsity(layer):
    """Same layer of the same network at 0 / 50 / 75 / 90 % sparsity: the CMVM adder count,
    its adder bits and the layer's LUT estimate fall strictly; each adder count is below the
    no-sharing shift-add bound of its own matrix (computed here from the weights)."""
    adders, bits, luts = [], [], []
    for s in SPARSITIES:
        op = _mvau(_graph(s), layer)
        fold = _unrolled(op)
        p = op.rtl(fold).params
        assert p["ADDERS"] <= _naive_adders(op.weights)
        adders.append(p["ADDERS"])
        bits.append(p["ADD_BITS"])
        luts.append(op.resources(fold)["LUT"])
        assert op.resources(fold)["DSP"] == 0
    for seq in (adders, bits, luts):
        assert all(a > b for a, b in zip(seq, seq[1:])), (adders, bits, luts)


def test_zero_rows_and_columns_cost_nothing():
    """A pruned layer's matrix with an all-zero output row and an all-zero input column added
    needs exactly the adders and adder bits of the matrix without them; the zero output is
    the constant 0 and the graph still equals x @ W.T (numpy)."""
    op = _mvau(_graph("s75"), "MVAU_2")
    W = np.asarray(op.weights, dtype=np.int64)
    lo, hi = op.in_type.min, op.in_type.max
    padded = np.zeros((W.shape[0] + 1, W.shape[1] + 1), dtype=np.int64)
    padded[:-1, 1:] = W  # new row last, new column first
    g, gp = adder_graph(W, lo, hi), adder_graph(padded, lo, hi)
    assert gp.adders == g.adders
    add_bits = lambda gr: sum(gr.width(i) for i, o in enumerate(gr.ops) if o[0] >= 0)  # noqa: E731
    assert add_bits(gp) == add_bits(g)
    assert gp.outs[-1][0] == -1
    x = np.random.default_rng(0).integers(lo, hi + 1, size=(64, padded.shape[1]))
    assert np.array_equal(gp.evaluate(x), x @ padded.T)


@pytest.mark.slow
@pytest.mark.sim
def test_pruned_model_rtl_equals_emulator(tmp_path):
    """The 90 %-sparse jet MLP built at II = 1 (every layer a constant-weight MVAU, the
    folding search's choice on the U250 at 200 MHz): Verilator == emulator under
    back-pressure, emulator == qonnx execute_onnx, measured II == 1."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    from qloom.flow import build, rtlsim

    path = model_path("pruned/jet_w6a6_s90")
    r = build(path, tmp_path / "out", board="u250", clock_mhz=200, target_fps=200e6)
    assert all(f.get("resType") == "const" for n, f in r["folding"].items() if n.startswith("MVAU"))
    x = np.random.default_rng(1).uniform(-1, 1, size=(8, 16)).astype(np.float32)
    y_emu = qloom.emulate(qloom.compile_model(path), x)
    m = cleanup_model(ModelWrapper(str(path)))
    iname, oname = m.graph.input[0].name, m.graph.output[0].name
    y_ref = np.concatenate([execute_onnx(m, {iname: x[i:i + 1]})[oname] for i in range(len(x))])
    np.testing.assert_allclose(y_emu, y_ref, rtol=0, atol=1e-5 * np.abs(y_ref).max())
    y_rtl, _ = rtlsim(tmp_path / "out", x, p_in_gap=0.3, p_out_stall=0.3, seed=2)
    np.testing.assert_array_equal(y_rtl, y_emu)
    _, stats = rtlsim(tmp_path / "out", x)
    assert stats["cycles_per_frame"] == 1


def test_pruning_benchmark_one_model(tmp_path):
    """benchmarks/pruning.py on the 90 % model without synthesis: the row's adders are the
    sum of its constant-weight layers', every MVAU is one, the estimate has no DSP, and the
    table and plot are written."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "bench_pruning", Path(__file__).resolve().parent.parent / "benchmarks" / "pruning.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--models", "jet_w6a6_s90", "--out", str(tmp_path)]) == 0
    (row,) = json.loads((tmp_path / "pruning.json").read_text())["rows"]
    mvaus = [v for v in row["layers"].values() if v["op"] == "MVAU"]
    assert len(mvaus) == 4 and all(v["fold"]["resType"] == "const" for v in mvaus)
    assert row["adders"] == sum(v["adders"] for v in mvaus) > 0
    assert row["est"]["DSP"] == 0 and row["cycles_per_frame_est"] == 1
    assert "| jet_w6a6_s90 |" in (tmp_path / "pruning.md").read_text()
    assert (tmp_path / "pruning.png").stat().st_size > 0
