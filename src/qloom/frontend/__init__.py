"""The front end: the only code that reads ONNX/QONNX (through the ``qonnx`` library)."""
from qloom.frontend.load import load_qonnx

__all__ = ["load_qonnx"]
