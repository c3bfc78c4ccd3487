"""The shared AXI4-Stream port list ``qloom_axis.vh`` (`QLOOM_AXIS_PORTS) travels with the
modules that include it, and every tool finds it."""
import re

import pytest

from qloom.rtl.generate import VERILOG_DIR, library_sources

HEADER = "qloom_axis.vh"
USERS = sorted(f.stem for f in VERILOG_DIR.glob("*.v") if "`QLOOM_AXIS_PORTS(" in f.read_text())


@pytest.mark.unit
def test_users_include_and_depend_on_the_header():
    assert {"qloom_fifo", "qloom_mvau", "qloom_dwc", "qloom_swg_pw"} <= set(USERS)
    for m in USERS:
        text = (VERILOG_DIR / f"{m}.v").read_text()
        assert text.count(f'`include "{HEADER}"') == 1, m
        deps = [ln for ln in text.splitlines() if ln.startswith("// Depends on:")]
        assert deps and re.search(rf"\b{re.escape(HEADER)}\b", deps[0]), m
        assert HEADER in [p.name for p in library_sources([m])], m
    # module names with or without ".v"; the header by its file name
    assert library_sources(["qloom_fifo.v"]) == library_sources(["qloom_fifo"])
    assert [p.name for p in library_sources([HEADER])] == [HEADER]


@pytest.mark.sim
def test_verilator_finds_the_header_beside_the_sources():
    """Verilator searches only -I folders: lint/AxisSim add each source's folder."""
    from qloom.sim.verilator import AxisSim, lint, rtl_path

    assert lint("qloom_dwc", [rtl_path("qloom_dwc")], {"IN_WIDTH": 4, "OUT_WIDTH": 8}) == ""
    assert lint("qloom_fifo", library_sources(["qloom_fifo"])) == ""  # the header listed too
    res = AxisSim("qloom_dwc", [rtl_path("qloom_dwc")], {"IN_WIDTH": 4, "OUT_WIDTH": 8}, 4, 8).run(
        [1, 2, 3, 4], n_out=2)
    assert res.outputs == [0x21, 0x43]


@pytest.mark.synth
def test_yosys_finds_the_header_staged_beside_the_sources(tmp_path):
    """qloom.tools.stage copies the headers beside the sources into Yosys' work folder."""
    from qloom.sim.verilator import rtl_path
    from qloom.synth import synth_xilinx

    res = synth_xilinx("qloom_dwc", [rtl_path("qloom_dwc")], {"IN_WIDTH": 4, "OUT_WIDTH": 8},
                       workdir=tmp_path / "wd")
    assert (tmp_path / "wd" / HEADER).is_file() and res.ffs > 0 and not res.latches
