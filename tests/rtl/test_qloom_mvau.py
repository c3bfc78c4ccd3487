"""qloom_mvau against a numpy reference (W @ x, then threshold counting)."""
import zlib

import numpy as np
import pytest

from qloom.instance import memh_text
from qloom.ops.base import bsearch_files, bsearch_words, threshold_words
from qloom.ops.mvau import dsp_pack, cycles_qloom_mvau, latency_qloom_mvau, mvau_weight_words, xnor_popcount_thresholds
from qloom.sim.verilator import pack_beats, unpack_beats
from rtlutil import STALL_PATTERNS, assert_lint_clean, build_sim, synth_check, cycles_ok


def _range(bits, signed, bipolar):
    if bipolar:
        return -1, 1
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def _rand(rng, shape, bits, signed, bipolar):
    if bipolar:
        return rng.choice([-1, 1], size=shape)
    lo, hi = _range(bits, signed, bipolar)
    return rng.integers(lo, hi + 1, size=shape)


def _signed_bits(lo, hi):
    b = 1
    while not (-(1 << (b - 1)) <= lo and hi <= (1 << (b - 1)) - 1):
        b += 1
    return b


# name, params (ACC_BITS computed when None)
CASES = {
    "u4s4_p2s4": dict(MW=8, MH=6, PE=2, SIMD=4, IN_BITS=4, W_BITS=4, W_SIGNED=1),
    "s8s8_p4s3": dict(MW=12, MH=8, PE=4, SIMD=3, IN_BITS=8, IN_SIGNED=1, W_BITS=8, W_SIGNED=1),
    "u2u3_p1s1_thr": dict(MW=6, MH=4, PE=1, SIMD=1, IN_BITS=2, W_BITS=3, W_SIGNED=0,
                          NUM_THRESH=3, OUT_BITS=2),
    "s4s2_full_thr": dict(MW=16, MH=8, PE=8, SIMD=16, IN_BITS=4, IN_SIGNED=1, W_BITS=2, W_SIGNED=1,
                          NUM_THRESH=15, OUT_BITS=4, OUT_SIGNED=1, OUT_BIAS=-8),
    "xnor_raw": dict(MW=32, MH=16, PE=4, SIMD=8, IN_BITS=1, IN_BIPOLAR=1, W_BITS=1, W_BIPOLAR=1),
    "xnor_thr": dict(MW=24, MH=12, PE=3, SIMD=6, IN_BITS=1, IN_BIPOLAR=1, W_BITS=1, W_BIPOLAR=1,
                     NUM_THRESH=1, OUT_BITS=1),
    # XNOR lane groups of 3: SIMD 1 (one partial group), 4 (3 + 1, no tree split), 5 (3 + 2,
    # split on the tree output), 13 (5 groups, 3 levels), 64 (22 groups, 5 levels)
    "xnor_s1_raw": dict(MW=3, MH=4, PE=2, SIMD=1, IN_BITS=1, IN_BIPOLAR=1, W_BITS=1, W_BIPOLAR=1),
    "xnor_s4_thr": dict(MW=8, MH=4, PE=1, SIMD=4, IN_BITS=1, IN_BIPOLAR=1, W_BITS=1, W_BIPOLAR=1,
                        NUM_THRESH=1, OUT_BITS=1),
    "xnor_s5_raw": dict(MW=10, MH=4, PE=2, SIMD=5, IN_BITS=1, IN_BIPOLAR=1, W_BITS=1, W_BIPOLAR=1),
    "xnor_s13_thr": dict(MW=39, MH=6, PE=2, SIMD=13, IN_BITS=1, IN_BIPOLAR=1, W_BITS=1, W_BIPOLAR=1,
                         NUM_THRESH=2, OUT_BITS=2),
    "xnor_s64_raw": dict(MW=128, MH=4, PE=2, SIMD=64, IN_BITS=1, IN_BIPOLAR=1, W_BITS=1, W_BIPOLAR=1),
    "wbip_u3_thr": dict(MW=10, MH=6, PE=2, SIMD=5, IN_BITS=3, W_BITS=1, W_BIPOLAR=1,
                        NUM_THRESH=7, OUT_BITS=3),
    "xbip_s4": dict(MW=8, MH=4, PE=4, SIMD=1, IN_BITS=1, IN_BIPOLAR=1, W_BITS=4, W_SIGNED=1),
    "u1u1_thr": dict(MW=9, MH=3, PE=3, SIMD=3, IN_BITS=1, W_BITS=1, W_SIGNED=0,
                     NUM_THRESH=2, OUT_BITS=2, OUT_BIAS=1),
    "u8s5_bram_thr": dict(MW=20, MH=10, PE=5, SIMD=2, IN_BITS=8, W_BITS=5, W_SIGNED=1,
                          NUM_THRESH=3, OUT_BITS=3, OUT_SIGNED=1, OUT_BIAS=-1, RAM_STYLE="block"),
    "wide_s8s8_lutmul": dict(MW=16, MH=16, PE=8, SIMD=8, IN_BITS=8, IN_SIGNED=1, W_BITS=8, W_SIGNED=1,
                             MUL_STYLE=1),
    "w1signed_u2_opmul": dict(MW=6, MH=4, PE=2, SIMD=3, IN_BITS=2, W_BITS=1, W_SIGNED=1, MUL_STYLE=2),
    "s3bip_mh1": dict(MW=6, MH=1, PE=1, SIMD=2, IN_BITS=3, IN_SIGNED=1, W_BITS=1, W_BIPOLAR=1),
    "sf1_nf4_dist_thr": dict(MW=4, MH=8, PE=2, SIMD=4, IN_BITS=3, IN_SIGNED=1, W_BITS=2, W_SIGNED=0,
                             NUM_THRESH=3, OUT_BITS=2, RAM_STYLE="distributed"),
    "acc_narrower_than_product": dict(MW=2, MH=2, PE=1, SIMD=2, IN_BITS=8, IN_SIGNED=1, W_BITS=8, W_SIGNED=1),
    # the binary-search threshold unit (THR_STYLE 1, qloom_thr_bsearch): NF 1 with 15
    # thresholds (4 stages), NF 2 with 6 (padded to 7) in block RAM, SF 1 (one output
    # beat per cycle, the credits cover the longer pipeline), XNOR (popcount domain)
    "bs_s4s2_full_thr": dict(MW=16, MH=8, PE=8, SIMD=16, IN_BITS=4, IN_SIGNED=1, W_BITS=2, W_SIGNED=1,
                             NUM_THRESH=15, OUT_BITS=4, OUT_SIGNED=1, OUT_BIAS=-8, THR_STYLE=1),
    "bs_u8s5_bram_thr": dict(MW=20, MH=10, PE=5, SIMD=2, IN_BITS=8, W_BITS=5, W_SIGNED=1,
                             NUM_THRESH=6, OUT_BITS=3, OUT_SIGNED=1, OUT_BIAS=-1, THR_STYLE=1,
                             THR_RAM_STYLE="block"),
    "bs_sf1_nf4_thr": dict(MW=4, MH=8, PE=2, SIMD=4, IN_BITS=3, IN_SIGNED=1, W_BITS=2, W_SIGNED=0,
                           NUM_THRESH=7, OUT_BITS=3, THR_STYLE=1),
    # bit planes (MUL_STYLE 3, qloom_dot_bitplane): CNV-W2A2's u2 x s2 with 64 lanes (22
    # groups, the tree split), signed x signed, unsigned 3 x 2 bits with thresholds, 1-bit
    # unsigned input, SIMD 1 and 4 (no split), 4 x 4 signed bits (16 planes)
    "bp_u2s2_s64": dict(MW=128, MH=4, PE=2, SIMD=64, IN_BITS=2, W_BITS=2, W_SIGNED=1, MUL_STYLE=3),
    "bp_s2s3_s13_thr": dict(MW=26, MH=6, PE=3, SIMD=13, IN_BITS=2, IN_SIGNED=1, W_BITS=3, W_SIGNED=1,
                            NUM_THRESH=3, OUT_BITS=2, MUL_STYLE=3),
    "bp_u3u2_s4_thr": dict(MW=8, MH=4, PE=2, SIMD=4, IN_BITS=3, W_BITS=2, W_SIGNED=0,
                           NUM_THRESH=7, OUT_BITS=3, MUL_STYLE=3, THR_STYLE=1),
    "bp_u1s2_s1": dict(MW=3, MH=4, PE=4, SIMD=1, IN_BITS=1, W_BITS=2, W_SIGNED=1, MUL_STYLE=3),
    "bp_s4s4_s8": dict(MW=8, MH=2, PE=1, SIMD=8, IN_BITS=4, IN_SIGNED=1, W_BITS=4, W_SIGNED=1,
                                  MUL_STYLE=3),
    "bs_xnor_s13_thr": dict(MW=39, MH=6, PE=2, SIMD=13, IN_BITS=1, IN_BIPOLAR=1, W_BITS=1, W_BIPOLAR=1,
                            NUM_THRESH=2, OUT_BITS=2, THR_STYLE=1),
    # DSP packing (MUL_STYLE 4, qloom_mul_pack; PACK_K / PACK_S from dsp_pack): every
    # signedness combination, the jet MLP's widths (u6 x s6, u8 x s6), 3 and 4 fields of
    # low-bit products, a partial last group (PE 5 with K 2), thresholds (both units)
    "pk_u6s6_thr": dict(MW=8, MH=8, PE=4, SIMD=2, IN_BITS=6, W_BITS=6, W_SIGNED=1, MUL_STYLE=4,
                        NUM_THRESH=7, OUT_BITS=3, THR_STYLE=1),
    "pk_u8s6_raw": dict(MW=6, MH=4, PE=2, SIMD=3, IN_BITS=8, W_BITS=6, W_SIGNED=1, MUL_STYLE=4),
    "pk_s6s6_pe5": dict(MW=4, MH=10, PE=5, SIMD=2, IN_BITS=6, IN_SIGNED=1, W_BITS=6, W_SIGNED=1,
                        MUL_STYLE=4),
    "pk_s5u4_raw": dict(MW=6, MH=6, PE=3, SIMD=6, IN_BITS=5, IN_SIGNED=1, W_BITS=4, W_SIGNED=0,
                        MUL_STYLE=4),
    "pk_u6u6_raw": dict(MW=4, MH=4, PE=2, SIMD=1, IN_BITS=6, W_BITS=6, W_SIGNED=0, MUL_STYLE=4),
    "pk_u4s4_k3_thr": dict(MW=8, MH=6, PE=3, SIMD=4, IN_BITS=4, W_BITS=4, W_SIGNED=1, MUL_STYLE=4,
                           NUM_THRESH=5, OUT_BITS=3, OUT_BIAS=-2, OUT_SIGNED=1),
    "pk_s3s3_k4": dict(MW=6, MH=8, PE=4, SIMD=3, IN_BITS=3, IN_SIGNED=1, W_BITS=3, W_SIGNED=1,
                       MUL_STYLE=4),
}

