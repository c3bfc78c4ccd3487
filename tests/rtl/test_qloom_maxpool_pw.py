"""qloom_maxpool_pw (pixel-streaming max pooling) against explicit-loop numpy pooling."""
import numpy as np
import pytest

from qloom.sim.verilator import pack_beats, unpack_beats
from rtlutil import STALL_PATTERNS, assert_lint_clean, build_sim, synth_check, cycles_ok

MODS = ["qloom_maxpool_pw", "qloom_swg_pw", "qloom_fifo"]


def pool_ref(img, K_H, K_W, S_H, S_W):
    H, W, C = img.shape
    OH, OW = (H - K_H) // S_H + 1, (W - K_W) // S_W + 1
    out = np.zeros((OH, OW, C), dtype=np.int64)
    for oy in range(OH):
        for ox in range(OW):
            for c in range(C):
                out[oy, ox, c] = max(int(img[oy * S_H + ky, ox * S_W + kx, c])
                                     for ky in range(K_H) for kx in range(K_W))
    return out.reshape(-1)


def P(H, W, C, K, S, bits, signed, KW=None, SW=None):
    return dict(IFM_DIM_H=H, IFM_DIM_W=W, CHANNELS=C, K_H=K, K_W=KW or K, S_H=S, S_W=SW or S,
                ELEM_BITS=bits, SIGNED=signed)


CASES = {
    "k2s2_u6_c16": P(6, 6, 16, 2, 2, 6, 0),  # the SVHN pools
    "k2s2_odd_s4": P(7, 5, 3, 2, 2, 4, 1),   # floor mode: last row/column dropped
    "k3s2_s8": P(7, 7, 2, 3, 2, 8, 1),       # overlapping windows
    "k2s1_u1": P(4, 5, 1, 2, 1, 1, 0),       # bipolar-like bits
    "k1x2_c4": P(3, 6, 4, 1, 1, 5, 1, KW=2, SW=2),
}


@pytest.mark.sim
@pytest.mark.parametrize("case", list(CASES))
def test_maxpool_pw(case):
    p = CASES[case]
    assert_lint_clean("qloom_maxpool_pw", MODS, p)
    b, C = p["ELEM_BITS"], p["CHANNELS"]
    sim = build_sim("qloom_maxpool_pw", MODS, p, C * b, C * b)
    rng = np.random.default_rng(sum(map(ord, case)))
    H, W = p["IFM_DIM_H"], p["IFM_DIM_W"]
    OH, OW = (H - p["K_H"]) // p["S_H"] + 1, (W - p["K_W"]) // p["S_W"] + 1
    frames = 3
    lo, hi = (-(1 << (b - 1)), 1 << (b - 1)) if p["SIGNED"] else (0, 1 << b)
    for gap, stall, seed in STALL_PATTERNS:
        imgs = rng.integers(lo, hi, size=(frames, H, W, C))
        ref = np.concatenate([pool_ref(im, p["K_H"], p["K_W"], p["S_H"], p["S_W"]) for im in imgs])
        res = sim.run(pack_beats(imgs.reshape(-1), b, C), frames * OH * OW,
                      p_in_gap=gap, p_out_stall=stall, seed=seed)
        got = unpack_beats(res.outputs, b, C, bool(p["SIGNED"]))
        np.testing.assert_array_equal(got, ref, err_msg=f"{case} gap={gap} stall={stall}")
        if gap == stall == 0:  # one input pixel per cycle
            lasts = [res.out_cycles[(f + 1) * OH * OW - 1] for f in range(frames)]
            assert cycles_ok("qloom_maxpool_pw", (lasts[-1] - lasts[0]) / (frames - 1), H * W)
            # the last window leaves a few cycles after the pixel that completes it
            last_needed = ((OH - 1) * p["S_H"] + p["K_H"] - 1) * W + (OW - 1) * p["S_W"] + p["K_W"] - 1
            assert res.out_cycles[OH * OW - 1] - res.in_cycles[last_needed] <= 6


@pytest.mark.synth
def test_maxpool_pw_synth_and_resource_model():
    """Latch-free, and the resource model (qloom.ops.pool) within 10 % LUT / exact FF
    of Yosys synth_xilinx on a configuration it was not fitted to."""
    from qloom.ops import estimate_module
    from qloom.synth import synth_module
    from rtlutil import sources

    p = P(8, 8, 4, 2, 2, 4, 1)
    synth_check("qloom_maxpool_pw", MODS, p)
    q = P(10, 10, 8, 2, 2, 5, 0)
    got = synth_module("qloom_maxpool_pw", sources(*MODS), q, {}, "xc7", 40, 40)["resources"]
    est = estimate_module("qloom_maxpool_pw", q)
    assert est["FF"] == got["FF"], (est, got)
    assert abs(est["LUT"] - got["LUT"]) <= 0.1 * got["LUT"], (est, got)
