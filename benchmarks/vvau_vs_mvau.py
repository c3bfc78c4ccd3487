"""The depthwise layer of issue 16 item 5 on both datapaths: the VVAU (qloom_vvau) against
the block-diagonal MVAU that realized depthwise convolutions before it (qloom_mvau with
the (C, K*C) matrix whose row c holds the channel's K weights at columns k*C + c).

Layer: C = 32 channels, 16 x 16 output pixels, 3 x 3 kernel, 4-bit unsigned inputs, 4-bit
signed weights, 15 thresholds (4-bit output); random weights and thresholds (seed 0).
For each folding: cycles per frame (the cycle models, which tests/rtl assert against
Verilator), Verilator-measured cycles for one folding of each, and Yosys 0.70
``synth_xilinx`` (xc7) LUT / FF / BRAM18 / DSP of the module alone (qloom.synth.synth_module)
beside the resource model's estimate.

    PYTHONPATH=src .venv/bin/python benchmarks/vvau_vs_mvau.py [--jobs 2]

writes benchmarks/results/vvau_vs_mvau.json and .md.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from qloom.fileio import write_atomic
from qloom.ops import estimate_instance
from qloom.ops.mvau import MVAU
from qloom.ops.vvau import VVAU
from qloom.rtl.generate import library_sources
from qloom.sim.verilator import AxisSim, pack_beats
from qloom.synth import synth_module
from qloom.types import IntType

C, K, OH, OW = 32, 9, 16, 16
RESULTS = Path(__file__).with_name("results")


def layer():
    rng = np.random.default_rng(0)
    w = rng.integers(-8, 8, size=(C, K))
    it, wt, ot = IntType(4, False), IntType(4, True), IntType(4, False)
    acc = IntType.for_range(-8 * 15 * K, 7 * 15 * K)
    T = np.sort(rng.integers(-300, 300, size=(C, 15)), axis=1)
    kw = dict(weight_type=wt, acc_type=acc, thresholds=T, out_bias=0)
    vv = VVAU("dw", (OH, OW, K * C), (OH, OW, C), it, ot, weights=w, **kw)
    bd = np.zeros((C, K * C), dtype=np.int64)
    for k in range(K):
        bd[np.arange(C), k * C + np.arange(C)] = w[:, k]
    mv = MVAU("bd", (OH, OW, K * C), (OH, OW, C), it, ot, weights=bd, **kw)
    return vv, mv


def _staged(texts, td):
    files = {}
    for k, v in texts.items():
        (Path(td) / k).write_text(v)
        files[k] = Path(td) / k
    return files


def synthesize(op, fold):
    inst = op.rtl(fold)
    texts = inst.make_files()
    with tempfile.TemporaryDirectory() as td:
        r = synth_module(inst.module, library_sources([inst.module]), inst.params, _staged(texts, td),
                         "xc7", op.in_elems(fold) * inst.in_bits, op.out_elems(fold) * inst.out_bits)
    res = {k: r["resources"].get(k, 0) for k in ("LUT", "FF", "BRAM18", "DSP")}
    est = {k: v for k, v in estimate_instance(inst, "xc7", texts).items() if k != "URAM"}
    return res, est


def measure(op, fold, frames=2):
    """Verilator: cycles per frame between the last output beats of consecutive frames."""
    inst = op.rtl(fold)
    texts = inst.make_files()
    ie, oe = op.in_elems(fold), op.out_elems(fold)
    sim = AxisSim(inst.module, [str(p) for p in library_sources([inst.module])], inst.params,
                  in_width=ie * inst.in_bits, out_width=oe * inst.out_bits)
    x = np.random.default_rng(1).integers(0, 16, size=(frames, OH * OW * K * C))
    per = OH * OW * C // oe
    res = sim.run(pack_beats(x.reshape(-1), inst.in_bits, ie), frames * per, files=texts)
    return res.out_cycles[2 * per - 1] - res.out_cycles[per - 1]


def write_report(out: dict) -> str:
    RESULTS.mkdir(exist_ok=True)
    write_atomic(RESULTS / "vvau_vs_mvau.json", lambda p: Path(p).write_text(json.dumps(out, indent=1) + "\n"))
    lines = ["# VVAU vs block-diagonal MVAU (depthwise 3x3, C=32, 16x16 output, 4-bit)", "",
             "Written by benchmarks/vvau_vs_mvau.py (Yosys 0.70 synth_xilinx, xc7, the module alone).", "",
             "| unit | PE | SIMD | cycles/frame | Yosys LUT | Yosys FF | BRAM18 | model LUT | model FF |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in out["rows"]:
        y, m = r["yosys_xc7"], r["model_xc7"]
        lines.append(f"| {r['unit']} | {r['fold']['PE']} | {r['fold']['SIMD']} | {r['cycles_per_frame']:,} | "
                     f"{y['LUT']:,} | {y['FF']:,} | {y['BRAM18']} | {m['LUT']:,} | {m['FF']:,} |")
    lines += ["", "Verilator-measured cycles per frame: "
              + ", ".join(f"{k} {v:,}" for k, v in out["verilator_cycles_per_frame"].items()), ""]
    text = "\n".join(lines)
    write_atomic(RESULTS / "vvau_vs_mvau.md", lambda p: Path(p).write_text(text))
    return text


def remodel() -> str:
    """Recompute the model columns of the stored results with the current resource model."""
    out = json.loads((RESULTS / "vvau_vs_mvau.json").read_text())
    vv, mv = layer()
    for r in out["rows"]:
        op = vv if r["unit"] == "VVAU" else mv
        inst = op.rtl(r["fold"])
        est = estimate_instance(inst, "xc7", inst.make_files())
        r["model_xc7"] = {k: v for k, v in est.items() if k != "URAM"}
    return write_report(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--remodel", action="store_true",
                    help="only recompute the model columns of the stored results")
    args = ap.parse_args(argv)
    if args.remodel:
        print(remodel())
        return
    vv, mv = layer()
    cfgs = [("VVAU", vv, dict(PE=pe, SIMD=s)) for pe, s in [(1, 1), (4, 1), (32, 1), (32, 9)]]
    cfgs += [("MVAU block-diagonal", mv, dict(PE=pe, SIMD=1)) for pe in (1, 4, 32)]

    def work(c):
        name, op, f = c
        res, est = synthesize(op, f)
        return {"unit": name, "fold": f, "cycles_per_frame": op.cycles(f), "yosys_xc7": res, "model_xc7": est}

    with ThreadPoolExecutor(max_workers=args.jobs) as ex:
        rows = list(ex.map(work, cfgs))
    measured = {"VVAU PE4": measure(vv, dict(PE=4, SIMD=1)),
                "MVAU block-diagonal PE4": measure(mv, dict(PE=4, SIMD=1))}
    out = {"layer": dict(channels=C, kernel=[3, 3], out_pixels=[OH, OW], in_type="UINT4", weight_type="INT4",
                         thresholds=15),
           "rows": rows, "verilator_cycles_per_frame": measured}
    print(write_report(out))


if __name__ == "__main__":
    main()
