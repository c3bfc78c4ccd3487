"""DSP packing (resType "dsp_packed", qloom_mul_pack; issue 15 item 3): the packing
arithmetic as the module's header states it, proven over every operand value in Python
integers against the plain products; the widths against the DSP48 ports; the knob's
rejections; the DSP count of the resource model against Yosys; the search spending a DSP
budget on it. (RTL == numpy under back-pressure: tests/rtl/test_qloom_mvau.py, cases pk_*.)"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from qloom.ops import MVAU
from qloom.ops.mvau import dsp_pack, pack_operand_widths, parts_qloom_mvau
from qloom.types import IntType

# DSP48E1 multiplier ports (UG479: 25 x 18 signed), DSP48E2 (UG579: 27 x 18), P 48 bits
PORTS = {"xc7": (25, 18), "xcup": (27, 18)}


def _range(bits, signed):
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def _signed_width(v):
    """Bits of v as a two's-complement number."""
    return (v if v >= 0 else ~v).bit_length() + 1


def _unpack(ws, x, K, S, signed):
    """qloom_mul_pack's arithmetic (its header): A = sum w_k 2^(kS), P = A x + OFS with
    OFS = sum 2^(kS + S-1) for signed products; field k minus 2^(S-1) is w_k x."""
    A = sum(w << (k * S) for k, w in enumerate(ws))
    ofs = sum(1 << (k * S + S - 1) for k in range(K)) if signed else 0
    P = A * x + ofs
    assert P >= 0 or not signed  # every field offset-binary: P is a sum of nonnegative fields
    fields = [(P >> (k * S)) & ((1 << S) - 1) for k in range(K)]
    return A, P, [f - (1 << (S - 1)) if signed else f for f in fields]


# (IN_BITS, IN_SIGNED, W_BITS, W_SIGNED): all four signedness combinations, the jet MLP's
# u6 x s6 and u8 x s6, INT8 x INT8 (WP486's case), 3- and 4-field low-bit products
COMBOS = [(6, 0, 6, 1), (8, 0, 6, 1), (6, 1, 6, 1), (5, 1, 4, 0), (6, 0, 6, 0), (8, 1, 8, 1),
          (4, 0, 4, 1), (4, 1, 4, 1), (3, 1, 3, 1), (2, 0, 2, 1), (3, 0, 2, 0)]


@pytest.mark.parametrize("combo", COMBOS, ids=lambda c: f"{'su'[1 - c[1]]}{c[0]}x{'su'[1 - c[3]]}{c[2]}")
def test_packing_is_exact_for_every_operand_value(combo):
    IB, isg, WB, wsg = combo
    K, S = dsp_pack(IB, isg, WB, wsg, PE=8)
    signed = bool(isg or wsg)
    xs = range(_range(IB, isg)[0], _range(IB, isg)[1] + 1)
    wl, wh = _range(WB, wsg)
    wvals = list(range(wl, wh + 1))
    rng = np.random.default_rng(IB * 100 + WB)
    # every weight value in every field (the extremes together), plus random tuples
    tuples = [tuple([w] * K) for w in wvals] + [tuple(t) for t in itertools.product((wl, wh), repeat=K)]
    tuples += [tuple(int(v) for v in rng.integers(wl, wh + 1, size=K)) for _ in range(200)]
    aw, xw = pack_operand_widths(IB, isg, WB, K, S)
    amax, bmax = PORTS["xc7"]
    assert max(aw, xw) <= amax and min(aw, xw) <= bmax
    for ws in tuples:
        for x in xs:
            A, P, got = _unpack(ws, x, K, S, signed)
            assert got == [w * x for w in ws], (ws, x)
            assert _signed_width(A) <= aw and _signed_width(x) <= xw and _signed_width(P) <= 48


def test_dsp_pack_takes_the_most_products_that_fit_one_dsp():
    """K is the largest count (<= PE, <= 4) whose packed operand fits the multiplier port;
    a product too wide for two fields is refused (None), as is PE 1."""
    for fam, (amax, _) in PORTS.items():
        for IB, isg, WB, wsg in COMBOS + [(9, 1, 9, 1), (8, 0, 8, 1)]:
            got = dsp_pack(IB, isg, WB, wsg, PE=8, family=fam)
            lo = min(a * b for a in _range(IB, isg) for b in _range(WB, wsg))
            hi = max(a * b for a in _range(IB, isg) for b in _range(WB, wsg))
            S = max(_signed_width(lo), _signed_width(hi)) if (isg or wsg) else hi.bit_length()
            fits = [K for K in range(2, 5) if (K - 1) * S + WB + 1 <= amax]
            assert got == ((max(fits), S) if fits else None), (fam, IB, isg, WB, wsg)
    assert dsp_pack(6, 0, 6, 1, PE=1) is None
    assert dsp_pack(9, 1, 9, 1, PE=4) is None  # 18-bit fields: 18 + 9 + 1 > 25


def _mvau(IB=6, isg=False, WB=6, wsg=True, MH=8, MW=8, bipolar=False):
    rng = np.random.default_rng(0)
    it = IntType(1, True, True) if bipolar else IntType(IB, isg)
    wt = IntType(WB, wsg)
    W = rng.integers(*_range(WB, wsg), size=(MH, MW))
    acc = IntType(24, True)
    return MVAU("fc", (MW,), (MH,), it, IntType(24, True), weights=W, weight_type=wt, acc_type=acc)