DEFAULTS = dict(IN_SIGNED=0, IN_BIPOLAR=0, W_SIGNED=1, W_BIPOLAR=0, NUM_THRESH=0, OUT_BITS=4,
                OUT_SIGNED=0, OUT_BIAS=0, RAM_STYLE="auto")


def full_params(case):
    p = dict(DEFAULTS)
    p.update(CASES[case])
    xl, xh = _range(p["IN_BITS"], p["IN_SIGNED"], p["IN_BIPOLAR"])
    wl, wh = _range(p["W_BITS"], p["W_SIGNED"], p["W_BIPOLAR"])
    prods = [a * b for a in (xl, xh) for b in (wl, wh)]
    lo, hi = p["MW"] * min(prods), p["MW"] * max(prods)
    p["ACC_BITS"] = _signed_bits(lo - 1, hi + 1)  # thresholds may lie one beyond the range
    p["WEIGHT_FILE"] = "weights.mem"
    p["THRESH_FILE"] = "thr" if p.get("THR_STYLE") else "thresholds.mem"
    if p.get("MUL_STYLE") == 4:
        p["PACK_K"], p["PACK_S"] = dsp_pack(p["IN_BITS"], p["IN_SIGNED"], p["W_BITS"], p["W_SIGNED"], p["PE"])
    return p, (lo, hi)


