"""Brevitas model factories for the end-to-end test matrix (tests/test_matrix.py,
tests/test_bnn_pynq.py).

Every factory returns an ``nn.Sequential`` of brevitas layers in eval mode. Weights are
random (no training); :func:`prepare` makes the models non-trivial:

* activation quantizer scales are calibrated on the test input (brevitas
  ``calibration_mode``), so every quantizer uses most of its levels;
* every batch norm (and TensorNorm) gets random affine parameters, gamma ~ U(0.2, 1.7)
  (optionally about a third of them negative), beta ~ N(0, 1), and running statistics
  scaled to the accumulator it normalizes: measured mean + N(0, 0.5) * std and measured
  variance * U(0.5, 2), so activations are neither all saturated nor all zero.

:func:`export` writes QONNX with ``brevitas.export.export_qonnx`` (the torch dynamo exporter
keeps the weights in ``PATH.data`` next to the model; that is part of what is tested).
"""
from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

import brevitas.nn as qnn
from brevitas.core.scaling import ScalingPerOutputType
from brevitas.inject.enum import ScalingImplType, StatsOp
from brevitas.quant import (Int8ActPerTensorFixedPoint, Int8ActPerTensorFloat,
                            Int8WeightPerTensorFixedPoint, Int8WeightPerTensorFloat,
                            SignedBinaryActPerTensorConst, SignedBinaryWeightPerTensorConst,
                            Uint8ActPerTensorFixedPoint, Uint8ActPerTensorFloat)

# activation kinds: relu/uint (unsigned), int/hardtanh (signed; "int" at 1 bit exports as a
# BipolarQuant with a calibrated scale), bipolar (brevitas' constant-scale binary quantizer)
# (all 1-bit quantizers export as BipolarQuant, see quant_act)
ACT_KINDS = ("relu", "uint", "int", "hardtanh", "bipolar")


class BinaryWeightPerChannel(SignedBinaryWeightPerTensorConst):
    """Binary weights with a per-output-channel scale (mean |w|, XNOR-Net style)."""

    scaling_impl_type = ScalingImplType.STATS
    scaling_stats_op = StatsOp.AVE
    scaling_per_output_type = ScalingPerOutputType.CHANNEL
    scaling_per_output_channel = True


def weight_kwargs(bits: int, per_channel: bool = False, pot: bool = False) -> dict:
    """Keyword arguments of a QuantConv2d/QuantLinear for ``bits``-bit weights (1: binary);
    ``pot``: power-of-two scale (per tensor)."""
    if bits == 1:
        return {"weight_quant": BinaryWeightPerChannel if per_channel
                else SignedBinaryWeightPerTensorConst}
    if pot:
        return {"weight_quant": Int8WeightPerTensorFixedPoint, "weight_bit_width": bits}
    return {"weight_quant": Int8WeightPerTensorFloat, "weight_bit_width": bits,
            "weight_scaling_per_output_channel": per_channel}


def quant_act(kind: str, bits: int, pot: bool = False) -> nn.Module:
    """An activation quantizer returning a QuantTensor (see ACT_KINDS); ``pot``:
    power-of-two scale.

    Note: brevitas exports every 1-bit quantizer as a BipolarQuant, also unsigned ones
    (QuantReLU(bit_width=1)): the QONNX model then outputs {-s, +s} where torch gives {0, s}.
    """
    if kind in ("relu", "uint"):
        cls = qnn.QuantReLU if kind == "relu" else qnn.QuantIdentity
        return cls(act_quant=Uint8ActPerTensorFixedPoint if pot else Uint8ActPerTensorFloat,
                   bit_width=bits, return_quant_tensor=True)
    if kind == "int":
        return qnn.QuantIdentity(
            act_quant=Int8ActPerTensorFixedPoint if pot else Int8ActPerTensorFloat,
            bit_width=bits, return_quant_tensor=True)
    if kind == "hardtanh":
        return qnn.QuantHardTanh(bit_width=bits, min_val=-1.0, max_val=1.0,
                                 return_quant_tensor=True)
    if kind == "bipolar":
        return qnn.QuantIdentity(act_quant=SignedBinaryActPerTensorConst,
                                 return_quant_tensor=True)
    raise ValueError(f"unknown activation kind {kind!r}")


class ArgMax(nn.Module):
    """torch.argmax over the classes (exports as ONNX ArgMax)."""

    def forward(self, x):
        return torch.argmax(getattr(x, "value", x), dim=1)


class TopK(nn.Module):
    """Indices of the k largest classes (exports as ONNX TopK)."""

    def __init__(self, k: int):
        super().__init__()
        self.k = k

    def forward(self, x):
        return torch.topk(getattr(x, "value", x), self.k, dim=1)[1]


