"""Estimated totals of the PYNQ-Z1 seeds (benchmarks/seeds.py) and the jet MLP at 1M FPS
under both search objectives, for the tree on PYTHONPATH (issue 15: the glue-aware
refinement ``Space.refine``). Run once per tree and compare:

    PYTHONPATH=src .venv/bin/python benchmarks/search_refine.py --json after.json
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

# (model, board, clock MHz, FPS): the PYNQ seeds of benchmarks/seeds.py + issue 15's jet target
RUNS = [("cnv_1w1a", "pynq-z1", 100, 3040), ("cnv_1w2a", "pynq-z1", 100, 3040),
        ("cnv_2w2a", "pynq-z1", 100, 3040), ("lfc_1w1a", "pynq-z1", 100, 168000),
        ("sfc_1w1a", "pynq-z1", 100, 100000), ("tfc_2w2a", "pynq-z1", 100, 100000),
        ("jet_w6a6", "pynq-z1", 100, 1e6)]


def main(argv=None):
    import qloom
    from qloom.boards import get_board
    from qloom.dse.search import search
    from qloom.zoo import zoo_export

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", required=True)
    ap.add_argument("--objectives", default="balanced,LUT")
    ap.add_argument("--models", help="comma-separated subset of RUNS")
    args = ap.parse_args(argv)
    out = []
    for name, board, clock, fps in RUNS:
        if args.models and name not in args.models.split(","):
            continue
        with tempfile.TemporaryDirectory() as td:
            graph = qloom.compile_model(zoo_export(name, Path(td) / f"{name}.onnx"))
        for obj in args.objectives.split(","):
            t = time.time()
            fold, _, tot = search(graph, get_board(board), fps, clock, objective=obj)
            row = {"model": name, "board": board, "fps": fps, "objective": obj,
                   "totals": {k: round(v) for k, v in tot.items()}, "search_s": round(time.time() - t, 1),
                   "folding": fold}
            print(name, obj, row["totals"], row["search_s"], "s", flush=True)
            out.append(row)
    Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
