"""The walk: one pass over the graph in topological order, dispatching each node with a
dynamic input to its op family's handler through :data:`HANDLERS`.

Structure: a DAG. A node with several dynamic inputs is a join (:data:`JOINS`: a residual
Add, a channel Concat; ``join.py``); a tensor that feeds several nodes gets a fork
(DuplicateStreams) whose outputs feed them, each consumer continuing from a copy of the
tensor's state. Nodes without a dynamic input are constants, folded as they come
(``linear.const_node``: weight quantizers). The walk records which layer produces each
tensor's stream and so the producers of every layer (``HWGraph.edges``): the operators one
handler appends form a chain from its input streams. Anything that cannot become integer
hardware raises :class:`qloom.errors.UnsupportedModelError` naming the node.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

from qloom.errors import QloomError
from qloom.ir import HOST, HWGraph
from qloom.ops import DuplicateStreams
from qloom.passes.lower import (channels_last, elementwise, finn, host, join, layout, linear,
                                 output, pool, tail)
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


# join(ctx, node, states of its dynamic inputs, in input order) -> the state of its output
JOINS: dict[str, Callable] = join.JOINS


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
        self.forks = {}
        self.stream: dict[str, str] = {inp.name: HOST}  # tensor -> layer producing its stream
        self.edges: dict[str, tuple] = {}
        self.uses: dict[str, int] = {}
        for n in g.node:
            for i in n.input:
                self.uses[i] = self.uses.get(i, 0) + 1
        outs = [o.name for o in g.output]
        if len(outs) != 1:
            raise QloomError(f"{self.source}: the model has {len(outs)} outputs; qloom expects exactly 1")
        for node in g.node:
            dyn = [i for i in node.input if i in self.states]
            if not dyn:
                self._guarded(node, linear.const_node, self, node)
                continue
            for t in dict.fromkeys(dyn):
                if self.uses[t] > 1 and t not in self.forks:
                    self._fork(node, t)
            if len(dyn) > 1:
                handler = JOINS.get(node.op_type)
                if handler is None:
                    raise self.err(node, "more than one dynamic input; qloom joins branches "
                                         f"with {' and '.join(sorted(JOINS))}")
                ins = [self.stream[t] for t in dyn]
                before = len(self.ops)
                new = self._guarded(node, handler, self, node, [self._take(t) for t in dyn])
                if self.join_order is not None:
                    ins, self.join_order = [ins[i] for i in self.join_order], None
            else:
                handler = HANDLERS.get(node.op_type)
                if handler is None:
                    raise self.err(node, unsupported_message())
                ins = [self.stream[dyn[0]]]
                before = len(self.ops)
                new = self._guarded(node, handler, self, node, self._take(dyn[0]))
            out_stream = self._link(before, ins)
            for o, s in (new if isinstance(new, dict) else {node.output[0]: new}).items():
                self.states[o] = s
                self.stream[o] = out_stream
        if outs[0] not in self.states:
            raise QloomError(f"output {outs[0]}: not computed from the model input")
        if self.uses.get(outs[0], 0):
            raise QloomError(f"output {outs[0]}: also feeds other nodes; qloom needs the model "
                             "output to be a tensor nothing else reads")
        before = len(self.ops)
        output.finish(self, outs[0], self.states[outs[0]])
        last = self._link(before, [self.stream[outs[0]]])
        if last == HOST:
            raise QloomError(f"output {outs[0]}: computed without any hardware operator")
        name = self.model.model.graph.name or "model"
        return HWGraph(name=name, host_input=self.host_input, nodes=tuple(self.ops),
                       host_output=self.host_output, source=self.source,
                       meta={"sources": dict(self.sources)}, edges=dict(self.edges), output=last)

    def _fork(self, node, t: str) -> None:
        """Emit a DuplicateStreams for tensor ``t`` (read by ``uses[t]`` node inputs)."""
        st = self.states[t]
        if st.itype is None:
            raise self.err(node, f"the model input {t} feeds several nodes; put one input "
                                 "quantizer before the branches")
        if st.pending is not None or st.pools or st.host_steps:
            raise self.err(node, f"tensor {t} feeds several nodes but is not the output of an "
                                 "activation quantizer; quantize it before the branches")
        shape = tuple(st.order.shape)
        name = self.name("DuplicateStreams", t)
        self.ops.append(DuplicateStreams(name, shape, shape, st.itype, st.itype, copies=self.uses[t]))
        self.edges[name] = (self.stream[t],)
        self.stream[t] = name
        self.forks[t] = name

    def _take(self, t: str) -> TensorState:
        """The state of tensor ``t`` for one of its readers (a copy while others remain)."""
        self.uses[t] -= 1
        if self.uses[t] > 0:
            st = self.states[t]
            return dataclasses.replace(st, pools=list(st.pools))
        return self.states.pop(t)

    def _link(self, before: int, ins: list[str]) -> str:
        """Producers of the operators appended since ``before``: the first takes the input
        streams ``ins`` (as many as it has inputs), each later one its predecessor's stream
        and the next unused inputs. Returns the stream of the output."""
        new = self.ops[before:]
        queue = list(ins)
        prev = None
        for op in new:
            take = op.n_inputs - (prev is not None)
            self.edges[op.name] = ((prev.name,) if prev is not None else ()) + tuple(queue[:take])
            queue = queue[take:]
            prev = op
        return prev.name if prev is not None else ins[0]


    def _guarded(self, node, fn, *args):
        """``fn(*args)``; a ValueError, IndexError, KeyError, TypeError or ArithmeticError on
        the way (shapes, ranks or attributes that do not fit the op: a malformed or mutated
        model) becomes a one-line error naming ``node``."""
        try:
            return fn(*args)
        except (ValueError, IndexError, KeyError, TypeError, ArithmeticError) as e:
            first = (str(e).splitlines() or [""])[0][:200]
            raise self.err(node, f"its inputs or attributes do not fit a {node.op_type} "
                                 f"({type(e).__name__}: {first})") from None


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
