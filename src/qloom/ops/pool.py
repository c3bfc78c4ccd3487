"""Pooling: StreamingMaxPool and SumPool (average pooling without its division).

The division of an average pool by the window size K*K is a scale; streamlining moves it
into the thresholds (or the output de-scaling) behind the SumPool, so hardware only adds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.ops.base import HWOp


def _windows(x, kernel, stride, pads, pad_value, out_hw):
    t, l, b, r = pads
    if any(pads):
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=pad_value)
    win = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(1, 2))
    oh, ow = out_hw
    return win[:, : (oh - 1) * stride[0] + 1 : stride[0], : (ow - 1) * stride[1] + 1 : stride[1]]


@dataclass(frozen=True, eq=False)
class StreamingMaxPool(HWOp):
    """Max over KH x KW windows per channel. ``(H, W, C)`` -> ``(OH, OW, C)``.

    Padding (ONNX pads, or ceil mode turned into extra bottom/right padding) uses the
    input type's minimum, which never wins a max.
    """

    op_type: ClassVar[str] = "StreamingMaxPool"

    kernel: tuple[int, int] = (2, 2)
    stride: tuple[int, int] = (2, 2)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)

    def execute(self, x: np.ndarray) -> np.ndarray:
        win = _windows(x, self.kernel, self.stride, self.pads, self.in_type.min, self.out_shape[:2])
        return win.max(axis=(-2, -1))

    def describe(self) -> str:
        return f"k={self.kernel[0]}x{self.kernel[1]} s={self.stride[0]}x{self.stride[1]}"


@dataclass(frozen=True, eq=False)
class SumPool(HWOp):
    """Sum over KH x KW windows per channel (zero padding). ``(H, W, C)`` -> ``(OH, OW, C)``."""

    op_type: ClassVar[str] = "SumPool"

    kernel: tuple[int, int] = (2, 2)
    stride: tuple[int, int] = (2, 2)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)

    def execute(self, x: np.ndarray) -> np.ndarray:
        win = _windows(x, self.kernel, self.stride, self.pads, 0, self.out_shape[:2])
        return win.sum(axis=(-2, -1), dtype=np.int64)

    @property
    def macs(self) -> int:
        return int(np.prod(self.out_shape, dtype=np.int64)) * self.kernel[0] * self.kernel[1]

    def describe(self) -> str:
        return f"k={self.kernel[0]}x{self.kernel[1]} s={self.stride[0]}x{self.stride[1]}"
