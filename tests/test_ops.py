"""Each operator's numpy semantics against an independent, loop-based numpy reference."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from qloom.ops import MVAU, SWG, VVAU, LabelSelect, StreamingMaxPool, SumPool, Thresholding, apply_thresholds
from qloom.ops.swg import conv_out_dim
from qloom.passes.thresholds import find_thresholds
from qloom.types import BIPOLAR, IntType

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


def rand_of(rng, t: IntType, shape):
    if t.bipolar:
        return rng.choice([-1, 1], size=shape).astype(np.int64)
    return rng.integers(t.min, t.max + 1, size=shape).astype(np.int64)


def brute_thresholds(acc, thr, out_bias, bipolar=False):
    out = np.zeros(acc.shape, np.int64)
    for idx in np.ndindex(acc.shape):
        c = idx[-1]
        n = sum(1 for t in thr[c] if acc[idx] >= t)
        out[idx] = 2 * n - 1 if bipolar else n + out_bias
    return out


types = st.sampled_from([BIPOLAR] + [IntType(b, s) for b in (1, 2, 3, 4, 8) for s in (False, True) if not (b == 1 and s)])


@SETTINGS
@given(st.integers(0, 2**31 - 1), types, types, st.integers(1, 20), st.integers(1, 9),
       st.integers(0, 16), st.booleans())
def test_mvau_matches_loops(seed, in_t, w_t, mw, mh, n_thr, spatial):
    rng = np.random.default_rng(seed)
    w = rand_of(rng, w_t, (mh, mw))
    lead = (2, 3) if spatial else ()
    x = rand_of(rng, in_t, (3,) + lead + (mw,))
    thr = np.sort(rng.integers(-40, 40, size=(mh, n_thr)), axis=1) if n_thr else None
    op = MVAU("m", lead + (mw,), lead + (mh,), in_t, IntType(8, True), weights=w, weight_type=w_t,
              acc_type=IntType(32, True), thresholds=thr, out_bias=-3)
    got = op.execute(x)
    acc = np.zeros(x.shape[:-1] + (mh,), np.int64)
    for idx in np.ndindex(x.shape[:-1]):
        for r in range(mh):
            acc[idx + (r,)] = sum(int(w[r, c]) * int(x[idx + (c,)]) for c in range(mw))
    want = acc if thr is None else brute_thresholds(acc, thr, -3)
    np.testing.assert_array_equal(got, want)
    assert op.macs == int(np.prod(lead, dtype=int)) * mh * mw


def test_thresholds_bipolar_output():
    acc = np.array([[-3, 0, 5]])
    thr = np.array([[0], [1], [5]])
    np.testing.assert_array_equal(apply_thresholds(acc, thr, 0, BIPOLAR), [[-1, -1, 1]])


@SETTINGS
@given(st.integers(0, 2**31 - 1), st.integers(1, 6), st.integers(0, 300))
def test_apply_thresholds_many_levels(seed, c, t):
    rng = np.random.default_rng(seed)
    acc = rng.integers(-1000, 1000, size=(4, 5, c))
    thr = np.sort(rng.integers(-1100, 1100, size=(c, t)), axis=1)
    got = apply_thresholds(acc, thr, 7, IntType(12, True))
    want = (acc[..., None] >= thr[None, None]).sum(-1) + 7
    np.testing.assert_array_equal(got, want)


@SETTINGS
@given(st.integers(0, 2**31 - 1), st.integers(1, 7), st.integers(1, 7), st.integers(1, 3),
       st.integers(1, 3), st.integers(0, 3), st.integers(1, 3))
def test_swg_matches_loops(seed, k_h, k_w, s_h, s_w, pad, c):
    rng = np.random.default_rng(seed)
    h, w = k_h + rng.integers(0, 6), k_w + rng.integers(0, 6)
    pads = (pad, pad // 2, pad // 3, pad)
    oh = conv_out_dim(h, k_h, s_h, pads[0], pads[2])
    ow = conv_out_dim(w, k_w, s_w, pads[1], pads[3])
    x = rng.integers(-8, 8, size=(2, h, w, c))
    op = SWG("s", (h, w, c), (oh, ow, k_h * k_w * c), IntType(4, True), IntType(4, True),
             kernel=(k_h, k_w), stride=(s_h, s_w), pads=pads)
    got = op.execute(x)
    want = np.zeros((2, oh, ow, k_h * k_w * c), np.int64)
    for n in range(2):
        for oy in range(oh):
            for ox in range(ow):
                j = 0
                for ky in range(k_h):
                    for kx in range(k_w):
                        for ch in range(c):
                            iy, ix = oy * s_h + ky - pads[0], ox * s_w + kx - pads[1]
                            inside = 0 <= iy < h and 0 <= ix < w
                            want[n, oy, ox, j] = x[n, iy, ix, ch] if inside else 0
                            j += 1
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind", ["max", "sum"])
@pytest.mark.parametrize("k, s, h, w", [(2, 2, 8, 8), (3, 2, 9, 7), (2, 1, 5, 6), (3, 3, 9, 9)])
def test_pools_match_loops(kind, k, s, h, w):
    rng = np.random.default_rng(k * 100 + s * 10 + h)
    c = 3
    t = IntType(4, True)
    oh, ow = conv_out_dim(h, k, s, 0, 0), conv_out_dim(w, k, s, 0, 0)
    x = rng.integers(-8, 8, size=(2, h, w, c))
    cls = StreamingMaxPool if kind == "max" else SumPool
    op = cls("p", (h, w, c), (oh, ow, c), t, t, kernel=(k, k), stride=(s, s))
    got = op.execute(x)
    red = np.max if kind == "max" else np.sum
    want = np.zeros((2, oh, ow, c), np.int64)
    for n, oy, ox, ch in np.ndindex(want.shape):
        want[n, oy, ox, ch] = red(x[n, oy * s : oy * s + k, ox * s : ox * s + k, ch])
    np.testing.assert_array_equal(got, want)


def test_vvau_matches_loops():
    rng = np.random.default_rng(3)
    c, k = 4, 9
    w = rng.integers(-8, 8, size=(c, k))
    x = rng.integers(0, 16, size=(2, 3, 3, k * c))
    op = VVAU("v", (3, 3, k * c), (3, 3, c), IntType(4, False), IntType(32, True), weights=w,
              weight_type=IntType(4, True), acc_type=IntType(32, True))
    got = op.execute(x)
    want = np.zeros((2, 3, 3, c), np.int64)
    for idx in np.ndindex(2, 3, 3):
        for ch in range(c):
            want[idx + (ch,)] = sum(w[ch, j] * x[idx + (j * c + ch,)] for j in range(k))
    np.testing.assert_array_equal(got, want)


def test_vvau_folding_cycles_and_weight_layout():
    """FINN's VVAU folding: PE over channels, SIMD over the kernel (SIMD > 1 only with all
    channels: the SWG streams c innermost); cycles = pixels * C/PE * K/SIMD; the ROM word
    kf*NF + nf holds W[nf*PE + p][kf*SIMD + s] at lane s*PE + p."""
    from qloom.ops.vvau import vvau_weight_words

    rng = np.random.default_rng(4)
    c, k = 6, 9
    w = rng.integers(-8, 8, size=(c, k))
    op = VVAU("v", (5, 5, k * c), (5, 5, c), IntType(4, False), IntType(32, True), weights=w,
              weight_type=IntType(4, True), acc_type=IntType(32, True))
    space = op.knob_space()
    assert space["PE"].values == (1, 2, 3, 6) and space["SIMD"].values == (1, 3, 9)
    assert op.legal({"PE": 2, "SIMD": 1}) and op.legal({"PE": 6, "SIMD": 3})
    assert not op.legal({"PE": 3, "SIMD": 3})
    for pe, simd in [(1, 1), (2, 1), (6, 1), (6, 3), (6, 9)]:
        assert op.cycles({"PE": pe, "SIMD": simd}) == 25 * (c // pe) * (k // simd)
        assert op.in_elems({"PE": pe, "SIMD": simd}) == pe * simd
        words = vvau_weight_words(w, pe, simd, 4)
        nf = c // pe
        for idx, word in enumerate(words):
            kf, f = divmod(idx, nf)
            for s in range(simd):
                for p in range(pe):
                    v = (word >> ((s * pe + p) * 4)) & 15
                    v = v - 16 if v >= 8 else v
                    assert v == w[f * pe + p, kf * simd + s]


def test_thresholding_and_labelselect():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 50, size=(6, 10))
    thr = np.sort(rng.integers(0, 50, size=(10, 3)), axis=1)
    op = Thresholding("t", (10,), (10,), IntType(6, False), IntType(2, False), thresholds=thr)
    np.testing.assert_array_equal(op.execute(x), brute_thresholds(x, thr, 0))
    ls = LabelSelect("l", (10,), (3,), IntType(6, False), IntType(4, False), k=3)
    x[0, :] = 7  # ties: lower index first
    got = ls.execute(x)
    for n in range(len(x)):
        want = sorted(range(10), key=lambda i: (-x[n, i], i))[:3]
        assert list(got[n]) == want


@SETTINGS
@given(st.integers(0, 2**31 - 1), st.integers(1, 5), st.integers(1, 15),
       st.sampled_from([10, 300, 70000, 2**31]))
def test_find_thresholds_matches_brute_force(seed, c, n_levels, width):
    """Random monotone step functions (increasing and decreasing channels), narrow ranges
    (sweep) and wide ones (bisection): the thresholds reproduce the function everywhere."""
    rng = np.random.default_rng(seed)
    lo = -rng.integers(0, width, size=c)
    hi = lo + rng.integers(0, width, size=c)
    steps = [np.sort(rng.integers(lo[i] - 2, hi[i] + 3, size=n_levels)) for i in range(c)]
    sign = rng.choice([-1, 1], size=c)

    def level_fn(x):
        out = np.zeros(x.shape, np.int64)
        for i in range(c):
            v = x[:, i] * sign[i]
            out[:, i] = np.searchsorted(steps[i] * 1, v, side="right") if sign[i] > 0 else \
                np.searchsorted(np.sort(-steps[i]), v, side="right")
        return out

    thr, got_sign = find_thresholds(level_fn, lo, hi, n_levels)
    for i in range(c):
        xs = np.unique(np.concatenate([np.linspace(lo[i], hi[i], 200).astype(np.int64),
                                       np.clip(np.concatenate([steps[i] - 1, steps[i], steps[i] + 1, -steps[i]]), lo[i], hi[i])]))
        want = level_fn(np.tile(xs[:, None], (1, c)))[:, i]
        got = (got_sign[i] * xs[:, None] >= thr[i][None, :]).sum(1)
        np.testing.assert_array_equal(got, want)
