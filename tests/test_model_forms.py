"""Real model forms in (issue 16): typed inputs, QKeras via qonnx, FINN-streamlined graphs,
QCDQ, qonnx channels-last graphs, and rounding ties. Every model is built here (onnx.helper
or Brevitas) and checked against qonnx ``execute_onnx``; the jet tagger and the FINN MLP
also through ``build`` + ``rtlsim`` (== emulator, measured II == cycle model).

Typed inputs: the reference for a model whose float input is typed (``--input-type`` or the
graph's quantization annotation) is the float input quantized the same way, here
independently with Python integers (floor = AP_TRN, modulo 2^W = AP_WRAP; BIPOLAR: x >= 0
-> +1), then run through ``execute_onnx``; the emulator gets the raw float input.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import onnx
import pytest

import qloom
from brevitas_models import assert_accepted
from onnx_builders import (avgpool_tie, channels_last, finn_streamlined_mlp, keras_jet_tagger,
                           qdq_mlp, small_cnn)
from qloom.cli import main
from qloom.passes import lower_model
from qloom.reference import reference_outputs


def quantize_ref(x: np.ndarray, kind: str) -> np.ndarray:
    """The float input as the typed input's values, one Python integer at a time:
    kind "W,I,signed" (fixed point: W bits, I integer bits) or "BIPOLAR"."""
    if kind == "BIPOLAR":
        return np.where(x >= 0, 1.0, -1.0).astype(np.float32)
    w, i, signed = kind.split(",")
    w, i, signed = int(w), int(i), signed == "s"
    out = []
    for v in x.ravel().tolist():
        q = math.floor(Fraction(v) * Fraction(2) ** (w - i)) % (1 << w)  # AP_TRN, AP_WRAP
        if signed and q >= 1 << (w - 1):
            q -= 1 << w
        out.append(float(Fraction(q) * Fraction(2) ** (i - w)))
    return np.asarray(out, np.float32).reshape(x.shape)


# ------------------------------------------------------------------------------ QKeras via qonnx
# (--input-type, the reference's spelling of the same type)
JET_TYPES = [("fixed<16,6>", "16,6,s"), ("FIXED<12,4>", "12,4,s"), ("ufixed<10,4>", "10,4,u"),
             ("INT8", "8,8,s"), ("ap_fixed<14,5,AP_TRN,AP_WRAP>", "14,5,s")]


@pytest.fixture(scope="module")
def jet(tmp_path_factory):
    return keras_jet_tagger(tmp_path_factory.mktemp("jet") / "jet_tagger.onnx")


@pytest.mark.parametrize("typ", JET_TYPES, ids=[t[0] for t in JET_TYPES])
def test_keras_jet_tagger_typed_input(jet, typ):
    """The hls4ml tutorial's jet tagger as qonnx converts it (16-64-32-32-5, opset 9, Quant on
    weights and biases, MatMul + Add, quantized_relu, Dropout, Softmax): emulate == reference
    on inputs that also leave the type's range (AP_WRAP) and fall between its steps (AP_TRN)."""
    option, ref_kind = typ
    g = lower_model(jet, input_type=option)
    assert [op.op_type for op in g.nodes] == ["MVAU"] * 4  # Dropout vanished, Softmax on the host
    x = (np.random.default_rng(3).standard_normal((40, 16)) * 24).astype(np.float32)
    y = qloom.emulate(g, x)
    y_ref = reference_outputs(jet, quantize_ref(x, ref_kind))
    assert_accepted(y, y_ref)
    assert np.allclose(y.sum(1), 1, atol=1e-5)  # softmax probabilities
    assert np.ptp(y_ref, axis=0).max() > 0.05


def test_keras_jet_tagger_info_shows_the_host_tail(jet, capsys):
    assert main(["info", str(jet), "--input-type", "fixed<16,6>"]) == 0
    out = capsys.readouterr().out
    assert "host quantizer (fixed<16,6> from --input-type (AP_TRN floor, AP_WRAP)) -> INT16" in out
    assert "then Softmax in float on the host" in out


