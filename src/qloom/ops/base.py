"""The operator base class and the threshold semantics shared by MVAU, VVAU, Thresholding."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, ClassVar

import math

import numpy as np

from qloom.types import IntType


@dataclass(frozen=True)
class RtlInstance:
    """How one operator is instantiated in the generated Verilog top.

    module : Verilog module name in ``qloom/rtl/verilog``; params : its parameters;
    in_bits/out_bits : stream element widths (bits); out_signed : how the output
    elements are read; make_files : builds the memory-initialisation files
    {file name: $readmemh text} (lazily: the design-space search never needs them).
    """

    module: str
    params: dict
    in_bits: int
    out_bits: int
    out_signed: bool
    make_files: Callable[[], dict] | None = field(default=None, compare=False)
    file_names: tuple = ()

    @property
    def files(self) -> dict:
        return self.make_files() if self.make_files else {}


@dataclass(frozen=True, eq=False)
class HWOp:
    """A streaming hardware operator of the dataflow chain.

    Attributes
    ----------
    name : str
        Layer name, unique in the graph (used in folding.json, reports, RTL instances).
    in_shape, out_shape : tuple of int
        Per-frame tensor shapes in stream order (NHWC images ``(H, W, C)``, vectors ``(C,)``).
    in_type, out_type : IntType
        Element types of the input and output streams.
    """

    op_type: ClassVar[str] = "HWOp"

    name: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    in_type: IntType
    out_type: IntType

    def execute(self, x: np.ndarray) -> np.ndarray:
        """Numpy semantics: x integer array (N, *in_shape) -> integer array (N, *out_shape)
        (values exact; dtype any integer dtype wide enough, see ``storage_dtype``)."""
        raise NotImplementedError

    @property
    def macs(self) -> int:
        """Multiply-accumulates per frame."""
        return 0

    @property
    def weight_count(self) -> int:
        """Number of weights stored on chip."""
        return 0

    @property
    def threshold_count(self) -> int:
        return 0

    def describe(self) -> str:
        """Short parameter summary for tables."""
        return ""

    # ---- folding (FINN-R Sec. 4.2): the knobs this operator offers, and their effect
    def knobs(self) -> dict[str, list[int]]:
        """Legal values of each folding knob (e.g. ``{"PE": divisors of MH}``)."""
        return {"PE": divisors(self.fold_channels)}

    def legal(self, fold: dict) -> bool:
        """Whether a combination of knob values is realizable (each value being legal alone)."""
        return True

    @property
    def fold_channels(self) -> int:
        """The channel count the PE knob divides (innermost stream dimension)."""
        return int(self.out_shape[-1])

    def in_elems(self, fold: dict) -> int:
        """Elements per input stream beat under ``fold``."""
        return int(fold.get("PE", 1))

    def out_elems(self, fold: dict) -> int:
        """Elements per output stream beat under ``fold``."""
        return int(fold.get("PE", 1))

    def cycles(self, fold: dict) -> int:
        """Clock cycles per frame at steady state (the operator's II), no stalls."""
        return int(np.prod(self.in_shape, dtype=np.int64)) // self.in_elems(fold)

    def rtl(self, fold: dict) -> RtlInstance:
        """The Verilog instance of this operator under ``fold`` (see qloom.rtl.generate)."""
        from qloom.errors import QloomError

        raise QloomError(f"layer {self.name}: no RTL implementation of {self.op_type} yet")

    def cycles_fed(self, fold: dict, in_rate: float) -> int:
        """Cycles per frame when the input arrives at most ``in_rate`` elements per cycle:
        an operator cannot finish a frame before its input has arrived."""
        n_in = int(np.prod(self.in_shape, dtype=np.int64))
        return max(self.cycles(fold), math.ceil(n_in / in_rate))

    def out_times(self, fold: dict, a_in: np.ndarray) -> np.ndarray:
        """Latency model (qloom.dse.latency): the cycle each output granule (pixel, or the
        vector) of frame 0 leaves, given the cycles ``a_in`` its input granules arrived.
        Default: the whole frame, ``cycles`` after the last input."""
        return np.full(self.out_granules, a_in[-1] + self.cycles(fold), dtype=np.float64)

    @property
    def out_granules(self) -> int:
        """Output pixels of an image stream, 1 for a vector."""
        shp = self.out_shape
        return int(shp[0]) * int(shp[1]) if len(shp) == 3 else 1

    def resources(self, fold: dict, family: str = "xc7") -> dict:
        """{LUT, FF, BRAM18, URAM, DSP} of this operator's RTL under ``fold`` (FINN-R Sec. 5
        resource models, fitted to Yosys; see qloom.rtl.resources). Builds no memory files."""
        from qloom.errors import QloomError
        from qloom.rtl.resources import estimate

        try:
            return estimate(self.rtl(fold), family)
        except (QloomError, KeyError):  # no RTL or no resource model for it: the lanes proxy
            lanes = self.parallelism(fold)
            return {"LUT": 10 * lanes, "FF": 10 * lanes, "BRAM18": 0, "URAM": 0, "DSP": 0}

    def parallelism(self, fold: dict) -> int:
        """Datapath lanes (PE * SIMD): the resource proxy of the default folding."""
        return int(fold.get("PE", 1)) * int(fold.get("SIMD", 1))


def divisors(n: int) -> list[int]:
    """Divisors of n, ascending (the legal PE/SIMD values: FINN-R folding constraint)."""
    n = int(n)
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def apply_thresholds(acc: np.ndarray, thresholds: np.ndarray, out_bias: int,
                     out_type: IntType) -> np.ndarray:
    """MultiThreshold semantics (FINN): ``out = #{k : acc >= T[c, k]} + out_bias``.

    Parameters
    ----------
    acc : int64 array (..., C)
        Accumulators, channel last.
    thresholds : int array (C, T)
        Per-channel thresholds, ascending along T.
    out_bias : int
        Added to the count (the lowest output level, e.g. -8 for INT4).
    out_type : IntType
        For the bipolar type the count (0 or 1) maps to -1 / +1 instead.

    Returns
    -------
    int64 array (..., C)
    """
    acc = np.asarray(acc)
    C, T = thresholds.shape
    if T <= 8:  # a few comparisons beat a search
        count = np.zeros(acc.shape, dtype=np.int16)
        for k in range(T):
            count += acc >= thresholds[:, k]
        count = count.astype(np.int64)
    else:
        # one searchsorted over all channels: shift channel c by c * span
        acc = acc.astype(np.int64)
        lo = min(int(thresholds.min()), int(acc.min(initial=0)))
        hi = max(int(thresholds.max()), int(acc.max(initial=0)))
        span = hi - lo + 2
        offs = np.arange(C, dtype=np.int64) * span
        flat_t = ((thresholds.astype(np.int64) - lo) + offs[:, None]).ravel()
        keys = (acc - lo) + offs
        count = np.searchsorted(flat_t, keys, side="right") - np.arange(C, dtype=np.int64) * T
    if out_type.bipolar:
        return (2 * count - 1).astype(storage_dtype(out_type))
    return (count + int(out_bias)).astype(storage_dtype(out_type))


def storage_dtype(t: IntType) -> np.dtype:
    """The narrowest numpy integer dtype that holds every value of ``t`` (emulator streams)."""
    for dt in (np.int8, np.int16, np.int32):
        info = np.iinfo(dt)
        if t.min >= info.min and t.max <= info.max:
            return np.dtype(dt)
    return np.dtype(np.int64)
