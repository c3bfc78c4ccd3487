"""From build to board: ``qloom deploy OUT`` writes ``OUT/deploy/`` for the build's board, and
``qloom run`` drives it through the one host driver (``driver.py``).

- ECP5 board ``ulx3s-85f`` (:mod:`qloom.deploy.ulx3s`): board top with PLL, LPF pin
  constraints, the UART host link ``qloom_uart_link`` around ``qloom_top``, a Makefile
  (``make bitstream``: Yosys + nextpnr-ecp5 + ecppack; ``make program``: openFPGALoader), and
  optionally the bitstream itself (``bitstream=True``).
- Zynq boards ``pynq-z1``, ``ultra96``, ``zcu104`` (:mod:`qloom.deploy.zynq`): Vivado TCL
  (IP packaging, block design with the PS and an AXI DMA, build) and a Makefile.
- Alveo boards ``u250``, ``aws-f1`` (:mod:`qloom.deploy.alveo`): a Vitis RTL kernel (AXI4
  master read/write engines around ``qloom_top``, ``ap_ctrl_hs`` AXI4-Lite control),
  ``kernel.xml``, an IP-XACT ``component.xml``, ``package_xo.tcl``, a ``v++`` link config, a
  C++ XRT host program and a Makefile.

``OUT/deploy/`` is written atomically (a temporary folder, then a rename). Its
``deploy.json`` records the board, the files and the host link (``link``: stream widths in
bits, output beats per frame, baud rate and cycles per bit for the UART).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from qloom.errors import QloomError
from qloom.fileio import make_temp_dir, publish_dir

HERE = Path(__file__).resolve().parent
VERILOG = HERE / "verilog"
ZYNQ_BOARDS = ("pynq-z1", "ultra96", "zcu104")
ECP5_BOARDS = ("ulx3s-85f",)
ALVEO_BOARDS = ("u250", "aws-f1")
BOARDS = ECP5_BOARDS + ZYNQ_BOARDS + ALVEO_BOARDS



def _read_build(out: Path) -> tuple[dict, dict]:
    if not (out / "build.json").is_file() or not (out / "estimates.json").is_file():
        raise QloomError(f"{out}: not a qloom build folder (no build.json); run qloom build first")
    return (json.loads((out / "build.json").read_text()),
            json.loads((out / "estimates.json").read_text()))


def deploy(out: str | os.PathLike, board: str | None = None, bitstream: bool = False,
           progress=print) -> dict:
    """Write ``OUT/deploy/`` for ``board`` (default: the build's board, estimates.json).

    Returns deploy.json's content plus ``dir``. ``bitstream``: also run the open ECP5 flow
    (minutes). Raises QloomError for a folder that is not a build or a board without a
    deploy flow.
    """
    from qloom.flow import _load_out, out_beats_per_frame

    out = Path(out)
    meta, est = _read_build(out)
    board = board or est.get("board")
    if board not in BOARDS:
        raise QloomError(f"board {board}: no deploy flow for it (qloom deploy supports "
                         f"{', '.join(BOARDS)})")
    clock = float(est["clock_mhz"])
    if meta.get("arch") == "mo":
        return _deploy_mo(out, board, meta, clock)
    graph, _, _ = _load_out(out)
    link = {"in_width": meta["port_in_width"], "out_width": meta["port_out_width"],
            "out_beats": out_beats_per_frame(graph, meta),
            "in_beats": _in_elems_per_frame(graph) // meta["in_elems"]}
    tmp = make_temp_dir(out, ".deploy.tmp-")
    try:
        rtl = [p for p in (out / "rtl").iterdir() if p.is_file()]
        for p in rtl:
            shutil.copy(p, tmp / p.name)
        if board in ECP5_BOARDS:
            info = _ulx3s(tmp, link, clock)
        elif board in ALVEO_BOARDS:
            from qloom.deploy.alveo import write_alveo

            info = write_alveo(tmp, board, link, clock, [p.name for p in rtl])
        else:
            from qloom.deploy.zynq import write_zynq

            info = write_zynq(tmp, board, link, clock, [p.name for p in rtl])
        driver = tmp / "driver"
        driver.mkdir()
        shutil.copy(HERE / "driver.py", driver / "driver.py")
        info.update({"board": board, "clock_mhz": clock, "link": link})
        (tmp / "deploy.json").write_text(json.dumps(info, indent=2) + "\n")
        publish_dir(tmp, out / "deploy")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    info["dir"] = str(out / "deploy")
    if bitstream and board in ECP5_BOARDS:
        from qloom.deploy.ulx3s import build_bitstream

        info["pnr"] = build_bitstream(out / "deploy", info["sources"], clock, progress=progress)
        (out / "deploy" / ".deploy.json.tmp").write_text(json.dumps(
            {k: v for k, v in info.items() if k != "dir"}, indent=2) + "\n")
        os.replace(out / "deploy" / ".deploy.json.tmp", out / "deploy" / "deploy.json")
    return info


def _deploy_mo(out: Path, board: str, meta: dict, clock: float) -> dict:
    """``OUT/deploy`` of an MO build (:mod:`qloom.deploy.zynq_mo`; Zynq boards only)."""
    if board not in ZYNQ_BOARDS:
        raise QloomError(f"board {board}: an MO build deploys to a Zynq board ({', '.join(ZYNQ_BOARDS)}): "
                         "its engine reads DRAM through the PS")
    if not (out / "rtl" / "qloom_mo_top.v").is_file() or "rtl_params" not in meta:
        raise QloomError(f"{out}: an MO build without the engine's RTL (OUT/rtl/qloom_mo_top.v); rebuild it")
    from qloom.deploy.zynq_mo import write_zynq_mo

    tmp = make_temp_dir(out, ".deploy.tmp-")
    try:
        for p in (out / "rtl").iterdir():
            if p.is_file():
                shutil.copy(p, tmp / p.name)
        info = write_zynq_mo(tmp, out, board, clock, meta)
        (tmp / "driver").mkdir()
        shutil.copy(HERE / "driver.py", tmp / "driver" / "driver.py")
        info.update({"board": board, "clock_mhz": clock})
        (tmp / "deploy.json").write_text(json.dumps(info, indent=2) + "\n")
        publish_dir(tmp, out / "deploy")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    info["dir"] = str(out / "deploy")
    return info


def _in_elems_per_frame(graph) -> int:
    import numpy as np

    return int(np.prod(graph.host_input.order.shape))


def _ulx3s(d: Path, link: dict, clock: float) -> dict:
    from qloom.deploy import ulx3s

    pll = ulx3s.pll_dividers(ulx3s.BOARD_CLOCK_MHZ, clock)
    cpb = ulx3s.uart_clks_per_bit(pll.f_out_mhz)
    link.update({"baud": ulx3s.BAUD, "clks_per_bit": cpb,
                 "host_cycles_per_bit": pll.f_out_mhz * 1e6 / ulx3s.BAUD,
                 "in_fifo": max(16, 2 * link["in_beats"]), "out_fifo": max(16, 2 * link["out_beats"])})
    for p in sorted(VERILOG.glob("*.v")):
        shutil.copy(p, d / p.name)
    params = {"CLKS_PER_BIT": cpb, "IN_W": link["in_width"], "OUT_W": link["out_width"],
              "OUT_BEATS": link["out_beats"], "IN_FIFO": link["in_fifo"], "OUT_FIFO": link["out_fifo"]}
    (d / "qloom_ulx3s.v").write_text(ulx3s.top_verilog(pll, params))
    (d / "qloom_ulx3s.lpf").write_text(ulx3s.lpf_text())
    sources = sorted(p.name for p in d.glob("*.v"))
    (d / "Makefile").write_text(ulx3s.makefile_text(pll.f_out_mhz, sources))
    return {"kind": "ulx3s", "top": "qloom_ulx3s", "sources": sources, "link_params": params,
            "pll": {"clki_div": pll.clki_div, "clkfb_div": pll.clkfb_div, "clkop_div": pll.clkop_div,
                    "f_out_mhz": pll.f_out_mhz, "f_vco_mhz": pll.f_vco_mhz},
            "program": ulx3s.program_command(),
            "run": "python driver/driver.py --target board --port /dev/ttyUSB0 -i X.npy -o Y.npy"}


def sim_transport(out: str | os.PathLike):
    """The driver's simulation transport for ``OUT/deploy`` (see driver.sim_transport)."""
    from qloom.deploy.driver import sim_transport as make

    return make(out)


def run(out: str | os.PathLike, x, target: str = "sim", port: str | None = None):
    """``qloom run``: ``x`` float32 (N, ...) through the deployed accelerator -> (y float32,
    stats: ``clock_mhz`` and, for the simulated UART top, ``cycles`` of the whole exchange).
    ``target`` "sim" (Verilator: the ULX3S UART top, a Zynq build's stream side, or the
    Alveo RTL kernel with its memory and control) or "board" (the ULX3S on serial ``port``;
    an Alveo card through XRT's pyxrt, on the card's host). Raises QloomError (one line) for a folder that
    is not deployed, a port that does not open, or a link error."""
    from qloom.deploy.driver import Accelerator, DriverError, SerialTransport

    out = Path(out)
    dj = out / "deploy" / "deploy.json"
    if not dj.is_file():
        raise QloomError(f"{out}: no deploy/deploy.json; run qloom deploy {out} first")
    info = json.loads(dj.read_text())
    try:
        if target == "sim":
            transport = sim_transport(out)
        elif info["kind"] == "alveo":
            from qloom.deploy.driver import XrtTransport

            xclbin = out / "deploy" / info["xclbin"]
            try:
                transport = XrtTransport(xclbin, info["link"])
            except ImportError:
                raise QloomError(f"{out}: --target board on an Alveo card needs XRT's Python "
                                 "bindings (pyxrt: source /opt/xilinx/xrt/setup.sh)") from None
            except (OSError, RuntimeError) as e:
                raise QloomError(f"{xclbin}: cannot load it on the Alveo card "
                                 f"({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
        elif info["kind"] != "ulx3s":
            raise QloomError(f"{out}: --target board runs on the Zynq board itself: "
                             "python deploy/driver/driver.py --target board there")
        else:
            try:
                transport = SerialTransport(port or "/dev/ttyUSB0", info["link"])
            except (ImportError, OSError) as e:
                raise QloomError(f"{port or '/dev/ttyUSB0'}: cannot open the ULX3S serial port "
                                 f"({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
        y = Accelerator(out, transport).execute(x)
        return y, {"clock_mhz": info["clock_mhz"], **dict(getattr(transport, "stats", {}))}
    except DriverError as e:
        raise QloomError(f"{out}: {e}") from None


def demo_deploy(model, out: str | os.PathLike, x, y_emu, board: str = "ulx3s-85f", bitstream: bool = True,
                n_images: int = 20, progress=print) -> bool:
    """The last step of ``qloom demo``: the model deployed to the ULX3S (``out``: its build
    folder; built here for ``board`` when it is not one already), the bitstream built
    (Yosys + nextpnr-ecp5 + ecppack; minutes) unless ``bitstream`` is False, ``n_images``
    of ``x`` (float32, batch first) run through the driver on the simulated board top (the
    UART link at the bit level) and compared with ``y_emu`` (the emulator's outputs for
    ``x``); prints the commands that program a real board and run it. True when equal."""
    import numpy as np

    from qloom.flow import build

    out = Path(out)
    if not (out / "build.json").is_file() or _read_build(out)[1].get("board") != board:
        r = build(model, out, board=board)
        progress(f"  built for {board} -> {out}: {r['note']}")
    info = deploy(out, board=board, bitstream=bitstream, progress=progress)
    d = info["dir"]
    pll = info["pll"]
    progress(f"  board top qloom_ulx3s: 25 MHz -> PLL {pll['f_out_mhz']:g} MHz, UART {info['link']['baud']:,} baud, "
             f"pins from ulx3s_v20.lpf")
    if "pnr" in info:
        fmax = ", ".join(f"{k} {v:.1f} MHz" for k, v in info["pnr"]["fmax_mhz"].items() if v)
        progress(f"  bitstream {d}/qloom_ulx3s.bit (Fmax {fmax}; {info['pnr']['seconds']:g} s)")
    else:
        progress(f"  bitstream skipped (--no-bitstream): make -C {d} bitstream")
    m = min(n_images, len(x))
    y, stats = run(out, x[:m], target="sim")
    equal = bool(np.array_equal(y, y_emu[:m]))
    c, f = stats["cycles"], stats["clock_mhz"]
    progress(f"  board top simulated through the driver (UART bytes at the bit level, {m} images): "
             f"{'equal to the emulator, bit for bit' if equal else 'DIFFERENT from the emulator'}; "
             f"{c:,} cycles at {f:g} MHz = {m * f * 1e6 / c:,.0f} frames/s through the link")
    progress("  on a real ULX3S (USB cable on the US1 port):")
    progress(f"    make -C {d} program          # {info['program']}")
    progress(f"    qloom run {out} -i X.npy -o Y.npy --target board --port /dev/ttyUSB0")
    return equal
