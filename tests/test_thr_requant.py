"""thr_style "requant" of the generic MVAU (issue 15): a per-channel requantizer
clip((acc*M + B) >> S) (qloom_thr_requant, one DSP multiply per PE) in place of the
threshold unit where it is exact. The requantizer against the threshold count on every
reachable accumulator value, its memory words decoded as the Verilog header describes,
the knobs (only where exact), the MVAU instance in Verilator against numpy under
back-pressure with its cycle model, and its resource model against Yosys."""
from __future__ import annotations

import numpy as np
import pytest

from qloom.ops import MVAU
from qloom.ops.base import bsearch_stages
from qloom.ops.mvau import RQ_MAX_MB, requant_params, requant_words
from qloom.types import IntType


def _uniform_thresholds(rng, mh, nt, lo, hi):
    """Thresholds of a uniform quantizer after a real affine map of the accumulator (the
    usual case after batch norm + a uniform activation): T[c][k] = ceil((k + 0.5 - b_c) / s_c),
    the nt levels spread over a random part of [lo, hi]."""
    span = rng.uniform(0.2, 0.9, size=mh) * (hi - lo)
    s = nt / span
    start = lo + rng.uniform(0.0, 1.0, size=mh) * ((hi - lo) - span)
    b = -start * s
    k = np.arange(nt)[None, :]
    return np.ceil((k + 0.5 - b[:, None]) / s[:, None]).astype(np.int64)


def _count(acc, T):
    """The threshold count #{k: acc >= T[c][k]} in numpy (acc: (N, MH))."""
    return (acc[:, :, None] >= T[None, :, :]).sum(axis=2)


@pytest.mark.parametrize("nt", [1, 3, 15, 63])
def test_requant_params_equal_the_threshold_count_on_the_whole_range(nt):
    rng = np.random.default_rng(nt)
    mh, lo, hi = 6, -3000, 5000
    T = _uniform_thresholds(rng, mh, nt, lo, hi)
    rq = requant_params(T, [lo] * mh, [hi] * mh)
    assert rq is not None and rq.mb <= RQ_MAX_MB
    a = np.arange(lo, hi + 1, dtype=np.int64)[:, None]
    got = np.clip((a * rq.M[None, :] + rq.B[None, :]) >> rq.shift, rq.cmin, rq.cmax)
    np.testing.assert_array_equal(got, _count(a.repeat(mh, axis=1), T))


def test_requant_params_reject_thresholds_no_requantizer_reproduces():
    # spacings 1, 50, 1, 50 ...: no line floor((a M + B) / 2^S) steps like that
    T = np.cumsum(np.tile([1, 50], 8))[None, :] - 300
    assert requant_params(T, [-400], [400]) is None


