"""SWG: the sliding window generator (im2col as a stream; FINN-R Sec. 4.1, "Convolution
Input Generator"). It lowers a convolution to a matrix product for the MVAU/VVAU behind it.
This module also holds everything about its two Verilog implementations: ``qloom_swg``
(serial window: a line buffer, one SIMD slice of a window per beat) and ``qloom_swg_pw``
(parallel window: one pixel in, one whole window out per cycle): cycles, latency, buffer
geometry, instance parameters and resource models. The pools (qloom.ops.pool) are built on
both.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.cost.parts import Parts, bw
from qloom.cost.replay import Mem, clog2
from qloom.instance import RtlInstance
from qloom.ops.base import CREDITS, MAX_FIFO_BURST, HWOp, Knob, divisors, ram_style_knob
from qloom.ops.fifo import parts_qloom_fifo
from qloom.stream import conv_out_dim, serve, window_ready

# How far Verilator may be from the cycles_/latency_ formulas for a run of frames (relative,
# cycles): qloom_swg_pw is exact; qloom_swg's frame latency is up to 3 cycles pessimistic,
# 8 (7 %) with floor-mode rows left over (tests/rtl/test_qloom_swg*.py)
CYCLE_TOLERANCE = {"qloom_swg": (0.07, 4), "qloom_swg_pw": (0.0, 0)}
SWG_OUT_LATENCY = 4  # qloom_swg: end of an output row's last input row -> its first window


# ----------------------------------------------------------------------------------------
# qloom_swg / qloom_swg_pw timing and geometry (``p``: the module's Verilog parameters)
# ----------------------------------------------------------------------------------------

def _strides_pads(p) -> tuple[int, ...]:
    return tuple(p.get(k, d) for k, d in (("S_H", 1), ("S_W", 1), ("PAD_T", 0), ("PAD_B", 0),
                                         ("PAD_L", 0), ("PAD_R", 0)))


def swg_out_dims(p) -> tuple[int, int]:
    """(OFM_H, OFM_W) of a window scan (:func:`qloom.stream.conv_out_dim`, floor mode)."""
    s_h, s_w, t, b, l, r = _strides_pads(p)
    return (conv_out_dim(p["IFM_DIM_H"], p["K_H"], s_h, t, b),
            conv_out_dim(p["IFM_DIM_W"], p["K_W"], s_w, l, r))


def _beats(p) -> tuple[int, int]:
    """(output beats, input beats) of one frame of qloom_swg."""
    oh, ow = swg_out_dims(p)
    cf = p["CHANNELS"] // p.get("SIMD", 1)
    return oh * ow * p["K_H"] * p["K_W"] * cf, p["IFM_DIM_H"] * p["IFM_DIM_W"] * cf


def cycles_qloom_swg(p) -> int:
    """qloom_swg: input and output run concurrently at one beat per cycle each, so a frame
    costs max(output beats, input beats) = max(OH*OW*KH*KW, H*W) * C/SIMD."""
    return max(_beats(p))


def latency_qloom_swg(p) -> int:
    """Extra cycles of an isolated frame: the rows loaded before the first window
    (output-bound case) or the windows read after the last input row (input-bound)."""
    out_beats, in_beats = _beats(p)
    cf = p["CHANNELS"] // p.get("SIMD", 1)
    if out_beats >= in_beats:
        need0 = min(max(p["K_H"] - p.get("PAD_T", 0), 0), p["IFM_DIM_H"])
        return need0 * p["IFM_DIM_W"] * cf + 6
    return swg_out_dims(p)[1] * p["K_H"] * p["K_W"] * cf + 6


def cycles_qloom_swg_pw(p) -> int:
    """qloom_swg_pw (parallel window): one padded input position per cycle, a real one
    consumes an input beat, a pad one does not; rows/columns past the last window are
    scanned too: (H + PAD_T + PAD_B) * (W + PAD_L + PAD_R) cycles per frame."""
    _, _, t, b, l, r = _strides_pads(p)
    return (p["IFM_DIM_H"] + t + b) * (p["IFM_DIM_W"] + l + r)


def swg_pw_window_pos(p) -> list[int]:
    """Scan position (index in the padded frame, row-major over (H+PAD_T+PAD_B) x
    (W+PAD_L+PAD_R)) at which qloom_swg_pw completes each output window, raster order;
    the window leaves one cycle after its position is scanned."""
    s_h, s_w, _, _, l, r = _strides_pads(p)
    oh, ow = swg_out_dims(p)
    wp = p["IFM_DIM_W"] + l + r
    return [(oy * s_h + p["K_H"] - 1) * wp + ox * s_w + p["K_W"] - 1 for oy in range(oh) for ox in range(ow)]


def latency_qloom_swg_pw(p) -> int:
    """Extra cycles of frame 0 (input from cycle 0, no stalls) beyond cycles_qloom_swg_pw:
    the scan passes position q in cycle q and window (oy, ox) leaves one cycle after its
    last position, so the last output beat is at cycle P_LAST + 1 and the frame takes
    P_LAST + 2 cycles: 1 when the last window ends at the last position, negative when
    floor mode leaves rows/columns after it."""
    return swg_pw_window_pos(p)[-1] + 2 - cycles_qloom_swg_pw(p)


def swg_pw_out_times(p, a_in: np.ndarray) -> np.ndarray:
    """Latency rule of qloom_swg_pw: one padded position scanned per cycle (a real one
    waits for its pixel, arrived at ``a_in``), a window leaves the cycle after its last
    position."""
    h, w = p["IFM_DIM_H"], p["IFM_DIM_W"]
    _, _, t, b, l, r = _strides_pads(p)
    grid = np.full((h + t + b, w + l + r), -np.inf)
    grid[t:t + h, l:l + w] = a_in.reshape(h, w)
    scan = serve(grid.ravel() - 1, 1.0)  # the cycle each position is scanned
    return scan[np.asarray(swg_pw_window_pos(p))] + 1


# ----------------------------------------------------------------------------------------
# resource models (coefficients in qloom/cost/coef)
# ----------------------------------------------------------------------------------------

def swg_geometry(p) -> dict:
    """The localparams of qloom_swg.v from its parameters ``p``: R rows of line buffer,
    DEPTH words, counter widths (as the Verilog computes them)."""
    IFM_DIM_H, IFM_DIM_W, CHANNELS, K_H, K_W = (p[k] for k in ("IFM_DIM_H", "IFM_DIM_W", "CHANNELS", "K_H", "K_W"))
    S_H, S_W, PAD_T, PAD_B, PAD_L, PAD_R = _strides_pads(p)
    SIMD = p.get("SIMD", 1)
    CF = CHANNELS // SIMD
    OFM_H, OFM_W = swg_out_dims(p)
    ROWW = IFM_DIM_W * CF
    need0 = min(max(K_H - PAD_T, 0), IFM_DIM_H)
    last_lo = min(max((OFM_H - 1) * S_H - PAD_T, 0), IFM_DIM_H)
    left = IFM_DIM_H - last_lo
    R = max(left + need0, K_H + S_H)
    if OFM_H * OFM_W * K_H * K_W * CF < 2 * IFM_DIM_H * ROWW:
        R += 1  # a spare row when (nearly) input-bound
    depth = R * ROWW
    aw = clog2(depth) if depth > 1 else 1
    g = dict(R=R, DEPTH=depth, AW=aw, ROWW=ROWW, CF=CF, OFM_H=OFM_H, OFM_W=OFM_W,
             RW=bw(4 * (IFM_DIM_H + PAD_T + PAD_B + K_H + S_H + R)) + 1,
             XW=bw(2 * (IFM_DIM_W + PAD_L + PAD_R + K_W + S_W)) + 1,
             CW=bw(2 * (IFM_DIM_W + PAD_L + PAD_R + K_W + S_W) * CF) + 1,
             CFW=bw(CF - 1), KXW=bw(K_W - 1), KYW=bw(K_H - 1), OXW=bw(OFM_W - 1),
             OYW=bw(OFM_H - 1), WCW=bw(ROWW - 1))
    return g


def parts_qloom_swg(IFM_DIM_H=5, IFM_DIM_W=5, CHANNELS=2, SIMD=1, K_H=3, K_W=3, S_H=1, S_W=1,
                    PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0, ELEM_BITS=8, RAM_STYLE="auto", CREDITS=CREDITS,
                    family="xc7", files=None) -> Parts:
    """qloom_swg: a line buffer of R rows (R * IFM_DIM_W * CF words of SIMD*ELEM_BITS),
    incremental row/column/address counters (no multipliers), a CREDITS-word output FIFO."""
    P = Parts("qloom_swg")
    g = swg_geometry(dict(IFM_DIM_H=IFM_DIM_H, IFM_DIM_W=IFM_DIM_W, CHANNELS=CHANNELS, SIMD=SIMD,
                          K_H=K_H, K_W=K_W, S_H=S_H, S_W=S_W, PAD_T=PAD_T, PAD_B=PAD_B,
                          PAD_L=PAD_L, PAD_R=PAD_R))
    DW = SIMD * ELEM_BITS
    P.add_mem(Mem("linebuf", g["DEPTH"], DW, style=str(RAM_STYLE)), family)
    P.add(parts_qloom_fifo(WIDTH=DW, DEPTH=CREDITS, RAM_STYLE="distributed", family=family))
    RW, AW, XW, CW = g["RW"], g["AW"], g["XW"], g["CW"]
    ctr = (g["OXW"] if g["OFM_W"] > 1 else 0) + (g["OYW"] if g["OFM_H"] > 1 else 0) + g["WCW"]
    ctr += (g["CFW"] if g["CF"] > 1 else 0) + (g["KXW"] if K_W > 1 else 0) + (g["KYW"] if K_H > 1 else 0)
    # row bases are multiples of ROWW: their low bits are constant
    roww = g["ROWW"]
    tz = (roww & -roww).bit_length() - 1
    base = max(AW - tz, 1)
    # wrows rlimit cur/nx need lim iy0 (8 RW), iy; cur/nx base, rbase; waddr; ix0 ix (2 XW;
    # one when K_W = 1), cb col (2 CW), loop counters, row_open, pending, v1, pad1
    xw = (2 if K_W > 1 else 1) * XW - (XW if g["OFM_W"] == 1 and K_W > 1 else 0)
    cw = 2 * CW - (CW if g["OFM_W"] == 1 else 0)
    P.ff += 9 * RW + 3 * base + AW + xw + cw + ctr + 1 + clog2(CREDITS + 1) + 2
    P.feat("const", 1)
    P.feat("rw", RW)
    P.feat("aw", AW)
    P.feat("xcw", XW + CW)
    P.feat("ctr", ctr)
    P.feat("dw", DW)
    P.feat("tab", g["OFM_H"] * RW)
    return P


def parts_qloom_swg_pw(IFM_DIM_H=5, IFM_DIM_W=5, CHANNELS=2, K_H=3, K_W=3, S_H=1, S_W=1,
                       PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0, ELEM_BITS=8, RAM_STYLE="auto",
                       family="xc7", files=None) -> Parts:
    """qloom_swg_pw (parallel window): K_H - 1 line buffers of IFM_DIM_W pixels (one word
    = CHANNELS*ELEM_BITS bits, synchronous read register), a K_H*K_W-pixel window register
    and the output register (a 2:1 load mux per bit: the LUT bulk), a 1-pixel input skid
    (a zero/skid mux per bit), scan and stride-phase counters."""
    P = Parts("qloom_swg_pw")
    DW = CHANNELS * ELEM_BITS
    WP = IFM_DIM_W + PAD_L + PAD_R
    HP = IFM_DIM_H + PAD_T + PAD_B
    OWB = K_H * K_W * DW
    for _k in range(K_H - 1):
        if WP == 1:
            pass  # W = 1 without side padding: a register per line, equal to a window column
        else:
            mp = P.add_mem(Mem("linebuf", IFM_DIM_W, DW, style=str(RAM_STYLE)), family)
            if family == "ecp5" and mp.kind == "block":
                # measured: no extra registers beside the DP16KD here (its output register
                # takes the read enable and the pad-column reset)
                P.ff -= 2 * DW + 9
    # x y, wa (only addresses line buffers), stride phases (constant 0 without kernel/stride > 1)
    ctr = (bw(WP - 1) if WP > 1 else 0) + (bw(HP - 1) if HP > 1 else 0)
    ctr += bw(IFM_DIM_W - 1) if IFM_DIM_W > 1 and K_H > 1 else 0
    ctr += (bw(max(K_W, S_W) - 1) if max(K_W, S_W) > 1 else 0)
    ctr += (bw(max(K_H, S_H) - 1) if max(K_H, S_H) > 1 else 0)
    early = K_H - 1 < PAD_T or (K_H - 1 == PAD_T and K_W - 1 < PAD_L)
    # window + out0, input skid, counters, xreal yreal rdy v0 pend (+ pre)
    P.ff += 2 * OWB + DW + ctr + 5 + (1 if early else 0)
    P.feat("const", 1)
    P.feat("ctr", ctr)
    P.feat("win", OWB)
    P.feat("px", DW)
    return P


# ----------------------------------------------------------------------------------------
# the operator
# ----------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class SWG(HWOp):
    """Sliding window generator.

    Input ``(H, W, C)`` NHWC; output ``(OH, OW, KH*KW*C)``: for each output pixel in raster
    order, its window in (ky, kx, c) order, c innermost. Padding inserts the integer
    ``pad_value`` (0: the real value 0 when the zero point is 0).

    kernel, stride, dilation : (h, w); pads : (top, left, bottom, right) in pixels.
    """

    op_type: ClassVar[str] = "SWG"
    models: ClassVar[dict] = {}

    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    dilation: tuple[int, int] = (1, 1)
    pad_value: int = 0

    def execute(self, x: np.ndarray) -> np.ndarray:
        t, l, b, r = self.pads
        if any(self.pads):
            x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=self.pad_value)
        kh, kw = self.kernel
        sh, sw = self.stride
        dh, dw = self.dilation
        oh, ow = self.out_shape[0], self.out_shape[1]
        win = np.lib.stride_tricks.sliding_window_view(
            x, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(1, 2))
        # win: (N, H', W', C, kh_span, kw_span)
        win = win[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw, :, ::dh, ::dw]
        win = win.transpose(0, 1, 2, 4, 5, 3)  # (N, OH, OW, kh, kw, C)
        return np.ascontiguousarray(win).reshape(x.shape[0], oh, ow, -1)

    @property
    def fold_channels(self) -> int:
        return int(self.in_shape[-1])

    def own_knobs(self) -> dict[str, Knob]:
        """SIMD: channels per input beat; parallel_window: 1 = a whole window per output
        beat (FINN's ``parallel_window``; only with SIMD = C), 0 = one SIMD slice of a
        window per beat; ram_style: the line buffer."""
        return {"SIMD": Knob(tuple(divisors(self.fold_channels))), "parallel_window": Knob((0, 1)),
                "ram_style": ram_style_knob(searched=True)}

    def illegal(self, fold: dict) -> str | None:
        if int(fold.get("parallel_window", 0)) and int(fold.get("SIMD", 1)) != self.fold_channels:
            return f"parallel_window needs SIMD = all {self.fold_channels} channels"
        return None

    def in_elems(self, fold: dict) -> int:
        return int(fold.get("SIMD", 1))

    def input_fifo_depth(self, fold: dict, producer_burst: int) -> int:
        """With ``parallel_window`` and padding, qloom_swg_pw scans pad positions without
        reading input (:func:`cycles_qloom_swg_pw`); the longest such run is the frame
        boundary: the last row's right pad, the bottom and top pad rows and the first
        row's left pad (PAD_R + (PAD_B + PAD_T) * (W + PAD_L + PAD_R) + PAD_L cycles).
        The FIFO in front holds that many beats, so a producer slower than the scan is
        not stalled by it (measured: a depthwise block at 221 instead of 200 cycles per
        frame with the default depth, its MVAU producing one pixel per 2 cycles)."""
        depth = super().input_fifo_depth(fold, producer_burst)
        if not int(fold.get("parallel_window", 0)) or not any(self.pads):
            return depth
        t, l, b, r = self.pads
        run = r + (b + t) * (int(self.in_shape[1]) + l + r) + l
        return int(min(MAX_FIFO_BURST, max(depth, run)))

    def out_elems(self, fold: dict) -> int:
        if int(fold.get("parallel_window", 0)):
            return int(self.out_shape[-1])  # KH * KW * C
        return int(fold.get("SIMD", 1))

    def window_params(self, simd: int | None = None) -> dict:
        """The window-scan parameters shared by qloom_swg, qloom_swg_pw and the pools."""
        h, w, c = self.in_shape
        t, l, b, r = self.pads
        p = dict(IFM_DIM_H=h, IFM_DIM_W=w, CHANNELS=c, SIMD=simd, K_H=self.kernel[0], K_W=self.kernel[1],
                 S_H=self.stride[0], S_W=self.stride[1], PAD_T=t, PAD_B=b, PAD_L=l, PAD_R=r)
        if simd is None:
            del p["SIMD"]
        return p

    def cycles(self, fold: dict) -> int:
        """:func:`cycles_qloom_swg_pw` with ``parallel_window``, else :func:`cycles_qloom_swg`."""
        if int(fold.get("parallel_window", 0)):
            return cycles_qloom_swg_pw(self.window_params())
        return cycles_qloom_swg(self.window_params(int(fold.get("SIMD", 1))))

    def out_times(self, fold: dict, a_in: np.ndarray) -> np.ndarray:
        """Serial window (qloom_swg): an output row starts once its last input row is in,
        SWG_OUT_LATENCY cycles later, and a window takes KH*KW*C/SIMD beats. Parallel
        window: :func:`swg_pw_out_times`."""
        if int(fold.get("parallel_window", 0)):
            return swg_pw_out_times(self.window_params(), a_in)
        ready = window_ready(a_in, self.in_shape, self.out_shape, self.kernel, self.stride, self.pads, rows=True)
        return serve(ready + SWG_OUT_LATENCY, self.out_shape[-1] / int(fold.get("SIMD", 1)))

    def parallelism(self, fold: dict) -> int:
        return self.out_elems(fold)

    def rtl_missing(self, fold: dict) -> str | None:
        if self.dilation != (1, 1):
            return "dilated convolutions have no RTL yet"
        return self.illegal(fold)

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_swg`` (rtl/verilog/qloom_swg.v): a line buffer of whole input rows, one
        SIMD slice of a window per beat; with ``parallel_window`` ``qloom_swg_pw``
        (qloom_swg_pw.v): K_H - 1 line buffers and a window register, one window per beat."""
        self._no_rtl(fold)
        pw = int(fold.get("parallel_window", 0))
        p = dict(self.window_params(None if pw else int(fold.get("SIMD", 1))), ELEM_BITS=self.in_type.bits,
                 RAM_STYLE=fold.get("ram_style", "auto"))
        if not pw:
            p["CREDITS"] = CREDITS
        return RtlInstance("qloom_swg_pw" if pw else "qloom_swg", p, self.in_type.bits, self.in_type.bits,
                           self.in_type.signed and not self.in_type.bipolar)

    def describe(self) -> str:
        return (f"k={self.kernel[0]}x{self.kernel[1]} s={self.stride[0]}x{self.stride[1]} "
                f"pad={','.join(map(str, self.pads))}")

    def mo_lowering(self) -> dict:
        """In MO the window generator is the front of the engine's MVAU (HWOp.mo_lowering)."""
        if tuple(self.dilation) != (1, 1):
            from qloom.errors import QloomError

            raise QloomError(f"layer {self.name}: the MO engine has no dilated windows yet")
        return {"window": {"kernel": tuple(self.kernel), "stride": tuple(self.stride),
                           "pads": tuple(self.pads), "pad_value": int(self.pad_value)}}


SWG.models = {"qloom_swg": parts_qloom_swg, "qloom_swg_pw": parts_qloom_swg_pw}
