"""Layout ops: Reshape, Flatten, Squeeze, Unsqueeze, Transpose; and Identity, Dropout.

None of them costs anything in hardware: a layout op only changes the tensor's ONNX shape
and ``order`` (which ONNX element each stream element is); the next matrix product permutes
its weight columns to match, and the host output scatters by ``order``.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from qloom.passes.lower.state import LowerContext, TensorState, attrs

LAYOUT_OPS = ("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose")
PASS_OPS = ("Identity", "Dropout")


def relayout(ctx: LowerContext, node, st: TensorState, new_shape, order) -> TensorState:
    """``st`` with a new ONNX shape and stream order, if its float program allows it."""
    if st.pending is not None or st.pools:
        raise ctx.err(node, "a layout change between a matrix product and its activation "
                            "quantizer is not supported")
    if not st.uniform():
        if len(new_shape) >= 1 and len(st.onnx_shape) >= 1 and new_shape[0] == st.onnx_shape[0] \
                and node.op_type != "Transpose":
            pass  # channel axis kept (e.g. Unsqueeze of spatial dims)
        else:
            raise ctx.err(node, "a layout change under per-channel scales is not supported")
    return dataclasses.replace(st, onnx_shape=tuple(new_shape), order=order,
                               host_layout_changed=st.host_layout_changed or st.itype is None)


def reshape(ctx: LowerContext, node, st: TensorState) -> TensorState:
    """Reshape, Flatten, Squeeze, Unsqueeze: the stream order is unchanged."""
    out = ctx.shape(node.output[0])
    if not out or int(np.prod(out[1:])) != int(np.prod(st.onnx_shape)):
        raise ctx.err(node, f"reshape to {out} must keep the batch dimension first")
    return relayout(ctx, node, st, out[1:], st.order)


def transpose(ctx: LowerContext, node, st: TensorState) -> TensorState:
    perm = list(attrs(node)["perm"])
    if perm[0] != 0:
        raise ctx.err(node, "transposing the batch dimension is not supported")
    p = [i - 1 for i in perm[1:]]
    idx = np.arange(int(np.prod(st.onnx_shape)), dtype=np.int64).reshape(st.onnx_shape).transpose(p)
    new_index_of_old = np.empty(idx.size, np.int64)
    new_index_of_old[idx.ravel()] = np.arange(idx.size)
    out = tuple(np.asarray(st.onnx_shape)[p])
    return relayout(ctx, node, st, out, new_index_of_old[st.order])


def identity(ctx: LowerContext, node, st: TensorState) -> TensorState:
    """Identity, Dropout (inference): the tensor passes unchanged."""
    return st
