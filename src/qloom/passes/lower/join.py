"""Joins of branching graphs: a residual ``Add`` of two dynamic tensors -> AddStreams, a
channel ``Concat`` -> ConcatStreams. (The fork in front of the branches, DuplicateStreams,
is emitted by the walk where a tensor feeds several nodes.)

Both inputs of a join must be integer streams whose float program is a plain scale (the
output of an activation quantizer, QONNX ``Quant``), in the same stream order.

Add: with branch scales s0 and s1 the reference computes ``s0*q0 + s1*q1`` in float32.
Float32 scales are dyadic rationals, so s0/s1 = m0/m1 exactly for coprime integers m0, m1
(equal scales: 1/1; a power-of-two ratio: 2^k/1, a shift-add; 3/4 for 3/32 and 1/8;
about 2^23 for two unrelated float scales), and the sum is ``s*(m0*q0 + m1*q1)`` with
``s = s0/m0``, exact in float64: the integer sum goes to hardware (AddStreams with the
constant weights m0, m1) and ``s`` stays in the float program, where the next quantizer
turns it into thresholds over the integer sum. Rejected (one line) when the integer sum
would need more than MAX_SUM_BITS bits, or the ratio differs between channels. The reference rounds ``s0*q0`` and ``s1*q1`` to
float32 before adding; the program rounds ``s*(m0*q0 + m1*q1)`` once. They agree exactly
when the scales are powers of two (and whenever the products are exact in float32); else
they can differ by one float32 rounding, which matters only when that lands on a
quantizer's threshold (the same rule as the MVAU accumulator, docs/DESIGN.md).

Concat: on the channel axis; per pixel the output stream carries input 0's channels, then
input 1's (NHWC streams, so both inputs must be in canonical NHWC order); the scales are
concatenated per channel. More than two inputs chain two-input joins.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from qloom.ir import EwProgram
from qloom.ops import AddStreams, ConcatStreams
from qloom.passes.lower.linear import emit_pending
from qloom.passes.lower.state import LowerContext, TensorState, attrs, canonical_nhwc
from qloom.types import IntType

MAX_SUM_BITS = 32  # widest integer sum of an AddStreams (its weights grow with the scale ratio)


def _plain(ctx: LowerContext, node, st: TensorState, k: int) -> np.ndarray:
    """The per-channel (or scalar) scale of input ``k``, a quantized integer stream."""
    if st.itype is None:
        raise ctx.err(node, f"input {k} is the unquantized model input; quantize it first")
    if st.host_steps:
        raise ctx.err(node, f"input {k} is a label index; joins take activations")
    pr = st.prog
    if st.pending is not None or st.pools or pr.bias is not None or pr.steps:
        raise ctx.err(node, f"input {k} ({node.input[k]}) is not the output of an activation "
                            "quantizer; quantize each branch (e.g. a Brevitas QuantIdentity) "
                            "before the join")
    if st.itype.bipolar:
        raise ctx.err(node, f"input {k} is bipolar; joins take integer streams")
    return np.asarray(pr.pre_scale, dtype=np.float64)


def _affine(ctx: LowerContext, node, st: TensorState, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b), float64 (C,) or (1,): input ``k``'s reals are ``a*q + b`` in exact arithmetic,
    q its integers (a quantizer's output: the plain scale, b = 0; an MVAU/VVAU without
    activation: its accumulator through the bias, batch-norm and constant add/mul/div
    steps after it). Other steps (Relu, a max-pool) are not affine: the one-line error."""
    if st.itype is None:
        raise ctx.err(node, f"input {k} is the unquantized model input; quantize it first")
    if st.host_steps:
        raise ctx.err(node, f"input {k} is a label index; joins take activations")
    if st.itype.bipolar and st.pending is None:
        raise ctx.err(node, f"input {k} is bipolar; joins take integer streams")
    pr = st.prog
    a = np.asarray(pr.pre_scale, np.float64).reshape(-1)
    b = np.zeros(1) if pr.bias is None else np.asarray(pr.bias, np.float64).reshape(-1)
    for s in pr.steps:
        A = None if s.a is None else np.asarray(s.a, np.float64).reshape(-1)
        if s.op == "add":
            b = b + A
        elif s.op in ("mul", "div"):
            f = A if s.op == "mul" else 1.0 / A
            a, b = a * f, b * f
        elif s.op == "batchnorm":  # (x - mean) / sqrt(var + eps) * gamma + beta
            f = A / np.sqrt(np.asarray(s.d, np.float64).reshape(-1) + np.float64(np.float32(s.eps)))
            a, b = a * f, (b - np.asarray(s.c, np.float64).reshape(-1)) * f + np.asarray(s.b, np.float64).reshape(-1)
        else:
            a = None
            break
    if a is None or st.pools or (st.pending is None and pr.steps):
        raise ctx.err(node, f"input {k} ({node.input[k]}) is not the output of an activation "
                            "quantizer; quantize each branch (e.g. a Brevitas QuantIdentity) "
                            "before the join")
    return a, b


