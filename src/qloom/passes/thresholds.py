"""Threshold search: turn a monotone per-channel float chain into integer thresholds.

Between an integer producer (MVAU accumulator, SumPool, a quantized stream) and the next
activation quantizer, every op is elementwise per channel and monotone, so the quantizer's
output level is a per-channel step function of the integer input. Its steps are found by
evaluating the chain itself, in float32 as the QONNX reference does, at integer inputs:
a vectorized sweep when the input range is narrow, a vectorized bisection otherwise.
This is exact by construction (the result equals the chain at every integer input) and
needs no pattern per exporter quirk. (Streamlining: Umuroglu & Jahre, "Streamlined
Deployment for Quantized Neural Networks", 2017; thresholds = MultiThreshold semantics.)
"""
from __future__ import annotations

from typing import Callable

import numpy as np

SWEEP_LIMIT = 1 << 22  # evaluate every integer when range * channels is at most this


def find_thresholds(level_fn: Callable[[np.ndarray], np.ndarray], lo: np.ndarray,
                    hi: np.ndarray, n_levels: int):
    """Thresholds of a monotone per-channel step function of an integer.

    Parameters
    ----------
    level_fn : callable
        Maps int64 (P, C) inputs (column c is channel c) to int64 output levels (P, C) in
        0..n_levels; monotone (either direction, per channel) in its input.
    lo, hi : int64 (C,)
        Reachable input range per channel.
    n_levels : int
        Number of thresholds T (the highest level).

    Returns
    -------
    thresholds : int64 (C, T)
        For channel c, in the sign-adjusted domain ``a = sign[c] * x``:
        ``level(x) = #{k : a >= thresholds[c, k]}``; ascending.
    sign : int64 (C,)
        +1 where the level increases with x, -1 where it decreases.

    Raises
    ------
    ValueError
        The function is not monotone on a channel (found during a sweep).
    """
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    C = lo.size
    l_lo = level_fn(lo[None, :])[0]
    l_hi = level_fn(hi[None, :])[0]
    sign = np.where(l_hi >= l_lo, 1, -1).astype(np.int64)
    alo = np.where(sign > 0, lo, -hi)
    ahi = np.where(sign > 0, hi, -lo)
    ks = np.arange(1, n_levels + 1, dtype=np.int64)
    span = int((ahi - alo).max()) + 1 if C else 1
    if span * C <= SWEEP_LIMIT:
        r = np.arange(span, dtype=np.int64)[:, None]
        a = alo[None, :] + r
        valid = a <= ahi[None, :]
        a = np.minimum(a, ahi[None, :])
        lv = level_fn(sign[None, :] * a)
        if np.any(np.diff(lv, axis=0)[valid[1:]] < 0):
            bad = int(np.nonzero((np.diff(lv, axis=0) < 0) & valid[1:])[1][0])
            raise ValueError(f"the activation chain is not monotone in channel {bad}")
        below = (lv[:, :, None] < ks[None, None, :]) & valid[:, :, None]
        thr = alo[:, None] + below.sum(axis=0)  # (C, T)
        return thr.astype(np.int64), sign
    # bisection, all (level, channel) pairs at once: smallest a with g(a) >= k
    left = np.broadcast_to(alo[None, :], (n_levels, C)).copy()
    right = np.broadcast_to(ahi[None, :] + 1, (n_levels, C)).copy()
    while np.any(left < right):
        mid = (left + right) // 2
        probe = np.minimum(mid, ahi[None, :])
        ge = level_fn(sign[None, :] * probe) >= ks[:, None]
        act = left < right
        right = np.where(act & ge, mid, right)
        left = np.where(act & ~ge, mid + 1, left)
    return left.T.astype(np.int64), sign
