"""Accuracy of qloom's analytical resource and cycle models against our own Yosys synthesis
and Verilator simulation.

    .venv/bin/python benchmarks/cost_model.py [--family xc7] [--quick] [--no-rtlsim]
    .venv/bin/python benchmarks/cost_model.py --sweep [--fit]   # refit the LUT coefficients

Builds a set of models x foldings (the embedded digits model with three foldings,
TFC-W1A1 with two, a small brevitas CNN when ``tests/brevitas_models.py`` is importable),
synthesizes every stage of each build with Yosys (``qloom.synth.synth_module``: one run
per distinct module instance, cached under ~/.cache/qloom/synth), and compares each stage
with ``qloom.ops.estimate_instance`` -- without the memory files (what the design-space
search sees) and with them (ROM constant-lane removal known). Prints per operator type the
median and worst relative error of LUT and FF and the exact-match rate of BRAM18 and DSP;
also the cycle model (``estimates.json`` / ``rtlsim.json`` ``cycles_estimate``) against the
II measured by ``qloom.flow.rtlsim``. Writes benchmarks/results/cost_model.json and
benchmarks/results/cost_model.md.

Targets: cycles within 2 %, BRAM18 and DSP exact, LUT/FF within 15 % median and 30 % worst
per layer.

``--sweep`` synthesizes the module sweep the LUT coefficients are fitted to (random
memory contents from fixed seeds; see :func:`sweep_specs`) and stores it in the JSON;
``--fit`` prints the least-squares coefficients (relative error); ``--fit --write`` writes
them into the family's data file ``src/qloom/cost/coef/<family>.json`` with their provenance
(Yosys version, sweep size, residuals). Coefficients the sweep does not determine (fitted
by hand, e.g. qloom_swg_pw, qloom_maxpool_pw) are kept.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
KEYS = ("LUT", "FF", "BRAM18", "DSP")
# stages whose flat synthesis would take too long are skipped (estimated LUTs)
MAX_STAGE_LUT = 40000


# ------------------------------------------------------------------------------ models
def _digits():
    from qloom.models import model_path

    return Path(model_path())


def _tfc(workdir: Path):
    from qloom.zoo import export_bnn_pynq

    return export_bnn_pynq("tfc_1w1a", workdir / "tfc_1w1a.onnx", seed=3)


def _small_cnn(workdir: Path):
    """A small conv net from tests/brevitas_models.py (W4A4 convs with max pooling)."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import torch
        from brevitas_models import cnn, export, prepare
    except Exception:  # noqa: BLE001 - optional
        return None
    finally:
        sys.path.pop(0)
    torch.manual_seed(0)
    model = cnn((2, 12, 12), [dict(out=8, k=3, pad=1, wbits=4, bn="pos", act=("relu", 4), pool=("max", 2, 2)),
                              dict(out=16, k=3, wbits=2, bn="pos", act=("relu", 2), pool=("avg", 2, 2))],
                classes=10, fc_wbits=4)
    x = torch.rand(64, 2, 12, 12)
    prepare(model, x)
    return export(model, (1, 2, 12, 12), workdir / "small_cnn")


def cases(workdir: Path, quick: bool = False):
    """(name, model path, folding or None, input shape) of the benchmark builds."""
    d = _digits()
    out = [
        ("digits/default", d, None),
        ("digits/pe1", d, {"SWG_0": {"SIMD": 1}, "MVAU_0": {"PE": 1, "SIMD": 1},
                           "StreamingMaxPool_0": {"PE": 1}, "SWG_1": {"SIMD": 1},
                           "MVAU_1": {"PE": 1, "SIMD": 1}, "StreamingMaxPool_1": {"PE": 1},
                           "MVAU_2": {"PE": 1, "SIMD": 1}}),
        ("digits/mid", d, {"SWG_0": {"SIMD": 1}, "MVAU_0": {"PE": 4, "SIMD": 9},
                           "StreamingMaxPool_0": {"PE": 4}, "SWG_1": {"SIMD": 2},
                           "MVAU_1": {"PE": 4, "SIMD": 8, "ram_style": "block"},
                           "StreamingMaxPool_1": {"PE": 2}, "MVAU_2": {"PE": 2, "SIMD": 8}}),
    ]
    if quick:
        return out[:1]
    t = _tfc(workdir)
    out += [
        ("tfc_w1a1/default", t, None),
        ("tfc_w1a1/fold2", t, {"MVAU_0": {"PE": 4, "SIMD": 16}, "MVAU_1": {"PE": 4, "SIMD": 4},
                               "MVAU_2": {"PE": 2, "SIMD": 4}, "MVAU_3": {"PE": 1, "SIMD": 2}}),
    ]
    c = _small_cnn(workdir)
    if c is not None:
        out.append(("small_cnn/default", c, None))
    return out


# ------------------------------------------------------------------------------ one build
def _op_type(st, graph):
    if st.kind != "op":
        return {"fifo": "FIFO", "dwc": "DWC"}[st.kind]
    return next(op.op_type for op in graph.nodes if op.name == st.name)


