"""Synthesis wall time of one build from a cold synthesis cache: the local pool (``--jobs``)
against a Dask LocalCluster of process workers, and whether both give the same synth.json.

    .venv/bin/python benchmarks/synth_scale.py                      # CNV-W1A1, 3,040 FPS, pynq-z1
    .venv/bin/python benchmarks/synth_scale.py --model tfc_2w2a --fps 100000

The model comes from qloom.zoo (random weights; resources do not depend on them) and is
built as benchmarks/seeds.py builds it (objective LUT). Each run gets its own empty
``$QLOOM_SYNTH_CACHE``, so every stage is synthesized (the YoWASP WebAssembly cache stays
warm: that is a one-time cost per machine). Writes benchmarks/results/synth_scale.json.
Wall times depend on what else the machine runs; the stage count and the figures do not.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cnv_1w1a")
    ap.add_argument("--fps", type=float, default=3040)
    ap.add_argument("--board", default="pynq-z1")
    ap.add_argument("--clock-mhz", type=float, default=100)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", default=str(Path(__file__).parent / "results" / "synth_scale.json"))
    args = ap.parse_args(argv)

    from distributed import LocalCluster

    from qloom.boards import get_board
    from qloom.flow import build
    from qloom.synth import synth_out
    from qloom.zoo import zoo_export

    family = get_board(args.board).family
    with tempfile.TemporaryDirectory(prefix="qloom_synth_scale_") as d:
        d = Path(d)
        model = zoo_export(args.model, d / f"{args.model}.onnx")
        out = d / "out"
        r = build(model, out, board=args.board, clock_mhz=args.clock_mhz, target_fps=args.fps,
                  objective="LUT")
        say = lambda m: print("   ", m, flush=True)  # noqa: E731
        rows = []
        os.environ["QLOOM_SYNTH_CACHE"] = str(d / "cache_jobs")
        t0 = time.perf_counter()
        rep = synth_out(out, family=family, jobs=args.jobs, progress=say)
        rows.append({"where": f"local pool, --jobs {args.jobs}", "seconds": round(time.perf_counter() - t0, 1)})
        local_json = (out / "synth.json").read_bytes()
        os.environ["QLOOM_SYNTH_CACHE"] = str(d / "cache_dask")
        t0 = time.perf_counter()
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cl:
            t_up = time.perf_counter() - t0
            synth_out(out, family=family, scheduler=cl.scheduler_address, progress=say)
        rows.append({"where": f"Dask LocalCluster, {args.workers} process workers",
                     "seconds": round(time.perf_counter() - t0, 1), "cluster_start_s": round(t_up, 1)})
        same = (out / "synth.json").read_bytes() == local_json
        del os.environ["QLOOM_SYNTH_CACHE"]
    res = {"benchmark": "synth_scale", "model": args.model, "board": args.board, "family": family,
           "target_fps": args.fps, "stages": r["stages"], "cycles_per_frame_est": r["cycles_per_frame"],
           "yosys_total": rep["total"], "synth_json_identical": same, "cpus": os.cpu_count(),
           "load_average_at_end": os.getloadavg(), "rows": rows}
    for row in rows:
        print(f"{row['where']:<40} {row['seconds']:>8.1f} s")
    print(f"{r['stages']} stages; Yosys {rep['total']['LUT']:,} LUT; synth.json identical: {same}")
    out_json = Path(args.json)
    out_json.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_json.with_name(f".{out_json.name}.tmp")
    tmp.write_text(json.dumps(res, indent=2) + "\n")
    os.replace(tmp, out_json)
    print(f"wrote {out_json}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
