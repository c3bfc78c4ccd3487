"""Pooling: StreamingMaxPool and SumPool (average pooling without its division), with their
Verilog ``qloom_pool`` (qloom_swg + ``qloom_pool_reduce``; MODE 0 max, 1 sum) and the
pixel-streaming ``qloom_maxpool_pw`` (qloom_swg_pw + a compare chain): cycles, latency,
instance parameters and resource models.

The division of an average pool by the window size K*K is a scale; streamlining moves it
into the thresholds (or the output de-scaling) behind the SumPool, so hardware only adds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.cost.parts import Parts
from qloom.cost.replay import Mem, clog2
from qloom.instance import RtlInstance
from qloom.ops.base import CREDITS, HWOp, Knob, divisors, ram_style_knob
from qloom.ops.fifo import parts_qloom_fifo
from qloom.ops.swg import (cycles_qloom_swg, latency_qloom_swg, parts_qloom_swg, parts_qloom_swg_pw)
from qloom.stream import serve, window_ready

# How far Verilator may be from the formulas for a run of frames (relative, cycles): the
# pixel-streaming max pool is exact; qloom_pool's frame latency is up to 4 cycles
# pessimistic, 28 of 568 (4.9 %) with floor-mode rows left over
CYCLE_TOLERANCE = {"qloom_pool": (0.05, 4), "qloom_maxpool_pw": (0.0, 0)}
POOL_OUT_LATENCY = 8  # qloom_pool: last input row of an output row -> its first beat
POOL_PW_LATENCY = 3  # qloom_maxpool_pw: last pixel of a window -> its result
POOL_EXTRA_LATENCY = 4  # qloom_pool_reduce beyond qloom_swg for an isolated frame


# ----------------------------------------------------------------------------------------
# timing (``p``: the Verilog parameters of qloom_pool)
# ----------------------------------------------------------------------------------------

def _as_swg(p) -> dict:
    """qloom_pool parameters -> those of the qloom_swg inside (K_W defaults to
    K_H, strides to the kernel, as in the Verilog)."""
    k_w = p.get("K_W") or p["K_H"]
    return dict(IFM_DIM_H=p["IFM_DIM_H"], IFM_DIM_W=p["IFM_DIM_W"], CHANNELS=p["CHANNELS"],
                SIMD=p.get("PE", 1), K_H=p["K_H"], K_W=k_w, S_H=p.get("S_H") or p["K_H"],
                S_W=p.get("S_W") or k_w, PAD_T=p.get("PAD_T", 0), PAD_B=p.get("PAD_B", 0),
                PAD_L=p.get("PAD_L", 0), PAD_R=p.get("PAD_R", 0))


def cycles_qloom_pool(p) -> int:
    """qloom_pool (= qloom_swg + window reduction): max(window beats,
    input beats) (:func:`qloom.ops.swg.cycles_qloom_swg`)."""
    return cycles_qloom_swg(_as_swg(p))


def latency_qloom_pool(p) -> int:
    """Extra cycles of an isolated frame for qloom_pool."""
    return latency_qloom_swg(_as_swg(p)) + POOL_EXTRA_LATENCY


def _pool_out_times(op, fold, a_in):
    """qloom_pool: an output row starts once its last input row is in,
    POOL_OUT_LATENCY cycles later, K_H*K_W*C/PE beats per window; the pixel-streaming
    qloom_maxpool_pw reduces a window POOL_PW_LATENCY cycles after its last pixel."""
    pw = int(fold.get("parallel_window", 0))
    ready = window_ready(a_in, op.in_shape, op.out_shape, op.kernel, op.stride, op.pads, rows=not pw)
    if pw:
        return serve(ready + POOL_PW_LATENCY, 1.0)
    return serve(ready + POOL_OUT_LATENCY, op.kernel[0] * op.kernel[1] * op.in_shape[-1] / int(fold.get("PE", 1)))


# ----------------------------------------------------------------------------------------
# resource models (coefficients in qloom/cost/coef)
# ----------------------------------------------------------------------------------------

def parts_qloom_maxpool_pw(IFM_DIM_H=4, IFM_DIM_W=4, CHANNELS=1, K_H=2, K_W=None, S_H=None,
                           S_W=None, ELEM_BITS=8, SIGNED=0, RAM_STYLE="auto", family="xc7",
                           files=None) -> Parts:
    """qloom_maxpool_pw: qloom_swg_pw + a chain of K_H*K_W - 1 compare/selects per channel
    (feature "cmp" = compared bits; about 2 LUT per bit on xc7, fitted to 4 Yosys runs)
    + a 2-word distributed qloom_fifo of CHANNELS*ELEM_BITS bits."""
    K_W = K_H if K_W is None else K_W
    S_H = K_H if S_H is None else S_H
    S_W = K_W if S_W is None else S_W
    P = Parts("qloom_maxpool_pw")
    P.add(parts_qloom_swg_pw(IFM_DIM_H=IFM_DIM_H, IFM_DIM_W=IFM_DIM_W, CHANNELS=CHANNELS,
                             K_H=K_H, K_W=K_W, S_H=S_H, S_W=S_W, ELEM_BITS=ELEM_BITS,
                             RAM_STYLE=RAM_STYLE, family=family))
    P.add(parts_qloom_fifo(WIDTH=CHANNELS * ELEM_BITS, DEPTH=2, RAM_STYLE="distributed", family=family))
    P.feat("cmp", CHANNELS * (K_H * K_W - 1) * ELEM_BITS)
    return P


def parts_qloom_pool_reduce(WINDOW=4, CF=1, PE=1, ELEM_BITS=8, SIGNED=0, MODE=0, OUT_BITS=8,
                            CREDITS=CREDITS, family="xc7", files=None) -> Parts:
    """qloom_pool_reduce: CF partial results (LUT-RAM, read and written at the same
    address), PE max/add units, a CREDITS-word output FIFO."""
    P = Parts("qloom_pool_reduce")
    OB = OUT_BITS
    # part[cf] is read combinationally at the address register cf: Yosys moves that
    # register into a synchronous read port that must see the write of the previous beat
    P.add_mem(Mem("part", CF, PE * OB, trans=True), family)
    P.add(parts_qloom_fifo(WIDTH=PE * OB, DEPTH=CREDITS, RAM_STYLE="distributed", family=family))
    P.ff += clog2(CF) + clog2(WINDOW) + clog2(CREDITS + 1) + 1 + PE * OB  # cf, w, pending, ov, o
    P.feat("const", 1)
    P.feat("max" if MODE == 0 else "add", PE * OB)
    return P


def _pool_common(IFM_DIM_H, IFM_DIM_W, CHANNELS, PE, K_H, K_W, S_H, S_W, ELEM_BITS, SIGNED,
                 RAM_STYLE, family, mode, out_bits, pads=(0, 0, 0, 0)) -> Parts:
    P = Parts("pool")
    t, b, l, r = pads
    P.add(parts_qloom_swg(IFM_DIM_H=IFM_DIM_H, IFM_DIM_W=IFM_DIM_W, CHANNELS=CHANNELS, SIMD=PE,
                          K_H=K_H, K_W=K_W, S_H=S_H, S_W=S_W, PAD_T=t, PAD_B=b, PAD_L=l, PAD_R=r,
                          ELEM_BITS=ELEM_BITS, RAM_STYLE=RAM_STYLE, family=family))
    P.add(parts_qloom_pool_reduce(WINDOW=K_H * K_W, CF=CHANNELS // PE, PE=PE, ELEM_BITS=ELEM_BITS,
                                  SIGNED=SIGNED, MODE=mode, OUT_BITS=out_bits, family=family))
    return P


def parts_qloom_pool(IFM_DIM_H=4, IFM_DIM_W=4, CHANNELS=1, PE=1, K_H=2, K_W=None, S_H=None,
                     S_W=None, PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0, ELEM_BITS=8, SIGNED=0, MODE=0,
                     OUT_BITS=None, RAM_STYLE="auto", family="xc7", files=None) -> Parts:
    """qloom_pool (MODE 0 max, 1 sum): qloom_swg + qloom_pool_reduce."""
    K_W = K_H if K_W is None else K_W
    S_H = K_H if S_H is None else S_H
    S_W = K_W if S_W is None else S_W
    OUT_BITS = ELEM_BITS if OUT_BITS is None else OUT_BITS
    return _pool_common(IFM_DIM_H, IFM_DIM_W, CHANNELS, PE, K_H, K_W, S_H, S_W, ELEM_BITS, SIGNED,
                        RAM_STYLE, family, MODE, OUT_BITS, (PAD_T, PAD_B, PAD_L, PAD_R))


# ----------------------------------------------------------------------------------------
# the operators
# ----------------------------------------------------------------------------------------

def _windows(x, kernel, stride, pads, pad_value, out_hw):
    t, l, b, r = pads
    if any(pads):
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=pad_value)
    win = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(1, 2))
    oh, ow = out_hw
    return win[:, : (oh - 1) * stride[0] + 1 : stride[0], : (ow - 1) * stride[1] + 1 : stride[1]]


@dataclass(frozen=True, eq=False)
class _Pool(HWOp):
    """What the two pools share: a window scan of (H, W, C) -> (OH, OW, C), PE channels
    per beat, the qloom_swg-based RTL."""

    kernel: tuple[int, int] = (2, 2)
    stride: tuple[int, int] = (2, 2)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)

    def own_knobs(self) -> dict[str, Knob]:
        return {"PE": Knob(tuple(divisors(self.fold_channels))), "ram_style": ram_style_knob(searched=False)}

    mode: ClassVar[int] = 0  # qloom_pool MODE: 0 max, 1 sum

    def _params(self, fold: dict) -> dict:
        """qloom_pool's parameters (the pixel-streaming max pool takes them without PE,
        the padding, MODE and OUT_BITS)."""
        h, w, c = self.in_shape
        t, l, b, r = self.pads
        return dict(IFM_DIM_H=h, IFM_DIM_W=w, CHANNELS=c, PE=int(fold.get("PE", 1)),
                    K_H=self.kernel[0], K_W=self.kernel[1], S_H=self.stride[0], S_W=self.stride[1],
                    PAD_T=t, PAD_B=b, PAD_L=l, PAD_R=r, ELEM_BITS=self.in_type.bits,
                    SIGNED=int(self.in_type.signed and not self.in_type.bipolar), MODE=self.mode,
                    OUT_BITS=self.out_type.bits, RAM_STYLE=fold.get("ram_style", "auto"))

    def cycles(self, fold: dict) -> int:
        return cycles_qloom_pool(self._params(fold))

    def out_times(self, fold: dict, a_in: np.ndarray) -> np.ndarray:
        return _pool_out_times(self, fold, a_in)

    def describe(self) -> str:
        return f"k={self.kernel[0]}x{self.kernel[1]} s={self.stride[0]}x{self.stride[1]}"

    mo_opcode: ClassVar[str] = "MAXPOOL"

    def mo_lowering(self) -> dict:
        """The engine's pool unit (HWOp.mo_lowering): window max (pads at the input type's
        minimum) or sum (zero pads) per channel."""
        is_max = self.mo_opcode == "MAXPOOL"
        return {"opcode": self.mo_opcode, "kernel": tuple(self.kernel), "stride": tuple(self.stride),
                "pads": tuple(self.pads), "pad_value": int(self.in_type.min) if is_max else 0, "macs": self.macs}


@dataclass(frozen=True, eq=False)
class StreamingMaxPool(_Pool):
    """Max over KH x KW windows per channel. ``(H, W, C)`` -> ``(OH, OW, C)``.

    Padding (ONNX pads, or ceil mode turned into extra bottom/right padding) uses the
    input type's minimum, which never wins a max.
    """

    op_type: ClassVar[str] = "StreamingMaxPool"
    models: ClassVar[dict] = {}

    def execute(self, x: np.ndarray) -> np.ndarray:
        win = _windows(x, self.kernel, self.stride, self.pads, self.in_type.min, self.out_shape[:2])
        return win.max(axis=(-2, -1))

    def own_knobs(self) -> dict[str, Knob]:
        """PE: channels per beat; parallel_window: 1 = pixel-streaming (a whole pixel per
        beat, the window reduced in the cycle it completes; only with PE = C)."""
        k = super().own_knobs()
        return {"PE": k["PE"], "parallel_window": Knob((0, 1)), "ram_style": k["ram_style"]}

    def illegal(self, fold: dict) -> str | None:
        if int(fold.get("parallel_window", 0)) and int(fold.get("PE", 1)) != self.fold_channels:
            return f"parallel_window needs PE = all {self.fold_channels} channels"
        return None

    def cycles(self, fold: dict) -> int:
        if int(fold.get("parallel_window", 0)):
            return int(self.in_shape[0]) * int(self.in_shape[1])  # one input pixel per cycle
        return super().cycles(fold)

    def rtl_missing(self, fold: dict) -> str | None:
        if any(self.pads):
            return "padded (or ceil-mode) max-pooling has no RTL yet"
        return self.illegal(fold)

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_pool`` MODE 0 (qloom_swg + max reduction over K_H*K_W*C/PE beats), or
        with ``parallel_window`` ``qloom_maxpool_pw`` (qloom_swg_pw + a comparator chain per
        channel); bipolar elements compare as bits."""
        self._no_rtl(fold)
        t = self.in_type
        p = self._params(fold)
        module = "qloom_pool"
        if int(fold.get("parallel_window", 0)):
            for k in ("PE", "PAD_T", "PAD_B", "PAD_L", "PAD_R", "MODE", "OUT_BITS"):
                del p[k]
            module = "qloom_maxpool_pw"
        return RtlInstance(module, p, t.bits, t.bits, t.signed and not t.bipolar)


