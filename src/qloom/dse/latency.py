"""Latency model: cycles from a frame's first input beat to its last output beat.

The initiation interval of a dataflow pipeline is its slowest layer (FINN-R Sec. 4.3), but
its latency depends on *when* each layer can start: a layer streams, so it works on the
first rows of a frame while its producer is still on the last ones. This model follows
one frame through the chain at the granularity the RTL works in, the "granule": an output
pixel (all channels) of an image layer, the whole vector of a vector layer.

For every layer, with ``a[j]`` the cycle the last beat of its input granule ``j`` arrives
(after the DWC/FIFO link, rate-limited to the link's elements per cycle), each output
granule ``i`` becomes ready at ``r[i]`` (when the last input granule it needs has arrived)
and the layer's engine serves granules in order, ``s`` cycles each::

    t[i] = max(r[i], t[i-1]) + s + L          (L: the operator's pipeline latency)

computed in closed form as ``t = s*i + cummax(r - s*i) + s`` (numpy, no Python loop over
pixels). Per operator (the Verilog in qloom/rtl/verilog):

- SWG (qloom_swg) and the pools (qloom_maxpool, qloom_sumpool = qloom_swg + reduction)
  start an output row once every input row it needs is complete (row granularity), and
  emit a window in K_H*K_W*C/SIMD beats;
- SWG with parallel_window (qloom_swg_pw) emits window (oy, ox) right after the input pixel
  that completes it, one window per cycle; so does the pixel-streaming max pool
  (qloom_maxpool_pw);
- MVAU/VVAU (qloom_mvau) read a vector during their first pass over the rows (overlapping
  its arrival) and then take (NF-1)*SF more cycles: ``t[i] = max(a[i] + (NF-1)*SF,
  t[i-1] + NF*SF) + L``;
- Thresholding: C/PE beats per pixel; LabelSelect: NUM_LABELS cycles per vector.

Pipeline latencies L come from qloom.rtl.cycles (the Verilog headers' figures); each
link (DWC and FIFO) adds LINK_LATENCY cycles. The model is checked against Verilator
(``rtlsim.json``'s latency_cycles) in tests/test_latency.py.
"""
from __future__ import annotations

import math

import numpy as np

from qloom.dse.folding import stream_rate
from qloom.ir import HWGraph
from qloom.rtl import cycles as rc

LINK_LATENCY = 2  # cycles through a FIFO (and DWC) between two layers


def _serve(ready: np.ndarray, s: float) -> np.ndarray:
    """Finish times of in-order service, s cycles per granule:
    t[i] = max(ready[i], t[i-1]) + s."""
    i = np.arange(len(ready), dtype=np.float64) * s
    return i + np.maximum.accumulate(ready - i) + s


def _grid(op):
    """(H, W, C) of an image stream, or (1, 1, C) for a vector."""
    shp = tuple(int(v) for v in op)
    if len(shp) == 3:
        return shp
    return 1, 1, int(np.prod(shp))


def _window_ready(a_in, in_hw, out_hw, kernel, stride, pads, rows: bool) -> np.ndarray:
    """Ready time of each output window: its last needed input pixel (rows=False) or the
    end of its last needed input row (rows=True)."""
    h, w = in_hw
    oh, ow = out_hw
    t, l = pads[0], pads[1]
    ry = np.clip(np.arange(oh) * stride[0] + kernel[0] - 1 - t, 0, h - 1)
    rx = np.clip(np.arange(ow) * stride[1] + kernel[1] - 1 - l, 0, w - 1)
    a = a_in.reshape(h, w)
    if rows:
        return np.repeat(a[ry, w - 1], ow)
    return a[ry[:, None], rx[None, :]].ravel()


