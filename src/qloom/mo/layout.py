"""DRAM byte layout of the MO engine (qloom.mo).

Packed records. A *record* is a row of ``n`` integer fields of ``bits`` bits each; field
``i`` sits at bits ``[i*bits +: bits]`` of the record's little-endian byte string (the same
lane order as an AXI4-Stream beat of the DF build, DESIGN.md "Layout"), and a record takes
``record_bytes(n, bits)`` = ceil(n*bits / 8) whole bytes. Signed fields are two's
complement; bipolar fields (values -1/+1) are 1 bit, 1 -> +1, 0 -> -1.

* a feature map (H, W, C) (a vector (C,) is H = W = 1) is one record per pixel of C
  elements, pixels in raster order (NHWC): pixel (y, x) at ``base + (y*W + x) * PB`` with
  PB = record_bytes(C, bits);
* an MVAU layer's weights, zero-padded to MHp = ceil(MH/PE)*PE rows and MWp =
  ceil(MW/SIMD)*SIMD columns, are NF*SF records (words) of PE*SIMD fields: word
  ``nf*SF + sf``, lane ``p*SIMD + s`` = ``W[nf*PE + p][sf*SIMD + s]`` (qloom_mvau's weight
  ROM order, :func:`qloom.ops.mvau.mvau_weight_words`);
* thresholds are one record per output channel (MHp rows) of NT signed fields of T_BITS.
"""
from __future__ import annotations

import numpy as np


def record_bytes(n: int, bits: int) -> int:
    """Bytes of one record of ``n`` fields of ``bits`` bits (whole bytes)."""
    return (int(n) * int(bits) + 7) // 8


def pack(values: np.ndarray, bits: int, bipolar: bool = False) -> bytes:
    """int array (R, n) -> R records of n fields of ``bits`` bits (module docstring).
    Values must fit ``bits`` (two's complement when negative); bipolar -1/+1 -> 0/1."""
    v = np.asarray(values, dtype=np.int64)
    if v.ndim == 1:
        v = v[None]
    r, n = v.shape
    if bipolar:
        v, bits = (v > 0).astype(np.int64), 1
    u = v & ((1 << bits) - 1)
    bitarr = ((u[..., None] >> np.arange(bits, dtype=np.int64)) & 1).astype(np.uint8)
    bitarr = bitarr.reshape(r, n * bits)
    pad = record_bytes(n, bits) * 8 - n * bits
    if pad:
        bitarr = np.concatenate([bitarr, np.zeros((r, pad), np.uint8)], axis=1)
    return np.packbits(bitarr, axis=1, bitorder="little").tobytes()


def unpack(data, rows: int, n: int, bits: int, signed: bool, bipolar: bool = False) -> np.ndarray:
    """``rows`` records of ``n`` fields (bytes-like of rows * record_bytes(n, bits)) ->
    int64 array (rows, n); the inverse of :func:`pack`."""
    rb = record_bytes(n, bits)
    a = np.frombuffer(bytes(data), dtype=np.uint8)
    if a.size != rows * rb:
        raise ValueError(f"expected {rows * rb} bytes for {rows} records of {n} x {bits} bits, got {a.size}")
    bitarr = np.unpackbits(a.reshape(rows, rb), axis=1, bitorder="little")[:, : n * bits]
    bitarr = bitarr.reshape(rows, n, bits).astype(np.int64)
    v = (bitarr << np.arange(bits, dtype=np.int64)).sum(axis=-1)
    if bipolar:
        return 2 * v - 1
    if signed:
        v = np.where(v >= (1 << (bits - 1)), v - (1 << bits), v)
    return v


def weight_records(W: np.ndarray, pe: int, simd: int) -> np.ndarray:
    """MH x MW matrix -> (NF*SF, PE*SIMD) lane values in the weight-word order (module
    docstring), zero-padded to whole PE x SIMD blocks."""
    W = np.asarray(W, dtype=np.int64)
    mh, mw = W.shape
    mhp, mwp = -(-mh // pe) * pe, -(-mw // simd) * simd
    Wp = np.zeros((mhp, mwp), dtype=np.int64)
    Wp[:mh, :mw] = W
    f = Wp.reshape(mhp // pe, pe, mwp // simd, simd).transpose(0, 2, 1, 3)
    return f.reshape(-1, pe * simd)


def weights_from_records(rec: np.ndarray, nf: int, sf: int, pe: int, simd: int) -> np.ndarray:
    """(nf*sf, PE*SIMD) lane values -> the (nf*PE, sf*SIMD) block of the matrix they hold."""
    return rec.reshape(nf, sf, pe, simd).transpose(0, 2, 1, 3).reshape(nf * pe, sf * simd)
