"""qloom_mul_lane (issue 15 item 3, first step): the product lane that qloom_mvau and
qloom_vvau each spelled out, now one shared module. Synthesizes the same instances with
the Verilog of a git revision before the change (default ``main``) and of the working
tree (Yosys 0.70 synth_xilinx xc7, per module, qloom.synth.synth_module) and prints
LUT / FF / CARRY / DSP before and after; they must agree within 1 %.

    PYTHONPATH=src .venv/bin/python benchmarks/mul_lane_check.py [--before main]
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from qloom.ops.mvau import MVAU
from qloom.ops.vvau import VVAU
from qloom.rtl.generate import library_sources
from qloom.synth import synth_module
from qloom.types import IntType

REPO = Path(__file__).resolve().parents[1]
VDIR = "src/qloom/rtl/verilog"


def cases():
    rng = np.random.default_rng(0)
    out = []
    for name, ib, isg, wb, res, pe, simd in (("mvau 4u x 4s LUT", 4, False, 4, "lut", 4, 8),
                                             ("mvau 6s x 6s LUT", 6, True, 6, "lut", 2, 8),
                                             ("mvau 8s x 8s DSP", 8, True, 8, "dsp", 2, 4)):
        it, wt = IntType(ib, isg), IntType(wb, True)
        W = rng.integers(wt.min, wt.max + 1, size=(16, 32))
        acc = IntType.for_range(-(1 << (ib + wb - 2)) * 32, (1 << (ib + wb - 2)) * 32)
        op = MVAU("m", (32,), (16,), it, acc, weights=W, weight_type=wt, acc_type=acc)
        out.append((name, op, {"PE": pe, "SIMD": simd, "resType": res}))
    it, wt, ot = IntType(4, False), IntType(4, True), IntType(4, False)
    w = rng.integers(-8, 8, size=(32, 9))
    acc = IntType.for_range(-8 * 15 * 9, 7 * 15 * 9)
    T = np.sort(rng.integers(-300, 300, size=(32, 15)), axis=1)
    vv = VVAU("v", (8, 8, 9 * 32), (8, 8, 32), it, ot, weights=w, weight_type=wt, acc_type=acc,
              thresholds=T, out_bias=0)
    out.append(("vvau 4u x 4s LUT C32 K9", vv, {"PE": 4, "SIMD": 1, "resType": "lut"}))
    return out


def sources_at(ref, modules, td):
    """The library files ``modules`` need, as of git revision ``ref`` (None: the tree)."""
    files = library_sources(modules)
    if ref is None:
        return [str(f) for f in files]
    d = Path(td) / "src"
    d.mkdir(exist_ok=True)
    out = []
    for f in files:
        try:
            text = subprocess.run(["git", "-C", str(REPO), "show", f"{ref}:{VDIR}/{f.name}"], check=True,
                                  capture_output=True, text=True).stdout
        except subprocess.CalledProcessError:
            continue  # a file the revision does not have (qloom_mul_lane.v)
        (d / f.name).write_text(text)
        out.append(str(d / f.name))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="main")
    args = ap.parse_args(argv)
    print("| instance | before LUT / FF / CARRY / DSP | after LUT / FF / CARRY / DSP |")
    print("|---|---|---|")
    worst = 0.0
    for name, op, fold in cases():
        inst = op.rtl(fold)
        row = []
        with tempfile.TemporaryDirectory() as td:
            files = {}
            for k, v in inst.files.items():
                (Path(td) / k).write_text(v)
                files[k] = Path(td) / k
            for ref in (args.before, None):
                r = synth_module(inst.module, sources_at(ref, [inst.module], td), inst.params, files, "xc7",
                                 op.in_elems(fold) * inst.in_bits, op.out_elems(fold) * inst.out_bits)
                row.append(r["resources"])
        b, a = row
        for k in ("LUT", "FF", "CARRY", "DSP"):
            if b[k]:
                worst = max(worst, abs(a[k] - b[k]) / b[k])
        fmt = lambda r: f"{r['LUT']} / {r['FF']} / {r['CARRY']} / {r['DSP']}"  # noqa: E731
        print(f"| {name} | {fmt(b)} | {fmt(a)} |", flush=True)
    print(f"\nlargest relative change: {100 * worst:.2f} %")


if __name__ == "__main__":
    main()