def op_times(op, fold: dict, a_in: np.ndarray) -> np.ndarray:
    """Cycle at which each output granule of ``op`` has left it, given the arrival cycles
    ``a_in`` of its input granules (raster order). float64 arrays."""
    fold = fold or {}
    kind = op.op_type
    ih, iw, ic = _grid(op.in_shape)
    oh, ow, oc = _grid(op.out_shape)
    if kind == "SWG":
        pw = int(fold.get("parallel_window", 0))
        if pw:  # the scan takes a cycle per padded position, real ones wait for their pixel
            t, l, b, r = op.pads
            grid = np.full((ih + t + b, iw + l + r), -np.inf)
            grid[t:t + ih, l:l + iw] = a_in.reshape(ih, iw)
            scan = _serve(grid.ravel() - 1, 1.0)  # cycle each position is scanned
            pos = rc.swg_pw_window_pos(ih, iw, K_H=op.kernel[0], K_W=op.kernel[1], S_H=op.stride[0],
                                       S_W=op.stride[1], PAD_T=t, PAD_B=b, PAD_L=l, PAD_R=r)
            return scan[np.asarray(pos)] + 1
        ready = _window_ready(a_in, (ih, iw), (oh, ow), op.kernel, op.stride, op.pads, rows=True)
        simd = int(fold.get("SIMD", 1))
        return _serve(ready + 4, oc / simd)
    if kind == "StreamingMaxPool" and int(fold.get("parallel_window", 0)):
        ready = _window_ready(a_in, (ih, iw), (oh, ow), op.kernel, op.stride, op.pads, rows=False)
        return _serve(ready + 3, 1.0)
    if kind in ("StreamingMaxPool", "SumPool"):
        pe = int(fold.get("PE", 1))
        ready = _window_ready(a_in, (ih, iw), (oh, ow), op.kernel, op.stride, op.pads, rows=True)
        return _serve(ready + 8, op.kernel[0] * op.kernel[1] * ic / pe)
    if kind in ("MVAU", "VVAU"):
        pe, simd = int(fold.get("PE", 1)), int(fold.get("SIMD", 1))
        if kind == "VVAU":  # a block-diagonal MVAU: MH = C, MW = K*C
            mh, mw = op.channels, op.channels * op.kernel_size
        else:
            mh, mw = op.mh, op.mw
        nf, sf = mh // pe, mw // simd
        lat = rc.latency_mvau(SIMD=simd, NUM_THRESH=1 if op.threshold_count else 0)
        n = len(a_in)
        i = np.arange(n, dtype=np.float64) * nf * sf
        t_end = i + np.maximum.accumulate(a_in + (nf - 1) * sf - i)
        return t_end + lat
    if kind == "Thresholding":
        pe = int(fold.get("PE", 1))
        return _serve(a_in, ic / pe) + rc.latency_thresholding()
    if kind == "LabelSelect":
        return _serve(a_in, op.cycles(fold)) + rc.latency_labelselect(K=int(np.prod(op.out_shape)))
    # unknown operator: the whole frame after its input
    return np.full(oh * ow, a_in[-1] + op.cycles(fold))


def done_cycles(graph: HWGraph, folding: dict) -> dict[str, int]:
    """Per layer, the cycle at which frame 0's last output beat leaves it (cycle 0: the
    first input beat; the host feeds one beat per cycle, no back-pressure)."""
    prev = None
    t = None
    done = {}
    for op in graph.nodes:
        f = folding.get(op.name, {})
        h, w, c = _grid(op.in_shape)
        e_in = op.in_elems(f)
        if prev is None:
            per = math.ceil(c / e_in)  # host beats per pixel
            a = (np.arange(h * w, dtype=np.float64) + 1) * per - 1
        else:
            p_elems = prev.out_elems(folding.get(prev.name, {}))
            rate = stream_rate(p_elems, e_in)
            # per producer granule (pc elements): one the producer emits in fewer beats
            # than the link needs to pass it (a DWC to a narrower consumer) arrives
            # (q - p) beats after its last beat; then regrouped into consumer granules
            pc = _grid(prev.out_shape)[2]
            q_beats, p_beats = pc / rate, max(1.0, pc / p_elems)
            a = _regrain(_serve(t + LINK_LATENCY + max(0.0, q_beats - p_beats) - q_beats, q_beats), h * w)
        t = op_times(op, f, a)
        done[op.name] = int(math.ceil(t[-1]))
        prev = op
    return done


def latency(graph: HWGraph, folding: dict) -> int:
    """Cycles from frame 0's first input beat to its last output beat, both included
    (as Verilator measures ``latency_cycles``)."""
    return done_cycles(graph, folding)[graph.nodes[-1].name] + 1


def _regrain(t: np.ndarray, n: int) -> np.ndarray:
    """Producer granule times -> consumer granule times (a flatten between an image and
    a vector layer: the vector is complete with the producer's last pixel)."""
    if len(t) == n:
        return t
    if n == 1:
        return t[-1:]
    k = len(t) // n if len(t) >= n else 1
    return t[k - 1 :: k][:n] if len(t) >= n else np.repeat(t, n // len(t))[:n]
