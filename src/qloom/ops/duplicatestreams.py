"""DuplicateStreams: the fork of a dataflow graph (FINN's DuplicateStreams): every input beat
goes to each of ``copies`` output streams; and its Verilog ``qloom_duplicatestreams``:
cycles, latency, instance parameters and resource model.

Emitted by the lowering where one tensor feeds several nodes (the skip and the long path of
a residual block, the branches of a Concat). A beat leaves only when every output has room,
so a full output stalls all of them: the FIFO on each branch (``qloom.flow``) must hold what
that branch receives before the join that merges the branches can consume it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.cost.parts import Parts
from qloom.instance import RtlInstance
from qloom.ops.base import ChannelStreamOp
from qloom.ops.fifo import parts_qloom_fifo

# How far Verilator may be from the formulas (relative, cycles)
CYCLE_TOLERANCE = {"qloom_duplicatestreams": (0.0, 1)}
SKID_DEPTH = 2  # words of the input and output qloom_fifo registers (1 beat per cycle)


def cycles_qloom_duplicatestreams(p, NUM_PIXELS: int = 1) -> int:
    """qloom_duplicatestreams: one beat per cycle, CHANNELS/PE beats per pixel."""
    return NUM_PIXELS * (p["CHANNELS"] // p["PE"])


def latency_qloom_duplicatestreams(p) -> int:
    """Input beat to output beat: the input qloom_fifo (2 cycles), then the output one (2)."""
    return 4


def parts_qloom_duplicatestreams(CHANNELS=4, PE=1, BITS=8, N_OUT=2, family="xc7", files=None) -> Parts:
    """qloom_duplicatestreams: an input qloom_fifo and N_OUT output qloom_fifos of
    SKID_DEPTH words of PE*BITS bits (registers), and the all-ready AND of N_OUT inputs."""
    P = Parts("qloom_duplicatestreams")
    w = PE * BITS
    for _ in range(1 + N_OUT):
        P.add(parts_qloom_fifo(WIDTH=w, DEPTH=SKID_DEPTH, RAM_STYLE="registers", family=family))
    P.feat("ready_and", N_OUT)
    return P


@dataclass(frozen=True, eq=False)
class DuplicateStreams(ChannelStreamOp):
    """``out_k = x`` for k < copies; shapes ``(..., C)`` in and out, one type."""

    op_type: ClassVar[str] = "DuplicateStreams"
    cycles_model = staticmethod(cycles_qloom_duplicatestreams)
    latency_model = staticmethod(latency_qloom_duplicatestreams)
    models: ClassVar[dict] = {}

    copies: int = 2

    def execute(self, x: np.ndarray) -> np.ndarray:
        return x

    @property
    def out_ports(self) -> int:
        return int(self.copies)

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_duplicatestreams``: output k at ``m_axis_tdata[k*PE*BITS +: PE*BITS]``."""
        t = self.in_type
        p = dict(self._vparams(fold), BITS=t.bits, N_OUT=int(self.copies))
        return RtlInstance("qloom_duplicatestreams", p, t.bits, t.bits, t.signed and not t.bipolar)

    def describe(self) -> str:
        return f"C={self.in_shape[-1]} x{self.copies}"

    def mo_lowering(self) -> dict:
        """In MO a fork is free (HWOp.mo_lowering): no engine layer, every consumer reads
        the one tensor in DRAM."""
        return {"opcode": None}


DuplicateStreams.models = {"qloom_duplicatestreams": parts_qloom_duplicatestreams}