@pytest.mark.sim
def test_keras_jet_tagger_cli_build_rtlsim(jet, tmp_path):
    """build --input-type at a target FPS; rtlsim reads the type from OUT: RTL == emulator,
    measured II == cycle model."""
    out = tmp_path / "out"
    x = (np.random.default_rng(5).standard_normal((6, 16)) * 8).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    assert main(["build", str(jet), "-o", str(out), "--input-type", "fixed<16,6>",
                 "--target-fps", "200000"]) == 0
    assert main(["emulate", str(jet), "-i", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y_emu.npy"),
                 "--input-type", "fixed<16,6>"]) == 0
    assert main(["rtlsim", str(out), "-i", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y_rtl.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "y_rtl.npy"), np.load(tmp_path / "y_emu.npy"))
    import json

    est = json.loads((out / "estimates.json").read_text())
    sim = json.loads((out / "rtlsim.json").read_text())
    assert est["fps"] >= 200000
    assert abs(sim["cycles_per_frame"] - est["cycles_per_frame"]) <= 1, (sim, est["cycles_per_frame"])


# ------------------------------------------------------------------------------ FINN-streamlined
@pytest.mark.parametrize("dtype", ["BIPOLAR", "UINT2", "INT4", "BINARY"])
def test_finn_streamlined_mlp_annotated_input(tmp_path, dtype):
    """Input typed by the graph's quantization annotation, annotated integer weights,
    MultiThreshold activations (unsigned, signed with out_bias, bipolar with out_scale 2):
    every MultiThreshold lands in its MVAU, and emulate == reference."""
    path = finn_streamlined_mlp(tmp_path / "finn.onnx", in_dtype=dtype, widths=(32, 24, 16, 12, 5))
    g = lower_model(path)
    assert [op.op_type for op in g.nodes] == ["MVAU"] * 4
    assert g.host_input.int_type.name == dtype.replace("BINARY", "UINT1")
    x = (np.random.default_rng(1).standard_normal((30, 32)) * 3).astype(np.float32)
    kind = {"BIPOLAR": "BIPOLAR", "UINT2": "2,2,u", "INT4": "4,4,s", "BINARY": "1,1,u"}[dtype]
    y_ref = reference_outputs(path, quantize_ref(x, kind))
    assert_accepted(qloom.emulate(g, x), y_ref)
    assert np.ptp(y_ref, axis=0).max() > 0


@pytest.mark.sim
def test_finn_streamlined_mlp_build_rtlsim(tmp_path):
    from qloom.flow import build, rtlsim

    path = finn_streamlined_mlp(tmp_path / "finn.onnx", widths=(32, 24, 16, 12, 5))
    r = build(path, tmp_path / "out", target_fps=1e6)  # a small folding: a quick Verilator build
    assert r["fps"] >= 1e6
    x = np.random.default_rng(2).standard_normal((8, 32)).astype(np.float32)
    y_emu = qloom.emulate(lower_model(path), x)
    y_rtl, stats = rtlsim(tmp_path / "out", x, p_in_gap=0.2, p_out_stall=0.2, seed=3)
    np.testing.assert_array_equal(y_rtl, y_emu)
    _, stats = rtlsim(tmp_path / "out", x)
    assert abs(stats["cycles_per_frame"] - r["cycles_per_frame"]) <= 1, (stats, r["cycles_per_frame"])


@pytest.mark.parametrize("shape, layout", [((1, 4), "NCHW"), ((1, 3, 5, 4), "NHWC")], ids=["nc", "nhwc"])
def test_multithreshold_standalone_on_a_typed_input(tmp_path, shape, layout):
    """A MultiThreshold straight on the (annotated UINT4) input is a standalone Thresholding;
    with data_layout NHWC the input is streamed as it is (channels last)."""
    from onnx import TensorProto, helper, numpy_helper

    thr = np.sort(np.random.default_rng(0).uniform(0, 15, (shape[-1], 3)), axis=1).astype(np.float32)
    nodes = [helper.make_node("MultiThreshold", ["x", "thr"], ["y"], domain="qonnx.custom_op.general",
                              out_dtype="UINT2", out_scale=0.5, out_bias=0.25, data_layout=layout)]
    g = helper.make_graph(nodes, "mt", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))],
                          [numpy_helper.from_array(thr, "thr")])
    qa = onnx.TensorAnnotation(tensor_name="x")
    qa.quant_parameter_tensor_names.append(onnx.StringStringEntryProto(key="finn_datatype", value="UINT4"))
    g.quantization_annotation.append(qa)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                            helper.make_opsetid("qonnx.custom_op.general", 1)])
    m.ir_version = 7
    onnx.save(m, str(tmp_path / "mt.onnx"))
    graph = lower_model(tmp_path / "mt.onnx")
    assert [op.op_type for op in graph.nodes] == ["Thresholding"]
    x = np.random.default_rng(1).uniform(-2, 18, (50,) + shape[1:]).astype(np.float32)
    y_ref = reference_outputs(tmp_path / "mt.onnx", quantize_ref(x, "4,4,u"))
    np.testing.assert_array_equal(qloom.emulate(graph, x), y_ref)
    assert len(np.unique(y_ref)) == 4  # every level met


