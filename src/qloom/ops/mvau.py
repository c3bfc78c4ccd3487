"""MVAU and VVAU: integer matrix-vector (and depthwise vector-vector) products with fused
thresholds (FINN-R, Blott et al. 2018, Sec. 4: the Matrix-Vector-Activation Unit).

Folding (FINN-R Sec. 4.2): PE output rows and SIMD input columns in parallel, MH % PE == 0,
MW % SIMD == 0; one input vector takes (MH / PE) * (MW / SIMD) cycles.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.ops.base import HWOp, RtlInstance, apply_thresholds, divisors
from qloom.types import IntType


def _exact_matmul(x: np.ndarray, w_t: np.ndarray, bound: int) -> np.ndarray:
    """Integer x @ w_t through float BLAS, exact because every partial sum stays below the
    float's integer range (2**24 for float32, 2**53 for float64); int64 otherwise."""
    lead = x.shape[:-1]
    x = x.reshape(-1, x.shape[-1])  # 2D: stacked matmuls do not reach BLAS
    return _matmul_2d(x, w_t, bound).reshape(lead + (w_t.shape[1],))


def _matmul_2d(x, w_t, bound):
    for ft, limit, it in ((np.float32, 2**24, np.int32), (np.float64, 2**53, np.int64)):
        if bound < limit:
            return (x.astype(ft) @ w_t.astype(ft)).astype(it)
    return x.astype(np.int64) @ w_t.astype(np.int64)


