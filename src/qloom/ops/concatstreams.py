"""ConcatStreams: the channel concatenation of two integer streams (FINN's StreamingConcat),
and its Verilog ``qloom_concatstreams``: cycles, latency, instance parameters and
resource model.

Per pixel the output carries input 0's C0 channels, then input 1's C1 (NHWC, channels
innermost: ONNX ``Concat`` on the channel axis). Elements are sign- or zero-extended to
the output type, which holds both input types.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import math

import numpy as np

from qloom.cost.parts import Parts
from qloom.cost.replay import clog2
from qloom.instance import RtlInstance
from qloom.ops.base import ChannelStreamOp
from qloom.ops.fifo import parts_qloom_fifo
from qloom.types import IntType, storage_dtype

CYCLE_TOLERANCE = {"qloom_concatstreams": (0.0, 1)}
SKID_DEPTH = 2


def cycles_qloom_concatstreams(p, NUM_PIXELS: int = 1) -> int:
    """qloom_concatstreams: one output beat per cycle, (C0+C1)/PE beats per pixel."""
    return NUM_PIXELS * ((p["C0"] + p["C1"]) // p["PE"])


def latency_qloom_concatstreams(p) -> int:
    """Input beat to output beat: input qloom_fifo (2 cycles), output qloom_fifo (2)."""
    return 4


def parts_qloom_concatstreams(C0=4, C1=4, PE=1, IN0_BITS=8, IN0_SIGNED=1, IN1_BITS=8, IN1_SIGNED=1,
                              OUT_BITS=8, OUT_SIGNED=1, family="xc7", files=None) -> Parts:
    """qloom_concatstreams: two input and one output qloom_fifo of SKID_DEPTH register
    words, a beat counter over (C0+C1)/PE and a 2:1 select per output bit."""
    P = Parts("qloom_concatstreams")
    for w in (PE * IN0_BITS, PE * IN1_BITS, PE * OUT_BITS):
        P.add(parts_qloom_fifo(WIDTH=w, DEPTH=SKID_DEPTH, RAM_STYLE="registers", family=family))
    cw = clog2((C0 + C1) // PE)
    P.ff += cw
    P.feat("sel_bits", PE * OUT_BITS)
    P.feat("cnt", cw)
    return P


@dataclass(frozen=True, eq=False)
class ConcatStreams(ChannelStreamOp):
    """``out[..., :C0] = x0``, ``out[..., C0:] = x1``: x0 (N, *in_shape) of ``in_type``,
    x1 (N, *in_shape1) of ``in_type1`` (same pixels), out of ``out_type``."""

    op_type: ClassVar[str] = "ConcatStreams"
    cycles_model = staticmethod(cycles_qloom_concatstreams)
    latency_model = staticmethod(latency_qloom_concatstreams)
    models: ClassVar[dict] = {}
    n_inputs: ClassVar[int] = 2

    in_shape1: tuple = ()
    in_type1: IntType = None

    def execute(self, x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
        return np.concatenate([np.asarray(x0, np.int64), np.asarray(x1, np.int64)],
                              axis=-1).astype(storage_dtype(self.out_type))

    @property
    def in_shapes(self) -> tuple:
        return (tuple(self.in_shape), tuple(self.in_shape1))

    @property
    def in_types(self) -> tuple:
        return (self.in_type, self.in_type1)

    @property
    def fold_channels(self) -> int:
        return math.gcd(int(self.in_shape[-1]), int(self.in_shape1[-1]))

    def _vparams(self, fold: dict) -> dict:
        return {"C0": int(self.in_shape[-1]), "C1": int(self.in_shape1[-1]), "PE": int(fold.get("PE", 1))}

    def rtl(self, fold: dict) -> RtlInstance:
        t0, t1, ot = self.in_type, self.in_type1, self.out_type
        bip = ot.bipolar
        p = dict(self._vparams(fold), IN0_BITS=t0.bits, IN0_SIGNED=int(t0.signed and not bip),
                 IN1_BITS=t1.bits, IN1_SIGNED=int(t1.signed and not bip), OUT_BITS=ot.bits,
                 OUT_SIGNED=int(ot.signed and not bip))
        return RtlInstance("qloom_concatstreams", p, t0.bits, ot.bits, ot.signed and not bip,
                           in_bits_each=(t0.bits, t1.bits))

    def describe(self) -> str:
        return f"C={self.in_shape[-1]}+{self.in_shape1[-1]}"


ConcatStreams.models = {"qloom_concatstreams": parts_qloom_concatstreams}