def run_build(name, model, folding, outdir: Path, family: str, jobs: int, rtlsim: bool):
    from qloom.flow import _load_out, build
    from qloom.flow import rtlsim as run_rtlsim
    from qloom.rtl.generate import library_sources, plan_top
    from qloom.ops import estimate_instance as estimate
    from qloom.ops import memory_report
    from qloom.synth import synth_module

    out = outdir / name.replace("/", "__")
    fp = None
    if folding is not None:
        fp = outdir / (name.replace("/", "__") + ".folding.json")
        fp.write_text(json.dumps(folding))
    t0 = time.perf_counter()
    build(model, out, folding_path=fp, allow_overbudget=True)  # sweeps are not held to a board
    graph, fold, meta = _load_out(out)
    plan = plan_top(graph, fold, meta.get("fifo_depths"))
    rtl = out / "rtl"
    stages = []
    for st in plan.stages:
        files = {f: (rtl / f).read_text() for f in st.inst.file_names}
        est0 = estimate(st.inst, family)
        est1 = estimate(st.inst, family, files=files)
        stages.append(dict(stage=st.name, kind=st.kind, op=_op_type(st, graph), module=st.inst.module,
                           layer=st.layer, params={k: v for k, v in st.inst.params.items()
                                                   if not isinstance(v, str) or k == "RAM_STYLE"},
                           estimate=est0, estimate_data=est1,
                           memories=memory_report(st.inst, family, files=files),
                           _st=st))

    def work(s):
        st = s["_st"]
        if s["estimate"]["LUT"] > MAX_STAGE_LUT:
            return s, None
        srcs = [rtl / p.name for p in library_sources([st.inst.module])]
        files = {f: rtl / f for f in st.inst.file_names}
        return s, synth_module(st.inst.module, srcs, st.inst.params, files, family, st.in_width,
                               st.out_width)

    with ThreadPoolExecutor(max_workers=jobs) as ex:
        for s, r in ex.map(work, stages):
            s.pop("_st")
            if r is None:
                s["yosys"] = None
                print(f"  {name}: {s['stage']} skipped (estimated {s['estimate']['LUT']} LUT)")
                continue
            s["yosys"] = {k: r["resources"].get(k, 0) for k in KEYS}
            s["yosys_seconds"] = r["seconds"]
            print(f"  {name}: {s['stage']:<28} yosys {_fmt(s['yosys'])}  est {_fmt(s['estimate'])}",
                  flush=True)
    est = json.loads((out / "estimates.json").read_text())
    rec = {"name": name, "folding": fold, "stages": stages, "ii_estimate": est["cycles_per_frame"],
           "layer_cycles_estimate": {k: v["cycles"] for k, v in est["layers"].items()},
           "build_seconds": round(time.perf_counter() - t0, 1)}
    if rtlsim:
        n = 6 if est["cycles_per_frame"] < 20000 else 3
        x = _frames(graph, n)
        _, stats = _rtlsim_long(run_rtlsim, out, x, (n + 3) * est["cycles_per_frame"])
        rec["ii_measured"] = stats["cycles_per_frame"]
        rec["layers_rtlsim"] = stats["layers"]
        print(f"  {name}: II estimate {rec['ii_estimate']}  measured {rec['ii_measured']}")
    return rec


def _rtlsim_long(run_rtlsim, out, x, cycles):
    """qloom.flow.rtlsim with the simulator's cycle limit raised to ``cycles`` (slow
    foldings exceed its default)."""
    from qloom.sim import verilator

    orig = verilator.AxisSim.run

    def run(self, *a, **k):
        if k.get("max_cycles") is None:
            k["max_cycles"] = int(200_000 + cycles)
        return orig(self, *a, **k)

    verilator.AxisSim.run = run
    try:
        return run_rtlsim(out, x)
    finally:
        verilator.AxisSim.run = orig


def _frames(graph, n):
    shape = tuple(graph.host_input.onnx_shape)
    return np.random.default_rng(0).random((n,) + shape, dtype=np.float32)


def _fmt(r):
    return " ".join(f"{k}={r[k]}" for k in KEYS)


# ------------------------------------------------------------------------------ metrics
def rel_err(est, ref):
    if ref == 0:
        return 0.0 if est == 0 else 1.0
    return (est - ref) / ref


def summarize(builds, which="estimate", layers=False):
    """Per op type: n, median/worst |rel err| of LUT and FF, BRAM18/DSP exact-match rate
    (per stage, or per layer with ``layers``)."""
    by = {}
    items = layer_records(builds) if layers else [s for b in builds for s in b["stages"]]
    for s in items:
        if s.get("yosys") is None:
            continue
        by.setdefault(s["op"], []).append(s)
    table = {}
    for op, ss in sorted(by.items()):
        row = {"n": len(ss)}
        for k in ("LUT", "FF"):
            e = [abs(rel_err(s[which][k], s["yosys"][k])) for s in ss]
            row[f"{k}_median"] = round(statistics.median(e), 4)
            row[f"{k}_worst"] = round(max(e), 4)
        for k in ("BRAM18", "DSP"):
            row[f"{k}_exact"] = round(sum(s[which][k] == s["yosys"][k] for s in ss) / len(ss), 4)
        table[op] = row
    allst = [s for s in items if s.get("yosys") is not None]
    if allst:
        row = {"n": len(allst)}
        for k in ("LUT", "FF"):
            e = [abs(rel_err(s[which][k], s["yosys"][k])) for s in allst]
            row[f"{k}_median"] = round(statistics.median(e), 4)
            row[f"{k}_worst"] = round(max(e), 4)
        for k in ("BRAM18", "DSP"):
            row[f"{k}_exact"] = round(sum(s[which][k] == s["yosys"][k] for s in allst) / len(allst), 4)
        table["all"] = row
    return table


def layer_records(builds):
    """Stages summed per layer (an operator plus the FIFO/DWC that feed it), as synth.json
    charges them; only layers whose every stage was synthesized."""
    out = []
    for b in builds:
        by = {}
        for s in b["stages"]:
            by.setdefault(s["layer"], []).append(s)
        for layer, ss in by.items():
            if any(s.get("yosys") is None for s in ss):
                continue
            op = next((s["op"] for s in ss if s["kind"] == "op"), ss[0]["op"])
            rec = {"stages": [s["stage"] for s in ss], "op": op, "layer": layer, "kind": "layer"}
            for which in ("yosys", "estimate", "estimate_data"):
                rec[which] = {k: sum(s[which][k] for s in ss) for k in KEYS}
            out.append(rec)
    return out


def cycles_table(builds):
    rows = []
    for b in builds:
        if b.get("ii_measured") is None:
            continue
        rows.append({"build": b["name"], "ii_estimate": b["ii_estimate"], "ii_measured": b["ii_measured"],
                     "rel_err": round(rel_err(b["ii_estimate"], b["ii_measured"]), 4)})
    return rows


