"""LabelSelect: the indices of the top-k values of a vector (ONNX TopK / ArgMax at the end
of a classifier; FINN's LabelSelect), and its Verilog ``qloom_labelselect``: cycles,
latency, instance parameters and resource model."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.cost.parts import Parts
from qloom.cost.replay import clog2
from qloom.instance import RtlInstance
from qloom.ops.base import HWOp
from qloom.stream import serve


# How far Verilator may be from the formulas for a run of frames (relative, cycles):
# the latency figure is up to 3 cycles pessimistic
CYCLE_TOLERANCE = {"qloom_labelselect": (0.0, 3)}


def cycles_qloom_labelselect(p) -> int:
    """qloom_labelselect: one element per cycle; the K outputs overlap the next vector:
    max(NUM_LABELS, K + 1) cycles per vector."""
    return max(p["NUM_LABELS"], p["K"] + 1)


def latency_qloom_labelselect(p) -> int:
    return p["K"] + 3


def parts_qloom_labelselect(NUM_LABELS=10, PE=1, IN_BITS=8, IN_SIGNED=1, K=1, IDX_BITS=None,
                            family="xc7", files=None) -> Parts:
    """qloom_labelselect: a sorted list of K (value, index) pairs updated by K parallel
    comparisons per element, an output shift register of K indices."""
    P = Parts("qloom_labelselect")
    if IDX_BITS is None:
        IDX_BITS = clog2(NUM_LABELS) if NUM_LABELS > 1 else 1
    vw = IN_BITS + 1
    lw = clog2(PE)
    kw = clog2(K)
    P.ff += PE * IN_BITS + 1 + lw + IDX_BITS + 1 + K * (vw + IDX_BITS + 1) + K * IDX_BITS + kw
    P.feat("const", 1)
    P.feat("hold", PE * IN_BITS if PE > 1 else 0)
    P.feat("list", K * (vw + IDX_BITS))
    return P


@dataclass(frozen=True, eq=False)
class LabelSelect(HWOp):
    """``(C,)`` integers -> ``(k,)`` indices of the k largest, largest first; equal values
    keep the lower index first (ONNX TopK and ArgMax tie rule)."""

    op_type: ClassVar[str] = "LabelSelect"
    models: ClassVar[dict] = {}

    k: int = 1

    def execute(self, x: np.ndarray) -> np.ndarray:
        order = np.argsort(-x.astype(np.int64), axis=-1, kind="stable")
        return order[..., : self.k].astype(np.int64)

    @property
    def fold_channels(self) -> int:
        return int(self.in_shape[-1])

    def out_elems(self, fold: dict) -> int:
        return 1

    def _vparams(self) -> dict:
        return {"NUM_LABELS": int(self.in_shape[-1]), "K": self.k}

    def cycles(self, fold: dict) -> int:
        """One element per cycle whatever the beat width (:func:`cycles_qloom_labelselect`)."""
        return cycles_qloom_labelselect(self._vparams())

    def out_times(self, fold: dict, a_in: np.ndarray) -> np.ndarray:
        p = self._vparams()
        return serve(a_in, cycles_qloom_labelselect(p)) + latency_qloom_labelselect(p)

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_labelselect``: insertion into a sorted list of the best k."""
        it = self.in_type
        p = dict(NUM_LABELS=int(self.in_shape[-1]), PE=int(fold.get("PE", 1)), IN_BITS=it.bits,
                 IN_SIGNED=int(it.signed and not it.bipolar), K=self.k, IDX_BITS=self.out_type.bits)
        return RtlInstance("qloom_labelselect", p, it.bits, self.out_type.bits, False)

    def describe(self) -> str:
        return f"labels={self.in_shape[-1]} k={self.k}"

    def mo_lowering(self) -> dict:
        """The engine's LabelSelect unit (HWOp.mo_lowering): the k largest of the stored vector."""
        return {"opcode": "LABELSELECT", "k": int(self.k)}


LabelSelect.models = {"qloom_labelselect": parts_qloom_labelselect}
