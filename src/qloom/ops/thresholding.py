"""Thresholding: standalone per-channel multi-threshold activation (FINN's Thresholding).

Used where a quantizer follows an integer tensor that no MVAU/VVAU produced directly
(for example after a SumPool, whose division by the window size moved into thresholds).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.ops.base import HWOp, apply_thresholds


@dataclass(frozen=True, eq=False)
class Thresholding(HWOp):
    """``out[..., c] = #{k : x[..., c] >= thresholds[c, k]} + out_bias``.

    thresholds : int64 (C, T), ascending per channel; shapes ``(..., C)`` in and out.
    """

    op_type: ClassVar[str] = "Thresholding"

    thresholds: np.ndarray = None
    out_bias: int = 0

    def execute(self, x: np.ndarray) -> np.ndarray:
        return apply_thresholds(x, self.thresholds, self.out_bias, self.out_type)

    @property
    def threshold_count(self) -> int:
        return int(self.thresholds.size)

    def describe(self) -> str:
        return f"C={self.in_shape[-1]} T={self.thresholds.shape[1]}"
