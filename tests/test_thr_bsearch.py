"""The binary-search threshold unit (issue 15 item 2): its memory layout walked in Python
against the parallel definition, the operators' instances simulated against their numpy
semantics, its knobs, and the search choosing it by cost."""
from __future__ import annotations

import re

import numpy as np
import pytest

from qloom.ops import MVAU, Thresholding
from qloom.ops.base import (BSEARCH_BRAM_MIN_DEPTH, apply_thresholds, bsearch_stages, bsearch_words,
                            threshold_knobs)
from qloom.types import IntType


def _sx(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def _walk(stages, x, row, PE, TB, S):
    """The binary search as qloom_thr_bsearch.v's header describes it, on the words."""
    nf, p = divmod(row, PE)
    cnt = 0
    for k in range(S):
        if k == 0:
            t = _sx(stages[0][nf] >> (p * TB), TB)
        else:
            q, j = cnt >> 1, cnt & 1
            t = _sx(stages[k][(nf << (k - 1)) + q] >> ((2 * p + j) * TB), TB)
        cnt = (cnt << 1) | int(x >= t)
    return cnt


@pytest.mark.parametrize("nt", [1, 2, 3, 4, 7, 8, 15, 31, 63])
def test_bsearch_words_walk_counts_like_the_parallel_bank(nt):
    rng = np.random.default_rng(nt)
    TB, PE, rows = 9, 3, 6
    T = np.sort(rng.integers(-256, 250, size=(rows, nt)), axis=1)
    stages = bsearch_words(T, PE, TB)
    S = bsearch_stages(nt)
    assert len(stages) == S and (1 << S) - 1 >= nt > (1 << (S - 1)) - 1
    assert [len(w) for w in stages] == [rows // PE << max(0, k - 1) for k in range(S)]
    xs = np.arange(-256, 255)  # every input below the pad 255
    want = apply_thresholds(np.tile(xs[:, None], (1, rows)), T, 0, IntType(8, False))
    for r in range(rows):
        got = [_walk(stages, int(x), r, PE, TB, S) for x in xs]
        np.testing.assert_array_equal(got, want[:, r], err_msg=f"row {r}")


def test_bsearch_words_reject_bad_layouts():
    with pytest.raises(ValueError):
        bsearch_words(np.array([[3, 1]]), 1, 8)  # not ascending
    with pytest.raises(ValueError):
        bsearch_words(np.array([[0, 200]]), 1, 8)  # above the pad's range
    with pytest.raises(ValueError):
        bsearch_words(np.zeros((3, 2), int), 2, 8)  # rows % PE


def test_bram_min_depth_matches_the_verilog_default():
    from qloom.rtl.generate import library_sources

    src = next(f for f in library_sources(["qloom_thr_bsearch"]) if f.name == "qloom_thr_bsearch.v").read_text()
    assert int(re.search(r"BRAM_MIN_DEPTH = (\d+)", src).group(1)) == BSEARCH_BRAM_MIN_DEPTH


def test_knobs_searched_from_four_thresholds():
    assert threshold_knobs(3)["thr_style"].searched == ()
    assert threshold_knobs(4)["thr_style"].searched == ("parallel", "binsearch")
    op = _thr_op(15)
    assert op.illegal({"thr_style": "parallel", "thr_mem": "bram"})
    assert op.illegal({"thr_style": "binsearch", "thr_mem": "bram"}) is None
    # one channel group: constant thresholds, the parallel bank only (Yosys: 1,658 against
    # 3,083 LUT for 16 channels x 63 thresholds, benchmarks/results/thr_units.md)
    assert op.illegal({"PE": 6, "thr_style": "binsearch"})
    assert op.illegal({"PE": 3, "thr_style": "binsearch"}) is None


def _thr_op(nt, C=6, ib=7, seed=0):
    rng = np.random.default_rng(seed)
    it = IntType(ib, True)
    T = np.sort(rng.integers(it.min - 2, it.max + 3, size=(C, nt)), axis=1)
    ot = IntType(bsearch_stages(nt) + 1, True)
    return Thresholding("thr", (3, C), (3, C), it, ot, thresholds=T, out_bias=-(nt // 2))


def _simulate(op, fold, x):
    from qloom.rtl.generate import library_sources
    from qloom.sim.verilator import AxisSim, pack_beats, unpack_beats

    inst = op.rtl(fold)
    ein, eout = op.in_elems(fold), op.out_elems(fold)
    sim = AxisSim(inst.module, [str(f) for f in library_sources([inst.module])], inst.params,
                  in_width=ein * inst.in_bits, out_width=eout * inst.out_bits)
    n_out = x.size // op.in_shape[-1] * op.out_shape[-1] // eout
    res = sim.run(pack_beats(x.reshape(-1), inst.in_bits, ein), n_out, p_in_gap=0.3, p_out_stall=0.4,
                  seed=7, files=inst.files)
    return unpack_beats(res.outputs, inst.out_bits, eout, inst.out_signed).reshape((-1,) + op.out_shape)


@pytest.mark.sim
@pytest.mark.parametrize("mem", ["lut", "bram"])
def test_thresholding_op_binsearch_rtl_equals_execute(mem):
    op = _thr_op(11)
    x = np.random.default_rng(1).integers(op.in_type.min, op.in_type.max + 1, size=(4,) + op.in_shape)
    got = _simulate(op, {"PE": 2, "thr_style": "binsearch", "thr_mem": mem}, x)
    np.testing.assert_array_equal(got, op.execute(x))


@pytest.mark.sim
def test_mvau_op_binsearch_rtl_equals_execute():
    rng = np.random.default_rng(3)
    it, wt, ot = IntType(4, False), IntType(3, True), IntType(3, True)
    W = rng.integers(-4, 4, size=(8, 12))
    acc = IntType.for_range(-4 * 15 * 12, 3 * 15 * 12)
    T = np.sort(rng.integers(-150, 150, size=(8, 7)), axis=1)
    op = MVAU("fc", (12,), (8,), it, ot, weights=W, weight_type=wt, acc_type=acc, thresholds=T, out_bias=-4)
    x = rng.integers(0, 16, size=(5, 12))
    got = _simulate(op, {"PE": 2, "SIMD": 3, "thr_style": "binsearch"}, x)
    np.testing.assert_array_equal(got, op.execute(x))


def test_search_picks_the_binary_search_where_it_is_cheaper():
    """The jet MLP at 1M FPS on PYNQ-Z1: the 63-threshold layers take the binary search
    (measured by Yosys, benchmarks/results/thr_units.md: 4,523 LUT for a 64-channel parallel
    bank against 365 LUT + 4 BRAM18) or, cheaper still where exact, the requantizer
    (thr_style requant, tests/test_thr_requant.py), never the parallel bank; the
    threshold-free last layer has no such knob, and every picked configuration is cheaper
    than its layer's parallel-bank options at its cycles."""
    import qloom
    from qloom.boards import get_board
    from qloom.dse.search import Space, board_cost, search
    from qloom.zoo import ZOO

    g = qloom.compile_model(str(ZOO["jet_w6a6"].shipped))
    board = get_board("pynq-z1")
    fold, pick, _ = search(g, board, 1e6, 100)
    thr = [op.name for op in g.nodes if getattr(op, "thresholds", None) is not None]
    assert thr and all(fold[n].get("thr_style") in ("binsearch", "requant") for n in thr)
    assert all("thr_style" not in fold[op.name] for op in g.nodes if op.name not in thr)
    space = Space(g, board_cost(board), board)
    for n in thr:
        same = [o for o in space.all[n] if o.cycles == pick[n].cycles
                and o.cfg.get("thr_style", "parallel") == "parallel"]
        assert same and min(o.cost for o in same) > pick[n].cost
