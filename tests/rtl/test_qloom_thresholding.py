"""qloom_thresholding against numpy: count(x >= T[c]) + bias."""
import numpy as np
import pytest

from qloom.instance import memh_text
from qloom.ops.base import threshold_words
from qloom.ops.thresholding import cycles_qloom_thresholding, latency_qloom_thresholding
from qloom.sim.verilator import pack_beats, unpack_beats
from rtlutil import STALL_PATTERNS, assert_lint_clean, build_sim, synth_check, cycles_ok

MODS = ["qloom_thresholding", "qloom_fifo"]

CASES = {
    "s8_t9_c4p1": dict(CHANNELS=4, PE=1, IN_BITS=8, IN_SIGNED=1, T_BITS=9, NUM_THRESH=3, OUT_BITS=2),
    "u4_t3_c6p2_bias": dict(CHANNELS=6, PE=2, IN_BITS=4, IN_SIGNED=0, T_BITS=3, NUM_THRESH=7, OUT_BITS=4,
                            OUT_SIGNED=1, OUT_BIAS=-4),
    "s3_t8_c8p8": dict(CHANNELS=8, PE=8, IN_BITS=3, IN_SIGNED=1, T_BITS=8, NUM_THRESH=1, OUT_BITS=1),
    "u8_t10_c5p5_15": dict(CHANNELS=5, PE=5, IN_BITS=8, IN_SIGNED=0, T_BITS=10, NUM_THRESH=15, OUT_BITS=4,
                           RAM_STYLE="distributed"),
    "s16_c3_bias": dict(CHANNELS=3, PE=1, IN_BITS=16, IN_SIGNED=1, T_BITS=16, NUM_THRESH=2, OUT_BITS=2,
                        OUT_SIGNED=1, OUT_BIAS=-1),
}


def reference(p, X, T):
    cnt = (X[:, :, None] >= T[None, :, :]).sum(axis=2) + p.get("OUT_BIAS", 0)
    ob = p["OUT_BITS"]
    cnt &= (1 << ob) - 1
    if p.get("OUT_SIGNED", 0):
        cnt = np.where(cnt >= 1 << (ob - 1), cnt - (1 << ob), cnt)
    return cnt


@pytest.mark.sim
@pytest.mark.parametrize("case", list(CASES))
def test_thresholding(case):
    p = dict(CASES[case], THRESH_FILE="thresholds.mem")
    assert_lint_clean("qloom_thresholding", MODS, p)
    C, pe, ib, tb, nt = p["CHANNELS"], p["PE"], p["IN_BITS"], p["T_BITS"], p["NUM_THRESH"]
    sim = build_sim("qloom_thresholding", MODS, p, pe * ib, pe * p["OUT_BITS"])
    rng = np.random.default_rng(sum(map(ord, case)))
    lo, hi = (-(1 << (ib - 1)), 1 << (ib - 1)) if p["IN_SIGNED"] else (0, 1 << ib)
    npix = 40
    for gap, stall, seed in STALL_PATTERNS:
        X = rng.integers(lo, hi, size=(npix, C))
        T = np.sort(rng.integers(-(1 << (tb - 1)), 1 << (tb - 1), size=(C, nt)), axis=1)
        T[:, 0] = np.minimum(T[:, 0], X.min())  # make sure some compare equal / extremes occur
        T = np.clip(T, -(1 << (tb - 1)), (1 << (tb - 1)) - 1)
        files = {"thresholds.mem": memh_text(threshold_words(T, pe, tb), pe * nt * tb)}
        res = sim.run(pack_beats(X.reshape(-1), ib, pe), npix * C // pe, p_in_gap=gap, p_out_stall=stall,
                      seed=seed, files=files)
        got = unpack_beats(res.outputs, p["OUT_BITS"], pe, bool(p.get("OUT_SIGNED", 0))).reshape(npix, C)
        np.testing.assert_array_equal(got, reference(p, X, T), err_msg=f"{case} gap={gap} stall={stall}")
        if gap == stall == 0:
            f = cycles_qloom_thresholding(p, NUM_PIXELS=npix)
            assert cycles_ok("qloom_thresholding", res.cycles, f + latency_qloom_thresholding(p)), (res.cycles, f)


