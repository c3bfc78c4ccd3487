"""The MO engine's RTL (qloom_mo_engine): Yosys synthesis per engine size, and CNV-W2A2 on
PYNQ-Z1 in Verilator against the emulator and the cycle model.

    .venv/bin/python benchmarks/mo_engine.py synth PE SIMD IBUF WBUF TBUF OBUF [DW]
    .venv/bin/python benchmarks/mo_engine.py cnv PE SIMD

``synth``: ``synth_xilinx -family xc7 -flatten`` of qloom_mo_engine with those parameters
(one run, one job; run it under ``nice``), its LUT/FF/BRAM18/DSP (qloom.synth.count_cells)
next to ``qloom.mo.model.resources``' estimate of the same engine. ``cnv``: one CNV-W2A2
frame (random weights of the zoo export, the zoo's sample input) through the engine (PE,
SIMD; the buffers of the 100-FPS search result: 2/32/1/2 KiB halves) with the memory model at
PYNQ-Z1's HP0 port (64-bit beats every cycle, 10 cycles latency: ``Memory.from_board``):
equal to the DF emulator?, simulated cycles vs ``rtl_cycles`` and the search model's cycles,
wall time. Each run is appended to benchmarks/results/mo_engine.json.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).with_name("results") / "mo_engine.json"


def _append(rec: dict) -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.is_file() else []
    data.append(rec)
    RESULTS.write_text(json.dumps(data, indent=1) + "\n")
    print(json.dumps(rec))


def synth(pe: int, simd: int, ib: int, wb: int, tb: int, ob: int, dw: int = 64) -> None:
    from qloom.mo.build import RTL_FILES, rtl_dir
    from qloom.synth import count_cells, synth_xilinx

    t = time.time()
    r = synth_xilinx("qloom_mo_engine", [rtl_dir() / RTL_FILES[0]],
                     dict(PE=pe, SIMD=simd, IBUF=ib, WBUF=wb, TBUF=tb, OBUF=ob, DW=dw), timeout=7200)
    _append({"kind": "synth", "pe": pe, "simd": simd, "buffers": [ib, wb, tb, ob], "dw": dw,
             "yosys": count_cells(r.cells, "xc7"), "seconds_loaded_machine": round(time.time() - t, 1)})


def cnv(pe: int, simd: int) -> None:
    import numpy as np

    import qloom
    from qloom import zoo
    from qloom.boards import get_board
    from qloom.emulate import run_stream
    from qloom.mo.model import Memory, cycles, resources, rtl_compute
    from qloom.mo.schedule import Engine, compile_schedule
    from qloom.sim.mo_engine import rtlsim_mo

    g = qloom.compile_model(zoo.zoo_export("cnv_2w2a", Path("/tmp") / "qloom_bench_cnv_2w2a.onnx"))
    mem = Memory.from_board(get_board("pynq-z1"), 100.0)
    e = Engine(pe=pe, simd=simd, in_buf_bytes=2048, w_buf_bytes=32768, t_buf_bytes=1024, out_buf_bytes=2048)
    s = compile_schedule(g, e)
    q = g.host_input(zoo.sample_input("cnv_2w2a", 1))
    ref = run_stream(g, q).reshape(len(q), -1)
    t = time.time()
    y, cyc = rtlsim_mo(s.image, q, latency=round(mem.latency_cycles), gap=1, dw=64, engine=e)
    rtl_model = cycles(s, mem, rtl_compute)["cycles_per_frame"]
    _append({"kind": "cnv_2w2a", "pe": pe, "simd": simd, "descriptors": len(s.descs),
             "equal_to_emulator": bool(np.array_equal(y, ref)), "sim_cycles": cyc[0],
             "rtl_model_cycles": rtl_model, "error": round(cyc[0] / rtl_model - 1, 4),
             "search_model_cycles": cycles(s, mem)["cycles_per_frame"],
             "estimate": resources(s, "xc7"), "wall_s_loaded_machine": round(time.time() - t, 1)})


if __name__ == "__main__":
    cmd, args = sys.argv[1], [int(a) for a in sys.argv[2:]]
    {"synth": synth, "cnv": cnv}[cmd](*args)