@dataclass(frozen=True, eq=False)
class SumPool(_Pool):
    """Sum over KH x KW windows per channel (zero padding). ``(H, W, C)`` -> ``(OH, OW, C)``."""

    op_type: ClassVar[str] = "SumPool"
    models: ClassVar[dict] = {}
    mo_opcode: ClassVar[str] = "SUMPOOL"
    mode: ClassVar[int] = 1

    def execute(self, x: np.ndarray) -> np.ndarray:
        win = _windows(x, self.kernel, self.stride, self.pads, 0, self.out_shape[:2])
        return win.sum(axis=(-2, -1), dtype=np.int64)

    def rtl_missing(self, fold: dict) -> str | None:
        return "sum-pooling of bipolar values has no RTL yet" if self.in_type.bipolar else None

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_pool`` MODE 1 (qloom_swg + sum reduction), zero padding."""
        self._no_rtl(fold)
        return RtlInstance("qloom_pool", self._params(fold), self.in_type.bits, self.out_type.bits,
                           self.out_type.signed)

    @property
    def macs(self) -> int:
        return int(np.prod(self.out_shape, dtype=np.int64)) * self.kernel[0] * self.kernel[1]


StreamingMaxPool.models = {"qloom_pool": parts_qloom_pool, "qloom_maxpool_pw": parts_qloom_maxpool_pw}
SumPool.models = {"qloom_pool": parts_qloom_pool}
POOL_MODELS = {"qloom_pool_reduce": parts_qloom_pool_reduce}
