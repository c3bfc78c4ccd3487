"""Cycle formulas of the qloom Verilog operators (no stalls, input every cycle).

Each ``cycles_<module>(**params)`` returns the steady-state number of clock
cycles per frame (the initiation interval when frames are streamed back to
back), taking the module's Verilog parameters by name (extra keywords are
ignored).  ``latency_<module>`` gives the extra pipeline cycles of a single
isolated frame (first input beat accepted -> last output beat), so one frame
takes about ``cycles + latency``.  The RTL tests assert these within 5% or 15
cycles.
"""
from __future__ import annotations

import math

__all__ = [
    "cycles_fifo", "latency_fifo",
    "cycles_mvau", "latency_mvau",
]


def cycles_fifo(n_beats=1, DEPTH=2, **_):
    """qloom_fifo: one beat per cycle (DEPTH >= 2), one per 2 cycles for DEPTH = 1."""
    return n_beats if DEPTH >= 2 else 2 * n_beats


def latency_fifo(**_):
    return 2


def cycles_mvau(MW, MH, PE=1, SIMD=1, **_):
    """qloom_mvau: one weight word per cycle, II = (MH/PE) * (MW/SIMD)."""
    return (MH // PE) * (MW // SIMD)


def latency_mvau(**_):
    """First input beat of an isolated vector -> its last output beat, beyond II."""
    return 7
