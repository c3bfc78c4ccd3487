"""qloom_fifo: order preserved, nothing lost/duplicated under random stalls."""
import numpy as np
import pytest

from qloom.ops.fifo import cycles_qloom_fifo
from rtlutil import STALL_PATTERNS, assert_lint_clean, build_sim, synth_check, cycles_ok

CASES = [
    dict(WIDTH=8, DEPTH=1, RAM_STYLE="auto"),
    dict(WIDTH=12, DEPTH=5, RAM_STYLE="distributed"),
    dict(WIDTH=70, DEPTH=16, RAM_STYLE="block"),
    dict(WIDTH=129, DEPTH=3, RAM_STYLE="registers"),
]


@pytest.mark.sim
@pytest.mark.parametrize("p", CASES, ids=lambda p: f"w{p['WIDTH']}d{p['DEPTH']}")
def test_fifo(p):
    assert_lint_clean("qloom_fifo", ["qloom_fifo"], p)
    sim = build_sim("qloom_fifo", ["qloom_fifo"], p, p["WIDTH"], p["WIDTH"])
    rng = np.random.default_rng(p["WIDTH"])
    n = 300
    beats = [int.from_bytes(rng.bytes(32), "little") & ((1 << p["WIDTH"]) - 1) for _ in range(n)]
    for gap, stall, seed in STALL_PATTERNS:
        res = sim.run(beats, n, p_in_gap=gap, p_out_stall=stall, seed=seed)
        assert res.outputs == beats
        if gap == stall == 0:
            formula = cycles_qloom_fifo(p, n_beats=n)
            assert cycles_ok("qloom_fifo", res.cycles, formula), (res.cycles, formula)


@pytest.mark.synth
def test_fifo_synth():
    r = synth_check("qloom_fifo", ["qloom_fifo"], dict(WIDTH=8, DEPTH=32, RAM_STYLE="distributed"))
    assert r.lutrams > 0 and r.brams == 0, r.cells
    r = synth_check("qloom_fifo", ["qloom_fifo"], dict(WIDTH=16, DEPTH=1024, RAM_STYLE="block"))
    assert r.brams > 0, r.cells
