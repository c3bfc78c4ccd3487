"""A dataflow head with a memory-optimized tail (FINN-R, Blott et al. 2018, Sec. 3.2-3.3:
the two architectures are points of one roofline; a network that does not fit DF can keep
its first layers, which have the fewest weights and the most operations per weight, as
dataflow and run the rest on the MO engine). Planning and model only: there is no RTL for
the combination yet (the DF head would end in an AXI4 write of its output tensor where the
MO tail's schedule reads its input).

A *cut* k splits the graph's nodes (topological order) into the head ``nodes[:k]`` and the
tail ``nodes[k:]`` where exactly one tensor crosses: the output of one head operator (not a
window generator, whose output is a window stream, not a tensor), read by the tail only
(the host input is read by the head only). The head streams frame n+1 into DRAM while the
engine runs frame n's tail, so the pair runs at the lower of the two rates (the head's
output tensor, written once and read once per frame, is added to the tail's DRAM traffic).

For each cut: the MO engine for the tail is searched (:func:`qloom.mo.model.search`) in the
board minus the head's slowest (fully folded: every knob at 1) DF resources; the head's
fastest folding that fits the rest of the board is found by the caller's ``head_fps``
(:func:`qloom.dse.search.best_fitting_fps`: passed in, as qloom.mo sits beside qloom.dse in
the layers); ``fps = min(head, tail)``. The plan is the cut of highest fps.
"""
from __future__ import annotations

import dataclasses

from qloom.errors import QloomError
from qloom.ir import HOST, HWGraph

RESOURCES = ("LUT", "FF", "BRAM18", "URAM", "DSP")


def cuts(graph: HWGraph) -> list[int]:
    """Every k (1 <= k < len(nodes)) where exactly one tensor crosses from nodes[:k] to
    nodes[k:] (module docstring)."""
    nodes = list(graph.nodes)
    out = []
    for k in range(1, len(nodes)):
        head = {op.name for op in nodes[:k]}
        cross = {p for op in nodes[k:] for p in graph.producers(op.name) if p in head or p == HOST}
        if len(cross) != 1 or HOST in cross or graph.last.name in head:
            continue
        prod = graph.node(next(iter(cross)))
        try:
            if "window" in prod.mo_lowering():
                continue
        except QloomError:
            pass
        out.append(k)
    return out


def split(graph: HWGraph, k: int) -> tuple[HWGraph, HWGraph]:
    """(head, tail) subgraphs at cut ``k`` (for resources and cycles; their host edges are
    the whole graph's, not meant for emulation)."""
    nodes = list(graph.nodes)
    head_names = {op.name for op in nodes[:k]}
    (prod,) = {p for op in nodes[k:] for p in graph.producers(op.name) if p in head_names}
    head = graph.replace(nodes=tuple(nodes[:k]), output=prod,
                         edges={op.name: tuple(graph.producers(op.name)) for op in nodes[:k]})
    tail = graph.replace(nodes=tuple(nodes[k:]), output=graph.last.name,
                         edges={op.name: tuple(HOST if p == prod else p for p in graph.producers(op.name))
                                for op in nodes[k:]})
    return head, tail


def _minus(board, res: dict):
    return dataclasses.replace(board, **{r: max(0, getattr(board, r) - int(res.get(r, 0))) for r in RESOURCES})


def plan_hybrid(graph: HWGraph, board, clock_mhz: float, head_fps, mem=None) -> dict:
    """The best DF head + MO tail of ``graph`` on ``board`` (module docstring);
    ``head_fps(graph, board, clock_mhz)`` -> (FPS, cycles) of a DF graph's fastest folding
    that fits ``board``, or None (:func:`qloom.dse.search.best_fitting_fps`). Returns
    {"cut": k, "head": [layer names], "tail": [...], "fps", "head_fps", "tail_fps",
    "engine", "resources" (head + engine), "candidates": [per cut: k, fps, head_fps,
    tail_fps or the reason it was dropped]}. Raises QloomError when no cut fits."""
    from qloom.mo.model import Memory, cycles, search
    from qloom.mo.schedule import compile_schedule

    mem = mem or Memory.from_board(board, clock_mhz)
    cands, best = [], None
    for k in cuts(graph):
        head, tail = split(graph, k)
        row = {"cut": k, "after": graph.nodes[k - 1].name}
        try:
            slow = {r: sum(op.resources({}, family=board.family).get(r, 0) for op in head.nodes) for r in RESOURCES}
            engine, info = search(tail, _minus(board, slow), clock_mhz, None, mem)
            s = compile_schedule(tail, engine, image=False)
            x = s.input  # the crossing tensor: written by the head, read by the tail
            cyc = cycles(s, mem)["cycles_per_frame"] + x.bytes / mem.bytes_per_cycle
            tail_fps = clock_mhz * 1e6 / cyc
            hb = head_fps(head, _minus(board, info["resources"]), clock_mhz)
            if hb is None:
                raise QloomError("the DF head does not fit beside the MO engine")
        except QloomError as e:
            row["dropped"] = str(e)
            cands.append(row)
            continue
        row.update(head_fps=hb[0], tail_fps=tail_fps, fps=min(hb[0], tail_fps))
        cands.append(row)
        if best is None or row["fps"] > best[0]["fps"]:
            best = (row, head, tail, engine, info)
    if best is None:
        raise QloomError(f"no DF head + MO tail of this model fits {board.name}")
    row, head, tail, engine, info = best
    return {"cut": row["cut"], "head": [op.name for op in head.nodes], "tail": [op.name for op in tail.nodes],
            "fps": row["fps"], "head_fps": row["head_fps"], "tail_fps": row["tail_fps"],
            "engine": dataclasses.asdict(engine), "engine_resources": info["resources"], "candidates": cands}
