"""What the lowering walk knows: the state of each dynamic tensor, and the shared context.

For every dynamic tensor the walk tracks how the QONNX reference's float tensor relates to
the integer stream in hardware (:class:`TensorState`):

* ``order``: the stream order of the tensor's elements (ONNX flat indices), so layout ops
  (Reshape, Flatten, Transpose) cost nothing in hardware: the next MVAU's weight columns are
  permuted instead (FINN does the same with its "absorb transpose" streamlining steps);
* ``itype``: the integer type of the stream;
* ``prog``: the per-channel float program (:class:`qloom.ir.EwProgram`) that maps the integer
  stream to the reference's float values: scales, biases, batch-norm, ReLU and the exporter's
  Mul/Add/Sub/Div collect here until an activation quantizer turns them into thresholds
  (``qloom.passes.thresholds``), or the graph output turns them into host-side de-scaling;
* ``pending``: an MVAU/VVAU whose activation is not known yet (:class:`Pending`).

:class:`LowerContext` holds everything else the op handlers share: the model, its constants
(float and integer-quantized), the hardware operators emitted so far, their names, the host
edges, and the small helpers every op family uses (errors, shapes, per-channel constants).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from onnx import helper, numpy_helper

from qloom.errors import QloomError, UnsupportedModelError
from qloom.ir import EwProgram, HostInput, HostOutput
from qloom.types import BIPOLAR as BIPOLAR_T
from qloom.types import IntType


def attrs(node) -> dict:
    """The ONNX attributes of ``node`` as {name: python value}."""
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def canonical_nhwc(c: int, h: int, w: int) -> np.ndarray:
    """Stream order of an NCHW tensor streamed as NHWC: (H, W, C) array of ONNX flat indices."""
    return np.arange(c * h * w, dtype=np.int64).reshape(c, h, w).transpose(1, 2, 0)


@dataclass
class Pending:
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
class TensorState:
    """What the walk knows about one dynamic tensor (see module docstring)."""

    onnx_shape: tuple  # per frame (no batch)
    order: np.ndarray  # ONNX flat index of each stream element, in stream order
    itype: IntType | None  # None: still the float model input (host side)
    prog: EwProgram | None
    pending: Pending | None = None
    pools: list = field(default_factory=list)  # (StreamingMaxPool kwargs, chain length at arrival)
    host_steps: tuple = ()  # float input only: elementwise steps before the input quantizer
    host_layout_changed: bool = False
    channels_last: bool = False  # the ONNX tensor is NHWC (channel axis last), not NCHW
    # float input only, after layout ops: the model input's flat index of each element of
    # this tensor (ONNX shape); None: the tensor is the model input itself
    host_index: np.ndarray | None = None

    @property
    def channels(self) -> int:
        if not self.onnx_shape:
            return 1
        return int(self.onnx_shape[-1] if self.channels_last else self.onnx_shape[0])

    @property
    def channel_axis(self) -> int:
        """The channel axis of the ONNX tensor with its batch dimension."""
        return len(self.onnx_shape) if self.channels_last else 1

    def uniform(self) -> bool:
        """Whether every scale, bias and step parameter on the tensor is a scalar (the same
        for all channels), so a layout change or a ranking does not depend on the channel."""
        if self.itype is None:
            return all(np.asarray(p).size <= 1 for s in self.host_steps
                       for p in (s.a, s.b, s.c, s.d) if p is not None)
        pr = self.prog
        return (np.asarray(pr.pre_scale).size == 1 and (pr.bias is None or pr.bias.size == 1)
                and all(np.asarray(p).size <= 1 for s in pr.steps for p in (s.a, s.b, s.c, s.d) if p is not None))

    def int_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel (or one, when nothing varies by channel) integer range of the stream:
        the accumulator range of a pending MVAU/VVAU, else the range of ``itype``."""
        if self.pending is not None:
            return self.pending.acc_lo, self.pending.acc_hi
        c = self.channels if np.asarray(self.prog.pre_scale).size > 1 or (
            self.prog.bias is not None and self.prog.bias.size > 1) or any(
            np.asarray(p).size > 1 for s in self.prog.steps for p in (s.a, s.b) if p is not None) else 1
        return np.full(c, self.itype.min, np.int64), np.full(c, self.itype.max, np.int64)


