"""qloom_pool (MODE 0 max, MODE 1 sum) against explicit-loop numpy pooling."""
import numpy as np
import pytest

from qloom.ops.pool import cycles_qloom_pool, latency_qloom_pool
from qloom.sim.verilator import pack_beats, unpack_beats
from rtlutil import STALL_PATTERNS, assert_lint_clean, build_sim, synth_check, cycles_ok

MODS = ["qloom_pool", "qloom_swg", "qloom_pool_reduce", "qloom_fifo"]


def pool_ref(img, K_H, K_W, S_H, S_W, pads, mode):
    H, W, C = img.shape
    pt, pb, pl, pr = pads
    OH = (H + pt + pb - K_H) // S_H + 1
    OW = (W + pl + pr - K_W) // S_W + 1
    out = np.zeros((OH, OW, C), dtype=np.int64)
    for oy in range(OH):
        for ox in range(OW):
            for c in range(C):
                vals = []
                for ky in range(K_H):
                    for kx in range(K_W):
                        y, x = oy * S_H + ky - pt, ox * S_W + kx - pl
                        vals.append(int(img[y, x, c]) if 0 <= y < H and 0 <= x < W else 0)
                out[oy, ox, c] = max(vals) if mode == "max" else sum(vals)
    return out.reshape(-1)


def P(H, W, C, PE, K, S, bits, signed, KW=None, SW=None, pads=None):
    p = dict(IFM_DIM_H=H, IFM_DIM_W=W, CHANNELS=C, PE=PE, K_H=K, K_W=KW or K, S_H=S, S_W=SW or S,
             ELEM_BITS=bits, SIGNED=signed)
    if pads:
        p.update(PAD_T=pads[0], PAD_B=pads[1], PAD_L=pads[2], PAD_R=pads[3])
    return p


MAX_CASES = {
    "k2s2_u4_c4p2": P(6, 6, 4, 2, 2, 2, 4, 0),
    "k3s3_s8_odd": P(7, 8, 3, 1, 3, 3, 8, 1),
    "k3s2_s3": P(7, 7, 2, 2, 3, 2, 3, 1),
    "k2s1_u1": P(4, 5, 1, 1, 2, 1, 1, 0),
    "k1x2_s1x2_c8": P(3, 6, 8, 8, 1, 1, 5, 1, KW=2, SW=2),
}
SUM_CASES = {
    "k2s2_u4": P(6, 6, 4, 2, 2, 2, 4, 0),
    "k3s1p1_s5": P(5, 6, 2, 1, 3, 1, 5, 1, pads=(1, 1, 1, 1)),
    "k3s3_u2_c6": P(6, 7, 6, 3, 3, 3, 2, 0),
    "k4s2_s8": P(8, 8, 2, 2, 4, 2, 8, 1, pads=(0, 1, 1, 0)),
}


def _run(p, mode, case):
    b, pe = p["ELEM_BITS"], p["PE"]
    win = p["K_H"] * p["K_W"]
    ob = b if mode == "max" else b + (int(np.ceil(np.log2(win))) if win > 1 else 0)
    p = dict(p, MODE=0 if mode == "max" else 1, OUT_BITS=ob)
    assert_lint_clean("qloom_pool", MODS, p)
    sim = build_sim("qloom_pool", MODS, p, pe * b, pe * ob)
    rng = np.random.default_rng(sum(map(ord, case)))
    H, W, C = p["IFM_DIM_H"], p["IFM_DIM_W"], p["CHANNELS"]
    pads = tuple(p.get(k, 0) for k in ("PAD_T", "PAD_B", "PAD_L", "PAD_R"))
    OH = (H + pads[0] + pads[1] - p["K_H"]) // p["S_H"] + 1
    OW = (W + pads[2] + pads[3] - p["K_W"]) // p["S_W"] + 1
    per_frame = OH * OW * C // pe
    frames = 3
    lo, hi = (-(1 << (b - 1)), (1 << (b - 1))) if p["SIGNED"] else (0, 1 << b)
    for gap, stall, seed in STALL_PATTERNS:
        imgs = rng.integers(lo, hi, size=(frames, H, W, C))
        ref = np.concatenate([pool_ref(im, p["K_H"], p["K_W"], p["S_H"], p["S_W"], pads, mode) for im in imgs])
        res = sim.run(pack_beats(imgs.reshape(-1), b, pe), frames * per_frame,
                      p_in_gap=gap, p_out_stall=stall, seed=seed)
        got = unpack_beats(res.outputs, ob, pe, bool(p["SIGNED"]))
        np.testing.assert_array_equal(got, ref, err_msg=f"{case} gap={gap} stall={stall}")
        if gap == stall == 0:
            ii = cycles_qloom_pool(p)
            lasts = [res.out_cycles[(f + 1) * per_frame - 1] for f in range(frames)]
            meas = (lasts[-1] - lasts[0]) / (frames - 1)
            assert cycles_ok("qloom_pool", meas, ii), (meas, ii)
            assert cycles_ok("qloom_pool", res.cycles, frames * ii + latency_qloom_pool(p)), (res.cycles, frames * ii)


@pytest.mark.sim
@pytest.mark.parametrize("case", list(MAX_CASES))
def test_maxpool(case):
    _run(MAX_CASES[case], "max", case)


@pytest.mark.sim
@pytest.mark.parametrize("case", list(SUM_CASES))
def test_sumpool(case):
    _run(SUM_CASES[case], "sum", case)


@pytest.mark.synth
def test_pool_synth():
    synth_check("qloom_pool", MODS, dict(P(8, 8, 4, 2, 2, 2, 4, 1), MODE=0, OUT_BITS=4))
    synth_check("qloom_pool", MODS, dict(P(8, 8, 4, 2, 3, 1, 4, 0, pads=(1, 1, 1, 1)), MODE=1, OUT_BITS=8))
