"""Models that ship inside the package (trained by scripts/, exported as QONNX)."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

DEFAULT_MODEL = "digits_w4a4"


def model_path(name: str = DEFAULT_MODEL) -> Path:
    """Path of an embedded QONNX model (``<name>.onnx`` in this package)."""
    return Path(str(resources.files(__package__) / f"{name}.onnx"))
