"""Plots: the Pareto front of a design space (``qloom explore``) and FINN-R's roofline
(``qloom roofline``). PNG via matplotlib (Agg backend), points as JSON beside them."""
from __future__ import annotations

import json
import os
from pathlib import Path

# FINN-R (Blott et al. 2018), the LUT cost per operation of a LUT-based datapath by
# operand precision 1..8 bits (the FINN-R-era cost model, ../shared/ANCHORS.md).
LUT_PER_OP = {1: 2.5, 2: 4.1, 3: 5.7, 4: 7.3, 5: 8.9, 6: 10.5, 7: 12.1, 8: 13.7}


def _atomic_write(path: Path, data: bytes | str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    if isinstance(data, str):
        tmp.write_text(data)
    else:
        tmp.write_bytes(data)
    os.replace(tmp, path)


def _savefig(fig, path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=120, bbox_inches="tight")
    os.replace(tmp, path)


def pareto_figure(graph, board, clock_mhz: float):
    """The Pareto front of FPS against LUT over the folding space of ``graph`` on ``board``
    at ``clock_mhz`` (MHz): ``(matplotlib.figure.Figure, points)``; each point a folding with
    its ``fps``, ``LUT`` and whether it ``fits`` the board (qloom.dse.search.pareto_points).
    The figure is not attached to pyplot (no backend is selected; nothing to close)."""
    from matplotlib.figure import Figure

    from qloom.dse.search import pareto_points

    pts = pareto_points(graph, board, clock_mhz)
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    fit = [p for p in pts if p["fits"]]
    nofit = [p for p in pts if not p["fits"]]
    ax.step([p["LUT"] for p in pts], [p["fps"] for p in pts], where="post", color="0.7", lw=1)
    ax.scatter([p["LUT"] for p in fit], [p["fps"] for p in fit], s=14, label=f"fits {board.name}")
    if nofit:
        ax.scatter([p["LUT"] for p in nofit], [p["fps"] for p in nofit], s=14, marker="x",
                   color="tab:red", label="over budget")
    ax.axvline(board.LUT, color="tab:red", ls="--", lw=1, label=f"{board.name} LUTs")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("LUT (estimated)")
    ax.set_ylabel(f"frames/s at {clock_mhz:g} MHz")
    ax.set_title(f"{Path(graph.source).stem}: folding Pareto front ({len(pts)} points)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig, pts


def explore(graph, board, clock_mhz: float, prefix: Path) -> dict:
    """Pareto front of FPS against LUT over the folding space: ``prefix``.png / .json."""
    fig, pts = pareto_figure(graph, board, clock_mhz)
    png, js = prefix.with_suffix(".png"), prefix.with_suffix(".json")
    _savefig(fig, png)
    _atomic_write(js, json.dumps({"board": board.name, "clock_mhz": clock_mhz, "points": pts}, indent=1))
    return {"png": str(png), "json": str(js), "points": len(pts)}


def model_intensity(graph) -> dict:
    """Operations and off-chip bytes per frame (FINN-R Sec. 3, roofline analysis).

    ops = 2 * MACs (a multiply and an add). Dataflow (DF) keeps every weight on chip:
    off-chip traffic is the input and output streams. Memory-optimized (MO) also streams
    every weight once per frame.
    """
    macs = sum(op.macs for op in graph.nodes)
    first, last = graph.first, graph.last
    import numpy as np

    io_bits = (int(np.prod(first.in_shape)) * first.in_type.bits +
               int(np.prod(last.out_shape)) * last.out_type.bits)
    mac_ops = [op for op in graph.nodes if getattr(op, "weight_type", None) is not None]
    w_bits = sum(op.weight_count * op.weight_type.bits for op in mac_ops)
    # a layer's precision is its wider operand; the model's LUT cost per op is the
    # MAC-weighted mean over its layers (FINN-R rooflines are drawn per precision)
    lut = sum(op.macs * LUT_PER_OP[min(8, max(op.weight_type.bits, op.in_type.bits))] for op in mac_ops)
    return {"ops": 2 * macs, "bytes_df": io_bits / 8, "bytes_mo": (io_bits + w_bits) / 8,
            "lut_per_op": lut / max(1, sum(op.macs for op in mac_ops))}


def build_point(out_dir, graph) -> dict:
    """Where a build lands on the roofline, from its ``estimates.json``: achieved ops/s =
    FPS x ops per frame; intensity = ops / off-chip bytes per frame (an MO build's
    ``bytes_per_frame`` from its schedule, a DF build's input and output streams)."""
    from qloom.errors import QloomError

    path = Path(out_dir) / "estimates.json"
    try:
        est = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise QloomError(f"{path}: not a qloom build's estimates ({e}); run qloom build first") from None
    m = model_intensity(graph)
    arch = est.get("arch", "df")
    nbytes = est["bytes_per_frame"] if arch == "mo" else m["bytes_df"]
    return {"build": str(out_dir), "arch": arch, "fps": est["fps"], "LUT": est["total"]["LUT"],
            "intensity_ops_per_byte": m["ops"] / nbytes, "achieved_ops_per_s": est["fps"] * m["ops"]}


def roofline_figure(graph, board, clock_mhz: float, builds=()):
    """FINN-R's roofline (Blott et al. 2018, Sec. 3): compute roofs per precision (LUT-bound
    ops/s) and the memory roof (bandwidth x intensity), with the model's DF and MO operating
    points and the builds ``builds`` (OUT folders) where their estimates place them
    (:func:`build_point`): ``(matplotlib.figure.Figure, data)``, data as ``roofline``'s
    JSON. QloomError for a board without ``mem_bandwidth_gbps``."""
    import numpy as np
    from matplotlib.figure import Figure

    if not board.mem_bandwidth_gbps > 0:
        from qloom.errors import QloomError

        raise QloomError(f"board {board.name} has no mem_bandwidth_gbps (off-chip memory bandwidth, "
                         "GB/s), which the roofline's memory roof needs; add it to the board file")
    m = model_intensity(graph)
    bw = board.mem_bandwidth_gbps * 1e9
    oi = np.logspace(-1, 6, 200)
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    roofs = {}
    for bits in (1, 2, 4, 8):
        peak = board.LUT / LUT_PER_OP[bits] * clock_mhz * 1e6
        roofs[bits] = peak
        ax.plot(oi, np.minimum(peak, bw * oi), lw=1.2, label=f"{bits}-bit roof {peak / 1e12:.2f} TOp/s")
    pts = {}
    for kind in ("df", "mo"):
        x = m["ops"] / m[f"bytes_{kind}"]
        peak = board.LUT / m["lut_per_op"] * clock_mhz * 1e6
        y = min(peak, bw * x)
        pts[kind] = {"intensity_ops_per_byte": x, "attainable_ops_per_s": y,
                     "attainable_fps": y / m["ops"]}
        ax.scatter([x], [y], zorder=5, s=40, marker="o" if kind == "df" else "s",
                   label=f"{kind.upper()}: {x:,.0f} op/B, {y / m['ops']:,.0f} FPS")
    placed = [build_point(b, graph) for b in builds]
    for p in placed:
        ax.scatter([p["intensity_ops_per_byte"]], [p["achieved_ops_per_s"]], zorder=6, s=60, marker="*",
                   label=f"build {Path(p['build']).name} ({p['arch'].upper()}): {p['fps']:,.0f} FPS, "
                         f"{p['LUT']:,} LUT")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("operational intensity (ops / off-chip byte)")
    ax.set_ylabel("ops / s")
    ax.set_title(f"{Path(graph.source).stem} on {board.name} ({board.mem_bandwidth_gbps:g} GB/s, "
                 f"{board.LUT:,} LUT, {clock_mhz:g} MHz)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    out = {"board": board.name, "clock_mhz": clock_mhz, "model": m, "roofs_ops_per_s": roofs,
           "points": pts, "builds": placed, "lut_per_op_source": "FINN-R cost model (ANCHORS.md)"}
    return fig, out


def roofline(graph, board, clock_mhz: float, prefix: Path, builds=()) -> dict:
    """FINN-R's roofline (:func:`roofline_figure`, with ``builds`` placed) written to
    ``prefix``.png / .json."""
    fig, out = roofline_figure(graph, board, clock_mhz, builds)
    png, js = prefix.with_suffix(".png"), prefix.with_suffix(".json")
    _savefig(fig, png)
    _atomic_write(js, json.dumps(out, indent=1))
    return {"png": str(png), "json": str(js), **out["points"]}
