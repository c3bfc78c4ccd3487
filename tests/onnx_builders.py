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
        seed: int = 0, features=(6, 5, 4)):
    """input (1, F0) -> Quant -> MatMul(W1) -> Relu -> [Quant] -> MatMul(W2) -> [tail] -> output.

    tail: an extra ONNX op type appended at the end (e.g. "Softmax" to make it unsupported).
    """
    rng = np.random.default_rng(seed)
    f0, f1, f2 = features
    nodes, inits = [], []
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
            wname = f"qw{li}_out"
        nodes.append(helper.make_node("MatMul", [cur, wname], [f"mm{li}"], name=f"MatMul_{li}"))
        cur = f"mm{li}"
        if li == 0:
            nodes.append(helper.make_node("Relu", [cur], ["r0"], name="Relu_0"))
            cur = "r0"
            if quant_between:
                n, i = quant_node("qa", cur, 4, 0.5, signed=0)
                nodes.append(n); inits += i
                cur = "qa_out"
    if tail:
        nodes.append(helper.make_node(tail, [cur], ["t"], name=f"{tail}_0"))
        cur = "t"
    nodes[-1].output[0] = "y"
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, f0])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, f2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(QDOMAIN, 1)])
    onnx.save(model, str(path))
    return path


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
