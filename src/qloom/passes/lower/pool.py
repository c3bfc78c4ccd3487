"""Pooling: MaxPool -> StreamingMaxPool; AveragePool, GlobalAveragePool and a spatial
ReduceMean -> SumPool followed by a division in the float program.

A max-pool commutes with a non-decreasing activation, so when it arrives on a tensor whose
activation is not decided yet (a pending MVAU, or float steps) it waits in ``st.pools``
and is emitted behind the quantizer (see ``elementwise.threshold``) or at the graph output.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from qloom.ir import EwStep
from qloom.ops import StreamingMaxPool, SumPool
from qloom.ops.swg import conv_out_dim
from qloom.passes.lower.state import LowerContext, TensorState, attrs, canonical_nhwc, image_dims
from qloom.types import IntType


def pool_geometry(ctx: LowerContext, node, st: TensorState, kernel=None):
    """(C, H, W, kernel, stride, pads (t, l, b, r), out H, out W) of a pooling node;
    ``kernel`` given: a global pool (stride 1). Ceil mode becomes extra bottom/right pad."""
    a = attrs(node)
    C, H, W = image_dims(ctx, node, st)
    k = tuple(kernel or a["kernel_shape"])
    s = tuple(a.get("strides", (1, 1))) if kernel is None else (1, 1)
    if tuple(a.get("dilations", (1, 1))) != (1, 1):
        raise ctx.err(node, "dilated pooling is not supported")
    t, l, b, r = tuple(a.get("pads", (0, 0, 0, 0)))
    oh, ow = conv_out_dim(H, k[0], s[0], t, b), conv_out_dim(W, k[1], s[1], l, r)
    if a.get("ceil_mode", 0):
        ch = -(-(H + t + b - k[0]) // s[0]) + 1
        cw = -(-(W + l + r - k[1]) // s[1]) + 1
        b += (ch - 1) * s[0] + k[0] - (H + t + b)
        r += (cw - 1) * s[1] + k[1] - (W + l + r)
        oh, ow = ch, cw
    return C, H, W, k, s, (t, l, b, r), oh, ow


def emit_max_pool(ctx: LowerContext, kw: dict):
    """Append a StreamingMaxPool (``kw``: its constructor arguments)."""
    ctx.ops.append(StreamingMaxPool(**kw))


def max_pool(ctx: LowerContext, node, st: TensorState) -> TensorState:
    if len(node.output) > 1 and node.output[1]:
        raise ctx.err(node, "MaxPool indices output is not supported")
    C, H, W, k, s, pads, oh, ow = pool_geometry(ctx, node, st)
    new = TensorState((C, oh, ow), canonical_nhwc(C, oh, ow), st.itype, st.prog, st.pending,
                      list(st.pools))
    if st.itype is None:
        raise ctx.err(node, "max-pool on the unquantized float model input; give its type "
                            "with --input-type or add an input quantizer in front of it")
    kw = dict(name=ctx.name("StreamingMaxPool", node.name), in_shape=(H, W, C),
              out_shape=(oh, ow, C), in_type=st.itype, out_type=st.itype, kernel=k,
              stride=s, pads=pads)
    if st.pending is None and not st.pools and not st.prog.steps:
        emit_max_pool(ctx, kw)  # max commutes with a positive scale and a bias
    else:
        new.pools.append((kw, len(st.prog.steps)))
    return new


def average_pool(ctx: LowerContext, node, st: TensorState, glob: bool = False) -> TensorState:
    if st.itype is None:
        raise ctx.err(node, "average pooling on the unquantized float model input; give its "
                            "type with --input-type or add an input quantizer in front of it")
    if st.pending is not None or st.pools or st.prog.steps or st.prog.bias is not None:
        raise ctx.err(node, "average pooling needs a quantized input (put an activation "
                            "quantizer before it)")
    a = attrs(node)
    kernel = tuple(st.onnx_shape[1:]) if glob else None
    C, H, W, k, s, pads, oh, ow = pool_geometry(ctx, node, st, kernel)
    if any(pads) and not a.get("count_include_pad", 0):
        raise ctx.err(node, "padded average pooling with count_include_pad=0 has a "
                            "position-dependent divisor; not supported")
    kk = k[0] * k[1]
    otype = IntType.for_range(st.itype.min * kk, st.itype.max * kk)
    ctx.ops.append(SumPool(ctx.name("SumPool", node.name), (H, W, C), (oh, ow, C),
                           st.itype, otype, kernel=k, stride=s, pads=pads))
    prog = st.prog.with_steps(EwStep("div", a=np.array([kk], np.float32), source=node.name))
    return TensorState((C, oh, ow), canonical_nhwc(C, oh, ow), otype, prog)


def global_average_pool(ctx: LowerContext, node, st: TensorState) -> TensorState:
    return average_pool(ctx, node, st, glob=True)


def reduce_mean(ctx: LowerContext, node, st: TensorState) -> TensorState:
    """A mean over the spatial axes (torch AdaptiveAvgPool2d(1), x.mean((2, 3))) is a
    global average pool."""
    a = attrs(node)
    axes = a.get("axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = np.asarray(ctx.const(node, 1)).ravel().tolist()
    if len(st.onnx_shape) != 3 or axes is None or sorted(int(x) % 4 for x in axes) != [2, 3]:
        raise ctx.err(node, "only a mean over the spatial axes of an NCHW tensor "
                            "(global average pooling) is supported")
    new = average_pool(ctx, node, st, glob=True)
    if not a.get("keepdims", 1):
        C = st.onnx_shape[0]
        new = dataclasses.replace(new, onnx_shape=(C,), order=np.arange(C, dtype=np.int64))
    return new
