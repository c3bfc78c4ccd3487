"""FINN-streamlined forms: ``MultiThreshold`` (qonnx custom op) -> thresholds.

A FINN-streamlined graph already holds its activations as thresholds: ``MultiThreshold(x, T)``
with ``T`` (C, n) or (1, n) gives ``out_scale * #{k : x >= T[c, k]} + out_bias`` (qonnx
``multithreshold``). Its input is usually an integer matrix product (weights annotated as
integers, ``LowerContext.annotated_int_const``), possibly behind float steps. The level
count is found like any quantizer's (``elementwise.threshold``): by evaluating the float
program and the comparisons at integer inputs, so the thresholds land on the integer
accumulator exactly (Umuroglu & Jahre 2017, "Streamlined deployment for QNNs"), in the
pending MVAU/VVAU or as a standalone Thresholding.

Output stream: BIPOLAR when ``out_dtype`` is BIPOLAR (out_scale 2, out_bias -1: the stream
is y itself); else the level plus ``out_bias / out_scale`` when that is an integer and
``out_scale`` a power of two (exact in float32), e.g. FINN's signed activations
(out_bias = -2^(n-1)); else the level, with out_scale and out_bias in the float program.
"""
from __future__ import annotations

import numpy as np

from qloom.ir import EwProgram
from qloom.passes.lower.elementwise import threshold
from qloom.passes.lower.state import LowerContext, TensorState, attrs
from qloom.types import BIPOLAR, IntType


def multi_threshold(ctx: LowerContext, node, st: TensorState) -> TensorState:
    """MultiThreshold(x, T (C, n) | (1, n)) on an integer stream -> thresholds in the
    pending MVAU/VVAU or a standalone Thresholding (see the module docstring for the output
    type). Raises UnsupportedModelError for unsorted thresholds, a layout that does not
    match the tensor's, a non-positive out_scale or the float model input."""
    a = attrs(node)
    layout = a.get("data_layout", b"")
    layout = layout.decode() if isinstance(layout, bytes) else layout
    last = layout in ("NHWC", "NWC")  # the thresholds' channel axis is the tensor's last
    if len(st.onnx_shape) > 1 and last != st.channels_last:
        raise ctx.err(node, f"data_layout {layout or 'NCHW'} on a channels-"
                            f"{'last' if st.channels_last else 'first'} tensor")
    if st.itype is None:
        raise ctx.err(node, "thresholds on the unquantized float model input; give its type "
                            "with --input-type")
    thr = np.asarray(ctx.const(node, 1), np.float32)
    if thr.ndim != 2:
        raise ctx.err(node, f"thresholds of shape {thr.shape}: expected (channels, n) or (1, n)")
    C = st.channels
    if thr.shape[0] not in (1, C):
        raise ctx.err(node, f"{thr.shape[0]} rows of thresholds for {C} channels")
    n = thr.shape[1]
    s = np.float32(a.get("out_scale", 1.0))
    b = np.float32(a.get("out_bias", 0.0))
    odt = a.get("out_dtype", b"")
    odt = odt.decode() if isinstance(odt, bytes) else odt
    if not s > 0:
        raise ctx.err(node, f"out_scale {s}: expected a positive scale")
    if not np.all(np.diff(thr, axis=1) >= 0):
        raise ctx.err(node, "thresholds must be sorted ascending in every channel")
    prog = st.prog
    Cr = max(st.int_range()[0].size, thr.shape[0])  # channels the levels can differ over

    def level_fn(x):
        y = prog(np.broadcast_to(x, (x.shape[0], Cr)), 1)
        return np.count_nonzero(y[:, :, None] >= thr[None, :, :], axis=-1).astype(np.int64)

    if odt == "BIPOLAR" and n == 1 and s == 2 and b == -1:
        return threshold(ctx, node, st, None, np.ones(1, np.float32), 1, -1, BIPOLAR,
                         level_fn=level_fn, channels=Cr, out_prog=EwProgram(np.ones(1)))
    off = float(b) / float(s)
    pow2 = float(np.log2(s)) == round(float(np.log2(s)))
    if pow2 and off == round(off):
        off = int(off)
        otype = IntType.for_range(off, off + n)
        return threshold(ctx, node, st, None, np.array([s], np.float32), n, off, otype,
                         level_fn=level_fn, channels=Cr, out_prog=EwProgram(np.array([s], np.float64)))
    return threshold(ctx, node, st, None, np.array([s], np.float32), n, 0, IntType.for_range(0, n),
                     level_fn=level_fn, channels=Cr,
                     out_prog=EwProgram(np.array([s], np.float64), np.array([b], np.float32)))
