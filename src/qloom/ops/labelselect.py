"""LabelSelect: the indices of the top-k values of a vector (ONNX TopK / ArgMax at the end
of a classifier; FINN's LabelSelect)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.ops.base import HWOp, RtlInstance


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

    def cycles(self, fold: dict) -> int:
        """One element per cycle whatever the beat width: NUM_LABELS cycles per vector."""
        return int(self.in_shape[-1])

    def out_times(self, fold: dict, a_in: np.ndarray) -> np.ndarray:
        from qloom.dse.latency import serve
        from qloom.rtl.cycles import latency_labelselect

        return serve(a_in, self.cycles(fold)) + latency_labelselect(K=self.k)

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_labelselect``: insertion into a sorted list of the best k."""
        it = self.in_type
        p = dict(NUM_LABELS=int(self.in_shape[-1]), PE=int(fold.get("PE", 1)), IN_BITS=it.bits,
                 IN_SIGNED=int(it.signed and not it.bipolar), K=self.k, IDX_BITS=self.out_type.bits)
        return RtlInstance("qloom_labelselect", p, it.bits, self.out_type.bits, False)

    def describe(self) -> str:
        return f"labels={self.in_shape[-1]} k={self.k}"
