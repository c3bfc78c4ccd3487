"""Alveo U250 and AWS F1: ``qloom_top`` as a Vitis RTL kernel.

``qloom deploy`` writes, in ``OUT/deploy/``:

- ``qloom_alveo_kernel.v`` (from ``verilog/alveo/``, parameter defaults set for this build):
  the RTL kernel. ``s_axi_control`` (AXI4-Lite, ``ap_ctrl_hs``: ap_start/ap_done/ap_idle/
  ap_ready at 0x00, interrupt registers 0x04-0x0C, arguments from 0x10), ``m_axi_gmem``
  (AXI4 master, 512-bit data, 64-bit addresses): a read engine (device memory -> the
  ``s_axis`` of ``qloom_top``) and a write engine (``m_axis`` -> device memory), in bursts
  of at most 16 words that never cross a 4 KB boundary (AXI4: IHI 0022, A3.4.1).
- ``kernel.xml``: the kernel description ``package_xo`` needs (ports, arguments with their
  register offsets and sizes); format of the Vitis documentation UG1393 "RTL Kernels:
  Kernel XML File" (root ``versionMajor=1 versionMinor=6``, ``hwControlProtocol=ap_ctrl_hs``).
- ``component.xml``: the kernel as an IEEE 1685-2009 IP-XACT component (the IP-XACT
  version Vivado reads and writes): bus interfaces with their port maps, the register map
  of ``s_axi_control``, the model's ports, the file set (:mod:`qloom.deploy.ipxact`).
- ``package_xo.tcl``: a Vivado project of the HDL packaged as a kernel IP
  (``ipx::package_project``, ``sdx_kernel`` properties, ``ipx::check_integrity -kernel``)
  then ``package_xo`` -> ``qloom_alveo_kernel.xo`` (UG1393 "Packaging RTL Kernels").
- ``link.cfg``: the ``v++ --link`` configuration: one compute unit, both buffers on one
  memory bank (``[connectivity] sp=``; ``DDR[0]`` on these boards, ``HBM[0]`` on HBM
  boards), the kernel clock (``[clock] freqHz=``).
- ``host.cpp``: a C++ host program on the XRT native API (xrt::device, xrt::kernel,
  xrt::bo): reads the packed input, runs, writes the packed output.
- ``Makefile``: ``make xo`` (Vivado), ``make xclbin`` (v++ link; the platform's name is a
  variable), ``make host`` (g++ with XRT). None of Vivado, Vitis or XRT is on this machine:
  the TCL is checked in ``tclsh`` with the Vivado commands stubbed, the kernel simulated in
  Verilator (``tb_alveo.cpp``: an AXI4 memory model and an AXI4-Lite master).

Buffer layout (both ways): a sequence of 512-bit words; each stream beat in a slot of
``in_width``/``out_width`` bits (the beat width padded to a power of two >= 8), slot 0 in
the least significant bits; bytes little-endian. That is, the beats of the driver's
``beats_to_bytes(beats, slot_width)``, padded with zeros to whole words.
"""
from __future__ import annotations

import re
from pathlib import Path

from qloom.errors import QloomError

HERE = Path(__file__).resolve().parent
KERNEL_V = HERE / "verilog" / "alveo" / "qloom_alveo_kernel.v"
KERNEL = "qloom_alveo_kernel"
VENDOR, LIBRARY, VERSION = "qloom.org", "kernel", "1.0"
DW = 512      # m_axi_gmem data width (bits): one DDR4 word per beat on these shells
BURST = 16    # words per burst at most
FIFO_DEPTH = 32

