"""Pruning that pays: accuracy, adders and LUT/FF/DSP (estimate and Yosys) against sparsity.

    .venv/bin/python benchmarks/pruning.py                      # estimates, reuse Yosys rows
    nice -n 10 .venv/bin/python benchmarks/pruning.py --synth jet_w6a6_s90,jet_w6a6_s75
    .venv/bin/python benchmarks/pruning.py --render             # only rewrite md/png from json

Models: the QONNX files ``src/qloom/models/pruned/<topology>_s<percent>.onnx`` written by
``examples/train_pruned.py`` (Brevitas W6A6 QAT with iterative magnitude pruning; trained on
scikit-learn digits as a stand-in for the jet / SVHN data: accuracies are not the papers').

Per model: a qloom build on the U250 at 200 MHz at the issue's II (jet MLP: 1 cycle, every
layer fully unrolled, so the folding search picks the constant-weight MVAU, resType const;
SVHN: 1,028 cycles and hls4ml's latency of 1,044 cycles as the latency target), the solver's adder count per constant-weight layer (da4ml CMVM,
:mod:`qloom.ops.mvau_const`), the resource estimate (``estimates.json``), and, for the models
named by ``--synth``, Yosys 0.70 ``synth_xilinx -family xcup`` per stage (one job, cached),
with its wall time on this shared machine. Rows already in ``pruning.json`` keep their
Yosys numbers unless synthesized again. Writes benchmarks/results/pruning.json, pruning.md
and pruning.png.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "src" / "qloom" / "models" / "pruned"
RESULTS = Path(__file__).resolve().parent / "results"
BOARD, CLOCK = "u250", 200
II = {"jet_w6a6": 1, "svhn_w6a6": 1028}  # cycles per frame (issue 10's targets)
LATENCY = {"svhn_w6a6": 1044}  # cycles (issue 10: hls4ml's SVHN latency)


def _atomic(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    if isinstance(data, bytes):
        tmp.write_bytes(data)
    else:
        tmp.write_text(data)
    os.replace(tmp, path)


def run_one(name: str, synth: bool, workdir: Path, models: Path = MODELS) -> dict:
    import qloom
    from qloom.flow import build

    meta = json.loads((models / f"{name}.json").read_text())
    topo = meta["topology"]
    model = models / f"{name}.onnx"
    out = workdir / f"{name}_out"
    t0 = time.perf_counter()
    r = build(model, out, board=BOARD, clock_mhz=CLOCK, target_fps=CLOCK * 1e6 / II[topo],
              target_latency=LATENCY.get(topo))
    build_s = time.perf_counter() - t0
    graph = qloom.compile_model(model)
    est = r["estimates"]
    layers = {}
    for op in graph.nodes:
        fold = r["folding"].get(op.name, {})
        e = est["layers"][op.name]
        row = {"op": op.op_type, "LUT_est": e["LUT"], "FF_est": e["FF"], "DSP_est": e["DSP"],
               "fold": fold}
        if fold.get("resType") == "const":
            p = op.rtl(fold).params
            row.update(adders=p["ADDERS"], add_bits=p["ADD_BITS"], weights=int(op.weights.size),
                       zero_weights=int((op.weights == 0).sum()))
        layers[op.name] = row
    res = {"model": name, "topology": topo, "target_sparsity": meta["target_sparsity"],
           "integer_sparsity": meta["integer_sparsity"], "accuracy": meta["test_accuracy"],
           "test_total": meta["test_total"], "cycles_per_frame_est": est["cycles_per_frame"],
           "latency_cycles_est": est["latency_cycles"], "est": est["total"], "build_s": round(build_s, 1),
           "adders": sum(v.get("adders", 0) for v in layers.values()), "layers": layers}
    if synth:
        from qloom.synth import synth_out

        t0 = time.perf_counter()
        rep = synth_out(out, family="xcup", jobs=1, progress=lambda m: print("   ", m, flush=True))
        res["yosys"] = rep["total"]
        res["yosys_layers"] = rep["layers"]
        res["synth_s"] = round(time.perf_counter() - t0, 1)
    return res


def fmt(rows) -> str:
    lines = ["| model | target sparsity | integer weight sparsity | accuracy | adders | LUT est. | LUT Yosys | "
             "FF est. | FF Yosys | DSP est. / Yosys | II (model) | latency (model) | Yosys time |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        y = r.get("yosys") or {}
        yl = f"{y['LUT']:,}" if y else "-"
        yf = f"{y['FF']:,}" if y else "-"
        yd = y.get("DSP", "-") if y else "-"
        lines.append(
            f"| {r['model']} | {r['target_sparsity']:.0%} | {r['integer_sparsity']:.1%} | "
            f"{r['accuracy']:.3f} ({round(r['accuracy'] * r['test_total'])}/{r['test_total']}) | "
            f"{r['adders']:,} | {r['est']['LUT']:,} | {yl} | {r['est']['FF']:,} | {yf} | "
            f"{r['est']['DSP']} / {yd} | {r['cycles_per_frame_est']:,} | {r['latency_cycles_est']:,} | "
            f"{str(r['synth_s']) + ' s' if 'synth_s' in r else '-'} |")
    return "\n".join(lines)


NOTES = """Models: `src/qloom/models/pruned/*.onnx`, written by `examples/train_pruned.py` (Brevitas
QAT W6A6, 8-bit input; dense training as `scripts/train_zoo.py`, then per target two rounds of
per-layer L1 magnitude pruning (`torch.nn.utils.prune.l1_unstructured`) each followed by
fine-tuning, `prune.remove`, QONNX export). Data: scikit-learn's digits as a stand-in (the jet
and SVHN data sets do not ship in any package and nothing is downloaded): accuracy on the
stand-in test split, NOT comparable to the papers'. "integer weight sparsity": zeros of the
exported integer weights (at least the target: small surviving weights also quantize to 0).
Build: U250 at 200 MHz at the issue's II (the folding search's choice; the jet MLP's layers
are fully unrolled constant-weight MVAUs, resType const). "adders": the da4ml CMVM solver's
two-input adders summed over the constant-weight layers. Estimates: qloom's resource model
(estimates.json, the FIFOs and DWCs between layers included). Yosys: 0.70 (yowasp, WebAssembly)
`synth_xilinx -family xcup` per stage, one job at a time, summed over the stages, wall time on a
2-core machine shared with six other jobs."""


def plot(rows, path: Path) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for topo in sorted({r["topology"] for r in rows}):
        rs = sorted((r for r in rows if r["topology"] == topo), key=lambda r: r["target_sparsity"])
        s = [100 * r["integer_sparsity"] for r in rs]
        ax1.plot(s, [r["est"]["LUT"] for r in rs], "o-", label=f"{topo} LUT (estimate)")
        ys = [(100 * r["integer_sparsity"], r["yosys"]["LUT"]) for r in rs if r.get("yosys")]
        if ys:
            ax1.plot(*zip(*ys), "s--", label=f"{topo} LUT (Yosys)")
        ax1.plot(s, [r["adders"] for r in rs], "^:", label=f"{topo} adders (CMVM)")
        ax2.plot(s, [100 * r["accuracy"] for r in rs], "o-", label=topo)
    ax1.set_xlabel("integer weight sparsity (%)")
    ax1.set_ylabel("count")
    ax1.set_title(f"resources at the issue's II ({BOARD}, {CLOCK} MHz)")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    ax2.set_xlabel("integer weight sparsity (%)")
    ax2.set_ylabel("test accuracy (%), digits stand-in")
    ax2.set_title("accuracy")
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    _atomic(path, buf.getvalue())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", help="comma-separated model names (default: every shipped pruned model)")
    ap.add_argument("--synth", default="", help="comma-separated models to synthesize with Yosys")
    ap.add_argument("--render", action="store_true", help="only rewrite pruning.md/png from pruning.json")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--models-dir", type=Path, default=MODELS, help="where the pruned models are (default: %(default)s)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    jpath = args.out / "pruning.json"
    prev = json.loads(jpath.read_text()) if jpath.is_file() else {}
    old = {r["model"]: r for r in prev.get("rows", [])}
    findings = prev.get("findings", [])  # measured observations kept with the rows (hand-written)
    rows = dict(old)
    if not args.render:
        names = args.models.split(",") if args.models else sorted(p.stem for p in args.models_dir.glob("*.onnx"))
        synth = set(filter(None, args.synth.split(",")))
        with tempfile.TemporaryDirectory(prefix="qloom_pruning_") as d:
            for name in names:
                print(f"== {name}{' (Yosys)' if name in synth else ''}", flush=True)
                r = run_one(name, name in synth, Path(d), args.models_dir)
                prev = old.get(name, {})
                if name not in synth and prev.get("yosys"):  # keep measured rows
                    for k in ("yosys", "yosys_layers", "synth_s"):
                        r[k] = prev[k]
                rows[name] = r
                print(f"   adders {r['adders']:,}, est {r['est']}, yosys {r.get('yosys')}", flush=True)
                # write after every model: a long synthesis run keeps what finished
                ordered = sorted(rows.values(), key=lambda r: (r["topology"], r["target_sparsity"]))
                _atomic(jpath, json.dumps({"board": BOARD, "clock_mhz": CLOCK, "rows": ordered,
                                          "findings": findings}, indent=2) + "\n")
    ordered = sorted(rows.values(), key=lambda r: (r["topology"], r["target_sparsity"]))
    table = "# Pruning that pays (issue 10)\n\n" + fmt(ordered) + "\n\n" + NOTES + "\n"
    if findings:
        table += "\nFindings:\n\n" + "\n".join(f"- {f}" for f in findings) + "\n"
    _atomic(args.out / "pruning.md", table)
    plot(ordered, args.out / "pruning.png")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
