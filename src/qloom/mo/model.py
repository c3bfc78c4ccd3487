"""Cycle and resource model of the MO engine, and the search over engine sizes.

Cycle model (FINN-R, Blott et al. 2018, Sec. 3.3: a layer runs at the lower of its compute
roof and its memory roof, bandwidth x operational intensity): with double-buffered on-chip
buffers a tile's transfers overlap the previous tile's computation, so a tile costs

    max(compute cycles, memory cycles)

* compute: MVAU ``pixels * nfs * SF`` (one PE x SIMD weight word per cycle, FINN-R Sec.
  4.2) plus the pipeline depth of qloom_mvau (:func:`qloom.ops.mvau.pipeline_depth`) once
  per tile; pools ``pixels * KH*KW * ceil(C/PE)``; thresholding ``pixels * ceil(C/PE)``;
  LabelSelect C; the join (ADD) ``pixels * ceil(C/PE)`` (PE lanes add and threshold);
* memory: per read transfer (the descriptor, the input rows with LOAD_IN, the weight block
  and its thresholds with LOAD_W) ``bytes / bytes_per_cycle`` plus ``latency_cycles`` per
  burst of ``burst_bytes``, and the output rows (STORE_OUT) ``bytes / bytes_per_cycle``
  (posted writes), where ``bytes_per_cycle`` is the board's DRAM bandwidth
  (``mem_bandwidth_gbps``) at the engine clock; reads and writes share it.

Between layers nothing overlaps: a layer's first tile reads what the previous layer wrote,
so that layer's last store and this tile's loads are exposed (:func:`cycles`).

Resources: the engine's MVAU datapath is qloom_mvau's resource model
(:func:`qloom.ops.mvau.parts_qloom_mvau`, its widest layer's bit widths and threshold
count), the on-chip buffers (two halves each) mapped as Yosys maps a RAM of their width
(:class:`qloom.cost.replay.Mem`), plus the engine's control (descriptor slots, AXI4 masters
and the realigner, address generators, pool/threshold/ADD units): ``const + per_lane * PE *
SIMD`` per resource, coefficients fitted on Yosys synth_xilinx runs of qloom_mo_engine
(data: ``qloom/cost/coef/mo_engine.json``, runs in ``benchmarks/results/mo_engine.json``;
:func:`control`). Families without a fit keep the ``CONTROL`` allowance.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from qloom.errors import QloomError
from qloom.mo.schedule import (LOAD_IN, LOAD_W, OPCODES, STORE_OUT, DESC_BYTES, Engine, Schedule,
                               compile_schedule, engine_layers)

# The memory model's defaults (assumptions until the RTL engine measures them): DRAM read
# latency seen by an AXI4 master, and the longest AXI4 INCR burst (256 beats) of a 64-bit port.
MEM_LATENCY_NS = 100.0
BURST_BYTES = 2048
# descriptor fetch + AXI4 read/write masters + address generators + pool/threshold units:
# an allowance. The RTL engine (mo/verilog) synthesized once at its smallest size (PE = SIMD
# = 1, 16-byte buffer halves): 25,096 LUT, 4,240 FF, 18 DSP (benchmarks/results/mo_engine.json),
# so this is about 8x low for that RTL, which is a simulation model, not a lean engine
CONTROL = {"LUT": 3000, "FF": 3000, "BRAM18": 0, "URAM": 0, "DSP": 0}


def control(pe: int, simd: int, family: str = "xc7") -> dict:
    """The engine's control resources {LUT, FF, BRAM18, URAM, DSP} at ``pe`` x ``simd``
    lanes: ``const[r] + per_lane[r] * pe * simd`` with the coefficients fitted for
    ``family`` in ``qloom/cost/coef/mo_engine.json`` (Yosys synth_xilinx of the word-addressed
    engine minus this module's datapath and buffer models); the ``CONTROL`` allowance for a
    family without a fit."""
    import json

    from qloom.cost.parts import COEF_DIR

    fit = json.loads((COEF_DIR / "mo_engine.json").read_text())["families"].get(family)
    if fit is None:
        return dict(CONTROL)
    return {r: max(0, round(fit["const"].get(r, 0) + fit["per_lane"].get(r, 0) * pe * simd))
            for r in ("LUT", "FF", "BRAM18", "URAM", "DSP")}
_OPS = {v: k for k, v in OPCODES.items()}


@dataclass(frozen=True)
class Memory:
    """The DRAM as the engine sees it: ``bytes_per_cycle`` at the engine clock,
    ``latency_cycles`` per burst of ``burst_bytes``."""

    bytes_per_cycle: float
    latency_cycles: float = 10.0
    burst_bytes: int = BURST_BYTES

    @classmethod
    def from_board(cls, board, clock_mhz: float, latency_ns: float = MEM_LATENCY_NS,
                   burst_bytes: int = BURST_BYTES) -> "Memory":
        """From the board's ``mem_bandwidth_gbps`` (GB/s) at ``clock_mhz``: bytes/cycle =
        GB/s * 1e9 / (MHz * 1e6), at most the board's ``mem_port_bits`` / 8 (one beat of the
        engine's AXI4 port per cycle; the engine's data width is the port's); latency
        ``latency_ns`` in cycles; bursts of 256 beats of the port (``burst_bytes`` without
        one). QloomError without a bandwidth."""
        if not board.mem_bandwidth_gbps > 0:
            raise QloomError(f"board {board.name} has no mem_bandwidth_gbps (off-chip memory "
                             "bandwidth, GB/s), which the MO architecture needs; add it to the board file")
        bpc = board.mem_bandwidth_gbps * 1e3 / clock_mhz
        port = getattr(board, "mem_port_bits", 0)
        if port:
            bpc, burst_bytes = min(bpc, port / 8), 256 * port // 8
        return cls(bpc, latency_ns * clock_mhz / 1e3, burst_bytes)

    def cycles(self, nbytes: int) -> float:
        """Cycles of one transfer of ``nbytes`` (0 for none)."""
        if nbytes <= 0:
            return 0.0
        return nbytes / self.bytes_per_cycle + math.ceil(nbytes / self.burst_bytes) * self.latency_cycles


def tile_compute(d, pe: int, simd: int) -> int:
    """Engine cycles to compute the tile of descriptor ``d`` (module docstring)."""
    from qloom.ops.mvau import pipeline_depth

    op = _OPS[d.opcode]
    pixels = d.out_rows * d.ow
    if op == "MVAU":
        sf = -(-d.mw // simd)
        return pixels * d.nfs * sf + pipeline_depth(simd, d.nt)
    cf = -(-d.oc // pe)
    if op in ("MAXPOOL", "SUMPOOL"):
        return pixels * (d.k & 0xFFFF) * (d.k >> 16) * cf
    if op in ("THRESH", "ADD"):
        return pixels * cf
    return d.ic * d.ih * d.iw  # LABELSELECT: one element per cycle


def tile_bytes(d) -> tuple[int, int]:
    """(bytes read before the tile computes, bytes written after it)."""
    rd = DESC_BYTES + (d.in_bytes if d.flags & LOAD_IN else 0)
    if d.flags & LOAD_W:
        rd += d.w_bytes + d.t_bytes
    return rd, (d.out_bytes if d.flags & STORE_OUT else 0)


def tile_memory(d, mem: Memory, posted_writes: bool = True) -> float:
    """Memory cycles of descriptor ``d``'s transfers (each its own transfer). With
    ``posted_writes`` a store costs its bytes only: the write response's latency does not
    hold the memory port (the double-buffered engine goes on loading meanwhile); without,
    the engine waits for it (the serial engine)."""
    parts = [DESC_BYTES]
    if d.flags & LOAD_IN:
        parts.append(d.in_bytes)
    if d.flags & LOAD_W:
        parts += [d.w_bytes, d.t_bytes]
    rd = sum(mem.cycles(n) for n in parts)
    if not d.flags & STORE_OUT:
        return rd
    return rd + (d.out_bytes / mem.bytes_per_cycle if posted_writes else mem.cycles(d.out_bytes))


def cycles(sched: Schedule, mem: Memory, compute=None) -> dict:
    """The cycle model of a schedule (module docstring), as the double-buffered engine runs
    it: while tile j computes, the loader fetches tile j+1's descriptor and (within a layer)
    its loads, and the storer writes tile j-1's output, so tile j costs max(compute_j,
    those transfers); at a layer boundary tile j's store and the next tile's loads are
    exposed (the next layer reads what this one wrote, after the store's write response: the
    store costs its latency there; the descriptor is already fetched); the first tile's loads
    and the last store are exposed too. Returns per layer its tiles,
    compute and memory cycles, cycles (a boundary's exposed transfers counted in the layer
    it enters) and bound; the frame's cycles and bytes moved. ``compute(d, pe, simd)``: a
    tile's compute cycles (default :func:`tile_compute`; :func:`rtl_compute` for the RTL)."""
    e = sched.engine
    compute = compute or tile_compute
    desc = mem.cycles(DESC_BYTES)

    def reads(d):  # without the descriptor
        n = [d.in_bytes] if d.flags & LOAD_IN else []
        if d.flags & LOAD_W:
            n += [d.w_bytes, d.t_bytes]
        return sum(mem.cycles(b) for b in n)

    def store(d):
        return d.out_bytes / mem.bytes_per_cycle if d.flags & STORE_OUT else 0.0

    tiles = [(i, d) for i, L in enumerate(sched.layers) for d in L.tiles]
    per = [0.0] * len(sched.layers)
    per[0] = desc + reads(tiles[0][1])
    for j, (li, d) in enumerate(tiles):
        nxt = tiles[j + 1] if j + 1 < len(tiles) else None
        boundary = nxt is None or nxt[0] != li
        m = desc + (0.0 if boundary else reads(nxt[1]))
        if j and tiles[j - 1][0] == li:
            m += store(tiles[j - 1][1])
        per[li] += max(compute(d, e.pe, e.simd), m)
        if boundary:  # drain: this tile's store and its write response, then the next layer's first loads
            per[li] += mem.cycles(d.out_bytes) if d.flags & STORE_OUT else 0.0
            if nxt is not None:
                per[nxt[0]] += reads(nxt[1])
    layers, moved = [], 0
    for i, L in enumerate(sched.layers):
        comp = sum(compute(d, e.pe, e.simd) for d in L.tiles)
        memc = sum(tile_memory(d, mem) for d in L.tiles)
        nbytes = sum(sum(tile_bytes(d)) for d in L.tiles)
        moved += nbytes
        layers.append({"name": L.name, "opcode": L.opcode, "tiles": len(L.tiles),
                       "compute_cycles": int(comp), "memory_cycles": round(memc, 1),
                       "cycles": round(per[i], 1), "bytes": nbytes, "macs": L.macs,
                       "bound": "memory" if memc > comp else "compute"})
    moved += DESC_BYTES  # the END descriptor
    return {"cycles_per_frame": round(sum(per), 1), "bytes_per_frame": moved, "layers": layers,
            "bytes_per_cycle": mem.bytes_per_cycle, "latency_cycles": mem.latency_cycles,
            "burst_bytes": mem.burst_bytes}


