"""Zynq boards, MO builds (``qloom build --arch mo``): Vivado TCL for the MO engine
``qloom_mo_top`` on the PS's DRAM, following the DF flow (:mod:`qloom.deploy.zynq`) where
it applies.

``qloom deploy`` writes, in ``OUT/deploy/``:

- the engine's Verilog (``OUT/rtl``: ``qloom_mo_engine.v``, ``qloom_mo_top.v``); the block
  design sets its parameters on the IP (``rtl_params`` of build.json: PE, SIMD, buffer
  halves, AXI4 data width);
- ``image.bin`` (the DRAM image of ``OUT/mo/image.bin``) and ``schedule.json``;
- ``package_ip.tcl``: ``qloom_mo_top`` packaged as an IP-XACT core (``ipx::package_project``):
  the AXI4-Lite slave ``s_axi_control`` and the AXI4 master ``m_axi_gmem`` inferred from the
  port names (``ipx::infer_bus_interfaces`` with the aximm interface), both on ``ap_clk``;
- ``bd.tcl``: the block design ``qloom_bd``: the PS with fabric clock 0 at the build's
  clock, ``qloom_0`` (the core, its parameters set), its control on the PS's general-purpose
  master port and its master on a high-performance slave port (the DDR; ``apply_bd_automation``
  makes interconnects and the address map), ``proc_sys_reset``;
- ``build.tcl`` and ``Makefile``: as for DF (``make bitstream`` -> ``qloom_zynq.bit`` +
  ``qloom_zynq.hwh``).

The host driver (``driver/driver.py``, :class:`~qloom.deploy.driver.MoRunner`) allocates a
DRAM buffer of the schedule's ``dram_bytes``, copies ``image.bin`` into it once, and per frame
writes the input tensor, writes BASE (the buffer's physical address) and DESC (the
descriptors' offset), starts the engine and polls ap_done, then reads the output tensor.
Vivado and a board are not on this machine: the TCL is checked by ``tests/test_deploy.py``
in ``tclsh`` with Vivado's commands stubbed, the driver sequence in Verilator.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from qloom.deploy import zynq
from qloom.deploy.zynq import BD_EPILOGUE, MAKEFILE, PS, ZYNQ, bd_prologue, build_tcl

VENDOR, LIBRARY, IP_NAME, IP_VERSION = "qloom.org", "qloom", "qloom_mo_top", "1.0"
IP_VLNV = f"{VENDOR}:{LIBRARY}:{IP_NAME}:{IP_VERSION}"
# register offsets of qloom_mo_top's AXI4-Lite control (qloom_mo_top.v)
REGS = {"CTRL": 0x00, "BASE": 0x10, "DESC": 0x18}


def package_ip_tcl(part: str, hdl: list[str]) -> str:
    """Vivado TCL packaging qloom_mo_top (the MO engine: AXI4-Lite slave s_axi_control,
    AXI4 master m_axi_gmem) as an IP-XACT core (:func:`qloom.deploy.zynq.package_ip_tcl`)."""
    return zynq.package_ip_tcl(
        part, hdl, ip_name=IP_NAME, what="qloom_mo_top (the MO engine)", display="qloom MO engine",
        description="qloom memory-optimized engine: AXI4-Lite control, AXI4 master to DRAM",
        bus="AXI4-Lite slave s_axi_control and AXI4 master m_axi_gmem from the port names",
        bus_type="aximm_rtl", busifs=("s_axi_control", "m_axi_gmem"))


def bd_tcl(board: str, clock_mhz: float, params: dict) -> str:
    ps = PS[ZYNQ[board][2]]
    ipcfg = " ".join(f"CONFIG.{k} {{{int(v)}}}" for k, v in params.items())
    return f"""# qloom: block design with the Zynq PS and the MO engine qloom_mo_top on its DDR ({board})
# usage: vivado -mode batch -source bd.tcl   (after package_ip.tcl, in OUT/deploy)
{bd_prologue(board, clock_mhz)}
create_bd_cell -type ip -vlnv {IP_VLNV} qloom_0
set_property -dict [list {ipcfg}] [get_bd_cells qloom_0]
create_bd_cell -type ip -vlnv [qloom_vlnv proc_sys_reset] rst_qloom
connect_bd_net [get_bd_pins ps/{ps['clk']}] [get_bd_pins rst_qloom/slowest_sync_clk]
connect_bd_net [get_bd_pins ps/{ps['resetn']}] [get_bd_pins rst_qloom/ext_reset_in]
connect_bd_net [get_bd_pins ps/{ps['clk']}] [get_bd_pins qloom_0/ap_clk]
connect_bd_net [get_bd_pins rst_qloom/peripheral_aresetn] [get_bd_pins qloom_0/ap_rst_n]

# the engine's control from the PS, its master into the PS's DDR port; the automation adds
# the interconnects, clocks them from ps/{ps['clk']} and maps addresses
apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config {{Master "/ps/{ps['master']}" Clk "/ps/{ps['clk']}"}} [get_bd_intf_pins qloom_0/s_axi_control]
apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config {{Slave "/ps/{ps['slave']}" Clk "/ps/{ps['clk']}"}} [get_bd_intf_pins qloom_0/m_axi_gmem]
{BD_EPILOGUE}"""


def write_zynq_mo(d: Path, out: Path, board: str, clock_mhz: float, meta: dict) -> dict:
    """Write the MO Zynq files into ``d`` (which already holds OUT/rtl's files) from build
    ``out`` (its ``mo/image.bin``, ``mo/schedule.json`` and build.json ``meta``); return
    deploy.json's board part."""
    hdl = sorted(p.name for p in d.glob("*.v"))
    params = dict(meta["rtl_params"])
    for f in ("image.bin", "schedule.json"):
        shutil.copy(out / "mo" / f, d / f)
    (d / "package_ip.tcl").write_text(package_ip_tcl(ZYNQ[board][0], hdl))
    (d / "bd.tcl").write_text(bd_tcl(board, clock_mhz, params))
    (d / "build.tcl").write_text(build_tcl())
    (d / "Makefile").write_text(MAKEFILE)
    return {"kind": "zynq-mo", "arch": "mo", "top": IP_NAME, "part": ZYNQ[board][0], "ip_vlnv": IP_VLNV,
            "tcl": ["package_ip.tcl", "bd.tcl", "build.tcl"], "hdl": hdl, "rtl_params": params,
            "image": "image.bin", "registers": REGS, "ip_instance": "qloom_0",
            "bit": "qloom_zynq.bit", "hwh": "qloom_zynq.hwh",
            "run": "python driver/driver.py --target board -i X.npy -o Y.npy (on the board, with PYNQ)"}
