"""Verilator simulation of the MO engine (``qloom/mo/verilog/qloom_mo_engine.v``, behind its
AXI4-Lite control port ``qloom_mo_top.v``, programmed as the driver does it) with an
AXI4 memory model (``tb_mo.cpp``: DRAM as a byte array; a read burst's first beat
``latency`` cycles after its address, then one beat of the engine's AXI4 data width (32,
64 or 128 bits) every ``gap`` cycles; writes at
the same rate, the response ``latency`` cycles after the last beat).

:func:`rtlsim_mo` runs frames of a compiled schedule's DRAM image: the host writes the
input tensor (qloom.mo.layout records) at the header's ``in_addr``, the engine runs the
descriptors until END, the host reads the output tensor. Builds are cached under
:func:`qloom.sim.verilator.cache_dir`.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from qloom.errors import QloomError
from qloom.mo.build import engine_params, mac_bits, rtl_dir as _src_dir
from qloom.mo.engine import descriptors, header
from qloom.mo.schedule import check_buffers
from qloom.mo.layout import pack, unpack
from qloom.sim.verilator import build_testbench
from qloom.tools import run_tool

AXI_WIDTHS = (32, 64, 128)


def build_engine(db: int = 1, pe: int = 1, simd: int = 1, dw: int = 32, buffers: dict | None = None,
                 mac: dict | None = None) -> Path:
    """The testbench binary (built once per source contents, ``db`` (the DB parameter: 1
    double buffering, 0 serial), ``pe`` x ``simd`` MVAU lanes, ``dw`` the AXI4 data width
    in bits (32, 64, 128) and ``buffers`` ({IBUF, WBUF, TBUF, OBUF} bytes per half; default
    the RTL's), ``mac`` ({XBITS, WBITS}: :func:`qloom.mo.build.mac_bits`; default the
    RTL's 32); cached by :func:`qloom.sim.verilator.build_testbench`)."""
    from qloom.mo.build import RTL_FILES

    return build_top([_src_dir() / f for f in RTL_FILES],
                     {**(buffers or {}), **(mac or {}), "DB": int(db), "PE": int(pe), "SIMD": int(simd), "DW": int(dw)})


def build_top(sources, params: dict) -> Path:
    """The testbench binary of qloom_mo_top from ``sources`` (e.g. a deploy folder's copies)
    with Verilog ``params`` (:func:`qloom.mo.build.engine_params`; ``DW`` also sets the
    testbench's data width)."""
    dw = int(params.get("DW", 32))
    if dw not in AXI_WIDTHS:
        raise QloomError(f"the MO engine's AXI4 data width must be one of {AXI_WIDTHS} bits, not {dw}")
    return build_testbench("qloom_mo_top", _src_dir() / "tb_mo.cpp", "tb", [Path(s) for s in sources],
                           {k: int(v) for k, v in params.items()},
                           flags=["-Wno-fatal", "-Wno-WIDTH", "-Wno-BLKSEQ", "-CFLAGS", f"-DDW={dw}",
                                  # a large engine splits into many C++ files: no shared
                                  # precompiled header (its parallel build raced here)
                                  "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include"])


def image_buffers(image: bytes) -> dict:
    """The RTL engine's buffer parameters {IBUF, WBUF, TBUF, OBUF} (bytes per half) an MO
    image was compiled for: its header's ``in_buf``, ``w_buf``, ``t_buf``, ``out_buf``
    (the :class:`qloom.mo.schedule.Engine` the search chose; the same values as
    :func:`qloom.mo.build.engine_params`)."""
    head = header(image)
    return {"IBUF": head["in_buf"], "WBUF": head["w_buf"], "TBUF": head["t_buf"], "OBUF": head["out_buf"]}


def rtlsim_mo(image: bytes, q: np.ndarray, latency: int = 20, gap: int = 1,
              db: int = 1, dw: int = 32, base: int = 0x1000_0000,
              engine=None) -> tuple[np.ndarray, list[int]]:
    """Frames ``q`` (N, ...) of integer input streams through the engine: returns (the
    output tensors' elements (N, elems) int64, the cycles of each frame from start to
    done). ``latency`` cycles to a burst's first beat, ``gap`` cycles per beat of ``dw``
    bits (the engine's AXI4 data width); ``db`` the engine's DB parameter (1 double
    buffering, 0 serial); ``base`` the DRAM address of the image buffer the host writes to
    the engine's BASE register (4 KiB aligned). The engine's PE, SIMD and buffer halves
    are the image header's (:func:`image_buffers`: the engine the schedule was compiled
    for), the MAC operand widths the image's (:func:`qloom.mo.build.mac_bits`); ``engine``
    (:class:`qloom.mo.schedule.Engine`), when given, must be that engine.
    Raises QloomError when it is not or when a descriptor's transfer exceeds its buffer
    half (:func:`qloom.mo.schedule.check_buffers`)."""
    head = header(image)
    bufs = image_buffers(image)
    if engine is not None:
        want = {k: v for k, v in engine_params(engine, dw).items() if k in bufs}
        if want != bufs or (engine.pe, engine.simd) != (head["pe"], head["simd"]):
            raise QloomError(f"the MO image was compiled for PE {head['pe']}, SIMD {head['simd']}, buffer halves "
                             f"{bufs}, not the engine given (PE {engine.pe}, SIMD {engine.simd}, {want})")
    check_buffers(descriptors(image), head)
    exe = build_engine(db, head["pe"], head["simd"], dw, bufs, mac_bits(image))
    last = descriptors(image)[-2]
    fmt = head["in_fmt"]
    outs, cycles = [], []
    with tempfile.TemporaryDirectory(prefix="qloom-mo-") as d:
        for frame in np.asarray(q):
            dram = bytearray(head["dram_bytes"])
            dram[:len(image)] = image
            data = pack(np.asarray(frame, dtype=np.int64).reshape(head["in_h"] * head["in_w"], head["in_c"]),
                        fmt & 0xFF, bipolar=bool(fmt >> 9 & 1))
            dram[head["in_addr"]:head["in_addr"] + len(data)] = data
            (Path(d) / "in.bin").write_bytes(dram)
            r = run_tool(str(exe), ["in.bin", "out.bin", str(int(latency)), str(int(gap)), str(head["desc_addr"]),
                                    hex(base)],
                         cwd=d, what="qloom_mo_engine simulation", check=False)
            if r.returncode != 0:
                raise QloomError(f"qloom_mo_engine simulation failed (exit {r.returncode}): "
                                 f"{r.output.strip()[-200:]}")
            cycles.append(int(r.output.split("cycles ")[-1].split()[0]))
            out = (Path(d) / "out.bin").read_bytes()
            raw = out[head["out_addr"]:head["out_addr"] + head["out_bytes"]]
            outs.append(unpack(raw, last.oh * last.ow, last.oc, last.bits >> 16 & 0xFF,
                               bool(last.flags & 512), bool(last.flags & 1024)).reshape(-1))
    return np.stack(outs), cycles
