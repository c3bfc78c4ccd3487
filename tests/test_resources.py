"""Resource models (qloom.ops, qloom.cost) against Yosys 0.70.

Unit tests pin the replayed Yosys decisions (memory mapping, DSP inference) to outcomes
observed in synthesis; the synth test synthesizes every stage of a small digits build and
requires BRAM18 and DSP to be exact and LUT/FF within a loose bound, so the models cannot
rot when the Verilog changes.
"""
from __future__ import annotations

import json

import pytest

from qloom.cost.replay import Mem, map_memory, mul_dsps
from qloom.instance import RtlInstance
from qloom.ops import estimate_instance as estimate
from qloom.ops import estimate_module
from qloom.ops.mvau import mvau_product_widths

# (depth, width, rom, shared, style) -> Yosys 0.70 synth_xilinx -family xc7 outcome
XC7_MEMORIES = [
    ((2, 2, False, False, "auto"), ("logic", 0)),
    ((2, 3, False, False, "auto"), ("logic", 0)),
    ((2, 4, False, False, "auto"), ("distributed", 0)),
    ((3, 2, False, False, "auto"), ("distributed", 0)),
    ((33, 8, False, False, "auto"), ("distributed", 0)),
    ((128, 16, False, False, "auto"), ("distributed", 0)),
    ((129, 16, False, False, "auto"), ("block", 1)),
    ((9, 8, False, True, "auto"), ("distributed", 0)),  # same address: single-port LUT-RAM
    ((72, 8, True, False, "auto"), ("logic", 0)),  # small ROM: LUTs
    ((288, 128, True, False, "auto"), ("block", 4)),  # 36 kbit ROM
]


@pytest.mark.parametrize("args,expect", XC7_MEMORIES)
def test_memory_mapping_xc7(args, expect):
    d, w, rom, shared, style = args
    m = map_memory(Mem("m", d, w, rom=rom, shared=shared, style=style), "xc7")
    assert (m.kind, m.bram18) == expect


def test_rom_block_threshold():
    """A ROM goes to block RAM once its RAMB18 cost (129 + 2) undercuts bits / 64."""
    assert map_memory(Mem("w", 256, 33, rom=True), "xc7").bram18 == 1  # 8448 bits
    assert map_memory(Mem("w", 255, 33, rom=True), "xc7").kind == "logic"  # 8415 bits
    assert map_memory(Mem("w", 4, 8, rom=True, style="block"), "xc7").bram18 == 1


# (IN_BITS, IN_SIGNED, W_BITS, W_SIGNED) -> DSP per `*` product (MUL_STYLE 2), observed on xc7
DSP_CASES = [((2, 0, 2, 1), 0), ((2, 0, 8, 1), 1), ((3, 0, 4, 1), 0), ((4, 0, 3, 1), 0),
             ((4, 0, 4, 1), 1), ((4, 0, 4, 0), 0), ((4, 1, 4, 1), 0), ((4, 1, 4, 0), 1),
             ((8, 0, 2, 1), 1), ((8, 0, 4, 0), 1), ((2, 1, 8, 1), 1)]


@pytest.mark.parametrize("args,dsp", DSP_CASES)
def test_mvau_dsp_rule(args, dsp):
    ib, _, wb, _ = args
    assert mul_dsps(*mvau_product_widths(*args, ACC_BITS=ib + wb + 2), "xc7") == dsp


def test_mvau_mul_style_auto():
    """MUL_STYLE 0: LUT shift-add up to IN_BITS + W_BITS = 10, the `*` operator (DSP) above."""
    p = dict(MW=16, MH=8, PE=2, SIMD=4, IN_SIGNED=0, W_SIGNED=1, NUM_THRESH=0)
    assert estimate_module("qloom_mvau", dict(p, IN_BITS=4, W_BITS=4, ACC_BITS=14))["DSP"] == 0
    assert estimate_module("qloom_mvau", dict(p, IN_BITS=2, W_BITS=8, ACC_BITS=14))["DSP"] == 0
    assert estimate_module("qloom_mvau", dict(p, IN_BITS=8, W_BITS=4, ACC_BITS=18))["DSP"] == 8
    assert estimate_module("qloom_mvau", dict(p, IN_BITS=4, W_BITS=4, ACC_BITS=14, MUL_STYLE=2))["DSP"] == 8


def test_estimate_builds_no_memory_files():
    def boom():
        raise AssertionError("memory files built")

    p = dict(MW=64, MH=32, PE=4, SIMD=8, IN_BITS=4, W_BITS=4, ACC_BITS=12, NUM_THRESH=15,
             OUT_BITS=4, WEIGHT_FILE="w.mem", THRESH_FILE="t.mem")
    r = estimate(RtlInstance("qloom_mvau", p, 4, 4, False, boom, ("w.mem", "t.mem")))
    assert set(r) == {"LUT", "FF", "BRAM18", "URAM", "DSP"} and r["LUT"] > 0