def _ratio(s0: float, s1: float) -> tuple[int, int]:
    """(m0, m1) coprime with s0/s1 == m0/m1 exactly (float scales are dyadic rationals)."""
    r = Fraction(s0) / Fraction(s1)
    return r.numerator, r.denominator


def add(ctx: LowerContext, node, sts: list[TensorState]) -> TensorState:
    """Residual Add of two dynamic tensors -> AddStreams (see the module docstring)."""
    if len(sts) != 2:
        raise ctx.err(node, "expected two dynamic inputs")
    a, b = sts
    if tuple(a.onnx_shape) != tuple(b.onnx_shape):
        raise ctx.err(node, f"inputs of shapes {a.onnx_shape} and {b.onnx_shape}; a residual "
                            "Add needs equal shapes (no broadcast)")
    (s0, c0), (s1, c1) = _affine(ctx, node, a, 0), _affine(ctx, node, b, 1)
    if not np.array_equal(a.order, b.order):
        raise ctx.err(node, "the two inputs stream their elements in different orders (a "
                            "layout change on one branch); not supported")
    if a.pending is not None and b.pending is not None:
        raise ctx.err(node, "neither input is the output of an activation quantizer; quantize "
                            "at least one branch (e.g. a Brevitas QuantIdentity) before the join")
    if b.pending is not None:  # the unquantized branch's MVAU/VVAU is emitted first: input 0
        a, b, s0, s1, c0, c1 = b, a, s1, s0, c1, c0
        ctx.join_order = [1, 0]
    C = a.channels
    per_ch = max(x.size for x in (s0, s1, c0, c1)) > 1
    v0 = np.broadcast_to(s0, (C,)) if per_ch else s0.reshape(1)
    v1 = np.broadcast_to(s1, v0.shape)
    if np.any(v0 <= 0) or np.any(v1 <= 0):
        raise ctx.err(node, "a branch's scale is negative or zero in some channel (e.g. a "
                            "negative batch-norm gamma on an unquantized branch); quantize "
                            "that branch before the join")
    ratios = {_ratio(float(x), float(y)) for x, y in zip(v0, v1)}
    if len(ratios) != 1:
        raise ctx.err(node, "the ratio of the two branches' scales differs between channels "
                            "(e.g. a batch norm on an unquantized branch); quantize each branch "
                            "per tensor, or put a quantizer on the unquantized branch")
    m0, m1 = ratios.pop()
    scale = v0 / m0
    if not np.array_equal(scale * m0, v0) or not np.array_equal(scale * m1, v1):
        raise ctx.err(node, "the common scale of the two branches is not exact in float64")
    if a.pending is not None:
        p = a.pending
        emit_pending(ctx, p, p.weights, None, 0, None)
        t0 = ctx.ops[-1].out_type
    else:
        t0 = a.itype
    t1 = b.itype
    lo, hi = m0 * t0.min + m1 * t1.min, m0 * t0.max + m1 * t1.max
    otype = IntType.for_range(lo, hi)
    if otype.bits > MAX_SUM_BITS or max(m0, m1) >= 1 << 31:
        raise ctx.err(node, f"aligning the two branches' scales ({float(v0[0]):g} and {float(v1[0]):g}, "
                            f"ratio {m0}/{m1}) needs a {otype.bits}-bit integer sum, over "
                            f"{MAX_SUM_BITS}; quantize both branches with equal or power-of-two scales")
    shape = tuple(a.order.shape)
    name = ctx.name("AddStreams", node.name)
    ctx.ops.append(AddStreams(name, shape, shape, t0, otype, in_type1=t1, mul0=m0, mul1=m1))
    scale = scale[:1] if np.all(scale == scale[0]) else scale
    bias = np.broadcast_to(c0, v0.shape) + np.broadcast_to(c1, v0.shape)
    bias = None if not np.any(bias) else (bias[:1] if np.all(bias == bias[0]) else bias).astype(np.float32)
    return TensorState(a.onnx_shape, a.order, otype, EwProgram(scale, bias))


