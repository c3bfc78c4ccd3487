"""Where the LUTs of a multi-bit design go (issue 15, item 1): per layer, the resource
model's LUT features (``qloom.cost.parts``: features x the fitted xc7 coefficients of
``qloom/cost/coef``) grouped into threshold compare banks, threshold storage, products,
adder trees + accumulators, weight ROMs, and control/glue, for the folding the target-FPS
search chooses.

    .venv/bin/python benchmarks/lut_profile.py                       # CNV-W2A2 and the jet MLP
    .venv/bin/python benchmarks/lut_profile.py --models jet_w6a6 --json out.json
    .venv/bin/python benchmarks/lut_profile.py --models cnv_2w2a --objective LUT

The memory files are built (exact ROM contents: constant lanes and dead comparators are
dropped as Yosys does). Numbers are estimates of Yosys 0.70 synth_xilinx (xc7).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

# (model, board, clock MHz, FPS, objective)
TARGETS = {
    "cnv_2w2a": ("pynq-z1", 100, 3040, "balanced"),
    "jet_w6a6": ("pynq-z1", 100, 1e6, "balanced"),
    "cnv_1w1a": ("pynq-z1", 100, 3040, "balanced"),
}
# LUT feature (module, name) -> category
GROUPS = {
    "thr_cmp": {"cmp", "cmp_const", "cnt", "bs_cmp", "bs_sel"},
    "thr_rom": {"rom_t", "rom_thr", "rom_bs"},
    "products": {"lane_mul", "clane_mul", "lane_neg", "clane_neg", "lane_dsp", "lane_pack", "xgrp", "cxgrp", "bpgrp"},
    "adders": {"tree", "tree_dsp", "xtree", "acc", "xnor_out", "bptree", "bpsum"},
    "weight_rom": {"rom_w"},
}
CATS = ("thr_cmp", "thr_rom", "products", "adders", "weight_rom", "control")


def category(module: str, feature: str) -> str:
    for cat, names in GROUPS.items():
        if feature in names:
            return cat
    return "control"


def profile(name: str, board_name: str, clock: float, fps: float, objective: str) -> dict:
    import qloom
    from qloom.boards import get_board
    from qloom.cost.parts import coefficients
    from qloom.dse.search import search
    from qloom.zoo import zoo_export

    with tempfile.TemporaryDirectory() as td:
        model = zoo_export(name, Path(td) / f"{name}.onnx")
        graph = qloom.compile_model(model)
    board = get_board(board_name)
    folding, _, totals = search(graph, board, fps, clock, objective=objective)
    C = coefficients("xc7")
    rows = []
    for op in graph.nodes:
        fold = folding[op.name]
        if op.rtl_missing(fold):
            continue
        inst = op.rtl(fold)
        files = inst.make_files() if inst.make_files else None
        P = op.models[inst.module](family="xc7", files=files, **inst.params)
        cats = dict.fromkeys(CATS, 0.0)
        for (mod, k), v in P.lut.items():
            if (mod, k) == ("mem", "lutram"):
                cats["control"] += v
                continue
            cats[category(mod, k)] += C.get(mod, {}).get(k, 0.0) * v
        res = op.resources(fold, "xc7", files)
        rows.append({"layer": op.name, "op": op.op_type, "describe": op.describe(),
                     "fold": {k: v for k, v in fold.items() if k in ("PE", "SIMD", "resType", "ram_style", "thr_style", "thr_mem")},
                     "params": {k: inst.params[k] for k in ("IN_BITS", "W_BITS", "ACC_BITS", "NUM_THRESH", "T_BITS")
                                if k in inst.params},
                     **{c: round(v, 1) for c, v in cats.items()}, "LUT": res["LUT"], "BRAM18": res["BRAM18"],
                     "DSP": res["DSP"]})
    return {"model": name, "board": board_name, "clock_mhz": clock, "fps": fps, "objective": objective,
            "totals": totals, "layers": rows}


def fmt(p: dict) -> str:
    out = [f"### {p['model']} at {p['fps']:,.0f} FPS ({p['board']}, {p['clock_mhz']} MHz, {p['objective']}): "
           f"total est. {p['totals']['LUT']:,} LUT, {p['totals']['BRAM18']} BRAM18, {p['totals']['DSP']} DSP "
           "(glue included)", "",
           "| layer | op | PE/SIMD | bits (in/w/acc/T) | thr cmp | thr ROM | products | adders+acc | weight ROM | control | LUT | BRAM18 | DSP |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    tot = dict.fromkeys(CATS, 0.0)
    for r in p["layers"]:
        f, q = r["fold"], r["params"]
        bits = "/".join(str(q.get(k, "-")) for k in ("IN_BITS", "W_BITS", "ACC_BITS", "NUM_THRESH"))
        unit = "" if f.get("thr_style", "parallel") == "parallel" else f" bsearch-{f.get('thr_mem', 'lut')}"
        out.append(f"| {r['layer']} | {r['op']} | {f.get('PE', 1)}/{f.get('SIMD', 1)}{unit} | {bits} | "
                   + " | ".join(f"{r[c]:,.0f}" for c in CATS) + f" | {r['LUT']:,} | {r['BRAM18']} | {r['DSP']} |")
        for c in CATS:
            tot[c] += r[c]
    s = sum(tot.values())
    out.append("| **sum of layers** | | | | " + " | ".join(f"**{tot[c]:,.0f}** ({100 * tot[c] / s:.0f}%)" for c in CATS)
               + f" | {sum(r['LUT'] for r in p['layers']):,} | | |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="cnv_2w2a,jet_w6a6")
    ap.add_argument("--json", help="write the profile as JSON here")
    ap.add_argument("--objective", help="the search objective (default: each model's in TARGETS)")
    args = ap.parse_args(argv)
    res = []
    for m in args.models.split(","):
        board, clock, fps, objective = TARGETS[m]
        res.append(profile(m, board, clock, fps, args.objective or objective))
        print(fmt(res[-1]), "\n", flush=True)
    if args.json:
        from qloom.fileio import write_atomic
        write_atomic(args.json, lambda part: Path(part).write_text(json.dumps(res, indent=1) + "\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
