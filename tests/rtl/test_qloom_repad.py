"""qloom_repad: per vector, the first min(N_IN, N_OUT) beats pass, extra input beats are
dropped, missing output beats are zero (compared with a numpy reference on random beats,
under back-pressure); cycles per vector max(N_IN, N_OUT); Yosys vs the resource model."""
import numpy as np
import pytest

from qloom.ops import estimate_module
from qloom.ops.repad import cycles_qloom_repad
from rtlutil import STALL_PATTERNS, assert_lint_clean, build_sim, cycles_ok, synth_check

MODS = ["qloom_repad"]
CASES = [(6, 32, 33), (12, 34, 32), (5, 3, 4), (7, 4, 3), (3, 1, 2), (8, 2, 1), (4, 5, 5)]


def reference(beats, n_in, n_out):
    """Independent reference: split the input into vectors of n_in beats, cut or extend
    each with zero beats to n_out."""
    out = []
    for v in range(len(beats) // n_in):
        vec = list(beats[v * n_in:(v + 1) * n_in])
        out += (vec + [0] * n_out)[:n_out]
    return out


@pytest.mark.sim
@pytest.mark.parametrize("w,n_in,n_out", CASES, ids=[f"w{w}_{a}to{b}" for w, a, b in CASES])
def test_repad(w, n_in, n_out):
    p = dict(WIDTH=w, N_IN=n_in, N_OUT=n_out)
    assert_lint_clean("qloom_repad", MODS, p)
    sim = build_sim("qloom_repad", MODS, p, w, w)
    rng = np.random.default_rng(w * 100 + n_in * 10 + n_out)
    vectors = 40
    for gap, stall, seed in STALL_PATTERNS:
        beats = [int(v) for v in rng.integers(0, 1 << w, vectors * n_in)]
        ref = reference(beats, n_in, n_out)
        res = sim.run(beats, len(ref), p_in_gap=gap, p_out_stall=stall, seed=seed)
        assert res.outputs == ref, f"{p} gap={gap} stall={stall}"
        if gap == stall == 0:
            f = cycles_qloom_repad(p, vectors)
            assert cycles_ok("qloom_repad", res.cycles, f), (res.cycles, f)


@pytest.mark.synth
@pytest.mark.parametrize("p", [dict(WIDTH=6, N_IN=32, N_OUT=33), dict(WIDTH=24, N_IN=12, N_OUT=10)])
def test_repad_synth_matches_model(p):
    """No latches; LUT and FF within 3 of the model (a counter and a register)."""
    r = synth_check("qloom_repad", MODS, p)
    est = estimate_module("qloom_repad", p, "xc7")
    assert abs(r.luts - est["LUT"]) <= 3, (r.luts, est)
    assert abs(r.ffs - est["FF"]) <= 3, (r.ffs, est)
