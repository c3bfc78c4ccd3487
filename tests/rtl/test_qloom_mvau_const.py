"""The constant-weight MVAU (generated adder graph in the qloom_mvau_const shell) against
an independent numpy reference (W @ x, then threshold counting) under back-pressure; II = 1
and the latency formula measured exactly."""
import zlib

import numpy as np
import pytest

from qloom.ops.mvau_const import (const_instance, const_layer, cycles_qloom_mvau_const,
                                  latency_qloom_mvau_const)
from qloom.sim.verilator import pack_beats, unpack_beats
from qloom.types import IntType
from qloom.sim import verilator as vl
from rtlutil import STALL_PATTERNS, assert_lint_clean, cycles_ok, sources

# name: MH, MW, input type, weight range, thresholds per channel (0: raw accumulator),
# output type, register spacing, what is special
CASES = {
    "u6_thr_r3": (8, 6, IntType(6, False), (-32, 31), 7, IntType(3, False), 3, "zero row + column"),
    "s4_raw_r1": (5, 7, IntType(4, True), (-8, 7), 0, None, 1, "negative weights, raw"),
    "u1_thr_r8": (6, 9, IntType(1, False), (-3, 3), 2, IntType(2, True), 8, "1-bit inputs"),
    "s8_thr_r2": (4, 3, IntType(8, True), (-1, 1), 3, IntType(2, False), 2, "ternary weights"),
    "u6_thr_r2_split": (8, 6, IntType(6, False), (-32, 31), 7, IntType(3, False), 2, "sub-modules"),
    "s4_raw_r64_split": (5, 7, IntType(4, True), (-8, 7), 0, None, 64, "sub-modules, no register"),
    "u6_thr_r64_fused": (8, 6, IntType(6, False), (-32, 31), 7, IntType(3, False), 64, "latency-first"),
    "s4_thr_r2_fused": (6, 5, IntType(4, True), (-8, 7), 3, IntType(2, True), 2, "latency-first"),
}
FUSED = {"u6_thr_r64_fused", "s4_thr_r2_fused"}  # the output stage straight from the accumulator
# cases cut into sub-modules of at most this many adder/register bits (ConstLayer.parts)
SPLIT = {"u6_thr_r2_split": 40, "s4_raw_r64_split": 25}


def _acc_type(W, it):
    prods = [W * it.min, W * it.max]
    lo = np.minimum(*prods).sum(axis=1).min()
    hi = np.maximum(*prods).sum(axis=1).max()
    return IntType.for_range(min(int(lo), -1), int(hi))


def reference(W, X, T, bias, ot):
    Y = X @ W.T
    if T is None:
        return Y
    cnt = (Y[:, :, None] >= T[None, :, :]).sum(axis=2) + bias
    cnt = cnt & ((1 << ot.bits) - 1)
    if ot.signed:
        cnt = np.where(cnt >= (1 << (ot.bits - 1)), cnt - (1 << ot.bits), cnt)
    return cnt


