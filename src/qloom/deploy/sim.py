"""Verilator models of the board tops. The ULX3S board top's host link: ``qloom_uart_link`` (UART receiver,
framing, FIFOs, ``qloom_top``, transmitter) driven by ``tb_uart.cpp``, which plays the FTDI
side at the bit level (8N1 at the host's own bit period, a real number of FPGA cycles).

Only the PLL and the pin wrapper ``qloom_ulx3s`` are left out (the EHXPLLL primitive has no
simulation model here); everything behind the clock and reset is the same Verilog.
Builds are cached by :func:`qloom.sim.verilator.build_testbench` (``$QLOOM_SIM_CACHE``, default
~/.cache/qloom/verilator), keyed by the sources' contents, the parameters and the testbench.

The Alveo RTL kernel ``qloom_alveo_kernel`` (whole: control registers, read and write
engines, ``qloom_top``) with ``tb_alveo.cpp``: device memory as an AXI4 slave with random
stalls, the host as an AXI4-Lite master doing what XRT does for an ``ap_ctrl_hs`` kernel.
"""
from __future__ import annotations

from pathlib import Path

from qloom.sim.verilator import build_testbench

TB = Path(__file__).with_name("tb_uart.cpp")
TB_ALVEO = Path(__file__).with_name("tb_alveo.cpp")


def build_link_sim(sources: list[Path], params: dict) -> Path:
    """Build (or reuse) the Verilator binary of ``qloom_uart_link`` with ``params`` from
    ``sources`` (.v files; .vh headers beside them are found with -I); return its path.
    Raises qloom.tools.ToolError (a QloomError) when Verilator or the C++ build fails."""
    return _build("qloom_uart_link", TB, "Vlink", sources, params)


def build_kernel_sim(sources: list[Path], params: dict) -> Path:
    """The same for the Alveo RTL kernel ``qloom_alveo_kernel`` with its testbench
    ``tb_alveo.cpp`` (an AXI4 memory model and an AXI4-Lite master, as XRT drives it)."""
    return _build("qloom_alveo_kernel", TB_ALVEO, "Vkernel", sources, params)


def _build(top: str, tb: Path, exe: str, sources: list[Path], params: dict) -> Path:
    return build_testbench(top, tb, exe, sources, params, flags=[
        "-O2", "--x-assign", "fast", "--x-initial", "fast", "-Wno-fatal", "-Werror-USERERROR",
        "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include",
        "-MAKEFLAGS", "OPT_FAST=-O1", "-MAKEFLAGS", "OPT_SLOW=-O0"])  # short runs: compile time rules