@pytest.fixture(scope="module")
def digits_build(tmp_path_factory, digits_model):
    from qloom.flow import build

    d = tmp_path_factory.mktemp("res")
    fold = {"SWG_0": {"SIMD": 1}, "MVAU_0": {"PE": 4, "SIMD": 3},
            "StreamingMaxPool_0": {"PE": 1}, "SWG_1": {"SIMD": 2},
            "MVAU_1": {"PE": 2, "SIMD": 8}, "StreamingMaxPool_1": {"PE": 1},
            "MVAU_2": {"PE": 1, "SIMD": 4}}
    fp = d / "fold.json"
    fp.write_text(json.dumps(fold))
    build(digits_model, d / "out", folding_path=fp)
    return d / "out"


@pytest.mark.synth
def test_estimates_match_yosys(digits_build):
    """Every MVAU and one stage of each other module of a digits build, synthesized (two
    Yosys runs at a time, cached): BRAM18 and DSP exact, LUT and FF within 35 %."""
    from concurrent.futures import ThreadPoolExecutor

    from qloom.flow import _load_out
    from qloom.rtl.generate import library_sources, plan_top
    from qloom.synth import synth_module

    graph, fold, meta = _load_out(digits_build)
    plan = plan_top(graph, fold, meta.get("fifo_depths"))
    rtl = digits_build / "rtl"
    seen, stages = set(), []
    for st in plan.stages:
        if st.inst.module == "qloom_mvau" or st.inst.module not in seen:
            seen.add(st.inst.module)
            stages.append(st)

    def synth(st):
        srcs = [rtl / p.name for p in library_sources([st.inst.module])]
        files = {f: rtl / f for f in st.inst.file_names}
        return synth_module(st.inst.module, srcs, st.inst.params, files, "xc7", st.in_width,
                            st.out_width)["resources"]

    with ThreadPoolExecutor(max_workers=2) as ex:
        results = list(ex.map(synth, stages))
    bad = []
    for st, y in zip(stages, results):
        texts = {f: (rtl / f).read_text() for f in st.inst.file_names}
        for e in (estimate(st.inst, "xc7"), estimate(st.inst, "xc7", files=texts)):
            for k in ("BRAM18", "DSP"):
                if e[k] != y[k]:
                    bad.append(f"{st.name} {k}: estimate {e[k]} != yosys {y[k]}")
            for k in ("LUT", "FF"):
                if abs(e[k] - y[k]) > max(0.35 * y[k], 8):
                    bad.append(f"{st.name} {k}: estimate {e[k]} vs yosys {y[k]}")
    assert not bad, "\n".join(bad)


def _swg_pw(H, W, C, K, S=1, pad=0, bits=8, style="auto"):
    return dict(IFM_DIM_H=H, IFM_DIM_W=W, CHANNELS=C, K_H=K, K_W=K, S_H=S, S_W=S, PAD_T=pad,
                PAD_B=pad, PAD_L=pad, PAD_R=pad, ELEM_BITS=bits, RAM_STYLE=style)


# qloom_swg_pw: Yosys 0.70 synth_xilinx -family xc7 (LUT, FF, BRAM18), measured
SWG_PW_XC7 = [
    (_swg_pw(32, 32, 3, 3, pad=1), (306, 530, 0)),  # SVHN conv1, LUT-RAM line buffers
    (_swg_pw(15, 15, 16, 3, pad=1, bits=6), (1119, 2039, 0)),  # 864-bit windows
    (_swg_pw(128, 128, 32, 3, pad=1), (2598, 4896, 16)),  # block RAM line buffers
    (_swg_pw(16, 16, 32, 3, S=2, pad=1, bits=4, style="block"), (1307, 2455, 8)),
]


@pytest.mark.parametrize("params,yosys", SWG_PW_XC7)
def test_swg_pw_model(params, yosys):
    e = estimate(RtlInstance("qloom_swg_pw", params, params["ELEM_BITS"], params["ELEM_BITS"], False))
    lut, ff, bram = yosys
    assert e["BRAM18"] == bram and e["FF"] == ff
    assert abs(e["LUT"] - lut) <= 0.05 * lut
    for fam in ("xcup", "ecp5"):
        assert estimate(RtlInstance("qloom_swg_pw", params, 8, 8, False), fam)["LUT"] > 0


@pytest.mark.synth
def test_swg_pw_estimate_matches_yosys():
    """One small qloom_swg_pw synthesized: BRAM18 exact, LUT and FF within 10 %."""
    from qloom.rtl.generate import library_sources
    from qloom.synth import synth_module

    p = _swg_pw(6, 6, 4, 3, pad=1, bits=4)
    y = synth_module("qloom_swg_pw", library_sources(["qloom_swg_pw"]), p, {}, "xc7", 16, 144)["resources"]
    e = estimate(RtlInstance("qloom_swg_pw", p, 4, 4, False))
    assert e["BRAM18"] == y["BRAM18"]
    for k in ("LUT", "FF"):
        assert abs(e[k] - y[k]) <= max(0.1 * y[k], 8), (k, e[k], y[k])
