"""Thresholding: standalone per-channel multi-threshold activation (FINN's Thresholding).

Used where a quantizer follows an integer tensor that no MVAU/VVAU produced directly
(for example after a SumPool, whose division by the window size moved into thresholds).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.ops.base import HWOp, RtlInstance, apply_thresholds
from qloom.types import IntType


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

    def out_times(self, fold: dict, a_in: np.ndarray) -> np.ndarray:
        """C/PE beats per pixel, then the compare/count pipeline (latency_thresholding)."""
        from qloom.dse.latency import serve
        from qloom.rtl.cycles import latency_thresholding

        return serve(a_in, self.in_shape[-1] / int(fold.get("PE", 1))) + latency_thresholding()

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_thresholding``: per-channel thresholds in a ROM, PE lanes per beat."""
        from qloom.rtl.memfiles import memh_text, threshold_words

        pe = int(fold.get("PE", 1))
        thr, it, ot = self.thresholds, self.in_type, self.out_type
        # signed threshold words: the range always includes -1
        t_bits = max(2, IntType.for_range(min(it.min, int(thr.min()), -1), max(it.max, int(thr.max()))).bits)
        fname = f"{self.name}_thresholds.mem"
        nt = int(thr.shape[1])
        p = dict(CHANNELS=int(thr.shape[0]), PE=pe, IN_BITS=it.bits,
                 IN_SIGNED=int(it.signed and not it.bipolar), T_BITS=t_bits, NUM_THRESH=nt,
                 OUT_BITS=ot.bits, OUT_SIGNED=int(ot.signed and not ot.bipolar),
                 OUT_BIAS=0 if ot.bipolar else int(self.out_bias), THRESH_FILE=fname,
                 RAM_STYLE=fold.get("ram_style", "auto"))
        return RtlInstance("qloom_thresholding", p, it.bits, ot.bits, ot.signed and not ot.bipolar,
                           lambda: {fname: memh_text(threshold_words(thr, pe, t_bits), pe * nt * t_bits)},
                           (fname,))

    def describe(self) -> str:
        return f"C={self.in_shape[-1]} T={self.thresholds.shape[1]}"
