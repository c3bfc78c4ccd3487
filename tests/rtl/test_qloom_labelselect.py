"""qloom_labelselect against numpy stable descending argsort (ONNX TopK tie rule)."""
import numpy as np
import pytest

from qloom.ops.labelselect import cycles_qloom_labelselect, latency_qloom_labelselect
from qloom.sim.verilator import pack_beats, unpack_beats
from rtlutil import STALL_PATTERNS, assert_lint_clean, build_sim, synth_check, cycles_ok

MODS = ["qloom_labelselect"]

CASES = {
    "n10_p1_k1_s8": dict(NUM_LABELS=10, PE=1, IN_BITS=8, IN_SIGNED=1, K=1),
    "n10_p5_k3_u3": dict(NUM_LABELS=10, PE=5, IN_BITS=3, IN_SIGNED=0, K=3),
    "n12_p4_k12_s4": dict(NUM_LABELS=12, PE=4, IN_BITS=4, IN_SIGNED=1, K=12),
    "n33_p3_k5_s16": dict(NUM_LABELS=33, PE=3, IN_BITS=16, IN_SIGNED=1, K=5),
    "n2_p2_k1_u1": dict(NUM_LABELS=2, PE=2, IN_BITS=1, IN_SIGNED=0, K=1),
}


def reference(V, k):
    # stable sort on -v: descending values, ties keep the lower index first
    return np.argsort(-V, axis=1, kind="stable")[:, :k]


@pytest.mark.sim
@pytest.mark.parametrize("case", list(CASES))
def test_labelselect(case):
    p = CASES[case]
    assert_lint_clean("qloom_labelselect", MODS, p)
    n, pe, b, k = p["NUM_LABELS"], p["PE"], p["IN_BITS"], p["K"]
    ib = max(1, int(np.ceil(np.log2(n))))
    sim = build_sim("qloom_labelselect", MODS, p, pe * b, ib)
    rng = np.random.default_rng(sum(map(ord, case)))
    lo, hi = (-(1 << (b - 1)), 1 << (b - 1)) if p["IN_SIGNED"] else (0, 1 << b)
    frames = 12
    for gap, stall, seed in STALL_PATTERNS:
        V = rng.integers(lo, hi, size=(frames, n))
        V[0, :] = V[0, 0]                     # all equal
        V[1, :] = np.arange(n) % max(1, min(hi - lo, 3)) + lo  # many ties
        res = sim.run(pack_beats(V.reshape(-1), b, pe), frames * k, p_in_gap=gap, p_out_stall=stall, seed=seed)
        got = unpack_beats(res.outputs, ib, 1, False).reshape(frames, k)
        np.testing.assert_array_equal(got, reference(V, k), err_msg=f"{case} gap={gap} stall={stall}")
        if gap == stall == 0:
            ii = cycles_qloom_labelselect(p)
            lasts = [res.out_cycles[(f + 1) * k - 1] for f in range(frames)]
            meas = (lasts[-1] - lasts[0]) / (frames - 1)
            assert cycles_ok("qloom_labelselect", meas, ii), (meas, ii)
            assert cycles_ok("qloom_labelselect", res.cycles, frames * ii + latency_qloom_labelselect(p)), (res.cycles, frames * ii)


@pytest.mark.synth
def test_labelselect_synth():
    synth_check("qloom_labelselect", MODS, CASES["n10_p5_k3_u3"])
