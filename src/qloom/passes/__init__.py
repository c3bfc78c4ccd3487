"""Passes: QONNX graph -> integer hardware graph (streamlining and lowering)."""
from qloom.passes.lower import Lowering, lower_model

__all__ = ["Lowering", "lower_model"]
