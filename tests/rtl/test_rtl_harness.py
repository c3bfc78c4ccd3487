"""Unit tests (no simulator) of the beat packing and memory-file helpers."""
import numpy as np
import pytest

from qloom.instance import memh_text
from qloom.ops.base import threshold_words
from qloom.ops.mvau import mvau_weight_words, xnor_popcount_thresholds
from qloom.sim.verilator import _parse_output, _set_code, pack_beats, to_hex, unpack_beats


@pytest.mark.unit
@pytest.mark.parametrize("bits,n,signed", [(1, 7, False), (3, 5, True), (8, 16, True), (13, 11, False), (33, 3, True)])
def test_pack_roundtrip(bits, n, signed):
    rng = np.random.default_rng(bits)
    lo, hi = (-(1 << (bits - 1)), 1 << (bits - 1)) if signed else (0, 1 << bits)
    vals = rng.integers(lo, hi, size=n * 6)
    beats = pack_beats(vals, bits, n, signed)
    assert all(0 <= b < (1 << (bits * n)) for b in beats)
    np.testing.assert_array_equal(unpack_beats(beats, bits, n, signed), vals)


@pytest.mark.unit
def test_pack_layout_and_range():
    # element 0 in the least significant bits, two's complement
    assert pack_beats([1, -1, 2], 4, 3, True) == [0x2F1]
    with pytest.raises(ValueError):
        pack_beats([8], 4, 1, True)
    with pytest.raises(ValueError):
        pack_beats([-1], 4, 1, False)
    assert to_hex(5, 70) == "0" * 17 + "5"


@pytest.mark.unit
def test_wide_port_code():
    assert "t->s_axis_tdata[2]" not in _set_code(64, "in")
    code = _set_code(70, "in")
    assert "for (int i = 0; i < 3; i++)" in code and "0x3fu" in code
    res = _parse_output("i 0\no 1f 3\nx 2 9\nend 4 ok 1 40\n")
    assert res.outputs == [0x1F] and res.out_cycles == [3] and res.extra_outputs == [2] and res.cycles == 4


@pytest.mark.unit
def test_xnor_threshold_conversion_bruteforce():
    MW = 7
    for t in range(-MW - 2, MW + 3):
        tp = int(xnor_popcount_thresholds(np.array([t]), MW)[0])
        for pop in range(MW + 1):
            assert (2 * pop - MW >= t) == (pop >= tp)


@pytest.mark.unit
def test_weight_and_threshold_words():
    W = np.array([[1, -2, 3, -4], [5, 6, -7, 0]])
    words = mvau_weight_words(W, PE=2, SIMD=2, W_BITS=4)
    # word nf*SF + sf, weight (p, s) at [(p*SIMD + s)*4 +: 4]
    assert words == [0x65E1, 0x09C3]
    bip = mvau_weight_words(np.array([[1, -1], [-1, 1]]), PE=1, SIMD=2, W_BITS=1, bipolar=True)
    assert bip == [0b01, 0b10]
    T = np.array([[-1, 2], [0, 3]])
    assert threshold_words(T, PE=2, T_BITS=4) == [0x302F]
    assert memh_text([0x302F], 16) == "302f\n"
    with pytest.raises(ValueError):
        threshold_words(np.array([[3, 1]]), PE=1, T_BITS=4)


TOPS = ["qloom_fifo", "qloom_mvau", "qloom_swg", "qloom_thresholding",
        "qloom_labelselect", "qloom_dwc", "qloom_pool_reduce", "qloom_pool", "qloom_credit_out", "qloom_vpipe"]


@pytest.mark.sim
@pytest.mark.parametrize("top", TOPS)
def test_lint_defaults(top):
    """Every module is -Wall clean with its default parameters (and each RAM style)."""
    from qloom.sim.verilator import lint, rtl_dir

    srcs = sorted(rtl_dir().glob("*.v"))
    assert lint(top, srcs) == ""
    if top in ("qloom_fifo", "qloom_mvau", "qloom_swg", "qloom_thresholding"):
        for style in ("block", "distributed"):
            assert lint(top, srcs, {"RAM_STYLE": style}) == ""


@pytest.mark.sim
def test_harness_timeout_and_vcd(tmp_path):
    """Asking for more beats than a FIFO can give raises SimTimeout; VCD tracing works."""
    from qloom.sim.verilator import AxisSim, SimTimeout, rtl_path

    sim = AxisSim("qloom_fifo", [rtl_path("qloom_fifo")], {"WIDTH": 8, "DEPTH": 4}, 8, 8, trace=True)
    with pytest.raises(SimTimeout) as e:
        sim.run([1, 2, 3], n_out=4, max_cycles=500)
    assert e.value.result.outputs == [1, 2, 3]
    vcd = tmp_path / "w.vcd"
    res = sim.run([5, 6], n_out=2, vcd=vcd)
    assert res.outputs == [5, 6]
    assert "s_axis_tdata" in vcd.read_text()
