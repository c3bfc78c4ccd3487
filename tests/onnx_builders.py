"""Small QONNX graphs built by hand with onnx.helper (for error paths and edge cases)."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QDOMAIN = "qonnx.custom_op.general"


def _init(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def quant_node(name, x, bits, scale=0.5, signed=1, narrow=0):
    inits = [_init(f"{name}_s", scale), _init(f"{name}_z", 0.0), _init(f"{name}_b", float(bits))]
    node = helper.make_node("Quant", [x, f"{name}_s", f"{name}_z", f"{name}_b"], [f"{name}_out"],
                            domain=QDOMAIN, name=name, signed=signed, narrow=narrow,
                            rounding_mode="ROUND")
    return node, inits


def mlp(path, *, tail: str | None = None, quant_weights: bool = True, quant_between: bool = True,
        seed: int = 0, features=(6, 5, 4), quant_input: bool = True, act_bits=4, mid: str | None = None,
        weight_bits=None):
    """input (1, F0) -> [Quant] -> MatMul(W1) -> Relu -> [Quant] -> [mid] -> MatMul(W2) -> [tail] -> output.

    tail / mid: an extra ONNX op type appended at the end / before the second MatMul (e.g.
    "Sin" to make it unsupported). act_bits: the hidden Quant's bit width (a list: per channel);
    weight_bits: per-output-channel bit widths of the first weight Quant (a list of F1).
    """
    rng = np.random.default_rng(seed)
    f0, f1, f2 = features
    nodes, inits = [], []
    cur = "x"
    if quant_input:
        n, i = quant_node("qin", "x", 4, 0.25, signed=0)
        nodes.append(n); inits += i
        cur = "qin_out"
    for li, (a, b) in enumerate(((f0, f1), (f1, f2))):
        w = rng.integers(-7, 8, size=(a, b)).astype(np.float32) * 0.125
        inits.append(_init(f"w{li}", w))
        wname = f"w{li}"
        if quant_weights:
            n, i = quant_node(f"qw{li}", f"w{li}", 4, 0.125)
            nodes.append(n); inits += i
            if weight_bits is not None and li == 0:  # per-output-channel bit widths (1, F1)
                inits = [t for t in inits if t.name != "qw0_b"] + [_init("qw0_b", np.reshape(weight_bits, (1, -1)))]
                lim = 2.0 ** (np.reshape(weight_bits, (1, -1)) - 1)
                inits = [t for t in inits if t.name != "w0"] + [_init("w0", np.clip(w, -lim * 0.125, (lim - 1) * 0.125))]
            wname = f"qw{li}_out"
        nodes.append(helper.make_node("MatMul", [cur, wname], [f"mm{li}"], name=f"MatMul_{li}"))
        cur = f"mm{li}"
        if li == 0:
            nodes.append(helper.make_node("Relu", [cur], ["r0"], name="Relu_0"))
            cur = "r0"
            if quant_between:
                n, i = quant_node("qa", cur, 4, 0.5, signed=0)
                inits = [t for t in inits if t.name != "qa_b"] + i[:2] + [_init("qa_b", act_bits)]
                nodes.append(n)
                cur = "qa_out"
            if mid:
                nodes.append(helper.make_node(mid, [cur], ["m"], name=f"{mid}_0"))
                cur = "m"
    if tail:
        nodes.append(helper.make_node(tail, [cur], ["t"], name=f"{tail}_0"))
        cur = "t"
    nodes[-1].output[0] = "y"
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, f0])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, f2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(QDOMAIN, 1)])
    onnx.save(model, str(path))
    return path


# ------------------------------------------------------------------------------ real model forms
def _save(nodes, inits, inputs, outputs, path, name, opset=13, extra_opsets=(QDOMAIN,), annotations=()):
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    for tensor, dtype in annotations:  # FINN's quantization_annotation: finn_datatype
        qa = onnx.TensorAnnotation(tensor_name=tensor)
        qa.quant_parameter_tensor_names.append(onnx.StringStringEntryProto(key="finn_datatype", value=dtype))
        graph.quantization_annotation.append(qa)
    ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, 1) for d in extra_opsets]
    model = helper.make_model(graph, opset_imports=ops)
    model.ir_version = 7
    onnx.save(model, str(path))
    return path


def keras_quant(name, x, bits, integer, signed=1, narrow=0):
    """A Quant node as qonnx's QKeras converter writes one: ``quantized_bits(bits, integer)``
    (signed; step 2**(integer - bits + 1)) or ``quantized_relu(bits, integer)`` (unsigned;
    step 2**(integer - bits)), its parameters named ``<name>_param0..2``."""
    scale = 2.0 ** (integer - bits + (1 if signed else 0))
    inits = [_init(f"{name}_param0", scale), _init(f"{name}_param1", 0.0), _init(f"{name}_param2", float(bits))]
    node = helper.make_node("Quant", [x, f"{name}_param0", f"{name}_param1", f"{name}_param2"], [f"{name}_out"],
                            domain=QDOMAIN, name=name, signed=signed, narrow=narrow, rounding_mode="ROUND")
    return node, inits


def keras_jet_tagger(path, *, widths=(16, 64, 32, 32, 5), wbits=6, abits=6, seed=0,
                     tail="Softmax", dropout=True):
    """The hls4ml tutorial's jet tagger as qonnx converts a QKeras model: opset 9, a float
    input with no quantizer, ``Quant`` (quantized_bits(6,0)) on the weights AND the biases
    feeding MatMul + Add, quantized_relu(6,0) as Relu + unsigned Quant, tensor names like
    ``Quant_3_param0``, an inference Dropout, and a trailing Softmax (or ``tail``)."""
    rng = np.random.default_rng(seed)
    nodes, inits, q = [], [], 0
    cur = "input_1"
    n_layers = len(widths) - 1
    for li in range(n_layers):
        a, b = widths[li], widths[li + 1]
        # weights roughly Glorot-scaled, so the ReLUs are neither dead nor saturated
        w = (rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(np.float32)
        bias = (rng.standard_normal(b) * 0.25).astype(np.float32)
        inits += [_init(f"dense_{li}/kernel", w), _init(f"dense_{li}/bias", bias)]
        nw, iw = keras_quant(f"Quant_{q}", f"dense_{li}/kernel", wbits, 0); q += 1
        nb, ib = keras_quant(f"Quant_{q}", f"dense_{li}/bias", wbits, 0); q += 1
        nodes += [nw, nb]; inits += iw + ib
        nodes.append(helper.make_node("MatMul", [cur, nw.output[0]], [f"dense_{li}_mm"], name=f"MatMul_{li}"))
        nodes.append(helper.make_node("Add", [f"dense_{li}_mm", nb.output[0]], [f"dense_{li}_out"], name=f"Add_{li}"))
        cur = f"dense_{li}_out"
        if li < n_layers - 1:
            nodes.append(helper.make_node("Relu", [cur], [f"relu_{li}"], name=f"Relu_{li}"))
            na, ia = keras_quant(f"Quant_{q}", f"relu_{li}", abits, 0, signed=0); q += 1
            nodes.append(na); inits += ia
            cur = na.output[0]
            if dropout and li == 0:
                nodes.append(helper.make_node("Dropout", [cur], ["dropout_0"], name="Dropout_0"))
                cur = "dropout_0"
    if tail:
        nodes.append(helper.make_node(tail, [cur], ["output_1"], name=f"{tail}_0"))
    else:
        nodes[-1].output[0] = "output_1"
    return _save(nodes, inits, [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, [1, widths[0]])],
                 [helper.make_tensor_value_info("output_1", TensorProto.FLOAT, [1, widths[-1]])],
                 path, "jet_tagger", opset=9)


def _mt(name, x, thr, out_dtype, out_scale=1.0, out_bias=0.0):
    node = helper.make_node("MultiThreshold", [x, f"{name}_thr"], [f"{name}_out"], domain=QDOMAIN,
                            name=name, out_dtype=out_dtype, out_scale=float(out_scale),
                            out_bias=float(out_bias))
    return node, [_init(f"{name}_thr", thr)]


def finn_streamlined_mlp(path, *, in_dtype="BIPOLAR", widths=(32, 24, 16, 5), seed=0):
    """An MLP as FINN's streamlining leaves it (the network-intrusion MLP's shape): the
    input's type in the graph's quantization_annotation, integer weights as annotated float
    initializers (INT2, BIPOLAR; no Quant nodes), MultiThreshold activations (UINT2; signed
    INT2 with out_bias -2; BIPOLAR with out_scale 2, out_bias -1), and a scalar Mul and a
    per-channel Add on the output."""
    rng = np.random.default_rng(seed)
    nodes, inits, ann = [], [], [("x", in_dtype)]
    cur = "x"
    in_lo, in_hi = {"BIPOLAR": (-1, 1), "BINARY": (0, 1)}.get(in_dtype, (0, 3))
    kinds = ["UINT2", "BIPOLAR", "INT2"]
    for li in range(len(widths) - 1):
        a, b = widths[li], widths[li + 1]
        wdt = "BIPOLAR" if li == 1 else "INT2"
        w = (rng.choice([-1.0, 1.0], (a, b)) if wdt == "BIPOLAR" else rng.integers(-2, 2, (a, b))).astype(np.float32)
        inits.append(_init(f"W{li}", w)); ann.append((f"W{li}", wdt))
        nodes.append(helper.make_node("MatMul", [cur, f"W{li}"], [f"mm{li}"], name=f"MatMul_{li}"))
        cur = f"mm{li}"
        if li == len(widths) - 2:
            break
        # thresholds spread over the accumulator's likely range, some on half integers
        spread = np.sqrt(a) * max(abs(in_lo), abs(in_hi), 1)
        kind = kinds[li % len(kinds)]
        nt = 1 if kind == "BIPOLAR" else 3
        thr = np.sort(np.round(rng.uniform(-spread, spread, (b, nt)) * 2) / 2, axis=1).astype(np.float32)
        if kind == "BIPOLAR":
            n, i = _mt(f"MultiThreshold_{li}", cur, thr, "BIPOLAR", 2.0, -1.0)
        elif kind == "INT2":
            n, i = _mt(f"MultiThreshold_{li}", cur, thr, "INT2", 1.0, -2.0)
        else:
            n, i = _mt(f"MultiThreshold_{li}", cur, thr, "UINT2")
        nodes.append(n); inits += i
        cur = n.output[0]
        in_lo, in_hi = (-1, 1) if kind == "BIPOLAR" else ((-2, 1) if kind == "INT2" else (0, 3))
    inits += [_init("out_scale", 0.125), _init("out_bias", rng.standard_normal(widths[-1]).astype(np.float32))]
    nodes.append(helper.make_node("Mul", [cur, "out_scale"], ["scaled"], name="Mul_out"))
    nodes.append(helper.make_node("Add", ["scaled", "out_bias"], ["y"], name="Add_out"))
    return _save(nodes, inits, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, widths[0]])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, widths[-1]])],
                 path, "finn_streamlined_mlp", annotations=ann)


def small_cnn(path, *, c_in=3, hw=8, c1=6, c2=4, classes=5, seed=0, bn=True):
    """input (1, C, H, W) -> Quant (UINT4) -> Conv 3x3 pad 1 (Quant INT4 weights, per
    output channel scales) -> [BatchNormalization] -> Relu -> Quant (UINT3) -> MaxPool 2 ->
    Conv 3x3 -> Relu -> Quant -> Flatten -> MatMul -> output: an NCHW CNN for qonnx's
    channels-last conversion."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    n, i = quant_node("qin", "x", 4, 1 / 16, signed=0)
    nodes.append(n); inits += i
    cur, c, h = "qin_out", c_in, hw
    for li, (co, pool) in enumerate(((c1, True), (c2, False))):
        w = rng.integers(-7, 8, (co, c, 3, 3)).astype(np.float32) * 0.1
        inits.append(_init(f"cw{li}", w))
        sc = (rng.uniform(0.05, 0.15, (co, 1, 1, 1))).astype(np.float32)
        n, i = quant_node(f"qcw{li}", f"cw{li}", 4, sc)
        nodes.append(n); inits += i
        nodes.append(helper.make_node("Conv", [cur, n.output[0]], [f"conv{li}"], name=f"Conv_{li}",
                                      kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1],
                                      dilations=[1, 1], group=1))
        cur = f"conv{li}"
        if bn and li == 0:
            inits += [_init("bn_g", rng.uniform(0.5, 1.5, co)), _init("bn_b", rng.standard_normal(co)),
                      _init("bn_m", rng.standard_normal(co)), _init("bn_v", rng.uniform(0.5, 2, co))]
            nodes.append(helper.make_node("BatchNormalization", [cur, "bn_g", "bn_b", "bn_m", "bn_v"],
                                          ["bn0"], name="BatchNormalization_0"))
            cur = "bn0"
        nodes.append(helper.make_node("Relu", [cur], [f"relu{li}"], name=f"Relu_{li}"))
        n, i = quant_node(f"qa{li}", f"relu{li}", 3, 0.5, signed=0)
        nodes.append(n); inits += i
        cur = n.output[0]
        if pool:
            nodes.append(helper.make_node("MaxPool", [cur], [f"pool{li}"], name=f"MaxPool_{li}",
                                          kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0]))
            cur, h = f"pool{li}", h // 2
        c = co
    nodes.append(helper.make_node("Flatten", [cur], ["flat"], name="Flatten_0", axis=1))
    w = rng.integers(-7, 8, (c * h * h, classes)).astype(np.float32) * 0.125
    inits.append(_init("fw", w))
    n, i = quant_node("qfw", "fw", 4, 0.125)
    nodes.append(n); inits += i
    nodes.append(helper.make_node("MatMul", ["flat", n.output[0]], ["y"], name="MatMul_0"))
    return _save(nodes, inits, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c_in, hw, hw])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, classes])], path, "small_cnn")