def markdown(report) -> str:
    L = [f"# Cost model vs Yosys {report['tool']} ({report['family']})", "",
         "Per operator type, over every synthesized stage of the benchmark builds: relative error "
         "|estimate - Yosys| / Yosys of LUT and FF (median, worst) and the fraction of stages "
         "whose BRAM18 and DSP counts are exact. \"files\": the estimate with the memory contents "
         "(ROM constant lanes known); \"no files\": what the design-space search sees.", ""]
    tables = [("summary", "estimate", "per stage, no files"), ("summary", "estimate_data", "per stage, files"),
              ("summary_layers", "estimate", "per layer = op + its FIFO/DWC, no files"),
              ("summary_layers", "estimate_data", "per layer = op + its FIFO/DWC, files")]
    for key, which, title in tables:
        L += [f"## Resources ({title})", "",
              "| op | n | LUT median | LUT worst | FF median | FF worst | BRAM18 exact | DSP exact |",
              "|---|---|---|---|---|---|---|---|"]
        for op, r in report[key][which].items():
            L.append(f"| {op} | {r['n']} | {100 * r['LUT_median']:.1f}% | {100 * r['LUT_worst']:.1f}% | "
                     f"{100 * r['FF_median']:.1f}% | {100 * r['FF_worst']:.1f}% | "
                     f"{100 * r['BRAM18_exact']:.0f}% | {100 * r['DSP_exact']:.0f}% |")
        L.append("")
    if report.get("cycles"):
        L += ["## Cycles per frame (II): model vs rtlsim", "", "| build | model | measured | error |",
              "|---|---|---|---|"]
        for r in report["cycles"]:
            L.append(f"| {r['build']} | {r['ii_estimate']:,} | {r['ii_measured']:,.0f} | "
                     f"{100 * r['rel_err']:+.2f}% |")
        L.append("")
    for fam, fr in report.get("families", {}).items():
        L += [f"## Other family: {fam} ({', '.join(b['name'] for b in fr['builds'])}; "
              "per layer, no files / files)", "",
              "| op | n | LUT median | LUT worst | FF median | FF worst | BRAM18 exact | DSP exact |",
              "|---|---|---|---|---|---|---|---|"]
        for which in ("estimate", "estimate_data"):
            for op, r in fr["summary_layers"][which].items():
                L.append(f"| {op} ({'files' if which == 'estimate_data' else 'no files'}) | {r['n']} | "
                         f"{100 * r['LUT_median']:.1f}% | {100 * r['LUT_worst']:.1f}% | "
                         f"{100 * r['FF_median']:.1f}% | {100 * r['FF_worst']:.1f}% | "
                         f"{100 * r['BRAM18_exact']:.0f}% | {100 * r['DSP_exact']:.0f}% |")
        L.append("")
    L += ["## Stages", "", "| build | stage | module | Yosys LUT/FF/BRAM18/DSP | estimate | with files |",
          "|---|---|---|---|---|---|"]
    for b in report["builds"]:
        for s in b["stages"]:
            y = s.get("yosys")
            ys = "skipped" if y is None else "/".join(str(y[k]) for k in KEYS)
            L.append(f"| {b['name']} | {s['stage']} | {s['module']} | {ys} | "
                     f"{'/'.join(str(s['estimate'][k]) for k in KEYS)} | "
                     f"{'/'.join(str(s['estimate_data'][k]) for k in KEYS)} |")
    return "\n".join(L) + "\n"