@pytest.mark.synth
def test_thresholding_synth():
    p = dict(CASES["u4_t3_c6p2_bias"], THRESH_FILE="thresholds.mem")
    T = np.sort(np.random.default_rng(0).integers(-4, 4, size=(6, 7)), axis=1)
    synth_check("qloom_thresholding", MODS, p,
                files={"thresholds.mem": memh_text(threshold_words(T, 2, 3), 2 * 7 * 3)})


BS_CASES = {
    # STAGES 1, 2, 3, 4, 6 (N = 1, 3, 7, 15, 63); padded (N + 1 not a power of two) included
    "bs_s8_n3_c4p1": dict(CHANNELS=4, PE=1, IN_BITS=8, IN_SIGNED=1, T_BITS=10, NUM_THRESH=3, OUT_BITS=2),
    "bs_u4_n6_c6p2_bias": dict(CHANNELS=6, PE=2, IN_BITS=4, IN_SIGNED=0, T_BITS=6, NUM_THRESH=6, OUT_BITS=4,
                               OUT_SIGNED=1, OUT_BIAS=-4),
    "bs_s3_n1_c8p8": dict(CHANNELS=8, PE=8, IN_BITS=3, IN_SIGNED=1, T_BITS=8, NUM_THRESH=1, OUT_BITS=1),
    "bs_u8_n15_c5p5_lut": dict(CHANNELS=5, PE=5, IN_BITS=8, IN_SIGNED=0, T_BITS=10, NUM_THRESH=15, OUT_BITS=4,
                               RAM_STYLE="distributed"),
    "bs_s12_n63_c8p2": dict(CHANNELS=8, PE=2, IN_BITS=12, IN_SIGNED=1, T_BITS=13, NUM_THRESH=63, OUT_BITS=6,
                            OUT_SIGNED=1, OUT_BIAS=-32),
}


@pytest.mark.sim
@pytest.mark.parametrize("case", list(BS_CASES))
def test_thresholding_bsearch(case):
    """THR_STYLE 1 (qloom_thr_bsearch) against numpy under back-pressure; cycles exact within
    the module's tolerance with the binary search's STAGES extra pipeline stages."""
    from qloom.ops.base import bsearch_files, bsearch_stages, bsearch_words

    S = bsearch_stages(BS_CASES[case]["NUM_THRESH"])
    p = dict(BS_CASES[case], THRESH_FILE="thr", THR_STYLE=1, CREDITS=5 + S)
    assert_lint_clean("qloom_thresholding", MODS + ["qloom_thr_bsearch"], p)
    C, pe, ib, tb, nt = p["CHANNELS"], p["PE"], p["IN_BITS"], p["T_BITS"], p["NUM_THRESH"]
    sim = build_sim("qloom_thresholding", MODS + ["qloom_thr_bsearch"], p, pe * ib, pe * p["OUT_BITS"])
    rng = np.random.default_rng(sum(map(ord, case)))
    lo, hi = (-(1 << (ib - 1)), 1 << (ib - 1)) if p["IN_SIGNED"] else (0, 1 << ib)
    npix = 40
    for gap, stall, seed in STALL_PATTERNS:
        X = rng.integers(lo, hi, size=(npix, C))
        # thresholds over the input range and beyond (never / always firing ones too)
        T = np.sort(rng.integers(lo - 2, hi + 2, size=(C, nt)), axis=1)
        T[:, 0] = np.minimum(T[:, 0], X.min())
        files = bsearch_files("thr", bsearch_words(T, pe, tb), pe, tb)
        res = sim.run(pack_beats(X.reshape(-1), ib, pe), npix * C // pe, p_in_gap=gap, p_out_stall=stall,
                      seed=seed, files=files)
        got = unpack_beats(res.outputs, p["OUT_BITS"], pe, bool(p.get("OUT_SIGNED", 0))).reshape(npix, C)
        np.testing.assert_array_equal(got, reference(p, X, T), err_msg=f"{case} gap={gap} stall={stall}")
        if gap == stall == 0:
            f = cycles_qloom_thresholding(p, NUM_PIXELS=npix)
            assert cycles_ok("qloom_thresholding", res.cycles, f + latency_qloom_thresholding(p)), (res.cycles, f)