def channels_last(src, dst, *, input_channels_last=True):
    """qonnx's ConvertToChannelsLastAndClean on ``src``: Conv, MaxPool and BatchNormalization
    become ops of the ``qonnx.custom_op.channels_last`` domain, with the input NHWC."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
    from qonnx.util.cleanup import cleanup_model

    m = cleanup_model(ModelWrapper(str(src)))
    m = m.transform(ConvertToChannelsLastAndClean(make_input_channels_last=input_channels_last))
    m.save(str(dst))
    return dst


def avgpool_tie(path, *, channels=2, hw=6, k=3, in_bits=4, s_in=1 / 16):
    """input -> Quant (UINT, scale s_in) -> AveragePool k x k -> Quant (scale 2 * s_in): the
    mean is j * s_in exactly when the window sum is 9 j, and an odd j lands exactly on a
    rounding tie (j / 2 = m + 0.5) of the output quantizer."""
    nodes, inits = [], []
    n, i = quant_node("qin", "x", in_bits, s_in, signed=0)
    nodes.append(n); inits += i
    nodes.append(helper.make_node("AveragePool", ["qin_out"], ["avg"], name="AveragePool_0",
                                  kernel_shape=[k, k], strides=[1, 1]))
    n, i = quant_node("qout", "avg", 8, 2 * s_in, signed=0)
    nodes.append(n); inits += i
    nodes[-1].output[0] = "y"
    o = hw - k + 1
    return _save(nodes, inits, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, hw, hw])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, channels, o, o])], path, "avgpool_tie")


def qdq_mlp(path, *, widths=(12, 16, 5), seed=0, scales=(2 ** -4, 2 ** -7, 2 ** -5),
            zero_points=(0, 0), relu=True):
    """An MLP in the QDQ form of ONNX Runtime's static quantization: QuantizeLinear ->
    DequantizeLinear on activations (int8 input, uint8 after the Relu), int8 weight
    initializers behind a lone DequantizeLinear. ``scales``: input, weights, hidden
    activation (powers of two: the reference's float32 MatMul is then exact);
    ``zero_points``: of the input (int8) and the hidden activations (uint8; non-zero:
    asymmetric, as ONNX Runtime and PyTorch write them); ``relu``: a Relu before each
    hidden quantizer (without it the asymmetric uint8 levels cover negative reals)."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []

    def q(name, t, scale, dtype):
        z = zero_points[0] if dtype == np.int8 else zero_points[1]
        zp = numpy_helper.from_array(np.full((), z, dtype), f"{name}_zp")
        inits.extend([_init(f"{name}_s", scale), zp])
        nodes.append(helper.make_node("QuantizeLinear", [t, f"{name}_s", f"{name}_zp"], [f"{name}_q"], name=f"{name}_Q"))
        nodes.append(helper.make_node("DequantizeLinear", [f"{name}_q", f"{name}_s", f"{name}_zp"], [f"{name}_dq"],
                                      name=f"{name}_DQ"))
        return f"{name}_dq"

    cur = q("in", "x", scales[0], np.int8)
    for li in range(len(widths) - 1):
        a, b = widths[li], widths[li + 1]
        w = rng.integers(-127, 128, (a, b)).astype(np.int8)
        inits += [numpy_helper.from_array(w, f"W{li}"), _init(f"W{li}_s", scales[1]),
                  numpy_helper.from_array(np.zeros((), np.int8), f"W{li}_zp")]
        nodes.append(helper.make_node("DequantizeLinear", [f"W{li}", f"W{li}_s", f"W{li}_zp"], [f"W{li}_dq"],
                                      name=f"W{li}_DQ"))
        nodes.append(helper.make_node("MatMul", [cur, f"W{li}_dq"], [f"mm{li}"], name=f"MatMul_{li}"))
        cur = f"mm{li}"
        if li < len(widths) - 2:
            if relu:
                nodes.append(helper.make_node("Relu", [cur], [f"relu{li}"], name=f"Relu_{li}"))
                cur = f"relu{li}"
            cur = q(f"a{li}", cur, scales[2], np.uint8)
    nodes[-1].output[0] = "y"
    return _save(nodes, inits, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, widths[0]])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, widths[-1]])], path, "qdq_mlp",
                 extra_opsets=())


