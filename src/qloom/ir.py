"""qloom's intermediate representation: an integer hardware graph with float edges.

The hardware graph is a dataflow DAG of integer operators (``qloom.ops``) between two
host-side edges (a chain in the common case; forks (DuplicateStreams) and joins (AddStreams,
ConcatStreams) for residual and concatenating networks):

* :class:`HostInput` turns the model's float input into the integer input stream
  (the model's own preprocessing and input quantizer, evaluated in float32 exactly as the
  QONNX reference does), and
* :class:`HostOutput` maps the integer output stream back to the model's output units
  (the last layer's scale, bias and output affine).

Float arithmetic exists only in :class:`EwProgram`, a per-channel elementwise program used
at the two edges and, at compile time, to find thresholds. Everything is frozen: passes build
new objects instead of mutating.

Layouts: tensors of the hardware graph are per frame in stream order, NHWC for images
(``(H, W, C)``), ``(C,)`` for vectors; a batch dimension comes first in the emulator.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from qloom.types import IntType, storage_dtype

# ----------------------------------------------------------------------------------------
# Elementwise float programs (host edges and threshold search)
# ----------------------------------------------------------------------------------------

def _chan(p: np.ndarray, ndim: int, axis: int) -> np.ndarray:
    """Reshape a per-channel vector (C,) or scalar (1,) to broadcast along ``axis``."""
    p = np.asarray(p)
    if p.size == 1:
        return p.reshape(())
    shape = [1] * ndim
    shape[axis] = p.size
    return p.reshape(shape)


@dataclass(frozen=True)
class EwStep:
    """One per-channel elementwise float32 operation.

    ``op`` is one of: ``add`` (x + a), ``rsub`` (a - x), ``mul`` (x * a), ``div`` (x / a),
    ``rdiv`` (a / x), ``relu``, ``clip`` (a = lo, b = hi), ``neg``, ``sigmoid``, ``tanh``,
    ``batchnorm`` (a = scale, b = bias, c = mean, d = var, eps), ``quant`` (a = scale,
    b = zero point, qargs = (bits, signed, narrow), rounding; rounding "QLINEAR": ONNX
    QuantizeLinear's order, round(x / a) half to even, then + b, saturate, then - b, where
    QONNX rounds x / a + b), ``bipolar_quant`` (a = scale),
    ``trunc`` (a = scale, b = zero point, qargs = the remaining qonnx Trunc arguments),
    ``fixed`` (the host quantizer of a typed model input: a = step, qargs = (bits, signed,
    bipolar); floor and wrap-around, :meth:`qloom.types.FixedType.quantize`),
    ``softmax`` / ``logsoftmax`` (over the last axis; only at the host output).
    Parameters are float32 arrays of shape (C,) or (1,): they vary along the channel
    axis only. Semantics follow ONNX and QONNX (qonnx.custom_op.general) in float32.
    """

    op: str
    a: Any = None
    b: Any = None
    c: Any = None
    d: Any = None
    eps: float = 0.0
    qargs: tuple = ()  # quant: (bits, signed, narrow); trunc: qonnx trunc arguments
    rounding: str = "ROUND"
    source: str = ""  # name of the ONNX node this step came from

    def apply(self, x: np.ndarray, axis: int) -> np.ndarray:
        n = x.ndim
        A = None if self.a is None else _chan(self.a, n, axis)
        B = None if self.b is None else _chan(self.b, n, axis)
        op = self.op
        if op == "add":
            return (x + A).astype(np.float32)
        if op == "rsub":
            return (A - x).astype(np.float32)
        if op == "mul":
            return (x * A).astype(np.float32)
        if op == "div":
            return (x / A).astype(np.float32)
        if op == "rdiv":
            return (A / x).astype(np.float32)
        if op == "neg":
            return -x
        if op == "relu":
            return np.maximum(x, np.float32(0)).astype(np.float32)
        if op == "clip":
            return np.clip(x, A, B).astype(np.float32)
        if op == "sigmoid":
            return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)
        if op == "tanh":
            return np.tanh(x).astype(np.float32)
        if op == "batchnorm":
            C = _chan(self.c, n, axis)
            D = _chan(self.d, n, axis)
            return ((x - C) / np.sqrt(D + np.float32(self.eps)) * A + B).astype(np.float32)
        if op == "quant":  # QONNX IntQuant, evaluated by qonnx itself
            from qonnx.custom_op.general.intquant import int_quant

            bits, signed, narrow = self.qargs  # bit width as qonnx sees it: a float32 tensor
            if self.rounding == "QLINEAR":  # ONNX QuantizeLinear, then DequantizeLinear
                bits = int(bits)
                lo = (-(1 << (bits - 1)) + int(narrow)) if signed else 0
                hi = ((1 << (bits - 1)) - 1) if signed else ((1 << bits) - 1 - int(narrow))
                q = np.clip(np.rint((x / A).astype(np.float32)) + B, lo, hi)
                return ((q - B) * A).astype(np.float32)
            y = int_quant(x, A, B, np.float32(bits), int(signed), int(narrow), self.rounding)
            return np.asarray(y, dtype=np.float32)
        if op == "fixed":
            from qloom.types import FixedType, IntType

            bits, signed, bipolar = self.qargs
            step = float(np.asarray(self.a).ravel()[0])
            t = FixedType("", IntType(1, True, True) if bipolar else IntType(bits, signed),
                          -int(np.log2(step)))
            return (t.quantize(x) * np.float64(step)).astype(np.float32)
        if op in ("softmax", "logsoftmax"):
            z = x.astype(np.float32) - np.max(x, axis=-1, keepdims=True)
            e = np.exp(z).astype(np.float32)
            s = np.sum(e, axis=-1, keepdims=True, dtype=np.float32)
            return (e / s if op == "softmax" else z - np.log(s)).astype(np.float32)
        if op == "bipolar_quant":
            return (np.where(x >= 0, np.float32(1), np.float32(-1)) * A).astype(np.float32)
        if op == "trunc":  # QONNX Trunc (v1 or v2), evaluated by qonnx itself
            from qonnx.custom_op.general import trunc as qtrunc

            if len(self.qargs) == 2:
                in_bits, out_bits = map(np.float32, self.qargs)
                y = qtrunc.trunc_v1(x, A, B, in_bits, out_bits, self.rounding)
            else:
                in_bits, narrow, signed, out_scale, out_bits = self.qargs
                y = qtrunc.trunc_v2(x, A, B, np.float32(in_bits), int(narrow), int(signed),
                                    out_scale, np.float32(out_bits), self.rounding)
            return np.asarray(y, dtype=np.float32)
        raise ValueError(f"unknown elementwise step {op!r}")

    @property
    def increasing(self) -> bool | None:
        """True/False when the step is monotone non-decreasing/non-increasing in every
        channel, None when the direction varies per channel (decided by evaluation)."""
        if self.op in ("relu", "clip", "sigmoid", "tanh", "quant", "bipolar_quant", "trunc", "add"):
            return True
        if self.op in ("rsub", "neg"):
            return False
        return None


@dataclass(frozen=True)
class EwProgram:
    """A per-channel float function of an integer tensor ``q``.

    ``y = steps(float32(q * pre_scale) + bias)``: first the exact integer-to-real map
    (``pre_scale`` > 0 per channel, computed in float64 and rounded once to float32),
    then float32 steps. ``channel_axis`` is the channel axis of the tensor it is applied to.
    """

    pre_scale: np.ndarray  # float64 (C,) or (1,)
    bias: np.ndarray | None = None  # float32 (C,) or (1,)
    steps: tuple[EwStep, ...] = ()

    def __call__(self, q: np.ndarray, axis: int) -> np.ndarray:
        s = _chan(np.asarray(self.pre_scale, dtype=np.float64), q.ndim, axis)
        y = (np.asarray(q, dtype=np.float64) * s).astype(np.float32)
        if self.bias is not None:
            y = (y + _chan(self.bias, q.ndim, axis)).astype(np.float32)
        for st in self.steps:
            y = st.apply(y, axis)
        return y

    @property
    def is_plain_scale(self) -> bool:
        """True when the program is only ``q * scale`` with one scale for all channels."""
        return self.bias is None and not self.steps and np.asarray(self.pre_scale).size == 1

    def with_steps(self, *steps: EwStep) -> "EwProgram":
        return EwProgram(self.pre_scale, self.bias, self.steps + tuple(steps))


# ----------------------------------------------------------------------------------------
# Graph edges and the graph
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HostInput:
    """Host-side input quantization: model input (float32) -> integer input stream.

    ``program`` (ending in a quantizer) maps the ONNX-layout input to quantized reals;
    dividing by ``scale`` gives integers of ``int_type``; ``order`` (shape = hardware
    per-frame shape) lists, in stream order, the flat ONNX index of each element.
    """

    name: str
    onnx_shape: tuple[int, ...]  # per frame, without batch
    steps: tuple[EwStep, ...]
    scale: np.ndarray  # float32 scalar (1,)
    int_type: IntType
    order: np.ndarray  # int64, hardware shape
    note: str = ""  # where the input's type comes from (qloom info)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """x float32 (N, *onnx_shape) -> integer stream int64 (N, *order.shape)."""
        y = np.asarray(x, dtype=np.float32)
        for st in self.steps:
            y = st.apply(y, 1)
        q = np.round(y.astype(np.float64) / np.asarray(self.scale, dtype=np.float64).reshape(()))
        q = q.astype(storage_dtype(self.int_type)).reshape(len(y), -1)
        return q[:, self.order.ravel()].reshape((len(y),) + self.order.shape)


@dataclass(frozen=True)
class HostOutput:
    """Host-side output mapping: integer output stream -> model output (float32 or int64).

    The stream (N, *hw_shape) is scattered back to ONNX layout with ``order`` and mapped by
    ``program`` (along ``channel_axis``), or returned as indices when ``kind`` is "indices"
    (LabelSelect: ONNX ArgMax/TopK outputs int64).
    """

    name: str
    onnx_shape: tuple[int, ...]
    order: np.ndarray
    program: EwProgram | None
    kind: str = "values"  # "values" | "indices"
    channel_axis: int = 1  # of the ONNX output with batch (the last for a channels-last output)

    def __call__(self, q: np.ndarray) -> np.ndarray:
        n = len(q)
        flat = np.empty((n, int(np.prod(self.onnx_shape))), dtype=np.int64)
        flat[:, self.order.ravel()] = q.reshape(n, -1)
        t = flat.reshape((n,) + tuple(self.onnx_shape))
        if self.kind == "indices":
            return t.astype(np.int64)
        return self.program(t, self.channel_axis)


HOST = ""  # the producer name of the host input's stream in :attr:`HWGraph.edges`


@dataclass(frozen=True)
class HWGraph:
    """A dataflow graph of hardware operators with its host edges.

    ``nodes`` are in topological order. ``edges`` maps a layer name to the producers of its
    input streams, in input order (:data:`HOST`, the empty string, for the host input's
    stream); a layer missing from ``edges`` consumes the stream of the node before it (the
    first node: the host input's), so a chain needs no ``edges``. ``output`` names the layer
    whose stream ``host_output`` reads (default: the last node). A layer whose stream feeds
    several inputs is a fork with one output port per consumer input, numbered in the order
    of :meth:`consumers`.
    """

    name: str
    host_input: HostInput
    nodes: tuple  # tuple[qloom.ops.base.HWOp, ...]
    host_output: HostOutput
    source: str = ""  # path of the QONNX file
    meta: dict = field(default_factory=dict, compare=False)
    edges: dict = field(default_factory=dict)  # layer -> tuple of producer layers (HOST = "")
    output: str = ""  # the layer host_output reads ("" = the last node)

    def replace(self, **kw) -> "HWGraph":
        import dataclasses

        return dataclasses.replace(self, **kw)

    def to_html(self, folding: dict | None = None, family: str = "xc7") -> str:
        """An HTML table, one row per layer in graph order: op, input/output shapes (NHWC
        stream order) and integer types, weights, MACs per frame, and under ``folding``
        ({layer: {knob: value}}; default: every knob at 1, fully folded) the PE, SIMD,
        "cycles alone" per frame (the operator's own II, no stalls; in a pipeline a layer fed
        slower than that runs at its input's rate, which a build's ``estimates.json``
        counts) and the operator's own LUT, FF,
        BRAM18, DSP estimate for ``family`` (xc7, xcup, ecp5; a build's ``estimates.json``
        also counts the DWCs and FIFOs in front of each layer)."""
        from qloom.html import table

        folding = folding or {}
        rows = []
        for op in self.nodes:
            f = folding.get(op.name, {})
            res = op.resources(f, family=family)
            knobs = op.knob_space()
            pe, simd = ((f.get(k, 1) if k in knobs else "-") for k in ("PE", "SIMD"))
            rows.append([op.name, op.op_type, "x".join(map(str, op.in_shape)),
                         "x".join(map(str, op.out_shape)), op.in_type.name, op.out_type.name,
                         f"{op.weight_count:,}", f"{op.macs:,}", pe, simd,
                         f"{op.cycles(f):,}", f"{res.get('LUT', 0):,}", f"{res.get('FF', 0):,}",
                         res.get("BRAM18", 0), res.get("DSP", 0)])
        head = ["layer", "op", "in", "out", "in type", "out type", "weights", "MACs", "PE", "SIMD",
                "cycles alone", "LUT", "FF", "BRAM18", "DSP"]
        how = "the given folding" if folding else "fully folded (every knob at 1)"
        return table(head, rows, caption=f"HWGraph {self.name}: {len(self.nodes)} layers, {how}, "
                                         f"{family} estimates")

    def _repr_html_(self) -> str:
        return self.to_html()

    @cached_property
    def _by_name(self) -> dict:
        return {n.name: n for n in self.nodes}

    @cached_property
    def _producers(self) -> dict:
        names = [n.name for n in self.nodes]
        return {nm: tuple(self.edges[nm]) if nm in self.edges else ((names[i - 1] if i else HOST),)
                for i, nm in enumerate(names)}

    def node(self, name: str):
        """The layer called ``name`` (KeyError if none)."""
        return self._by_name[name]

    # ---- structure (a chain when ``edges`` is empty)
    def producers(self, name: str) -> tuple[str, ...]:
        """The producers of layer ``name``'s input streams, in input order (HOST: the host input)."""
        return self._producers[name]

    def consumers(self, name: str) -> list[tuple[str, int]]:
        """(layer, input index) of every input that reads ``name``'s stream (HOST: the host
        input's), in node order: output port k of a fork feeds the k-th of them."""
        return [(op.name, k) for op in self.nodes for k, p in enumerate(self.producers(op.name))
                if p == name]

    @property
    def last(self):
        """The layer whose stream the host output reads."""
        return self.node(self.output) if self.output else self.nodes[-1]

    @property
    def first(self):
        """The layer that reads the host input's stream."""
        return self.node(self.consumers(HOST)[0][0])

    @property
    def is_chain(self) -> bool:
        return all(self.producers(op.name) == ((self.nodes[i - 1].name if i else HOST),)
                   for i, op in enumerate(self.nodes)) and self.last is self.nodes[-1]

    def links(self):
        """Every stream between two layers: (producer op, consumer op, consumer input index),
        in node order (the host input's stream is not a link)."""
        for op in self.nodes:
            for k, p in enumerate(self.producers(op.name)):
                if p != HOST:
                    yield self.node(p), op, k

    def verify(self, folding: dict | None = None) -> "HWGraph":
        """Check that the chain is consistent; returns the graph.

        Without ``folding`` (after lowering): unique layer names; producers before their
        consumers; each layer has as many input streams as its operator takes, and each
        input's shape and element type equal its producer's output (a vector layer may take
        an image flattened: equal element counts); each stream feeds as many inputs as its
        producer has output ports (a fork: several); the host input feeds exactly one layer
        and the host output reads :attr:`last`. With ``folding`` (after folding): every
        layer's configuration is legal (each knob value among ``HWOp.knob_space``, the
        combination realizable), its beat widths divide its channels, and the RTL element
        widths chain from layer to layer.

        Raises QloomError naming the layer and what was expected.
        """
        from qloom.errors import QloomError

        def fail(op, what):
            raise QloomError(f"{self.name}: layer {op.name} ({op.op_type}): {what}")

        if not self.nodes:
            raise QloomError(f"{self.name}: the hardware graph has no layers")
        hi = self.host_input
        out = {HOST: (tuple(hi.order.shape), hi.int_type)}
        used: dict[str, int] = {}
        for op in self.nodes:
            if op.name in out:
                fail(op, "layer name used twice")
            prods = self.producers(op.name)
            if len(prods) != op.n_inputs:
                fail(op, f"{len(prods)} input streams, the operator takes {op.n_inputs}")
            for k, (p, shp, typ) in enumerate(zip(prods, op.in_shapes, op.in_types)):
                if p not in out:
                    fail(op, f"input {k} reads {p!r}, which is not an earlier layer")
                src = p or f"host input {hi.name}"
                prev_shape, prev_type = out[p]
                shp = tuple(shp)
                if shp != prev_shape and not (len(shp) == 1 and int(np.prod(shp)) == int(np.prod(prev_shape))):
                    fail(op, f"input shape {shp} does not match {src}'s output {prev_shape}")
                if typ != prev_type:
                    fail(op, f"input type {typ} does not match {src}'s output {prev_type}")
                used[p] = used.get(p, 0) + 1
            out[op.name] = (tuple(op.out_shape), op.out_type)
        last = self.last
        used[last.name] = used.get(last.name, 0) + 1
        for op in self.nodes:
            if used.get(op.name, 0) != op.out_ports:
                fail(op, f"its stream feeds {used.get(op.name, 0)} inputs, the operator has "
                         f"{op.out_ports} output port(s)")
        if used.get(HOST, 0) != 1:
            raise QloomError(f"{self.name}: the host input feeds {used.get(HOST, 0)} layers; expected 1")
        if tuple(self.host_output.order.shape) != tuple(last.out_shape):
            fail(last, f"output shape {tuple(last.out_shape)} does not match host output {self.host_output.order.shape}")
        if folding is not None:
            self._verify_folding(folding, fail)
        return self

    def _verify_folding(self, folding: dict, fail) -> None:
        bits = {}
        for op in self.nodes:
            cfg = folding.get(op.name, {})
            space = op.knob_space()
            for key, val in cfg.items():
                if key in space and val not in space[key].values:
                    fail(op, f"{key}={val!r} is not one of {list(space[key].values)}")
            why = op.illegal(cfg)
            if why:
                fail(op, f"folding {cfg} is not realizable ({why})")
            e_in, e_out = op.in_elems(cfg), op.out_elems(cfg)
            if any(op.in_len(cfg, k) % e_in for k in range(len(op.in_shapes))) or op.out_len(cfg) % e_out:
                fail(op, f"beats of {e_in} in / {e_out} out elements do not divide the vectors "
                         f"{'/'.join(str(op.in_len(cfg, k)) for k in range(len(op.in_shapes)))} / {op.out_len(cfg)}")
            if op.rtl_missing(cfg):
                continue
            inst = op.rtl(cfg)
            for p, b in zip(self.producers(op.name), inst.inputs_bits):
                if bits.get(p) is not None and b != bits[p]:
                    fail(op, f"RTL input elements of {b} bits, the producer's are {bits[p]}")
            bits[op.name] = inst.out_bits
