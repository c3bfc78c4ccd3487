"""Non-divisor folding: a dense MVAU takes PE not dividing MH and SIMD not dividing MW
(the matrix padded, qloom.ops.mvau.pad_matrix), the stream glue adapts the padded vectors
(qloom_repad), the host boundary stays unpadded. References: brute force over fold
counts, numpy matrix products, the emulator (bit-exact, = QONNX) against Verilator."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import qloom
from qloom.errors import QloomError
from qloom.flow import build, rtlsim
from qloom.ops.base import PAD_MAX_FRACTION, divisors, padded_lanes
from qloom.zoo import ZOO, export_bnn_pynq, input_shape

JET = str(ZOO["jet_w6a6"].shipped)
BOARD = Path(__file__).parents[1] / "benchmarks" / "boards" / "pynq-z1-jet15.json"


@pytest.mark.parametrize("n", [5, 16, 32, 64, 100, 256, 784])
def test_padded_lanes_are_the_smallest_lanes_of_new_fold_counts(n):
    """Every searched padded lane count v is the fewest lanes reaching its fold count
    ceil(n/v), no divisor reaches that count, and the padding is at most n/8 (brute force
    over all lane counts)."""
    divs = set(divisors(n))
    fewest = {}
    for v in range(1, n + 1):
        fewest.setdefault(-(-n // v), v)
    for v in padded_lanes(n):
        f = -(-n // v)
        assert v not in divs and fewest[f] == v
        assert not any(-(-n // d) == f for d in divs)
        assert f * v - n <= n // PAD_MAX_FRACTION


def test_padded_matrix_keeps_the_products():
    """pad_matrix: W (zero columns, rows copied from row 0) on the zero-padded input gives
    the original products in the first MH rows (numpy)."""
    from qloom.ops.mvau import pad_matrix

    rng = np.random.default_rng(0)
    W = rng.integers(-31, 32, (10, 13))
    T = np.sort(rng.integers(-500, 500, (10, 7)), axis=1)
    Wp, Tp, _ = pad_matrix(W, T, None, 12, 15)
    x = rng.integers(0, 64, (20, 13))
    xp = np.concatenate([x, rng.integers(0, 64, (20, 2))], axis=1)  # any padding values
    np.testing.assert_array_equal((xp @ Wp.T)[:, :10], x @ W.T)
    np.testing.assert_array_equal(Tp[:10], T)
    assert Wp.shape == (12, 15) and (Wp[:, 13:] == 0).all()


def test_knobs_offer_padding_on_dense_layers_only():
    g = qloom.compile_model(JET)
    m1 = g.node("MVAU_1")  # 64 x 32 dense, integer products
    space = m1.knob_space()
    assert 22 in space["SIMD"].searched and 22 in space["SIMD"].values
    assert 3 in space["PE"].searched
    assert m1.legal({"PE": 3, "SIMD": 22})
    assert m1.padded({"PE": 3, "SIMD": 22}) == (33, 66)
    assert m1.cycles({"PE": 3, "SIMD": 22}) == 11 * 3


def test_host_boundary_stays_unpadded():
    """SIMD not dividing the first layer's MW, or PE not dividing the last layer's MH: a
    one-line QloomError naming the layer (the host streams unpadded vectors)."""
    from qloom.dse.folding import validate_folding

    g = qloom.compile_model(JET)
    with pytest.raises(QloomError, match="MVAU_0.*host"):
        validate_folding(g, {"MVAU_0": {"PE": 4, "SIMD": 3}})
    with pytest.raises(QloomError, match="MVAU_3.*host"):
        validate_folding(g, {"MVAU_3": {"PE": 2, "SIMD": 2}})
    validate_folding(g, {"MVAU_0": {"PE": 3, "SIMD": 4}, "MVAU_1": {"PE": 5, "SIMD": 11}})


def test_bipolar_inputs_refuse_simd_padding(tmp_path):
    """Padding columns need zero weights: with bipolar weights or inputs SIMD must divide MW
    (PE may pad: its rows are copies)."""
    m = export_bnn_pynq("tfc_1w1a", tmp_path / "tfc.onnx", seed=3)
    g = qloom.compile_model(str(m))
    m1 = g.node("MVAU_1")
    assert "SIMD must divide" in m1.illegal({"PE": 1, "SIMD": 3})
    assert m1.illegal({"PE": 3, "SIMD": 4}) is None


def _sim_equals_emulator(model, fold, tmp_path, x):
    fp = tmp_path / "fold.json"
    fp.write_text(json.dumps(fold))
    out = tmp_path / "out"
    r = build(model, out, folding_path=fp)
    top = (out / "rtl" / "qloom_top.v").read_text()
    y_emu = qloom.emulate(qloom.compile_model(model), x)
    y, _ = rtlsim(out, x, p_in_gap=0.3, p_out_stall=0.4, seed=5)
    np.testing.assert_array_equal(y, y_emu)
    y, st = rtlsim(out, x)
    np.testing.assert_array_equal(y, y_emu)
    ii, lat = r["cycles_per_frame"], r["estimates"]["latency_cycles"]
    assert abs(st["cycles_per_frame"] - ii) <= 1, (st, ii)
    assert abs(st["latency_cycles"] - lat) <= max(0.05 * lat, 15), (st, lat)
    return top


JET_FOLDS = {
    # MVAU_0 PE 3 -> 66 = MVAU_1 SIMD 11 x 6; MVAU_1 PE 5 -> 35 = MVAU_2 SIMD 7 x 5;
    # MVAU_2 PE 2 -> 32, MVAU_3 SIMD 3 -> 33: one zero beat inserted (gcd width 1)
    "insert": {"MVAU_0": {"PE": 3, "SIMD": 4, "resType": "dsp_packed", "thr_style": "requant"},
               "MVAU_1": {"PE": 5, "SIMD": 11, "resType": "lut", "thr_style": "binsearch"},
               "MVAU_2": {"PE": 2, "SIMD": 7, "thr_style": "requant"},
               "MVAU_3": {"PE": 1, "SIMD": 3}},
    # MVAU_1 PE 3 -> 33, MVAU_2 SIMD 4 -> 32: one beat dropped; MVAU_2 PE 6 -> 36 = MVAU_3
    # SIMD 9 x 4 (gcd 3)
    "drop": {"MVAU_0": {"PE": 2, "SIMD": 8},
             "MVAU_1": {"PE": 3, "SIMD": 2, "resType": "dsp_packed"},
             "MVAU_2": {"PE": 6, "SIMD": 4},
             "MVAU_3": {"PE": 5, "SIMD": 9}},
}


@pytest.mark.sim
@pytest.mark.parametrize("case", sorted(JET_FOLDS))
def test_padded_jet_rtl_equals_emulator(tmp_path, case):
    """The jet MLP with padded foldings: Verilator == the emulator with and without
    stalls, II within 1 cycle of the model, latency within 5 %."""
    x = np.random.default_rng(2).normal(0, 1.5, (12, 16)).astype(np.float32)
    top = _sim_equals_emulator(JET, JET_FOLDS[case], tmp_path, x)
    assert "qloom_repad" in top


@pytest.mark.sim
def test_padded_xnor_rtl_equals_emulator(tmp_path):
    """Binary TFC with PE padding on XNOR layers (rows padded with copies): MVAU_0 PE 3
    emits 66 elements, MVAU_1 reads 64 at SIMD 2 (two beats dropped per vector)."""
    m = export_bnn_pynq("tfc_1w1a", tmp_path / "tfc.onnx", seed=3)
    fold = {"MVAU_0": {"PE": 3, "SIMD": 16}, "MVAU_1": {"PE": 7, "SIMD": 2},
            "MVAU_2": {"PE": 2, "SIMD": 8}, "MVAU_3": {"PE": 1, "SIMD": 4}}
    x = np.random.default_rng(1).random((4,) + input_shape("tfc_1w1a"), dtype=np.float32)
    top = _sim_equals_emulator(str(m), fold, tmp_path, x)
    assert "qloom_repad" in top


def test_search_takes_padding_where_it_saves_luts():
    """The jet at 1M FPS on the capped PYNQ-Z1: the default search picks a padded folding,
    within the budget, at fewer estimated LUTs than the best divisor-only folding."""
    from unittest import mock

    from qloom.boards import get_board
    from qloom.dse.search import search

    g = qloom.compile_model(JET)
    board = get_board(str(BOARD))
    fold, _, tot = search(g, board, 1e6, 100)
    assert any(op.padded(fold[op.name]) != op.mvau_dims for op in g.nodes)
    assert tot["DSP"] <= 16 and tot["BRAM18"] <= 13
    g2 = qloom.compile_model(JET)
    with mock.patch("qloom.ops.mvau.padded_lanes", lambda n: []):
        fold2, _, tot2 = search(g2, board, 1e6, 100)
    assert all(op.padded(fold2[op.name]) == op.mvau_dims for op in g2.nodes)
    assert tot["LUT"] < tot2["LUT"], (tot, tot2)
