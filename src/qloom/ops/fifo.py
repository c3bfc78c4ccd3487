"""qloom_fifo (rtl/verilog/qloom_fifo.v): the AXI4-Stream FIFO between two layers, and inside
operators as their output buffer: instance, cycles and resource model."""
from __future__ import annotations

from qloom.cost.parts import Parts
from qloom.cost.replay import Mem, clog2
from qloom.instance import RtlInstance

# How far Verilator may be from the formulas (relative, cycles): measured 1-2 cycles
CYCLE_TOLERANCE = {"qloom_fifo": (0.0, 2)}
DEFAULT_DEPTH = 2


def fifo_key(layer: str, k: int) -> str:
    """The key of the FIFO in front of input ``k`` of ``layer`` in the FIFO depths
    (build.json ``fifo_depths``): the layer name for its first input, ``<layer>.in<k>`` for
    the others (the extra inputs of a join)."""
    return layer if k == 0 else f"{layer}.in{k}"


def fifo_instance(width: int, depth: int, ram_style: str = "auto") -> RtlInstance:
    """A ``qloom_fifo`` of ``depth`` beats of ``width`` bits."""
    return RtlInstance("qloom_fifo", {"WIDTH": width, "DEPTH": depth, "RAM_STYLE": ram_style},
                       width, width, False)


def cycles_qloom_fifo(p, n_beats: int = 1) -> int:
    """qloom_fifo: one beat per cycle (DEPTH >= 2), one per 2 cycles for DEPTH = 1."""
    return n_beats if p["DEPTH"] >= 2 else 2 * n_beats


def latency_qloom_fifo(p) -> int:
    """Input beat to output beat of an empty FIFO."""
    return 2


def parts_qloom_fifo(WIDTH=8, DEPTH=16, RAM_STYLE="auto", family="xc7", files=None) -> Parts:
    """qloom_fifo: a DEPTH x WIDTH memory (mapped as Yosys does), read/write pointers and a count."""
    P = Parts("qloom_fifo")
    style = str(RAM_STYLE)
    if style == "registers":
        style = "logic"
    P.add_mem(Mem("fifo", DEPTH, WIDTH, style=style), family)
    aw = clog2(DEPTH)  # pointers vanish for DEPTH = 1
    cw = clog2(DEPTH + 1)
    P.ff += 2 * aw + cw + 1
    P.feat("fifo_ctl", 1)
    P.feat("fifo_ptr", 2 * aw + cw)
    return P


MODELS = {"qloom_fifo": parts_qloom_fifo}
