"""qloom_repad (rtl/verilog/qloom_repad.v): the stream glue between a layer that pads its
output vector and one that expects another padded length (non-divisor folding: an MVAU
with PE not dividing MH emits ceil(MH/PE)*PE elements per vector, one with SIMD not
dividing MW reads ceil(MW/SIMD)*SIMD, :mod:`qloom.ops.mvau`). It works on the gcd width
of the two beat widths, where both padded lengths are whole beats: it passes the first
min(N_IN, N_OUT) beats of each vector, drops the rest of the input (padding only) or
appends zero beats. Instance, cycles and resource model."""
from __future__ import annotations

from qloom.cost.parts import Parts
from qloom.cost.replay import clog2
from qloom.instance import RtlInstance

# How far Verilator may be from the formula (relative, cycles)
CYCLE_TOLERANCE = {"qloom_repad": (0.0, 1)}


def repad_instance(bits: int, elems: int, len_in: int, len_out: int) -> RtlInstance:
    """A ``qloom_repad`` on beats of ``elems`` elements of ``bits``: vectors of ``len_in``
    elements in, ``len_out`` out (both multiples of ``elems``; ValueError otherwise)."""
    if len_in % elems or len_out % elems:
        raise ValueError(f"qloom_repad: padded lengths {len_in}, {len_out} are not whole beats of {elems}")
    return RtlInstance("qloom_repad", {"WIDTH": elems * bits, "N_IN": len_in // elems,
                                       "N_OUT": len_out // elems}, bits, bits, False)


def cycles_qloom_repad(p, n_vectors: int = 1) -> int:
    """qloom_repad: max(N_IN, N_OUT) cycles per vector (one beat per cycle on the longer side)."""
    return n_vectors * max(p["N_IN"], p["N_OUT"])


def latency_qloom_repad(p) -> int:
    """Input beat to output beat: the output register."""
    return 1


def parts_qloom_repad(WIDTH=8, N_IN=3, N_OUT=4, family="xc7", files=None) -> Parts:
    """qloom_repad: the output register (WIDTH + 1 FFs; an inserted zero beat is the
    flip-flops' synchronous reset, no LUT per bit), the slot counter (clog2(max(N_IN,
    N_OUT)) bits, feature ``cnt``) and the handshake (``const``)."""
    P = Parts("qloom_repad")
    cw = clog2(max(N_IN, N_OUT))
    P.ff += WIDTH + 1 + cw
    P.feat("const", 1)
    P.feat("cnt", cw)
    return P


MODELS = {"qloom_repad": parts_qloom_repad}
