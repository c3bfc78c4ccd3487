"""Lowering: a cleaned QONNX graph -> the integer hardware graph (:class:`qloom.ir.HWGraph`).

One walk over the graph in topological order tracks, for every dynamic tensor, how the
QONNX reference's float tensor relates to the integer stream in hardware:

* ``order``: the stream order of the tensor's elements (ONNX flat indices), so layout ops
  (Reshape, Flatten, Transpose) cost nothing in hardware: the next MVAU's weight columns are
  permuted instead (FINN does the same with its "absorb transpose" streamlining steps);
* ``itype``: the integer type of the stream;
* ``prog``: the per-channel float program (:class:`qloom.ir.EwProgram`) that maps the integer
  stream to the reference's float values: scales, biases, batch-norm, ReLU and the exporter's
  Mul/Add/Sub/Div collect here until an activation quantizer turns them into thresholds
  (``qloom.passes.thresholds``), or the graph output turns them into host-side de-scaling;
* ``pending``: an MVAU/VVAU whose activation is not known yet.

Structure: the model must be a chain (one dynamic input per node, one consumer per tensor).
Anything that cannot become integer hardware raises :class:`UnsupportedModelError` naming
the node.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
from onnx import helper, numpy_helper

from qloom.errors import QloomError, UnsupportedModelError
from qloom.ir import EwProgram, EwStep, HostInput, HostOutput, HWGraph
from qloom.ops import (MVAU, SWG, VVAU, LabelSelect, StreamingMaxPool, SumPool, Thresholding)
from qloom.ops.swg import conv_out_dim
from qloom.passes.thresholds import find_thresholds
from qloom.types import BIPOLAR, IntType

QUANT_OPS = ("Quant", "IntQuant", "BipolarQuant")
LAYOUT_OPS = ("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose")
PASS_OPS = ("Identity", "Dropout")


def _attrs(node) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _canonical_nhwc(c: int, h: int, w: int) -> np.ndarray:
    """Stream order of an NCHW tensor streamed as NHWC: (H, W, C) array of ONNX flat indices."""
    return np.arange(c * h * w, dtype=np.int64).reshape(c, h, w).transpose(1, 2, 0)


@dataclass
class _Pending:
    """An MVAU/VVAU whose activation (thresholds or raw output) is not decided yet."""

    cls: type
    name: str
    in_shape: tuple
    out_shape: tuple
    in_type: IntType
    weights: np.ndarray  # int64 (rows, cols)
    weight_type: IntType
    acc_lo: np.ndarray  # int64 (rows,)
    acc_hi: np.ndarray


@dataclass
class _State:
    """What the walk knows about one dynamic tensor (see module docstring)."""

    onnx_shape: tuple  # per frame (no batch)
    order: np.ndarray  # ONNX flat index of each stream element, in stream order
    itype: IntType | None  # None: still the float model input (host side)
    prog: EwProgram | None
    pending: _Pending | None = None
    pools: list = field(default_factory=list)  # (StreamingMaxPool kwargs, chain length at arrival)
    host_steps: tuple = ()  # float input only: elementwise steps before the input quantizer
    host_layout_changed: bool = False

    @property
    def channels(self) -> int:
        return int(self.onnx_shape[0]) if self.onnx_shape else 1


class Lowering:
    """Walks a cleaned qonnx ModelWrapper and builds the HWGraph (see module docstring)."""

    def __init__(self, model, source: str = ""):
        self.model = model
        self.graph = model.graph
        self.source = source
        self.consts: dict[str, np.ndarray] = {
            t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        self.qconsts: dict[str, tuple[np.ndarray, np.ndarray, IntType]] = {}
        self.states: dict[str, _State] = {}
        self.ops: list = []
        self.counters: dict[str, int] = {}
        self.sources: dict[str, str] = {}
        self.host_input: HostInput | None = None
        self.host_output: HostOutput | None = None
        self.opset = {o.domain: o.version for o in model.model.opset_import}

    # ----------------------------------------------------------------- helpers
    def _err(self, node, what: str) -> UnsupportedModelError:
        return UnsupportedModelError(f"node {node.name or node.op_type} ({node.op_type}): {what}")

    def _shape(self, name: str) -> tuple:
        s = self.model.get_tensor_shape(name)
        if s is None:
            raise QloomError(f"tensor {name}: unknown shape after qonnx shape inference")
        return tuple(int(d) for d in s)

    def _name(self, kind: str, source: str) -> str:
        i = self.counters.get(kind, 0)
        self.counters[kind] = i + 1
        name = f"{kind}_{i}"
        self.sources[name] = source
        return name

    def _const(self, node, i: int) -> np.ndarray:
        if i >= len(node.input) or node.input[i] == "":
            raise self._err(node, f"input {i} is missing")
        name = node.input[i]
        if name not in self.consts:
            raise self._err(node, f"input {i} ({name}) must be a constant")
        return self.consts[name]

    def _per_channel(self, node, value: np.ndarray, st: _State) -> np.ndarray:
        """A constant that broadcasts against the tensor of ``st`` and varies only along
        the channel axis (ONNX axis 1) -> float32 (C,) or (1,)."""
        v = np.asarray(value, dtype=np.float32)
        full = (1,) + tuple(st.onnx_shape)
        try:
            b = np.broadcast_to(v, np.broadcast_shapes(v.shape, full))
        except ValueError:
            raise self._err(node, f"constant of shape {v.shape} does not broadcast to {full}") from None
        if b.shape != full:
            raise self._err(node, f"constant of shape {v.shape} would change the tensor shape {full}")
        if v.size == 1:
            return v.reshape(1)
        if len(full) < 2:
            raise self._err(node, "per-channel constant on a tensor without a channel axis")
        flat = b.reshape(full[0], full[1], -1)
        if not np.all(flat == flat[:, :, :1]):
            raise self._err(node, "constant varies along a spatial axis; only per-channel "
                                  "(axis 1) or scalar constants can be streamlined")
        ch = flat[0, :, 0]
        return ch[:1] if np.all(ch == ch[0]) else ch

    # ----------------------------------------------------------------- constants
    def _eval_const_node(self, node):
        from qonnx.core.onnx_exec import execute_node

        ctx = {n: self.consts[n] for n in node.input if n}
        for o in node.output:
            ctx[o] = np.zeros(self._shape(o) if self.model.get_tensor_shape(o) else (1,), np.float32)
        try:
            execute_node(node, ctx, self.graph, self.opset.get(node.domain, self.opset.get("", 13)))
        except Exception as e:
            raise self._err(node, f"constant folding failed ({e})") from None
        for o in node.output:
            self.consts[o] = np.asarray(ctx[o])
        return ctx

    def _const_node(self, node):
        op = node.op_type
        ctx = self._eval_const_node(node)
        out = node.output[0]
        if op in QUANT_OPS:
            y = np.asarray(ctx[out], dtype=np.float32)
            scale = np.asarray(self.consts[node.input[1]], dtype=np.float32)
            if op != "BipolarQuant":
                zp = np.asarray(self.consts[node.input[2]])
                if np.any(zp != 0):
                    raise self._err(node, "weight quantizer with a non-zero zero point; qloom needs zero point 0")
                bits = float(np.asarray(self.consts[node.input[3]]).ravel()[0])
                a = _attrs(node)
                signed = bool(a.get("signed", 1))
                itype = BIPOLAR if (bits == 1 and signed) else IntType(int(bits), signed)
                if bits != int(bits) or bits < 1:
                    raise self._err(node, f"bit width {bits} is not a positive integer")
            else:
                itype = BIPOLAR
            s_full = np.broadcast_to(scale, np.broadcast_shapes(scale.shape, y.shape)).astype(np.float32)
            if np.any(s_full <= 0):
                raise self._err(node, "weight scale must be positive")
            q = np.round(y.astype(np.float64) / s_full.astype(np.float64))
            if not np.array_equal((q * s_full).astype(np.float32), y):
                raise self._err(node, "quantized weights are not integer multiples of their scale")
            self.qconsts[out] = (q.astype(np.float32), s_full, itype)
        elif op in LAYOUT_OPS + PASS_OPS and node.input[0] in self.qconsts:
            q, s, itype = self.qconsts[node.input[0]]
            res = []
            for arr in (q, s):
                saved = self.consts[node.input[0]]
                self.consts[node.input[0]] = arr
                c = self._eval_const_node(node)
                self.consts[node.input[0]] = saved
                res.append(np.asarray(c[out], dtype=np.float32))
            self._eval_const_node(node)
            self.qconsts[out] = (res[0], res[1], itype)

    def _weights(self, node, i: int, out_axis: int):
        """Integer weights of input ``i``: (q int64, per-output-channel scale float32 (C,) or
        (1,), IntType). ``out_axis`` is the output-channel axis of the weight tensor."""
        name = node.input[i]
        if name not in self.qconsts:
            raise self._err(node, f"weight input {name} is not quantized (no Quant/BipolarQuant "
                                  "on it); qloom needs integer weights")
        q, s, itype = self.qconsts[name]
        sm = np.moveaxis(s, out_axis, 0).reshape(s.shape[out_axis], -1)
        if not np.all(sm == sm[:, :1]):
            raise self._err(node, "weight scale varies along an input axis; only per-tensor or "
                                  "per-output-channel scales are supported")
        sc = sm[:, 0]
        if np.all(sc == sc[0]):
            sc = sc[:1]
        return q.astype(np.int64), sc.astype(np.float32), itype

    # ----------------------------------------------------------------- the walk
    def run(self) -> HWGraph:
        g = self.graph
        inp = g.input[0]
        ishape = self._shape(inp.name)
        if len(ishape) < 2:
            raise QloomError(f"input {inp.name}: expected a batch dimension first, got shape {ishape}")
        fshape = ishape[1:]
        order = (_canonical_nhwc(*fshape) if len(fshape) == 3
                 else np.arange(int(np.prod(fshape)), dtype=np.int64).reshape(fshape))
        self.states[inp.name] = _State(fshape, order, None, None)
        self.input_name, self.input_shape = inp.name, fshape
        consumers: dict[str, int] = {}
        for n in g.node:
            for i in n.input:
                consumers[i] = consumers.get(i, 0) + 1
        for node in g.node:
            dyn = [i for i in node.input if i in self.states]
            if not dyn:
                self._const_node(node)
                continue
            if len(dyn) > 1:
                raise self._err(node, "more than one dynamic input (branching graphs such as "
                                      "residual connections are not supported yet)")
            if consumers.get(dyn[0], 0) > 1:
                raise self._err(node, f"tensor {dyn[0]} feeds several nodes (branching graphs "
                                      "are not supported yet)")
            st = self.states.pop(dyn[0])
            handler = getattr(self, "_op_" + node.op_type, None)
            if handler is None:
                raise self._err(node, "unsupported op; qloom lowers Quant, BipolarQuant, Trunc, "
                                      "Conv, Gemm, MatMul, BatchNormalization, Relu, MaxPool, "
                                      "AveragePool, ReduceMean, Reshape/Flatten, Transpose, "
                                      "Add/Sub/Mul/Div, ArgMax and TopK")
            new = handler(node, st)
            for o, s in (new if isinstance(new, dict) else {node.output[0]: new}).items():
                self.states[o] = s
        outs = [o.name for o in g.output]
        if len(outs) != 1:
            raise QloomError(f"{self.source}: the model has {len(outs)} outputs; qloom expects exactly 1")
        if outs[0] not in self.states:
            raise QloomError(f"output {outs[0]}: not computed from the model input")
        self._finish(outs[0], self.states[outs[0]])
        name = self.model.model.graph.name or "model"
        return HWGraph(name=name, host_input=self.host_input, nodes=tuple(self.ops),
                       host_output=self.host_output, source=self.source,
                       meta={"sources": dict(self.sources)})

    # ----------------------------------------------------------------- quantizers
    def _quant_spec(self, node, st: _State):
        """(EwStep, scale (C,)|(1,), n_levels, out_bias, IntType) of an activation quantizer."""
        a = _attrs(node)
        if node.op_type == "BipolarQuant":
            scale = self._per_channel(node, self._const(node, 1), st)
            step = EwStep("bipolar_quant", a=scale, source=node.name)
            return step, scale, 1, -1, BIPOLAR
        scale = self._per_channel(node, self._const(node, 1), st)
        zp = self._const(node, 2)
        if np.any(np.asarray(zp) != 0):
            raise self._err(node, "non-zero zero point; qloom needs zero point 0 (symmetric or unsigned quantization)")
        bits = float(np.asarray(self._const(node, 3)).ravel()[0])
        if bits != int(bits) or not 1 <= bits <= 16:
            raise self._err(node, f"bit width {bits}: expected an integer from 1 to 16")
        bits = int(bits)
        signed, narrow = bool(a.get("signed", 1)), bool(a.get("narrow", 0))
        rounding = a.get("rounding_mode", "ROUND")
        rounding = rounding.decode() if isinstance(rounding, bytes) else rounding
        if np.any(scale <= 0):
            raise self._err(node, "scale must be positive")
        step = EwStep("quant", a=scale, b=np.zeros(1, np.float32), qargs=(bits, signed, narrow),
                      rounding=rounding, source=node.name)
        if bits == 1 and signed:  # qonnx: a signed 1-bit Quant is bipolar
            return step, scale, 1, -1, BIPOLAR
        lo = (-(1 << (bits - 1)) + (1 if narrow else 0)) if signed else 0
        hi = ((1 << (bits - 1)) - 1) if signed else ((1 << bits) - 1 - (1 if narrow else 0))
        return step, scale, hi - lo, lo, IntType(bits, signed)

    def _op_Quant(self, node, st: _State) -> _State:
        step, scale, n_levels, out_bias, otype = self._quant_spec(node, st)
        if st.itype is None:  # the model input's quantizer: runs on the host
            if st.host_layout_changed and (scale.size > 1 or any(
                    np.asarray(p).size > 1 for s in st.host_steps for p in (s.a, s.b) if p is not None)):
                raise self._err(node, "per-channel input preprocessing after a layout change is not supported")
            self.host_input = HostInput(self.input_name, self.input_shape, st.host_steps + (step,),
                                        scale, otype, st.order)
            return _State(st.onnx_shape, st.order, otype, EwProgram(scale.astype(np.float64)))
        return self._threshold(node, st, step, scale, n_levels, out_bias, otype)

    _op_IntQuant = _op_Quant
    _op_BipolarQuant = _op_Quant

    def _range(self, st: _State) -> tuple[np.ndarray, np.ndarray]:
        if st.pending is not None:
            return st.pending.acc_lo, st.pending.acc_hi
        c = st.channels if np.asarray(st.prog.pre_scale).size > 1 or (
            st.prog.bias is not None and st.prog.bias.size > 1) or any(
            np.asarray(p).size > 1 for s in st.prog.steps for p in (s.a, s.b) if p is not None) else 1
        return np.full(c, st.itype.min, np.int64), np.full(c, st.itype.max, np.int64)

    def _threshold(self, node, st, step, scale, n_levels, out_bias, otype) -> _State:
        """Turn ``st.prog`` followed by the quantizer ``step`` into thresholds."""
        prog = st.prog.with_steps(step)
        lo, hi = self._range(st)
        C = lo.size
        sc = np.broadcast_to(scale.astype(np.float64), (C,)) if scale.size > 1 else scale.astype(np.float64)

        def level_fn(x):
            y = prog(np.broadcast_to(x, (x.shape[0], C)), 1).astype(np.float64)
            if otype.bipolar:
                return (y >= 0).astype(np.int64)
            return np.clip(np.round(y / sc) - out_bias, 0, n_levels).astype(np.int64)

        try:
            thr, sign = find_thresholds(level_fn, lo, hi, n_levels)
        except ValueError as e:
            raise self._err(node, str(e)) from None
        decreasing = bool(np.any(sign < 0))
        pools = st.pools
        if pools:
            # The pools move behind the quantizer: max(level(a)) == level(max(a)) needs the
            # steps after each pool (up to the level) non-decreasing in every channel; the
            # steps before it (e.g. a batch norm with negative gammas) may go either way,
            # the sign-adjusted accumulator (weights times ``sign``) absorbs them.
            varies = level_fn(lo[None, :])[0] != level_fn(hi[None, :])[0]
            for _, n_at in pools:
                before = EwProgram(prog.pre_scale, prog.bias, prog.steps[:n_at])
                b_lo = before(np.broadcast_to(lo, (1, C)), 1)[0]
                b_hi = before(np.broadcast_to(hi, (1, C)), 1)[0]
                d_before = np.sign(b_hi.astype(np.float64) - b_lo.astype(np.float64))
                if np.any(varies & (d_before != 0) & (d_before != sign)):
                    raise self._err(node, "a max-pool sits before this quantizer and the "
                                          "activation after the pool decreases in some channel "
                                          "(negative scale); cannot move the pool")
        if st.pending is not None:
            p = st.pending
            w = p.weights * sign[:, None]
            self._emit_pending(p, w, thr, out_bias, otype, sign)
        else:
            if decreasing:
                raise self._err(node, "the activation decreases in some channel; standalone "
                                      "thresholding needs increasing channels")
            C_hw = st.order.shape[-1] if st.order.ndim else 1
            if thr.shape[0] == 1 and C_hw > 1:
                thr = np.repeat(thr, C_hw, axis=0)
            name = self._name("Thresholding", node.name)
            shape = tuple(st.order.shape)
            self.ops.append(Thresholding(name, shape, shape, st.itype, otype,
                                         thresholds=thr, out_bias=out_bias))
        for kw, _ in pools:
            self._emit_pool(dict(kw, in_type=otype, out_type=otype))
        return _State(st.onnx_shape, st.order, otype, EwProgram(scale.astype(np.float64)))

    def _emit_pending(self, p: _Pending, w, thr, out_bias, otype, sign=None):
        xs = (p.in_type.min, p.in_type.max)
        lo, hi = p.acc_lo, p.acc_hi
        if sign is not None:
            lo, hi = np.where(sign > 0, lo, -hi), np.where(sign > 0, hi, -lo)
        acc_type = IntType.for_range(int(lo.min()), int(hi.max()))
        wt = p.weight_type
        if not wt.contains(w):  # rows negated for decreasing channels: -(-8) needs INT5
            wt = IntType.for_range(int(w.min()), int(w.max()))
        del xs
        if thr is None:
            otype = acc_type
        self.ops.append(p.cls(p.name, p.in_shape, p.out_shape, p.in_type, otype, weights=w,
                              weight_type=wt, acc_type=acc_type, thresholds=thr,
                              out_bias=int(out_bias)))
        return acc_type

    def _emit_pool(self, kw):
        self.ops.append(StreamingMaxPool(**kw))

    # ----------------------------------------------------------------- elementwise chain
    def _chain(self, st: _State, step: EwStep) -> _State:
        if st.itype is None:
            return dataclasses.replace(st, host_steps=st.host_steps + (step,))
        return dataclasses.replace(st, prog=st.prog.with_steps(step))

    def _binary(self, node, st, op, rop):
        """x (op) c when the constant is the second input, c (rop) x when it is the first."""
        dyn_first = node.input[1] in self.consts
        c = self._per_channel(node, self.consts[node.input[1] if dyn_first else node.input[0]], st)
        return self._chain(st, EwStep(op if dyn_first else rop, a=c, source=node.name))

    def _op_Add(self, node, st):
        return self._binary(node, st, "add", "add")

    def _op_Mul(self, node, st):
        return self._binary(node, st, "mul", "mul")

    def _op_Sub(self, node, st):
        if node.input[1] in self.consts:  # x - c == x + (-c) exactly in IEEE arithmetic
            c = self._per_channel(node, self.consts[node.input[1]], st)
            return self._chain(st, EwStep("add", a=(-c).astype(np.float32), source=node.name))
        return self._binary(node, st, "rsub", "rsub")

    def _op_Div(self, node, st):
        if node.input[1] not in self.consts:
            raise self._err(node, "division by a dynamic tensor is not monotone; not supported")
        return self._binary(node, st, "div", "rdiv")

    def _op_Relu(self, node, st):
        return self._chain(st, EwStep("relu", source=node.name))

    def _op_Neg(self, node, st):
        return self._chain(st, EwStep("neg", source=node.name))

    def _op_Sigmoid(self, node, st):
        return self._chain(st, EwStep("sigmoid", source=node.name))

    def _op_Tanh(self, node, st):
        return self._chain(st, EwStep("tanh", source=node.name))

    def _op_Clip(self, node, st):
        lo = self.consts[node.input[1]] if len(node.input) > 1 and node.input[1] else np.float32(-np.inf)
        hi = self.consts[node.input[2]] if len(node.input) > 2 and node.input[2] else np.float32(np.inf)
        return self._chain(st, EwStep("clip", a=np.asarray(lo, np.float32).reshape(1),
                                      b=np.asarray(hi, np.float32).reshape(1), source=node.name))

    def _op_BatchNormalization(self, node, st):
        a = _attrs(node)
        p = [self._per_channel(node, np.asarray(self._const(node, i)).reshape(-1, *([1] * (len(st.onnx_shape) - 1))), st)
             for i in range(1, 5)]
        return self._chain(st, EwStep("batchnorm", a=p[0], b=p[1], c=p[2], d=p[3],
                                      eps=float(a.get("epsilon", 1e-5)), source=node.name))

    def _op_Trunc(self, node, st):
        a = _attrs(node)
        scale = self._per_channel(node, self._const(node, 1), st)
        zp = self._per_channel(node, self._const(node, 2), st)
        rounding = a.get("rounding_mode", "FLOOR")
        rounding = rounding.decode() if isinstance(rounding, bytes) else rounding
        in_bits = float(np.asarray(self._const(node, 3)).ravel()[0])
        if len(node.input) == 5:  # Trunc v1: (x, scale, zeropt, input_bit_width, output_bit_width)
            out_bits = float(np.asarray(self._const(node, 4)).ravel()[0])
            qargs = (in_bits, out_bits)
        else:  # v2: (x, scale, zeropt, input_bit_width, output_scale, output_bit_width)
            out_scale = np.asarray(self._const(node, 4), np.float32)
            out_bits = float(np.asarray(self._const(node, 5)).ravel()[0])
            qargs = (in_bits, bool(a.get("narrow", 0)), bool(a.get("signed", 1)), out_scale, out_bits)
        step = EwStep("trunc", a=scale, b=zp, qargs=qargs, rounding=rounding, source=node.name)
        if st.itype is None:
            return self._chain(st, step)
        # On an integer stream (e.g. brevitas TruncAvgPool2d after a SumPool) Trunc is a
        # quantizer: integers of scale ``out_scale`` come out, found by thresholds.
        if np.any(zp != 0):
            raise self._err(node, "non-zero zero point; qloom needs zero point 0")
        if len(qargs) == 2:
            out_scale = (scale.astype(np.float64) * 2.0 ** (in_bits - out_bits)).astype(np.float32)
        else:
            out_scale = self._per_channel(node, qargs[3], st)
        if np.any(out_scale <= 0):
            raise self._err(node, "output scale must be positive")
        lo, hi = self._range(st)
        C = lo.size
        prog = st.prog.with_steps(step)
        ends = np.stack([prog(np.broadcast_to(v, (1, C)), 1)[0] for v in (lo, hi)]).astype(np.float64)
        q = np.round(ends / np.broadcast_to(out_scale.astype(np.float64), (C,)))
        qlo, qhi = int(q.min()), int(q.max())
        otype = IntType.for_range(qlo, qhi)
        if len(qargs) == 5 and out_bits == int(out_bits):
            declared = IntType(max(int(out_bits), 1), bool(a.get("signed", 1)))
            otype = declared if declared.contains(np.array([qlo, qhi])) else otype
        return self._threshold(node, st, step, out_scale, qhi - qlo, qlo, otype)

    def _op_Identity(self, node, st):
        return st

    _op_Dropout = _op_Identity

    # ----------------------------------------------------------------- matrix products
    def _clean_input(self, node, st: _State) -> float:
        """The scalar scale of a quantized, unscaled-by-anything-else input stream."""
        if st.itype is None:
            raise self._err(node, "its input is the unquantized model input; add an input "
                                  "quantizer (e.g. QuantIdentity) in front of it")
        pr = st.prog
        # integers times one scale; positive scalar Mul/Div steps (the division of an
        # average pool feeding the layer directly) fold into that scale
        scalar_steps = all(s.op in ("mul", "div") and np.asarray(s.a).size == 1
                           and float(np.asarray(s.a).ravel()[0]) > 0 for s in pr.steps)
        if (st.pending is not None or st.pools or pr.bias is not None
                or np.asarray(pr.pre_scale).size != 1 or not scalar_steps):
            raise self._err(node, "its input is a float tensor (not quantized after the "
                                  "previous layer); put an activation quantizer before it")
        sx = float(np.asarray(pr.pre_scale).ravel()[0])
        for s in pr.steps:
            a = float(np.asarray(s.a).ravel()[0])
            sx = sx * a if s.op == "mul" else sx / a
        return sx

    def _row_range(self, w: np.ndarray, in_type: IntType):
        p1, p2 = w * in_type.min, w * in_type.max
        return np.minimum(p1, p2).sum(1), np.maximum(p1, p2).sum(1)

    def _op_Conv(self, node, st):
        sx = self._clean_input(node, st)
        a = _attrs(node)
        if len(st.onnx_shape) != 3:
            raise self._err(node, f"expected a 2D convolution on an NCHW tensor, got input shape {st.onnx_shape}")
        C, H, W = st.onnx_shape
        if not np.array_equal(st.order.ravel(), _canonical_nhwc(C, H, W).ravel()):
            raise self._err(node, "input layout is not NCHW-streamable (unsupported transpose before a Conv)")
        q, sw, wtype = self._weights(node, 1, 0)
        if q.ndim != 4:
            raise self._err(node, f"expected 4D weights, got shape {q.shape}")
        cout, cin_g, kh, kw = q.shape
        group = int(a.get("group", 1))
        strides = tuple(a.get("strides", (1, 1)))
        dil = tuple(a.get("dilations", (1, 1)))
        pads = tuple(a.get("pads", (0, 0, 0, 0)))
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise self._err(node, "auto_pad is not supported; export with explicit pads")
        t, l, b, r = pads[0], pads[1], pads[2], pads[3]
        if any(pads) and st.itype.bipolar:
            raise self._err(node, "zero padding of a bipolar input cannot be represented in {-1,+1}")
        oh = conv_out_dim(H, kh, strides[0], t, b, dil[0])
        ow = conv_out_dim(W, kw, strides[1], l, r, dil[1])
        swg_needed = (kh, kw) != (1, 1) or strides != (1, 1) or any(pads)
        k = kh * kw
        if swg_needed:
            name = self._name("SWG", node.name)
            self.ops.append(SWG(name, (H, W, C), (oh, ow, k * C), st.itype, st.itype,
                                kernel=(kh, kw), stride=strides, pads=(t, l, b, r), dilation=dil))
        if group == 1:
            wm = q.transpose(0, 2, 3, 1).reshape(cout, k * cin_g)
            cls, kind = MVAU, "MVAU"
            in_shape = (oh, ow, k * C)
        elif group == C and cin_g == 1 and cout == C:
            wm = q.reshape(C, k)
            cls, kind = VVAU, "VVAU"
            in_shape = (oh, ow, k * C)
        else:
            raise self._err(node, f"group={group}: only standard (1) and depthwise (group = "
                                  "channels, one filter per channel) convolutions are supported")
        if cls is VVAU:
            lo, hi = self._row_range(wm, st.itype)
        else:
            lo, hi = self._row_range(wm, st.itype)
        pend = _Pending(cls, self._name(kind, node.name), in_shape, (oh, ow, cout), st.itype,
                        wm, wtype, lo, hi)
        bias = None
        if len(node.input) > 2 and node.input[2]:
            bias = np.asarray(self._const(node, 2), np.float32).reshape(-1)
        pre = (np.float64(sx) * sw.astype(np.float64))
        return _State((cout, oh, ow), _canonical_nhwc(cout, oh, ow), None or IntType.for_range(
            int(lo.min()), int(hi.max())), EwProgram(pre, bias), pending=pend)

    def _dense(self, node, st, wq, sw, wtype, bias):
        sx = self._clean_input(node, st)
        if len(st.onnx_shape) != 1:
            raise self._err(node, f"expected a 2D (batch, features) input, got per-frame shape {st.onnx_shape}")
        mh, mw = wq.shape
        if mw != st.onnx_shape[0]:
            raise self._err(node, f"weight has {mw} inputs, tensor has {st.onnx_shape[0]}")
        w = wq[:, st.order.ravel()]  # columns in stream order
        lo, hi = self._row_range(w, st.itype)
        pend = _Pending(MVAU, self._name("MVAU", node.name), (mw,), (mh,), st.itype, w, wtype, lo, hi)
        pre = np.float64(sx) * sw.astype(np.float64)
        return _State((mh,), np.arange(mh, dtype=np.int64), IntType.for_range(int(lo.min()), int(hi.max())),
                      EwProgram(pre, bias), pending=pend)

    def _op_Gemm(self, node, st):
        a = _attrs(node)
        if a.get("transA", 0):
            raise self._err(node, "transA=1 is not supported")
        alpha, beta = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
        trans_b = bool(a.get("transB", 0))
        q, sw, wtype = self._weights(node, 1, 0 if trans_b else 1)
        wq = q if trans_b else q.T
        if alpha <= 0:
            raise self._err(node, "alpha must be positive")
        sw = (sw.astype(np.float64) * alpha).astype(np.float32) if alpha != 1.0 else sw
        bias = None
        if len(node.input) > 2 and node.input[2]:
            c = np.asarray(self._const(node, 2), np.float32)
            bias = (np.broadcast_to(c.reshape(-1), (wq.shape[0],)) * np.float32(beta)).astype(np.float32)
        return self._dense(node, st, wq, sw, wtype, bias)

    def _op_MatMul(self, node, st):
        if node.input[0] in self.consts:
            raise self._err(node, "the constant must be the second (right) operand")
        q, sw, wtype = self._weights(node, 1, 1)
        if q.ndim != 2:
            raise self._err(node, f"expected a 2D weight matrix, got shape {q.shape}")
        return self._dense(node, st, q.T, sw, wtype, None)

    # ----------------------------------------------------------------- pooling
    def _pool_geometry(self, node, st, kernel=None):
        a = _attrs(node)
        if len(st.onnx_shape) != 3:
            raise self._err(node, f"expected an NCHW tensor, got per-frame shape {st.onnx_shape}")
        C, H, W = st.onnx_shape
        if not np.array_equal(st.order.ravel(), _canonical_nhwc(C, H, W).ravel()):
            raise self._err(node, "input layout is not NCHW-streamable")
        k = tuple(kernel or a["kernel_shape"])
        s = tuple(a.get("strides", (1, 1))) if kernel is None else (1, 1)
        if tuple(a.get("dilations", (1, 1))) != (1, 1):
            raise self._err(node, "dilated pooling is not supported")
        t, l, b, r = tuple(a.get("pads", (0, 0, 0, 0)))
        oh, ow = conv_out_dim(H, k[0], s[0], t, b), conv_out_dim(W, k[1], s[1], l, r)
        if a.get("ceil_mode", 0):
            ch = -(-(H + t + b - k[0]) // s[0]) + 1
            cw = -(-(W + l + r - k[1]) // s[1]) + 1
            b += (ch - 1) * s[0] + k[0] - (H + t + b)
            r += (cw - 1) * s[1] + k[1] - (W + l + r)
            oh, ow = ch, cw
        return C, H, W, k, s, (t, l, b, r), oh, ow

    def _op_MaxPool(self, node, st):
        if len(node.output) > 1 and node.output[1]:
            raise self._err(node, "MaxPool indices output is not supported")
        C, H, W, k, s, pads, oh, ow = self._pool_geometry(node, st)
        new = _State((C, oh, ow), _canonical_nhwc(C, oh, ow), st.itype, st.prog, st.pending,
                     list(st.pools))
        if st.itype is None:
            raise self._err(node, "max-pool on the unquantized model input is not supported")
        kw = dict(name=self._name("StreamingMaxPool", node.name), in_shape=(H, W, C),
                  out_shape=(oh, ow, C), in_type=st.itype, out_type=st.itype, kernel=k,
                  stride=s, pads=pads)
        if st.pending is None and not st.pools and not st.prog.steps:
            self._emit_pool(kw)  # max commutes with a positive scale and a bias
        else:
            new.pools.append((kw, len(st.prog.steps)))
        return new

    def _op_AveragePool(self, node, st, glob=False):
        if st.itype is None or st.pending is not None or st.pools or st.prog.steps or st.prog.bias is not None:
            raise self._err(node, "average pooling needs a quantized input (put an activation "
                                  "quantizer before it)")
        a = _attrs(node)
        kernel = tuple(st.onnx_shape[1:]) if glob else None
        C, H, W, k, s, pads, oh, ow = self._pool_geometry(node, st, kernel)
        if any(pads) and not a.get("count_include_pad", 0):
            raise self._err(node, "padded average pooling with count_include_pad=0 has a "
                                  "position-dependent divisor; not supported")
        kk = k[0] * k[1]
        otype = IntType.for_range(st.itype.min * kk, st.itype.max * kk)
        self.ops.append(SumPool(self._name("SumPool", node.name), (H, W, C), (oh, ow, C),
                                st.itype, otype, kernel=k, stride=s, pads=pads))
        prog = st.prog.with_steps(EwStep("div", a=np.array([kk], np.float32), source=node.name))
        return _State((C, oh, ow), _canonical_nhwc(C, oh, ow), otype, prog)

    def _op_GlobalAveragePool(self, node, st):
        return self._op_AveragePool(node, st, glob=True)

    def _op_ReduceMean(self, node, st):
        """A mean over the spatial axes (torch AdaptiveAvgPool2d(1), x.mean((2, 3))) is a
        global average pool."""
        a = _attrs(node)
        axes = a.get("axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            axes = np.asarray(self._const(node, 1)).ravel().tolist()
        if len(st.onnx_shape) != 3 or axes is None or sorted(int(x) % 4 for x in axes) != [2, 3]:
            raise self._err(node, "only a mean over the spatial axes of an NCHW tensor "
                                  "(global average pooling) is supported")
        new = self._op_AveragePool(node, st, glob=True)
        if not a.get("keepdims", 1):
            C = st.onnx_shape[0]
            new = dataclasses.replace(new, onnx_shape=(C,), order=np.arange(C, dtype=np.int64))
        return new

    # ----------------------------------------------------------------- layout
    def _uniform(self, st: _State) -> bool:
        if st.itype is None:
            return all(np.asarray(p).size <= 1 for s in st.host_steps for p in (s.a, s.b, s.c, s.d) if p is not None)
        pr = st.prog
        return (np.asarray(pr.pre_scale).size == 1 and (pr.bias is None or pr.bias.size == 1)
                and all(np.asarray(p).size <= 1 for s in pr.steps for p in (s.a, s.b, s.c, s.d) if p is not None))

    def _relayout(self, node, st, new_shape, order):
        if st.pending is not None or st.pools:
            raise self._err(node, "a layout change between a matrix product and its activation "
                                  "quantizer is not supported")
        if not self._uniform(st):
            if len(new_shape) >= 1 and len(st.onnx_shape) >= 1 and new_shape[0] == st.onnx_shape[0] \
                    and node.op_type != "Transpose":
                pass  # channel axis kept (e.g. Unsqueeze of spatial dims)
            else:
                raise self._err(node, "a layout change under per-channel scales is not supported")
        return dataclasses.replace(st, onnx_shape=tuple(new_shape), order=order,
                                   host_layout_changed=st.host_layout_changed or st.itype is None)

    def _op_Reshape(self, node, st):
        out = self._shape(node.output[0])
        if not out or int(np.prod(out[1:])) != int(np.prod(st.onnx_shape)):
            raise self._err(node, f"reshape to {out} must keep the batch dimension first")
        return self._relayout(node, st, out[1:], st.order)

    _op_Flatten = _op_Reshape
    _op_Squeeze = _op_Reshape
    _op_Unsqueeze = _op_Reshape

    def _op_Transpose(self, node, st):
        perm = list(_attrs(node)["perm"])
        if perm[0] != 0:
            raise self._err(node, "transposing the batch dimension is not supported")
        p = [i - 1 for i in perm[1:]]
        idx = np.arange(int(np.prod(st.onnx_shape)), dtype=np.int64).reshape(st.onnx_shape).transpose(p)
        new_index_of_old = np.empty(idx.size, np.int64)
        new_index_of_old[idx.ravel()] = np.arange(idx.size)
        out = tuple(np.asarray(st.onnx_shape)[p])
        return self._relayout(node, st, out, new_index_of_old[st.order])

    # ----------------------------------------------------------------- classifier head
    def _label_select(self, node, st, k, axis):
        if axis not in (-1, len(st.onnx_shape)) or len(st.onnx_shape) != 1:
            raise self._err(node, "top-k/arg-max must run over the last axis of a (batch, classes) tensor")
        if not self._uniform(st) or any(s.increasing is False for s in st.prog.steps):
            raise self._err(node, "per-channel or decreasing scaling before top-k/arg-max changes "
                                  "the ranking; cannot select labels on the integers")
        if st.pending is not None:
            self._emit_pending(st.pending, st.pending.weights, None, 0, None)
            itype = self.ops[-1].out_type
        else:
            itype = st.itype
        C = st.onnx_shape[0]
        itype_idx = IntType.for_range(0, max(C - 1, 1))
        name = self._name("LabelSelect", node.name)
        self.ops.append(LabelSelect(name, (C,), (k,), itype, itype_idx, k=k))
        return itype_idx

    def _op_ArgMax(self, node, st):
        a = _attrs(node)
        if a.get("select_last_index", 0):
            raise self._err(node, "select_last_index=1 is not supported")
        itype = self._label_select(node, st, 1, int(a.get("axis", 0)))
        keep = bool(a.get("keepdims", 1))
        shape = (1,) if keep else ()
        return _State(shape, np.arange(1, dtype=np.int64), itype, None, host_steps=("indices",))

    def _op_TopK(self, node, st):
        a = _attrs(node)
        if not a.get("largest", 1) or not a.get("sorted", 1):
            raise self._err(node, "only largest=1, sorted=1 top-k is supported")
        k = int(np.asarray(self._const(node, 1)).ravel()[0])
        itype = self._label_select(node, st, k, int(a.get("axis", -1)))
        res = {node.output[1]: _State((k,), np.arange(k, dtype=np.int64), itype, None,
                                      host_steps=("indices",))}
        if node.output[0]:
            res[node.output[0]] = _State((k,), np.arange(k), None, None, host_steps=("values",))
        return res

    # ----------------------------------------------------------------- the output edge
    def _finish(self, name: str, st: _State):
        if st.host_steps and st.host_steps[0] == "values":
            raise QloomError(f"output {name}: top-k values are not supported as an output; "
                             "use the indices")
        if st.itype is None:
            raise QloomError(f"output {name}: computed without any quantizer (no integer hardware)")
        if st.host_steps and st.host_steps[0] == "indices":
            self.host_output = HostOutput(name, tuple(st.onnx_shape), st.order.reshape(-1), None, "indices")
            return
        if st.pending is not None:
            if any(n > 0 for _, n in st.pools):
                raise QloomError(f"output {name}: a max-pool inside a float output chain is not supported")
            self._emit_pending(st.pending, st.pending.weights, None, 0, None)
            t = self.ops[-1].out_type
            for kw, _ in st.pools:
                self._emit_pool(dict(kw, in_type=t, out_type=t))
        elif st.pools:
            raise QloomError(f"output {name}: a max-pool inside a float output chain is not supported")
        self.host_output = HostOutput(name, tuple(st.onnx_shape), st.order, st.prog, "values")


def lower_model(path) -> HWGraph:
    """Load the QONNX file at ``path`` and lower it to an integer :class:`HWGraph`.

    Raises
    ------
    QloomError
        Unreadable file, or a node that cannot be lowered (the message names it).
    """
    from qloom.frontend import load_qonnx

    model = load_qonnx(path)
    return Lowering(model, str(path)).run()
