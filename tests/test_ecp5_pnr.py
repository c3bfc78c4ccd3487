"""The ECP5 resource model against post-place counts (issue 15, item 5): one MVAU stage
with weights in block RAM and products on DSPs, built for the ULX3S-85F, synthesized alone
(synth_ecp5 in its stream wrapper) and placed by nextpnr-ecp5: DP16KD and MULT18X18D exact,
logic cells (TRELLIS_COMB) and flip-flops within the usual per-layer tolerance (35 % or 8)."""
from __future__ import annotations

import json

import pytest

from onnx_builders import qdq_mlp


# about 3 minutes beside other jobs on 2 cores (synth_ecp5 + nextpnr-ecp5 of one stage)
@pytest.mark.slow
@pytest.mark.synth
def test_ecp5_estimate_matches_nextpnr_post_place(tmp_path):
    from qloom.flow import _load_out, build
    from qloom.ops import estimate_instance
    from qloom.rtl.generate import library_sources, plan_top
    from qloom.synth import synth_module
    from qloom.tools import run_tool

    model = qdq_mlp(tmp_path / "qdq.onnx", widths=(12, 8, 5), zero_points=(-3, 37), relu=False)
    fold = {"MVAU_0": {"PE": 1, "SIMD": 1}, "MVAU_1": {"PE": 1, "SIMD": 2, "ram_style": "block", "resType": "dsp"}}
    out = tmp_path / "out"
    build(model, out, board="ulx3s-85f", folding_path=fold)
    graph, folding, meta = _load_out(out)
    st = next(s for s in plan_top(graph, folding, meta.get("fifo_depths")).stages if s.name == "MVAU_1")
    rtl = out / "rtl"
    files = {f: rtl / f for f in st.inst.file_names}
    synth_module(st.inst.module, [rtl / p.name for p in library_sources([st.inst.module])], st.inst.params,
                 files, "ecp5", st.in_width, st.out_width, keep_netlist=tmp_path / "top.json")
    run_tool("nextpnr-ecp5", ["--25k", "--package", "CABGA381", "--json", "top.json", "--lpf-allow-unconstrained",
                              "--report", "report.json", "--timing-allow-fail", "-q", "--freq", "100"],
             cwd=tmp_path, what="ecp5 stage", expect=("report.json",))
    used = {k: v["used"] for k, v in json.loads((tmp_path / "report.json").read_text())["utilization"].items()}
    est = estimate_instance(st.inst, "ecp5", files={f: p.read_text() for f, p in files.items()})
    assert est["BRAM18"] == used.get("DP16KD", 0) >= 1
    assert est["DSP"] == used.get("MULT18X18D", 0) >= 1
    for k, cell in (("LUT", "TRELLIS_COMB"), ("FF", "TRELLIS_FF")):
        assert abs(est[k] - used[cell]) <= max(0.35 * used[cell], 8), (k, est[k], used[cell])
