"""Matrix products: MatMul, Gemm, Conv -> MVAU / VVAU (+ SWG), and their integer weights.

Weights come from constant subgraphs: a weight quantizer (Quant/IntQuant/BipolarQuant) on
an initializer, possibly followed by layout ops. :func:`const_node` folds those nodes and
keeps, next to the float result, its integers, scale and :class:`IntType`
(``ctx.qconsts``); :func:`weights` reads them back for a matrix product.

A matrix product leaves a :class:`Pending` operator on its output tensor: its activation
(thresholds from the next quantizer, or the raw accumulator at the graph output) is decided
later, and :func:`emit_pending` then appends the MVAU/VVAU.
"""
from __future__ import annotations

import numpy as np

from qloom.ir import EwProgram
from qloom.ops import MVAU, SWG, VVAU
from qloom.ops.swg import conv_out_dim
from qloom.passes.lower.layout import LAYOUT_OPS, PASS_OPS
from qloom.passes.lower.state import LowerContext, Pending, TensorState, attrs, canonical_nhwc, image_dims
from qloom.types import BIPOLAR, IntType

QUANT_OPS = ("Quant", "IntQuant", "BipolarQuant")


# ------------------------------------------------------------------ constant subgraphs
def eval_const_node(ctx: LowerContext, node):
    """Execute ``node`` (all inputs constant) with qonnx; its outputs become constants."""
    from qonnx.core.onnx_exec import execute_node

    env = {n: ctx.consts[n] for n in node.input if n}
    for o in node.output:
        env[o] = np.zeros(ctx.shape(o) if ctx.model.get_tensor_shape(o) else (1,), np.float32)
    try:
        execute_node(node, env, ctx.graph, ctx.opset.get(node.domain, ctx.opset.get("", 13)))
    except Exception as e:
        raise ctx.err(node, f"constant folding failed ({e})") from None
    for o in node.output:
        ctx.consts[o] = np.asarray(env[o])
    return env


def const_node(ctx: LowerContext, node):
    """Fold a node without dynamic inputs. A weight quantizer also records its integers,
    scale and type; a layout op on quantized weights carries them along."""
    op = node.op_type
    if op in ("Quant", "IntQuant") and len(node.input) > 3 and node.input[3] in ctx.consts:
        bw = np.asarray(ctx.consts[node.input[3]], np.float64).ravel()
        if bw.size > 1 and np.any(bw != bw[0]):  # qonnx's Quant cannot execute it either
            shown = ", ".join(f"{b:g}" for b in bw[:8]) + (", ..." if bw.size > 8 else "")
            raise ctx.err(node, f"per-channel bit widths [{shown}] on weights are not supported; "
                                "qloom needs one bit width per weight quantizer")
    env = eval_const_node(ctx, node)
    out = node.output[0]
    if op in QUANT_OPS:
        y = np.asarray(env[out], dtype=np.float32)
        scale = np.asarray(ctx.consts[node.input[1]], dtype=np.float32)
        if op != "BipolarQuant":
            zp = np.asarray(ctx.consts[node.input[2]])
            if np.any(zp != 0):
                raise ctx.err(node, "weight quantizer with a non-zero zero point; qloom needs zero point 0")
            bits = float(np.asarray(ctx.consts[node.input[3]]).ravel()[0])
            a = attrs(node)
            signed = bool(a.get("signed", 1))
            itype = BIPOLAR if (bits == 1 and signed) else IntType(int(bits), signed)
            if bits != int(bits) or bits < 1:
                raise ctx.err(node, f"bit width {bits} is not a positive integer")
        else:
            itype = BIPOLAR
        s_full = np.broadcast_to(scale, np.broadcast_shapes(scale.shape, y.shape)).astype(np.float32)
        if np.any(s_full <= 0):
            raise ctx.err(node, "weight scale must be positive")
        q = np.round(y.astype(np.float64) / s_full.astype(np.float64))
        if not np.array_equal((q * s_full).astype(np.float32), y):
            raise ctx.err(node, "quantized weights are not integer multiples of their scale")
        ctx.qconsts[out] = (q.astype(np.float32), s_full, itype)
    elif op in LAYOUT_OPS + PASS_OPS and node.input[0] in ctx.qconsts:
        q, s, itype = ctx.qconsts[node.input[0]]
        res = []
        for arr in (q, s):
            saved = ctx.consts[node.input[0]]
            ctx.consts[node.input[0]] = arr
            c = eval_const_node(ctx, node)
            ctx.consts[node.input[0]] = saved
            res.append(np.asarray(c[out], dtype=np.float32))
        eval_const_node(ctx, node)
        ctx.qconsts[out] = (res[0], res[1], itype)


