import numpy as np
import pytest

from qloom.types import BIPOLAR, IntType


@pytest.mark.parametrize("bits", range(1, 17))
@pytest.mark.parametrize("signed", [False, True])
def test_ranges(bits, signed):
    t = IntType(bits, signed)
    if signed:
        assert (t.min, t.max) == (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    else:
        assert (t.min, t.max) == (0, 2**bits - 1)
    assert IntType.for_range(t.min, t.max) == (t if bits > 1 or not signed else IntType(1, True))


def test_for_range_is_narrowest():
    for lo in range(-70, 71, 7):
        for hi in range(lo, 140, 11):
            t = IntType.for_range(lo, hi)
            assert t.min <= lo and t.max >= hi
            if t.bits > 1:
                smaller = IntType(t.bits - 1, t.signed)
                assert smaller.min > lo or smaller.max < hi


def test_bipolar():
    assert (BIPOLAR.min, BIPOLAR.max, BIPOLAR.name) == (-1, 1, "BIPOLAR")
    assert BIPOLAR.contains(np.array([-1, 1])) and not BIPOLAR.contains(np.array([0]))
    with pytest.raises(ValueError):
        IntType(0, False)
