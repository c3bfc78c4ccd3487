"""LabelSelect: the indices of the top-k values of a vector (ONNX TopK / ArgMax at the end
of a classifier; FINN's LabelSelect)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.ops.base import HWOp


@dataclass(frozen=True, eq=False)
class LabelSelect(HWOp):
    """``(C,)`` integers -> ``(k,)`` indices of the k largest, largest first; equal values
    keep the lower index first (ONNX TopK and ArgMax tie rule)."""

    op_type: ClassVar[str] = "LabelSelect"

    k: int = 1

    def execute(self, x: np.ndarray) -> np.ndarray:
        order = np.argsort(-x.astype(np.int64), axis=-1, kind="stable")
        return order[..., : self.k].astype(np.int64)

    @property
    def fold_channels(self) -> int:
        return int(self.in_shape[-1])

    def out_elems(self, fold: dict) -> int:
        return 1

    def describe(self) -> str:
        return f"labels={self.in_shape[-1]} k={self.k}"
