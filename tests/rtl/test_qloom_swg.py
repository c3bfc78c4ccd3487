"""qloom_swg (sliding window / im2col) against explicit-loop numpy im2col."""
import numpy as np
import pytest

from qloom.ops.swg import cycles_qloom_swg, latency_qloom_swg
from qloom.sim.verilator import pack_beats, unpack_beats
from rtlutil import STALL_PATTERNS, assert_lint_clean, build_sim, synth_check, cycles_ok

MODS = ["qloom_swg", "qloom_fifo"]


def im2col_ref(img, K_H, K_W, S_H, S_W, PAD_T, PAD_B, PAD_L, PAD_R):
    """img: H x W x C -> (OH*OW*K_H*K_W*C,) in (oy, ox, ky, kx, c) order, zero padding."""
    H, W, C = img.shape
    OH = (H + PAD_T + PAD_B - K_H) // S_H + 1
    OW = (W + PAD_L + PAD_R - K_W) // S_W + 1
    out = []
    for oy in range(OH):
        for ox in range(OW):
            for ky in range(K_H):
                for kx in range(K_W):
                    y = oy * S_H + ky - PAD_T
                    x = ox * S_W + kx - PAD_L
                    for c in range(C):
                        out.append(img[y, x, c] if 0 <= y < H and 0 <= x < W else 0)
    return np.array(out, dtype=np.int64)


def P(H, W, C, SIMD, K, S, pad=(0, 0, 0, 0), bits=8, KW=None, SW=None, style="auto"):
    return dict(IFM_DIM_H=H, IFM_DIM_W=W, CHANNELS=C, SIMD=SIMD, K_H=K, K_W=KW or K, S_H=S, S_W=SW or S,
                PAD_T=pad[0], PAD_B=pad[1], PAD_L=pad[2], PAD_R=pad[3], ELEM_BITS=bits, RAM_STYLE=style)


CASES = {
    "k3s1p1_c4s2": P(5, 5, 4, 2, 3, 1, (1, 1, 1, 1), bits=4),
    "k3s1_nopad_c3": P(6, 7, 3, 3, 3, 1, bits=8),
    "k1s1_c2": P(3, 4, 2, 1, 1, 1, bits=1),
    "k2s2_odd": P(7, 5, 2, 2, 2, 2, bits=3),
    "k5s1p2": P(7, 6, 1, 1, 5, 1, (2, 2, 2, 2), bits=2, style="block"),
    "k3s3_asympad": P(8, 7, 2, 1, 3, 3, (0, 1, 2, 0), bits=5),
    "k4x2_s2x1": P(6, 5, 2, 2, 4, 2, (1, 2, 0, 1), KW=2, SW=1, bits=6),
    "k3s2_wide": P(5, 5, 16, 16, 3, 2, (1, 1, 1, 1), bits=8),
    "k3p1_tiny": P(2, 3, 1, 1, 3, 1, (1, 1, 1, 1), bits=4),
    "k1s3_skip": P(7, 8, 2, 2, 1, 3, bits=7),
}


def dims(p):
    OH = (p["IFM_DIM_H"] + p["PAD_T"] + p["PAD_B"] - p["K_H"]) // p["S_H"] + 1
    OW = (p["IFM_DIM_W"] + p["PAD_L"] + p["PAD_R"] - p["K_W"]) // p["S_W"] + 1
    return OH, OW


@pytest.mark.sim
@pytest.mark.parametrize("case", list(CASES))
def test_swg(case):
    p = CASES[case]
    assert_lint_clean("qloom_swg", MODS, p)
    w = p["SIMD"] * p["ELEM_BITS"]
    sim = build_sim("qloom_swg", MODS, p, w, w)
    rng = np.random.default_rng(sum(map(ord, case)))
    H, W, C, b = p["IFM_DIM_H"], p["IFM_DIM_W"], p["CHANNELS"], p["ELEM_BITS"]
    OH, OW = dims(p)
    frames = 3
    out_per_frame = OH * OW * p["K_H"] * p["K_W"] * C // p["SIMD"]
    geo = {k: p[k] for k in ("K_H", "K_W", "S_H", "S_W", "PAD_T", "PAD_B", "PAD_L", "PAD_R")}
    for gap, stall, seed in STALL_PATTERNS:
        imgs = rng.integers(-(1 << (b - 1)), 1 << (b - 1), size=(frames, H, W, C)) if b > 1 else \
            rng.integers(0, 2, size=(frames, H, W, C))
        ref = np.concatenate([im2col_ref(img, **geo) for img in imgs])
        res = sim.run(pack_beats(imgs.reshape(-1), b, p["SIMD"]), frames * out_per_frame,
                      p_in_gap=gap, p_out_stall=stall, seed=seed)
        got = unpack_beats(res.outputs, b, p["SIMD"], signed=b > 1)
        np.testing.assert_array_equal(got, ref, err_msg=f"{case} gap={gap} stall={stall}")
        if gap == stall == 0:
            ii = cycles_qloom_swg(p)
            lasts = [res.out_cycles[(f + 1) * out_per_frame - 1] for f in range(frames)]
            per_frame = (lasts[-1] - lasts[0]) / (frames - 1)
            assert cycles_ok("qloom_swg", per_frame, ii), (per_frame, ii)
            assert cycles_ok("qloom_swg", res.cycles, frames * ii + latency_qloom_swg(p)), (res.cycles, frames * ii)


@pytest.mark.synth
def test_swg_synth():
    synth_check("qloom_swg", MODS, P(6, 6, 4, 2, 3, 1, (1, 1, 1, 1), bits=4))
