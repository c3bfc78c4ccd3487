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
latency L; each link (DWC and FIFO) adds LINK_LATENCY cycles, a direct link (a layer that
needs no FIFO in front, ``HWOp.input_fifo_depth`` 0, and no DWC) none. The model is checked against Verilator
(``rtlsim.json``'s latency_cycles) in tests/test_latency.py.

Over a DAG the same rule runs in topological order; a join (AddStreams, ConcatStreams)
serves a granule once it has arrived on every input, so the latency of a join is the max of
its inputs' arrivals, and :func:`join_fifo_depths` sizes the FIFO on each input (the skip
path of a residual block buffers what arrives before the long path delivers).
"""
from __future__ import annotations

import math

import numpy as np

from qloom.ir import HOST, HWGraph
from qloom.stream import LINK_LATENCY, grid, serve, stream_rate


def _arrivals(graph: HWGraph, folding: dict, t: dict, op, k: int, prod: str) -> np.ndarray:
    """Cycle the last beat of each input granule of ``op``'s input ``k`` arrives (after the
    DWC/FIFO link from producer ``prod``, given the producers' output times ``t``)."""
    f = folding.get(op.name, {})
    h, w, c = grid(op.in_shapes[k])
    e_in = op.in_elems(f)
    if prod == HOST:
        per = math.ceil(c / e_in)  # host beats per pixel
        return (np.arange(h * w, dtype=np.float64) + 1) * per - 1
    prev = graph.node(prod)
    p_elems = prev.out_elems(folding.get(prev.name, {}))
    rate = stream_rate(p_elems, e_in)
    pf = folding.get(prev.name, {})
    burst = prev.out_len(pf) // max(1, p_elems)
    # a direct link (no DWC, no FIFO: HWOp.input_fifo_depth 0, ops.glue_instances) adds nothing
    link = 0 if p_elems == e_in and op.input_fifo_depth(f, burst) == 0 else LINK_LATENCY
    # per producer granule (pc elements): one the producer emits in fewer cycles
    # (p beats, ``out_beat_cycles`` apart) than the link needs to pass it (q beats: a DWC
    # to a narrower consumer) arrives (q - p * spacing) cycles after its last beat; then
    # regrouped into consumer granules
    pc = grid(prev.out_shape)[2] + prev.out_len(pf) - int(prev.out_shape[-1])  # with its padding
    q_beats, p_beats = pc / rate, max(1.0, pc / p_elems)
    lag = max(0.0, q_beats - p_beats * prev.out_beat_cycles(pf))
    return _regrain(serve(t[prod] + link + lag - q_beats, q_beats), h * w)


def timing(graph: HWGraph, folding: dict) -> tuple[dict, dict]:
    """Frame 0 through the graph: ({layer: output granule times}, {(layer, input index):
    input granule arrival times}). A join serves a granule once it has arrived on every
    input (the later arrival)."""
    t, arr = {}, {}
    for op in graph.nodes:
        for k, prod in enumerate(graph.producers(op.name)):
            arr[(op.name, k)] = _arrivals(graph, folding, t, op, k, prod)
        a = np.max([arr[(op.name, k)] for k in range(op.n_inputs)], axis=0)
        t[op.name] = op.out_times(folding.get(op.name, {}), a)
    return t, arr


def done_cycles(graph: HWGraph, folding: dict) -> dict[str, int]:
    """Per layer, the cycle at which frame 0's last output beat leaves it (cycle 0: the
    first input beat; the host feeds one beat per cycle, no back-pressure)."""
    t, _ = timing(graph, folding)
    return {name: int(math.ceil(v[-1])) for name, v in t.items()}


def latency(graph: HWGraph, folding: dict) -> int:
    """Cycles from frame 0's first input beat to its last output beat, both included
    (as Verilator measures ``latency_cycles``)."""
    return done_cycles(graph, folding)[graph.last.name] + 1


def join_fifo_depths(graph: HWGraph, folding: dict, ii: int) -> dict[tuple[str, int], int]:
    """Beats the FIFO in front of each input of a join (a layer with several inputs) must
    hold so that the join never stalls its branches at the II ``ii`` (cycles per frame).

    The branches leave the same fork; the join consumes granule j when it has arrived on
    every input. An input whose branch is short (the skip path of a residual block) must
    buffer what arrives before the long branch delivers: with frames every ``ii`` cycles
    and the arrival times of this model, the most granules that have arrived on input k
    but not yet on every input, plus one granule of slack, in beats of the join's input.
    A fork stalls all its outputs when one is full, so a smaller FIFO would throttle, and
    with a long branch that needs many granules before it emits (a 3x3 convolution needs
    the next row), deadlock the pipeline.
    """
    t, arr = timing(graph, folding)
    out = {}
    for op in graph.nodes:
        if op.n_inputs < 2:
            continue
        a = [arr[(op.name, k)] for k in range(op.n_inputs)]
        served = np.max(a, axis=0)
        lag = float(np.max(served - np.min(a, axis=0)))
        frames = int(math.ceil(lag / max(ii, 1))) + 2
        shift = (np.arange(frames, dtype=np.float64) * ii)[:, None]
        done = np.sort((served[None, :] + shift).ravel())
        f = folding.get(op.name, {})
        for k in range(op.n_inputs):
            ev = np.sort((a[k][None, :] + shift).ravel())
            occ = np.arange(1, len(ev) + 1) - np.searchsorted(done, ev, side="right")
            beats = math.ceil(op.in_len(f, k) / op.in_elems(f))
            out[(op.name, k)] = int((max(0, int(occ.max())) + 1) * beats)
    return out


def _regrain(t: np.ndarray, n: int) -> np.ndarray:
    """Producer granule times -> the times of ``n`` consumer granules over the same
    elements (a flatten: a vector is complete with the producer's last pixel): consumer
    granule j is complete with the producer granule that holds its last element."""
    m = len(t)
    return t[np.ceil((np.arange(n) + 1) * m / n).astype(np.int64) - 1]
