"""Soak: a long Verilator simulation of a built accelerator under random back-pressure.

    .venv/bin/python benchmarks/soak.py                  # 10,000 frames of the digits model
    .venv/bin/python benchmarks/soak.py --frames 200 --json /tmp/soak.json   # what CI runs

The embedded digits model (W4A4, qloom's default folding) is built, and ``--frames``
distinct random frames (uniform in the model's input range [0, 1], so no two frames give the
same output) stream through ``qloom_top`` while the input side leaves a cycle empty with
probability ``--p-in-gap`` and the output side holds ``m_axis_tready`` low with probability
``--p-out-stall`` (the testbench's random AXI4-Stream back-pressure). The check is per frame:
every RTL output frame is looked up among the bit-exact emulator's outputs (qloom.emulate)
and the sequence of matches must be exactly 0, 1, ..., N-1: nothing lost, nothing duplicated,
nothing reordered, nothing extra (the testbench also counts beats beyond the expected ones).
Reported: simulated frames/s and cycles/s (wall clock, the Verilator build excluded),
cycles per frame under back-pressure against the II without it, and the counts of lost,
duplicated and extra frames. Prints a table; writes benchmarks/results/soak.json.
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


def frame_sequence(y_rtl: np.ndarray, y_ref: np.ndarray) -> dict:
    """Match each RTL output frame to the reference frames (rows compared bit for bit).

    Returns {"order": index in ``y_ref`` of each RTL frame (-1: no match), "lost": reference
    frames never seen, "duplicated": frames seen more than once, "unmatched": RTL frames
    matching none, "in_order": the sequence is exactly 0..N-1, "unique_reference": whether
    the reference rows are pairwise distinct (else a duplicate could hide)}.
    """
    ref = {}
    for i, row in enumerate(np.ascontiguousarray(y_ref).reshape(len(y_ref), -1)):
        ref.setdefault(row.tobytes(), i)
    order = [ref.get(row.tobytes(), -1) for row in np.ascontiguousarray(y_rtl).reshape(len(y_rtl), -1)]
    seen = np.bincount([o for o in order if o >= 0], minlength=len(y_ref))
    return {"order": order, "lost": int((seen == 0).sum()), "duplicated": int((seen > 1).sum()),
            "unmatched": sum(1 for o in order if o < 0),
            "in_order": order == list(range(len(y_ref))), "unique_reference": len(ref) == len(y_ref)}


def soak(frames: int, p_in_gap: float, p_out_stall: float, seed: int, workdir: Path) -> dict:
    import qloom
    from qloom.flow import build, rtlsim
    from qloom.models import model_path

    model = model_path()
    out = workdir / "out"
    r = build(model, out)
    x = np.random.default_rng(seed).random((frames, 1, 8, 8), dtype=np.float32)
    y_emu = qloom.emulate(qloom.compile_model(model), x)
    t0 = time.perf_counter()
    rtlsim(out, x[:2])  # builds (or finds) the Verilator model; not part of the rate
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    y_rtl, stats = rtlsim(out, x, p_in_gap=p_in_gap, p_out_stall=p_out_stall, seed=seed,
                          progress=lambda m: print("   ", m, flush=True))
    t_sim = time.perf_counter() - t0
    seq = frame_sequence(y_rtl, y_emu)
    return {"model": "digits_w4a4", "frames": frames, "p_in_gap": p_in_gap, "p_out_stall": p_out_stall,
            "seed": seed, "frames_out": int(len(y_rtl)), "lost": seq["lost"], "duplicated": seq["duplicated"],
            "unmatched": seq["unmatched"], "in_order": seq["in_order"],
            "unique_reference_frames": seq["unique_reference"],
            "rtl_equals_emulator": bool(np.array_equal(y_rtl, y_emu)),
            "cycles_per_frame": stats["cycles_per_frame"], "ii_model": r["cycles_per_frame"],
            "total_cycles": stats["total_cycles"], "sim_s": round(t_sim, 2),
            "frames_per_s": round(frames / t_sim, 1), "cycles_per_s": round(stats["total_cycles"] / t_sim),
            "verilator_build_s": round(t_build, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=10_000)
    ap.add_argument("--p-in-gap", type=float, default=0.2)
    ap.add_argument("--p-out-stall", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", default=str(Path(__file__).parent / "results" / "soak.json"))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qloom_soak_") as d:
        row = soak(args.frames, args.p_in_gap, args.p_out_stall, args.seed, Path(d))
    cols = ["model", "frames", "p_in_gap", "p_out_stall", "frames_out", "lost", "duplicated",
            "unmatched", "in_order", "rtl_equals_emulator", "cycles_per_frame", "ii_model",
            "frames_per_s", "cycles_per_s", "sim_s"]
    w = [max(len(c), len(str(row[c]))) for c in cols]
    print("  ".join(c.ljust(n) for c, n in zip(cols, w)))
    print("  ".join(str(row[c]).ljust(n) for c, n in zip(cols, w)))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(json.dumps({"benchmark": "soak", "rows": [row]}, indent=2) + "\n")
    os.replace(tmp, out)
    print(f"wrote {out}")
    ok = (row["in_order"] and row["lost"] == 0 and row["duplicated"] == 0 and row["unmatched"] == 0
          and row["frames_out"] == row["frames"] and row["rtl_equals_emulator"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
