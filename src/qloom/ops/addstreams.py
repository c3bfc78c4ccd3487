"""AddStreams: the join of a residual connection (FINN's AddStreams), elementwise
``out = MUL0*x0 + MUL1*x1`` of two integer streams; and its Verilog ``qloom_addstreams``:
cycles, latency, instance parameters and resource model.

The integer weights align the two branches to a common scale: with branch scales s0, s1
(QONNX Quant outputs) the reference computes ``s0*q0 + s1*q1`` in float, which equals
``s*(MUL0*q0 + MUL1*q1)`` for ``s = s0/MUL0 = s1/MUL1`` (qloom.passes.lower.join chooses
them: 1 and 1 for equal scales, a power of two for a power-of-two ratio, small integers
for another rational ratio). The scale ``s`` stays in the float program; the next
quantizer turns it into thresholds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.cost.parts import Parts
from qloom.instance import RtlInstance
from qloom.ops.base import ChannelStreamOp
from qloom.ops.fifo import parts_qloom_fifo
from qloom.types import IntType, storage_dtype

CYCLE_TOLERANCE = {"qloom_addstreams": (0.0, 1)}
SKID_DEPTH = 2  # words of the input and output qloom_fifo registers


def cycles_qloom_addstreams(p, NUM_PIXELS: int = 1) -> int:
    """qloom_addstreams: one beat of each input per cycle, CHANNELS/PE beats per pixel."""
    return NUM_PIXELS * (p["CHANNELS"] // p["PE"])


def latency_qloom_addstreams(p) -> int:
    """Later input beat to output beat: input qloom_fifo (2 cycles), output qloom_fifo (2)."""
    return 4


def _mul_adds(m: int) -> int:
    """Adders of a constant multiplication by ``m`` as shift-adds (set bits - 1)."""
    return max(bin(abs(int(m))).count("1") - 1, 0)


def parts_qloom_addstreams(CHANNELS=4, PE=1, IN0_BITS=8, IN0_SIGNED=1, IN1_BITS=8, IN1_SIGNED=1,
                           MUL0=1, MUL1=1, OUT_BITS=9, OUT_SIGNED=1, family="xc7", files=None) -> Parts:
    """qloom_addstreams: two input and one output qloom_fifo of SKID_DEPTH register words,
    and per lane one OUT_BITS-bit adder plus the shift-adds of the constant weights."""
    P = Parts("qloom_addstreams")
    for w in (PE * IN0_BITS, PE * IN1_BITS, PE * OUT_BITS):
        P.add(parts_qloom_fifo(WIDTH=w, DEPTH=SKID_DEPTH, RAM_STYLE="registers", family=family))
    P.feat("add_bits", PE * OUT_BITS * (1 + _mul_adds(MUL0) + _mul_adds(MUL1)))
    P.feat("join", 1)
    return P


@dataclass(frozen=True, eq=False)
class AddStreams(ChannelStreamOp):
    """``out = mul0*x0 + mul1*x1``: x0 (N, *in_shape) of ``in_type``, x1 (N, *in_shape) of
    ``in_type1``, int64 weights; out (N, *in_shape) of ``out_type`` (holds every sum)."""

    op_type: ClassVar[str] = "AddStreams"
    cycles_model = staticmethod(cycles_qloom_addstreams)
    latency_model = staticmethod(latency_qloom_addstreams)
    models: ClassVar[dict] = {}
    n_inputs: ClassVar[int] = 2

    in_type1: IntType = None
    mul0: int = 1
    mul1: int = 1

    def execute(self, x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
        y = np.asarray(x0, np.int64) * int(self.mul0) + np.asarray(x1, np.int64) * int(self.mul1)
        return y.astype(storage_dtype(self.out_type))

    @property
    def in_shapes(self) -> tuple:
        return (tuple(self.in_shape), tuple(self.in_shape))

    @property
    def in_types(self) -> tuple:
        return (self.in_type, self.in_type1)

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_addstreams``: input k at ``s_axis_tdata`` bits of input k (input 0 low)."""
        t0, t1, ot = self.in_type, self.in_type1, self.out_type
        p = dict(self._vparams(fold), IN0_BITS=t0.bits, IN0_SIGNED=int(t0.signed),
                 IN1_BITS=t1.bits, IN1_SIGNED=int(t1.signed), MUL0=int(self.mul0),
                 MUL1=int(self.mul1), OUT_BITS=ot.bits, OUT_SIGNED=int(ot.signed))
        return RtlInstance("qloom_addstreams", p, t0.bits, ot.bits, ot.signed,
                           in_bits_each=(t0.bits, t1.bits))

    def describe(self) -> str:
        return f"C={self.in_shape[-1]} {self.mul0}*a+{self.mul1}*b"

    def mo_lowering(self) -> dict:
        """The engine's join (HWOp.mo_lowering): ``mul0*x0 + mul1*x1`` over two tensors in
        DRAM, a following Thresholding fused (``absorbs_thresholds``)."""
        return {"opcode": "ADD", "mul": (int(self.mul0), int(self.mul1)), "absorbs_thresholds": True}


AddStreams.models = {"qloom_addstreams": parts_qloom_addstreams}