# ------------------------------------------------------------------------------ sweep + fit
def sweep_specs():
    """The module sweep the LUT coefficients are fitted to: (module, params, seed)."""
    S = []

    def mv(**p):
        S.append(("qloom_mvau", p))

    X = dict(IN_BITS=1, IN_BIPOLAR=1, W_BITS=1, W_BIPOLAR=1, W_SIGNED=0, NUM_THRESH=1, OUT_BITS=1)
    for MW, MH, PE, SIMD in [(64, 64, 1, 1), (64, 64, 2, 8), (64, 64, 4, 16), (256, 64, 4, 32),
                             (256, 64, 16, 16), (784, 64, 8, 49), (576, 64, 4, 32), (1152, 128, 8, 32),
                             (256, 256, 16, 32), (64, 32, 32, 64), (512, 64, 1, 64), (128, 128, 64, 8)]:
        mv(MW=MW, MH=MH, PE=PE, SIMD=SIMD, **X)
    Xn = dict(X, NUM_THRESH=0)
    for MW, MH, PE, SIMD in [(64, 10, 1, 8), (256, 10, 2, 16), (512, 16, 4, 32)]:
        mv(MW=MW, MH=MH, PE=PE, SIMD=SIMD, **Xn)
    Q = dict(IN_BITS=4, IN_SIGNED=0, W_BITS=4, W_SIGNED=1, NUM_THRESH=15, OUT_BITS=4)
    for MW, MH, PE, SIMD in [(144, 32, 8, 16), (64, 32, 4, 4), (288, 64, 4, 8), (64, 64, 1, 1),
                             (32, 32, 2, 2), (144, 32, 2, 4), (128, 64, 16, 2)]:
        mv(MW=MW, MH=MH, PE=PE, SIMD=SIMD, **Q)
    Qn = dict(Q, NUM_THRESH=0)
    for MW, MH, PE, SIMD in [(128, 10, 1, 4), (64, 16, 2, 8)]:
        mv(MW=MW, MH=MH, PE=PE, SIMD=SIMD, **Qn)
    for MW, MH, PE, SIMD in [(9, 16, 16, 1), (27, 32, 4, 3), (9, 16, 2, 9)]:
        mv(MW=MW, MH=MH, PE=PE, SIMD=SIMD, IN_BITS=8, IN_SIGNED=0, W_BITS=4, W_SIGNED=1, NUM_THRESH=15,
           OUT_BITS=4)
    for MW, MH, PE, SIMD in [(576, 64, 4, 16), (64, 64, 8, 8), (256, 128, 4, 8)]:
        mv(MW=MW, MH=MH, PE=PE, SIMD=SIMD, IN_BITS=2, IN_SIGNED=0, W_BITS=2, W_SIGNED=1, NUM_THRESH=3,
           OUT_BITS=2)
    for MW, MH, PE, SIMD, IB, NT in [(27, 64, 16, 3, 8, 1), (576, 64, 4, 16, 2, 3), (64, 32, 4, 8, 2, 3)]:
        mv(MW=MW, MH=MH, PE=PE, SIMD=SIMD, IN_BITS=IB, IN_SIGNED=0, W_BITS=1, W_BIPOLAR=1, W_SIGNED=0,
           NUM_THRESH=NT, OUT_BITS=max(1, (NT + 1).bit_length() - 1))
    for MW, MH, PE, SIMD in [(64, 32, 4, 8), (256, 64, 2, 16)]:
        mv(MW=MW, MH=MH, PE=PE, SIMD=SIMD, IN_BITS=1, IN_BIPOLAR=1, W_BITS=2, W_SIGNED=1, NUM_THRESH=1,
           OUT_BITS=1)
    mv(MW=256, MH=64, PE=4, SIMD=32, RAM_STYLE="block", **X)
    mv(MW=144, MH=32, PE=8, SIMD=16, RAM_STYLE="block", **Q)
    mv(MW=256, MH=64, PE=4, SIMD=32, RAM_STYLE="distributed", **X)
    # wide XNOR layers (CNV-W1A1 at ~3 kFPS: 576x64 PE16 SIMD64 in a LUT ROM, 1152x128)
    mv(MW=576, MH=64, PE=16, SIMD=64, RAM_STYLE="distributed", **X)
    mv(MW=1152, MH=128, PE=4, SIMD=128, RAM_STYLE="block", **X)
    mv(MW=288, MH=64, PE=4, SIMD=32, **X)
    mv(MW=16, MH=16, PE=16, SIMD=16, **X)
    mv(MW=16, MH=8, PE=8, SIMD=16, **Q)
    mv(MW=16, MH=8, PE=8, SIMD=8, **Q)
    mv(MW=528, MH=16, PE=1, SIMD=33, **Xn)
    mv(MW=495, MH=17, PE=1, SIMD=33, **Xn)
    # ablations: thresholds, SIMD, PE one at a time; small products around the DSP rule
    Q0 = dict(IN_BITS=4, IN_SIGNED=0, W_BITS=4, W_SIGNED=1)
    for nt in (0, 1, 3, 7):
        mv(MW=64, MH=32, PE=4, SIMD=4, NUM_THRESH=nt, OUT_BITS=max(1, nt.bit_length()), **Q0)
    for simd in (1, 2, 8, 16):
        mv(MW=64, MH=32, PE=1, SIMD=simd, NUM_THRESH=0, **Q0)
    for pe in (1, 8):
        mv(MW=64, MH=32, PE=pe, SIMD=4, NUM_THRESH=0, **Q0)
    for simd in (1, 4, 16, 64):
        mv(MW=256, MH=32, PE=1, SIMD=simd, **dict(Xn))
    for ib, wb, acc in [(4, 4, 10), (8, 4, 14), (8, 8, 18), (2, 8, 12), (4, 4, 8)]:
        for simd in (1, 2):
            mv(MW=4, MH=4, PE=1, SIMD=simd, IN_BITS=ib, IN_SIGNED=0, W_BITS=wb, W_SIGNED=int(acc != 8),
               ACC_BITS=acc)
    for d, w in [(2, 2), (2, 3), (2, 4), (3, 2), (2, 8), (2, 16), (4, 8), (8, 32), (16, 64), (32, 8),
                 (33, 8), (64, 16), (128, 16), (129, 16), (64, 64), (4, 1), (9, 8), (36, 64), (256, 8),
                 (1, 8)]:
        S.append(("qloom_fifo", dict(WIDTH=w, DEPTH=d, RAM_STYLE="auto")))
    return S + _misc_specs()


def _misc_specs():
    S = []
    for H, W, C, SIMD, K, St, pad, EB in [(8, 8, 1, 1, 3, 1, 1, 8), (4, 4, 16, 4, 3, 1, 1, 4), (32, 32, 3, 1, 3, 1, 0, 8),
                                         (30, 30, 3, 3, 3, 1, 1, 8), (16, 16, 64, 16, 3, 1, 1, 1),
                                         (16, 16, 64, 4, 3, 1, 0, 2), (28, 28, 1, 1, 5, 1, 0, 8),
                                         (10, 10, 64, 8, 3, 1, 0, 1), (8, 8, 128, 8, 3, 2, 1, 2),
                                         (12, 12, 32, 32, 3, 1, 1, 1), (32, 32, 64, 2, 3, 1, 1, 1)]:
        S.append(("qloom_swg", dict(IFM_DIM_H=H, IFM_DIM_W=W, CHANNELS=C, SIMD=SIMD, K_H=K, K_W=K, S_H=St,
                                    S_W=St, PAD_T=pad, PAD_B=pad, PAD_L=pad, PAD_R=pad, ELEM_BITS=EB,
                                    RAM_STYLE="auto")))
    for H, C, PE, K, EB, sg in [(8, 16, 2, 2, 4, 0), (4, 32, 1, 2, 4, 0), (30, 64, 4, 2, 1, 0), (14, 64, 8, 2, 2, 1),
                                (16, 32, 32, 2, 4, 0), (24, 128, 16, 3, 1, 0)]:
        S.append(("qloom_pool", dict(IFM_DIM_H=H, IFM_DIM_W=H, CHANNELS=C, PE=PE, K_H=K, K_W=K, S_H=K, S_W=K,
                                     ELEM_BITS=EB, SIGNED=sg, MODE=0, OUT_BITS=EB, RAM_STYLE="auto")))
    for H, C, PE, K, EB in [(8, 16, 4, 2, 4), (7, 64, 8, 7, 4)]:
        ob = EB + (K * K - 1).bit_length()
        S.append(("qloom_pool", dict(IFM_DIM_H=H, IFM_DIM_W=H, CHANNELS=C, PE=PE, K_H=K, K_W=K, S_H=K, S_W=K,
                                     ELEM_BITS=EB, SIGNED=0, MODE=1, OUT_BITS=ob, RAM_STYLE="auto")))
    for i, o in [(64, 8), (8, 16), (16, 64), (32, 4), (4, 16), (8, 8), (256, 32), (12, 96), (96, 12)]:
        S.append(("qloom_dwc", dict(IN_WIDTH=i, OUT_WIDTH=o)))
    for nl, pe, ib, k in [(10, 1, 13, 1), (10, 2, 16, 1), (100, 4, 8, 5), (1000, 8, 12, 1), (10, 10, 8, 3)]:
        S.append(("qloom_labelselect", dict(NUM_LABELS=nl, PE=pe, IN_BITS=ib, IN_SIGNED=1, K=k,
                                            IDX_BITS=max(1, (nl - 1).bit_length()))))
    for d, w, st in [(512, 32, "auto"), (1024, 8, "auto"), (2048, 36, "auto"), (64, 8, "block"),
                     (16, 8, "distributed"), (4, 8, "registers"), (200, 72, "auto"), (300, 10, "auto"),
                     (5, 64, "distributed"), (64, 256, "auto")]:
        S.append(("qloom_fifo", dict(WIDTH=w, DEPTH=d, RAM_STYLE=st)))
    for C, pe, ib, isg, tb, nt, ob in [(64, 1, 8, 1, 9, 3, 2), (64, 4, 4, 0, 6, 15, 4), (256, 16, 4, 0, 6, 15, 4),
                                       (32, 32, 8, 1, 10, 1, 1), (128, 8, 13, 1, 14, 7, 3),
                                       (10, 10, 16, 1, 17, 15, 4), (512, 4, 2, 0, 4, 3, 2), (64, 8, 8, 0, 9, 1, 1),
                                       (32, 2, 6, 1, 7, 7, 3)]:
        S.append(("qloom_thresholding", dict(CHANNELS=C, PE=pe, IN_BITS=ib, IN_SIGNED=isg, T_BITS=tb,
                                             NUM_THRESH=nt, OUT_BITS=ob, OUT_SIGNED=0, OUT_BIAS=0,
                                             RAM_STYLE="auto")))
    return S + vvau_specs()


