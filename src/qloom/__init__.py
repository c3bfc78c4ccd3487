"""qloom: quantized neural networks (QONNX) to verified FPGA dataflow accelerators.

Public API::

    graph = qloom.compile_model("model.onnx")   # QONNX -> integer hardware graph
    y = qloom.emulate(graph, x)                 # bit-exact numpy emulation
"""
from __future__ import annotations

__version__ = "0.1.0"

from qloom.errors import QloomError  # noqa: E402


def compile_model(path, input_type=None):
    """Load a QONNX file and lower it to a :class:`qloom.ir.HWGraph` (see qloom.passes);
    ``input_type`` types a float model input like ``--input-type`` (e.g. "fixed<16,6>")."""
    from qloom.passes import lower_model

    return lower_model(path, input_type=input_type)


# Load the submodule now: its first import binds ``qloom.emulate`` to the module, which
# would shadow the function below if it happened later (e.g. inside the function itself).
import qloom.emulate as _emulate_module  # noqa: E402,F401


def emulate(graph, x):
    """Run a hardware graph on float input ``x`` (batch first); see qloom.emulate."""
    from qloom.emulate import emulate as _emulate

    return _emulate(graph, x)


__all__ = ["QloomError", "compile_model", "emulate", "__version__"]
