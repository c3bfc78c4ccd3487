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


@dataclass(frozen=True)
class FixedType:
    """A fixed-point type of the model input: integers of ``int_type`` times ``2**-frac_bits``.

    hls4ml's ``ap_fixed<W, I>`` / ``ap_ufixed<W, I>`` and qonnx's ``FIXED<W, I>`` are
    ``FixedType(IntType(W, signed), W - I)`` (I integer bits including the sign; step
    ``2**(I - W)``); qonnx's INTn/UINTn/BINARY have step 1, BIPOLAR is {-1, +1}.

    Conversion from float (:meth:`quantize`) follows hls4ml's default modes (Xilinx
    ap_fixed, UG1399 "Arbitrary Precision Data Types"): AP_TRN (round towards minus infinity,
    ``floor``) and AP_WRAP (the integer wraps around modulo ``2**W``, as two's complement
    hardware does). BIPOLAR maps ``x >= 0`` to +1, else -1 (qonnx's BipolarQuant rule).
    """

    name: str
    int_type: IntType
    frac_bits: int = 0

    @property
    def step(self) -> float:
        """The value of one integer step (a power of two)."""
        return 2.0 ** -self.frac_bits

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """float array -> int64 integers of ``int_type`` (AP_TRN, AP_WRAP; see class)."""
        x = np.asarray(x, dtype=np.float64)
        t = self.int_type
        if t.bipolar:
            return np.where(x >= 0, 1, -1).astype(np.int64)
        q = np.floor(np.ldexp(x, self.frac_bits))  # exact: a power-of-two scaling
        m = float(1 << t.bits)
        q = np.mod(q, m)
        if t.signed:
            q = np.where(q >= m / 2, q - m, q)
        return q.astype(np.int64)

    def __str__(self) -> str:
        return self.name