def reference(p, W, X, T_acc):
    """Independent numpy model: y = W x, then count(y >= T) + bias wrapped to OUT_BITS."""
    Y = X @ W.T  # frames x MH
    if p["NUM_THRESH"] == 0:
        return Y
    cnt = (Y[:, :, None] >= T_acc[None, :, :]).sum(axis=2) + p["OUT_BIAS"]
    ob = p["OUT_BITS"]
    cnt = cnt & ((1 << ob) - 1)
    if p["OUT_SIGNED"]:
        cnt = np.where(cnt >= (1 << (ob - 1)), cnt - (1 << ob), cnt)
    return cnt


def make_data(p, acc_range, rng, frames):
    W = _rand(rng, (p["MH"], p["MW"]), p["W_BITS"], p["W_SIGNED"], p["W_BIPOLAR"])
    X = _rand(rng, (frames, p["MW"]), p["IN_BITS"], p["IN_SIGNED"], p["IN_BIPOLAR"])
    T = None
    if p["NUM_THRESH"]:
        lo, hi = acc_range
        # thresholds around the values that actually occur, plus the extremes
        Y = X @ W.T
        pool = np.concatenate([Y.reshape(-1), Y.reshape(-1) + 1, [lo - 1, hi + 1, lo, hi]])
        T = np.sort(rng.choice(pool, size=(p["MH"], p["NUM_THRESH"])), axis=1)
        T = np.clip(T, -(1 << (p["ACC_BITS"] - 1)), (1 << (p["ACC_BITS"] - 1)) - 1)
    return W, X, T


