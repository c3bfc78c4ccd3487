"""An MO build (``qloom build --arch mo``): the engine size chosen by the search, the
schedule and DRAM image, and the estimates, written atomically into OUT:

* ``OUT/mo/image.bin``: the DRAM image the host loads before running frames (header,
  descriptors, weights, thresholds; :mod:`qloom.mo.schedule`);
* ``OUT/mo/schedule.json``: engine, addresses, layers and their tiling, the memory model;
* ``OUT/estimates.json``: ``arch: "mo"``, the engine's resources (``total``), the cycle
  model per layer and per frame, ``fps``, the bytes moved per frame;
* ``OUT/build.json`` (``arch: "mo"``, model, input type, engine), ``OUT/model.onnx``.

There is no RTL for the engine yet (``OUT/rtl`` is absent; rtlsim and synth say so).
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict
from pathlib import Path

from qloom.mo.model import Memory, cycles, resources, search
from qloom.mo.schedule import compile_schedule, write_schedule


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
    cyc = cycles(sched, mem)
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
    tmp = staging_dir(out)
    try:
        write_schedule(sched, tmp / "mo", {"memory": est["memory"]})
        m = onnx.load(str(model))
        onnx.save_model(m, str(tmp / "model.onnx"), save_as_external_data=False)
        (tmp / "estimates.json").write_text(json.dumps(est, indent=2) + "\n")
        meta = {"arch": "mo", "model": str(model), "input_type": input_type, "folding_note": why,
                "engine": asdict(engine), "image": "mo/image.bin",
                "stages": [L.name for L in sched.layers]}
        (tmp / "build.json").write_text(json.dumps(meta, indent=2) + "\n")
        publish_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"out": str(out), "arch": "mo", "engine": asdict(engine), "note": why, "folding": {},
            "cycles_per_frame": cyc["cycles_per_frame"], "clock_mhz": clock_mhz, "estimates": est,
            "fps": fps, "seconds": time.perf_counter() - t0, "stages": len(sched.layers),
            "over_budget": {}}
