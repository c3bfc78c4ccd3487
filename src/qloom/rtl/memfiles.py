"""Memory-initialisation ($readmemh) files for the qloom Verilog operators.

Layouts (see the header comments of the Verilog modules):

* ``qloom_mvau`` weights: NF*SF words, word ``nf*SF + sf``, weight ``(p, s)`` at
  bits ``[(p*SIMD + s)*W_BITS +: W_BITS]`` = ``W[nf*PE + p][sf*SIMD + s]``.
* thresholds (``qloom_mvau`` and ``qloom_thresholding``): NF words, word ``nf``,
  threshold ``(p, k)`` at bits ``[(p*NUM_THRESH + k)*T_BITS +: T_BITS]`` =
  ``T[nf*PE + p][k]`` (signed two's complement, ascending in k).
* XNOR-popcount MVAU (bipolar inputs and weights): thresholds are in the
  popcount domain; :func:`xnor_popcount_thresholds` converts from the
  accumulator (dot-product) domain.
"""
from __future__ import annotations

import os

import numpy as np

__all__ = [
    "mvau_weight_words",
    "threshold_words",
    "xnor_popcount_thresholds",
    "memh_text",
    "write_memh",
]


def _field(v: int, bits: int, what: str) -> int:
    v = int(v)
    if not -(1 << (bits - 1)) <= v < (1 << bits):
        raise ValueError(f"{what} value {v} does not fit {bits} bits")
    return v & ((1 << bits) - 1)


def mvau_weight_words(W, PE: int, SIMD: int, W_BITS: int, bipolar: bool = False) -> list[int]:
    """Weight ROM words of ``qloom_mvau`` for an MH x MW integer matrix ``W``.

    Bipolar weights are given as -1/+1 (stored as 0/1, ``W_BITS`` must be 1).
    """
    W = np.asarray(W)
    MH, MW = W.shape
    if MH % PE or MW % SIMD:
        raise ValueError(f"MH={MH} % PE={PE} or MW={MW} % SIMD={SIMD} != 0")
    if bipolar:
        if not np.isin(W, (-1, 1)).all():
            raise ValueError("bipolar weights must be -1/+1")
        W = (W > 0).astype(np.int64)
        W_BITS = 1
    NF, SF = MH // PE, MW // SIMD
    words = []
    for nf in range(NF):
        for sf in range(SF):
            word = 0
            for p in range(PE):
                for s in range(SIMD):
                    v = _field(W[nf * PE + p, sf * SIMD + s], W_BITS, "weight")
                    word |= v << ((p * SIMD + s) * W_BITS)
            words.append(word)
    return words


def threshold_words(T, PE: int, T_BITS: int) -> list[int]:
    """Threshold ROM words for a (rows x NUM_THRESH) array ``T`` (rows % PE == 0)."""
    T = np.asarray(T)
    if T.ndim == 1:
        T = T[:, None]
    rows, nt = T.shape
    if rows % PE:
        raise ValueError(f"{rows} rows not a multiple of PE={PE}")
    if nt > 1 and (np.diff(T, axis=1) < 0).any():
        raise ValueError("thresholds must be ascending along each row")
    words = []
    for nf in range(rows // PE):
        word = 0
        for p in range(PE):
            for k in range(nt):
                v = _field(T[nf * PE + p, k], T_BITS, "threshold")
                if not -(1 << (T_BITS - 1)) <= int(T[nf * PE + p, k]) < (1 << (T_BITS - 1)):
                    raise ValueError(f"threshold {int(T[nf * PE + p, k])} does not fit signed {T_BITS} bits")
                word |= v << ((p * nt + k) * T_BITS)
        words.append(word)
    return words


def xnor_popcount_thresholds(T, MW: int):
    """Accumulator-domain thresholds -> popcount domain for the XNOR MVAU.

    With pop = #{i: w_i == x_i}, the dot product is 2*pop - MW, and
    ``dot >= t  <=>  pop >= ceil((t + MW) / 2)``.
    """
    T = np.asarray(T, dtype=np.int64)
    return -((-(T + MW)) // 2)


def memh_text(words, width: int) -> str:
    """$readmemh text: one zero-padded hex word per line."""
    nd = max(1, (width + 3) // 4)
    return "".join(format(int(w), f"0{nd}x") + "\n" for w in words)


def write_memh(path: str | os.PathLike, words, width: int) -> None:
    with open(path, "w") as f:
        f.write(memh_text(words, width))
