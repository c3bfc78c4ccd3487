"""The QONNX reference: qonnx's ``execute_onnx`` on the original model (never qloom's code)."""
from __future__ import annotations

import warnings

import numpy as np


def reference_outputs(path, x: np.ndarray) -> np.ndarray:
    """Run the QONNX model at ``path`` on float input ``x`` (N, ...) with qonnx
    ``execute_onnx``, one frame at a time (exported models have batch size 1)."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cleanup_model(ModelWrapper(str(path)))
        iname, oname = model.graph.input[0].name, model.graph.output[0].name
        outs = [execute_onnx(model, {iname: x[i : i + 1]})[oname] for i in range(len(x))]
    return np.concatenate(outs, axis=0)
