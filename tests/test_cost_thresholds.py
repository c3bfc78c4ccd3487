"""The threshold comparator split of the resource model (qloom.cost.parts.cmp_bits) on
threshold words built from numpy arrays (qloom.ops.base.threshold_words): the bit
positions that vary across channels are counted from the array itself (numpy), constant
columns are constant compares, dead and duplicate columns are dropped."""
from __future__ import annotations

import numpy as np

from qloom.cost.parts import cmp_bits
from qloom.ops.base import threshold_words


def _varying_bits(col: np.ndarray, bits: int) -> int:
    u = col.astype(np.int64) & ((1 << bits) - 1)
    return bin(int(np.bitwise_or.reduce(u)) ^ int(np.bitwise_and.reduce(u))).count("1")


def test_cmp_bits_counts_the_varying_bits_of_each_comparator():
    rng = np.random.default_rng(1)
    bits, cw, nf, nt = 10, 12, 8, 4
    T = np.stack([rng.integers(-200, -100, nf),  # varying
                  np.full(nf, 17),  # constant over the channels
                  rng.integers(100, 200, nf) & ~0xF | 0x3,  # low bits constant
                  rng.integers(210, 255, nf)], axis=1)
    words = threshold_words(T, 1, bits)
    var, const = cmp_bits(words, nt, bits, cw)
    want = [_varying_bits(T[:, k], bits) for k in range(nt)]
    assert want[1] == 0 and 0 < want[2] <= bits - 4
    assert var == sum(want)
    assert const == nt * cw - sum(want)
    assert cmp_bits(None, nt, bits, cw) == (nt * cw, 0.0)


def test_cmp_bits_drops_dead_and_shared_comparators():
    bits, cw, nf = 8, 9, 4
    lo = -(1 << (bits - 1))
    # PE 2 lanes of 3 thresholds: lane 0 has a column at the minimum (always true) and two
    # equal columns (one comparator); lane 1 the same values as lane 0's but another input
    col = np.array([5, 9, 5, 9])
    T = np.zeros((nf * 2, 3), dtype=np.int64)
    for nf_i in range(nf):
        for p in range(2):
            T[nf_i * 2 + p] = [lo, col[nf_i], col[nf_i]]
    words = threshold_words(T, 2, bits)
    var, const = cmp_bits(words, 2 * 3, bits, cw, lo=lo, group=3)
    per = _varying_bits(col, bits)
    assert var == 2 * per  # one live comparator per lane
    assert const == 2 * (cw - per)
