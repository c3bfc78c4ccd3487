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


def relayout(ctx: LowerContext, node, st: TensorState, new_shape, order, perm=None) -> TensorState:
    """``st`` with a new ONNX shape and stream order, if its float program allows it."""
    if st.pending is not None or st.pools:
        raise ctx.err(node, "a layout change between a matrix product and its activation "
                            "quantizer is not supported")
    ch = -1 if st.channels_last else 0  # where the channel axis is (per frame)
    keeps = (len(new_shape) >= 1 and len(st.onnx_shape) >= 1
             and new_shape[ch] == st.onnx_shape[ch] and node.op_type != "Transpose")
    if not st.uniform() and not keeps:  # keeps: e.g. Unsqueeze of spatial dims
        raise ctx.err(node, "a layout change under per-channel scales is not supported")
    last = st.channels_last and len(new_shape) == 3 and keeps
    return dataclasses.replace(st, onnx_shape=tuple(new_shape), order=order, channels_last=last,
                               host_layout_changed=st.host_layout_changed or st.itype is None,
                               host_index=host_index(st, new_shape, perm))


def host_index(st: TensorState, new_shape, perm=None):
    """The float input's ``host_index`` after a reshape to ``new_shape`` or, with ``perm``,
    a transpose (numpy axes); None on an integer stream (the host input is fixed then)."""
    if st.itype is not None:
        return None
    hi = st.host_index
    if hi is None:
        hi = np.arange(int(np.prod(st.onnx_shape)), dtype=np.int64).reshape(st.onnx_shape)
    return hi.transpose(perm) if perm is not None else hi.reshape(tuple(new_shape))


def reshape(ctx: LowerContext, node, st: TensorState) -> TensorState:
    """Reshape, Flatten, Squeeze, Unsqueeze: the stream order is unchanged."""
    out = ctx.shape(node.output[0])
    if not out or int(np.prod(out[1:])) != int(np.prod(st.onnx_shape)):
        raise ctx.err(node, f"reshape to {out} must keep the batch dimension first")
    return relayout(ctx, node, st, out[1:], st.order)


def permuted(shape: tuple, order: np.ndarray, p: list) -> tuple[tuple, np.ndarray]:
    """(new shape, new order) of a tensor of per-frame ``shape`` whose axes are permuted
    by ``p`` (numpy's transpose axes); the stream itself does not change."""
    idx = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape).transpose(p)
    new_index_of_old = np.empty(idx.size, np.int64)
    new_index_of_old[idx.ravel()] = np.arange(idx.size)
    return tuple(int(d) for d in np.asarray(shape)[p]), new_index_of_old[order]


TO_NHWC, TO_NCHW = [0, 2, 3, 1], [0, 3, 1, 2]


def transpose(ctx: LowerContext, node, st: TensorState) -> TensorState:
    """A Transpose: a new order. NCHW <-> NHWC of an image (qonnx's channels-last
    conversion, an NHWC model input) only moves the channel axis: per-channel programs
    stay valid and the state remembers where the channels are (``channels_last``)."""
    perm = list(attrs(node)["perm"])
    if perm[0] != 0:
        raise ctx.err(node, "transposing the batch dimension is not supported")
    p = [i - 1 for i in perm[1:]]
    out, order = permuted(st.onnx_shape, st.order, p)
    if len(st.onnx_shape) == 3 and perm == (TO_NCHW if st.channels_last else TO_NHWC):
        return dataclasses.replace(st, onnx_shape=out, order=order, channels_last=not st.channels_last,
                                   host_layout_changed=st.host_layout_changed or st.itype is None,
                                   host_index=host_index(st, out, p))
    new = relayout(ctx, node, st, out, order, p)
    return dataclasses.replace(new, channels_last=False)


def identity(ctx: LowerContext, node, st: TensorState) -> TensorState:
    """Identity, Dropout (inference): the tensor passes unchanged."""
    return st
