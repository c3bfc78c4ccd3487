"""Integer types of the hardware graph: a first-class, immutable value.

An :class:`IntType` is a bit width and a signedness, or the bipolar type {-1, +1}.
How it is spelled in Verilog or HLS belongs to the code generators, not here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, order=True)
class IntType:
    """An integer type of ``bits`` bits.

    Attributes
    ----------
    bits : int
        Storage width in bits (>= 1).
    signed : bool
        Two's complement when True.
    bipolar : bool
        Values {-1, +1}, stored in 1 bit (1 -> +1, 0 -> -1); ``bits`` is 1 and ``signed`` True.
    """

    bits: int
    signed: bool
    bipolar: bool = False

    def __post_init__(self):
        if self.bits < 1:
            raise ValueError(f"IntType needs at least 1 bit, not {self.bits}")
        if self.bipolar and (self.bits != 1 or not self.signed):
            raise ValueError("the bipolar type is 1 bit and signed")

    @property
    def min(self) -> int:
        if self.bipolar:
            return -1
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        if self.bipolar:
            return 1
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def name(self) -> str:
        if self.bipolar:
            return "BIPOLAR"
        return f"{'INT' if self.signed else 'UINT'}{self.bits}"

    def __str__(self) -> str:
        return self.name

    def contains(self, values: np.ndarray) -> bool:
        """True when every value of ``values`` is representable in this type."""
        v = np.asarray(values)
        if v.size == 0:
            return True
        if self.bipolar:
            return bool(np.all((v == -1) | (v == 1)))
        return bool(v.min() >= self.min and v.max() <= self.max)

    @staticmethod
    def for_range(lo: int, hi: int) -> "IntType":
        """The narrowest integer type that holds every integer in [lo, hi]."""
        lo, hi = int(lo), int(hi)
        if lo >= 0:
            return IntType(max(1, hi.bit_length()), False)
        bits = max((-lo - 1).bit_length(), hi.bit_length()) + 1
        return IntType(bits, True)


BIPOLAR = IntType(1, True, bipolar=True)


def int_type(bits: int, signed: bool) -> IntType:
    return IntType(int(bits), bool(signed))


def storage_dtype(t: IntType) -> np.dtype:
    """The narrowest numpy integer dtype that holds every value of ``t`` (emulator streams)."""
    for dt in (np.int8, np.int16, np.int32):
        info = np.iinfo(dt)
        if t.min >= info.min and t.max <= info.max:
            return np.dtype(dt)
    return np.dtype(np.int64)
