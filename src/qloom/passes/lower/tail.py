"""Float heads on the host: a trailing Softmax / LogSoftmax.

A classifier trained with a softmax output (QKeras, Keras) ends in one; it is monotone,
so the integer scores before it keep their ranking, and it runs on the host in float32
after the output de-scaling (a step of :class:`qloom.ir.HostOutput`'s program, shown by
``qloom info``). It must be the last op: only Identity/Dropout may follow it to the output.
A trailing Sigmoid needs nothing here: it is an elementwise step (``elementwise.sigmoid``)
that the output's float program keeps.
"""
from __future__ import annotations

import dataclasses

from qloom.ir import EwStep
from qloom.passes.lower.state import LowerContext, TensorState, attrs

TRANSPARENT = ("Identity", "Dropout")


def reaches_output(ctx: LowerContext, tensor: str) -> bool:
    """Whether ``tensor`` is the graph output, directly or through Identity/Dropout."""
    outs = {o.name for o in ctx.graph.output}
    for _ in range(len(ctx.graph.node) + 1):
        if tensor in outs:
            return True
        cons = [n for n in ctx.graph.node if tensor in n.input]
        if len(cons) != 1 or cons[0].op_type not in TRANSPARENT:
            return False
        tensor = cons[0].output[0]
    return False


def softmax(ctx: LowerContext, node, st: TensorState) -> TensorState:
    """Softmax / LogSoftmax over the classes of a (batch, classes) output -> host float."""
    if not reaches_output(ctx, node.output[0]):
        raise ctx.err(node, "a softmax runs on the host, so it must be the model's last op")
    if len(st.onnx_shape) != 1:
        raise ctx.err(node, f"expected a (batch, classes) tensor, got per-frame shape {st.onnx_shape}")
    axis = int(attrs(node).get("axis", 1 if ctx.opset.get("", 13) < 13 else -1))
    if axis not in (1, -1):
        raise ctx.err(node, f"axis {axis}: expected the classes axis (1 or -1)")
    if st.itype is None:
        raise ctx.err(node, "its input is the unquantized float model input (no integer hardware)")
    step = EwStep(node.op_type.lower(), source=node.name)
    return dataclasses.replace(st, prog=st.prog.with_steps(step))