def test_dsp_packed_knob_rejections():
    op = _mvau()
    assert "dsp_packed" in op.knob_space()["resType"].searched
    assert op.illegal({"PE": 2, "SIMD": 2, "resType": "dsp_packed"}) is None
    assert "PE >= 2" in op.illegal({"PE": 1, "SIMD": 2, "resType": "dsp_packed"})
    wide = _mvau(IB=9, isg=True, WB=9)
    assert "do not fit two per DSP48E1" in wide.illegal({"PE": 2, "SIMD": 2, "resType": "dsp_packed"})
    assert "dsp_packed" not in wide.knob_space()["resType"].searched
    bip = _mvau(bipolar=True)
    assert "integer (not bipolar)" in bip.illegal({"PE": 2, "SIMD": 2, "resType": "dsp_packed"})
    # bit planes need integer operands too (a bipolar layer takes the XNOR datapath)
    assert "integer (not bipolar)" in bip.illegal({"PE": 2, "SIMD": 2, "resType": "bitplane"})
    assert _mvau(IB=2, WB=2).illegal({"PE": 2, "SIMD": 2, "resType": "bitplane"}) is None
    # the instance carries K and S; the model counts one DSP per group of K PEs per SIMD lane
    inst = op.rtl({"PE": 4, "SIMD": 2, "resType": "dsp_packed"})
    assert (inst.params["MUL_STYLE"], inst.params["PACK_K"], inst.params["PACK_S"]) == (4, 2, 12)
    P = parts_qloom_mvau(**inst.params, family="xc7")
    assert P.dsp == (4 // 2) * 2


@pytest.mark.synth
def test_packed_mvau_maps_to_the_modelled_dsps(capsys):
    """Yosys synth_xilinx maps each packed multiplier (A*x + offset, P register) to one
    DSP48E1: the DSP count equals the model's (PE/K * SIMD), half the one-product-per-DSP
    count, so no product fell back to LUTs."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent / "rtl"))
    from rtlutil import synth_check

    op = _mvau(MH=4, MW=8)
    inst = op.rtl({"PE": 2, "SIMD": 4, "resType": "dsp_packed"})
    files = inst.make_files()
    params = {k: v for k, v in inst.params.items() if v != ""}  # chparam takes no empty string
    # read_verilog elaborates the defaults first: their $readmemh file must exist too
    r = synth_check("qloom_mvau", ["qloom_mvau", "qloom_fifo"], params,
                    files={**files, "weights.mem": files[params["WEIGHT_FILE"]]})
    P = parts_qloom_mvau(**inst.params, family="xc7", files=files)
    with capsys.disabled():
        print(f"\npacked qloom_mvau MW8 MH4 PE2 SIMD4 u6 x s6: LUT={r.luts} FF={r.ffs} DSP={r.dsps} "
              f"(model DSP {P.dsp})")
    assert r.dsps == P.dsp == 4
    assert r.count("DSP48E1") == 4


def test_search_spends_a_dsp_budget_on_packing():
    """The jet MLP at 1M FPS with --objective LUT on PYNQ-Z1 capped at 16 DSP / 13 BRAM18
    (issue 15's target; benchmarks/boards/pynq-z1-jet15.json): the priced search alone
    overshoots to no DSP at all; the exchange step fills the budget, with packed products,
    and lowers the LUT total while every resource fits."""
    from pathlib import Path

    import qloom
    from qloom.boards import get_board
    from qloom.dse import search as S
    from qloom.zoo import ZOO

    g = qloom.compile_model(str(ZOO["jet_w6a6"].shipped))
    board = get_board(str(Path(__file__).parents[1] / "benchmarks" / "boards" / "pynq-z1-jet15.json"))
    fold, pick, tot = S.search(g, board, 1e6, 100, objective="LUT")
    assert tot["DSP"] <= 16 and tot["BRAM18"] <= 13
    assert any(c.get("resType") == "dsp_packed" for c in fold.values())
    orig = S.Space.exchange
    try:
        S.Space.exchange = lambda self, pick, *a, **k: (pick, self.totals(pick))
        _, _, base = S.search(g, board, 1e6, 100, objective="LUT")
    finally:
        S.Space.exchange = orig
    assert tot["LUT"] < base["LUT"]


@pytest.mark.synth
@pytest.mark.parametrize("combo", [(2, 1, 2, 1, 2), (2, 1, 2, 1, 4), (6, 0, 6, 1, 2)],
                         ids=["s2xs2_K2", "s2xs2_K4", "u6xs6_K2"])
def test_pack_dsps_follows_yosys_on_the_used_product_bits(combo):
    """One qloom_mul_pack alone in Yosys synth_xilinx: its DSP48E1 count equals
    ``pack_dsps``. Only the K fields of the product are read, so an s2 x s2 pair (K = 2,
    S = 4: 8 used bits) stays in LUTs while K = 4 (16 bits) and u6 x s6 (24 bits) take one
    DSP; ``dsp_pack`` therefore refuses K = 2 for 2-bit layers (CNV-W2A2's MVAU_6 was
    modelled with 2 DSPs that Yosys built in LUTs)."""
    from qloom.ops.mvau import pack_dsps, pack_field_bits
    from qloom.sim.verilator import rtl_dir
    from qloom.synth import synth_xilinx

    IB, isg, WB, wsg, K = combo
    S = pack_field_bits(IB, isg, WB, wsg)
    params = {"IB": IB, "IN_SIGNED": isg, "WB": WB, "W_SIGNED": wsg, "K": K, "S": S}
    r = synth_xilinx("qloom_mul_pack", [rtl_dir() / "qloom_mul_pack.v"], params)
    assert r.dsps == pack_dsps(IB, isg, WB, K, S, "xc7")
    assert (dsp_pack(IB, isg, WB, wsg, PE=K) is not None) == (r.dsps == 1)
