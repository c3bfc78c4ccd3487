"""The ResNet-18-shaped W4A4 network (CIFAR-10, 11.2M weights; tests/branching_models.py
ResNet18, random weights, seed 0, generated here: nothing downloaded) in the
memory-optimized architecture (issue 12 target).

    .venv/bin/python benchmarks/mo_resnet18.py [--model M.onnx] [--frames 1] [--no-rtl]

1. ``qloom build --arch auto`` on PYNQ-Z1 (the DF estimate does not fit: MO): the engine
   the search picks, its resource estimate, the modelled FPS (qloom.mo.model.cycles);
2. the MO image's tile emulator == the DF emulator on ``--frames`` frames (wall times);
3. Verilator: the RTL engine (qloom_mo_engine.v) on one frame of a schedule for the RTL's
   buffer sizes (IBUF 4096, WBUF 16384, TBUF 16384, OBUF 4096 bytes; PE 4, SIMD 8, 32-bit
   AXI4, first beat 20 cycles after the address, one beat per cycle): its output == the DF
   emulator, measured cycles against qloom.mo.model.rtl_cycles, simulated cycles per wall
   second.

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

RTL_BUFS = {"IBUF": 4096, "WBUF": 16384, "TBUF": 16384, "OBUF": 4096}


def make_model(d: Path) -> Path:
    import torch

    from branching_models import ResNet18
    from brevitas_models import export, prepare

    torch.manual_seed(0)
    m = ResNet18()
    prepare(m, torch.from_numpy(np.random.default_rng(5).random((8, 3, 32, 32), dtype=np.float32)), seed=0)
    return export(m, (1, 3, 32, 32), d / "m")


def rtl_frame(image: bytes, q: np.ndarray, engine, latency: int = 20, gap: int = 1):
    """One frame through the RTL engine with ``engine``'s buffers (qloom.sim.mo_engine):
    (output elements, cycles)."""
    from qloom.sim.mo_engine import rtlsim_mo

    y, cyc = rtlsim_mo(image, np.asarray(q)[None], latency, gap, engine=engine)
    return y[0], cyc[0]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="a ResNet-18 QONNX already exported (default: export it)")
    ap.add_argument("--frames", type=int, default=1)
    ap.add_argument("--no-rtl", action="store_true")
    ap.add_argument("--rtl-only", action="store_true", help="keep the JSON's other results, rerun the RTL frame")
    ap.add_argument("-o", default=str(ROOT / "benchmarks" / "results" / "mo_resnet18.json"))
    a = ap.parse_args(argv)
    import qloom
    from qloom.emulate import run_stream
    from qloom.flow import build
    from qloom.mo.engine import run_stream_mo
    from qloom.mo.model import Memory, rtl_cycles
    from qloom.mo.schedule import Engine, compile_schedule

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
        if a.rtl_only:
            res = {**json.loads(Path(a.o).read_text()), **res}
        t = time.perf_counter()
        x = np.random.default_rng(2).random((a.frames, 3, 32, 32), dtype=np.float32)
        q = g.host_input(x)
        if a.rtl_only:
            ref = run_stream(g, q).reshape(len(q), -1)
        else:
            r = build(path, tmp / "out", board="pynq-z1", arch="auto")
            est = json.loads((tmp / "out" / "estimates.json").read_text())
            res["auto_build"] = {"seconds": round(time.perf_counter() - t, 1), "arch": r["arch"], "note": r["note"],
                                 "engine": r["engine"], "fps_model": round(r["fps"], 2),
                                 "cycles_per_frame_model": r["cycles_per_frame"], "bytes_per_frame": est["bytes_per_frame"],
                                 "resources_estimate": est["total"], "clock_mhz": r["clock_mhz"]}
            image = (tmp / "out" / "mo" / "image.bin").read_bytes()
            t = time.perf_counter()
            ref = run_stream(g, q).reshape(len(q), -1)
            res["df_emulator_s_per_frame"] = round((time.perf_counter() - t) / len(q), 2)
            t = time.perf_counter()
            got = run_stream_mo(image, q)
            res["mo_emulator_s_per_frame"] = round((time.perf_counter() - t) / len(q), 2)
            res["mo_emulator_equals_df"] = bool(np.array_equal(got, ref))
            print(json.dumps(res, indent=1), flush=True)
        if not a.no_rtl:
            pe, simd = 4, 8
            e = Engine(pe=pe, simd=simd, in_buf_bytes=RTL_BUFS["IBUF"], w_buf_bytes=RTL_BUFS["WBUF"],
                       t_buf_bytes=RTL_BUFS["TBUF"], out_buf_bytes=RTL_BUFS["OBUF"])
            s = compile_schedule(g, e)
            model = rtl_cycles(s, Memory(4.0, 20, 1024))
            t = time.perf_counter()
            y, cyc = rtl_frame(s.image, q[0], e)
            wall = time.perf_counter() - t
            res["rtl"] = {"engine": {"pe": pe, "simd": simd, **RTL_BUFS, "axi_bits": 32, "latency": 20, "gap": 1},
                          "descriptors": len(s.descs), "equals_df": bool(np.array_equal(y, ref[0])),
                          "cycles_measured": cyc, "cycles_model": model, "ratio": round(cyc / model, 4),
                          "wall_s_incl_build": round(wall, 1),
                          "fps_at_100mhz_measured": round(100e6 / cyc, 2), "fps_at_100mhz_model": round(100e6 / model, 2)}
    Path(a.o).write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()
