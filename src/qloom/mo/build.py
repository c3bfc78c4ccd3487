"""An MO build (``qloom build --arch mo``): the engine size chosen by the search, the
schedule and DRAM image, and the estimates, written atomically into OUT:

* ``OUT/mo/image.bin``: the DRAM image the host loads before running frames (header,
  descriptors, weights, thresholds; :mod:`qloom.mo.schedule`);
* ``OUT/mo/schedule.json``: engine, addresses, layers and their tiling, the memory model;
* ``OUT/estimates.json``: ``arch: "mo"``, the engine's resources (``total``), the cycle
  model per layer and per frame (the RTL engine's timing, :func:`qloom.mo.model.engine_compute`),
  ``fps``, the bytes moved per frame;
* ``OUT/build.json`` (``arch: "mo"``, model, input type, engine, ``rtl_params``: the
  Verilog parameters of the engine), ``OUT/model.onnx``;
* ``OUT/rtl/``: the engine (``qloom_mo_engine.v``) behind its AXI4-Lite control port
  (``qloom_mo_top.v``), what ``qloom deploy`` packages. ``estimates.json`` also gives
  ``rtl_cycles_per_frame`` (:func:`qloom.mo.model.rtl_cycles`, the RTL's compute timing)
  when every layer has an RTL unit.
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict
from pathlib import Path

from qloom.errors import QloomError
from qloom.mo.model import Memory, cycles, engine_compute, resources, rtl_compute, search
from qloom.mo.schedule import compile_schedule, write_schedule

RTL_FILES = ("qloom_mo_engine.v", "qloom_mo_top.v")  # the engine's sources, in mo/verilog


def rtl_dir() -> Path:
    """The folder of the MO engine's Verilog (and its Verilator testbench)."""
    return Path(__file__).resolve().parent / "verilog"


def engine_params(engine, dw: int = 64, db: int = 1) -> dict:
    """The Verilog parameters of qloom_mo_top / qloom_mo_engine for a
    :class:`qloom.mo.schedule.Engine` (its PE, SIMD and buffer halves in bytes), AXI4 data
    width ``dw`` bits and ``db`` (1 double buffering, 0 serial)."""
    return {"IBUF": int(engine.in_buf_bytes), "WBUF": int(engine.w_buf_bytes), "TBUF": int(engine.t_buf_bytes),
            "OBUF": int(engine.out_buf_bytes), "DB": int(db), "PE": int(engine.pe), "SIMD": int(engine.simd),
            "DW": int(dw)}


def mac_bits(image: bytes) -> dict:
    """{XBITS, WBITS}: the engine's MAC operand widths for a DRAM image (its MVAU
    descriptors' widest input element, pad value included, and widest weight, in bits; at
    least 1). The engine multiplies (XBITS+1) x (WBITS+1)-bit signed operands, which holds
    any unsigned or signed field of that width and bipolar +-1."""
    from qloom.mo.engine import descriptors
    from qloom.mo.schedule import OPCODES

    xb, wb = 1, 1
    for d in descriptors(image):
        if d.opcode == OPCODES["MVAU"]:
            xb = max(xb, d.bits & 0xFF, int(d.pad_value).bit_length() if d.pad_value >= 0
                     else (-int(d.pad_value) - 1).bit_length())
            wb = max(wb, d.bits >> 8 & 0xFF)
    return {"XBITS": xb, "WBITS": wb}


def build_mo(graph, model: Path, out: Path, board, clock_mhz: float, target_fps: float | None = None,
             input_type: str | None = None, note: str = "", engine=None) -> dict:
    """Search the engine (``target_fps`` or the fastest that fits ``board``; or the given
    ``engine``), compile the schedule and write OUT (module docstring). Returns the build
    summary (the keys of ``qloom.flow.build``'s, plus ``arch`` and ``engine``)."""
    import onnx

    from qloom.fileio import publish_dir, staging_dir

    t0 = time.perf_counter()
    mem = Memory.from_board(board, clock_mhz)
    if engine is None:
        engine, _ = search(graph, board, clock_mhz, target_fps, mem)
    sched = compile_schedule(graph, engine)
    cyc = cycles(sched, mem, engine_compute)
    res = resources(sched, board.family)
    fps = clock_mhz * 1e6 / cyc["cycles_per_frame"]
    why = (note + "; " if note else "") + (
        f"MO engine PE={engine.pe} SIMD={engine.simd} chosen for "
        + (f"{target_fps:,.0f} FPS" if target_fps else "the highest FPS that fits")
        + f" on {board.name} at {clock_mhz:g} MHz, {board.mem_bandwidth_gbps:g} GB/s")
    from qloom.boards import RESOURCES

    est = {"arch": "mo", "board": board.name, "clock_mhz": clock_mhz, "fps": fps,
           "cycles_per_frame": cyc["cycles_per_frame"], "bytes_per_frame": cyc["bytes_per_frame"],
           "total": res, "budget": board.budget(),
           "utilization": {r: (res[r] / getattr(board, r) if getattr(board, r) else None) for r in RESOURCES},
           "memory": {k: cyc[k] for k in ("bytes_per_cycle", "latency_cycles", "burst_bytes")},
           "layers": {L["name"]: L for L in cyc["layers"]}}
    try:
        est["rtl_cycles_per_frame"] = cycles(sched, mem, rtl_compute)["cycles_per_frame"]
        est["rtl_fps"] = clock_mhz * 1e6 / est["rtl_cycles_per_frame"]
    except QloomError:  # a layer the RTL engine has no unit for yet
        est["rtl_cycles_per_frame"] = None
    port = getattr(board, "mem_port_bits", 0) or 64
    rtl_params = {**engine_params(engine, min(port, 128)), **mac_bits(sched.image)}
    tmp = staging_dir(out)
    try:
        write_schedule(sched, tmp / "mo", {"memory": est["memory"]})
        m = onnx.load(str(model))
        onnx.save_model(m, str(tmp / "model.onnx"), save_as_external_data=False)
        (tmp / "estimates.json").write_text(json.dumps(est, indent=2) + "\n")
        meta = {"arch": "mo", "model": str(model), "input_type": input_type, "folding_note": why,
                "engine": asdict(engine), "image": "mo/image.bin", "rtl_top": "qloom_mo_top",
                "rtl_params": rtl_params,
                "stages": [L.name for L in sched.layers]}
        (tmp / "build.json").write_text(json.dumps(meta, indent=2) + "\n")
        (tmp / "rtl").mkdir()
        for f in RTL_FILES:
            shutil.copy(rtl_dir() / f, tmp / "rtl" / f)
        publish_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"out": str(out), "arch": "mo", "engine": asdict(engine), "note": why, "folding": {},
            "cycles_per_frame": cyc["cycles_per_frame"], "clock_mhz": clock_mhz, "estimates": est,
            "fps": fps, "seconds": time.perf_counter() - t0, "stages": len(sched.layers),
            "over_budget": {}}
