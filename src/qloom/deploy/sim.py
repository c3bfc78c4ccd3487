"""Verilator model of the ULX3S board top's host link: ``qloom_uart_link`` (UART receiver,
framing, FIFOs, ``qloom_top``, transmitter) driven by ``tb_uart.cpp``, which plays the FTDI
side at the bit level (8N1 at the host's own bit period, a real number of FPGA cycles).

Only the PLL and the pin wrapper ``qloom_ulx3s`` are left out (the EHXPLLL primitive has no
simulation model here); everything behind the clock and reset is the same Verilog.
Builds are cached in ``$QLOOM_SIM_CACHE`` (default ~/.cache/qloom/verilator), keyed by the
sources' contents, the parameters and the testbench.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from qloom.tools import cache_folder, run_tool

TB = Path(__file__).with_name("tb_uart.cpp")


def build_link_sim(sources: list[Path], params: dict) -> Path:
    """Build (or reuse) the Verilator binary of ``qloom_uart_link`` with ``params`` from
    ``sources`` (.v files; .vh headers beside them are found with -I); return its path.
    Raises qloom.tools.ToolError (a QloomError) when Verilator or the C++ build fails."""
    from qloom.sim.verilator import verilator_env

    srcs = sorted(Path(s).resolve() for s in sources)
    h = hashlib.sha256(TB.read_bytes())
    for s in srcs:
        h.update(s.name.encode() + hashlib.sha256(s.read_bytes()).digest())
    dirs = sorted({s.parent for s in srcs})
    for d in dirs:
        for v in sorted(d.glob("*.vh")):
            h.update(v.name.encode() + hashlib.sha256(v.read_bytes()).digest())
    h.update(repr(sorted(params.items())).encode())
    cache = cache_folder("QLOOM_SIM_CACHE", "verilator")
    final = cache / f"qloom_uart_link-{h.hexdigest()[:20]}"
    binary = final / "Vlink"
    if binary.exists():
        return binary
    tmp = Path(tempfile.mkdtemp(prefix=".build-uart-", dir=cache))
    try:
        shutil.copy(TB, tmp / "tb_uart.cpp")
        cmd = ["--cc", "--exe", "--build", "-j", "2", "-O2", "--x-assign", "fast", "--x-initial", "fast",
               "-Wno-fatal", "-Werror-USERERROR", "--top-module", "qloom_uart_link",
               "-Mdir", "obj", "-o", "Vlink", "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include"]
        cmd += [f"-G{k}={int(v)}" for k, v in params.items()]
        cmd += [f"-I{d}" for d in dirs] + [str(s) for s in srcs] + ["tb_uart.cpp"]
        run_tool("verilator", cmd, cwd=tmp, env=verilator_env(), log="build.log", what="qloom_uart_link")
        (tmp / "obj" / "Vlink").rename(tmp / "Vlink")
        shutil.rmtree(tmp / "obj", ignore_errors=True)
        try:
            os.rename(tmp, final)
        except OSError:  # built meanwhile by another process
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return binary