# board -> (FPGA part, the Vitis platform to link against, memory bank for the buffers)
ALVEO = {
    "u250": ("xcu250-figd2104-2L-e", "xilinx_u250_gen3x16_xdma_4_1_202210_1", "DDR[0]"),
    "aws-f1": ("xcvu9p-flgb2104-2-i", "xilinx_aws-vu9p-f1_shell-v04261818_201920_3", "DDR[0]"),
}
# the kernel's arguments: name, register offset (bytes), size (bytes), C type, address
# qualifier (1: a global memory pointer on m_axi_gmem, 0: a scalar), as in kernel.xml
ARGS = (("x", 0x10, 8, "void*", 1), ("y", 0x18, 8, "void*", 1), ("n_frames", 0x20, 4, "uint", 0))
CONTROL_RANGE = 0x1000


def slot_width(bits: int) -> int:
    """The memory slot of a stream beat: a power of two >= 8 bits, at most DW."""
    w = 8
    while w < bits:
        w *= 2
    if w > DW:
        raise QloomError(f"stream of {bits} bits is wider than the Alveo kernel's {DW}-bit memory word")
    return w


def kernel_params(link: dict) -> dict:
    """Parameters of qloom_alveo_kernel for a build's ``link`` (deploy.json)."""
    return {"IN_W": link["top_in_width"], "OUT_W": link["top_out_width"], "IN_PAD": link["in_width"],
            "OUT_PAD": link["out_width"], "IN_BEATS": link["in_beats"], "OUT_BEATS": link["out_beats"],
            "DW": DW, "BURST": BURST, "FIFO_DEPTH": FIFO_DEPTH}


def kernel_verilog(params: dict) -> str:
    """qloom_alveo_kernel.v with the parameter defaults set to ``params`` (Vivado packages
    the top's defaults as the IP's parameters)."""
    text = KERNEL_V.read_text()
    for k, v in params.items():
        text, n = re.subn(rf"(parameter integer {k} = )\d+", rf"\g<1>{int(v)}", text, count=1)
        if n != 1:
            raise AssertionError(f"qloom_alveo_kernel.v: no parameter {k}")
    return text


def kernel_xml() -> str:
    """kernel.xml (UG1393 "Kernel XML File"): one AXI4-Lite slave, one AXI4 master, the
    arguments with their offsets in s_axi_control."""
    args = "\n".join(
        f'      <arg name="{n}" addressQualifier="{q}" id="{i}" port="{"m_axi_gmem" if q else "s_axi_control"}" '
        f'size="0x{s:X}" offset="0x{o:03X}" type="{t}" hostOffset="0x0" hostSize="0x{s:X}"/>'
        for i, (n, o, s, t, q) in enumerate(ARGS))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<root versionMajor="1" versionMinor="6">
  <kernel name="{KERNEL}" language="ip_c" vlnv="{VENDOR}:{LIBRARY}:{KERNEL}:{VERSION}" attributes="" preferredWorkGroupSizeMultiple="0" workGroupSize="1" interrupt="true" hwControlProtocol="ap_ctrl_hs">
    <ports>
      <port name="s_axi_control" mode="slave" range="0x{CONTROL_RANGE:X}" dataWidth="32" portType="addressable" base="0x0"/>
      <port name="m_axi_gmem" mode="master" range="0xFFFFFFFFFFFFFFFF" dataWidth="{DW}" portType="addressable" base="0x0"/>
    </ports>
    <args>
{args}
    </args>
  </kernel>
</root>
"""


def package_xo_tcl(part: str, hdl: list[str]) -> str:
    files = " ".join(hdl)
    return f"""# qloom: package qloom_alveo_kernel as a Vitis RTL kernel (.xo) (generated by qloom deploy)
