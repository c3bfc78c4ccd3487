"""qloom_vvau against an independent numpy reference: per pixel and channel
acc[c] = sum_k W[c, k] * x[k, c] over the window (the SWG's (k, c) order), then threshold
counting; under random back-pressure, and its cycles against cycles_/latency_qloom_vvau."""
import zlib

import numpy as np
import pytest

from qloom.instance import memh_text
from qloom.ops.base import threshold_words
from qloom.ops.vvau import (cycles_qloom_vvau, latency_qloom_vvau, pipeline_depth, vvau_credits,
                            vvau_weight_words)
from qloom.sim.verilator import pack_beats, unpack_beats
from rtlutil import STALL_PATTERNS, assert_lint_clean, build_sim, cycles_ok, synth_check

MODS = ["qloom_vvau", "qloom_fifo"]


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


# name -> params (ACC_BITS and CREDITS computed)
CASES = {
    "u4s4_c8k9_pe2": dict(CHANNELS=8, K=9, PE=2, SIMD=1, IN_BITS=4, W_BITS=4, W_SIGNED=1,
                          NUM_THRESH=3, OUT_BITS=2),
    "u3s4_c6k9_pe6_simd3_raw": dict(CHANNELS=6, K=9, PE=6, SIMD=3, IN_BITS=3, W_BITS=4, W_SIGNED=1),
    "s4s2_c4k4_pe1_thr15": dict(CHANNELS=4, K=4, PE=1, SIMD=1, IN_BITS=4, IN_SIGNED=1, W_BITS=2,
                                W_SIGNED=1, NUM_THRESH=15, OUT_BITS=4, OUT_SIGNED=1, OUT_BIAS=-8),
    "full_c4k9_pe4_simd9": dict(CHANNELS=4, K=9, PE=4, SIMD=9, IN_BITS=2, W_BITS=3, W_SIGNED=1,
                                NUM_THRESH=1, OUT_BITS=1),
    "k1_c6_pe3": dict(CHANNELS=6, K=1, PE=3, SIMD=1, IN_BITS=4, W_BITS=4, W_SIGNED=0,
                      NUM_THRESH=2, OUT_BITS=2, OUT_BIAS=1),
    "u8s8_dsp_c4k4_pe2": dict(CHANNELS=4, K=4, PE=2, SIMD=1, IN_BITS=8, W_BITS=8, W_SIGNED=1,
                              MUL_STYLE=2, RAM_STYLE="block"),
    "wbip_u3_c6k9_pe2": dict(CHANNELS=6, K=9, PE=2, SIMD=1, IN_BITS=3, W_BITS=1, W_BIPOLAR=1,
                             NUM_THRESH=3, OUT_BITS=2),
    "xnor_c4k4_pe4_simd2": dict(CHANNELS=4, K=4, PE=4, SIMD=2, IN_BITS=1, IN_BIPOLAR=1, W_BITS=1,
                                W_BIPOLAR=1, NUM_THRESH=1, OUT_BITS=1),
    "xbip_s3_c3k9_pe1_dist": dict(CHANNELS=3, K=9, PE=1, SIMD=1, IN_BITS=1, IN_BIPOLAR=1, W_BITS=3,
                                  W_SIGNED=1, RAM_STYLE="distributed"),
    "nf33_c33k4_pe1": dict(CHANNELS=33, K=4, PE=1, SIMD=1, IN_BITS=2, W_BITS=2, W_SIGNED=1,
                           NUM_THRESH=1, OUT_BITS=1),
}

DEFAULTS = dict(IN_SIGNED=0, IN_BIPOLAR=0, W_SIGNED=1, W_BIPOLAR=0, NUM_THRESH=0, OUT_BITS=4,
                OUT_SIGNED=0, OUT_BIAS=0, RAM_STYLE="auto", MUL_STYLE=0)


def full_params(case):
    p = dict(DEFAULTS)
    p.update(CASES[case])
    xl, xh = _range(p["IN_BITS"], p["IN_SIGNED"], p["IN_BIPOLAR"])
    wl, wh = _range(p["W_BITS"], p["W_SIGNED"], p["W_BIPOLAR"])
    prods = [a * b for a in (xl, xh) for b in (wl, wh)]
    lo, hi = p["K"] * min(prods), p["K"] * max(prods)
    p["ACC_BITS"] = _signed_bits(lo - 1, hi + 1)  # thresholds may lie one beyond the range
    p["WEIGHT_FILE"] = "weights.mem"
    p["THRESH_FILE"] = "thresholds.mem"
    nf, kf = p["CHANNELS"] // p["PE"], p["K"] // p["SIMD"]
    p["CREDITS"] = vvau_credits(nf, kf, pipeline_depth(p["NUM_THRESH"]))
    return p, (lo, hi)


def reference(p, W, X, T):
    """X (pixels, K, C), W (C, K): explicit loops over the window, then thresholds."""
    n, K, C = X.shape
    Y = np.zeros((n, C), dtype=np.int64)
    for i in range(n):
        for c in range(C):
            Y[i, c] = sum(int(W[c, k]) * int(X[i, k, c]) for k in range(K))
    if p["NUM_THRESH"] == 0:
        return Y
    cnt = (Y[:, :, None] >= T[None, :, :]).sum(axis=2) + p["OUT_BIAS"]
    ob = p["OUT_BITS"]
    cnt = cnt & ((1 << ob) - 1)
    if p["OUT_SIGNED"]:
        cnt = np.where(cnt >= (1 << (ob - 1)), cnt - (1 << ob), cnt)
    return cnt


