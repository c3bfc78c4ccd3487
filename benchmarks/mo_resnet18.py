"""The ResNet-18-shaped W4A4 network (CIFAR-10, 11.2M weights; tests/branching_models.py
ResNet18, random weights, seed 0, generated here: nothing downloaded) in the
memory-optimized architecture (issue 12 target).

    .venv/bin/python benchmarks/mo_resnet18.py [--model M.onnx] [--frames 1] [--no-rtl]

1. ``qloom build --arch auto`` on PYNQ-Z1 (the DF estimate does not fit: MO): the engine
   the search picks, its resource estimate, the modelled FPS (qloom.mo.model.cycles);
2. the MO image's tile emulator == the DF emulator on ``--frames`` frames (wall times);
3. Verilator: the RTL engine (qloom_mo_engine.v) with the build's own ``rtl_params`` (the
   engine the search chose: PE, SIMD, buffer halves from the image header; 64-bit AXI4, the
   PYNQ-Z1 HP0 port) on ``--frames`` frames of the build's DRAM image, at the memory model
   of the build (first beat 10 cycles = 100 ns after the address at 100 MHz, one 8-byte
   beat per cycle): its outputs == the DF emulator, measured cycles per frame against the
   build's modelled ``cycles_per_frame`` (and FPS), simulated cycles per wall second;
4. with ``--onnx``: qonnx ``execute_onnx`` (qloom.reference) on the frames == the DF
   emulator's host outputs.

Writes benchmarks/results/mo_resnet18.json. Wall times are on whatever machine runs it
(the committed numbers: a 2-core machine shared with other jobs).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def make_model(d: Path) -> Path:
    import torch

    from branching_models import ResNet18
    from brevitas_models import export, prepare

    torch.manual_seed(0)
    m = ResNet18()
    prepare(m, torch.from_numpy(np.random.default_rng(5).random((8, 3, 32, 32), dtype=np.float32)), seed=0)
    return export(m, (1, 3, 32, 32), d / "m")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="a ResNet-18 QONNX already exported (default: export it)")
    ap.add_argument("--frames", type=int, default=2)
    ap.add_argument("--onnx", action="store_true", help="also check the DF emulator against qonnx execute_onnx")
    ap.add_argument("--no-rtl", action="store_true")
    ap.add_argument("-o", default=str(ROOT / "benchmarks" / "results" / "mo_resnet18.json"))
    a = ap.parse_args(argv)
    import qloom
    from qloom.emulate import run_stream
    from qloom.flow import build
    from qloom.mo.engine import run_stream_mo
    from qloom.sim.mo_engine import image_buffers, rtlsim_mo

    res = {}
    with tempfile.TemporaryDirectory(prefix="qloom-r18-") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        path = Path(a.model) if a.model else make_model(tmp)
        res["export_s"] = None if a.model else round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        g = qloom.compile_model(path)
        res["compile_s"] = round(time.perf_counter() - t, 1)
        res["weights"] = int(sum(op.weight_count for op in g.nodes))
        res["macs"] = int(sum(op.macs for op in g.nodes))
        t = time.perf_counter()
        x = np.random.default_rng(2).random((a.frames, 3, 32, 32), dtype=np.float32)
        q = g.host_input(x)
        r = build(path, tmp / "out", board="pynq-z1", arch="auto")
        est = json.loads((tmp / "out" / "estimates.json").read_text())
        meta = json.loads((tmp / "out" / "build.json").read_text())
        res["auto_build"] = {"seconds": round(time.perf_counter() - t, 1), "arch": r["arch"], "note": r["note"],
                             "engine": r["engine"], "rtl_params": meta["rtl_params"], "fps_model": round(r["fps"], 2),
                             "cycles_per_frame_model": r["cycles_per_frame"],
                             "rtl_cycles_per_frame_model": est["rtl_cycles_per_frame"],
                             "bytes_per_frame": est["bytes_per_frame"], "memory": est["memory"],
                             "resources_estimate": est["total"], "clock_mhz": r["clock_mhz"]}
        image = (tmp / "out" / "mo" / "image.bin").read_bytes()
        t = time.perf_counter()
        ref = run_stream(g, q).reshape(len(q), -1)
        res["df_emulator_s_per_frame"] = round((time.perf_counter() - t) / len(q), 2)
        t = time.perf_counter()
        got = run_stream_mo(image, q)
        res["mo_emulator_s_per_frame"] = round((time.perf_counter() - t) / len(q), 2)
        res["mo_emulator_equals_df"] = bool(np.array_equal(got, ref))
        res["frames"] = len(q)
        res["distinct_output_values"] = int(len(np.unique(ref)))
        print(json.dumps(res, indent=1), flush=True)
        if a.onnx:
            from qloom.reference import reference_outputs

            t = time.perf_counter()
            y_ref = reference_outputs(path, x)
            res["execute_onnx_s_per_frame"] = round((time.perf_counter() - t) / len(q), 2)
            y_df = qloom.emulate(g, x)
            res["df_emulator_equals_execute_onnx"] = bool(np.array_equal(y_df, y_ref))
            res["df_minus_execute_onnx_max_abs"] = float(np.abs(y_df - y_ref).max())
            res["argmax_equal"] = bool((y_df.argmax(-1) == y_ref.argmax(-1)).all())
            print(json.dumps(res, indent=1), flush=True)
        if not a.no_rtl:
            p = meta["rtl_params"]
            assert image_buffers(image) == {k: p[k] for k in ("IBUF", "WBUF", "TBUF", "OBUF")}
            mem = est["memory"]
            latency, gap = round(mem["latency_cycles"]), 1
            assert mem["bytes_per_cycle"] == p["DW"] / 8, mem  # one beat per cycle
            t = time.perf_counter()
            y, cyc = rtlsim_mo(image, q, latency, gap, dw=p["DW"])
            wall = time.perf_counter() - t
            model = est["cycles_per_frame"]
            res["rtl"] = {"engine": {**p, "latency": latency, "gap": gap}, "frames": len(q),
                          "descriptors": json.loads((tmp / "out" / "mo" / "schedule.json").read_text())["descriptors"],
                          "equals_df": bool(np.array_equal(y, ref)), "cycles_measured": cyc,
                          "cycles_model": model, "ratio": [round(c / model, 4) for c in cyc],
                          "wall_s_incl_build": round(wall, 1),
                          "sim_cycles_per_wall_s": round(sum(cyc) / wall),
                          "fps_measured": [round(r["clock_mhz"] * 1e6 / c, 2) for c in cyc],
                          "fps_model": round(r["fps"], 2)}
    Path(a.o).write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()