# ------------------------------------------------------------------------------ layers
def conv_block(in_ch: int, out_ch: int | None = None, *, k: int = 3, stride: int = 1,
               pad: int = 0, depthwise: bool = False, bias: bool = True, wbits: int = 4,
               per_channel: bool = False, bn: str | None = None, act=("relu", 4),
               pool=None, pool_first: bool = False) -> list[nn.Module]:
    """QuantConv2d [+ BatchNorm2d] [+ activation quantizer] [+ pool].

    bn: None, "pos" or "neg" (the gamma signs are set by :func:`prepare`; the string is
    recorded on the module). act: (kind, bits) or None. pool: ("max"|"avg"|"truncavg", k, s)
    or ("max", k, s, pad, ceil_mode); pool_first puts the pool between the conv/BN and the
    activation quantizer.
    """
    out_ch = in_ch if depthwise else out_ch
    layers: list[nn.Module] = [qnn.QuantConv2d(in_ch, out_ch, k, stride=stride, padding=pad,
                                               groups=in_ch if depthwise else 1, bias=bias,
                                               **weight_kwargs(wbits, per_channel))]
    if bn:
        b = nn.BatchNorm2d(out_ch)
        b.qloom_gamma_sign = bn
        layers.append(b)
    tail = []
    if act is not None:
        tail.append(quant_act(*act))
    if pool is not None:
        p = make_pool(pool)
        if pool_first:
            tail.insert(0, p)
        else:
            tail.append(p)
    return layers + tail


def make_pool(spec) -> nn.Module:
    """A pooling layer: ("max", k, s[, pad, ceil_mode]), ("avg", k, s), ("truncavg", k, s,
    bits) (brevitas TruncAvgPool2d) or ("gavg", ...) (AdaptiveAvgPool2d(1))."""
    kind, k, s, *rest = spec
    if kind == "max":
        pad, ceil = (rest + [0, False])[:2]
        return nn.MaxPool2d(k, s, padding=pad, ceil_mode=ceil)
    if kind == "avg":
        return nn.AvgPool2d(k, s)
    if kind == "truncavg":
        return qnn.TruncAvgPool2d(k, s, bit_width=rest[0] if rest else 8, return_quant_tensor=True)
    if kind == "gavg":
        return nn.AdaptiveAvgPool2d(1)
    raise ValueError(f"unknown pool {kind!r}")


def linear_block(in_f: int, out_f: int, *, bias: bool = True, wbits: int = 4,
                 per_channel: bool = False, bn: str | None = None, act=("relu", 4),
                 pot: bool = False) -> list[nn.Module]:
    """QuantLinear [+ BatchNorm1d] [+ activation quantizer]."""
    layers: list[nn.Module] = [qnn.QuantLinear(in_f, out_f, bias=bias,
                                               **weight_kwargs(wbits, per_channel, pot))]
    if bn:
        b = nn.BatchNorm1d(out_f)
        b.qloom_gamma_sign = bn
        layers.append(b)
    if act is not None:
        layers.append(quant_act(*act, pot=pot))
    return layers


def input_quant(kind: str = "uint", bits: int = 8, pot: bool = False) -> nn.Module:
    """The model's input quantizer (uint/int/bipolar)."""
    return quant_act({"uint": "uint", "int": "int", "bipolar": "bipolar"}[kind], bits, pot)


# ------------------------------------------------------------------------------ models
def mlp(in_features: int, hidden=(32, 16), classes: int = 10, *, in_q=("uint", 8),
        wbits: int = 4, per_channel: bool = False, bias: bool = True, bn: str | None = "pos",
        act=("relu", 4), last_bias: bool = True, last_wbits: int | None = None,
        last_per_channel: bool | None = None, pot: bool = False,
        tail: nn.Module | None = None, image: tuple | None = None) -> nn.Sequential:
    """Input quantizer -> [QuantLinear -> BN -> act] * len(hidden) -> QuantLinear (logits).

    ``image``: a (C, H, W) input flattened first (like the FINN-R MLPs). ``pot``: power-of-two
    scales everywhere (then the reference's float32 matrix products are exact)."""
    layers: list[nn.Module] = [nn.Flatten()] if image else []
    layers.append(input_quant(*in_q, pot=pot))
    f = in_features
    for h in hidden:
        layers += linear_block(f, h, bias=bias, wbits=wbits, per_channel=per_channel, bn=bn,
                               act=act, pot=pot)
        f = h
    last_pc = per_channel if last_per_channel is None else last_per_channel
    layers += linear_block(f, classes, bias=last_bias, wbits=last_wbits or wbits, act=None,
                           per_channel=last_pc, pot=pot)
    if tail is not None:
        layers.append(tail)
    return nn.Sequential(*layers)


def cnn(in_shape: tuple, convs: list[dict], *, in_q=("uint", 8), fc=(), classes: int = 10,
        fc_wbits: int = 4, fc_act=("relu", 4), last_bias: bool = True,
        last_per_channel: bool = False, tail: nn.Module | None = None) -> nn.Sequential:
    """Input quantizer -> conv blocks (dicts of :func:`conv_block` arguments, "out" = output
    channels) -> Flatten -> [QuantLinear -> act] * len(fc) -> QuantLinear (logits)."""
    c, h, w = in_shape
    layers: list[nn.Module] = [input_quant(*in_q)]
    for spec in convs:
        spec = dict(spec)
        out = spec.pop("out", None)
        blk = conv_block(c, out, **spec)
        layers += blk
        c = blk[0].out_channels
    layers.append(nn.Flatten())
    seq = nn.Sequential(*layers)
    with torch.no_grad():
        f = int(np.prod(_value(seq.eval()(torch.zeros(1, *in_shape))).shape[1:]))
    for n in fc:
        layers += linear_block(f, n, wbits=fc_wbits, act=fc_act)
        f = n
    layers.append(qnn.QuantLinear(f, classes, bias=last_bias,
                                  **weight_kwargs(fc_wbits, last_per_channel)))
    if tail is not None:
        layers.append(tail)
    return nn.Sequential(*layers)