class LowerContext:
    """The state of one lowering run that is not per tensor, with the helpers all op
    families share. The walk itself is :class:`qloom.passes.lower.walk.Lowering`."""

    def __init__(self, model, source: str = "", input_type=None):
        self.model = model
        self.input_type = input_type  # qloom.types.FixedType from --input-type, or None
        self.graph = model.graph
        self.source = source
        self.consts: dict[str, np.ndarray] = {
            t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        self.qconsts: dict[str, tuple[np.ndarray, np.ndarray, IntType]] = {}
        self.states: dict[str, TensorState] = {}
        self.ops: list = []
        self.counters: dict[str, int] = {}
        self.sources: dict[str, str] = {}
        self.input_name: str = ""  # the model input and its per-frame shape (set by the walk)
        self.input_shape: tuple = ()
        self.host_input: HostInput | None = None
        self.host_output: HostOutput | None = None
        # set by a join handler whose operators read its inputs in another order than the
        # node lists them (input k of the first operator is the node's join_order[k])
        self.join_order: list[int] | None = None
        self.opset = {o.domain: o.version for o in model.model.opset_import}

    def annotated_int_const(self, name: str):
        """A constant whose ``quantization_annotation`` gives an integer type (FINN's
        streamlined graphs annotate integer weights so, without a Quant node):
        (q float32, scale 1.0 float32 of its shape, IntType), or None."""
        if name not in self.consts:
            return None
        dt = self.model.get_tensor_datatype(name)
        if dt is None or not dt.is_integer():
            return None
        v = np.asarray(self.consts[name], np.float32)
        name_dt = dt.get_canonical_name()
        if name_dt == "BIPOLAR":
            itype = BIPOLAR_T
        else:
            itype = IntType(int(dt.bitwidth()), bool(dt.signed()))
        if not (np.all(v == np.round(v)) and itype.contains(v.astype(np.int64))):
            raise QloomError(f"tensor {name}: annotated {name_dt} but holds values outside it")
        return v, np.ones_like(v), itype

    def err(self, node, what: str) -> UnsupportedModelError:
        """The error to raise for ``node``: one line naming the node and its op type."""
        return UnsupportedModelError(f"node {node.name or node.op_type} ({node.op_type}): {what}")

    def shape(self, name: str) -> tuple:
        s = self.model.get_tensor_shape(name)
        if s is None:
            raise QloomError(f"tensor {name}: unknown shape after qonnx shape inference")
        return tuple(int(d) for d in s)

    def name(self, kind: str, source: str) -> str:
        """A fresh hardware-operator name ``<kind>_<i>``, remembering its ONNX source node."""
        i = self.counters.get(kind, 0)
        self.counters[kind] = i + 1
        name = f"{kind}_{i}"
        self.sources[name] = source
        return name

    def const(self, node, i: int) -> np.ndarray:
        """The constant value of input ``i`` of ``node``."""
        if i >= len(node.input) or node.input[i] == "":
            raise self.err(node, f"input {i} is missing")
        name = node.input[i]
        if name not in self.consts:
            raise self.err(node, f"input {i} ({name}) must be a constant")
        return self.consts[name]

    def per_channel(self, node, value: np.ndarray, st: TensorState) -> np.ndarray:
        """A constant that broadcasts against the tensor of ``st`` and varies only along
        the channel axis (ONNX axis 1; the last axis of a channels-last tensor) -> float32
        (C,) or (1,)."""
        v = np.asarray(value, dtype=np.float32)
        full = (1,) + tuple(st.onnx_shape)
        try:
            b = np.broadcast_to(v, np.broadcast_shapes(v.shape, full))
        except ValueError:
            raise self.err(node, f"constant of shape {v.shape} does not broadcast to {full}") from None
        if b.shape != full:
            raise self.err(node, f"constant of shape {v.shape} would change the tensor shape {full}")
        if v.size == 1:
            return v.reshape(1)
        if len(full) < 2:
            raise self.err(node, "per-channel constant on a tensor without a channel axis")
        if st.channels_last:  # NHWC: look at it channels first
            b = np.moveaxis(b, -1, 1)
            full = b.shape
        flat = b.reshape(full[0], full[1], -1)
        if not np.all(flat == flat[:, :, :1]):
            raise self.err(node, "constant varies along a spatial axis; only per-channel "
                                 "(axis 1) or scalar constants can be streamlined")
        ch = flat[0, :, 0]
        return ch[:1] if np.all(ch == ch[0]) else ch


def image_dims(ctx, node, st: TensorState) -> tuple[int, int, int]:
    """(C, H, W) of the per-frame image a Conv or pooling ``node`` reads, streamed in NHWC
    order; a QloomError naming the node when the tensor is not an image or its stream order
    is not NCHW's (a transpose qloom cannot stream before it)."""
    if len(st.onnx_shape) != 3:
        raise ctx.err(node, f"expected an NCHW image, got per-frame shape {st.onnx_shape}")
    C, H, W = st.onnx_shape
    if not np.array_equal(st.order.ravel(), canonical_nhwc(C, H, W).ravel()):
        raise ctx.err(node, f"input layout is not NCHW-streamable (unsupported transpose before a {node.op_type})")
    return C, H, W