def vvau_specs():
    """The qloom_vvau part of the sweep (depthwise layers: K = 9 or 25, PE and SIMD over
    their range, 2-8 bit products, bipolar weights, with and without thresholds)."""
    S = []
    for C, K, PE, SIMD, IB, WB, NT in [(32, 9, 1, 1, 4, 4, 15), (32, 9, 4, 1, 4, 4, 15), (32, 9, 32, 1, 4, 4, 15),
                                       (32, 9, 32, 3, 4, 4, 15), (32, 9, 32, 9, 4, 4, 15), (64, 9, 8, 1, 2, 2, 3),
                                       (16, 25, 16, 5, 4, 4, 7), (32, 9, 4, 1, 4, 4, 0), (128, 9, 16, 1, 4, 4, 15),
                                       (64, 9, 2, 1, 8, 4, 1), (32, 9, 8, 1, 3, 3, 7), (8, 9, 8, 9, 2, 2, 3)]:
        S.append(("qloom_vvau", dict(CHANNELS=C, K=K, PE=PE, SIMD=SIMD, IN_BITS=IB, IN_SIGNED=0, W_BITS=WB,
                                     W_SIGNED=1, NUM_THRESH=NT, OUT_BITS=max(1, NT.bit_length()))))
    S.append(("qloom_vvau", dict(CHANNELS=64, K=9, PE=4, SIMD=1, IN_BITS=4, W_BITS=1, W_BIPOLAR=1, W_SIGNED=0,
                                 NUM_THRESH=3, OUT_BITS=2)))
    return S