@pytest.mark.sim
@pytest.mark.parametrize("case", list(CASES))
def test_mvau_const(case, tmp_path):
    mh, mw, it, (wl, wh), nt, ot, reg, _ = CASES[case]
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    W = rng.integers(wl, wh + 1, size=(mh, mw))
    W[1, :] = 0  # a dead row
    W[:, 2] = 0  # a dead column
    frames = 24
    X = rng.integers(it.min, it.max + 1, size=(frames, mw))
    T, bias = None, 0
    if nt:
        Y = X @ W.T
        pool = np.concatenate([Y.reshape(-1), Y.reshape(-1) + 1, [Y.min() - 5, Y.max() + 5]])
        T = np.sort(rng.choice(pool, size=(mh, nt)), axis=1)
        bias = ot.min
    layer = const_layer(W, it, T, bias, ot or it, _acc_type(W, it), reg, part_bits=SPLIT.get(case, 0),
                        fused=case in FUSED)
    if case in FUSED:  # no register from the accumulators to the output FIFO
        assert layer.depth == layer.acc_stage
    assert len(layer.parts()) > 2 if case in SPLIT else len(layer.parts()) == 1
    assert np.array_equal(layer.graph.evaluate(X), X @ W.T)  # the graph itself, exactly
    out_signed = True if T is None else ot.signed
    inst = const_instance("t", layer, out_signed)
    for f, text in inst.files.items():
        (tmp_path / f).write_text(text)
    srcs = sources("qloom_mvau_const") + [str(tmp_path / f) for f in inst.generated_sources]
    p = inst.params
    sim = vl.AxisSim(inst.module, srcs, p, in_width=p["IN_W"], out_width=p["OUT_W"])
    ob = layer.out_bits
    ref = reference(W, X, T, bias, ot)
    beats = pack_beats(X.reshape(-1) & ((1 << it.bits) - 1), it.bits, mw)
    for gap, stall, seed in STALL_PATTERNS:
        res = sim.run(beats, frames, p_in_gap=gap, p_out_stall=stall, seed=seed)
        got = unpack_beats(res.outputs, ob, mh, out_signed).reshape(frames, mh)
        np.testing.assert_array_equal(got, ref, err_msg=f"{case} gap={gap} stall={stall}")
        if gap == stall == 0:
            per = (res.out_cycles[-1] - res.out_cycles[0]) / (frames - 1)
            assert per == cycles_qloom_mvau_const(p), (per, res.cycles, p["DEPTH"])  # II = 1
            assert cycles_ok("qloom_mvau_const", res.cycles, frames * 1 + latency_qloom_mvau_const(p)), (res.cycles, p["DEPTH"])
    res = sim.run(beats[:1], 1)
    assert cycles_ok("qloom_mvau_const", res.cycles, 1 + latency_qloom_mvau_const(p)), (res.cycles, p["DEPTH"])


@pytest.mark.sim
@pytest.mark.parametrize("fused", [False, True])
def test_mvau_const_requantizer(tmp_path, fused):
    """Thresholds of a uniform quantizer (scale, bias, clip to 2**3 levels) become exact
    requantizers on most channels; one channel with irregular thresholds keeps comparators;
    a channel whose thresholds lie outside its range is a constant."""
    rng = np.random.default_rng(5)
    mh, mw, it, ot = 6, 10, IntType(5, False), IntType(3, False)
    W = rng.integers(-16, 16, size=(mh, mw))
    acc = _acc_type(W, it)
    k = np.arange(1, 8)
    T = np.stack([np.ceil((k - 0.5 - b) / s).astype(np.int64)
                  for s, b in zip(rng.uniform(0.01, 0.05, mh), rng.uniform(-3, 3, mh))])
    T[2] = np.sort(rng.integers(-300, 300, size=7))  # irregular: no requantizer
    T[4] = acc.max + 10  # never reached: constant 0
    layer = const_layer(W, it, T, 0, ot, acc, 3, requant="always", part_bits=30, fused=fused)  # sub-modules
    assert len(layer.parts()) > 2
    assert sum(r is not None for r in layer.requant) >= 4 and layer.has_requant
    inst = const_instance("rq", layer, False)
    for f, text in inst.files.items():
        (tmp_path / f).write_text(text)
    srcs = sources("qloom_mvau_const") + [str(tmp_path / f) for f in inst.generated_sources]
    p = inst.params
    sim = vl.AxisSim(inst.module, srcs, p, in_width=p["IN_W"], out_width=p["OUT_W"])
    frames = 400
    X = rng.integers(it.min, it.max + 1, size=(frames, mw))
    ref = reference(W, X, T, 0, ot)
    beats = pack_beats(X.reshape(-1), it.bits, mw)
    res = sim.run(beats, frames, p_in_gap=0.3, p_out_stall=0.3, seed=9)
    got = unpack_beats(res.outputs, ot.bits, mh, False).reshape(frames, mh)
    np.testing.assert_array_equal(got, ref)
    res = sim.run(beats[:1], 1)
    assert cycles_ok("qloom_mvau_const", res.cycles, 1 + latency_qloom_mvau_const(p)), (res.cycles, p["DEPTH"])


@pytest.mark.sim
@pytest.mark.parametrize("depth", [0, 1, 4])
def test_shell_lints_clean(depth):
    assert_lint_clean("qloom_mvau_const", ["qloom_mvau_const"],
                      dict(IN_W=12, OUT_W=8, DEPTH=depth, CREDITS=depth + 5))