def resources(sched: Schedule | tuple, family: str = "xc7", with_control: bool = True) -> dict:
    """{LUT, FF, BRAM18, URAM, DSP} of the engine (module docstring): the MVAU datapath at the
    widest layer's widths, the buffers' two halves, and the fitted control (:func:`control`). ``sched``: a
    Schedule or (Engine, engine layers); ``with_control=False``: without the control (what
    the control's fit is the residual of)."""
    e, layers = (sched.engine, sched.layers) if isinstance(sched, Schedule) else sched
    mv = [L for L in layers if L.weights is not None]
    in_bits = max([L.src.type.bits for L in layers] + [1])
    out_bits = max([L.dst.type.bits for L in layers] + [1])
    w_bits = max([L.weight_type.bits for L in mv] + [1])
    acc = max([L.acc_bits for L in mv] + [2])
    nt = max([0 if L.thresholds is None else L.thresholds.shape[1] for L in layers] + [0])
    t_bits = max([L.t_bits for L in layers] + [0])
    r = dict(_datapath(e.pe, e.simd, in_bits, w_bits, acc, nt, min(out_bits, 32), family))
    buffers = (("in_buf", e.in_buf_bytes, e.simd * in_bits), ("w_buf", e.w_buf_bytes, e.pe * e.simd * w_bits),
               ("t_buf", e.t_buf_bytes, max(1, e.pe * nt * t_bits)), ("out_buf", e.out_buf_bytes, e.pe * out_bits))
    for name, nbytes, width in buffers:
        if name == "t_buf" and not nt:
            continue
        depth = max(2, -(-nbytes * 8 // width))
        for k, v in _buffer(depth, width, family).items():
            r[k] = r.get(k, 0) + 2 * v  # two halves
    ctl = control(e.pe, e.simd, family) if with_control else {}
    return {k: int(r.get(k, 0) + ctl.get(k, 0)) for k in ("LUT", "FF", "BRAM18", "URAM", "DSP")}


@lru_cache(maxsize=4096)
def _datapath(pe, simd, in_bits, w_bits, acc, nt, out_bits, family) -> tuple:
    from qloom.cost.parts import result
    from qloom.ops.mvau import parts_qloom_mvau

    P = parts_qloom_mvau(MW=2 * simd, MH=2 * pe, PE=pe, SIMD=simd, IN_BITS=in_bits, IN_SIGNED=1,
                         W_BITS=w_bits, W_SIGNED=1, ACC_BITS=acc, NUM_THRESH=nt, OUT_BITS=out_bits,
                         family=family)
    return tuple(result(P, family).items())


@lru_cache(maxsize=4096)
def _buffer(depth: int, width: int, family: str) -> dict:
    """One buffer half: a RAM of depth x width bits as Yosys maps it (block or LUT RAM)."""
    from qloom.cost.parts import Parts, result
    from qloom.cost.replay import Mem

    P = Parts("mo_buffer")
    P.add_mem(Mem("buffer", depth, width), family)
    return result(P, family)


POW2 = (1, 2, 4, 8, 16, 32, 64)
BUF_KIB = (2, 8, 32, 128)


def engine_candidates(graph, board, clock_mhz: float, mem: Memory | None = None) -> list[tuple]:
    """Every MO engine configuration :func:`search` considers that fits ``board``'s budget
    and can run ``graph``: (Engine, FPS, cycles per frame, resources) per PE, SIMD (powers
    of two up to 64) and buffer halves (:data:`BUF_KIB`; the threshold buffer the least
    that holds the thresholds of every layer's weight block), frames timed by
    :func:`engine_compute` at ``clock_mhz`` (MHz) with ``mem`` (default: the board's)."""
    from qloom.mo.layout import record_bytes

    mem = mem or Memory.from_board(board, clock_mhz)
    base = engine_layers(graph)
    t_need = max([L.thresholds.shape[0] * record_bytes(L.thresholds.shape[1], L.t_bits)
                  for L in base if L.thresholds is not None and L.weights is None] + [1])
    cands = []
    for pe in POW2:
        for simd in POW2:
            # per MVAU layer with thresholds: (weight bytes of a neuron fold, threshold bytes
            # of a fold, folds); a weight block of w_buf bytes needs that many folds' thresholds
            mv = [(-(-L.weights.shape[1] // simd) * record_bytes(pe * simd, L.weight_type.bits),
                   pe * record_bytes(L.thresholds.shape[1], L.t_bits), -(-L.weights.shape[0] // pe))
                  for L in base if L.thresholds is not None and L.weights is not None]
            for kb_a in BUF_KIB:
                for kb_w in BUF_KIB:
                    t_buf = max([t_need] + [tf * max(1, min(nf, kb_w * 1024 // wf)) for wf, tf, nf in mv])
                    e = Engine(pe, simd, kb_a * 1024, kb_w * 1024, t_buf, kb_a * 1024)
                    res = resources((e, base), board.family)
                    if board.over(res):
                        continue
                    try:
                        s = compile_schedule(base, e, image=False)
                    except QloomError:
                        continue
                    cyc = cycles(s, mem, engine_compute)["cycles_per_frame"]
                    fps = clock_mhz * 1e6 / cyc
                    cands.append((e, fps, cyc, res))
    return cands


def search(graph, board, clock_mhz: float, target_fps: float | None = None,
           mem: Memory | None = None) -> tuple[Engine, dict]:
    """The engine for ``graph`` on ``board``: over PE, SIMD (powers of two up to 64) and
    buffer halves (2, 8, 32, 128 KiB; input and output buffers equal; the threshold buffer the
    least that holds the thresholds of every layer's weight block) the configurations that fit the board's
    budget, frames timed by :func:`engine_compute` (the RTL engine's timing); with
    ``target_fps`` the one of fewest LUTs (then BRAM18) that reaches it,
    otherwise the fastest. Returns (engine, {"fps", "cycles", "resources"}). Raises
    QloomError (with the fastest fitting FPS) when none reaches the target or none fits."""
    cands = engine_candidates(graph, board, clock_mhz, mem)
    best_fit = max(cands, key=lambda c: c[1], default=None)
    if best_fit is None:
        raise QloomError(f"no MO engine size fits {board.name} for this model (PE, SIMD 1..64, "
                         "buffers 2..128 KiB)")
    if target_fps:
        ok = [c for c in cands if c[1] >= target_fps]
        if not ok:
            raise QloomError(f"the MO engine reaches at most {best_fit[1]:,.0f} FPS on {board.name} at "
                             f"{clock_mhz:g} MHz (PE={best_fit[0].pe}, SIMD={best_fit[0].simd}); "
                             f"--target-fps {target_fps:,.0f} is out of reach")
        pick = min(ok, key=lambda c: (c[3]["LUT"], c[3]["BRAM18"], -c[1]))
    else:
        pick = best_fit
    e, fps, cyc, res = pick
    return e, {"fps": fps, "cycles_per_frame": cyc, "resources": res, "candidates": len(cands)}


def rtl_compute(d, pe: int = 1, simd: int = 1) -> int:
    """Compute cycles of a tile on the RTL engine (``mo/verilog/qloom_mo_engine.v``: PE rows
    in parallel, SIMD columns each): MVAU ``pixels * folds * (ceil(MW / SIMD) + NT + PE)``
    (PE x SIMD MACs per cycle, PE threshold compares per cycle, one cycle per output field),
    pools ``pixels * C * (KH*KW + 1)``, the join (ADD) ``pixels * C * (2 + NT)``. Raises
    QloomError for an opcode it has no unit for."""
    op = _OPS[d.opcode]
    pixels = d.out_rows * d.ow
    if op == "MVAU":
        return pixels * d.nfs * (-(-d.mw // simd) + d.nt + pe)
    if op in ("MAXPOOL", "SUMPOOL"):
        return pixels * d.oc * ((d.k & 0xFFFF) * (d.k >> 16) + 1)
    if op == "ADD":  # per pixel and channel: the add, NT threshold compares, the output field
        return pixels * d.oc * (2 + d.nt)
    raise QloomError(f"the RTL MO engine has no {op} unit yet")


def engine_compute(d, pe: int = 1, simd: int = 1) -> int:
    """Compute cycles of a tile as the built engine runs it: :func:`rtl_compute` for the
    opcodes the RTL engine has a unit for, :func:`tile_compute` (the idealized engine) for
    the others (Thresholding, LabelSelect: no RTL unit yet)."""
    try:
        return rtl_compute(d, pe, simd)
    except QloomError:
        return tile_compute(d, pe, simd)


def serial_cycles(sched: Schedule, mem: Memory) -> float:
    """Cycles per frame of the RTL slice with DB = 0 (phases one after another): per
    descriptor its transfers (:func:`tile_memory`) plus :func:`rtl_compute`, and the END
    descriptor's fetch."""
    e = sched.engine
    return mem.cycles(DESC_BYTES) + sum(tile_memory(d, mem, posted_writes=False) + rtl_compute(d, e.pe, e.simd)
                                        for d in sched.descs[:-1])


def rtl_cycles(sched: Schedule, mem: Memory) -> float:
    """Cycles per frame of the RTL slice with DB = 1 (double buffering): :func:`cycles` with
    :func:`rtl_compute` (the END descriptor is fetched during the last tile)."""
    return cycles(sched, mem, rtl_compute)["cycles_per_frame"]
