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
    "cycles_swg", "latency_swg",
    "cycles_swg_pw", "latency_swg_pw", "swg_pw_window_pos",
    "cycles_maxpool", "cycles_sumpool", "latency_pool",
    "cycles_thresholding", "latency_thresholding",
    "cycles_labelselect", "latency_labelselect",
    "cycles_dwc", "swg_buffer_rows",
]


def cycles_fifo(n_beats=1, DEPTH=2, **_):
    """qloom_fifo: one beat per cycle (DEPTH >= 2), one per 2 cycles for DEPTH = 1."""
    return n_beats if DEPTH >= 2 else 2 * n_beats


def latency_fifo(**_):
    return 2


def cycles_mvau(MW, MH, PE=1, SIMD=1, **_):
    """qloom_mvau: one weight word per cycle, II = (MH/PE) * (MW/SIMD)."""
    return (MH // PE) * (MW // SIMD)


def latency_mvau(SIMD=1, NUM_THRESH=0, **_):
    """First input beat of an isolated vector -> its last output beat, beyond II
    (pipeline: +1 for the adder-tree register when SIMD > 4, +1 with thresholds)."""
    return 9 + (1 if SIMD > 4 else 0) + (1 if NUM_THRESH > 0 else 0)


def _swg_dims(IFM_DIM_H, IFM_DIM_W, K_H, K_W, S_H=1, S_W=1, PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0):
    oh = (IFM_DIM_H + PAD_T + PAD_B - K_H) // S_H + 1
    ow = (IFM_DIM_W + PAD_L + PAD_R - K_W) // S_W + 1
    return oh, ow


def cycles_swg(IFM_DIM_H, IFM_DIM_W, CHANNELS, K_H, K_W, SIMD=1, S_H=1, S_W=1,
               PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0, **_):
    """qloom_swg: input and output run concurrently at one beat per cycle each,
    so a frame costs max(output beats, input beats)."""
    oh, ow = _swg_dims(IFM_DIM_H, IFM_DIM_W, K_H, K_W, S_H, S_W, PAD_T, PAD_B, PAD_L, PAD_R)
    cf = CHANNELS // SIMD
    out_beats = oh * ow * K_H * K_W * cf
    in_beats = IFM_DIM_H * IFM_DIM_W * cf
    return max(out_beats, in_beats)


def latency_swg(IFM_DIM_H, IFM_DIM_W, CHANNELS, K_H, K_W, SIMD=1, S_H=1, S_W=1,
                PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0, **_):
    """Extra cycles of an isolated frame: the rows loaded before the first window
    (output-bound case) or the windows read after the last input row (input-bound)."""
    oh, ow = _swg_dims(IFM_DIM_H, IFM_DIM_W, K_H, K_W, S_H, S_W, PAD_T, PAD_B, PAD_L, PAD_R)
    cf = CHANNELS // SIMD
    out_beats = oh * ow * K_H * K_W * cf
    in_beats = IFM_DIM_H * IFM_DIM_W * cf
    need0 = min(max(K_H - PAD_T, 0), IFM_DIM_H)
    if out_beats >= in_beats:
        return need0 * IFM_DIM_W * cf + 6
    return ow * K_H * K_W * cf + 6


def cycles_swg_pw(IFM_DIM_H, IFM_DIM_W, K_H=1, K_W=1, S_H=1, S_W=1,
                  PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0, **_):
    """qloom_swg_pw (parallel window): one padded input position per cycle, a real one
    consumes an input beat, a pad one does not; rows/columns past the last window are
    scanned too: (H + PAD_T + PAD_B) * (W + PAD_L + PAD_R) cycles per frame."""
    return (IFM_DIM_H + PAD_T + PAD_B) * (IFM_DIM_W + PAD_L + PAD_R)


def swg_pw_window_pos(IFM_DIM_H, IFM_DIM_W, K_H=1, K_W=1, S_H=1, S_W=1,
                      PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0, **_):
    """Scan position (index in the padded frame, row-major over (H+PAD_T+PAD_B) x
    (W+PAD_L+PAD_R)) at which qloom_swg_pw completes each output window, raster order;
    the window leaves one cycle after its position is scanned."""
    oh, ow = _swg_dims(IFM_DIM_H, IFM_DIM_W, K_H, K_W, S_H, S_W, PAD_T, PAD_B, PAD_L, PAD_R)
    wp = IFM_DIM_W + PAD_L + PAD_R
    return [(oy * S_H + K_H - 1) * wp + ox * S_W + K_W - 1 for oy in range(oh) for ox in range(ow)]


def latency_swg_pw(IFM_DIM_H, IFM_DIM_W, K_H=1, K_W=1, S_H=1, S_W=1,
                   PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0, **_):
    """Extra cycles of frame 0 (input from cycle 0, no stalls) beyond cycles_swg_pw: the
    scan passes position p in cycle p and window (oy, ox) leaves one cycle after its last
    position ((oy*S_H + K_H-1) * Wp + ox*S_W + K_W-1), so the last output beat is at cycle
    P_LAST + 1 and the frame takes P_LAST + 2 cycles: 1 when the last window ends at the
    last position, negative when floor mode leaves rows/columns after it. Each window
    leaves 1 cycle after the input beat of its last pixel when that pixel is real (right/
    bottom padding: one more cycle per pad position scanned after it)."""
    dims = dict(K_H=K_H, K_W=K_W, S_H=S_H, S_W=S_W, PAD_T=PAD_T, PAD_B=PAD_B, PAD_L=PAD_L, PAD_R=PAD_R)
    p_last = swg_pw_window_pos(IFM_DIM_H, IFM_DIM_W, **dims)[-1]
    return p_last + 2 - cycles_swg_pw(IFM_DIM_H, IFM_DIM_W, **dims)


def cycles_maxpool(IFM_DIM_H, IFM_DIM_W, CHANNELS, K_H, PE=1, K_W=None, S_H=None, S_W=None, **_):
    """qloom_maxpool (= qloom_swg + window reduction): max(window beats, input beats)."""
    K_W = K_H if K_W is None else K_W
    S_H = K_H if S_H is None else S_H
    S_W = K_W if S_W is None else S_W
    return cycles_swg(IFM_DIM_H, IFM_DIM_W, CHANNELS, K_H, K_W, SIMD=PE, S_H=S_H, S_W=S_W)


def cycles_sumpool(IFM_DIM_H, IFM_DIM_W, CHANNELS, K_H, PE=1, K_W=None, S_H=None, S_W=None,
                   PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0, **_):
    """qloom_sumpool: as maxpool, with zero padding."""
    K_W = K_H if K_W is None else K_W
    S_H = K_H if S_H is None else S_H
    S_W = K_W if S_W is None else S_W
    return cycles_swg(IFM_DIM_H, IFM_DIM_W, CHANNELS, K_H, K_W, SIMD=PE, S_H=S_H, S_W=S_W,
                      PAD_T=PAD_T, PAD_B=PAD_B, PAD_L=PAD_L, PAD_R=PAD_R)


def latency_pool(IFM_DIM_H, IFM_DIM_W, CHANNELS, K_H, PE=1, K_W=None, S_H=None, S_W=None,
                 PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0, **_):
    """Extra cycles of an isolated frame for qloom_maxpool / qloom_sumpool."""
    K_W = K_H if K_W is None else K_W
    S_H = K_H if S_H is None else S_H
    S_W = K_W if S_W is None else S_W
    return latency_swg(IFM_DIM_H, IFM_DIM_W, CHANNELS, K_H, K_W, SIMD=PE, S_H=S_H, S_W=S_W,
                       PAD_T=PAD_T, PAD_B=PAD_B, PAD_L=PAD_L, PAD_R=PAD_R) + 4


def cycles_thresholding(CHANNELS, PE=1, NUM_PIXELS=1, **_):
    """qloom_thresholding: one beat per cycle, CHANNELS/PE beats per pixel."""
    return NUM_PIXELS * (CHANNELS // PE)


def latency_thresholding(**_):
    return 5


def cycles_labelselect(NUM_LABELS, K=1, **_):
    """qloom_labelselect: one element per cycle; the K outputs overlap the next vector."""
    return max(NUM_LABELS, K + 1)


def latency_labelselect(K=1, **_):
    return K + 3


def cycles_dwc(IN_WIDTH, OUT_WIDTH, n_in_beats=1, **_):
    """qloom_dwc: one beat per cycle on the narrow side (the side with more beats)."""
    n_out = n_in_beats * IN_WIDTH // OUT_WIDTH
    return max(n_in_beats, n_out)


def swg_buffer_rows(IFM_DIM_H, IFM_DIM_W, CHANNELS, K_H, K_W, SIMD=1, S_H=1, S_W=1,
                    PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0, **_):
    """Rows R of qloom_swg's line buffer (R * IFM_DIM_W * CHANNELS/SIMD words),
    exactly as the Verilog computes it."""
    oh, ow = _swg_dims(IFM_DIM_H, IFM_DIM_W, K_H, K_W, S_H, S_W, PAD_T, PAD_B, PAD_L, PAD_R)
    cf = CHANNELS // SIMD
    need0 = min(max(K_H - PAD_T, 0), IFM_DIM_H)
    last_lo = min(max((oh - 1) * S_H - PAD_T, 0), IFM_DIM_H)
    r = max(K_H + S_H, IFM_DIM_H - last_lo + need0)
    if oh * ow * K_H * K_W * cf < 2 * IFM_DIM_H * IFM_DIM_W * cf:
        r += 1
    return r
