"""Behaviour check for refactors: snapshot what qloom computes, then compare two snapshots.

    .venv/bin/python scripts/equivalence.py snapshot before.json   # on the old code
    .venv/bin/python scripts/equivalence.py snapshot after.json    # on the new code
    .venv/bin/python scripts/equivalence.py compare before.json after.json

A snapshot holds, for every seed build of ``benchmarks/seeds.py`` (plus the embedded digits
model with its default folding): ``folding.json``, ``estimates.json`` (cycles, latency and
every resource per layer), the FIFO depths and stream widths of ``build.json``, and a
SHA-256 of every generated file in ``rtl/`` (``qloom_top.v`` and the ``.mem`` files: equal
hashes mean the simulated design is the same, given equal library Verilog); for every stage of
``benchmarks/results/cost_model.json`` (the Yosys sweeps of all families and the stages of its
builds) the resource estimate; and Verilator results (outputs and cycles) of two small
builds. Run the snapshot with the old code on ``PYTHONPATH`` to take "before".
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np


def _root() -> Path:
    import qloom

    return Path(qloom.__file__).resolve().parents[2]


def _estimate_stage(module: str, params: dict, family: str, files=None) -> dict:
    """Resource estimate of one Verilog module instance, through whichever API this
    version of qloom has."""
    try:
        from qloom.ops import estimate_module  # the operator-module layout
    except ImportError:
        from qloom.ops.base import RtlInstance
        from qloom.rtl.resources import estimate

        if module == "qloom_pool":  # before the wrappers were removed: maxpool / sumpool
            params = dict(params)
            module = "qloom_sumpool" if params.pop("MODE") else "qloom_maxpool"
            if module == "qloom_maxpool":
                params.pop("OUT_BITS")
        return estimate(RtlInstance(module, params, 1, 1, False), family, files)
    return estimate_module(module, params, family, files)


def _hash_dir(d: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in sorted(d.iterdir())}


def _build_record(model, out: Path, **kw) -> dict:
    from qloom.errors import QloomError
    from qloom.flow import build

    try:
        build(model, out, **kw)
    except QloomError as e:
        return {"error": str(e)}
    meta = json.loads((out / "build.json").read_text())
    est = json.loads((out / "estimates.json").read_text())
    return {"folding": json.loads((out / "folding.json").read_text()),
            "estimates": {k: est[k] for k in ("fps", "latency_cycles", "cycles_per_frame", "total", "layers")},
            "fifo_depths": meta["fifo_depths"], "stages": meta["stages"],
            "widths": [meta[k] for k in ("in_elem_bits", "in_elems", "out_elem_bits", "out_elems")],
            "rtl": {k: v for k, v in _hash_dir(out / "rtl").items() if not k.startswith("qloom_") or k == "qloom_top.v"},
            "library": {k: v for k, v in _hash_dir(out / "rtl").items() if k.startswith("qloom_") and k != "qloom_top.v"}}


def snapshot(path: Path, sims: bool, builds: bool = True) -> None:
    root = _root()
    sys.path.insert(0, str(root / "benchmarks"))
    import seeds  # noqa: E402  (benchmarks/seeds.py of the same checkout)
    from qloom.models import model_path
    from qloom.zoo import zoo_export

    snap = {"builds": {}, "stages": {}, "rtlsim": {}}
    with tempfile.TemporaryDirectory() as td:
        td = Path(td)
        if not builds:
            seeds.SEEDS, sims = [], False
        snap["builds"]["digits/default"] = _build_record(model_path(), td / "digits")
        for seed in seeds.SEEDS:
            label = seed.get("label", seed["name"])
            model = zoo_export(seed["name"], td / f"{seed['name']}.onnx")
            lat = seed.get("target_latency")
            if lat == "min":
                lat = None  # the min-latency search is the seeds benchmark's own step
            snap["builds"][label] = _build_record(
                model, td / label.replace("@", "_"), board=seed["board"], clock_mhz=seed["clock"],
                target_fps=seed["fps"], objective=seed.get("objective", "balanced"), target_latency=lat)
            print(f"  built {label}", flush=True)
        if sims:
            from qloom.flow import rtlsim
            from qloom.zoo import sample_input

            for name, out in (("digits/default", td / "digits"), ("tfc_2w2a", td / "tfc_2w2a")):
                zname = "digits_w4a4" if name.startswith("digits") else name
                x = sample_input(zname, 6)
                y, st = rtlsim(out, x, p_in_gap=0.2, p_out_stall=0.2, seed=1)
                snap["rtlsim"][name] = {"y": np.asarray(y).round(6).tolist(),
                                        "cycles_per_frame": st["cycles_per_frame"],
                                        "latency_cycles": st["latency_cycles"]}
                print(f"  simulated {name}", flush=True)
    cm = json.loads((root / "benchmarks" / "results" / "cost_model.json").read_text())
    for fam, recs in cm["sweep"].items():
        for i, r in enumerate(recs):
            snap["stages"][f"sweep/{fam}/{i}"] = _estimate_stage(r["module"], r["params"], fam)
    for b in cm["builds"]:
        for st in b["stages"]:
            for fam in ("xc7", "xcup", "ecp5"):
                snap["stages"][f"build/{b['name']}/{st['stage']}/{fam}"] = _estimate_stage(
                    st["module"], st["params"], fam)
    path.write_text(json.dumps(snap, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}: {len(snap['builds'])} builds, {len(snap['stages'])} stages, "
          f"{len(snap['rtlsim'])} simulations")


def _diff(a, b, where: str, out: list) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append(f"{where}/{k}: {'missing before' if k not in a else 'missing after'}")
            else:
                _diff(a[k], b[k], f"{where}/{k}", out)
    elif a != b:
        out.append(f"{where}: {a!r} -> {b!r}")


def compare(before: Path, after: Path) -> int:
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    out: list[str] = []
    _diff(a, b, "", out)
    for line in out:
        print(line)
    n = sum(len(a[k]) for k in a)
    print(f"{len(out)} differences over {n} records")
    return 1 if out else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("snapshot")
    s.add_argument("path", type=Path)
    s.add_argument("--no-sim", action="store_true", help="skip the Verilator runs")
    s.add_argument("--stages-only", action="store_true", help="only the cost-model stage estimates")
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "snapshot":
        snapshot(args.path, not args.no_sim, not args.stages_only)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
