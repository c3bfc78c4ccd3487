"""qloom: quantized neural networks (QONNX) to verified FPGA dataflow accelerators.

Public API (:mod:`qloom.api`; the ``qloom`` command line runs on it)::

    graph = qloom.compile_model("model.onnx")      # QONNX -> integer hardware graph
    y = qloom.emulate(graph, x)                    # bit-exact numpy emulation
    b = qloom.build("model.onnx", "out", target_fps=10_000)   # -> qloom.Build
    y_rtl = b.rtlsim(x)                            # Verilator, == emulate
    b.synth()                                      # Yosys, per layer
"""
from __future__ import annotations

__version__ = "0.1.0"

from qloom.errors import QloomError  # noqa: E402

# Load the submodule first: its import binds ``qloom.emulate`` to the module, which the
# function imported below then replaces (a later import of the submodule keeps the function).
import qloom.emulate as _emulate_module  # noqa: E402,F401
from qloom.api import (Build, BuildOptions, RtlsimResult, RunResult, boards,  # noqa: E402
                       build, compile_model, deploy, emulate, info, load_build, rtlsim, run, synth)

__all__ = ["QloomError", "Build", "BuildOptions", "RtlsimResult", "RunResult", "boards", "build",
           "compile_model", "deploy", "emulate", "info", "load_build", "rtlsim", "run", "synth",
           "__version__"]