# usage: vivado -mode batch -source package_xo.tcl   (in OUT/deploy)
set part {{{part}}}
create_project -force qloom_kernel_pack ./xo_project -part $part
add_files -norecurse [list {files}]
set_property top {KERNEL} [current_fileset]
update_compile_order -fileset sources_1
ipx::package_project -root_dir ./xo_ip -vendor {VENDOR} -library {LIBRARY} -taxonomy /KernelIP -import_files -set_current true
set core [ipx::current_core]
set_property name {KERNEL} $core
set_property version {VERSION} $core
set_property display_name {{qloom dataflow accelerator (RTL kernel)}} $core
# an XRT-managed RTL kernel with the ap_ctrl_hs protocol (UG1393, Packaging RTL Kernels)
set_property sdx_kernel true $core
set_property sdx_kernel_type rtl $core
set_property vitis_drc {{ctrl_protocol ap_ctrl_hs}} $core
set_property ipi_drc {{ignore_freq_hz true}} $core
# AXI4 / AXI4-Lite interfaces from the m_axi_gmem_* / s_axi_control_* port names
ipx::infer_bus_interfaces xilinx.com:interface:aximm_rtl:1.0 $core
ipx::infer_bus_interface ap_clk xilinx.com:signal:clock_rtl:1.0 $core
ipx::infer_bus_interface ap_rst_n xilinx.com:signal:reset_rtl:1.0 $core
ipx::infer_bus_interface interrupt xilinx.com:signal:interrupt_rtl:1.0 $core
ipx::associate_bus_interfaces -busif m_axi_gmem -clock ap_clk $core
ipx::associate_bus_interfaces -busif s_axi_control -clock ap_clk $core
ipx::associate_bus_interfaces -clock ap_clk -reset ap_rst_n $core
set_property value ACTIVE_LOW [ipx::get_bus_parameters POLARITY -of_objects [ipx::get_bus_interfaces ap_rst_n -of_objects $core]]
ipx::update_checksums $core
ipx::check_integrity -kernel $core
ipx::save_core $core
close_project
package_xo -force -xo_path ./{KERNEL}.xo -kernel_name {KERNEL} -ip_directory ./xo_ip -kernel_xml ./kernel.xml
puts "qloom: wrote {KERNEL}.xo"
"""


def link_cfg(bank: str, clock_mhz: float) -> str:
    return f"""# qloom: v++ --link configuration (generated by qloom deploy)
# v++ -l -t hw --platform PLATFORM --config link.cfg -o qloom.xclbin {KERNEL}.xo
[connectivity]
nk={KERNEL}:1:{KERNEL}_1
sp={KERNEL}_1.x:{bank}
sp={KERNEL}_1.y:{bank}

[clock]
freqHz={int(round(clock_mhz * 1e6))}:{KERNEL}_1.ap_clk
"""


HOST_CPP = r"""// qloom host program for the Alveo RTL kernel (generated by qloom deploy), XRT native API.
// usage: ./host qloom.xclbin IN.bin N_FRAMES OUT.bin OUT_BYTES
//   IN.bin: the packed input buffer (qloom's driver writes it: Accelerator.pack_input), OUT.bin:
//   the packed output buffer (OUT_BYTES bytes). Build: make host (needs XRT: XILINX_XRT).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include "xrt/xrt_bo.h"
#include "xrt/xrt_device.h"
#include "xrt/xrt_kernel.h"

int main(int argc, char** argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: %s qloom.xclbin IN.bin N_FRAMES OUT.bin OUT_BYTES\n", argv[0]);
        return 2;
    }
    std::ifstream fin(argv[2], std::ios::binary);
    std::vector<char> in((std::istreambuf_iterator<char>(fin)), std::istreambuf_iterator<char>());
    const unsigned n_frames = std::strtoul(argv[3], nullptr, 0);
    const size_t out_bytes = std::strtoull(argv[5], nullptr, 0);
    const size_t word = WORD_BYTES;
    const size_t in_size = (in.size() + word - 1) / word * word;
    const size_t out_size = (out_bytes + word - 1) / word * word;

    xrt::device device(0);
    auto uuid = device.load_xclbin(argv[1]);
    xrt::kernel kernel(device, uuid, "KERNEL_NAME");
    xrt::bo bx(device, in_size, kernel.group_id(0));
    xrt::bo by(device, out_size, kernel.group_id(1));
    std::vector<char> padded(in_size, 0);
    std::copy(in.begin(), in.end(), padded.begin());
    bx.write(padded.data());
    bx.sync(XCL_BO_SYNC_BO_TO_DEVICE);
    auto t0 = std::chrono::steady_clock::now();
    auto run = kernel(bx, by, n_frames);
    run.wait();
    auto t1 = std::chrono::steady_clock::now();
    by.sync(XCL_BO_SYNC_BO_FROM_DEVICE);
    std::vector<char> out(out_size);
    by.read(out.data());
    std::ofstream fout(argv[4], std::ios::binary);
    fout.write(out.data(), out_bytes);
    double s = std::chrono::duration<double>(t1 - t0).count();
    std::printf("%u frames in %.6f s: %.1f frames/s (kernel run, buffers resident)\n", n_frames, s, n_frames / s);
    return 0;
}
"""


def makefile_text(platform: str) -> str:
    return f"""# qloom Alveo deploy (generated by qloom deploy)
