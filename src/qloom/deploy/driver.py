"""qloom host driver: run a deployed accelerator on float32 data (FINN-like API).

This file is ``qloom/deploy/driver.py``, copied unchanged into ``OUT/deploy/driver/`` by
``qloom deploy``. It imports qloom for the host side (qloom must be installed where it runs):
the model's input quantization and output de-scaling (``graph.host_input`` /
``host_output`` of ``OUT/model.onnx``) and the stream packing (``qloom.flow.host_encode`` /
``host_decode``), the very code ``qloom rtlsim`` uses, so no second copy can drift.

    from driver import Accelerator                      # in OUT/deploy/driver
    acc = Accelerator(transport=SerialTransport("/dev/ttyUSB0"))   # ULX3S
    y = acc.execute(x)          # x float32 (N, *model input shape), y float32 (N, ...)

Transports move s_axis beats in and m_axis beats out (``exchange(in_beats, n_out_beats)``):

- :class:`SerialTransport` (ULX3S): pyserial at 3 Mbaud, the framed protocol of
  ``qloom_uart_link`` (requests ``0xA5 LEN payload CRC8``, responses
  ``0x5A LEN payload STATUS CRC8``; CRC-8 polynomial 0x07, see :func:`crc8`).
- :class:`SimTransport`: the same bytes through the Verilator model of ``qloom_uart_link``
  (``qloom.deploy.sim``), the FTDI side modelled at the bit level.
- :class:`XrtTransport` (Alveo U250, AWS F1): XRT's Python bindings (``pyxrt``): the
  ``.xclbin`` loaded, the input and output in device buffers, ``qloom_alveo_kernel`` run
  with (x, y, n_frames). Not run by qloom's tests (needs a card).
- :class:`AlveoSimTransport`: the same buffers through the Verilator model of the kernel
  with an AXI4 memory model and the host's register accesses (``qloom.deploy.sim``).
- :class:`PynqTransport` (Zynq boards): ``pynq.Overlay`` + ``allocate`` + the AXI DMA of
  the block design (MM2S -> s_axis, S2MM <- m_axis). Not run by qloom's tests (needs a board).

MO builds (``--arch mo``, deploy kind ``zynq-mo``) run frames through :class:`MoRunner`, the
one driver sequence of the MO engine (DRAM image loaded once into a buffer; per frame: input
tensor in, BASE, DESC, start, poll ap_done, output tensor out) over a memory and a register
interface: :class:`PynqMemory` / PYNQ's ``DefaultIP`` on the board (not run here),
:class:`SimMemory` / :class:`MoSimRegisters` (the Verilator model of ``qloom_mo_top`` with an
AXI4 memory model) in simulation.

Command line: ``python driver.py -i X.npy -o Y.npy [--target board|sim] [--port P]
[--throughput]``.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

REQUEST, RESPONSE = 0xA5, 0x5A
MAX_LEN = 0xFFFF  # payload bytes per request (16-bit LEN)


class DriverError(RuntimeError):
    """The link or the board misbehaved (CRC, framing, status bits, timeout)."""


def crc8(data: bytes, crc: int = 0) -> int:
    """CRC-8, polynomial x^8 + x^2 + x + 1 (0x07), initial 0, not reflected, no final xor
    (CRC-8/SMBUS in the CRC RevEng catalogue; check value 0xF4 for b"123456789")."""
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def beats_to_bytes(beats, width_bits: int) -> bytes:
    """s_axis beats (ints < 2**width_bits, width a multiple of 8) -> bytes, each beat
    least significant byte first."""
    n = width_bits // 8
    return b"".join(int(b).to_bytes(n, "little") for b in beats)


def bytes_to_beats(data: bytes, width_bits: int) -> list[int]:
    """Inverse of :func:`beats_to_bytes`."""
    n = width_bits // 8
    if len(data) % n:
        raise DriverError(f"{len(data)} bytes are not a whole number of {n}-byte beats")
    return [int.from_bytes(data[i:i + n], "little") for i in range(0, len(data), n)]


def frame_requests(payload: bytes, beat_bytes: int) -> bytes:
    """Requests carrying ``payload`` (split on beat boundaries into LEN <= 65535 bytes)."""
    step = MAX_LEN - MAX_LEN % beat_bytes
    out = bytearray()
    for i in range(0, len(payload), step):
        part = payload[i:i + step]
        head = len(part).to_bytes(2, "little")
        out += bytes([REQUEST]) + head + part + bytes([crc8(head + part)])
    return bytes(out)


def parse_responses(data: bytes, payload_len: int, n: int) -> bytes:
    """The payloads of ``n`` responses of ``payload_len`` bytes each, concatenated; raises
    DriverError on a bad header, length, CRC or a non-zero status (link errors)."""
    size = 1 + 2 + payload_len + 2
    if len(data) != n * size:
        raise DriverError(f"expected {n} responses of {size} bytes, got {len(data)} bytes")
    out = bytearray()
    for k in range(n):
        r = data[k * size:(k + 1) * size]
        if r[0] != RESPONSE or int.from_bytes(r[1:3], "little") != payload_len:
            raise DriverError(f"response {k}: bad header {r[:3].hex()}")
        if crc8(r[1:-1]) != r[-1]:
            raise DriverError(f"response {k}: CRC mismatch")
        status = r[-2] >> 4
        if status:
            names = [s for bit, s in zip((8, 4, 2, 1), ("input FIFO overflow", "request length",
                     "UART framing", "request CRC")) if status & bit]
            raise DriverError(f"response {k}: board reports {', '.join(names)} error (press FIRE1 to reset)")
        out += r[3:3 + payload_len]
    return bytes(out)


class _UartLink:
    """Beats <-> the framed byte protocol; subclasses move the bytes."""

    def __init__(self, link: dict):
        self.link = link

    def exchange(self, in_beats, n_out_beats: int) -> list[int]:
        L = self.link
        per = L["out_beats"]
        if n_out_beats % per:
            raise DriverError(f"{n_out_beats} output beats are not whole frames of {per}")
        n_resp = n_out_beats // per
        req = frame_requests(beats_to_bytes(in_beats, L["in_width"]), L["in_width"] // 8)
        size = per * L["out_width"] // 8
        raw = self.transfer(req, n_resp * (size + 5))
        return bytes_to_beats(parse_responses(raw, size, n_resp), L["out_width"])

    def transfer(self, request: bytes, n_bytes: int) -> bytes:
        raise NotImplementedError


class SerialTransport(_UartLink):
    """The ULX3S over its FTDI USB serial port (pyserial), e.g. ``/dev/ttyUSB0``."""

    def __init__(self, port: str, link: dict, timeout_s: float = 10.0):
        super().__init__(link)
        import serial  # pyserial

        self.ser = serial.Serial(port, baudrate=link["baud"], bytesize=8, parity="N", stopbits=1,
                                 timeout=timeout_s)

    def transfer(self, request: bytes, n_bytes: int) -> bytes:
        self.ser.reset_input_buffer()
        self.ser.write(request)
        data = self.ser.read(n_bytes)
        if len(data) != n_bytes:
            raise DriverError(f"timeout: {len(data)} of {n_bytes} response bytes")
        return data


class SimTransport(_UartLink):
    """The Verilator model of ``qloom_uart_link`` (binary from ``qloom.deploy.sim``), run in
    ``rundir`` (where qloom_top's .mem files are); the host's bit period is the board's
    (``link["host_cycles_per_bit"]``: clock / baud, not rounded)."""

    def __init__(self, binary, rundir, link: dict):
        super().__init__(link)
        self.binary, self.rundir = Path(binary), Path(rundir)
        self.stats = {}

    def transfer(self, request: bytes, n_bytes: int) -> bytes:
        period = float(self.link["host_cycles_per_bit"])
        max_cycles = int(200_000 + 2 * 10 * period * (len(request) + n_bytes))
        with tempfile.TemporaryDirectory(prefix="qloom-uart-") as d:
            fin, fout = Path(d) / "in.bin", Path(d) / "out.bin"
            fin.write_bytes(request)
            r = subprocess.run([str(self.binary), str(fin), str(fout), str(n_bytes), repr(period),
                                str(max_cycles)], cwd=self.rundir, capture_output=True, text=True)
            if r.returncode != 0:
                raise DriverError(f"simulation failed (rc {r.returncode}): {r.stderr.strip()[:200]}")
            ends = [l.split() for l in r.stdout.splitlines() if l.startswith("end ")]
            end = ends[-1] if ends else []
            if len(end) < 5:
                raise DriverError(f"simulation printed no result: {r.stdout[:200]}")
            self.stats = {"cycles": int(end[1]), "status": end[2], "status_pins": int(end[4])}
            if end[2] != "ok":
                raise DriverError(f"simulation {end[2]} after {end[1]} cycles with {end[3]} of {n_bytes} bytes")
            return fout.read_bytes()


class PynqTransport:
    """Zynq: the bitstream + .hwh of ``make bitstream`` through PYNQ (``pynq.Overlay``):
    ``axi_dma_0`` in simple mode, the whole batch in one MM2S transfer and one S2MM transfer
    per output frame (``qloom_zynq_top`` ends each frame with TLAST). Beats are
    ``link["in_width"]``/``["out_width"]`` bits (the DMA widths), least significant byte first."""

    def __init__(self, bitfile, link: dict):
        from pynq import Overlay, allocate  # on the board only

        self.link = link
        self.ov = Overlay(str(bitfile))
        self.dma = self.ov.axi_dma_0
        self.allocate = allocate

    def exchange(self, in_beats, n_out_beats: int) -> list[int]:
        L = self.link
        src = np.frombuffer(beats_to_bytes(in_beats, L["in_width"]), dtype=np.uint8)
        frame_bytes = L["out_beats"] * L["out_width"] // 8
        n = n_out_beats // L["out_beats"]
        ib = self.allocate(shape=src.shape, dtype=np.uint8)
        ob = self.allocate(shape=(n, frame_bytes), dtype=np.uint8)
        ib[:] = src
        self.dma.sendchannel.transfer(ib)
        for k in range(n):
            self.dma.recvchannel.transfer(ob[k])
            self.dma.recvchannel.wait()
        self.dma.sendchannel.wait()
        return bytes_to_beats(bytes(np.asarray(ob)), L["out_width"])


class AxisSimTransport:
    """Zynq builds in simulation: the DMA's stream side, i.e. the beats of ``PynqTransport``
    through a Verilator model of ``qloom_zynq_top`` (qloom.sim.verilator.AxisSim), run with
    qloom_top's data files (.mem) from ``deploy_dir``."""

    def __init__(self, deploy_dir, link: dict, hdl: list[str]):
        from qloom.sim.verilator import AxisSim

        d = Path(deploy_dir)
        # every data file $readmemh reads (weights, thresholds, binary-search stages)
        self.files = {f: str(d / f) for f in hdl if not f.endswith((".v", ".vh", ".sv"))}
        self.sim = AxisSim("qloom_zynq_top", [d / f for f in hdl if f.endswith(".v") or f.endswith(".vh")],
                           in_width=link["in_width"], out_width=link["out_width"])

    def exchange(self, in_beats, n_out_beats: int) -> list[int]:
        return list(self.sim.run(list(in_beats), n_out_beats, files=self.files).outputs)


def pack_words(beats, slot_bits: int, word_bits: int) -> bytes:
    """Alveo buffer: beats in ``slot_bits`` slots (slot 0 least significant), zero-padded to
    whole ``word_bits`` memory words, bytes little-endian."""
    data = beats_to_bytes(beats, slot_bits)
    wb = word_bits // 8
    return data + bytes(-len(data) % wb)


def kernel_arg_offsets(kernel_xml) -> dict[str, int]:
    """Register offsets of the kernel's arguments, read from ``kernel.xml``."""
    import xml.etree.ElementTree as ET

    root = ET.parse(kernel_xml).getroot()
    return {a.get("name"): int(a.get("offset"), 16) for a in root.iter("arg")}


class AlveoSimTransport:
    """Alveo in simulation: the packed buffers through the Verilator model of
    ``qloom_alveo_kernel`` (binary from ``qloom.deploy.sim.build_kernel_sim``) run in
    ``rundir`` (qloom_top's .mem files), the arguments written at the offsets of
    ``kernel.xml``. ``stats``: ``cycles`` of the whole run, ``kernel_cycles`` from
    ap_start to ap_done seen."""

    def __init__(self, binary, rundir, link: dict, kernel_xml):
        self.binary, self.rundir, self.link = Path(binary), Path(rundir), link
        self.offsets = kernel_arg_offsets(kernel_xml)
        self.stats = {}

    def exchange(self, in_beats, n_out_beats: int) -> list[int]:
        L = self.link
        if n_out_beats % L["out_beats"]:
            raise DriverError(f"{n_out_beats} output beats are not whole frames of {L['out_beats']}")
        n = n_out_beats // L["out_beats"]
        data = pack_words(in_beats, L["in_width"], L["word_bits"])
        out_bytes = n_out_beats * L["out_width"] // 8
        max_cycles = 100_000 + 4 * (len(data) + out_bytes) + 2_000 * n * (L["in_beats"] + L["out_beats"])
        with tempfile.TemporaryDirectory(prefix="qloom-alveo-") as d:
            fin, fout = Path(d) / "in.bin", Path(d) / "out.bin"
            fin.write_bytes(data)
            o = self.offsets
            r = subprocess.run([str(self.binary), str(fin), str(fout), str(n), str(out_bytes), str(max_cycles),
                                hex(o["x"]), hex(o["y"]), hex(o["n_frames"])],
                               cwd=self.rundir, capture_output=True, text=True)
            if r.returncode != 0:
                raise DriverError(f"simulation failed (rc {r.returncode}): {r.stderr.strip()[:200]}")
            ends = [l.split() for l in r.stdout.splitlines() if l.startswith("end ")]
            if not ends or len(ends[-1]) < 4:
                raise DriverError(f"simulation printed no result: {r.stdout[:200]}")
            end = ends[-1]
            self.stats = {"cycles": int(end[1]), "status": end[2], "kernel_cycles": int(end[3])}
            if end[2] != "ok":
                raise DriverError(f"simulation {end[2]} after {end[1]} cycles")
            return bytes_to_beats(fout.read_bytes(), L["out_width"])


class XrtTransport:
    """Alveo: ``xclbin`` (``make xclbin``) loaded on device ``device`` through pyxrt; one
    kernel run per ``exchange``: x and y device buffers (whole 512-bit words), synced to and
    from the card around the run."""

    def __init__(self, xclbin, link: dict, device: int = 0, kernel: str = "qloom_alveo_kernel"):
        import pyxrt  # XRT's Python bindings, on the card's host only

        self.pyxrt, self.link = pyxrt, link
        self.device = pyxrt.device(device)
        uuid = self.device.load_xclbin(str(xclbin))
        self.kernel = pyxrt.kernel(self.device, uuid, kernel)

    def exchange(self, in_beats, n_out_beats: int) -> list[int]:
        L, x = self.link, self.pyxrt
        data = pack_words(in_beats, L["in_width"], L["word_bits"])
        out_bytes = n_out_beats * L["out_width"] // 8
        out_len = out_bytes + (-out_bytes % (L["word_bits"] // 8))
        bx = x.bo(self.device, len(data), x.bo.normal, self.kernel.group_id(0))
        by = x.bo(self.device, out_len, x.bo.normal, self.kernel.group_id(1))
        bx.write(np.frombuffer(data, dtype=np.uint8), 0)
        bx.sync(x.xclBOSyncDirection.XCL_BO_SYNC_BO_TO_DEVICE, len(data), 0)
        run = self.kernel(bx, by, n_out_beats // L["out_beats"])
        run.wait()
        by.sync(x.xclBOSyncDirection.XCL_BO_SYNC_BO_FROM_DEVICE, out_len, 0)
        raw = bytes(np.asarray(by.read(out_len, 0), dtype=np.uint8))
        return bytes_to_beats(raw[:out_bytes], L["out_width"])


class SimMemory:
    """A DRAM buffer in simulation: ``n`` bytes at bus address ``physical_address``."""

    def __init__(self, n: int, physical_address: int = 0x1000_0000):
        self.data, self.physical_address = bytearray(n), physical_address

    def write(self, offset: int, data: bytes) -> None:
        self.data[offset:offset + len(data)] = data

    def read(self, offset: int, n: int) -> bytes:
        return bytes(self.data[offset:offset + n])

    def flush(self) -> None:  # the simulated DRAM has no cache
        pass

    invalidate = flush


class PynqMemory:
    """A DRAM buffer on the board: ``pynq.allocate`` (physically contiguous, page aligned),
    synced around the engine's run (the PS's caches)."""

    def __init__(self, n: int):
        from pynq import allocate  # on the board only

        self.buf = allocate(shape=(n,), dtype=np.uint8)
        self.physical_address = int(self.buf.physical_address)

    def write(self, offset: int, data: bytes) -> None:
        self.buf[offset:offset + len(data)] = np.frombuffer(data, dtype=np.uint8)

    def read(self, offset: int, n: int) -> bytes:
        return bytes(np.asarray(self.buf[offset:offset + n]))

    def flush(self) -> None:
        self.buf.sync_to_device()

    def invalidate(self) -> None:
        self.buf.sync_from_device()


class MoSimRegisters:
    """qloom_mo_top's control registers in simulation: writes are kept; writing CTRL bit 0
    (ap_start) runs the Verilator model (binary ``binary``: tb_mo.cpp, which programs BASE,
    DESC and CTRL over AXI4-Lite as here and polls ap_done) on ``mem``'s bytes and puts the
    DRAM it leaves back into ``mem``; CTRL then reads ap_done (and the error bit).
    ``latency``/``gap``: the memory model (cycles to a burst's first beat, cycles per
    beat). ``stats``: ``cycles`` of the last run (start to ap_done)."""

    def __init__(self, binary, mem: SimMemory, regs: dict, latency: int = 20, gap: int = 1):
        self.binary, self.mem, self.map = Path(binary), mem, regs
        self.latency, self.gap = latency, gap
        self.values = {v: 0 for v in regs.values()}
        self.values[regs["CTRL"]] = 4  # ap_idle
        self.stats = {}

    def write(self, offset: int, value: int) -> None:
        self.values[offset] = int(value)
        if offset == self.map["CTRL"] and value & 1:
            self._run()

    def read(self, offset: int) -> int:
        return self.values[offset]

    def _run(self) -> None:
        if self.values[self.map["BASE"]] != self.mem.physical_address:
            raise DriverError(f"BASE {self.values[self.map['BASE']]:#x} is not the buffer's address "
                              f"{self.mem.physical_address:#x}")
        with tempfile.TemporaryDirectory(prefix="qloom-mo-") as d:
            fin, fout = Path(d) / "in.bin", Path(d) / "out.bin"
            fin.write_bytes(bytes(self.mem.data))
            r = subprocess.run([str(self.binary), str(fin), str(fout), str(self.latency), str(self.gap),
                                str(self.values[self.map["DESC"]]), hex(self.values[self.map["BASE"]])],
                               capture_output=True, text=True)
            if r.returncode == 4:
                self.values[self.map["CTRL"]] = 2 | 4 | 16
                return
            if r.returncode != 0:
                raise DriverError(f"MO engine simulation failed (rc {r.returncode}): {r.stderr.strip()[:200]}")
            self.mem.data[:] = fout.read_bytes()
            self.stats = {"cycles": int(r.stdout.split("cycles ")[-1].split()[0])}
            self.values[self.map["CTRL"]] = 2 | 4  # ap_done, ap_idle


class MoRunner:
    """The MO engine's driver sequence (:mod:`qloom.deploy.zynq_mo`). ``image``: the DRAM
    image (``image.bin``: header, descriptors, weights, thresholds); ``mem``: a buffer of the
    header's ``dram_bytes`` (:class:`PynqMemory`, :class:`SimMemory`); ``regs``: the
    engine's control registers (``write(offset, value)``, ``read(offset)``) at offsets
    ``regmap`` ({CTRL, BASE, DESC}). The image is copied into the buffer once; the feature
    maps' regions behind it are the engine's to write."""

    def __init__(self, image: bytes, mem, regs, regmap: dict, timeout_s: float = 60.0):
        from qloom.mo.engine import descriptors, header

        self.head, self.mem, self.regs, self.map = header(image), mem, regs, regmap
        self.last = descriptors(image)[-2]  # the last layer's tile: the output's format
        self.timeout_s = timeout_s
        mem.write(0, image)

    def run_frame(self, q: np.ndarray) -> np.ndarray:
        """One frame: the integer input stream ``q`` (in_h*in_w*in_c elements, stream order)
        -> the output tensor's elements, int64, flat in stream order."""
        from qloom.mo.layout import pack, unpack

        h, last = self.head, self.last
        fmt = h["in_fmt"]
        x = np.asarray(q, dtype=np.int64).reshape(h["in_h"] * h["in_w"], h["in_c"])
        self.mem.write(h["in_addr"], pack(x, fmt & 0xFF, bipolar=bool(fmt >> 9 & 1)))
        self.mem.flush()
        self.regs.write(self.map["BASE"], self.mem.physical_address)
        self.regs.write(self.map["DESC"], h["desc_addr"])
        self.regs.write(self.map["CTRL"], 1)
        t0 = time.perf_counter()
        while True:
            ctrl = self.regs.read(self.map["CTRL"])
            if ctrl & 2:
                break
            if time.perf_counter() - t0 > self.timeout_s:
                raise DriverError(f"the MO engine did not finish within {self.timeout_s:g} s")
        if ctrl & 16:
            raise DriverError("the MO engine stopped at a descriptor it has no unit for")
        self.mem.invalidate()
        raw = self.mem.read(h["out_addr"], h["out_bytes"])
        return unpack(raw, last.oh * last.ow, last.oc, last.bits >> 16 & 0xFF, bool(last.flags & 512),
                      bool(last.flags & 1024)).reshape(-1)


def mo_runner(out, target: str = "sim", bitfile=None, latency: int = 20, gap: int = 1) -> MoRunner:
    """The :class:`MoRunner` of a deployed MO build ``out``: ``target`` "sim" (Verilator:
    qloom_mo_top built from ``OUT/deploy``'s sources with deploy.json's parameters) or
    "board" (PYNQ: the overlay ``bitfile``, default ``OUT/deploy/qloom_zynq.bit``)."""
    from qloom.mo.engine import header

    d = Path(out) / "deploy"
    info = json.loads((d / "deploy.json").read_text())
    image = (d / info["image"]).read_bytes()
    n = header(image)["dram_bytes"]
    if target == "sim":
        from qloom.sim.mo_engine import build_top

        binary = build_top([d / f for f in info["hdl"]], info["rtl_params"])
        mem = SimMemory(n)
        return MoRunner(image, mem, MoSimRegisters(binary, mem, info["registers"], latency, gap), info["registers"])
    from pynq import Overlay  # on the board only

    ov = Overlay(str(bitfile or d / info["bit"]))
    return MoRunner(image, PynqMemory(n), getattr(ov, info["ip_instance"]), info["registers"])


def sim_transport(out):
    """The driver's simulation transport for ``OUT/deploy``: ULX3S: SimTransport, the
    Verilator model of ``qloom_uart_link`` (built from the deployed sources, cached); Zynq:
    AxisSimTransport, ``qloom_zynq_top`` at the DMA's stream side; Zynq MO: the
    :class:`MoRunner` of the Verilator engine; Alveo:
    AlveoSimTransport, the RTL kernel with memory and control."""
    from qloom.deploy.sim import build_kernel_sim, build_link_sim

    d = Path(out) / "deploy"
    if not (d / "deploy.json").is_file():
        raise DriverError(f"{out}: no deploy/deploy.json; run qloom deploy {out} first")
    info = json.loads((d / "deploy.json").read_text())
    if info.get("kind") == "zynq-mo":
        return mo_runner(out)
    if info.get("kind") == "zynq":
        return AxisSimTransport(d, info["link"], info["hdl"])
    if info.get("kind") == "alveo":
        srcs = [d / f for f in info["hdl"] if f.endswith(".v")]
        return AlveoSimTransport(build_kernel_sim(srcs, info["kernel_params"]), d, info["link"], d / "kernel.xml")
    srcs = [d / s for s in info["sources"] if s != "qloom_ulx3s.v"]
    binary = build_link_sim(srcs, info["link_params"])
    return SimTransport(binary, d, info["link"])


class Accelerator:
    """A deployed qloom accelerator. ``out_dir``: the build folder OUT (default: the one
    this file sits in, ``OUT/deploy/driver/driver.py``); ``transport``: one of the classes
    above (default: :class:`SimTransport` built from OUT/deploy by qloom)."""

    def __init__(self, out_dir=None, transport=None):
        from qloom.flow import _load_out

        self.out = Path(out_dir) if out_dir else Path(__file__).resolve().parents[2]
        self.deploy = json.loads((self.out / "deploy" / "deploy.json").read_text())
        if self.deploy.get("kind") == "zynq-mo":  # transport: a MoRunner (default: simulation)
            from qloom.passes import lower_model

            self.meta = json.loads((self.out / "build.json").read_text())
            self.graph = lower_model(self.out / "model.onnx", input_type=self.meta.get("input_type"))
            self.transport = transport or mo_runner(self.out)
            return
        self.graph, _, self.meta = _load_out(self.out)
        if transport is None:
            transport = sim_transport(self.out)
        self.transport = transport

    def execute(self, x: np.ndarray) -> np.ndarray:
        """x float32 (N, *model input shape), batch first -> float32 as the QONNX model outputs."""
        from qloom.emulate import check_input
        from qloom.flow import host_decode, host_encode, out_beats_per_frame

        x = check_input(self.graph, np.asarray(x, dtype=np.float32))
        n = len(x)
        if self.deploy.get("kind") == "zynq-mo":
            q = self.graph.host_input(x)
            ys = np.stack([self.transport.run_frame(q[i]) for i in range(n)])
            return self.graph.host_output(ys.reshape((n,) + tuple(self.graph.last.out_shape)))
        beats = host_encode(self.graph, self.meta, x)
        out = self.transport.exchange(beats, n * out_beats_per_frame(self.graph, self.meta))
        return host_decode(self.graph, self.meta, out, n)

    def throughput_test(self, x: np.ndarray) -> dict:
        """Run ``x`` and return frames/s end to end (host packing, link, accelerator)."""
        t0 = time.perf_counter()
        self.execute(x)
        dt = time.perf_counter() - t0
        return {"frames": len(x), "seconds": dt, "frames_per_s": len(x) / dt}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="run a deployed qloom accelerator")
    p.add_argument("-i", "--input", required=True, help="input .npy, float32, batch first")
    p.add_argument("-o", "--output", help="output .npy")
    p.add_argument("--target", choices=["board", "sim"], default="board")
    p.add_argument("--port", default="/dev/ttyUSB0", help="ULX3S serial port (board target)")
    p.add_argument("--bitfile", help="Zynq: the .bit (its .hwh beside it); Alveo: the .xclbin")
    p.add_argument("--throughput", action="store_true", help="print frames/s")
    a = p.parse_args(argv)
    out = Path(__file__).resolve().parents[2]
    dep = json.loads((out / "deploy" / "deploy.json").read_text())
    transport = None
    if a.target == "board":
        if dep["kind"] == "ulx3s":
            transport = SerialTransport(a.port, dep["link"])
        elif dep["kind"] == "alveo":
            transport = XrtTransport(a.bitfile or out / "deploy" / dep["xclbin"], dep["link"])
        elif dep["kind"] == "zynq-mo":
            transport = mo_runner(out, "board", a.bitfile)
        else:
            transport = PynqTransport(a.bitfile or out / "deploy" / "qloom_zynq.bit", dep["link"])
    acc = Accelerator(out, transport)
    x = np.load(a.input, allow_pickle=False)
    t0 = time.perf_counter()
    y = acc.execute(x)
    dt = time.perf_counter() - t0
    if a.output:
        np.save(a.output, y)
    if a.throughput:
        print(f"{len(x)} frames in {dt:.3f} s: {len(x) / dt:,.1f} frames/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
