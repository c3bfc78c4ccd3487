"""The integer type of the model input: ``--input-type`` and the graph's
``quantization_annotation``.

Spellings (case-insensitive):

* qonnx DataType names (parsed by ``qonnx.core.datatype.DataType``): ``BIPOLAR``,
  ``BINARY``, ``INTn``, ``UINTn``, ``FIXED<W,I>``; and ``UFIXED<W,I>`` (its unsigned
  counterpart, which qonnx does not define);
* hls4ml's notation ``fixed<W,I>`` / ``ufixed<W,I>`` (also with an ``ap_`` prefix):
  W bits, I integer bits including the sign, step ``2**(I-W)``; an explicit rounding and
  saturation mode may follow only if it is hls4ml's default (``AP_TRN``, ``AP_WRAP``),
  which is what the host quantizer does (:meth:`qloom.types.FixedType.quantize`).
"""
from __future__ import annotations

import math
import re

from qloom.errors import QloomError
from qloom.types import BIPOLAR, FixedType, IntType

MAX_BITS = 32
EXPECTED = ("a qonnx DataType name (BIPOLAR, BINARY, INTn, UINTn, FIXED<W,I>, UFIXED<W,I>) or "
            "hls4ml's fixed<W,I> / ufixed<W,I>")
_FIXED = re.compile(r"^(?:AP_)?(U?)FIXED<\s*(\d+)\s*,\s*(-?\d+)\s*((?:,\s*\w+\s*)*)>$")


def _fixed(text: str, unsigned: bool, w: int, i: int) -> FixedType:
    if not 1 <= w <= MAX_BITS:
        raise QloomError(f"input type {text!r}: width {w} bits; expected 1 to {MAX_BITS}")
    return FixedType(f"{'u' if unsigned else ''}fixed<{w},{i}>", IntType(w, not unsigned), w - i)


def parse_input_type(text: str) -> FixedType:
    """``--input-type`` text -> :class:`FixedType`.

    Raises
    ------
    QloomError
        Not one of the spellings above, a width outside 1-32 bits, or a rounding or
        saturation mode other than AP_TRN / AP_WRAP.
    """
    t = str(text).strip().upper().replace(" ", "")
    m = _FIXED.match(t)
    if m:
        modes = [x for x in m.group(4).split(",") if x]
        if modes not in ([], ["AP_TRN"], ["AP_TRN", "AP_WRAP"]) and modes[:2] != ["AP_TRN", "AP_WRAP"]:
            raise QloomError(f"input type {text!r}: the host quantizer rounds with AP_TRN and "
                             f"wraps with AP_WRAP (hls4ml's defaults); got {', '.join(modes)}")
        return _fixed(text, bool(m.group(1)), int(m.group(2)), int(m.group(3)))
    if t == "BIPOLAR":
        return FixedType("BIPOLAR", BIPOLAR)
    try:
        from qonnx.core.datatype import DataType

        dt = DataType[t]
    except Exception:
        raise QloomError(f"input type {text!r}: expected {EXPECTED}") from None
    return from_datatype(dt, text)


def from_datatype(dt, text: str | None = None) -> FixedType:
    """A qonnx ``DataType`` (integer or fixed point) -> :class:`FixedType`."""
    name = dt.get_canonical_name()
    text = text or name
    if name == "BIPOLAR":
        return FixedType("BIPOLAR", BIPOLAR)
    if dt.is_fixed_point():
        w = dt.bitwidth()
        return _fixed(text, False, w, w - round(-math.log2(dt.scale_factor())))
    if dt.is_integer() and name != "TERNARY":
        w = dt.bitwidth()
        if not 1 <= w <= MAX_BITS:
            raise QloomError(f"input type {text!r}: width {w} bits; expected 1 to {MAX_BITS}")
        return FixedType(name, IntType(w, bool(dt.signed())))
    raise QloomError(f"input type {text!r}: expected {EXPECTED}")


def annotated_input_type(model) -> FixedType | None:
    """The type in the graph input's ``quantization_annotation`` (``finn_datatype``), or
    None when it is absent or a float type."""
    name = model.graph.input[0].name
    dt = model.get_tensor_datatype(name)
    if dt is None or not (dt.is_integer() or dt.is_fixed_point()):
        return None
    try:
        return from_datatype(dt)
    except QloomError as e:
        raise QloomError(f"input {name}: its quantization annotation says {dt.get_canonical_name()}, "
                         f"which qloom cannot stream ({e})") from None
