"""The seed papers' benchmark networks end to end, beside the published numbers.

    .venv/bin/python benchmarks/seeds.py            # full run (synthesizes every stage; long)
    .venv/bin/python benchmarks/seeds.py --quick    # small models only (what CI runs)
    .venv/bin/python benchmarks/seeds.py --models cnv_1w1a --merge   # redo one row

For each network: the folding qloom chooses for a target on a board, Verilator-measured
cycles per frame, FPS and latency, LUT/FF/BRAM18/DSP estimated and measured by Yosys
(per-stage synthesis, summed), and the QONNX-to-RTL compile time; beside the anchors of
../shared/ANCHORS.md, with a matched-throughput comparison (our resources at their FPS) and
a matched-resources one (our estimated FPS at their LUT count). Writes
benchmarks/results/seeds.json and seeds.md.

How Yosys counts differ from Vivado's: Yosys 0.70 synth_xilinx maps logic with ABC9 per
stage (no optimization across layers, no LUT6_2 dual-output packing, which place-and-route
in Vivado does), LUT-RAM/SRL cells are counted in LUT equivalents as Vivado's "LUT as
Memory", BRAM is counted in RAMB18 halves (BNN-PYNQ reports BRAM36), and CARRY4/8 cells are
separate. hls4ml's figures are Vivado HLS synthesis estimates for a U250 at 200 MHz.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BNN_PYNQ = "BNN-PYNQ {} on PYNQ-Z1 (Vivado, weights in BRAM)"
HLS4ML_SVHN = {"source": "hls4ml SVHN pruned + 6-bit QAT, U250 200 MHz", "ii_cycles": 1028,
               "latency_cycles": 1044, "LUT": 118931, "FF": 30702, "DSP": 353, "BRAM": 34}
HLS4ML_JET = {"source": "hls4ml jet tagger 6-bit QAT, VU9P 200 MHz", "latency_ns": 45,
              "LUT": 63251, "DSP": 38}
# pruned=True: the model is qloom/models/pruned/<name>.onnx (examples/train_pruned.py), its
# test frames those of its topology (<name>.json "topology").
# objective "LUT": BNN-PYNQ fills the PYNQ-Z1's block RAM with weights, so qloom is compared
# with the same freedom (fewest LUTs that fit the board: qloom's default objective since
# session 6); "balanced" = scarcity-weighted, what rows without an objective were recorded with.
# target_latency "min": after the II target, unfold layers until the modelled latency is
# within 5 % of the lowest any folding reaches (hls4ml's designs are latency-first).
SEEDS = [
    dict(name="cnv_1w1a", board="pynq-z1", clock=100, fps=3040, objective="LUT",
         anchor={"source": BNN_PYNQ.format("CNV-W1A1"), "fps": 3040, "latency_us": 1580,
                 "LUT": 28500, "BRAM36": 140}),
    dict(name="cnv_1w2a", board="pynq-z1", clock=100, fps=3040, objective="LUT"),
    dict(name="cnv_2w2a", board="pynq-z1", clock=100, fps=3040, objective="LUT"),
    dict(name="lfc_1w1a", board="pynq-z1", clock=100, fps=168000, objective="LUT",
         anchor={"source": BNN_PYNQ.format("LFC-W1A1"), "fps": 168000, "latency_us": 102,
                 "LUT": 30600, "BRAM36": 112}),
    dict(name="sfc_1w1a", board="pynq-z1", clock=100, fps=100000, objective="LUT"),
    dict(name="tfc_2w2a", board="pynq-z1", clock=100, fps=100000, objective="LUT"),
    dict(name="svhn_w6a6", board="u250", clock=200, fps=200e6 / 1028, target_latency="min",
         anchor=HLS4ML_SVHN),
    dict(name="svhn_w6a6", label="svhn_w6a6@1300", board="u250", clock=200, fps=200e6 / 1028,
         target_latency=1300, anchor=HLS4ML_SVHN),
    # issue 10's SVHN target: hls4ml's anchor is itself pruned; qloom's 75 %-pruned W6A6 model
    # (src/qloom/models/pruned, benchmarks/pruning.py) at hls4ml's II with its latency as target
    dict(name="svhn_w6a6_s75", pruned=True, board="u250", clock=200, fps=200e6 / 1028,
         target_latency=1044, anchor=HLS4ML_SVHN),
    dict(name="jet_w6a6", board="aws-f1", clock=200, fps=200e6, anchor=HLS4ML_JET),
    # hls4ml's jet tagger is pruned (~70 % of its weights; Duarte et al., JINST 2018), so the
    # 75 %-pruned model (qloom/models/pruned) is its fair peer; latency-first at 11 cycles
    dict(name="jet_w6a6_s75", pruned=True, board="aws-f1", clock=200, fps=200e6,
         target_latency=11, anchor=HLS4ML_JET),
    dict(name="jet_w6a6_s50", pruned=True, board="aws-f1", clock=200, fps=200e6,
         target_latency=11, anchor=HLS4ML_JET),
]
QUICK = ("tfc_2w2a", "jet_w6a6")
# fully unrolled constant-weight MVAUs (the jet tagger at II 1, SVHN's convs at hls4ml's II):
# Yosys did not finish one such stage in 20 minutes. The jet tagger now builds its layers as
# adder graphs (resType const, qloom.ops.mvau_const) synthesized in sub-modules (PART_BITS):
# the pruned jet_w6a6_s75 is synthesized here; the dense jet_w6a6 (in QUICK, which CI runs)
# took 2,440 s of Yosys over its four stages, too long for CI; estimates only
NO_SYNTH = ("jet_w6a6", "svhn_w6a6")


NOTES = """Notes: cycles and latency are measured by Verilator on the generated RTL (first input
beat to last output beat; the host feeds one beat per cycle); "model" is qloom's cycle and
latency model. Yosys 0.70 synth_xilinx per stage (ABC9, no cross-layer optimization, no
LUT6_2 packing; LUT-RAM counted as LUT, BRAM in RAMB18 halves) against Vivado post-P&R
(BNN-PYNQ) and Vivado HLS estimates (hls4ml). "-": not synthesized (the dense jet tagger and the
SVHN CNN at hls4ml's II hold fully unrolled constant-weight MVAUs that Yosys did not finish
in 20 minutes each). BNN-PYNQ topologies carry random weights (cycles and resources do not
depend on them); SVHN and the jet tagger are trained on digits stand-ins.
jet_w6a6_s75 (75 % of the weights pruned, qloom/models/pruned; hls4ml's jet tagger is ~70 %
pruned, Duarte et al., JINST 2018): II 1 and target latency 11 cycles, so the search takes the
latency-first knobs (constant-weight MVAUs, fused output stages, no FIFO between layers,
registers every 6/8/3/3 adder levels); synthesized in sub-modules (PART_BITS), one Yosys at a
time: 429.7 CPU s over 20 units (the longest 42.1 s), i.e. ~3.6 min on an idle 2-core machine
(max(CPU / 2, longest unit)); 1,527 s wall here beside five other jobs (load ~11). Fmax at
200 MHz is not measured (no open place-and-route for xcvu/xcu parts): the longest
combinational path is MVAU_1's 7 adder levels plus its requantizer (up to 9 shift-add terms)
and clip. jet_w6a6_s50 (same settings): estimates and Verilator only, not synthesized (no
time; its default-latency build measured 39,870 LUT, pruning.md). The dense jet_w6a6 row
is at the default latency, estimates only (2,440 s of Yosys last measured, too long for the
CI quick run that builds it). svhn_w6a6_s75 (75 %-pruned, src/qloom/models/pruned) is synthesized
the same way (sub-modules of about PART_BITS adder bits, counts summed): 886 CPU s over 59
Yosys runs (the longest 231 s wall under load), ~7.4 min on an idle 2-core machine; 2,718 s
wall here beside five other jobs. Fmax at 200 MHz is not measured (no open place and route
for xcu250)."""


def _min_latency(model, board, clock, fps) -> int:
    """The lowest modelled latency any folding meeting ``fps`` reaches (every layer sped up
    while it shortens the frame; qloom.dse.search.Space.meet_latency with target 0)."""
    import qloom
    from qloom.dse.search import Space, board_cost

    graph = qloom.compile_model(model)
    space = Space(graph, board_cost(board), board)
    target = clock * 1e6 / fps
    pick = space.at(target)
    return space.meet_latency(pick, target, 0)[1] if pick else None


def run_one(seed, frames, synth, workdir, jobs=2):
    import qloom
    from qloom.boards import get_board
    from qloom.dse.search import Space, best_reachable, board_cost
    from qloom.errors import QloomError
    from qloom.flow import build, rtlsim
    from qloom.synth import synth_out
    from qloom.zoo import sample_input, zoo_export

    name, board_name, clock, target_fps = seed["name"], seed["board"], seed["clock"], seed["fps"]
    anchor, objective = seed.get("anchor"), seed.get("objective", "balanced")
    if seed.get("pruned"):  # a shipped pruned model: copied as is, its topology's test frames
        import shutil

        from qloom.models import model_path

        src = model_path(f"pruned/{name}")
        data_name = json.loads(src.with_suffix(".json").read_text())["topology"]
        model = workdir / f"{name}.onnx"
        shutil.copyfile(src, model)
    else:
        model, data_name = zoo_export(name, workdir / f"{name}.onnx"), name
    board = get_board(board_name)
    out = workdir / f"{seed.get('label', name).replace('@', '_at_')}_out"
    t0 = time.perf_counter()
    lat_target = seed.get("target_latency")
    if lat_target == "min":
        lat_min = _min_latency(model, board, clock, target_fps)
        lat_target = int(lat_min * 1.05) if lat_min else None
    try:
        r = build(model, out, board=board_name, clock_mhz=clock, target_fps=target_fps,
                  objective=objective, target_latency=lat_target)
        note = "target met (estimated)"
    except QloomError as e:  # out of reach: the default folding, written even over budget
        note = str(e)
        r = build(model, out, board=board_name, clock_mhz=clock, allow_overbudget=True)
    t_build = time.perf_counter() - t0
    est = r["estimates"]
    x = sample_input(data_name, frames)
    y_rtl, stats = rtlsim(out, x)
    y_emu = qloom.emulate(qloom.compile_model(model), x)
    ii = stats["cycles_per_frame"]
    row = {"model": seed.get("label", name), "board": board_name, "clock_mhz": clock, "target_fps": round(target_fps),
           "objective": objective, "target_latency": lat_target,
           "note": note, "folding": r["folding"], "compile_s": round(t_build, 2),
           "latency_cycles_est": est["latency_cycles"],
           "cycles_per_frame_est": est["cycles_per_frame"], "cycles_per_frame": ii,
           "fps": clock * 1e6 / ii if ii else None, "latency_cycles": stats["latency_cycles"],
           "latency_us": stats["latency_cycles"] / clock, "rtl_equals_emulator": bool(np.array_equal(y_rtl, y_emu)),
           "est": est["total"]}
    if synth:
        t0 = time.perf_counter()
        rep = synth_out(out, family=board.family, jobs=jobs,
                        progress=lambda m: print("   ", m, flush=True))
        row["yosys"] = rep["total"]
        row["synth_s"] = round(time.perf_counter() - t0, 1)
        row["synth_jobs"] = jobs
        # per stage: Yosys wall and CPU seconds of each unit (the stage around black boxes,
        # then its sub-modules) and what an idle 2-core machine would need
        row["synth_times"] = rep.get("times", {})
        units = [c for t in row["synth_times"].values() for c in t.get("unit_cpu_s", [t.get("cpu_s")])]
        if units and None not in units:
            row["synth_cpu_s"] = round(sum(units), 1)
            row["synth_idle_2core_s"] = round(max(sum(units) / 2, max(units)), 1)
    if anchor:
        row["anchor"] = anchor
        graph = qloom.compile_model(model)
        if "LUT" in anchor:  # matched resources: our best FPS within their LUT count
            b2 = dataclasses.replace(board, LUT=int(anchor["LUT"]))
            b2 = dataclasses.replace(b2, DSP=int(anchor.get("DSP", b2.DSP)))
            best = best_reachable(Space(graph, board_cost(b2), b2))
            row["fps_at_anchor_luts_est"] = clock * 1e6 / best if best else None
    return row


def fmt_rows(rows) -> str:
    lines = ["| model | board | MHz | cycles/frame (model / measured) | FPS | latency (model / measured) | LUT est / Yosys | FF est / Yosys | BRAM18 est / Yosys | DSP est / Yosys | compile s | anchor |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        e, y = r["est"], r.get("yosys", {})
        a = r.get("anchor") or {}
        anc = ", ".join(f"{k} {v:,}" if isinstance(v, (int, float)) else str(v) for k, v in a.items())
        if "fps_at_anchor_luts_est" in r and r["fps_at_anchor_luts_est"]:
            anc += f"; our FPS at their LUTs (est.): {r['fps_at_anchor_luts_est']:,.0f}"
        lines.append(
            f"| {r['model']} | {r['board']} | {r['clock_mhz']} | {r['cycles_per_frame_est']:,} / "
            f"{r['cycles_per_frame'] or 0:,.0f} | {r['fps'] or 0:,.0f} | "
            f"{r.get('latency_cycles_est', 0):,} / {r['latency_cycles']:,} cyc = {r['latency_us']:,.1f} us | {e['LUT']:,} / {y.get('LUT', '-')} | {e['FF']:,} / {y.get('FF', '-')} | "
            f"{e['BRAM18']} / {y.get('BRAM18', '-')} | {e['DSP']} / {y.get('DSP', '-')} | {r['compile_s']} | {anc} |")
    return "\n".join(lines)


def fmt_compare(rows) -> str:
    """Matched throughput (our resources at their FPS/II) and matched resources (our
    estimated FPS within their LUT/DSP budget), one line per anchored row."""
    lines = ["| model | published | qloom at matched throughput | LUT ratio (published / qloom) | "
             "qloom FPS at the published LUTs (est.) | latency (published / qloom measured) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        a = r.get("anchor")
        if not a or "LUT" not in a:
            continue
        y = r.get("yosys") or {}
        lut, src = (y["LUT"], "Yosys") if y.get("LUT") else (r["est"]["LUT"], "est.")
        pub = f"{a['LUT']:,} LUT" + (f" + {a['DSP']:,} DSP" if "DSP" in a else "") + \
            (f", {a['BRAM36']} BRAM36" if "BRAM36" in a else "")
        ours = f"{lut:,} LUT ({src}) + {r['est']['DSP']} DSP, {r['est']['BRAM18']} BRAM18 at {r['fps'] or 0:,.0f} FPS"
        if "latency_cycles" in a:
            lat = f"{a['latency_cycles']:,} / {r['latency_cycles']:,} cycles"
        elif "latency_us" in a:
            lat = f"{a['latency_us']:,} / {r['latency_us']:,.1f} us"
        else:
            lat = f"{a.get('latency_ns', '-')} ns / {r['latency_us'] * 1000:,.0f} ns"
        fps_at = r.get("fps_at_anchor_luts_est")
        lines.append(f"| {r['model']} | {a['source']} | {ours} | {a['LUT'] / lut:.2f}x | "
                     f"{fps_at or 0:,.0f} | {lat} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)} (CI)")
    ap.add_argument("--models", help="comma-separated subset")
    ap.add_argument("--frames", type=int, default=3)
    ap.add_argument("--no-synth", action="store_true")
    ap.add_argument("--jobs", type=int, default=2, help="Yosys runs in parallel (default: %(default)s)")
    ap.add_argument("--render", action="store_true",
                    help="only rewrite seeds.md from seeds.json (no build)")
    ap.add_argument("--merge", action="store_true",
                    help="replace only these models' rows in an existing seeds.json/md")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = ap.parse_args(argv)
    names = QUICK if args.quick else tuple(s.get("label", s["name"]) for s in SEEDS)
    if args.models:
        names = tuple(args.models.split(","))
    rows = []
    with tempfile.TemporaryDirectory(prefix="qloom_seeds_") as d:
        for seed in SEEDS if not args.render else ():
            name = seed["name"]
            if name not in names and seed.get("label") not in names:
                continue
            print(f"== {name} on {seed['board']} at {seed['clock']} MHz, target {seed['fps']:,.0f} FPS"
                  f", objective {seed.get('objective', 'balanced')}", flush=True)
            synth = not args.no_synth and name not in NO_SYNTH
            rows.append(run_one(seed, args.frames, synth, Path(d), args.jobs))
            r = rows[-1]
            print(f"   measured {r['cycles_per_frame']:,.0f} cycles/frame ({r['fps']:,.0f} FPS), "
                  f"latency {r['latency_cycles']:,} cycles, RTL == emulator: {r['rtl_equals_emulator']}, "
                  f"est {r['est']}, yosys {r.get('yosys')}", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = "_quick" if args.quick else ""
    if args.render:
        rows = json.loads((out / f"seeds{suffix}.json").read_text())["rows"]
    elif args.merge and (out / f"seeds{suffix}.json").is_file():  # keep the other models' rows
        old = json.loads((out / f"seeds{suffix}.json").read_text())["rows"]
        new = {r["model"]: r for r in rows}
        order = [s.get("label", s["name"]) for s in SEEDS]
        rows = sorted([r for r in old if r["model"] not in new] + rows,
                      key=lambda r: order.index(r["model"]) if r["model"] in order else 99)
    table = fmt_rows(rows) + "\n\n" + fmt_compare(rows) + "\n\n" + NOTES
    print(table)
    for fname, text in ((f"seeds{suffix}.json", json.dumps({"rows": rows}, indent=2)),
                        (f"seeds{suffix}.md", table + "\n")):
        tmp = out / f".{fname}.tmp"
        tmp.write_text(text)
        os.replace(tmp, out / fname)
    print(f"wrote {out}/seeds{suffix}.json and .md")
    return 0 if all(r["rtl_equals_emulator"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