def files_for(p, W, T):
    xnor = p["IN_BIPOLAR"] and p["W_BIPOLAR"]
    wwidth = p["PE"] * p["SIMD"] * p["W_BITS"]
    files = {"weights.mem": memh_text(mvau_weight_words(W, p["PE"], p["SIMD"], p["W_BITS"],
                                                        bipolar=bool(p["W_BIPOLAR"])), wwidth)}
    if T is not None and p.get("THR_STYLE"):
        Th = xnor_popcount_thresholds(T, p["MW"]) if xnor else T
        tb = p["ACC_BITS"] + 1
        files.update(bsearch_files("thr", bsearch_words(Th, p["PE"], tb), p["PE"], tb))
    elif T is not None:
        Th = xnor_popcount_thresholds(T, p["MW"]) if xnor else T
        files["thresholds.mem"] = memh_text(threshold_words(Th, p["PE"], p["ACC_BITS"]),
                                            p["PE"] * p["NUM_THRESH"] * p["ACC_BITS"])
    else:
        files["thresholds.mem"] = "0\n"
    return files


def in_beats(p, X):
    Xe = (X > 0).astype(np.int64) if p["IN_BIPOLAR"] else X
    return pack_beats(Xe.reshape(-1), p["IN_BITS"], p["SIMD"])


def widths(p):
    ob = p["OUT_BITS"] if p["NUM_THRESH"] else p["ACC_BITS"]
    return p["SIMD"] * p["IN_BITS"], p["PE"] * ob, ob


def vparams(p):
    return {k: v for k, v in p.items()}