def weights(ctx: LowerContext, node, i: int, out_axis: int):
    """Integer weights of input ``i``: (q int64, per-output-channel scale float32 (C,) or
    (1,), IntType). ``out_axis`` is the output-channel axis of the weight tensor."""
    name = node.input[i]
    if name not in ctx.qconsts and ctx.annotated_int_const(name) is not None:
        ctx.qconsts[name] = ctx.annotated_int_const(name)  # FINN: annotated integer weights
    if name not in ctx.qconsts:
        raise ctx.err(node, f"weight input {name} is not quantized (no Quant/BipolarQuant "
                            "on it); qloom needs integer weights")
    q, s, itype = ctx.qconsts[name]
    sm = np.moveaxis(s, out_axis, 0).reshape(s.shape[out_axis], -1)
    if not np.all(sm == sm[:, :1]):
        raise ctx.err(node, "weight scale varies along an input axis; only per-tensor or "
                            "per-output-channel scales are supported")
    sc = sm[:, 0]
    if np.all(sc == sc[0]):
        sc = sc[:1]
    return q.astype(np.int64), sc.astype(np.float32), itype


# ------------------------------------------------------------------ shared by the products
def clean_input(ctx: LowerContext, node, st: TensorState) -> float:
    """The scalar scale of a quantized, unscaled-by-anything-else input stream."""
    if st.itype is None:
        raise ctx.err(node, "its input is the unquantized float model input; give its type "
                            "with --input-type (e.g. fixed<16,6>, INT8, BIPOLAR) or add an "
                            "input quantizer (e.g. QuantIdentity) in front of it")
    pr = st.prog
    # integers times one scale; positive scalar Mul/Div steps (the division of an
    # average pool feeding the layer directly) fold into that scale
    scalar_steps = all(s.op in ("mul", "div") and np.asarray(s.a).size == 1
                       and float(np.asarray(s.a).ravel()[0]) > 0 for s in pr.steps)
    if (st.pending is not None or st.pools or pr.bias is not None
            or np.asarray(pr.pre_scale).size != 1 or not scalar_steps):
        raise ctx.err(node, "its input is a float tensor (not quantized after the "
                            "previous layer); put an activation quantizer before it")
    sx = float(np.asarray(pr.pre_scale).ravel()[0])
    for s in pr.steps:
        a = float(np.asarray(s.a).ravel()[0])
        sx = sx * a if s.op == "mul" else sx / a
    return sx


def row_range(w: np.ndarray, in_type: IntType):
    """Per-row accumulator range of ``w @ x`` for x of type ``in_type``."""
    p1, p2 = w * in_type.min, w * in_type.max
    return np.minimum(p1, p2).sum(1), np.maximum(p1, p2).sum(1)


# ------------------------------------------------------------------ Conv
def conv(ctx: LowerContext, node, st: TensorState) -> TensorState:
    """Conv -> (SWG when the kernel is not 1x1 / strided / padded) + MVAU, or VVAU for a
    depthwise convolution."""
    sx = clean_input(ctx, node, st)
    a = attrs(node)
    C, H, W = image_dims(ctx, node, st)
    q, sw, wtype = weights(ctx, node, 1, 0)
    if q.ndim != 4:
        raise ctx.err(node, f"expected 4D weights, got shape {q.shape}")
    cout, cin_g, kh, kw = q.shape
    group = int(a.get("group", 1))
    strides = tuple(a.get("strides", (1, 1)))
    dil = tuple(a.get("dilations", (1, 1)))
    pads = tuple(a.get("pads", (0, 0, 0, 0)))
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise ctx.err(node, "auto_pad is not supported; export with explicit pads")
    t, l, b, r = pads[0], pads[1], pads[2], pads[3]
    if any(pads) and st.itype.bipolar:
        raise ctx.err(node, "zero padding of a bipolar input cannot be represented in {-1,+1}")
    oh = conv_out_dim(H, kh, strides[0], t, b, dil[0])
    ow = conv_out_dim(W, kw, strides[1], l, r, dil[1])
    swg_needed = (kh, kw) != (1, 1) or strides != (1, 1) or any(pads)
    k = kh * kw
    if swg_needed:
        name = ctx.name("SWG", node.name)
        ctx.ops.append(SWG(name, (H, W, C), (oh, ow, k * C), st.itype, st.itype,
                           kernel=(kh, kw), stride=strides, pads=(t, l, b, r), dilation=dil))
    if group == 1:
        wm = q.transpose(0, 2, 3, 1).reshape(cout, k * cin_g)
        cls, kind = MVAU, "MVAU"
    elif group == C and cin_g == 1 and cout == C:
        wm = q.reshape(C, k)
        cls, kind = VVAU, "VVAU"
    else:
        raise ctx.err(node, f"group={group}: only standard (1) and depthwise (group = "
                            "channels, one filter per channel) convolutions are supported")
    lo, hi = row_range(wm, st.itype)
    pend = Pending(cls, ctx.name(kind, node.name), (oh, ow, k * C), (oh, ow, cout), st.itype,
                   wm, wtype, lo, hi)
    bias = None
    if len(node.input) > 2 and node.input[2]:
        bias = np.asarray(ctx.const(node, 2), np.float32).reshape(-1)
    pre = (np.float64(sx) * sw.astype(np.float64))
    return TensorState((cout, oh, ow), canonical_nhwc(cout, oh, ow),
                       IntType.for_range(int(lo.min()), int(hi.max())), EwProgram(pre, bias), pending=pend)