def test_requant_words_decode_as_the_verilog_header_says():
    rng = np.random.default_rng(5)
    mh, pe, nt = 8, 2, 15
    T = _uniform_thresholds(rng, mh, nt, -500, 700)
    rq = requant_params(T, [-500] * mh, [700] * mh)
    cb = bsearch_stages(nt)
    words = requant_words(rq, pe, cb)
    rw = rq.mb + rq.bb + 2 * cb
    assert len(words) == mh // pe
    for c in range(mh):
        lane = (words[c // pe] >> ((c % pe) * rw)) & ((1 << rw) - 1)
        m = lane & ((1 << rq.mb) - 1)
        b = (lane >> rq.mb) & ((1 << rq.bb) - 1)
        b -= (b >> (rq.bb - 1)) << rq.bb
        cmin = (lane >> (rq.mb + rq.bb)) & ((1 << cb) - 1)
        cmax = lane >> (rq.mb + rq.bb + cb)
        a = np.arange(-500, 701)
        np.testing.assert_array_equal(np.clip((a * m + b) >> rq.shift, cmin, cmax),
                                      _count(a[:, None], T[c:c + 1])[:, 0], err_msg=f"channel {c}")
    with pytest.raises(ValueError):
        requant_words(rq, 3, cb)  # 8 channels, PE 3


def _mvau(rng, it, wt, mh, mw, nt, out_bias=0, uniform=True):
    W = rng.integers(wt.min, wt.max + 1, size=(mh, mw))
    lo = int(np.minimum(W * it.min, W * it.max).sum(axis=1).min())
    hi = int(np.maximum(W * it.min, W * it.max).sum(axis=1).max())
    acc = IntType.for_range(lo, hi)
    # levels over the middle of the range, where W x lands for random x
    mid, half = (lo + hi) // 2, max(8, (hi - lo) // 6)
    T = (_uniform_thresholds(rng, mh, nt, mid - half, mid + half) if uniform
         else np.sort(rng.integers(mid - half, mid + half, size=(mh, nt)), axis=1))
    ot = IntType(bsearch_stages(nt) + (1 if out_bias < 0 else 0), out_bias < 0)
    return MVAU("fc", (mw,), (mh,), it, ot, weights=W, weight_type=wt, acc_type=acc, thresholds=T,
                out_bias=out_bias)


def test_knob_searched_only_where_exact():
    rng = np.random.default_rng(2)
    ok = _mvau(rng, IntType(6, False), IntType(6, True), 8, 16, 63)
    assert ok.requant_ok is None
    assert "requant" in ok.own_knobs()["thr_style"].searched
    assert ok.illegal({"PE": 2, "SIMD": 4, "thr_style": "requant"}) is None
    assert ok.illegal({"PE": 2, "SIMD": 4, "thr_style": "requant", "thr_mem": "bram"})
    bad = _mvau(rng, IntType(6, False), IntType(6, True), 8, 16, 15, uniform=False)
    assert bad.requant_ok is not None
    assert "requant" not in bad.own_knobs()["thr_style"].searched
    assert bad.illegal({"PE": 2, "SIMD": 4, "thr_style": "requant"}) == bad.requant_ok
    assert bad.requant_ok.startswith("thr_style requant needs thresholds that an integer requantizer")


def _simulate(op, fold, x, gap, stall):
    from qloom.rtl.generate import library_sources
    from qloom.sim.verilator import AxisSim, pack_beats, unpack_beats

    inst = op.rtl(fold)
    ein, eout = op.in_elems(fold), op.out_elems(fold)
    sim = AxisSim(inst.module, [str(f) for f in library_sources([inst.module])], inst.params,
                  in_width=ein * inst.in_bits, out_width=eout * inst.out_bits)
    n_out = len(x) * op.mh // eout
    res = sim.run(pack_beats(x.reshape(-1), inst.in_bits, ein), n_out, p_in_gap=gap, p_out_stall=stall,
                  seed=7, files=inst.files)
    return unpack_beats(res.outputs, inst.out_bits, eout, inst.out_signed).reshape(len(x), op.mh), res, inst


# the jet MLP's widths (u6 x s6, 63 levels; u8 input x s6), NF 1 (PE = MH: constant
# parameters), SF 1 (one output beat per cycle: the credits cover the longer pipeline)
SIM_CASES = {
    "u6s6_t63": (IntType(6, False), IntType(6, True), 8, 16, 63, 0, {"PE": 2, "SIMD": 4}),
    "s8s6_t15_bias": (IntType(8, True), IntType(6, True), 6, 12, 15, -8, {"PE": 3, "SIMD": 6}),
    "u4s3_nf1": (IntType(4, False), IntType(3, True), 4, 8, 7, 0, {"PE": 4, "SIMD": 2}),
    "u6s6_sf1": (IntType(6, False), IntType(6, True), 8, 4, 31, 0, {"PE": 2, "SIMD": 4}),
}


@pytest.mark.sim
@pytest.mark.parametrize("case", list(SIM_CASES))
def test_mvau_requant_rtl_equals_numpy_and_cycle_model(case):
    from qloom.ops.mvau import cycles_qloom_mvau, latency_qloom_mvau

    it, wt, mh, mw, nt, bias, fold = SIM_CASES[case]
    rng = np.random.default_rng(len(case))
    op = _mvau(rng, it, wt, mh, mw, nt, bias)
    fold = dict(fold, thr_style="requant")
    assert op.illegal(fold) is None
    frames = 6
    x = rng.integers(it.min, it.max + 1, size=(frames, mw))
    # independent reference: numpy product, threshold count, bias wrapped to the output type
    want = _count(x @ op.weights.T, op.thresholds) + bias
    assert len(np.unique(want)) > 3  # the levels are exercised
    from qloom.rtl.generate import library_sources
    from qloom.sim.verilator import lint

    inst = op.rtl(fold)
    assert lint(inst.module, [str(f) for f in library_sources([inst.module])], inst.params) == ""
    for gap, stall in ((0.0, 0.0), (0.4, 0.5)):
        got, res, inst = _simulate(op, fold, x, gap, stall)
        np.testing.assert_array_equal(got, want, err_msg=f"gap {gap} stall {stall}")
        np.testing.assert_array_equal(got, op.execute(x))
        if gap == stall == 0:
            p = inst.params
            assert p["THR_STYLE"] == 2
            ii = cycles_qloom_mvau(p)
            assert abs(res.cycles - (frames * ii + latency_qloom_mvau(p))) <= 1, (res.cycles, frames * ii)


@pytest.mark.synth
def test_requant_unit_estimate_matches_yosys():
    """qloom_thr_requant of the jet MLP's MVAU_1 widths alone (PE 2, NF 16): LUT within 15 %,
    DSP exact (one per lane)."""
    from qloom.cost.parts import Parts, coefficients, lut_of
    from qloom.ops.mvau import parts_requant
    from qloom.rtl.generate import library_sources
    from qloom.synth import count_cells, synth_xilinx

    rng = np.random.default_rng(11)
    op = _mvau(rng, IntType(6, False), IntType(6, True), 32, 64, 63)
    rq = op._requant()
    cb = bsearch_stages(63)
    pe = 2
    text = "\n".join(f"{w:x}" for w in requant_words(rq, pe, cb)) + "\n"
    params = dict(PE=pe, NF=32 // pe, XW=op.acc_type.bits, MB=rq.mb, BB=rq.bb, CB=cb, SHIFT=rq.shift,
                  PARAM_FILE="rq.mem")
    r = synth_xilinx("qloom_thr_requant", [str(f) for f in library_sources(["qloom_thr_requant"])],
                     params, files={"rq.mem": text})
    got = count_cells(r.cells, "xc7")
    P = Parts("t")
    words = [int(w, 16) for w in text.split()]
    parts_requant(P, "xc7", pe, 32 // pe, op.acc_type.bits, rq.mb, rq.bb, cb, rq.shift, words)
    assert coefficients("xc7")["qloom_thr_requant"]
    assert got["DSP"] == P.dsp == pe
    est = lut_of(P, "xc7")
    assert abs(est - got["LUT"]) <= 0.15 * got["LUT"], (est, got)


def test_search_takes_the_requantizer_for_the_jet_mlp():
    """The jet MLP at 1M FPS on the capped PYNQ-Z1 (13 BRAM18, 16 DSP; issue 15's target):
    every 63-level layer takes the requantizer (its thresholds are uniform), within the
    board's budget, and the same datapath with the binary search (either memory) costs
    more LUTs than each pick."""
    from pathlib import Path

    import qloom
    from qloom.boards import get_board
    from qloom.dse.search import search
    from qloom.zoo import ZOO

    g = qloom.compile_model(str(ZOO["jet_w6a6"].shipped))
    board = get_board(str(Path(__file__).parents[1] / "benchmarks" / "boards" / "pynq-z1-jet15.json"))
    fold, _, totals = search(g, board, 1e6, 100, objective="LUT")
    thr = [op for op in g.nodes if getattr(op, "thresholds", None) is not None]
    assert thr and all(fold[op.name].get("thr_style") == "requant" for op in thr)
    assert totals["DSP"] <= 16 and totals["BRAM18"] <= 13
    for op in thr:
        lut = op.resources(fold[op.name])["LUT"]
        for mem in ("lut", "bram"):
            alt = dict(fold[op.name], thr_style="binsearch", thr_mem=mem)
            assert op.resources(alt)["LUT"] > lut, (op.name, mem)
