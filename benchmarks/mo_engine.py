"""The MO engine's RTL (qloom_mo_engine): Yosys synthesis per engine size, and CNV-W2A2 on
PYNQ-Z1 in Verilator against the emulator and the cycle model.

    .venv/bin/python benchmarks/mo_engine.py synth PE SIMD IBUF WBUF TBUF OBUF [DW [XBITS WBITS]]
    .venv/bin/python benchmarks/mo_engine.py cnv PE SIMD
    .venv/bin/python benchmarks/mo_engine.py fit

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


def synth(pe: int, simd: int, ib: int, wb: int, tb: int, ob: int, dw: int = 64, xbits: int = 32,
          wbits: int = 32) -> None:
    from qloom.mo.build import RTL_FILES, rtl_dir
    from qloom.synth import count_cells, synth_xilinx

    t = time.time()
    r = synth_xilinx("qloom_mo_engine", [rtl_dir() / RTL_FILES[0]],
                     dict(PE=pe, SIMD=simd, IBUF=ib, WBUF=wb, TBUF=tb, OBUF=ob, DW=dw, XBITS=xbits, WBITS=wbits),
                     timeout=7200)
    _append({"kind": "synth", "pe": pe, "simd": simd, "buffers": [ib, wb, tb, ob], "dw": dw,
             "xbits": xbits, "wbits": wbits, "rtl": "word-addressed buffers (issue 12 lean engine)",
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


def fit() -> None:
    """Fit the MO engine's control (qloom.mo.model.control: const + per_lane * PE * SIMD per
    resource) by least squares on the lean engine's synth runs in the results (those with
    "rtl"): the residual Yosys - (datapath + buffer models at CNV-W2A2's widths); writes
    qloom/cost/coef/mo_engine.json and each run's estimate vs Yosys."""
    import numpy as np

    import qloom
    from qloom import zoo
    from qloom.cost.parts import COEF_DIR
    from qloom.mo.model import resources
    from qloom.mo.schedule import Engine, engine_layers

    g = qloom.compile_model(zoo.zoo_export("cnv_2w2a", Path("/tmp") / "qloom_bench_cnv_2w2a.onnx"))
    base = engine_layers(g)
    runs = [r for r in json.loads(RESULTS.read_text()) if r.get("kind") == "synth" and r.get("rtl")
            and r.get("xbits", 32) < 32]
    coef = {"const": {}, "per_lane": {}}
    rows = []
    for r in runs:
        e = Engine(r["pe"], r["simd"], *r["buffers"])
        rows.append((r, resources((e, base), "xc7", with_control=False)))
    A = np.array([[1.0, r["pe"] * r["simd"]] for r, _ in rows])
    for res in ("LUT", "FF", "DSP"):
        y = np.array([r["yosys"][res] - m[res] for r, m in rows], dtype=float)
        c = np.linalg.lstsq(A, y, rcond=None)[0] if len({tuple(a) for a in A}) > 1 else [y.mean(), 0.0]
        coef["const"][res], coef["per_lane"][res] = round(float(c[0]), 1), round(float(c[1]), 1)
    path = COEF_DIR / "mo_engine.json"
    data = json.loads(path.read_text())
    data["families"]["xc7"] = coef
    data["fitted_on"] = [{"pe": r["pe"], "simd": r["simd"], "buffers": r["buffers"], "dw": r["dw"],
                          "xbits": r["xbits"], "wbits": r["wbits"], "yosys": r["yosys"]} for r, _ in rows]
    path.write_text(json.dumps(data, indent=1) + "\n")
    for r, _ in rows:
        est = resources((Engine(r["pe"], r["simd"], *r["buffers"]), base), "xc7")
        print(r["pe"], r["simd"], r["buffers"], {k: (est[k], r["yosys"][k]) for k in ("LUT", "FF", "BRAM18", "DSP")})


if __name__ == "__main__":
    if sys.argv[1] == "fit":
        fit()
        sys.exit(0)
    cmd, args = sys.argv[1], [int(a) for a in sys.argv[2:]]
    {"synth": synth, "cnv": cnv}[cmd](*args)
