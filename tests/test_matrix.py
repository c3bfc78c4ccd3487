"""End-to-end test matrix: brevitas model -> QONNX export -> qloom compile -> emulate, compared
with the QONNX reference (qonnx execute_onnx) on random frames.

Acceptance rule (every model): max |y - y_ref| <= 1e-5 * max |y_ref|, and for classifier
outputs (N, C) the same arg-max; label outputs (ArgMax/TopK indices) must be equal.

Axes: weight bits 1-8 (binary at 1), per-tensor/per-channel weight scales, activation bits
1-8 (unsigned: QuantReLU / unsigned QuantIdentity; signed: QuantIdentity / QuantHardTanh;
bipolar: 1-bit signed and brevitas' binary quantizer), input quantizers, biases, batch norm
(positive and negative gammas), kernels 1-7, strides 1-3, padding 0-3, odd image sizes,
max/average pooling (incl. padded, ceil mode, TruncAvgPool2d, global), depthwise convolution,
MLPs and CNNs, ArgMax/TopK heads; plus random architectures (hypothesis, derandomized).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import brevitas.nn as qnn

import qloom
from qloom.reference import reference_outputs

from brevitas_models import (ArgMax, TopK, assert_accepted, cnn, conv_block, export, input_quant,
                             make_pool, mlp, prepare, quant_act, weight_kwargs)

N_FRAMES = 12
N_CALIB = 64


# ------------------------------------------------------------------------------ helpers
def make_input(shape, in_kind: str, n: int, seed: int) -> np.ndarray:
    """Frames in the natural range of the input quantizer: U(0, 1) for unsigned, N(0, 1)
    for signed/bipolar inputs."""
    rng = np.random.default_rng(seed)
    if in_kind == "uint":
        return rng.random((n, *shape), dtype=np.float32)
    return rng.standard_normal((n, *shape), dtype=np.float32)


def check_model(model: nn.Module, in_shape: tuple, tmp_path, *, in_kind: str = "uint",
                seed: int = 0, n: int = N_FRAMES, nontrivial: bool = True):
    """Prepare (calibrate, randomize BN), export, compile, emulate, compare."""
    torch.manual_seed(seed)
    calib = torch.from_numpy(make_input(in_shape, in_kind, N_CALIB, seed + 1000))
    prepare(model, calib, seed=seed)
    path = export(model, (1, *in_shape), tmp_path)
    assert path.with_name(path.name + ".data").is_file() or path.stat().st_size > 0
    graph = qloom.compile_model(path)
    x = make_input(in_shape, in_kind, n, seed)
    y = qloom.emulate(graph, x)
    y_ref = reference_outputs(path, x)
    assert_accepted(y, y_ref)
    if nontrivial and y_ref.dtype.kind == "f":  # the frames must not all give the same output
        assert np.ptp(y_ref, axis=0).max() > 0, "degenerate model: all frames give one output"
    return graph


def _id(v):
    return "-".join(map(str, v)) if isinstance(v, tuple) else str(v)


# ------------------------------------------------------------------------------ weights
@pytest.mark.parametrize("per_channel", [False, True], ids=["pt", "pc"])
@pytest.mark.parametrize("wbits", range(1, 9))
def test_weight_bits(wbits, per_channel, tmp_path):
    """Weight widths 1 (binary) to 8, per-tensor or per-output-channel scales, conv + FC."""
    m = cnn((3, 7, 7), [dict(out=8, k=3, pad=1, wbits=wbits, per_channel=per_channel, bn="pos",
                             act=("relu", 4), pool=("max", 2, 2))],
            fc_wbits=wbits, last_per_channel=per_channel)
    check_model(m, (3, 7, 7), tmp_path, seed=wbits)


# ------------------------------------------------------------------------------ activations
ACTS = ([("relu", b) for b in range(1, 9)] + [("int", b) for b in range(1, 9)]
        + [("uint", 3), ("uint", 6), ("hardtanh", 2), ("hardtanh", 4), ("hardtanh", 8),
           ("bipolar", 1)])


@pytest.mark.parametrize("act", ACTS, ids=_id)
def test_activation_bits(act, tmp_path):
    """Activation widths 1-8: unsigned, signed (1 bit: bipolar), hard-tanh, binary.

    relu-1: brevitas exports a 1-bit QuantReLU as BipolarQuant, which maps every ReLU
    output (>= 0) to +s; the model is constant, but qloom must still agree with QONNX."""
    m = mlp(24, hidden=(16, 12), classes=10, wbits=3, act=act, bn="pos")
    check_model(m, (24,), tmp_path, seed=ACTS.index(act), n=16, nontrivial=act != ("relu", 1))


@pytest.mark.parametrize("in_q", [("uint", 2), ("uint", 4), ("uint", 8),
                                  ("int", 1), ("int", 2), ("int", 4), ("int", 8),
                                  ("bipolar", 1)], ids=_id)
def test_input_quantizer(in_q, tmp_path):
    """Signed, unsigned and bipolar input quantizers in front of a convolution."""
    m = cnn((2, 7, 7), [dict(out=6, k=3, wbits=4, bn="pos", act=("relu", 3))], in_q=in_q,
            fc_wbits=4)
    check_model(m, (2, 7, 7), tmp_path, in_kind=in_q[0], seed=in_q[1])


# ------------------------------------------------------------------------------ geometry
GEOMETRY = [  # (H, W, kernel, stride, pad)
    (7, 7, 1, 1, 0), (7, 7, 2, 1, 0), (7, 7, 3, 1, 1), (9, 11, 3, 2, 1), (9, 11, 5, 1, 2),
    (11, 9, 7, 1, 3), (7, 7, 7, 1, 0), (12, 12, 4, 3, 0), (9, 9, 3, 3, 2), (8, 13, 5, 2, 3),
    (16, 16, 3, 2, 0), (5, 13, 1, 2, 0), (10, 10, 6, 2, 2), (13, 7, 2, 3, 1),
]


@pytest.mark.parametrize("geom", GEOMETRY, ids=_id)
def test_conv_geometry(geom, tmp_path):
    """Kernels 1-7, strides 1-3, padding 0-3, odd and non-square images; two conv layers."""
    h, w, k, s, p = geom
    m = cnn((3, h, w), [dict(out=8, k=k, stride=s, pad=p, wbits=4, bn="pos", act=("relu", 4)),
                        dict(out=6, k=1, wbits=3, bn="neg", act=("int", 3))], fc_wbits=4)
    check_model(m, (3, h, w), tmp_path, seed=h * 100 + w * 10 + k)


# ------------------------------------------------------------------------------ bias and BN
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("bn", [None, "pos", "neg"], ids=["nobn", "bn", "bnneg"])
@pytest.mark.parametrize("net", ["mlp", "cnn"])
def test_bias_batchnorm(net, bn, bias, tmp_path):
    """With and without biases and batch norm; negative gammas flip channels.

    Without an output bias, classes with equal integer accumulators tie exactly, and the
    reference's float32 Gemm breaks such ties by rounding noise (its arg-max is then not
    defined by the model); per-channel output scales make exact ties impossible."""
    if net == "mlp":
        m = mlp(20, hidden=(16, 16), classes=8, wbits=4, bias=bias, bn=bn, act=("int", 4),
                last_bias=bias, last_per_channel=not bias)
        check_model(m, (20,), tmp_path, in_kind="int", seed=7, n=16)
    else:
        m = cnn((3, 9, 9), [dict(out=8, k=3, pad=1, bias=bias, bn=bn, act=("relu", 4),
                                 pool=("max", 2, 2)),
                            dict(out=8, k=3, bias=bias, bn=bn, act=("uint", 2))],
                fc=(12,), last_bias=bias, last_per_channel=not bias)
        check_model(m, (3, 9, 9), tmp_path, seed=8)


# ------------------------------------------------------------------------------ pooling
POOLS = {  # name: (pool spec, requantize after the pool, pool before the activation, bn)
    "max2": (("max", 2, 2), False, False, "pos"),
    "max3s2": (("max", 3, 2), False, False, "pos"),
    "max3s1pad1": (("max", 3, 1, 1, False), False, False, "pos"),
    "max2ceil": (("max", 2, 2, 0, True), False, False, "pos"),
    "max3s2ceil": (("max", 3, 2, 0, True), False, False, "neg"),
    "max2_before_act": (("max", 2, 2), False, True, "pos"),
    "max2_before_act_bnneg": (("max", 2, 2), False, True, "neg"),
    "avg2_requant": (("avg", 2, 2), True, False, "pos"),
    "avg3s1_requant": (("avg", 3, 1), True, False, "neg"),
    "avg2_direct": (("avg", 2, 2), False, False, "pos"),
    "truncavg2": (("truncavg", 2, 2, 4), False, False, "pos"),
    "truncavg3s2": (("truncavg", 3, 2, 6), False, False, "pos"),
    "global_avg_requant": (("gavg", 0, 0), True, False, "pos"),
}


def pool_model(name):
    """conv 3x3 (+BN) -> the POOLS[name] pooling (before or after the activation,
    optionally requantized) -> Linear 10 on a 3x9x9 input: (model, input shape, kind)."""
    spec, requant, first, bn = POOLS[name]
    layers = [input_quant("uint", 8)]
    layers += conv_block(3, 8, k=3, pad=1, wbits=4, bn=bn, act=("relu", 3))
    p = make_pool(spec)
    if first:
        layers.insert(-1, p)  # conv -> BN -> pool -> activation
    else:
        layers.append(p)
    if requant:
        layers.append(quant_act("uint", 4))
    layers.append(nn.Flatten())
    m = nn.Sequential(*layers)
    with torch.no_grad():
        f = int(np.prod(m.eval()(torch.zeros(1, 3, 9, 9)).shape[1:]))
    m.append(qnn.QuantLinear(f, 10, bias=True, **weight_kwargs(4)))
    return m, (3, 9, 9), "uint"


@pytest.mark.parametrize("name", list(POOLS))
def test_pooling(name, tmp_path):
    """Max pooling (overlapping, padded, ceil mode, before the activation) and average
    pooling (requantized, feeding the next layer directly, TruncAvgPool2d, global)."""
    m, _, _ = pool_model(name)
    check_model(m, (3, 9, 9), tmp_path, seed=len(name))


# ------------------------------------------------------------------------------ depthwise
@pytest.mark.parametrize("k,s,p,pc,bn", [(3, 1, 1, False, "pos"), (3, 2, 1, True, "pos"),
                                         (5, 1, 2, False, "neg"), (2, 2, 0, True, None)],
                         ids=["k3", "k3s2pc", "k5bnneg", "k2s2pc_nobn"])
def test_depthwise(k, s, p, pc, bn, tmp_path):
    """Depthwise convolution (groups = channels) between pointwise convolutions."""
    m = cnn((3, 9, 9), [dict(out=8, k=1, wbits=4, bn="pos", act=("relu", 4)),
                        dict(depthwise=True, k=k, stride=s, pad=p, wbits=4, per_channel=pc,
                             bn=bn, act=("relu", 3)),
                        dict(out=6, k=1, wbits=3, bn="pos", act=("uint", 3))])
    check_model(m, (3, 9, 9), tmp_path, seed=k * 10 + s)


# ------------------------------------------------------------------------------ MLPs
@pytest.mark.parametrize("hidden", [(), (16,), (32, 16, 16)], ids=_id)
def test_mlp_depth(hidden, tmp_path):
    """MLPs from a single layer to three hidden layers on an image input (flattened)."""
    m = mlp(64, hidden=hidden, classes=10, wbits=2, act=("int", 2), image=(1, 8, 8),
            in_q=("uint", 2))
    check_model(m, (1, 8, 8), tmp_path, seed=len(hidden), n=16)


# ------------------------------------------------------------------------------ label heads
@pytest.mark.parametrize("tail", ["argmax", "topk3"])
def test_label_head(tail, tmp_path):
    """A model ending in torch.argmax / torch.topk indices (LabelSelect in hardware).

    Power-of-two scales: the reference's float32 Gemm is then exact, so classes with equal
    accumulators tie exactly there too (both pick the lower index)."""
    t = ArgMax() if tail == "argmax" else TopK(3)
    m = mlp(24, hidden=(16,), classes=10, wbits=3, act=("relu", 3), last_bias=False, tail=t,
            pot=True)
    g = check_model(m, (24,), tmp_path, seed=3, n=16)
    assert g.nodes[-1].op_type == "LabelSelect"


def test_unsupported_is_clean_error(tmp_path):
    """Patterns qloom cannot map to integer hardware fail with a one-line QloomError:
    zero padding of a bipolar stream, arg-max after per-channel output scales."""
    m = cnn((2, 7, 7), [dict(out=4, k=3, pad=1, act=("relu", 2))], in_q=("bipolar", 1))
    prepare(m, torch.randn(16, 2, 7, 7))
    with pytest.raises(qloom.QloomError, match="bipolar") as e:
        qloom.compile_model(export(m, (1, 2, 7, 7), tmp_path / "a"))
    assert "\n" not in str(e.value)
    m = mlp(24, hidden=(), classes=10, wbits=3, per_channel=True, last_bias=False, tail=ArgMax())
    prepare(m, torch.rand(16, 24))
    with pytest.raises(qloom.QloomError, match="arg-max") as e:
        qloom.compile_model(export(m, (1, 24), tmp_path / "b"))
    assert "\n" not in str(e.value)


# ------------------------------------------------------------------------------ random nets
ACT_CHOICES = ([(k, b) for k in ("relu", "uint") for b in range(2, 9)]
               + [("int", b) for b in range(1, 9)] + [("hardtanh", 2), ("hardtanh", 5),
                                                       ("bipolar", 1)])


def _is_bipolar(act) -> bool:
    return act is not None and (act[0] == "bipolar" or (act[0] in ("int",) and act[1] == 1))


@st.composite
def random_cnn(draw):
    c = draw(st.integers(1, 4))
    h, w = draw(st.integers(5, 12)), draw(st.integers(5, 12))
    in_q = draw(st.sampled_from([("uint", 8), ("uint", 4), ("int", 8), ("int", 3), ("bipolar", 1)]))
    prev = in_q
    convs = []
    ch, hh, ww = c, h, w
    for _ in range(draw(st.integers(1, 2))):
        k = draw(st.integers(1, min(5, hh, ww)))
        s = draw(st.integers(1, 3))
        p = 0 if _is_bipolar(prev) else draw(st.integers(0, min(3, k - 1) if k > 1 else 1))
        dw = draw(st.booleans()) and ch > 1 and convs != []
        out = ch if dw else draw(st.integers(2, 12))
        act = draw(st.sampled_from(ACT_CHOICES))
        oh, ow = (hh + 2 * p - k) // s + 1, (ww + 2 * p - k) // s + 1
        pool = None
        if oh >= 4 and ow >= 4 and draw(st.booleans()):
            pool = ("max", 2, 2)
            oh, ow = oh // 2, ow // 2
        convs.append(dict(out=out, k=k, stride=s, pad=p, depthwise=dw,
                          bias=draw(st.booleans()), wbits=draw(st.integers(1, 8)),
                          per_channel=draw(st.booleans()),
                          bn=draw(st.sampled_from([None, "pos", "neg"])), act=act, pool=pool))
        ch, hh, ww, prev = out, oh, ow, act
    fc = draw(st.sampled_from([(), (16,)]))
    return dict(kind="cnn", in_shape=(c, h, w), in_q=in_q, convs=convs, fc=fc,
                fc_wbits=draw(st.integers(1, 8)), fc_act=draw(st.sampled_from(ACT_CHOICES)),
                last_bias=draw(st.booleans()))


@st.composite
def random_mlp(draw):
    n_in = draw(st.integers(4, 48))
    hidden = tuple(draw(st.lists(st.integers(2, 32), min_size=0, max_size=3)))
    return dict(kind="mlp", n_in=n_in, hidden=hidden, classes=draw(st.integers(2, 12)),
                in_q=draw(st.sampled_from([("uint", 8), ("uint", 2), ("int", 6), ("bipolar", 1)])),
                wbits=draw(st.integers(1, 8)), per_channel=draw(st.booleans()),
                bias=draw(st.booleans()), bn=draw(st.sampled_from([None, "pos", "neg"])),
                act=draw(st.sampled_from(ACT_CHOICES)))


@settings(max_examples=12, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=st.one_of(random_cnn(), random_mlp()))
def test_random_architectures(spec, tmp_path_factory):
    """Random CNNs/MLPs mixing every axis above (fixed seed: the same 12 models each run)."""
    tmp = tmp_path_factory.mktemp("rnd")
    if spec["kind"] == "mlp":
        m = mlp(spec["n_in"], hidden=spec["hidden"], classes=spec["classes"], in_q=spec["in_q"],
                wbits=spec["wbits"], per_channel=spec["per_channel"], bias=spec["bias"],
                bn=spec["bn"], act=spec["act"])
        check_model(m, (spec["n_in"],), tmp, in_kind=spec["in_q"][0], n=16, nontrivial=False)
    else:
        m = cnn(spec["in_shape"], spec["convs"], in_q=spec["in_q"], fc=spec["fc"],
                fc_wbits=spec["fc_wbits"], fc_act=spec["fc_act"], last_bias=spec["last_bias"],
                last_per_channel=not spec["last_bias"])  # no exact ties (test_bias_batchnorm)
        check_model(m, spec["in_shape"], tmp, in_kind=spec["in_q"][0], n=8, nontrivial=False)
