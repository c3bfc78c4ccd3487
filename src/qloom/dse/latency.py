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

- SWG (qloom_swg) and the pools (qloom_pool = qloom_swg + reduction)
  start an output row once every input row it needs is complete (row granularity), and
  emit a window in K_H*K_W*C/SIMD beats;
- SWG with parallel_window (qloom_swg_pw) emits window (oy, ox) right after the input pixel
  that completes it, one window per cycle; so does the pixel-streaming max pool
  (qloom_maxpool_pw);
- MVAU (qloom_mvau) reads a vector during its first pass over the rows (overlapping
  its arrival) and then takes (NF-1)*SF more cycles: ``t[i] = max(a[i] + (NF-1)*SF,
  t[i-1] + NF*SF) + L``; VVAU (qloom_vvau) consumes a pixel's window as it arrives,
  (C/PE)*(K/SIMD) beats: ``t[i] = max(a[i], t[i-1] + (C/PE)*(K/SIMD)) + L``;
- Thresholding: C/PE beats per pixel; LabelSelect: NUM_LABELS cycles per vector.

Each operator states its rule in its own module (``HWOp.out_times``, built from
:func:`qloom.stream.serve` and :func:`qloom.stream.window_ready`), with its pipeline
latency L; each link (DWC and FIFO) adds LINK_LATENCY cycles. The model is checked against Verilator
(``rtlsim.json``'s latency_cycles) in tests/test_latency.py.
"""
from __future__ import annotations

import math

import numpy as np

from qloom.ir import HWGraph
from qloom.stream import LINK_LATENCY, grid, serve, stream_rate


def done_cycles(graph: HWGraph, folding: dict) -> dict[str, int]:
    """Per layer, the cycle at which frame 0's last output beat leaves it (cycle 0: the
    first input beat; the host feeds one beat per cycle, no back-pressure)."""
    prev = None
    t = None
    done = {}
    for op in graph.nodes:
        f = folding.get(op.name, {})
        h, w, c = grid(op.in_shape)
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
            pc = grid(prev.out_shape)[2]
            q_beats, p_beats = pc / rate, max(1.0, pc / p_elems)
            a = _regrain(serve(t + LINK_LATENCY + max(0.0, q_beats - p_beats) - q_beats, q_beats), h * w)
        t = op.out_times(f, a)
        done[op.name] = int(math.ceil(t[-1]))
        prev = op
    return done


def latency(graph: HWGraph, folding: dict) -> int:
    """Cycles from frame 0's first input beat to its last output beat, both included
    (as Verilator measures ``latency_cycles``)."""
    return done_cycles(graph, folding)[graph.nodes[-1].name] + 1


def _regrain(t: np.ndarray, n: int) -> np.ndarray:
    """Producer granule times -> the times of ``n`` consumer granules over the same
    elements (a flatten: a vector is complete with the producer's last pixel): consumer
    granule j is complete with the producer granule that holds its last element."""
    m = len(t)
    return t[np.ceil((np.arange(n) + 1) * m / n).astype(np.int64) - 1]