@dataclass(frozen=True, eq=False)
class MVAU(HWOp):
    """Matrix-vector-activation unit: ``y = act(W @ x)`` for every input vector.

    Shapes: input ``(..., MW)``, output ``(..., MH)`` (the leading dims are the pixels of a
    convolution after the SWG, or empty for a fully-connected layer).

    Attributes
    ----------
    weights : int64 (MH, MW)
        Integer weights (bipolar weights as -1/+1); column order matches the input stream
        (for convolutions: (ky, kx, c) with c innermost, as the SWG emits it).
    weight_type : IntType
    acc_type : IntType
        Wide enough for every reachable accumulator value (no overflow).
    thresholds : int64 (MH, T) or None
        Fused MultiThreshold activation; None outputs the raw accumulator (``acc_type``).
    out_bias : int
        Added to the threshold count.
    """

    op_type: ClassVar[str] = "MVAU"

    weights: np.ndarray = None
    weight_type: IntType = None
    acc_type: IntType = None
    thresholds: np.ndarray | None = None
    out_bias: int = 0

    @property
    def mw(self) -> int:
        return int(self.weights.shape[1])

    @property
    def mh(self) -> int:
        return int(self.weights.shape[0])

    @property
    def vectors(self) -> int:
        """Input vectors per frame (output pixels of a convolution, 1 for a dense layer)."""
        return int(np.prod(self.in_shape[:-1], dtype=np.int64))

    def accumulate(self, x: np.ndarray) -> np.ndarray:
        """x int64 (N, ..., MW) -> acc int64 (N, ..., MH)."""
        bound = self.mw * max(abs(self.in_type.min), abs(self.in_type.max)) * max(
            abs(self.weight_type.min), abs(self.weight_type.max))
        return _exact_matmul(x, self.weights.T, bound)

    def execute(self, x: np.ndarray) -> np.ndarray:
        acc = self.accumulate(x)
        if self.thresholds is None:
            return acc
        return apply_thresholds(acc, self.thresholds, self.out_bias, self.out_type)

    @property
    def macs(self) -> int:
        return self.vectors * self.mh * self.mw

    @property
    def weight_count(self) -> int:
        return int(self.weights.size)

    @property
    def threshold_count(self) -> int:
        return 0 if self.thresholds is None else int(self.thresholds.size)

    def describe(self) -> str:
        t = "acc" if self.thresholds is None else f"T={self.thresholds.shape[1]}"
        return f"MH={self.mh} MW={self.mw} W:{self.weight_type} {t}"

    def knobs(self) -> dict[str, list[int]]:
        return {"PE": divisors(self.mh), "SIMD": divisors(self.mw)}

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_mvau`` (rtl/verilog/qloom_mvau.v): weights and thresholds as .mem files.

        With bipolar weights and inputs the datapath is XNOR-popcount and the thresholds
        are converted to the popcount domain (pop >= ceil((t + MW) / 2)).
        """
        return mvau_instance(self.name, self.weights, self.weight_type, self.in_type,
                             self.thresholds, self.out_bias, self.out_type,
                             self.acc_type, fold)

    def in_elems(self, fold: dict) -> int:
        return int(fold.get("SIMD", 1))

    def cycles(self, fold: dict) -> int:
        """vectors * (MH / PE) * (MW / SIMD) (FINN-R Sec. 4.2; one weight word per cycle)."""
        return self.vectors * (self.mh // int(fold.get("PE", 1))) * (self.mw // int(fold.get("SIMD", 1)))

    def out_times(self, fold: dict, a_in: np.ndarray) -> np.ndarray:
        return mvau_out_times(self.mh, self.mw, fold, a_in, self.thresholds is not None)


@dataclass(frozen=True, eq=False)
class VVAU(HWOp):
    """Vector-vector-activation unit for depthwise convolutions (FINN's VVAU).

    Input ``(..., K*C)`` from the SWG in (ky, kx, c) order, output ``(..., C)``:
    ``acc[c] = sum_k weights[c, k] * x[k*C + c]``, then thresholds as in :class:`MVAU`.

    weights : int64 (C, K) with K = kernel_h * kernel_w.
    """

    op_type: ClassVar[str] = "VVAU"

    weights: np.ndarray = None
    weight_type: IntType = None
    acc_type: IntType = None
    thresholds: np.ndarray | None = None
    out_bias: int = 0

    @property
    def channels(self) -> int:
        return int(self.weights.shape[0])

    @property
    def kernel_size(self) -> int:
        return int(self.weights.shape[1])

    def execute(self, x: np.ndarray) -> np.ndarray:
        C, K = self.weights.shape
        xs = x.reshape(x.shape[:-1] + (K, C)).astype(np.int64)
        acc = np.einsum("...kc,ck->...c", xs, self.weights.astype(np.int64))
        if self.thresholds is None:
            return acc
        return apply_thresholds(acc, self.thresholds, self.out_bias, self.out_type)

    @property
    def macs(self) -> int:
        return int(np.prod(self.out_shape, dtype=np.int64)) * self.kernel_size

    @property
    def weight_count(self) -> int:
        return int(self.weights.size)

    @property
    def threshold_count(self) -> int:
        return 0 if self.thresholds is None else int(self.thresholds.size)

    def describe(self) -> str:
        t = "acc" if self.thresholds is None else f"T={self.thresholds.shape[1]}"
        return f"C={self.channels} K={self.kernel_size} W:{self.weight_type} {t}"

    # The RTL realizes a VVAU as an MVAU with a block-diagonal (C x K*C) weight matrix
    # (``qloom_mvau``), so its knobs and cycles are that MVAU's. A dedicated vector-vector
    # datapath would be C times faster and smaller; it is future work.
    def block_diagonal(self) -> np.ndarray:
        """(C, K*C) weights: row c holds weights[c, k] at column k*C + c (SWG order)."""
        C, K = self.weights.shape
        w = np.zeros((C, K * C), dtype=np.int64)
        for k in range(K):
            w[np.arange(C), k * C + np.arange(C)] = self.weights[:, k]
        return w

    def knobs(self) -> dict[str, list[int]]:
        return {"PE": divisors(self.channels), "SIMD": divisors(self.kernel_size * self.channels)}

    def in_elems(self, fold: dict) -> int:
        return int(fold.get("SIMD", 1))

    def cycles(self, fold: dict) -> int:
        """pixels * (C / PE) * (K*C / SIMD) (the block-diagonal MVAU)."""
        pixels = int(np.prod(self.out_shape[:-1], dtype=np.int64))
        kc = self.kernel_size * self.channels
        return pixels * (self.channels // int(fold.get("PE", 1))) * (kc // int(fold.get("SIMD", 1)))

    def out_times(self, fold: dict, a_in: np.ndarray) -> np.ndarray:
        c = self.channels
        return mvau_out_times(c, self.kernel_size * c, fold, a_in, self.thresholds is not None)

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_mvau`` with the block-diagonal weight matrix."""
        wt = self.weight_type
        if wt.bipolar:  # zeros off the diagonal are not bipolar: store as 2-bit signed
            wt = IntType(2, True)
        return mvau_instance(self.name, self.block_diagonal(), wt, self.in_type, self.thresholds,
                             self.out_bias, self.out_type, self.acc_type, fold)


def mvau_out_times(mh: int, mw: int, fold: dict, a_in: np.ndarray, thresholds: bool) -> np.ndarray:
    """Latency model of qloom_mvau (qloom.dse.latency): vector i is read during the first
    of its NF passes, overlapping its arrival (its last beat at ``a_in[i]``), then takes
    (NF-1)*SF more cycles, NF*SF after the previous vector at the earliest, and leaves
    ``latency_mvau`` cycles later."""
    from qloom.dse.latency import serve
    from qloom.rtl.cycles import latency_mvau

    simd = int(fold.get("SIMD", 1))
    nf, sf = mh // int(fold.get("PE", 1)), mw // simd
    return serve(a_in - sf, nf * sf) + latency_mvau(SIMD=simd, NUM_THRESH=int(thresholds))


# FINN's resType: how integer products are built (qloom_mvau MUL_STYLE)
MUL_STYLES = {"auto": 0, "lut": 1, "dsp": 2}


def mvau_instance(name, weights, wtype: IntType, in_type: IntType, thresholds, out_bias: int,
                  out_type: IntType, acc_type: IntType, fold: dict) -> RtlInstance:
    """Parameters and memory files of a ``qloom_mvau`` instance (shared by MVAU and the
    block-diagonal form of a VVAU)."""
    from qloom.rtl.memfiles import memh_text, mvau_weight_words, threshold_words, xnor_popcount_thresholds

    pe, simd = int(fold.get("PE", 1)), int(fold.get("SIMD", 1))
    mh, mw = weights.shape
    xnor = wtype.bipolar and in_type.bipolar
    nt = 0 if thresholds is None else int(thresholds.shape[1])
    if xnor:
        acc_bits = IntType.for_range(-mw - 1, mw + 1).bits
        thr = None if thresholds is None else xnor_popcount_thresholds(thresholds, mw)
    else:
        thr = thresholds
        lo, hi = acc_type.min, acc_type.max
        if thr is not None:
            lo, hi = min(lo, int(thr.min())), max(hi, int(thr.max()))
        acc_bits = max(IntType.for_range(min(lo, -1), hi).bits, 2)  # a signed accumulator
    if thr is not None:  # clamp thresholds that can never or always fire into range
        thr = np.clip(thr, -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1)
    wfile, tfile = f"{name}_weights.mem", f"{name}_thresholds.mem"

    def make_files():
        files = {wfile: memh_text(mvau_weight_words(weights, pe, simd, wtype.bits, bipolar=wtype.bipolar),
                                  pe * simd * wtype.bits)}
        if nt:
            files[tfile] = memh_text(threshold_words(thr, pe, acc_bits), pe * nt * acc_bits)
        return files

    out_bits = out_type.bits if nt else acc_bits
    params = dict(MW=mw, MH=mh, PE=pe, SIMD=simd, IN_BITS=in_type.bits,
                  IN_SIGNED=int(in_type.signed and not in_type.bipolar), IN_BIPOLAR=int(in_type.bipolar),
                  W_BITS=wtype.bits, W_SIGNED=int(wtype.signed and not wtype.bipolar),
                  W_BIPOLAR=int(wtype.bipolar), ACC_BITS=acc_bits, NUM_THRESH=nt,
                  OUT_BITS=out_bits, OUT_SIGNED=int(out_type.signed if nt else 1),
                  OUT_BIAS=int(out_bias) if nt and not out_type.bipolar else 0,
                  WEIGHT_FILE=wfile, THRESH_FILE=tfile if nt else "",
                  RAM_STYLE=fold.get("ram_style", "auto"))
    if not xnor and not wtype.bipolar and not in_type.bipolar:  # integer products
        params["MUL_STYLE"] = MUL_STYLES[fold.get("resType", "auto")]
    return RtlInstance("qloom_mvau", params, in_type.bits, out_bits,
                       bool(out_type.signed if nt else True) and not (nt and out_type.bipolar),
                       make_files, (wfile, tfile) if nt else (wfile,))