# ------------------------------------------------------------------------------ QCDQ
def test_brevitas_qcdq_export(tmp_path):
    """Brevitas export_onnx_qcdq (QuantizeLinear / Clip / DequantizeLinear) -> qonnx
    QCDQToQuant in the front end; the reference runs the QCDQ file itself."""
    import torch
    import torch.nn as nn
    import brevitas.nn as qnn
    from brevitas.export import export_onnx_qcdq

    torch.manual_seed(0)
    m = nn.Sequential(qnn.QuantIdentity(bit_width=8, return_quant_tensor=True),
                      qnn.QuantLinear(12, 16, bias=True, weight_bit_width=4),
                      nn.ReLU(), qnn.QuantIdentity(bit_width=4, return_quant_tensor=True),
                      qnn.QuantLinear(16, 5, bias=False, weight_bit_width=4))
    m.eval()
    with torch.no_grad():
        m(torch.randn(64, 12))
    path = tmp_path / "qcdq.onnx"
    export_onnx_qcdq(m, torch.randn(1, 12), export_path=str(path), opset_version=13)
    assert any(n.op_type == "QuantizeLinear" for n in onnx.load(str(path)).graph.node)
    g = lower_model(path)
    assert [op.op_type for op in g.nodes] == ["MVAU", "MVAU"]
    x = np.random.default_rng(0).standard_normal((20, 12)).astype(np.float32)
    y_ref = reference_outputs(path, x)
    assert_accepted(qloom.emulate(g, x), y_ref)
    assert np.ptp(y_ref, axis=0).max() > 0


# ------------------------------------------------------------------------------ channels-last
@pytest.mark.parametrize("nhwc_input", [True, False], ids=["nhwc-input", "nchw-input"])
def test_qonnx_channels_last_graph(tmp_path, nhwc_input):
    """qonnx's ConvertToChannelsLastAndClean (channels_last-domain Conv, MaxPool,
    BatchNormalization; an NHWC model input, or an NCHW input with a Transpose): the same
    hardware as the NCHW model (no transpose anywhere) and emulate == reference."""
    src = small_cnn(tmp_path / "cnn.onnx")
    path = channels_last(src, tmp_path / "cnn_cl.onnx", input_channels_last=nhwc_input)
    assert any(n.domain == "qonnx.custom_op.channels_last" for n in onnx.load(str(path)).graph.node)
    g, g_nchw = lower_model(path), lower_model(src)
    assert [(o.op_type, o.in_shape, o.out_shape) for o in g.nodes] == \
        [(o.op_type, o.in_shape, o.out_shape) for o in g_nchw.nodes]
    x = np.random.default_rng(4).random((10, 3, 8, 8), dtype=np.float32)
    xin = x.transpose(0, 2, 3, 1).copy() if nhwc_input else x
    y_ref = reference_outputs(path, xin)
    assert_accepted(qloom.emulate(g, xin), y_ref)
    assert_accepted(qloom.emulate(g_nchw, x), y_ref)  # the same network
    assert np.ptp(y_ref, axis=0).max() > 0


