"""qloom_swg_pw (parallel-window sliding window generator) against numpy im2col."""
import numpy as np
import pytest

from qloom.ops.swg import cycles_qloom_swg_pw, latency_qloom_swg_pw, swg_pw_window_pos
from qloom.sim.verilator import pack_beats, unpack_beats
from rtlutil import STALL_PATTERNS, assert_lint_clean, build_sim, synth_check, cycles_ok
from test_qloom_swg import im2col_ref

MODS = ["qloom_swg_pw"]


def P(H, W, C, K, S, pad=(0, 0, 0, 0), bits=8, KW=None, SW=None, style="auto"):
    return dict(IFM_DIM_H=H, IFM_DIM_W=W, CHANNELS=C, K_H=K, K_W=KW or K, S_H=S, S_W=SW or S,
                PAD_T=pad[0], PAD_B=pad[1], PAD_L=pad[2], PAD_R=pad[3], ELEM_BITS=bits, RAM_STYLE=style)


CASES = {
    "k3s1_svhn_c3": P(10, 10, 3, 3, 1, bits=8),
    "k3s1p1_c4": P(5, 5, 4, 3, 1, (1, 1, 1, 1), bits=4),
    "k2s2_c2": P(6, 6, 2, 2, 2, bits=3),
    "k4x2_asympad": P(6, 5, 2, 4, 2, (1, 2, 0, 1), KW=2, SW=1, bits=6),
    "k3x2_asympad_s1x3": P(7, 8, 1, 3, 1, (0, 1, 2, 0), KW=2, SW=3, bits=5, style="block"),
    "k3s2_odd": P(7, 9, 2, 3, 2, (1, 0, 1, 0), bits=4),
    "k2s2_odd_floor": P(7, 5, 2, 2, 2, bits=3),
    "k3s1p1_c16_wide": P(7, 7, 16, 3, 1, (1, 1, 1, 1), bits=6),
    "k1s1_c2": P(3, 4, 2, 1, 1, bits=1),
    "k3p1_tiny": P(2, 3, 1, 3, 1, (1, 1, 1, 1), bits=4),
    "w1_k2x1": P(4, 1, 3, 2, 1, KW=1, bits=2),
    "w1_k3p1": P(3, 1, 1, 3, 1, (1, 1, 1, 1), bits=4, style="distributed"),
    # windows wholly in the top/left padding wait for the frame's first beat
    "early_pad_t3": P(3, 4, 2, 2, 1, (3, 1, 1, 2), bits=3),
    "early_pad_l2": P(3, 3, 1, 2, 1, (1, 0, 2, 0), KW=2, bits=4),
}


def dims(p):
    OH = (p["IFM_DIM_H"] + p["PAD_T"] + p["PAD_B"] - p["K_H"]) // p["S_H"] + 1
    OW = (p["IFM_DIM_W"] + p["PAD_L"] + p["PAD_R"] - p["K_W"]) // p["S_W"] + 1
    return OH, OW


def real_pixel(p, pos):
    """Input pixel index (raster) of padded scan position ``pos``, or None for padding."""
    wp = p["IFM_DIM_W"] + p["PAD_L"] + p["PAD_R"]
    hp = p["IFM_DIM_H"] + p["PAD_T"] + p["PAD_B"]
    y, x = divmod(pos % (hp * wp), wp)
    y, x = y - p["PAD_T"], x - p["PAD_L"]
    if 0 <= y < p["IFM_DIM_H"] and 0 <= x < p["IFM_DIM_W"]:
        return y * p["IFM_DIM_W"] + x
    return None


@pytest.mark.sim
@pytest.mark.parametrize("case", list(CASES))
def test_swg_pw(case):
    p = CASES[case]
    assert_lint_clean("qloom_swg_pw", MODS, p)
    H, W, C, b = p["IFM_DIM_H"], p["IFM_DIM_W"], p["CHANNELS"], p["ELEM_BITS"]
    KK = p["K_H"] * p["K_W"]
    sim = build_sim("qloom_swg_pw", MODS, p, C * b, KK * C * b)
    rng = np.random.default_rng(sum(map(ord, case)))
    OH, OW = dims(p)
    frames = 3
    n_out = OH * OW
    geo = {k: p[k] for k in ("K_H", "K_W", "S_H", "S_W", "PAD_T", "PAD_B", "PAD_L", "PAD_R")}
    ii = cycles_qloom_swg_pw(p)
    assert ii == (H + p["PAD_T"] + p["PAD_B"]) * (W + p["PAD_L"] + p["PAD_R"])
    pos = swg_pw_window_pos(p)
    for gap, stall, seed in STALL_PATTERNS:
        imgs = rng.integers(-(1 << (b - 1)), 1 << (b - 1), size=(frames, H, W, C)) if b > 1 else \
            rng.integers(0, 2, size=(frames, H, W, C))
        # per output pixel: the window in (ky, kx, c) order = one output beat
        ref = np.concatenate([im2col_ref(img, **geo) for img in imgs])
        res = sim.run(pack_beats(imgs.reshape(-1), b, C), frames * n_out,
                      p_in_gap=gap, p_out_stall=stall, seed=seed)
        got = unpack_beats(res.outputs, b, KK * C, signed=b > 1)
        np.testing.assert_array_equal(got, ref, err_msg=f"{case} gap={gap} stall={stall}")
        assert len(res.out_cycles) == frames * n_out
        if stall == 0:
            # a window whose last scan position p is a real pixel scanned right after
            # another real one leaves 1 cycle after that pixel's input beat
            for f in range(frames):
                for j, q in enumerate(pos):
                    g = f * ii + q
                    px, prev = real_pixel(p, g), real_pixel(p, g - 1)
                    if px is not None and prev is not None:
                        d = res.out_cycles[f * n_out + j] - res.in_cycles[f * H * W + px]
                        assert d == 1, (case, gap, f, j, d)
        if gap == stall == 0:
            # the scan passes position q of frame f in cycle f*ii + q; its window leaves
            # one cycle later
            want = [f * ii + q + 1 for f in range(frames) for q in pos]
            assert res.out_cycles == want, (case, res.out_cycles[:8], want[:8])
            lasts = [res.out_cycles[(f + 1) * n_out - 1] for f in range(frames)]
            per_frame = (lasts[-1] - lasts[0]) / (frames - 1)
            assert cycles_ok("qloom_swg_pw", per_frame, ii), (per_frame, ii)
            assert per_frame == ii
            assert cycles_ok("qloom_swg_pw", res.cycles, frames * ii + latency_qloom_swg_pw(p)), (res.cycles, frames * ii)
            assert res.cycles == frames * ii + latency_qloom_swg_pw(p)


@pytest.mark.sim
def test_swg_pw_lint():
    """Lint clean on the corner cases: no line buffer (K_H = 1), no window register
    (K_W = 1), register line buffers (W = 1), strides beyond the kernel."""
    for p in (P(4, 6, 3, 1, 2, KW=3), P(5, 1, 2, 3, 1), P(9, 9, 1, 2, 3, (0, 2, 1, 0)),
              P(32, 32, 3, 3, 1, (1, 1, 1, 1))):
        assert_lint_clean("qloom_swg_pw", MODS, p)


@pytest.mark.synth
def test_swg_pw_synth():
    res = synth_check("qloom_swg_pw", MODS, P(6, 6, 4, 3, 1, (1, 1, 1, 1), bits=4))
    # window and output registers 2 * 9*16 bits + skid 16 + line reads 2*16 + counters
    assert 2 * 9 * 16 + 16 <= res.ffs <= 2 * 9 * 16 + 16 + 2 * 16 + 40, res.cells