# ------------------------------------------------------------------ Gemm, MatMul
def dense(ctx: LowerContext, node, st: TensorState, wq, sw, wtype, bias) -> TensorState:
    """A fully connected layer (weights ``wq`` (outputs, inputs)) -> MVAU."""
    sx = clean_input(ctx, node, st)
    if len(st.onnx_shape) != 1:
        raise ctx.err(node, f"expected a 2D (batch, features) input, got per-frame shape {st.onnx_shape}")
    mh, mw = wq.shape
    if mw != st.onnx_shape[0]:
        raise ctx.err(node, f"weight has {mw} inputs, tensor has {st.onnx_shape[0]}")
    w = wq[:, st.order.ravel()]  # columns in stream order
    lo, hi = row_range(w, st.itype)
    pend = Pending(MVAU, ctx.name("MVAU", node.name), (mw,), (mh,), st.itype, w, wtype, lo, hi)
    pre = np.float64(sx) * sw.astype(np.float64)
    return TensorState((mh,), np.arange(mh, dtype=np.int64), IntType.for_range(int(lo.min()), int(hi.max())),
                       EwProgram(pre, bias), pending=pend)


def gemm(ctx: LowerContext, node, st: TensorState) -> TensorState:
    a = attrs(node)
    if a.get("transA", 0):
        raise ctx.err(node, "transA=1 is not supported")
    alpha, beta = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
    trans_b = bool(a.get("transB", 0))
    q, sw, wtype = weights(ctx, node, 1, 0 if trans_b else 1)
    wq = q if trans_b else q.T
    if alpha <= 0:
        raise ctx.err(node, "alpha must be positive")
    sw = (sw.astype(np.float64) * alpha).astype(np.float32) if alpha != 1.0 else sw
    bias = None
    if len(node.input) > 2 and node.input[2]:
        c = np.asarray(ctx.const(node, 2), np.float32)
        bias = (np.broadcast_to(c.reshape(-1), (wq.shape[0],)) * np.float32(beta)).astype(np.float32)
    return dense(ctx, node, st, wq, sw, wtype, bias)


def matmul(ctx: LowerContext, node, st: TensorState) -> TensorState:
    if node.input[0] in ctx.consts:
        raise ctx.err(node, "the constant must be the second (right) operand")
    q, sw, wtype = weights(ctx, node, 1, 1)
    if q.ndim != 2:
        raise ctx.err(node, f"expected a 2D weight matrix, got shape {q.shape}")
    return dense(ctx, node, st, q.T, sw, wtype, None)


# ------------------------------------------------------------------ emitting the operator
def emit_pending(ctx: LowerContext, p: Pending, w, thr, out_bias, otype, sign=None):
    """Append the MVAU/VVAU ``p`` with weights ``w`` (rows negated where ``sign`` < 0) and
    thresholds ``thr`` (None: the raw accumulator comes out). Returns the accumulator type."""
    lo, hi = p.acc_lo, p.acc_hi
    if sign is not None:
        lo, hi = np.where(sign > 0, lo, -hi), np.where(sign > 0, hi, -lo)
    acc_type = IntType.for_range(int(lo.min()), int(hi.max()))
    wt = p.weight_type
    if not wt.contains(w):  # rows negated for decreasing channels: -(-8) needs INT5
        wt = IntType.for_range(int(w.min()), int(w.max()))
    if thr is None:
        otype = acc_type
    ctx.ops.append(p.cls(p.name, p.in_shape, p.out_shape, p.in_type, otype, weights=w,
                         weight_type=wt, acc_type=acc_type, thresholds=thr,
                         out_bias=int(out_bias)))
    return acc_type