VIVADO ?= vivado
VPP ?= v++
PLATFORM ?= {platform}
CXX ?= g++

all: xclbin host

xo: {KERNEL}.xo
{KERNEL}.xo: package_xo.tcl kernel.xml
\t@command -v $(VIVADO) >/dev/null || {{ echo "Vivado not on PATH: source settings64.sh of a Vitis install first"; exit 1; }}
\t$(VIVADO) -mode batch -nojournal -source package_xo.tcl

xclbin: qloom.xclbin
qloom.xclbin: {KERNEL}.xo link.cfg
\t@command -v $(VPP) >/dev/null || {{ echo "v++ not on PATH: source settings64.sh of a Vitis install first"; exit 1; }}
\t$(VPP) -l -t hw --platform $(PLATFORM) --config link.cfg -o qloom.xclbin {KERNEL}.xo

host: host.cpp
\t@test -n "$(XILINX_XRT)" || {{ echo "XILINX_XRT not set: source /opt/xilinx/xrt/setup.sh first"; exit 1; }}
\t$(CXX) -std=c++17 -O2 -I$(XILINX_XRT)/include -o host host.cpp -L$(XILINX_XRT)/lib -lxrt_coreutil -pthread

.PHONY: all xo xclbin host
"""


def write_alveo(d: Path, board: str, link: dict, clock_mhz: float, rtl_files: list[str]) -> dict:
    """Write the Alveo files into ``d`` (which already holds OUT/rtl's files); update
    ``link`` with the memory slot widths; return deploy.json's board part."""
    from qloom.deploy.ipxact import component_xml

    part, platform, bank = ALVEO[board]
    link.update({"top_in_width": link["in_width"], "top_out_width": link["out_width"],
                 "in_width": slot_width(link["in_width"]), "out_width": slot_width(link["out_width"]),
                 "word_bits": DW})
    params = kernel_params(link)
    (d / f"{KERNEL}.v").write_text(kernel_verilog(params))
    hdl = sorted(rtl_files + [f"{KERNEL}.v"])
    (d / "kernel.xml").write_text(kernel_xml())
    (d / "component.xml").write_text(component_xml(d / f"{KERNEL}.v", KERNEL, (VENDOR, LIBRARY, KERNEL, VERSION),
                                                   ARGS, hdl))
    (d / "package_xo.tcl").write_text(package_xo_tcl(part, hdl))
    (d / "link.cfg").write_text(link_cfg(bank, clock_mhz))
    (d / "host.cpp").write_text(HOST_CPP.replace("WORD_BYTES", str(DW // 8)).replace("KERNEL_NAME", KERNEL))
    (d / "Makefile").write_text(makefile_text(platform))
    return {"kind": "alveo", "top": KERNEL, "part": part, "platform": platform, "memory": bank,
            "kernel_params": params, "hdl": hdl, "tcl": ["package_xo.tcl"], "xo": f"{KERNEL}.xo",
            "xclbin": "qloom.xclbin",
            "run": "qloom run OUT -i X.npy -o Y.npy --target board (on the Alveo host, with XRT's pyxrt)"}
