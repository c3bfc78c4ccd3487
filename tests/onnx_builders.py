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
