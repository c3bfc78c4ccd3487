"""The jet tagger (jet_w6a6, 16-64-32-32-5 W6A6) at II = 1 with constant-weight MVAUs:
latency by register spacing (``reg_levels``) and the latency-first variant (``fused``:
output stage straight from the accumulator, no FIFO in front of a layer), measured in
Verilator (random back-pressure: RTL == emulator) against the latency model.

    PYTHONPATH=src .venv/bin/python benchmarks/jet_latency.py [--configs 64f,3f,3]

Writes benchmarks/results/jet_latency.json (merged by configuration).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "jet_latency.json"


def folding(graph, reg_levels: int, fused: int) -> dict:
    fold = {}
    for op in graph.nodes:
        if op.op_type == "MVAU":
            mh, mw = op.mvau_dims
            fold[op.name] = {"PE": mh, "SIMD": mw, "resType": "const", "reg_levels": reg_levels, "fused": fused}
    return fold


def run(cfg: str, work: Path) -> dict:
    import qloom
    from qloom.flow import build, rtlsim
    from qloom.models import model_path
    from qloom.zoo import sample_input

    fused = int(cfg.endswith("f"))
    reg = int(cfg.rstrip("f"))
    model = model_path("jet_w6a6")
    g = qloom.compile_model(model)
    fp = work / f"fold_{cfg}.json"
    fp.write_text(json.dumps(folding(g, reg, fused)))
    out = work / f"jet_{cfg}"
    t0 = time.perf_counter()
    r = build(model, out, folding_path=fp, board="u250", clock_mhz=200)
    t_build = time.perf_counter() - t0
    x = sample_input("jet_w6a6", 64)
    y_emu = qloom.emulate(g, x)
    y_bp, _ = rtlsim(out, x, p_in_gap=0.3, p_out_stall=0.3, seed=5)
    y, stats = rtlsim(out, x)
    est = r["estimates"]
    return {"config": cfg, "reg_levels": reg, "fused": fused, "compile_s": round(t_build, 1),
            "latency_cycles": stats["latency_cycles"], "latency_cycles_model": est["latency_cycles"],
            "cycles_per_frame": stats["cycles_per_frame"], "cycles_per_frame_model": est["cycles_per_frame"],
            "rtl_equals_emulator": bool(np.array_equal(y, y_emu) and np.array_equal(y_bp, y_emu)),
            "est": est["total"], "out": str(out)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", default="64f,3f,3")
    ap.add_argument("--work", default=None)
    a = ap.parse_args(argv)
    work = Path(a.work or tempfile.mkdtemp(prefix="jet-lat-"))
    work.mkdir(parents=True, exist_ok=True)
    res = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    for cfg in a.configs.split(","):
        row = run(cfg, work)
        print(json.dumps(row), flush=True)
        res[cfg] = row
        RESULTS.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
