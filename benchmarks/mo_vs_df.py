"""Issue 12's resource target, tested over every MO engine: can an MO build use at most a
quarter of the DF build's LUT and BRAM18 at the MO build's own FPS?

For CNV-W2A2 on PYNQ-Z1 (100 MHz) every MO engine configuration that fits the board
(``qloom.mo.model.engine_candidates``: PE, SIMD, buffer halves; FPS from the RTL engine's
timing model with the board's memory) is set against the DF build that meets the same FPS
(``qloom.dse.search.search``, default objective; estimates, glue included). Prints the
ratios MO / DF per Pareto point of the MO engines (fewest LUT for its FPS) and writes
benchmarks/results/mo_vs_df.json.

    .venv/bin/python benchmarks/mo_vs_df.py [--model cnv_2w2a] [--board pynq-z1]

Estimates only (qloom.mo.model.resources with the fitted control model, the DF resource
model); no synthesis.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).with_name("results") / "mo_vs_df.json"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cnv_2w2a")
    ap.add_argument("--board", default="pynq-z1")
    args = ap.parse_args(argv)
    import qloom
    from qloom.boards import get_board
    from qloom.dse.search import search
    from qloom.errors import QloomError
    from qloom.mo.model import engine_candidates
    from qloom.zoo import zoo_export

    with tempfile.TemporaryDirectory() as td:
        graph = qloom.compile_model(zoo_export(args.model, Path(td) / "m.onnx"))
    board = get_board(args.board)
    clock = board.clock_mhz
    cands = sorted(engine_candidates(graph, board, clock), key=lambda c: (-c[1], c[3]["LUT"]))
    front, best = [], None
    for c in cands:  # fastest first: keep the engines cheaper in LUT than every faster one
        if best is None or c[3]["LUT"] < best:
            front.append(c)
            best = c[3]["LUT"]
    rows = []
    print(f"{args.model} on {board.name} at {clock:g} MHz: {len(cands)} MO engines fit, "
          f"{len(front)} on the FPS/LUT front\n")
    print("| MO engine PE x SIMD, buffers KiB (a/w) | FPS | MO LUT | MO BRAM18 | DF LUT | DF BRAM18 | LUT MO/DF | BRAM18 MO/DF |")
    print("|---|---|---|---|---|---|---|---|")
    for e, fps, cyc, res in front:
        try:
            _, _, df = search(graph, board, fps, clock)
        except QloomError as err:
            df = None
            why = str(err)
        row = {"pe": e.pe, "simd": e.simd, "a_buf": e.in_buf_bytes, "w_buf": e.w_buf_bytes, "fps": fps,
               "cycles_per_frame": cyc, "mo": res, "df": df,
               "lut_ratio": res["LUT"] / df["LUT"] if df else None,
               "bram_ratio": res["BRAM18"] / df["BRAM18"] if df and df["BRAM18"] else None}
        rows.append(row)
        if df:
            print(f"| {e.pe} x {e.simd}, {e.in_buf_bytes // 1024}/{e.w_buf_bytes // 1024} | {fps:,.1f} | {res['LUT']:,} | "
                  f"{res['BRAM18']} | {df['LUT']:,} | {df['BRAM18']} | {row['lut_ratio']:.2f} | "
                  f"{row['bram_ratio']:.2f} |")
        else:
            print(f"| {e.pe} x {e.simd} | {fps:,.1f} | {res['LUT']:,} | {res['BRAM18']} | - | - | DF: {why} | |")
    ok = [r for r in rows if r["lut_ratio"] is not None]
    best_lut = min(ok, key=lambda r: r["lut_ratio"]) if ok else None
    if best_lut:
        print(f"\nlowest LUT ratio MO/DF: {best_lut['lut_ratio']:.2f} at {best_lut['fps']:,.1f} FPS "
              f"(PE {best_lut['pe']} x SIMD {best_lut['simd']}); the target is 0.25")
    RESULTS.write_text(json.dumps({"model": args.model, "board": board.name, "clock_mhz": clock,
                                   "candidates": len(cands), "front": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
