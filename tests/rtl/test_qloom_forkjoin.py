"""qloom_duplicatestreams, qloom_addstreams and qloom_concatstreams alone against numpy:
random data, random gaps on every input stream and random back-pressure on every output
(tests/rtl/tb_axis_n.cpp.in through rtlutil.MultiAxisSim); without stalls the measured
cycles equal the op's cycle model + latency, and the outputs come at one beat per cycle
(measured II == model)."""
import numpy as np
import pytest

from qloom.ops.addstreams import cycles_qloom_addstreams, latency_qloom_addstreams
from qloom.ops.concatstreams import cycles_qloom_concatstreams, latency_qloom_concatstreams
from qloom.ops.duplicatestreams import cycles_qloom_duplicatestreams, latency_qloom_duplicatestreams
from qloom.sim.verilator import pack_beats, unpack_beats
from rtlutil import STALL_PATTERNS, MultiAxisSim, assert_lint_clean, cycles_ok, sources

NPIX = 24


def _rand(rng, n, bits, signed):
    lo, hi = (-(1 << (bits - 1)), 1 << (bits - 1)) if signed else (0, 1 << bits)
    return rng.integers(lo, hi, size=n)


def _wrap(v, bits, signed):
    v = np.asarray(v, np.int64) & ((1 << bits) - 1)
    return np.where(v >= 1 << (bits - 1), v - (1 << bits), v) if signed else v


def _sim(top, p, in_w, out_w):
    assert_lint_clean(top, [top], p)
    return MultiAxisSim(top, sources(top), p, in_w, out_w)


def _check_timing(top, res, formula, latency):
    """Full rate: the last output beat at model cycles + latency, one beat per cycle."""
    assert cycles_ok(top, res["cycles"], formula + latency), (res["cycles"], formula, latency)
    for oc in res["out_cycles"]:
        assert oc[-1] - oc[0] + 1 == formula, (oc[0], oc[-1], formula)  # measured II == model


DUP = {"c4p1_b5_n2": dict(CHANNELS=4, PE=1, BITS=5, N_OUT=2),
       "c6p3_b8_n3": dict(CHANNELS=6, PE=3, BITS=8, N_OUT=3),
       "c4p4_b3_n2": dict(CHANNELS=4, PE=4, BITS=3, N_OUT=2)}


@pytest.mark.sim
@pytest.mark.parametrize("case", list(DUP))
def test_duplicatestreams(case):
    p = DUP[case]
    C, pe, b, n = p["CHANNELS"], p["PE"], p["BITS"], p["N_OUT"]
    sim = _sim("qloom_duplicatestreams", p, [pe * b], [pe * b] * n)
    rng = np.random.default_rng(sum(map(ord, case)))
    nb = NPIX * C // pe
    for gap, stall, seed in STALL_PATTERNS:
        x = _rand(rng, NPIX * C, b, True)
        res = sim.run_n([pack_beats(x, b, pe, True)], [nb] * n, gap, stall, seed)
        for j in range(n):
            np.testing.assert_array_equal(unpack_beats(res["outputs"][j], b, pe, True), x,
                                          err_msg=f"{case} output {j} gap={gap} stall={stall}")
        if gap == stall == 0:
            _check_timing("qloom_duplicatestreams", res, cycles_qloom_duplicatestreams(p, NUM_PIXELS=NPIX),
                          latency_qloom_duplicatestreams(p))


ADD = {"c4p2_s5u4_m1m2": dict(CHANNELS=4, PE=2, IN0_BITS=5, IN0_SIGNED=1, IN1_BITS=4, IN1_SIGNED=0,
                              MUL0=1, MUL1=2, OUT_BITS=7, OUT_SIGNED=1),
       "c3p1_s8s8_m3m4": dict(CHANNELS=3, PE=1, IN0_BITS=8, IN0_SIGNED=1, IN1_BITS=8, IN1_SIGNED=1,
                              MUL0=3, MUL1=4, OUT_BITS=11, OUT_SIGNED=1),
       "c6p6_u3u3_m1m1": dict(CHANNELS=6, PE=6, IN0_BITS=3, IN0_SIGNED=0, IN1_BITS=3, IN1_SIGNED=0,
                              MUL0=1, MUL1=1, OUT_BITS=4, OUT_SIGNED=0)}