def make_data(p, acc_range, rng, pixels):
    C, K = p["CHANNELS"], p["K"]
    W = _rand(rng, (C, K), p["W_BITS"], p["W_SIGNED"], p["W_BIPOLAR"])
    X = _rand(rng, (pixels, K, C), p["IN_BITS"], p["IN_SIGNED"], p["IN_BIPOLAR"])
    T = None
    if p["NUM_THRESH"]:
        lo, hi = acc_range
        Y = np.einsum("nkc,ck->nc", X, W)
        pool = np.concatenate([Y.reshape(-1), Y.reshape(-1) + 1, [lo - 1, hi + 1, lo, hi]])
        T = np.sort(rng.choice(pool, size=(C, p["NUM_THRESH"])), axis=1)
        T = np.clip(T, -(1 << (p["ACC_BITS"] - 1)), (1 << (p["ACC_BITS"] - 1)) - 1)
    return W, X, T


def files_for(p, W, T):
    ww = p["PE"] * p["SIMD"] * p["W_BITS"]
    files = {"weights.mem": memh_text(vvau_weight_words(W, p["PE"], p["SIMD"], p["W_BITS"],
                                                        bipolar=bool(p["W_BIPOLAR"])), ww)}
    if T is not None:
        files["thresholds.mem"] = memh_text(threshold_words(T, p["PE"], p["ACC_BITS"]),
                                            p["PE"] * p["NUM_THRESH"] * p["ACC_BITS"])
    else:
        files["thresholds.mem"] = "0\n"
    return files


def in_beats(p, X):
    """The window stream as the SWG emits it: (k, c) order, c innermost."""
    Xe = (X > 0).astype(np.int64) if p["IN_BIPOLAR"] else X
    return pack_beats(Xe.reshape(-1), p["IN_BITS"], p["PE"] * p["SIMD"])


def out_fmt(p):
    ob = p["OUT_BITS"] if p["NUM_THRESH"] else p["ACC_BITS"]
    signed = bool(p["OUT_SIGNED"]) if p["NUM_THRESH"] else True
    return ob, signed


@pytest.mark.sim
@pytest.mark.parametrize("case", list(CASES))
def test_vvau(case):
    p, acc_range = full_params(case)
    assert_lint_clean("qloom_vvau", MODS, p)
    ob, signed = out_fmt(p)
    sim = build_sim("qloom_vvau", MODS, p, p["PE"] * p["SIMD"] * p["IN_BITS"], p["PE"] * ob)
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    pixels = 6
    nf = p["CHANNELS"] // p["PE"]
    for gap, stall, seed in STALL_PATTERNS:
        W, X, T = make_data(p, acc_range, rng, pixels)  # fresh weights per run, same build
        ref = reference(p, W, X, T)
        res = sim.run(in_beats(p, X), pixels * nf, p_in_gap=gap, p_out_stall=stall, seed=seed,
                      files=files_for(p, W, T))
        got = unpack_beats(res.outputs, ob, p["PE"], signed).reshape(pixels, p["CHANNELS"])
        np.testing.assert_array_equal(got, ref, err_msg=f"{case} gap={gap} stall={stall}")
        if gap == stall == 0:
            ii = cycles_qloom_vvau(p)
            lasts = [res.out_cycles[(f + 1) * nf - 1] for f in range(pixels)]
            per_pixel = (lasts[-1] - lasts[0]) / (pixels - 1)
            assert cycles_ok("qloom_vvau", per_pixel, ii), (per_pixel, ii)
            total = cycles_qloom_vvau(p, NUM_PIXELS=pixels) + latency_qloom_vvau(p)
            assert cycles_ok("qloom_vvau", res.cycles, total), (res.cycles, total)
    # a single isolated pixel: II + latency
    W, X, T = make_data(p, acc_range, rng, 1)
    res = sim.run(in_beats(p, X), nf, files=files_for(p, W, T))
    np.testing.assert_array_equal(
        unpack_beats(res.outputs, ob, p["PE"], signed).reshape(1, -1), reference(p, W, X, T))
    assert cycles_ok("qloom_vvau", res.cycles, cycles_qloom_vvau(p) + latency_qloom_vvau(p)), res.cycles


@pytest.mark.synth
def test_vvau_synth(capsys):
    """Synthesizes without latches, and the resource model (qloom.ops.vvau.parts_qloom_vvau)
    is near Yosys: flip-flops counted register by register within 5 %, LUTs (fitted
    features; this small instance is the sweep's worst kind) within 30 %."""
    from qloom.ops import estimate_module

    p, acc_range = full_params("u4s4_c8k9_pe2")
    rng = np.random.default_rng(0)
    W, X, T = make_data(p, acc_range, rng, 4)
    files = files_for(p, W, T)
    r = synth_check("qloom_vvau", MODS, p, files=files)
    est = estimate_module("qloom_vvau", p, "xc7", files)
    with capsys.disabled():
        print(f"\nqloom_vvau C8 K9 PE2 4b x 4b, 3 thresholds: Yosys LUT={r.luts} FF={r.ffs} "
              f"BRAM={r.brams} DSP={r.dsps}; model {est}")
    assert r.luts > 0 and r.dsps == 0 == est["DSP"] and r.brams == est["BRAM18"]
    assert abs(est["FF"] - r.ffs) <= 0.05 * r.ffs, (est, r.ffs)
    assert abs(est["LUT"] - r.luts) <= 0.30 * r.luts, (est, r.luts)
