"""Elementwise ops and activation quantizers: the float program and its thresholds.

Add/Sub/Mul/Div by per-channel constants, BatchNormalization, Relu, Neg, Sigmoid, Tanh and
Clip append a step to the tensor's float program (:class:`qloom.ir.EwProgram`), or to the
host-side input steps while the tensor is still the float model input.

An activation quantizer (Quant, IntQuant, BipolarQuant; Trunc on an integer stream) ends
the program: on the model input it becomes the host input's quantizer; elsewhere
:func:`threshold` finds the thresholds of "program, then quantizer" over the stream's
integer range and emits them into the pending MVAU/VVAU, or as a standalone Thresholding.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from qloom.frontend.load import QLINEAR_ATTR
from qloom.ir import EwProgram, EwStep, HostInput
from qloom.ops import Thresholding
from qloom.passes.lower.linear import emit_pending
from qloom.passes.lower.pool import emit_max_pool
from qloom.passes.lower.state import LowerContext, TensorState, attrs
from qloom.passes.thresholds import find_thresholds
from qloom.types import BIPOLAR, IntType


# ------------------------------------------------------------------ activation quantizers
def one_bit_width(ctx: LowerContext, node, i: int) -> float:
    """The bit width input ``i`` of an activation quantizer, which must be one number: a
    per-channel bit width (a tensor of several values) is rejected, never read as its
    first value (qonnx's own Quant cannot execute one either: no reference to match)."""
    v = np.asarray(ctx.const(node, i), np.float64).ravel()
    if v.size > 1 and np.any(v != v[0]):
        shown = ", ".join(f"{b:g}" for b in v[:8]) + (", ..." if v.size > 8 else "")
        raise ctx.err(node, f"per-channel bit widths [{shown}] on an activation are not "
                            "supported; qloom needs one bit width per activation quantizer")
    return float(v[0])


def quant_spec(ctx: LowerContext, node, st: TensorState):
    """(EwStep, scale (C,)|(1,), n_levels, out_bias, IntType) of an activation quantizer."""
    a = attrs(node)
    if node.op_type == "BipolarQuant":
        scale = ctx.per_channel(node, ctx.const(node, 1), st)
        step = EwStep("bipolar_quant", a=scale, source=node.name)
        return step, scale, 1, -1, BIPOLAR
    scale = ctx.per_channel(node, ctx.const(node, 1), st)
    zp = np.asarray(ctx.const(node, 2), np.float64).ravel()
    if zp.size > 1 and np.any(zp != zp[0]):
        raise ctx.err(node, "per-channel zero points on an activation are not supported; qloom "
                            "needs one zero point per activation quantizer")
    z = float(zp[0]) if zp.size else 0.0
    if z != int(z):
        raise ctx.err(node, f"zero point {z:g}: expected an integer")
    z = int(z)
    bits = one_bit_width(ctx, node, 3)
    if bits != int(bits) or not 1 <= bits <= 16:
        raise ctx.err(node, f"bit width {bits}: expected an integer from 1 to 16")
    bits = int(bits)
    signed, narrow = bool(a.get("signed", 1)), bool(a.get("narrow", 0))
    rounding = a.get("rounding_mode", "ROUND")
    rounding = rounding.decode() if isinstance(rounding, bytes) else rounding
    if np.any(scale <= 0):
        raise ctx.err(node, "scale must be positive")
    if z and a.get(QLINEAR_ATTR):  # fused from QuantizeLinear: round, then add z
        rounding = "QLINEAR"
    step = EwStep("quant", a=scale, b=np.full(1, z, np.float32), qargs=(bits, signed, narrow),
                  rounding=rounding, source=node.name)
    if bits == 1 and signed and z == 0:  # qonnx: a signed 1-bit Quant is bipolar
        return step, scale, 1, -1, BIPOLAR
    lo = (-(1 << (bits - 1)) + (1 if narrow else 0)) if signed else 0
    hi = ((1 << (bits - 1)) - 1) if signed else ((1 << bits) - 1 - (1 if narrow else 0))
    if z == 0:
        return step, scale, hi - lo, lo, IntType(bits, signed)
    # A zero point z (asymmetric quantization: ONNX Runtime's and PyTorch's uint8
    # activations, QCDQ) gives the reals (q - z) * scale, q in [lo, hi]: the stream carries
    # the offset levels q - z, integers in [lo - z, hi - z] (QONNX Quant, "zeropt"), so
    # zero stays 0 (padding) and the next accumulator/thresholds need no correction.
    return step, scale, hi - lo, lo - z, IntType.for_range(lo - z, hi - z)


def quant(ctx: LowerContext, node, st: TensorState) -> TensorState:
    """Quant, IntQuant, BipolarQuant on a dynamic tensor."""
    step, scale, n_levels, out_bias, otype = quant_spec(ctx, node, st)
    if st.itype is None:  # the model input's quantizer: runs on the host
        if (st.host_layout_changed or st.channels_last) and (scale.size > 1 or any(
                np.asarray(p).size > 1 for s in st.host_steps for p in (s.a, s.b) if p is not None)):
            raise ctx.err(node, "per-channel input preprocessing after a layout change is not supported")
        order = st.order if st.host_index is None else st.host_index.reshape(-1)[st.order]
        ctx.host_input = HostInput(ctx.input_name, ctx.input_shape, st.host_steps + (step,),
                                   scale, otype, order)
        return TensorState(st.onnx_shape, st.order, otype, EwProgram(scale.astype(np.float64)),
                           channels_last=st.channels_last)
    return threshold(ctx, node, st, step, scale, n_levels, out_bias, otype)


def threshold(ctx: LowerContext, node, st: TensorState, step, scale, n_levels, out_bias,
              otype, level_fn=None, out_prog=None, channels: int = 1) -> TensorState:
    """Turn ``st.prog`` followed by the quantizer ``step`` into thresholds.

    A quantizer that is not an :class:`EwStep` (``MultiThreshold``) gives ``step`` None, its
    own ``level_fn`` (int64 (P, C) stream values -> levels 0..n_levels) and the float
    program of its output ``out_prog`` (default: integers times ``scale``); ``channels``:
    how many channels its levels can differ over (per-channel thresholds)."""
    prog = st.prog.with_steps(step) if step is not None else st.prog
    lo, hi = st.int_range()
    if lo.size < channels:
        lo, hi = np.full(channels, lo[0]), np.full(channels, hi[0])
    C = lo.size
    sc = np.broadcast_to(scale.astype(np.float64), (C,)) if scale.size > 1 else scale.astype(np.float64)

    def quant_level_fn(x):
        y = prog(np.broadcast_to(x, (x.shape[0], C)), 1).astype(np.float64)
        if otype.bipolar:
            return (y >= 0).astype(np.int64)
        return np.clip(np.round(y / sc) - out_bias, 0, n_levels).astype(np.int64)

    if level_fn is None:
        level_fn = quant_level_fn

    try:
        thr, sign = find_thresholds(level_fn, lo, hi, n_levels)
    except ValueError as e:
        raise ctx.err(node, str(e)) from None
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
                raise ctx.err(node, "a max-pool sits before this quantizer and the "
                                    "activation after the pool decreases in some channel "
                                    "(negative scale); cannot move the pool")
    if st.pending is not None:
        p = st.pending
        w = p.weights * sign[:, None]
        emit_pending(ctx, p, w, thr, out_bias, otype, sign)
    else:
        if decreasing:
            raise ctx.err(node, "the activation decreases in some channel; standalone "
                                "thresholding needs increasing channels")
        C_hw = st.order.shape[-1] if st.order.ndim else 1
        if thr.shape[0] == 1 and C_hw > 1:
            thr = np.repeat(thr, C_hw, axis=0)
        name = ctx.name("Thresholding", node.name)
        shape = tuple(st.order.shape)
        ctx.ops.append(Thresholding(name, shape, shape, st.itype, otype,
                                    thresholds=thr, out_bias=out_bias))
    for kw, _ in pools:
        emit_max_pool(ctx, dict(kw, in_type=otype, out_type=otype))
    return TensorState(st.onnx_shape, st.order, otype,
                       out_prog if out_prog is not None else EwProgram(scale.astype(np.float64)),
                       channels_last=st.channels_last)


# ------------------------------------------------------------------ the float program
def chain(st: TensorState, step: EwStep) -> TensorState:
    """``st`` with ``step`` appended to its float program (host steps on the float input)."""
    if st.itype is None:
        return dataclasses.replace(st, host_steps=st.host_steps + (step,))
    return dataclasses.replace(st, prog=st.prog.with_steps(step))


def binary(ctx: LowerContext, node, st: TensorState, op: str, rop: str) -> TensorState:
    """x (op) c when the constant is the second input, c (rop) x when it is the first."""
    dyn_first = node.input[1] in ctx.consts
    c = ctx.per_channel(node, ctx.consts[node.input[1] if dyn_first else node.input[0]], st)
    return chain(st, EwStep(op if dyn_first else rop, a=c, source=node.name))


def add(ctx: LowerContext, node, st: TensorState) -> TensorState:
    return binary(ctx, node, st, "add", "add")


def mul(ctx: LowerContext, node, st: TensorState) -> TensorState:
    return binary(ctx, node, st, "mul", "mul")


def sub(ctx: LowerContext, node, st: TensorState) -> TensorState:
    if node.input[1] in ctx.consts:  # x - c == x + (-c) exactly in IEEE arithmetic
        c = ctx.per_channel(node, ctx.consts[node.input[1]], st)
        return chain(st, EwStep("add", a=(-c).astype(np.float32), source=node.name))
    return binary(ctx, node, st, "rsub", "rsub")


def div(ctx: LowerContext, node, st: TensorState) -> TensorState:
    if node.input[1] not in ctx.consts:
        raise ctx.err(node, "division by a dynamic tensor is not monotone; not supported")
    return binary(ctx, node, st, "div", "rdiv")


def relu(ctx: LowerContext, node, st: TensorState) -> TensorState:
    return chain(st, EwStep("relu", source=node.name))


def neg(ctx: LowerContext, node, st: TensorState) -> TensorState:
    return chain(st, EwStep("neg", source=node.name))


def sigmoid(ctx: LowerContext, node, st: TensorState) -> TensorState:
    return chain(st, EwStep("sigmoid", source=node.name))


def tanh(ctx: LowerContext, node, st: TensorState) -> TensorState:
    return chain(st, EwStep("tanh", source=node.name))


def clip(ctx: LowerContext, node, st: TensorState) -> TensorState:
    lo = ctx.consts[node.input[1]] if len(node.input) > 1 and node.input[1] else np.float32(-np.inf)
    hi = ctx.consts[node.input[2]] if len(node.input) > 2 and node.input[2] else np.float32(np.inf)
    return chain(st, EwStep("clip", a=np.asarray(lo, np.float32).reshape(1),
                            b=np.asarray(hi, np.float32).reshape(1), source=node.name))


def batch_norm(ctx: LowerContext, node, st: TensorState) -> TensorState:
    a = attrs(node)
    p = [ctx.per_channel(node, np.asarray(ctx.const(node, i)).reshape(-1, *([1] * (len(st.onnx_shape) - 1))), st)
         for i in range(1, 5)]
    return chain(st, EwStep("batchnorm", a=p[0], b=p[1], c=p[2], d=p[3],
                            eps=float(a.get("epsilon", 1e-5)), source=node.name))


# ------------------------------------------------------------------ Trunc
def trunc(ctx: LowerContext, node, st: TensorState) -> TensorState:
    """A float step on the model input; on an integer stream (e.g. brevitas TruncAvgPool2d
    after a SumPool) a quantizer: integers of scale ``out_scale`` come out, found by
    thresholds."""
    a = attrs(node)
    scale = ctx.per_channel(node, ctx.const(node, 1), st)
    zp = ctx.per_channel(node, ctx.const(node, 2), st)
    rounding = a.get("rounding_mode", "FLOOR")
    rounding = rounding.decode() if isinstance(rounding, bytes) else rounding
    in_bits = one_bit_width(ctx, node, 3)
    if len(node.input) == 5:  # Trunc v1: (x, scale, zeropt, input_bit_width, output_bit_width)
        out_bits = one_bit_width(ctx, node, 4)
        qargs = (in_bits, out_bits)
    else:  # v2: (x, scale, zeropt, input_bit_width, output_scale, output_bit_width)
        out_scale = np.asarray(ctx.const(node, 4), np.float32)
        out_bits = one_bit_width(ctx, node, 5)
        qargs = (in_bits, bool(a.get("narrow", 0)), bool(a.get("signed", 1)), out_scale, out_bits)
    step = EwStep("trunc", a=scale, b=zp, qargs=qargs, rounding=rounding, source=node.name)
    if st.itype is None:
        return chain(st, step)
    if np.any(zp != 0):
        raise ctx.err(node, "non-zero zero point; qloom needs zero point 0")
    if len(qargs) == 2:
        out_scale = (scale.astype(np.float64) * 2.0 ** (in_bits - out_bits)).astype(np.float32)
    else:
        out_scale = ctx.per_channel(node, qargs[3], st)
    if np.any(out_scale <= 0):
        raise ctx.err(node, "output scale must be positive")
    lo, hi = st.int_range()
    C = lo.size
    prog = st.prog.with_steps(step)
    ends = np.stack([prog(np.broadcast_to(v, (1, C)), 1)[0] for v in (lo, hi)]).astype(np.float64)
    q = np.round(ends / np.broadcast_to(out_scale.astype(np.float64), (C,)))
    qlo, qhi = int(q.min()), int(q.max())
    otype = IntType.for_range(qlo, qhi)
    if len(qargs) == 5 and out_bits == int(out_bits):
        declared = IntType(max(int(out_bits), 1), bool(a.get("signed", 1)))
        otype = declared if declared.contains(np.array([qlo, qhi])) else otype
    return threshold(ctx, node, st, step, out_scale, qhi - qlo, qlo, otype)