def family_specs():
    """The smaller sweep of the other families (memory mapping, LUT scale)."""
    S = []
    X = dict(IN_BITS=1, IN_BIPOLAR=1, W_BITS=1, W_BIPOLAR=1, W_SIGNED=0, NUM_THRESH=1, OUT_BITS=1)
    Q = dict(IN_BITS=4, IN_SIGNED=0, W_BITS=4, W_SIGNED=1, NUM_THRESH=15, OUT_BITS=4)
    for MW, MH, PE, SIMD in [(64, 64, 2, 8), (256, 64, 4, 32), (576, 64, 4, 32)]:
        S.append(("qloom_mvau", dict(MW=MW, MH=MH, PE=PE, SIMD=SIMD, **X)))
    for MW, MH, PE, SIMD in [(64, 32, 4, 4), (144, 32, 2, 4), (128, 64, 16, 2)]:
        S.append(("qloom_mvau", dict(MW=MW, MH=MH, PE=PE, SIMD=SIMD, **Q)))
    S.append(("qloom_mvau", dict(MW=27, MH=32, PE=4, SIMD=3, IN_BITS=8, IN_SIGNED=0, W_BITS=4, W_SIGNED=1,
                                 NUM_THRESH=15, OUT_BITS=4)))
    S.append(("qloom_mvau", dict(MW=64, MH=64, PE=8, SIMD=8, IN_BITS=2, IN_SIGNED=0, W_BITS=2, W_SIGNED=1,
                                 NUM_THRESH=3, OUT_BITS=2)))
    for MW, MH, PE, SIMD in [(9, 16, 16, 1), (9, 16, 2, 9)]:
        S.append(("qloom_mvau", dict(MW=MW, MH=MH, PE=PE, SIMD=SIMD, IN_BITS=8, IN_SIGNED=0, W_BITS=4,
                                     W_SIGNED=1, NUM_THRESH=15, OUT_BITS=4)))
    for MW, MH, PE, SIMD, NT in [(144, 32, 8, 16, 15), (64, 16, 2, 8, 0), (16, 8, 8, 8, 15)]:
        S.append(("qloom_mvau", dict(MW=MW, MH=MH, PE=PE, SIMD=SIMD, IN_BITS=4, IN_SIGNED=0, W_BITS=4,
                                     W_SIGNED=1, NUM_THRESH=NT, OUT_BITS=4)))
    S.append(("qloom_mvau", dict(MW=256, MH=64, PE=16, SIMD=16, **X)))
    for H, W, C, SIMD, K, St, pad, EB in [(8, 8, 1, 1, 3, 1, 1, 8), (16, 16, 64, 4, 3, 1, 0, 2),
                                         (10, 10, 64, 8, 3, 1, 0, 1)]:
        S.append(("qloom_swg", dict(IFM_DIM_H=H, IFM_DIM_W=W, CHANNELS=C, SIMD=SIMD, K_H=K, K_W=K, S_H=St,
                                    S_W=St, PAD_T=pad, PAD_B=pad, PAD_L=pad, PAD_R=pad, ELEM_BITS=EB,
                                    RAM_STYLE="auto")))
    for H, C, PE, K, EB in [(8, 16, 2, 2, 4), (14, 64, 8, 2, 2)]:
        S.append(("qloom_pool", dict(IFM_DIM_H=H, IFM_DIM_W=H, CHANNELS=C, PE=PE, K_H=K, K_W=K, S_H=K, S_W=K,
                                     ELEM_BITS=EB, SIGNED=0, MODE=0, OUT_BITS=EB, RAM_STYLE="auto")))
    for d, w, st in [(2, 2, "auto"), (2, 4, "auto"), (2, 8, "auto"), (4, 8, "auto"), (16, 8, "auto"),
                     (17, 8, "auto"), (32, 16, "auto"), (64, 16, "auto"), (128, 16, "auto"), (129, 16, "auto"),
                     (256, 8, "auto"), (512, 32, "auto"), (64, 64, "auto"), (200, 72, "auto"),
                     (5, 64, "distributed"), (64, 8, "block"), (1024, 8, "auto"), (2048, 36, "auto")]:
        S.append(("qloom_fifo", dict(WIDTH=w, DEPTH=d, RAM_STYLE=st)))
    for i, o in [(64, 8), (8, 16), (16, 64), (256, 32)]:
        S.append(("qloom_dwc", dict(IN_WIDTH=i, OUT_WIDTH=o)))
    for nl, pe, ib, k in [(10, 1, 13, 1), (100, 4, 8, 5)]:
        S.append(("qloom_labelselect", dict(NUM_LABELS=nl, PE=pe, IN_BITS=ib, IN_SIGNED=1, K=k,
                                            IDX_BITS=max(1, (nl - 1).bit_length()))))
    for C, pe, ib, isg, tb, nt, ob in [(64, 4, 4, 0, 6, 15, 4), (128, 8, 13, 1, 14, 7, 3), (512, 4, 2, 0, 4, 3, 2),
                                       (2048, 2, 4, 0, 6, 15, 4)]:
        S.append(("qloom_thresholding", dict(CHANNELS=C, PE=pe, IN_BITS=ib, IN_SIGNED=isg, T_BITS=tb,
                                             NUM_THRESH=nt, OUT_BITS=ob, OUT_SIGNED=0, OUT_BIAS=0,
                                             RAM_STYLE="auto")))
    return S


def thresholding_sweep_files(p: dict, seed: int = 0) -> dict:
    """Random sorted thresholds inside the input range (as a trained model has them)."""
    from qloom.instance import memh_text
    from qloom.ops.base import threshold_words

    rng = np.random.default_rng(seed)
    C, pe, nt, tb, ib = p["CHANNELS"], p["PE"], p["NUM_THRESH"], p["T_BITS"], p["IN_BITS"]
    lo, hi = (-(1 << (ib - 1)), 1 << (ib - 1)) if p["IN_SIGNED"] else (0, 1 << ib)
    T = np.sort(rng.integers(lo, hi + 1, size=(C, nt)), axis=1)
    return {"t.mem": memh_text(threshold_words(T, pe, tb), pe * nt * tb)}


def mvau_sweep_instance(p: dict, seed: int = 0):
    """Full parameters, memory files and stream widths of a swept qloom_mvau (random
    contents from ``seed``; the accumulator fits the worst-case dot product)."""
    from qloom.instance import memh_text
    from qloom.ops.base import threshold_words
    from qloom.ops.mvau import mvau_weight_words

    p = dict(p)
    MW, MH, PE, SIMD = p["MW"], p["MH"], p.get("PE", 1), p.get("SIMD", 1)
    IB, WB = p.get("IN_BITS", 4), p.get("W_BITS", 4)
    isg, ibp = p.get("IN_SIGNED", 0), p.get("IN_BIPOLAR", 0)
    wsg, wbp = p.get("W_SIGNED", 1), p.get("W_BIPOLAR", 0)
    NT = p.get("NUM_THRESH", 0)
    rng = np.random.default_rng(seed)
    if wbp:
        W = rng.choice([-1, 1], size=(MH, MW))
    elif wsg:
        W = rng.integers(-(1 << (WB - 1)), 1 << (WB - 1), size=(MH, MW))
    else:
        W = rng.integers(0, 1 << WB, size=(MH, MW))
    xmax = 1 if ibp else ((1 << (IB - 1)) if isg else (1 << IB) - 1)
    wmax = 1 if wbp else ((1 << (WB - 1)) if wsg else (1 << WB) - 1)
    acc = p.get("ACC_BITS") or int(np.ceil(np.log2(MW * xmax * wmax + 1))) + 1
    files = {"w.mem": memh_text(mvau_weight_words(W, PE, SIMD, WB, bipolar=bool(wbp)), PE * SIMD * WB)}
    if NT:
        span = 1 << (acc - 2)
        T = np.sort(rng.integers(-span, span, size=(MH, NT)), axis=1)
        files["t.mem"] = memh_text(threshold_words(T, PE, acc), PE * NT * acc)
    ob = p.get("OUT_BITS", 4) if NT else acc
    full = dict(MW=MW, MH=MH, PE=PE, SIMD=SIMD, IN_BITS=IB, IN_SIGNED=isg, IN_BIPOLAR=ibp, W_BITS=WB,
                W_SIGNED=wsg, W_BIPOLAR=wbp, ACC_BITS=acc, NUM_THRESH=NT, OUT_BITS=p.get("OUT_BITS", 4),
                OUT_SIGNED=0, OUT_BIAS=0, WEIGHT_FILE="w.mem", THRESH_FILE="t.mem" if NT else "",
                RAM_STYLE=p.get("RAM_STYLE", "auto"))
    return full, files, SIMD * IB, PE * ob


