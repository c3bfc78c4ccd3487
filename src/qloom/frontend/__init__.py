"""The front end: the only code that reads ONNX/QONNX (through the ``qonnx`` library)."""
from qloom.frontend.input_type import annotated_input_type, parse_input_type
from qloom.frontend.load import load_qonnx

__all__ = ["annotated_input_type", "load_qonnx", "parse_input_type"]
