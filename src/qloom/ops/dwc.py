"""qloom_dwc (rtl/verilog/qloom_dwc.v): the data width converter between two layers whose beat
widths differ: instances (via the gcd width when neither width divides the other), cycles
and resource model."""
from __future__ import annotations

import math

from qloom.cost.parts import Parts
from qloom.cost.replay import clog2, mux_luts
from qloom.instance import RtlInstance


# How far Verilator may be from the formula (relative, cycles): measured 1 cycle
CYCLE_TOLERANCE = {"qloom_dwc": (0.0, 1)}


def dwc_instances(bits: int, e_in: int, e_out: int) -> list[RtlInstance]:
    """The ``qloom_dwc`` chain converting beats of ``e_in`` elements of ``bits`` to beats of
    ``e_out`` (none when equal; two through their gcd when neither divides the other)."""
    if e_in == e_out:
        return []
    if e_in % e_out and e_out % e_in:
        g = math.gcd(e_in, e_out)
        return dwc_instances(bits, e_in, g) + dwc_instances(bits, g, e_out)
    return [RtlInstance("qloom_dwc", {"IN_WIDTH": e_in * bits, "OUT_WIDTH": e_out * bits}, bits, bits, False)]


def cycles_qloom_dwc(p, n_in_beats: int = 1) -> int:
    """qloom_dwc: one beat per cycle on the narrow side (the side with more beats)."""
    n_out = n_in_beats * p["IN_WIDTH"] // p["OUT_WIDTH"]
    return max(n_in_beats, n_out)


def parts_qloom_dwc(IN_WIDTH=8, OUT_WIDTH=16, family="xc7", files=None) -> Parts:
    """qloom_dwc: up: OUT-IN assembly + OUT output flip-flops; down/equal: 2 x IN
    flip-flops and an IN/OUT : 1 output multiplexer."""
    P = Parts("qloom_dwc")
    P.feat("const", 1)
    if OUT_WIDTH > IN_WIDTH:
        n = OUT_WIDTH // IN_WIDTH
        P.ff += (OUT_WIDTH - IN_WIDTH) + OUT_WIDTH + clog2(n) + 1
        P.feat("up_cnt", clog2(n))
        P.feat("up_bits", OUT_WIDTH - IN_WIDTH)  # assembly register: a load mux per bit
    else:
        n = IN_WIDTH // OUT_WIDTH
        P.ff += 2 * IN_WIDTH + 2 + (clog2(n) if n > 1 else 0)
        P.feat("down_sel", IN_WIDTH)  # head/spare input mux
        P.feat("down_mux", OUT_WIDTH * mux_luts(n))
    return P


MODELS = {"qloom_dwc": parts_qloom_dwc}