# ------------------------------------------------------------------------------ rounding ties
def test_average_pool_rounding_ties(tmp_path):
    """An AveragePool's mean feeding a quantizer meets exact rounding ties (window sum 9 j,
    j odd: the mean is j/2 output steps). Rule (docs/DESIGN.md, "Rounding ties"): qloom
    rounds the exact value with the quantizer's own rounding (ROUND: half to even); the
    reference may land one ulp off a tie and round the other way. So every disagreement
    must be at an exact tie (exact value k + 1/2, computed here with fractions from the
    quantized input), and the test must meet ties."""
    path = avgpool_tie(tmp_path / "tie.onnx")
    g = lower_model(path)
    x = np.random.default_rng(7).random((64, 2, 6, 6), dtype=np.float32)
    y, y_ref = qloom.emulate(g, x), reference_outputs(path, x)
    q = np.clip(np.round(x.astype(np.float64) * 16), 0, 15).astype(np.int64)  # the input Quant
    sums = sum(q[:, :, i:i + 4, j:j + 4] for i in range(3) for j in range(3))  # 3x3 windows
    exact = [Fraction(int(s), 9) / 2 for s in sums.ravel()]  # mean / (2 * s_in), exactly
    ties = np.array([v.denominator == 2 for v in exact]).reshape(sums.shape)
    assert ties.sum() > 0, "the test met no tie"
    differ = y != y_ref
    assert np.all(ties[differ]), "a disagreement away from a rounding tie"
    half_even = np.array([float(round(v)) for v in exact]).reshape(sums.shape) * 2 / 16
    np.testing.assert_array_equal(y[ties], half_even[ties].astype(np.float32))  # qloom's rule


def test_onnxruntime_qdq_form(tmp_path):
    """ONNX Runtime's static-quantization QDQ form (QuantizeLinear -> DequantizeLinear on
    activations, int8 weights behind a lone DequantizeLinear) with power-of-two scales:
    emulate == reference."""
    path = qdq_mlp(tmp_path / "qdq.onnx")
    g = lower_model(path)
    assert [op.op_type for op in g.nodes] == ["MVAU", "MVAU"]
    x = (np.random.default_rng(0).standard_normal((50, 12)) * 2).astype(np.float32)
    y_ref = reference_outputs(path, x)
    np.testing.assert_array_equal(qloom.emulate(g, x), y_ref)


@pytest.mark.parametrize("zero_points, relu", [((5, 128), False), ((-3, 37), True)],
                         ids=["zp5-128", "zp-3-37-relu"])
def test_qdq_asymmetric_zero_points(tmp_path, zero_points, relu):
    """Asymmetric QDQ (ONNX Runtime / PyTorch: int8 input and uint8 activations with
    non-zero zero points z): the streams carry the offset levels q - z (a signed type one
    bit wider), no correction anywhere; with power-of-two scales the hidden quantizer meets
    exact ties, where QuantizeLinear's order (round, then + z) matters for an odd z;
    emulate == reference exactly."""
    path = qdq_mlp(tmp_path / "qdq.onnx", widths=(12, 16, 9, 5), zero_points=zero_points, relu=relu)
    g = lower_model(path)
    assert [op.op_type for op in g.nodes] == ["MVAU"] * 3
    assert g.host_input.int_type.name == "INT9"  # int8 levels minus an odd zero point
    assert all(op.in_type.signed for op in g.nodes[1:])
    x = (np.random.default_rng(0).standard_normal((120, 12)) * 3).astype(np.float32)
    y_ref = reference_outputs(path, x)
    np.testing.assert_array_equal(qloom.emulate(g, x), y_ref)
    assert np.ptp(y_ref, axis=0).max() > 0


