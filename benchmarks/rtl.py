"""RTL back end speed: QONNX -> OUT build time and Verilator simulation throughput.

    .venv/bin/python benchmarks/rtl.py [--cnv-frames 2] [--json benchmarks/results/rtl.json]

Per model: seconds to build (lower + fold + generate Verilog + memory files), Verilator
compile seconds (first rtlsim, cached afterwards), simulated frames/s (wall clock) and
simulated cycles/s, measured II (cycles per frame) against the cycle model, and whether the
RTL output equals the emulator. Timings are noisy on shared machines; cycles are exact.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def run(name, model, x, clock_board="pynq-z1"):
    import qloom
    from qloom.flow import build, rtlsim

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "out"
        t0 = time.perf_counter()
        r = build(model, out, board=clock_board)
        t_build = time.perf_counter() - t0
        os.environ["QLOOM_SIM_CACHE"] = str(Path(d) / "simcache")  # cold Verilator build
        t0 = time.perf_counter()
        rtlsim(out, x[:1])
        t_first = time.perf_counter() - t0
        t0 = time.perf_counter()
        y, stats = rtlsim(out, x)
        t_sim = time.perf_counter() - t0
        del os.environ["QLOOM_SIM_CACHE"]
    y_emu = qloom.emulate(qloom.compile_model(model), x)
    total_cycles = stats["total_cycles"]
    return {"model": name, "frames": len(x), "build_s": round(t_build, 2),
            "verilator_first_run_s": round(t_first, 1), "sim_s": round(t_sim, 2),
            "sim_fps": round(len(x) / t_sim, 2), "sim_cycles_per_s": round(total_cycles / t_sim),
            "ii_measured": stats["cycles_per_frame"], "ii_model": r["cycles_per_frame"],
            "latency_cycles": stats["latency_cycles"], "rtl_equals_emulator": bool(np.array_equal(y, y_emu))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--digits-frames", type=int, default=100)
    ap.add_argument("--cnv-frames", type=int, default=2)
    ap.add_argument("--json", default=str(Path(__file__).parent / "results" / "rtl.json"))
    args = ap.parse_args(argv)

    from qloom.data import digits_split
    from qloom.models import model_path
    from qloom.zoo import export_to_temp, input_shape

    rows = [run("digits_w4a4", model_path(), digits_split()[2][: args.digits_frames])]
    rng = np.random.default_rng(0)
    for name, frames in (("tfc_1w1a", 20), ("cnv_1w1a", args.cnv_frames)):
        x = rng.random((frames,) + input_shape(name), dtype=np.float32)
        rows.append(run(name, export_to_temp(name), x))
    cols = list(rows[0])
    w = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    print("  ".join(c.ljust(n) for c, n in zip(cols, w)))
    for r in rows:
        print("  ".join(str(r[c]).ljust(n) for c, n in zip(cols, w)))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"benchmark": "rtl", "rows": rows}, indent=2))
    os.replace(tmp, out)
    print(f"wrote {out}")
    return 0 if all(r["rtl_equals_emulator"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
