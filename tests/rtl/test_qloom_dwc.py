"""qloom_dwc: width conversion preserves the element order (compared via a bit string)."""
import numpy as np
import pytest

from qloom.ops.dwc import cycles_qloom_dwc
from rtlutil import STALL_PATTERNS, assert_lint_clean, build_sim, synth_check, cycles_ok

MODS = ["qloom_dwc"]
CASES = [(8, 16), (4, 12), (24, 8), (30, 6), (8, 8), (100, 300), (96, 32)]


def regroup(beats, win, wout):
    """Independent reference: concatenate the beats LSB-first as one big bit list and re-slice."""
    bits = []
    for b in beats:
        bits.extend((b >> i) & 1 for i in range(win))
    out = []
    for j in range(len(bits) // wout):
        out.append(sum(bit << i for i, bit in enumerate(bits[j * wout:(j + 1) * wout])))
    return out


@pytest.mark.sim
@pytest.mark.parametrize("win,wout", CASES, ids=[f"{a}to{b}" for a, b in CASES])
def test_dwc(win, wout):
    p = dict(IN_WIDTH=win, OUT_WIDTH=wout)
    assert_lint_clean("qloom_dwc", MODS, p)
    sim = build_sim("qloom_dwc", MODS, p, win, wout)
    rng = np.random.default_rng(win * 1000 + wout)
    total_bits = 240 * max(win, wout)
    n_in = total_bits // win
    for gap, stall, seed in STALL_PATTERNS:
        beats = [int.from_bytes(rng.bytes(64), "little") & ((1 << win) - 1) for _ in range(n_in)]
        ref = regroup(beats, win, wout)
        res = sim.run(beats, len(ref), p_in_gap=gap, p_out_stall=stall, seed=seed)
        assert res.outputs == ref, f"{win}->{wout} gap={gap} stall={stall}"
        if gap == stall == 0:
            f = cycles_qloom_dwc(p, n_in_beats=n_in)
            assert cycles_ok("qloom_dwc", res.cycles, f), (res.cycles, f)


@pytest.mark.synth
def test_dwc_synth():
    synth_check("qloom_dwc", MODS, dict(IN_WIDTH=8, OUT_WIDTH=32))
    synth_check("qloom_dwc", MODS, dict(IN_WIDTH=32, OUT_WIDTH=8))