def vvau_sweep_instance(p: dict, seed: int = 0):
    """Full parameters, memory files and stream widths of a swept qloom_vvau (random
    contents from ``seed``; the accumulator fits the worst-case sum over the window)."""
    from qloom.instance import memh_text
    from qloom.ops.base import threshold_words
    from qloom.ops.vvau import pipeline_depth, vvau_credits, vvau_weight_words

    C, K, PE, SIMD = p["CHANNELS"], p["K"], p.get("PE", 1), p.get("SIMD", 1)
    IB, WB = p.get("IN_BITS", 4), p.get("W_BITS", 4)
    isg, ibp = p.get("IN_SIGNED", 0), p.get("IN_BIPOLAR", 0)
    wsg, wbp = p.get("W_SIGNED", 1), p.get("W_BIPOLAR", 0)
    NT = p.get("NUM_THRESH", 0)
    rng = np.random.default_rng(seed)
    if wbp:
        W = rng.choice([-1, 1], size=(C, K))
    elif wsg:
        W = rng.integers(-(1 << (WB - 1)), 1 << (WB - 1), size=(C, K))
    else:
        W = rng.integers(0, 1 << WB, size=(C, K))
    xmax = 1 if ibp else ((1 << (IB - 1)) if isg else (1 << IB) - 1)
    wmax = 1 if wbp else ((1 << (WB - 1)) if wsg else (1 << WB) - 1)
    acc = p.get("ACC_BITS") or int(np.ceil(np.log2(K * xmax * wmax + 1))) + 1
    files = {"w.mem": memh_text(vvau_weight_words(W, PE, SIMD, WB, bipolar=bool(wbp)), PE * SIMD * WB)}
    if NT:
        span = 1 << (acc - 2)
        T = np.sort(rng.integers(-span, span, size=(C, NT)), axis=1)
        files["t.mem"] = memh_text(threshold_words(T, PE, acc), PE * NT * acc)
    ob = p.get("OUT_BITS", 4) if NT else acc
    full = dict(CHANNELS=C, K=K, PE=PE, SIMD=SIMD, IN_BITS=IB, IN_SIGNED=isg, IN_BIPOLAR=ibp, W_BITS=WB,
                W_SIGNED=wsg, W_BIPOLAR=wbp, ACC_BITS=acc, NUM_THRESH=NT, OUT_BITS=p.get("OUT_BITS", 4),
                OUT_SIGNED=0, OUT_BIAS=0, WEIGHT_FILE="w.mem", THRESH_FILE="t.mem" if NT else "",
                RAM_STYLE=p.get("RAM_STYLE", "auto"), MUL_STYLE=p.get("MUL_STYLE", 0),
                CREDITS=vvau_credits(C // PE, K // SIMD, pipeline_depth(NT)))
    return full, files, PE * SIMD * IB, PE * ob


def _stream_widths(module, p):
    if module == "qloom_fifo":
        return p["WIDTH"], p["WIDTH"]
    if module == "qloom_swg":
        return p["SIMD"] * p["ELEM_BITS"], p["SIMD"] * p["ELEM_BITS"]
    if module == "qloom_pool":
        return p["PE"] * p["ELEM_BITS"], p["PE"] * p["OUT_BITS"]
    if module == "qloom_dwc":
        return p["IN_WIDTH"], p["OUT_WIDTH"]
    if module == "qloom_labelselect":
        return p["PE"] * p["IN_BITS"], p["IDX_BITS"]
    if module == "qloom_thresholding":
        return p["PE"] * p["IN_BITS"], p["PE"] * p["OUT_BITS"]
    raise KeyError(module)


def sweep_instance(module: str, p: dict):
    """(full parameters, memory files {name: text}, in width, out width) of a swept module."""
    p = dict(p)
    if module == "qloom_mvau":
        return mvau_sweep_instance(p)
    if module == "qloom_vvau":
        return vvau_sweep_instance(p)
    files = {}
    if module == "qloom_thresholding":
        files = thresholding_sweep_files(p)
        p["THRESH_FILE"] = "t.mem"
    iw, ow = _stream_widths(module, p)
    return p, files, iw, ow


def run_sweep(family: str, jobs: int):
    from qloom.rtl.generate import library_sources
    from qloom.synth import synth_module

    def work(spec):
        module, p = spec
        p, texts, iw, ow = sweep_instance(module, p)
        with tempfile.TemporaryDirectory() as td:
            files = {}
            for k, v in texts.items():
                (Path(td) / k).write_text(v)
                files[k] = Path(td) / k
            r = synth_module(module, library_sources([module]), p, files, family, iw, ow)
        return {"module": module, "params": p, "family": family,
                "yosys": {k: r["resources"].get(k, 0) for k in KEYS}}

    specs = sweep_specs() if family == "xc7" else family_specs()
    out = []
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        for rec in ex.map(work, specs):
            print(f"  sweep {rec['module']}: {_fmt(rec['yosys'])}", flush=True)
            out.append(rec)
    return out


def _sweep_parts(rec):
    from qloom.ops import module_parts

    _, files, _, _ = sweep_instance(rec["module"], rec["params"])
    return module_parts(rec["module"], rec["params"], rec["family"], files or None)


def fit(records, family: str, hybrid: bool = False):
    """Least-squares LUT coefficients (relative error, non-negative) over ``records``.

    xc7: one coefficient per (module, feature). Other families: one scale per module on
    top of the xc7 coefficients (``{"_scale": s}``), which their smaller sweeps support."""
    from scipy.optimize import nnls

    from qloom.cost import coefficients

    rows, ys, fixed = [], [], []
    for rec in records:
        P = _sweep_parts(rec)
        rows.append(P.lut)
        ys.append(rec["yosys"]["LUT"])
        fixed.append(P.lut.get(("mem", "lutram"), 0.0))
    y = np.array(ys, float) - np.array(fixed)
    w = 1.0 / np.maximum(np.array(ys, float), 1.0)
    if family == "xc7":
        keys = sorted({k for r in rows for k in r if k != ("mem", "lutram")})
        A = np.array([[r.get(k, 0.0) for k in keys] for r in rows])
        x, _ = nnls(A * w[:, None], y * w)
        coef = {}
        for k, v in zip(keys, x):
            coef.setdefault(k[0], {})[k[1]] = round(float(v), 4)
    else:
        base = coefficients("xc7")
        mods = sorted({k[0] for r in rows for k in r if k != ("mem", "lutram")})
        A = np.array([[sum(base.get(m, {}).get(k[1], 0.0) * v for k, v in r.items()
                           if k[0] == m and k != ("mem", "lutram")) for m in mods] for r in rows])
        xs, _ = nnls(A * w[:, None], y * w)
        coef = {m: {"_scale": round(float(v), 4)} for m, v in zip(mods, xs)}
        x = xs
        if hybrid:
            # per-feature coefficients, pulled towards scale x xc7 (a prior row per feature,
            # weight ``lam`` on the relative deviation) so that features the family's sweep
            # barely sees keep the scaled xc7 value
            lam = 0.3
            scale = dict(zip(mods, xs))
            keys = sorted({k for r in rows for k in r if k != ("mem", "lutram")})
            x0 = np.array([scale.get(k[0], 1.0) * base.get(k[0], {}).get(k[1], 0.0) for k in keys])
            A = np.array([[r.get(k, 0.0) for k in keys] for r in rows])
            prior_rows, prior_y = [], []
            for i, v in enumerate(x0):
                if v > 0:
                    row = np.zeros(len(keys))
                    row[i] = np.sqrt(lam) / v
                    prior_rows.append(row)
                    prior_y.append(np.sqrt(lam))
            AA = np.vstack([A * w[:, None]] + ([np.array(prior_rows)] if prior_rows else []))
            yy = np.concatenate([y * w, np.array(prior_y)])
            x, _ = nnls(AA, yy)
            for k, v in zip(keys, x):
                coef.setdefault(k[0], {})[k[1]] = round(float(v), 4)
    pred = A @ x + np.array(fixed)
    err = (pred - np.array(ys)) / np.maximum(np.array(ys), 1)
    return coef, err


def write_coefficients(family: str, coef: dict, err, n: int, tool: str) -> Path:
    """Merge fitted ``coef`` into src/qloom/cost/coef/<family>.json (features the sweep
    did not fit keep their value) with provenance; returns the path."""
    import qloom.cost.parts as cp

    path = cp.COEF_DIR / f"{family}.json"
    data = json.loads(path.read_text())
    for mod, feats in coef.items():
        data["coefficients"].setdefault(mod, {}).update(feats)
    data["tool"] = f"Yosys {tool}"
    data["provenance"] = (f"fitted by benchmarks/cost_model.py --fit --write (scipy nnls, relative error) "
                          f"to the {n}-stage {family} sweep in benchmarks/results/cost_model.json")
    data["residuals"] = {"median_abs_rel": round(float(np.median(np.abs(err))), 4),
                         "worst_abs_rel": round(float(np.abs(err).max()), 4), "stages": n}
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path


# ------------------------------------------------------------------------------ main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--family", default="xc7", choices=("xc7", "xcup", "ecp5"))
    ap.add_argument("--quick", action="store_true", help="only the default digits build")
    ap.add_argument("--no-rtlsim", action="store_true", help="skip the cycle comparison")
    ap.add_argument("--sweep", action="store_true", help="synthesize the fitting sweep")
    ap.add_argument("--fit", action="store_true", help="fit LUT coefficients to the stored sweep")
    ap.add_argument("--write", action="store_true", help="with --fit: write them to qloom/cost/coef")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", default=str(RESULTS / "cost_model.json"))
    ap.add_argument("--md", default=str(RESULTS / "cost_model.md"))
    ap.add_argument("--workdir", default=None, help="build folders (default: a temporary folder)")
    args = ap.parse_args(argv)
    jpath = Path(args.json)
    old = json.loads(jpath.read_text()) if jpath.exists() else {}
    if args.sweep or args.fit:
        sweep = old.get("sweep", {}).get(args.family)
        if args.sweep or not sweep:
            sweep = run_sweep(args.family, args.jobs)
            old.setdefault("sweep", {})[args.family] = sweep
            jpath.parent.mkdir(parents=True, exist_ok=True)
            jpath.write_text(json.dumps(old, indent=1) + "\n")
        if args.fit:
            coef, err = fit(sweep, args.family)
            print(json.dumps(coef, indent=1))
            print(f"fit: median |err| {np.median(np.abs(err)):.3f}, worst {np.abs(err).max():.3f}")
            if args.write:
                print(f"wrote {write_coefficients(args.family, coef, err, len(sweep), old.get('tool', '0.70'))}")
        return 0
    from qloom.synth import FAMILIES  # noqa: F401 - validates the import early

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qloom-cost-") as td:
        wd = Path(args.workdir) if args.workdir else Path(td)
        wd.mkdir(parents=True, exist_ok=True)
        builds = []
        for name, model, folding in cases(wd, args.quick):
            print(f"{name}:", flush=True)
            builds.append(run_build(name, model, folding, wd, args.family, args.jobs, not args.no_rtlsim))
    report = {"family": args.family, "tool": "0.70",
              "summary": {"estimate": summarize(builds, "estimate"),
                          "estimate_data": summarize(builds, "estimate_data")},
              "summary_layers": {"estimate": summarize(builds, "estimate", layers=True),
                                 "estimate_data": summarize(builds, "estimate_data", layers=True)},
              "cycles": cycles_table(builds), "builds": builds,
              "seconds": round(time.perf_counter() - t0, 1)}
    if args.family != "xc7" and old.get("family") == "xc7":
        # another family: stored beside the xc7 report
        fam = dict(report)
        report = old
        report.setdefault("families", {})[args.family] = fam
    else:
        for k in ("sweep", "families"):
            if k in old:
                report[k] = old[k]
    jpath.parent.mkdir(parents=True, exist_ok=True)
    jpath.write_text(json.dumps(report, indent=1) + "\n")
    Path(args.md).write_text(markdown(report))
    print(markdown(report).split("## Stages")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