@pytest.mark.sim
@pytest.mark.parametrize("case", list(CASES))
def test_mvau(case):
    p, acc_range = full_params(case)
    mods = ["qloom_mvau", "qloom_fifo", "qloom_thr_bsearch"]
    assert_lint_clean("qloom_mvau", mods, vparams(p))
    iw, ow, ob = widths(p)
    sim = build_sim("qloom_mvau", mods, vparams(p), iw, ow)
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    frames = 4
    out_signed = bool(p["OUT_SIGNED"]) if p["NUM_THRESH"] else True
    for gap, stall, seed in STALL_PATTERNS:
        W, X, T = make_data(p, acc_range, rng, frames)  # fresh weights per run, same build
        ref = reference(p, W, X, T)
        n_out = frames * p["MH"] // p["PE"]
        res = sim.run(in_beats(p, X), n_out, p_in_gap=gap, p_out_stall=stall, seed=seed,
                      files=files_for(p, W, T))
        got = unpack_beats(res.outputs, ob, p["PE"], out_signed).reshape(frames, p["MH"])
        np.testing.assert_array_equal(got, ref, err_msg=f"{case} gap={gap} stall={stall}")
        if gap == stall == 0:
            nf = p["MH"] // p["PE"]
            ii = cycles_qloom_mvau(p)
            # steady state: distance between the last beats of consecutive frames
            lasts = [res.out_cycles[(f + 1) * nf - 1] for f in range(frames)]
            per_frame = (lasts[-1] - lasts[0]) / (frames - 1)
            assert cycles_ok("qloom_mvau", per_frame, ii), (per_frame, ii)
            assert cycles_ok("qloom_mvau", res.cycles, frames * ii + latency_qloom_mvau(p)), (res.cycles, frames * ii)
    # a single isolated frame: II + latency
    W, X, T = make_data(p, acc_range, rng, 1)
    res = sim.run(in_beats(p, X), p["MH"] // p["PE"], files=files_for(p, W, T))
    np.testing.assert_array_equal(
        unpack_beats(res.outputs, ob, p["PE"], out_signed).reshape(1, p["MH"]), reference(p, W, X, T))
    assert cycles_ok("qloom_mvau", res.cycles, cycles_qloom_mvau(p) + latency_qloom_mvau(p)), res.cycles


@pytest.mark.synth
def test_mvau_synth(capsys):
    import numpy as np

    p, acc_range = full_params("u2u3_p1s1_thr")
    p.update(MW=16, MH=8, PE=2, SIMD=4, IN_BITS=4, W_BITS=4, W_SIGNED=1, ACC_BITS=12,
             NUM_THRESH=3, OUT_BITS=2, RAM_STYLE="distributed")
    rng = np.random.default_rng(0)
    W = rng.integers(-8, 8, size=(p["MH"], p["MW"]))
    T = np.sort(rng.integers(-100, 100, size=(p["MH"], 3)), axis=1)
    files = files_for(p, W, T)
    r = synth_check("qloom_mvau", ["qloom_mvau", "qloom_fifo"], vparams(p), files=files)
    with capsys.disabled():
        print(f"\nqloom_mvau MW16 MH8 PE2 SIMD4 4b x 4b, 3 thresholds: LUT={r.luts} FF={r.ffs} "
              f"BRAM={r.brams} LUTRAM={r.lutrams} DSP={r.dsps} cells={r.cells}")
    assert r.luts > 0 and r.dsps == 0  # small products are LUT shift-add (MUL_STYLE auto)


@pytest.mark.synth
def test_bitplane_estimate_matches_yosys():
    """resType bitplane (MUL_STYLE 3): one qloom_mvau (PE 2, SIMD 24, u2 x s2 -- CNV-W2A2's
    types --, 3 thresholds) synthesized: the resource model (parts_qloom_mvau) within 15 %
    in LUT and 10 % in FF, no DSP, and fewer LUTs than the LUT products + adder tree of
    the same layer (MUL_STYLE 1, the resource model's price)."""
    from qloom.cost.parts import lut_of
    from qloom.ops.mvau import parts_qloom_mvau

    p, acc_range = full_params("u2u3_p1s1_thr")
    p.update(MW=72, MH=4, PE=2, SIMD=24, IN_BITS=2, W_BITS=2, W_SIGNED=1, NUM_THRESH=3,
             OUT_BITS=2, RAM_STYLE="block", MUL_STYLE=3)
    p["ACC_BITS"] = _signed_bits(72 * -6 - 1, 72 * 3 + 1)
    rng = np.random.default_rng(0)
    W, _, T = make_data(p, (72 * -6, 72 * 3), rng, 2)
    files = files_for(p, W, T)
    r = synth_check("qloom_mvau", ["qloom_mvau", "qloom_fifo"], vparams(p), files=files)
    P = parts_qloom_mvau(**vparams(p), files=files)
    est = lut_of(P, "xc7")
    assert r.dsps == 0
    assert abs(est - r.luts) <= 0.15 * r.luts, (est, r.luts)
    assert abs(P.ff - r.ffs) <= 0.10 * r.ffs, (P.ff, r.ffs)
    assert r.luts < lut_of(parts_qloom_mvau(**dict(vparams(p), MUL_STYLE=1), files=files), "xc7")
