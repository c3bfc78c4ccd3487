"""The output side: ArgMax/TopK -> LabelSelect, and the host output edge.

A classifier head's ranking can run on the integers when everything between them and the
scores is scalar and non-decreasing. At the graph output, whatever is still pending (an
MVAU/VVAU without activation, the max-pools waiting behind it) is emitted, and the float
program left on the tensor becomes the host's de-scaling (:class:`qloom.ir.HostOutput`).
"""
from __future__ import annotations

import numpy as np

from qloom.errors import QloomError
from qloom.ir import HostOutput
from qloom.ops import LabelSelect
from qloom.passes.lower.linear import emit_pending
from qloom.passes.lower.pool import emit_max_pool
from qloom.passes.lower.state import LowerContext, TensorState, attrs
from qloom.types import IntType


# ------------------------------------------------------------------ classifier head
def label_select(ctx: LowerContext, node, st: TensorState, k: int, axis: int) -> IntType:
    """Append a LabelSelect of the top ``k``; returns the type of the index stream."""
    if axis not in (-1, len(st.onnx_shape)) or len(st.onnx_shape) != 1:
        raise ctx.err(node, "top-k/arg-max must run over the last axis of a (batch, classes) tensor")
    if not st.uniform() or any(s.increasing is False for s in st.prog.steps):
        raise ctx.err(node, "per-channel or decreasing scaling before top-k/arg-max changes "
                            "the ranking; cannot select labels on the integers")
    if st.pending is not None:
        emit_pending(ctx, st.pending, st.pending.weights, None, 0, None)
        itype = ctx.ops[-1].out_type
    else:
        itype = st.itype
    C = st.onnx_shape[0]
    itype_idx = IntType.for_range(0, max(C - 1, 1))
    name = ctx.name("LabelSelect", node.name)
    ctx.ops.append(LabelSelect(name, (C,), (k,), itype, itype_idx, k=k))
    return itype_idx


def arg_max(ctx: LowerContext, node, st: TensorState) -> TensorState:
    a = attrs(node)
    if a.get("select_last_index", 0):
        raise ctx.err(node, "select_last_index=1 is not supported")
    itype = label_select(ctx, node, st, 1, int(a.get("axis", 0)))
    keep = bool(a.get("keepdims", 1))
    shape = (1,) if keep else ()
    return TensorState(shape, np.arange(1, dtype=np.int64), itype, None, host_steps=("indices",))


def top_k(ctx: LowerContext, node, st: TensorState) -> dict[str, TensorState]:
    """TopK: the indices output is the LabelSelect stream; the values output may only be
    left unused (see :func:`finish`)."""
    a = attrs(node)
    if not a.get("largest", 1) or not a.get("sorted", 1):
        raise ctx.err(node, "only largest=1, sorted=1 top-k is supported")
    k = int(np.asarray(ctx.const(node, 1)).ravel()[0])
    itype = label_select(ctx, node, st, k, int(a.get("axis", -1)))
    res = {node.output[1]: TensorState((k,), np.arange(k, dtype=np.int64), itype, None,
                                       host_steps=("indices",))}
    if node.output[0]:
        res[node.output[0]] = TensorState((k,), np.arange(k), None, None, host_steps=("values",))
    return res


# ------------------------------------------------------------------ the output edge
def finish(ctx: LowerContext, name: str, st: TensorState):
    """Emit what is still pending on the graph output ``name`` and set ``ctx.host_output``."""
    if st.host_steps and st.host_steps[0] == "values":
        raise QloomError(f"output {name}: top-k values are not supported as an output; "
                         "use the indices")
    if st.itype is None:
        raise QloomError(f"output {name}: computed without any quantizer (no integer hardware); "
                         "give the input's type with --input-type or quantize the model")
    if st.host_steps and st.host_steps[0] == "indices":
        ctx.host_output = HostOutput(name, tuple(st.onnx_shape), st.order.reshape(-1), None, "indices")
        return
    if st.pending is not None:
        if any(n > 0 for _, n in st.pools):
            raise QloomError(f"output {name}: a max-pool inside a float output chain is not supported")
        emit_pending(ctx, st.pending, st.pending.weights, None, 0, None)
        t = ctx.ops[-1].out_type
        for kw, _ in st.pools:
            emit_max_pool(ctx, dict(kw, in_type=t, out_type=t))
    elif st.pools:
        raise QloomError(f"output {name}: a max-pool inside a float output chain is not supported")
    ctx.host_output = HostOutput(name, tuple(st.onnx_shape), st.order, st.prog, "values",
                                 channel_axis=st.channel_axis)