@pytest.mark.sim
@pytest.mark.parametrize("case", list(ADD))
def test_addstreams(case):
    p = ADD[case]
    C, pe, ob = p["CHANNELS"], p["PE"], p["OUT_BITS"]
    b0, s0, b1, s1 = p["IN0_BITS"], p["IN0_SIGNED"], p["IN1_BITS"], p["IN1_SIGNED"]
    sim = _sim("qloom_addstreams", p, [pe * b0, pe * b1], [pe * ob])
    rng = np.random.default_rng(sum(map(ord, case)))
    for gap, stall, seed in STALL_PATTERNS:
        x0, x1 = _rand(rng, NPIX * C, b0, s0), _rand(rng, NPIX * C, b1, s1)
        want = p["MUL0"] * x0 + p["MUL1"] * x1
        assert np.array_equal(_wrap(want, ob, p["OUT_SIGNED"]), want)  # the type holds every sum
        res = sim.run_n([pack_beats(x0, b0, pe, bool(s0)), pack_beats(x1, b1, pe, bool(s1))],
                        [NPIX * C // pe], gap, stall, seed)
        got = unpack_beats(res["outputs"][0], ob, pe, bool(p["OUT_SIGNED"]))
        np.testing.assert_array_equal(got, want, err_msg=f"{case} gap={gap} stall={stall}")
        if gap == stall == 0:
            _check_timing("qloom_addstreams", res, cycles_qloom_addstreams(p, NUM_PIXELS=NPIX),
                          latency_qloom_addstreams(p))


CAT = {"c2c4p2_u3s5": dict(C0=2, C1=4, PE=2, IN0_BITS=3, IN0_SIGNED=0, IN1_BITS=5, IN1_SIGNED=1,
                           OUT_BITS=5, OUT_SIGNED=1),
       "c3c1p1_s4s4": dict(C0=3, C1=1, PE=1, IN0_BITS=4, IN0_SIGNED=1, IN1_BITS=4, IN1_SIGNED=1,
                           OUT_BITS=4, OUT_SIGNED=1),
       "c4c8p4_u8s3": dict(C0=4, C1=8, PE=4, IN0_BITS=8, IN0_SIGNED=0, IN1_BITS=3, IN1_SIGNED=1,
                           OUT_BITS=9, OUT_SIGNED=1)}


@pytest.mark.sim
@pytest.mark.parametrize("case", list(CAT))
def test_concatstreams(case):
    p = CAT[case]
    c0, c1, pe, ob = p["C0"], p["C1"], p["PE"], p["OUT_BITS"]
    b0, s0, b1, s1 = p["IN0_BITS"], p["IN0_SIGNED"], p["IN1_BITS"], p["IN1_SIGNED"]
    sim = _sim("qloom_concatstreams", p, [pe * b0, pe * b1], [pe * ob])
    rng = np.random.default_rng(sum(map(ord, case)))
    for gap, stall, seed in STALL_PATTERNS:
        x0 = _rand(rng, NPIX * c0, b0, s0).reshape(NPIX, c0)
        x1 = _rand(rng, NPIX * c1, b1, s1).reshape(NPIX, c1)
        want = np.concatenate([x0, x1], axis=1).reshape(-1)  # per pixel: input 0's, then 1's
        res = sim.run_n([pack_beats(x0.reshape(-1), b0, pe, bool(s0)), pack_beats(x1.reshape(-1), b1, pe, bool(s1))],
                        [NPIX * (c0 + c1) // pe], gap, stall, seed)
        got = unpack_beats(res["outputs"][0], ob, pe, bool(p["OUT_SIGNED"]))
        np.testing.assert_array_equal(got, want, err_msg=f"{case} gap={gap} stall={stall}")
        if gap == stall == 0:
            _check_timing("qloom_concatstreams", res, cycles_qloom_concatstreams(p, NUM_PIXELS=NPIX),
                          latency_qloom_concatstreams(p))


@pytest.mark.sim
def test_multi_harness_catches_a_wrong_join():
    """The harness can fail: AddStreams' output read against the wrong weights differs."""
    p = ADD["c3p1_s8s8_m3m4"]
    sim = _sim("qloom_addstreams", p, [8, 8], [11])
    rng = np.random.default_rng(0)
    x0, x1 = _rand(rng, 30, 8, 1), _rand(rng, 30, 8, 1)
    res = sim.run_n([pack_beats(x0, 8, 1, True), pack_beats(x1, 8, 1, True)], [30], 0.3, 0.3, 1)
    got = unpack_beats(res["outputs"][0], 11, 1, True)
    assert not np.array_equal(got, 4 * x0 + 3 * x1)
    np.testing.assert_array_equal(got, 3 * x0 + 4 * x1)
