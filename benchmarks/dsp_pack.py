"""DSP packing (resType "dsp_packed", qloom_mul_pack) against LUT and one-DSP-per-product
MVAUs: Yosys 0.70 synth_xilinx (xc7) of qloom_mvau alone, random weights, same folding.

    PYTHONPATH=src python benchmarks/dsp_pack.py [--only NAME]

Writes benchmarks/results/dsp_pack.json (cells per configuration; reused: a configuration
already in the file is not synthesized again) and prints a table.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "rtl"))

from qloom.fileio import write_atomic  # noqa: E402
from qloom.instance import memh_text  # noqa: E402
from qloom.ops.mvau import dsp_pack, mvau_weight_words, parts_qloom_mvau  # noqa: E402
from qloom.synth import synth_xilinx  # noqa: E402
from rtlutil import sources  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "dsp_pack.json"
# (name, MW, MH, PE, SIMD, IN_BITS, IN_SIGNED, W_BITS, W_SIGNED): the jet MLP's widths
# (u6 x s6, u8 x s6) and a 4-bit layer (3 products per DSP)
CONFIGS = [
    ("u6s6_pe2_s8", 32, 32, 2, 8, 6, 0, 6, 1),
    ("u6s6_pe4_s4", 32, 32, 4, 4, 6, 0, 6, 1),
    ("u8s6_pe2_s8", 16, 64, 2, 8, 8, 0, 6, 1),
    ("u4s4_pe3_s8", 32, 24, 3, 8, 4, 0, 4, 1),
]
STYLES = {"lut": 1, "dsp": 2, "dsp_packed": 4}


def params_of(cfg, style):
    name, mw, mh, pe, simd, ib, isg, wb, wsg = cfg
    acc = 16 if ib + wb > 10 else 14
    p = dict(MW=mw, MH=mh, PE=pe, SIMD=simd, IN_BITS=ib, IN_SIGNED=isg, IN_BIPOLAR=0, W_BITS=wb,
             W_SIGNED=wsg, W_BIPOLAR=0, ACC_BITS=acc, NUM_THRESH=0, OUT_BITS=acc, OUT_SIGNED=1,
             OUT_BIAS=0, RAM_STYLE="distributed", MUL_STYLE=STYLES[style], WEIGHT_FILE="weights.mem",
             THRESH_FILE="")
    if style == "dsp_packed":
        p["PACK_K"], p["PACK_S"] = dsp_pack(ib, isg, wb, wsg, pe)
    return p


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=None)
    a = ap.parse_args(argv)
    res = json.loads(OUT.read_text()) if OUT.exists() else {}
    for cfg in CONFIGS:
        if a.only and a.only not in cfg[0]:
            continue
        rng = np.random.default_rng(1)
        _, mw, mh, pe, simd, ib, isg, wb, wsg = cfg
        lo, hi = (-(1 << (wb - 1)), (1 << (wb - 1))) if wsg else (0, 1 << wb)
        W = rng.integers(lo, hi, size=(mh, mw))
        files = {"weights.mem": memh_text(mvau_weight_words(W, pe, simd, wb), pe * simd * wb)}
        for style in STYLES:
            key = f"{cfg[0]}/{style}"
            p = params_of(cfg, style)
            if key not in res:
                r = synth_xilinx("qloom_mvau", sources("qloom_mvau", "qloom_fifo"), p, files=files)
                res[key] = {"params": p, "cells": r.cells, "resources": r.resources}
                OUT.parent.mkdir(exist_ok=True)
                text = json.dumps(res, indent=1, sort_keys=True) + "\n"
                write_atomic(OUT, lambda part, t=text: Path(part).write_text(t))
            est = parts_qloom_mvau(**p, family="xc7", files=files)
            r = res[key]["resources"]
            print(f"{key:28s} LUT {r['LUT']:6d} FF {r['FF']:6d} DSP {r['DSP']:3d} BRAM18 {r.get('BRAM18', 0):3d}"
                  f"   model DSP {est.dsp} FF {est.ff}")


if __name__ == "__main__":
    main()