@pytest.mark.parametrize("form", ["qcdq", "qonnx"])
def test_brevitas_asymmetric_activations(tmp_path, form):
    """Brevitas ShiftedUint8ActPerTensorFloat (uint8 with a learned zero point) exported as
    QCDQ and as QONNX: emulate == reference."""
    import torch
    import torch.nn as nn
    import brevitas.nn as qnn
    from brevitas.export import export_onnx_qcdq, export_qonnx
    from brevitas.quant import ShiftedUint8ActPerTensorFloat

    torch.manual_seed(0)
    m = nn.Sequential(qnn.QuantIdentity(act_quant=ShiftedUint8ActPerTensorFloat, return_quant_tensor=True),
                      qnn.QuantLinear(12, 16, bias=True, weight_bit_width=4),
                      qnn.QuantIdentity(act_quant=ShiftedUint8ActPerTensorFloat, return_quant_tensor=True),
                      qnn.QuantLinear(16, 5, bias=False, weight_bit_width=4))
    m.train()
    with torch.no_grad():
        for _ in range(5):
            m(torch.randn(64, 12) * 2 + 1)
    m.eval()
    path = tmp_path / f"{form}.onnx"
    (export_onnx_qcdq if form == "qcdq" else export_qonnx)(m, torch.randn(1, 12), export_path=str(path),
                                                         opset_version=13)

    g = lower_model(path)
    assert [op.op_type for op in g.nodes] == ["MVAU", "MVAU"]
    assert g.host_input.int_type.signed  # offset levels
    x = (np.random.default_rng(0).standard_normal((60, 12)) * 2 + 1).astype(np.float32)
    y_ref = reference_outputs(path, x)
    assert_accepted(qloom.emulate(g, x), y_ref)
    assert np.ptp(y_ref, axis=0).max() > 0


@pytest.mark.sim
def test_qdq_asymmetric_build_rtlsim(tmp_path):
    """The asymmetric QDQ MLP through build + Verilator: RTL == emulator, II == model."""
    from qloom.flow import build, rtlsim

    path = qdq_mlp(tmp_path / "qdq.onnx", zero_points=(-3, 37), relu=False)
    r = build(path, tmp_path / "out", target_fps=1e6)
    x = (np.random.default_rng(2).standard_normal((8, 12)) * 3).astype(np.float32)
    y_emu = qloom.emulate(lower_model(path), x)
    y_rtl, _ = rtlsim(tmp_path / "out", x, p_in_gap=0.2, p_out_stall=0.2, seed=3)
    np.testing.assert_array_equal(y_rtl, y_emu)
    _, stats = rtlsim(tmp_path / "out", x)
    assert abs(stats["cycles_per_frame"] - r["cycles_per_frame"]) <= 1, (stats, r["cycles_per_frame"])


def test_decimal_scales_differ_only_beside_ties(tmp_path):
    """With decimal scales (0.05, 0.01, 0.02) the reference's float32 MatMul and qloom's
    float32(exact accumulator * scale) both land within float error of the hidden
    quantizer's ties (acc * 0.025 = k + 1/2) and may round apart. Every hidden level that
    differs must sit beside a tie: its exact value, from the integer accumulator and the
    float32 scales, within 2^-20 (relative) of k + 1/2; frames without such a level agree."""
    from onnx import numpy_helper
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.infer_shapes import InferShapes

    from qloom.emulate import run_stream

    sc = (0.05, 0.01, 0.02)
    path = qdq_mlp(tmp_path / "qdq.onnx", scales=sc)
    g = lower_model(path)
    x = (np.random.default_rng(0).standard_normal((120, 12)) * 2).astype(np.float32)
    m = ModelWrapper(str(path)).transform(InferShapes())
    ref_h = np.concatenate([execute_onnx(m, {"x": x[i:i + 1]}, return_full_exec_context=True)["a0_q"]
                            for i in range(len(x))]).astype(np.int64)
    q_in = g.host_input(x)
    emu_h = run_stream(g, q_in, upto=1).reshape(len(x), -1).astype(np.int64)
    w0 = numpy_helper.to_array(next(t for t in onnx.load(str(path)).graph.initializer if t.name == "W0"))
    acc = q_in.astype(np.int64) @ w0.astype(np.int64)
    f32 = [Fraction(float(np.float32(s))) for s in sc]
    differ = np.argwhere(ref_h != emu_h)
    assert len(differ) > 0, "no near-tie met; the test checks nothing"
    for i, j in differ:
        v = Fraction(int(acc[i, j])) * f32[0] * f32[1] / f32[2]
        off = abs(v - math.floor(v) - Fraction(1, 2))
        assert off <= Fraction(1, 1 << 20) * max(1, abs(v)), (int(acc[i, j]), float(v))
        assert abs(ref_h[i, j] - emu_h[i, j]) == 1
    ok = np.setdiff1d(np.arange(len(x)), differ[:, 0])
    y, y_ref = qloom.emulate(g, x[ok]), reference_outputs(path, x[ok])
    assert_accepted(y, y_ref)
