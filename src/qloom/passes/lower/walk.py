"""The walk: one pass over the graph in topological order, dispatching each node with a
dynamic input to its op family's handler through :data:`HANDLERS`.

Structure: the model must be a chain (one dynamic input per node, one consumer per tensor).
Nodes without a dynamic input are constants, folded as they come (``linear.const_node``:
weight quantizers). Anything that cannot become integer hardware raises
:class:`qloom.errors.UnsupportedModelError` naming the node.
"""
from __future__ import annotations

from typing import Callable

from qloom.errors import QloomError
from qloom.ir import HWGraph
from qloom.passes.lower import (channels_last, elementwise, finn, host, layout, linear, output,
                                 pool, tail)
from qloom.passes.lower.state import LowerContext, TensorState

# handler(ctx, node, state of its dynamic input) -> the state of its output, or
# {output name: state} for several outputs (TopK)
Handler = Callable[[LowerContext, object, TensorState], TensorState | dict]

HANDLERS: dict[str, Handler] = {
    # matrix products (linear.py)
    "Conv": channels_last.conv,  # NCHW, or NHWC in the channels_last domain
    "Gemm": linear.gemm,
    "MatMul": linear.matmul,
    # pooling (pool.py)
    "MaxPool": channels_last.max_pool,
    "AveragePool": pool.average_pool,
    "GlobalAveragePool": pool.global_average_pool,
    "ReduceMean": pool.reduce_mean,
    # activation quantizers and the float program (elementwise.py)
    "Quant": elementwise.quant,
    "IntQuant": elementwise.quant,
    "BipolarQuant": elementwise.quant,
    "Trunc": elementwise.trunc,
    "Add": elementwise.add,
    "Sub": elementwise.sub,
    "Mul": elementwise.mul,
    "Div": elementwise.div,
    "BatchNormalization": channels_last.batch_norm,
    "Relu": elementwise.relu,
    "Neg": elementwise.neg,
    "Sigmoid": elementwise.sigmoid,
    "Tanh": elementwise.tanh,
    "Clip": elementwise.clip,
    "MultiThreshold": finn.multi_threshold,  # FINN-streamlined thresholds (finn.py)
    # layout (layout.py)
    "Reshape": layout.reshape,
    "Flatten": layout.reshape,
    "Squeeze": layout.reshape,
    "Unsqueeze": layout.reshape,
    "Transpose": layout.transpose,
    "Identity": layout.identity,
    "Dropout": layout.identity,
    # classifier head (output.py)
    "ArgMax": output.arg_max,
    "TopK": output.top_k,
    # float heads on the host (tail.py)
    "Softmax": tail.softmax,
    "LogSoftmax": tail.softmax,
}


def unsupported_message() -> str:
    """What the error for an op type missing from :data:`HANDLERS` says (after the node)."""
    ops = sorted(HANDLERS)
    return f"unsupported op; qloom lowers {', '.join(ops[:-1])} and {ops[-1]}"


class Lowering(LowerContext):
    """Walks a cleaned qonnx ModelWrapper and builds the HWGraph (see module docstring)."""

    def run(self) -> HWGraph:
        g = self.graph
        inp = g.input[0]
        ishape = self.shape(inp.name)
        if len(ishape) < 2:
            raise QloomError(f"input {inp.name}: expected a batch dimension first, got shape {ishape}")
        fshape = ishape[1:]
        self.states[inp.name] = host.input_state(self, inp.name, fshape)
        self.input_name, self.input_shape = inp.name, fshape
        consumers: dict[str, int] = {}
        for n in g.node:
            for i in n.input:
                consumers[i] = consumers.get(i, 0) + 1
        for node in g.node:
            dyn = [i for i in node.input if i in self.states]
            if not dyn:
                linear.const_node(self, node)
                continue
            if len(dyn) > 1:
                raise self.err(node, "more than one dynamic input (branching graphs such as "
                                     "residual connections are not supported yet)")
            if consumers.get(dyn[0], 0) > 1:
                raise self.err(node, f"tensor {dyn[0]} feeds several nodes (branching graphs "
                                     "are not supported yet)")
            st = self.states.pop(dyn[0])
            handler = HANDLERS.get(node.op_type)
            if handler is None:
                raise self.err(node, unsupported_message())
            new = handler(self, node, st)
            for o, s in (new if isinstance(new, dict) else {node.output[0]: new}).items():
                self.states[o] = s
        outs = [o.name for o in g.output]
        if len(outs) != 1:
            raise QloomError(f"{self.source}: the model has {len(outs)} outputs; qloom expects exactly 1")
        if outs[0] not in self.states:
            raise QloomError(f"output {outs[0]}: not computed from the model input")
        output.finish(self, outs[0], self.states[outs[0]])
        name = self.model.model.graph.name or "model"
        return HWGraph(name=name, host_input=self.host_input, nodes=tuple(self.ops),
                       host_output=self.host_output, source=self.source,
                       meta={"sources": dict(self.sources)})


def lower_model(path, input_type=None) -> HWGraph:
    """Load the QONNX file at ``path`` and lower it to an integer :class:`HWGraph`.

    ``input_type``: the model input's type (a :class:`qloom.types.FixedType` or its text,
    ``--input-type``); default: the graph input's quantization annotation, if any
    (``qloom.passes.lower.host``).

    Raises
    ------
    QloomError
        Unreadable file, or a node that cannot be lowered (the message names it), or a
        lowered chain that does not hold together (``HWGraph.verify``).
    """
    from qloom.frontend import load_qonnx, parse_input_type

    if isinstance(input_type, str):
        input_type = parse_input_type(input_type)
    model = load_qonnx(path)
    return Lowering(model, str(path), input_type=input_type).run().verify()