# ------------------------------------------------------------------------------ preparation
def _value(y):
    return getattr(y, "value", y)


def _is_norm(m: nn.Module) -> bool:
    return (hasattr(m, "running_mean") and hasattr(m, "running_var")
            and isinstance(getattr(m, "weight", None), torch.Tensor))


def _calibrate(model: nn.Module, x: torch.Tensor):
    from brevitas.graph.calibrate import calibration_mode

    with torch.no_grad(), calibration_mode(model):
        model(x)
    model.eval()


def _channel_stats(t: torch.Tensor, n: int):
    t = _value(t).detach().double()
    t = t.reshape(-1) if n == 1 else t.transpose(0, 1).reshape(n, -1)
    return t.mean(-1), t.var(-1, unbiased=False)


def prepare(model: nn.Module, x: torch.Tensor, *, negative_gammas: bool | None = None,
            seed: int = 0) -> nn.Module:
    """Calibrate the activation scales on ``x`` and randomize every batch norm (see the
    module docstring). ``negative_gammas`` overrides the per-module ``qloom_gamma_sign``
    ("neg": about a third of the gammas negative). Returns the model in eval mode."""
    g = torch.Generator().manual_seed(seed)
    model.eval()
    draws = {}  # per norm: gamma, beta and the noise of its running statistics
    for m in (m for m in model.modules() if _is_norm(m)):
        n = m.running_mean.numel()
        gamma = torch.rand(n, generator=g, dtype=torch.float64) * 1.5 + 0.2
        neg = (getattr(m, "qloom_gamma_sign", "pos") == "neg"
               if negative_gammas is None else negative_gammas)
        if neg:
            flip = torch.rand(n, generator=g) < 1 / 3
            flip[torch.randint(n, (1,), generator=g)] = True
            gamma = torch.where(flip, -gamma, gamma)
        draws[m] = (gamma, torch.randn(n, generator=g, dtype=torch.float64),
                    torch.randn(n, generator=g, dtype=torch.float64),
                    torch.rand(n, generator=g, dtype=torch.float64) * 1.5 + 0.5,
                    torch.randn(n, generator=g, dtype=torch.float64) * 3,
                    torch.rand(n, generator=g, dtype=torch.float64) * 4 + 0.5)

    def fit(m, args):  # runs before the norm: fit it to the input it actually sees
        gamma, beta, z, u, z_dead, v_dead = draws[m]
        mean, var = _channel_stats(args[0], m.running_mean.numel())
        dead = var < 1e-12  # constant channel: fall back to fixed ranges
        rm = torch.where(dead, mean + z_dead, mean + 0.5 * var.sqrt() * z)
        rv = torch.where(dead, v_dead, var * u)
        for t, v in ((m.weight, gamma), (m.bias, beta), (m.running_mean, rm), (m.running_var, rv)):
            t.data.copy_(v.reshape(t.shape))

    for _ in range(2):  # BN statistics depend on activation scales upstream and vice versa
        _calibrate(model, x)
        hooks = [m.register_forward_pre_hook(fit) for m in draws]
        try:
            with torch.no_grad():
                model(x)
        finally:
            for h in hooks:
                h.remove()
    _calibrate(model, x)
    return model.eval()


def export(model: nn.Module, input_shape: tuple, dir) -> Path:
    """Export ``model`` (eval mode) to ``dir/model.onnx`` as QONNX with a (1, ...) input;
    returns the path. The exporter's weights go to ``model.onnx.data`` next to it."""
    from brevitas.export import export_qonnx

    d = Path(dir)
    d.mkdir(parents=True, exist_ok=True)
    path = d / "model.onnx"
    model.eval()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(1, *tuple(input_shape)[1:], generator=gen)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        export_qonnx(model, x, str(path))
    return path


def assert_accepted(y: np.ndarray, y_ref: np.ndarray):
    """The acceptance rule: max |y - y_ref| <= 1e-5 * max |y_ref| and, for classifier
    outputs (N, C), the same arg-max; label outputs (ArgMax/TopK indices) must be equal."""
    assert y.shape == y_ref.shape, (y.shape, y_ref.shape)
    if y_ref.dtype.kind in "iu":
        np.testing.assert_array_equal(y, y_ref)
        return
    err, mag = float(np.abs(y - y_ref).max()), float(np.abs(y_ref).max())
    assert err <= 1e-5 * mag, f"max |y - y_ref| = {err:g} > 1e-5 * {mag:g}"
    if y_ref.ndim == 2:
        np.testing.assert_array_equal(y.argmax(1), y_ref.argmax(1))