def depthwise(path, *, channels: int = 4, size: int = 6, seed: int = 0):
    """input (1, C, H, W) -> Quant -> Conv(3x3, pad 1, group = C, Quant weights) -> Relu ->
    Quant -> output: one depthwise convolution (a VVAU in hardware)."""
    rng = np.random.default_rng(seed)
    c = channels
    nodes, inits = [], []
    n, i = quant_node("qin", "x", 4, 0.25, signed=0)
    nodes.append(n); inits += i
    inits.append(_init("w", rng.integers(-7, 8, size=(c, 1, 3, 3)).astype(np.float32) * 0.125))
    n, i = quant_node("qw", "w", 4, 0.125)
    nodes.append(n); inits += i
    nodes.append(helper.make_node("Conv", ["qin_out", "qw_out"], ["conv"], name="Conv_0", group=c,
                                  kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Relu", ["conv"], ["r0"], name="Relu_0"))
    n, i = quant_node("qa", "r0", 4, 0.5, signed=0)
    nodes.append(n); inits += i
    nodes[-1].output[0] = "y"
    shape = [1, c, size, size]
    graph = helper.make_graph(nodes, "depthwise", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(QDOMAIN, 1)])
    onnx.save(model, str(path))
    return path


def branching_mlp(path, *, join: str = "Add", s_in: float = 0.125, s_branch: float = 0.0625,
                  branch_quant: bool = True, seed: int = 0, f: int = 6):
    """A vector network with one fork and one join::

        x (1, f) -> Quant(UINT4, s_in) -> t
        t -> MatMul(W, INT4 weights) -> [Quant(INT5, s_branch)] -> a
        join(a, t) -> Relu -> Quant(UINT4, 0.25) -> y

    join: "Add" (residual, y (1, f)) or "Concat" (channels, y (1, 2f)). The two branches'
    scales are s_branch and s_in (Add aligns them in integers when their ratio is rational).
    """
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    n, i = quant_node("qin", "x", 4, s_in, signed=0)
    nodes.append(n); inits += i
    inits.append(_init("w", rng.integers(-7, 8, size=(f, f)).astype(np.float32) * 0.125))
    n, i = quant_node("qw", "w", 4, 0.125)
    nodes.append(n); inits += i
    nodes.append(helper.make_node("MatMul", ["qin_out", "qw_out"], ["mm"], name="MatMul_0"))
    a = "mm"
    if branch_quant:
        n, i = quant_node("qa", "mm", 5, s_branch)
        nodes.append(n); inits += i
        a = "qa_out"
    if join == "Add":
        nodes.append(helper.make_node("Add", [a, "qin_out"], ["sum"], name="Add_0"))
        f_out = f
    else:
        nodes.append(helper.make_node("Concat", [a, "qin_out"], ["sum"], name="Concat_0", axis=1))
        f_out = 2 * f
    nodes.append(helper.make_node("Relu", ["sum"], ["r"], name="Relu_0"))
    n, i = quant_node("qo", "r", 4, 0.25, signed=0)
    nodes.append(n); inits += i
    nodes[-1].output[0] = "y"
    graph = helper.make_graph(nodes, "branching", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, f])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, f_out])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(QDOMAIN, 1)])
    onnx.save(model, str(path))
    return path
