"""The model input's edge: its stream order and, for a typed input, the host quantizer.

The input is *typed* when ``--input-type`` is given (it wins) or the graph input carries a
``quantization_annotation`` (``finn_datatype``) with an integer or fixed-point type. Then
the host quantizer maps the float input onto that type (:meth:`qloom.types.FixedType.quantize`:
floor and wrap-around, hls4ml's AP_TRN/AP_WRAP defaults) and the stream starts as integers
of that type times its step; a quantizer in the model acting on the input then runs in
hardware as thresholds. Untyped, the input stays float until the model's own quantizer,
which becomes the host quantizer (``elementwise.quant``).

Stream order: an image input is streamed NHWC. An NCHW input (1, C, H, W) is reordered by
the host; an NHWC input ((1, H, W, C), marked channels-last by qonnx's data layout, or
followed by a Transpose to NCHW) streams in its own order: no transpose anywhere.
"""
from __future__ import annotations

import numpy as np

from qloom.frontend import annotated_input_type
from qloom.ir import EwProgram, EwStep, HostInput
from qloom.passes.lower.state import LowerContext, TensorState, attrs, canonical_nhwc

PASS_THROUGH = ("Quant", "IntQuant", "BipolarQuant", "Identity", "Dropout", "Add", "Sub",
                "Mul", "Div", "Relu", "Clip")


def input_is_nhwc(ctx: LowerContext, name: str) -> bool:
    """Whether the 4D graph input ``name`` is channels-last: qonnx's layout annotation says
    so, or its first non-elementwise consumer is a Transpose NHWC -> NCHW, an op of
    qonnx's channels-last domain or a MultiThreshold with data_layout NHWC."""
    layout = ctx.model.get_tensor_layout(name)
    if layout is not None and list(layout) == ["N", "H", "W", "C"]:
        return True
    cur = name
    for _ in range(len(ctx.graph.node)):
        cons = [n for n in ctx.graph.node if cur in n.input]
        if len(cons) != 1:
            return False
        n = cons[0]
        if n.op_type == "Transpose":
            return list(attrs(n).get("perm", [])) == [0, 3, 1, 2]
        if n.domain.endswith("channels_last"):
            return True
        if n.op_type == "MultiThreshold":
            layout = attrs(n).get("data_layout", b"")
            return (layout.decode() if isinstance(layout, bytes) else layout) == "NHWC"
        if n.op_type not in PASS_THROUGH:
            return False
        cur = n.output[0]
    return False


def input_state(ctx: LowerContext, name: str, fshape: tuple) -> TensorState:
    """The state of the graph input ``name`` (per-frame shape ``fshape``); sets
    ``ctx.host_input`` when the input is typed."""
    n = int(np.prod(fshape))
    nhwc = len(fshape) == 3 and input_is_nhwc(ctx, name)
    if len(fshape) == 3 and not nhwc:
        order = canonical_nhwc(*fshape)
    else:
        order = np.arange(n, dtype=np.int64).reshape(fshape)
    t, how = ctx.input_type, "--input-type"
    if t is None:
        t, how = annotated_input_type(ctx.model), "the quantization annotation"
    if t is None:
        return TensorState(fshape, order, None, None, channels_last=nhwc)
    it = t.int_type
    step = np.array([t.step], np.float32)
    q = EwStep("fixed", a=step, qargs=(it.bits, it.signed, it.bipolar), source=f"{how} {t.name}")
    rule = "x >= 0 -> +1" if it.bipolar else "AP_TRN floor, AP_WRAP"
    ctx.host_input = HostInput(name, tuple(fshape), (q,), step, it, order,
                               note=f"{t.name} from {how} ({rule})")
    return TensorState(fshape, order, it, EwProgram(np.array([t.step], np.float64)),
                       channels_last=nhwc)