def _canonical_of(onnx_shape, hw_shape) -> np.ndarray:
    """The channels-last stream order of a tensor of ``onnx_shape`` (C, H, W) or (C,)."""
    if len(onnx_shape) == 3:
        return canonical_nhwc(*onnx_shape)
    return np.arange(int(np.prod(onnx_shape)), dtype=np.int64).reshape(hw_shape)


def _canonical(st: TensorState) -> np.ndarray:
    return _canonical_of(tuple(st.onnx_shape), st.order.shape)


def concat(ctx: LowerContext, node, sts: list[TensorState]) -> TensorState:
    """Channel Concat -> ConcatStreams (a chain of them for more than two inputs)."""
    a = attrs(node)
    rank = len(sts[0].onnx_shape) + 1
    axis = int(a.get("axis", 1))
    if axis < 0:
        axis += rank
    if axis != 1 or rank not in (2, 4):
        raise ctx.err(node, f"concatenation on axis {a.get('axis')} of a rank-{rank} tensor; "
                            "qloom concatenates channels (axis 1 of NCHW or (N, C))")
    if len(sts) != len(node.input) or any(i in ctx.consts for i in node.input):
        raise ctx.err(node, "every input of a Concat must be a dynamic tensor")
    scales = []
    for k, st in enumerate(sts):
        scales.append(np.broadcast_to(_plain(ctx, node, st, k).reshape(-1), (st.channels,)))
        if tuple(st.onnx_shape[1:]) != tuple(sts[0].onnx_shape[1:]):
            raise ctx.err(node, f"input {k} has shape {st.onnx_shape}; the inputs differ in more than the channels")
        if not np.array_equal(st.order, _canonical(st)):
            raise ctx.err(node, f"input {k} is not in channels-last stream order (a layout "
                                "change before the concatenation); not supported")
    cur = sts[0]
    for k, st in enumerate(sts[1:], 1):
        t0, t1 = cur.itype, st.itype
        otype = IntType.for_range(min(t0.min, t1.min), max(t0.max, t1.max))
        shp0, shp1 = tuple(cur.order.shape), tuple(st.order.shape)
        out_onnx = (cur.onnx_shape[0] + st.onnx_shape[0],) + tuple(cur.onnx_shape[1:])
        out_shape = shp0[:-1] + (shp0[-1] + shp1[-1],)
        name = ctx.name("ConcatStreams", node.name)
        ctx.ops.append(ConcatStreams(name, shp0, out_shape, t0, otype, in_shape1=shp1, in_type1=t1))
        cur = TensorState(out_onnx, _canonical_of(out_onnx, out_shape), otype, None)
    sc = np.concatenate(scales)
    sc = sc[:1] if np.all(sc == sc[0]) else sc
    return TensorState(cur.onnx_shape, cur.order, cur.itype, EwProgram(np.asarray(sc, np.float64)))


JOINS = {"Add": add, "Concat": concat}
