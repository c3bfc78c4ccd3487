"""Non-divisor folding (padded PE/SIMD on dense MVAUs, issue 15): each case built with the
default search twice, with the padded lane counts (``qloom.ops.base.padded_lanes``) and
with divisors only, at the same target; estimated LUT/FF/BRAM18/DSP, II and latency, the
search's CPU time, and for the cases marked ``synth`` the Yosys counts (synth_xilinx,
per stage) and a Verilator run (RTL == emulator, measured II and latency).

    .venv/bin/python benchmarks/padded_folding.py            # writes results/padded_folding.{md,json}
    .venv/bin/python benchmarks/padded_folding.py --no-synth # estimates only (~1 min)
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np

HERE = Path(__file__).parent
CASES = [
    dict(name="jet_w6a6", board=str(HERE / "boards" / "pynq-z1-jet15.json"), fps=1e6, synth=True),
    dict(name="tfc_2w2a", board="pynq-z1", fps=1e5, synth=True),
    dict(name="sfc_1w1a", board="pynq-z1", fps=1e5, synth=False),
    dict(name="lfc_1w1a", board="pynq-z1", fps=168000, synth=False),
    dict(name="digits_w4a4", board="pynq-z1", fps=1e5, synth=False),
]


def run_case(case, workdir: Path, synth: bool) -> list[dict]:
    import qloom
    from qloom.flow import build, rtlsim
    from qloom.synth import synth_out
    from qloom.zoo import sample_input, zoo_export

    name = case["name"]
    model = str(zoo_export(name, workdir / f"{name}.onnx"))
    rows = []
    for padded in (True, False):
        out = workdir / f"{name}_{'pad' if padded else 'div'}"
        patch = mock.patch("qloom.ops.mvau.padded_lanes", (lambda n: []) if not padded else
                           __import__("qloom.ops.base", fromlist=["padded_lanes"]).padded_lanes)
        with patch:
            t0 = time.process_time()
            r = build(model, out, board=case["board"], clock_mhz=100, target_fps=case["fps"])
            cpu = time.process_time() - t0
        est = r["estimates"]
        g = qloom.compile_model(model)
        pads = {op.name: list(op.padded(r["folding"][op.name])) for op in g.nodes
                if hasattr(op, "padded") and tuple(op.padded(r["folding"][op.name])) != tuple(op.mvau_dims)}
        row = {"model": name, "board": Path(case["board"]).stem, "target_fps": case["fps"], "padded": padded,
               "build_cpu_s": round(cpu, 2), "cycles_per_frame_est": est["cycles_per_frame"],
               "latency_cycles_est": est["latency_cycles"], "est": est["total"],
               "folding": {k: {kk: v for kk, v in f.items() if kk in ("PE", "SIMD", "resType", "thr_style")}
                           for k, f in r["folding"].items()}, "padded_layers": pads}
        if synth and case.get("synth"):
            x = sample_input(name, 24)
            y, st = rtlsim(out, x)
            row["rtl_equals_emulator"] = bool(np.array_equal(y, qloom.emulate(g, x)))
            row["cycles_per_frame"], row["latency_cycles"] = st["cycles_per_frame"], st["latency_cycles"]
            row["yosys"] = synth_out(out, family="xc7", jobs=1)["total"]
        rows.append(row)
        print(f"  {name} {'padded ' if padded else 'divisors'}: est {est['total']['LUT']:,} LUT"
              + (f", Yosys {row['yosys']['LUT']:,} LUT" if "yosys" in row else ""), flush=True)
    return rows


def table(rows) -> str:
    lines = ["| model | board | target FPS | folding | II est / measured | latency est / measured | "
             "LUT est / Yosys | BRAM18 est / Yosys | DSP est / Yosys | build CPU s | padded layers (MH', MW') |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        e, y = r["est"], r.get("yosys", {})

        def pair(k):
            return f"{e[k]:,} / {y[k]:,}" if y else f"{e[k]:,}"
        lines.append(
            f"| {r['model']} | {r['board']} | {r['target_fps']:,.0f} | {'padded' if r['padded'] else 'divisors'} | "
            f"{r['cycles_per_frame_est']} / {r.get('cycles_per_frame', '-')} | "
            f"{r['latency_cycles_est']} / {r.get('latency_cycles', '-')} | {pair('LUT')} | {pair('BRAM18')} | "
            f"{pair('DSP')} | {r['build_cpu_s']} | "
            + (", ".join(f"{k} {v[0]}x{v[1]}" for k, v in r["padded_layers"].items()) or "-") + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-synth", action="store_true", help="estimates only")
    ap.add_argument("--out", default=str(HERE / "results"), help="folder for padded_folding.{md,json}")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as td:
        for case in CASES:
            rows += run_case(case, Path(td), not args.no_synth)
    md = table(rows)
    print(md)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "padded_folding.json").write_text(json.dumps({"rows": rows}, indent=1) + "\n")
    (out / "padded_folding.md").write_text("# Non-divisor folding: padded against divisors only\n\n"
                                           "`benchmarks/padded_folding.py` (Yosys 0.70 synth_xilinx xc7, per stage; "
                                           "Verilator 24 frames; 100 MHz, default objective LUT)\n\n" + md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
