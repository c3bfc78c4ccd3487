"""qonnx's channels-last ops (domain ``qonnx.custom_op.channels_last``: Conv, MaxPool,
BatchNormalization on NHWC tensors, as ``ConvertToChannelsLastAndClean`` leaves them).

qloom's streams are NHWC already, so a channels-last op costs no transpose: the handler
looks at its input channels first (a new ``order`` only), runs the standard handler (same
attributes; a channels-last Conv's weights are OHWI, which qonnx's wrapper transposes to
OIHW, and so does this one) and looks at the result channels last again. Standard-domain nodes go to the standard handler unchanged.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from qloom.passes.lower import elementwise, linear, pool
from qloom.passes.lower.layout import permuted
from qloom.passes.lower.state import LowerContext, TensorState

DOMAIN = "qonnx.custom_op.channels_last"


def view(st: TensorState, last: bool) -> TensorState:
    """``st`` seen channels last (``last``) or channels first: only shape and order change."""
    if st.channels_last == last or len(st.onnx_shape) != 3:
        return dataclasses.replace(st, channels_last=last and len(st.onnx_shape) == 3)
    p = [2, 0, 1] if not last else [1, 2, 0]
    shape, order = permuted(st.onnx_shape, st.order, p)
    return dataclasses.replace(st, onnx_shape=shape, order=order, channels_last=last)


def oihw_weights(ctx: LowerContext, node):
    """A copy of the channels-last Conv ``node`` whose weight input is the OIHW transpose
    of its OHWI weights (registered as a constant, with its integers if quantized)."""
    from onnx import NodeProto

    w = node.input[1]
    new = f"{w}__oihw"
    if new not in ctx.consts:
        if w not in ctx.consts:
            raise ctx.err(node, f"input 1 ({w}) must be a constant")
        ctx.consts[new] = np.asarray(ctx.consts[w]).transpose(0, 3, 1, 2)
        if w in ctx.qconsts:
            q, s, t = ctx.qconsts[w]
            ctx.qconsts[new] = (q.transpose(0, 3, 1, 2), s.transpose(0, 3, 1, 2), t)
    n = NodeProto()
    n.CopyFrom(node)
    n.input[1] = new
    return n


def either(handler):
    """The handler of an op type that also exists in the channels-last domain."""

    def run(ctx: LowerContext, node, st: TensorState):
        if node.domain != DOMAIN:
            if st.channels_last:
                raise ctx.err(node, "a channels-first op on a channels-last (NHWC) tensor")
            return handler(ctx, node, st)
        if len(st.onnx_shape) != 3 or not st.channels_last:
            raise ctx.err(node, f"a channels-last op expects an NHWC image, got per-frame shape "
                                f"{st.onnx_shape}{'' if st.channels_last else ' (channels first)'}")
        if node.op_type == "Conv":
            node = oihw_weights(ctx, node)
        return view(handler(ctx, node, view(st, False)), True)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


conv = either(linear.conv)
max_pool = either(pool.max_pool)
batch_norm = either(elementwise.batch_norm)
