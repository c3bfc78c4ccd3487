"""Exact replays of Yosys 0.70 decisions that the resource models rely on: how a memory is
mapped (block RAM, LUT-RAM or logic: ``memory_libmap``) and when a product becomes a DSP
(``mul2dsp``). They are rules, not fits: no coefficient lives here.

Yosys 0.70 memory mapping (``memory_libmap``), as replayed here
------------------------------------------------------------------
* Every memory gets a "logic" cost ``W * D * c`` (``c`` = 1 per RAM bit; per ROM bit 1/64
  on xc7/xcup (``-logic-cost-rom 0.015625``), 1/16 on ECP5), truncated to an integer;
  every library RAM type (one per option: RAMB18 "HALF" cost 129, RAMB36 "FULL" 257, true
  or simple dual port; LUT-RAM SP/DP/QP/SDP at 32/64/128/256 words) gets
  ``(cost - widthscale) * units + widthscale * tiles * W / unit_width + 0.5 * mux bits
  + 0.5 * write demux + 2 * emulation score`` for its cheapest geometry (data widths
  1/2/4/9/18/36/72, byte width 9; address tiles ``ceil(D / depth)``). A read port that
  does not share the write port's address scores 1, one that must see same-cycle writes
  (emulated transparency) 3 more. Strict ``<`` against the running integer best: logic
  wins ties, then LUT-RAM (listed first), then block RAM. ``ram_style`` "block" /
  "distributed" / "logic" restrict the candidates (a ROM cannot be "distributed").
* Consequences: ROMs (no write port) never become LUT-RAM (``prune_rom``); a ROM is LUT
  logic until its block-RAM cost undercuts ``W * D / 64`` -- from 8448 bits (= 132 * 64)
  for one RAMB18 on xc7 (8415 bits stays logic; checked), from ~2.1 kbit on ECP5. RAMs
  become LUT-RAM from 2 words when ``ceil(W/6) + 7 W / 6 + 2 < 2 W`` (W >= 4 at depth 2),
  and block RAM from about 3 kbit (e.g. 129 x 16, 512 x 4). A sync read at the write
  address (the MVAU input buffer) uses single-port LUT-RAM (RAM32M as 32 x 8, RAM64X1S per
  bit); an asynchronous read whose address register Yosys pulls into the port (the pool
  partial sums) becomes a transparent synchronous read on SDP LUT-RAM.
* Constant bit lanes of a ROM (a bit equal in every word) are removed first (``opt_mem``),
  and identical lanes share one read register; the models take the memory files
  optionally (``files=``) to count both exactly; without them every lane is assumed to
  vary (thresholds: also comparators that are constant in every word are dropped).
* URAM is never inferred (``synth_xilinx`` runs without ``-uram``: ``-no-auto-huge``).
* A LUT ROM read at a counter address costs ~``D / 16`` LUT6 per lane (Yosys reads it at
  the counter's next value, so the wrap/enable logic enters every lane), four times a ROM
  at a primary-input address (``D / 64``).
* ECP5 keeps 2 W + 9 extra flip-flops beside a DP16KD used as RAM.

DSP rule (``mul2dsp.v``): operands ordered wider first; a product with an operand under
2 bits or a result under 9 bits (Xilinx) stays in LUTs; unsigned products get a sign bit.
Yosys sees the MVAU product of the element widths (a signed x unsigned product as signed
with one more bit on the unsigned side), so with ``MUL_STYLE`` 2 ("*"): 4u x 4s -> DSP,
4u x 4u, 4s x 4s, 3u x 4s -> LUTs. With the default ``MUL_STYLE`` 0 the RTL uses LUT
shift-add up to IN_BITS + W_BITS = 10, so only wider products (8-bit inputs) use DSPs, one
per lane. DSP48s absorb the operand, product and (without adder tree) sum registers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache


def clog2(n: int) -> int:
    """ceil(log2(n)), 0 for n <= 1 (Verilog $clog2 for n >= 1)."""
    return max(0, math.ceil(math.log2(n))) if n > 1 else 0


def cdiv(a: int, b: int) -> int:
    """ceil(a / b) for integers."""
    return -(-int(a) // int(b))


# =====================================================================================
# memory_libmap replay
# =====================================================================================


@dataclass(frozen=True)
class _RamDef:
    """One memory type (one option combination) of a Yosys memory library."""

    name: str
    kind: str  # "distributed" | "block"
    abits: int
    dbits: tuple  # widths at abits, abits-1, ... (data width progression)
    cost: float
    widthscale: float = 0.0
    byte: int = 0
    ports: str = "sdp"  # "sp" (arsw) | "dp" (arsw + ar...) | "sdp" (sw + ar/sr) | "tdp" (srsw x2)
    sync_read: bool = False  # read ports are synchronous (block RAM)
    units: int = 1  # BRAM18 units of one instance (RAMB36 = 2)
    cell: str = ""  # mapped cell, for the LUT count
    cell_luts: int = 0  # LUTs of one cell
    cell_bits: int = 0  # data bits per cell (0: one cell per used bit)
    wr_width: int = 0  # forced write width (ECP5 PDPW16KD: 36)


# Yosys' LUT-RAM libraries (techlibs/xilinx lutrams_xc5v.txt for xc7, lutrams_xcu.txt for
# xcup): per port kind, its "cost" and "widthscale" (SDP: 7 on xc7, else = cost), then per
# address width (abits, data width, mapped cell, LUTs per cell, data bits per cell).
_LUTRAMS = {
    "xc7": [
        ("SP", "sp", 8, 8, [(5, 8, "RAM32M", 4, 8), (6, 4, "RAM64X1S", 1, 1),
                            (7, 2, "RAM128X1S", 2, 1), (8, 1, "RAM256X1S", 4, 1)]),
        ("DP", "dp", 8, 8, [(5, 4, "RAM32M", 4, 4), (6, 2, "RAM64X1D", 2, 1), (7, 1, "RAM128X1D", 4, 1)]),
        ("QP", "dp", 7, 7, [(5, 2, "RAM32M", 4, 2), (6, 1, "RAM64M", 4, 1)]),
        ("SDP", "sdp", 8, 7, [(5, 6, "RAM32M", 4, 6), (6, 3, "RAM64M", 4, 3)]),
    ],
    # twice the widths of xc7 (RAM32M16, RAM64M8), cost 16, widthscale = cost
    "xcup": [
        ("SP", "sp", 16, 16, [(5, 16, "RAM32M16", 8, 16), (6, 8, "RAM64X1S", 1, 1), (7, 4, "RAM128X1S", 2, 1),
                              (8, 2, "RAM256X1S", 4, 1), (16, 1, "RAM512X1S", 8, 1)]),
        ("DP", "dp", 16, 16, [(5, 8, "RAM32M16", 8, 8), (6, 4, "RAM64X1D", 2, 1), (7, 2, "RAM128X1D", 4, 1),
                              (8, 1, "RAM256X1D", 8, 1)]),
        ("QP", "dp", 16, 16, [(5, 4, "RAM32M16", 8, 4), (6, 2, "RAM64M8", 8, 2)]),
        ("OP", "dp", 16, 16, [(5, 2, "RAM32M16", 8, 2), (6, 1, "RAM64M8", 8, 1)]),
        ("SDP", "sdp", 16, 16, [(5, 14, "RAM32M16", 8, 14), (6, 7, "RAM64M8", 8, 7)]),
    ],
}


def _xilinx_lib(family: str):
    """The LUT-RAM types of ``family`` (library order), then its block RAMs (xc7: with the
    RAMB36 cascade)."""
    L = [_RamDef(f"LUTRAM_{kind}{ab}", "distributed", ab, (w,), cost, ws, 0, port, False, 0, cell, luts, bits)
         for kind, port, cost, ws, rows in _LUTRAMS[family] for ab, w, cell, luts, bits in rows]
    return L + _xilinx_brams(cascade=family == "xc7")


def _xilinx_brams(cascade: bool):
    """brams_xc4v.txt with HAS_SIZE_36 (RAMB18 "HALF" / RAMB36 "FULL"), in library order."""
    w18 = (1, 2, 4, 9, 18)
    L = [_RamDef("BRAM_TDP_HALF", "block", 14, w18, 129, 0, 9, "tdp", True, 1, "RAMB18"),
         _RamDef("BRAM_TDP_FULL", "block", 15, w18 + (36,), 257, 0, 9, "tdp", True, 2, "RAMB36")]
    if cascade:
        L.append(_RamDef("BRAM_TDP_CASCADE", "block", 16, (1, 2, 4, 9), 513, 0, 9, "tdp", True, 4, "RAMB36"))
    L += [_RamDef("BRAM_SDP_HALF", "block", 14, w18 + (36,), 129, 0, 9, "sdp", True, 1, "RAMB18"),
          _RamDef("BRAM_SDP_FULL", "block", 15, w18 + (36, 72), 257, 0, 9, "sdp", True, 2, "RAMB36")]
    return L


def _ecp5_lib():
    return [
        # lutrams_trellis.txt: DPR16X4 (16 x 4, simple dual port), 4 LUT4 equivalents
        _RamDef("TRELLIS_DPR16X4", "distributed", 4, (4,), 4, 0, 0, "sdp", False, 0, "TRELLIS_DPR16X4", 4, 4),
        # brams_16kd.txt: DP16KD (true dual port, up to 18 bits), PDPW16KD (36-bit write)
        _RamDef("DP16KD", "block", 14, (1, 2, 4, 9, 18), 128, 0, 9, "tdp", True, 1, "DP16KD"),
        _RamDef("PDPW16KD", "block", 14, (1, 2, 4, 9, 18, 36), 128, 0, 9, "sdp", True, 1, "PDPW16KD",
                wr_width=36),
    ]


_LIBS = {"xc7": _xilinx_lib("xc7"), "xcup": _xilinx_lib("xcup"), "ecp5": _ecp5_lib()}
_LOGIC_COST_ROM = {"xc7": 1 / 64, "xcup": 1 / 64, "ecp5": 1 / 16}
_FACTOR_MUX, _FACTOR_DEMUX, _FACTOR_EMU = 0.5, 0.5, 2


@dataclass
class MemMapping:
    """The outcome of :func:`map_memory` for one memory."""

    name: str
    depth: int
    width: int
    rom: bool
    kind: str  # "logic" | "distributed" | "block" | "none" (no memory left)
    ramdef: str = ""
    cost: float = 0.0
    unit_width: int = 0
    mult_a: int = 1  # address-range tiles
    repl: int = 0  # instances (block RAMs / LUT-RAM units)
    bram18: int = 0
    cells: int = 0  # LUT-RAM cells
    lutram_luts: int = 0  # LUT equivalents of the LUT-RAM cells
    candidates: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Mem:
    """A memory of an operator as Yosys sees it.

    depth x width; rom: no write port; read: "sync" (registered read, with enable) or
    "async"; shared: the read address is the write address (single-port use);
    style: the ram_style attribute ("auto", "block", "distributed", "logic");
    trans: a read that must see a write to the same address in the same cycle
    (emulated by Yosys with a bypass register: emulation score 3)."""

    name: str
    depth: int
    width: int
    rom: bool = False
    read: str = "sync"
    shared: bool = False
    style: str = "auto"
    trans: bool = False
    feature: str = "rom"  # LUT feature name of a LUT ROM (fitted per use)


def _geom(rd: _RamDef, mem: Mem, rom: bool):
    """Best (cost, unit_width, mult_a, repl) of one library RAM type for ``mem`` (the
    geometry loop of memory_libmap for one write port without byte enables and one read
    port, no wide ports), or None if impossible."""
    # port assignment and emulation score
    if rom:
        if not rd.sync_read:
            return None  # distributed RAMs are prune_rom; block RAM ports are sync
        emu = 1  # read port not shared with a write port
    else:
        if rd.sync_read and mem.read != "sync":
            return None  # an asynchronous read cannot use a block RAM port
        # a read sharing the write address shares its port only when it is synchronous
        # (observed: an asynchronous read at the write address still maps to SDP LUT-RAM)
        shared = mem.shared and mem.read == "sync"
        if rd.ports == "sp":
            if not shared:
                return None
            emu = 0
        elif rd.ports in ("dp", "tdp"):
            emu = 0 if shared else 1
        else:  # sdp
            emu = 1
        if mem.trans:
            emu += 3
    best = None
    for bw, unit in enumerate(rd.dbits):
        if rd.wr_width and not rom and unit != rd.wr_width:
            # fixed write width (PDPW16KD): only the native 36-bit geometry
            continue
        eff = rd.byte if rd.byte else unit
        if eff > unit:
            eff = unit
        if rom:
            eff = 1
        swz = cdiv(mem.width, eff) * eff
        addrs = 1 << (rd.abits - bw)
        mult_a = (mem.depth - 1) // addrs + 1
        bits = mult_a * swz
        repl = cdiv(bits, unit)
        mux = (mult_a - 1) * mem.width
        demux = 0 if (rom or mult_a == 1) else mult_a
        cost = (rd.cost - rd.widthscale) * repl
        cost += rd.widthscale * mult_a * mem.width / unit
        cost += mux * _FACTOR_MUX + demux * _FACTOR_DEMUX + emu * _FACTOR_EMU
        if best is None or cost < best[0]:
            best = (cost, unit, mult_a, repl)
    return best


def map_memory(mem: Mem, family: str = "xc7") -> MemMapping:
    """Replay Yosys 0.70 ``memory_libmap`` for ``mem`` on ``family``."""
    if mem.depth <= 0 or mem.width <= 0:
        return MemMapping(mem.name, mem.depth, mem.width, mem.rom, "none")
    style = (mem.style or "auto").lower()
    kind_req = {"auto": None, "logic": "logic", "registers": "logic", "distributed": "distributed",
                "block": "block", "block_ram": "block", "ebr": "block"}.get(style, "other")
    logic_ok = kind_req in (None, "logic")
    logic_cost = mem.width * mem.depth * (_LOGIC_COST_ROM[family] if mem.rom else 1.0)
    res = MemMapping(mem.name, mem.depth, mem.width, mem.rom, "logic", cost=logic_cost)
    if kind_req == "logic":
        return res
    # best configuration per kind (prune_post_geom: the cheapest of each kind, first on ties)
    per_kind: dict[str, tuple] = {}
    for i, rd in enumerate(_LIBS[family]):
        if kind_req not in (None, "other") and rd.kind != kind_req:
            continue
        g = _geom(rd, mem, mem.rom)
        if g is None:
            continue
        res.candidates[rd.name] = round(g[0], 3)
        if rd.kind not in per_kind or g[0] < per_kind[rd.kind][0][0]:
            per_kind[rd.kind] = (g, rd, i)
    cfgs = sorted(per_kind.values(), key=lambda t: t[2])
    if not cfgs:
        if logic_ok:
            return res
        raise ValueError(f"memory {mem.name}: no valid mapping for ram_style {style!r} on {family}")
    # final choice: "int best = logic_cost" and strict "<" (the int truncation is Yosys')
    idx = -1
    best = int(logic_cost)
    if not logic_ok:
        idx, best = 0, int(cfgs[0][0][0])
    for i, (g, rd, _) in enumerate(cfgs):
        if g[0] < best:
            idx, best = i, int(g[0])
    if idx == -1:
        return res
    (cost, unit, mult_a, repl), rd, _ = cfgs[idx]
    res.kind, res.ramdef, res.cost, res.unit_width, res.mult_a, res.repl = rd.kind, rd.name, cost, unit, mult_a, repl
    if rd.kind == "block":
        res.bram18 = repl * rd.units
    else:
        if rd.cell_bits > 1:
            res.cells = mult_a * cdiv(mem.width, rd.cell_bits)
        else:
            res.cells = mult_a * mem.width
        res.lutram_luts = res.cells * rd.cell_luts
    return res


# =====================================================================================
# DSP inference (Yosys techmap +/mul2dsp.v with the family's DSP_* macros)
# =====================================================================================

# (A_MAX, B_MAX, A_MAX_PARTIAL, A_MIN, B_MIN, Y_MIN, SIGNED_ONLY) per family
_DSP_RULES = {"xc7": (25, 18, 18, 2, 2, 9, True), "xcup": (27, 18, 18, 2, 2, 9, True),
              "ecp5": (18, 18, 18, 2, 2, 0, False)}


def mul_dsps(a_bits: int, a_signed: bool, b_bits: int, b_signed: bool, y_bits: int,
             family: str = "xc7", _cell: str = "$mul") -> int:
    """DSP blocks Yosys uses for one ``$mul`` of the given (reduced) operand widths.

    Rules of ``mul2dsp.v`` (synth_xilinx: ``DSP_A_MINWIDTH=2 DSP_B_MINWIDTH=2
    DSP_Y_MINWIDTH=9 DSP_SIGNEDONLY=1``, A/B max 25/18 on xc7, 27/18 on UltraScale+;
    synth_ecp5: 18x18, min 2x2): operands are ordered wider first; a product with an operand
    under 2 bits or (Xilinx) a result under 9 bits stays in LUTs ("UG901: small multiplies
    are 4x4 and smaller"); unsigned products get a sign bit on each operand; wider operands
    are split into partial products (18-bit slices) summed in LUTs/DSP cascades.
    """
    amax, bmax, apart, amin, bmin, ymin, signed_only = _DSP_RULES[family]
    A, B, sa, sb = a_bits, b_bits, a_signed, b_signed
    if _cell == "$mul" and A < B:
        A, B, sa, sb = B, A, sb, sa
    if A < amin or B < bmin or y_bits < ymin:
        return 0
    if signed_only and _cell == "$mul" and not sa and not sb:
        return mul_dsps(A + 1, True, B + 1, True, y_bits, family, "$mul")
    sh = 1 if signed_only else 0
    if A > amax:
        n = (A - amax + apart - sh - 1) // (apart - sh)
        last_a = A - n * (apart - sh)
        return (n * mul_dsps(apart, sa, B, sb, min(y_bits, B + apart), family, "$__mul")
                + mul_dsps(last_a, sa, B, sb, B + last_a, family, "$__mul"))
    if B > bmax:
        n = (B - bmax + bmax - sh - 1) // (bmax - sh)
        last_b = B - n * (bmax - sh)
        return (n * mul_dsps(A, sa, bmax, sb, min(y_bits, A + bmax), family, "$__mul")
                + mul_dsps(A, sa, last_b, sb, A + last_b, family, "$__mul"))
    return 1


def mux_luts(n: int) -> int:
    """LUT6s of an n:1 multiplexer per bit on Xilinx (4:1 per LUT6, MUXF7/MUXF8 combine
    up to 16:1 for free, LUT muxes beyond)."""
    if n <= 1:
        return 0
    if n <= 4:
        return 1
    if n <= 16:
        return cdiv(n, 4)
    g = cdiv(n, 16)
    return 4 * g + mux_luts(g)


def rom_lanes(depth: int, width: int, words=None) -> tuple[float, float]:
    """(flip-flops, LUT functions) of the bit lanes of a LUT ROM of ``depth`` words.

    Yosys drops constant lanes (opt_mem) and merges identical lanes (one register, one
    LUT); a lane equal to an address bit or its complement needs no LUT. With ``words``
    (the contents) the counts are exact; without, the expectation for random contents
    (``width`` draws from the 2**depth possible lanes)."""
    if depth <= 1:
        return 0.0, 0.0
    if words is not None:
        return _rom_lanes_exact(depth, tuple(words[:depth]))
    if depth > 20:
        return float(width), float(width)
    n = 2.0 ** depth
    distinct = n * (1.0 - (1.0 - 1.0 / n) ** width)
    ab = clog2(depth)
    ff = distinct * (n - 2) / n
    lut = distinct * (n - 2 - 2 * ab) / n
    return ff, max(lut, 0.0)


@lru_cache(maxsize=4096)
def _rom_lanes_exact(depth: int, words: tuple) -> tuple[float, float]:
    """:func:`rom_lanes` of known contents (cached: the design-space search prices the
    same threshold memories under many foldings)."""
    cols = {}
    nbits = max((w.bit_length() for w in words), default=0)
    for b in range(nbits):
        col = 0
        for i, w in enumerate(words):
            col |= ((w >> b) & 1) << i
        cols[col] = 1
    full = (1 << depth) - 1
    ab = clog2(depth)
    trivial = {0, full}
    addr = set()
    for k in range(ab):
        c = sum(((i >> k) & 1) << i for i in range(depth))
        addr |= {c, full ^ c}
    ff = sum(1 for c in cols if c not in trivial)
    return float(ff), float(sum(1 for c in cols if c not in trivial and c not in addr))


def rom_luts_per_lane(depth: int) -> float:
    """LUT6s of one lane of a LUT ROM read at a counter address (all ROMs here): Yosys
    reads the ROM at the counter's next value, so each lane is a function of the address
    bits plus the counter's wrap/enable/reset logic; measured about depth / 16 LUTs per
    lane from 32 words up (a ROM at a primary-input address needs only depth / 64)."""
    if depth <= 16:
        return 1.0
    return depth / 16.0


def mem_cost(m: MemMapping, mem: Mem, words=None, family: str = "xc7") -> dict:
    """Estimated {"LUT", "FF", "LUTRAM"} of a mapped memory (LUTRAM: the LUT-RAM part of
    LUT, exact)."""
    W, D = m.width, m.depth
    sync = mem.read == "sync"
    if m.kind == "none":
        return {"LUT": 0.0, "FF": 0.0, "LUTRAM": 0}
    if m.kind == "block":
        sel = clog2(m.mult_a)
        if family == "ecp5" and not m.rom:
            # synth_ecp5 keeps two data-wide registers beside a DP16KD RAM (measured:
            # 2 W + 9 flip-flops for FIFOs and line buffers)
            sel += 2 * W + 9
        return {"LUT": float(W * mux_luts(m.mult_a) + (m.mult_a if not m.rom and m.mult_a > 1 else 0)),
                "FF": float(sel), "LUTRAM": 0}
    if m.kind == "distributed":
        lut = m.lutram_luts + (W * mux_luts(m.mult_a) + m.mult_a if m.mult_a > 1 else 0)
        # a synchronous read on an asynchronous LUT-RAM port gets a data register, except
        # when the port came from an address register (trans): that register stays
        return {"LUT": float(lut), "FF": float(W if sync and not mem.trans else 0),
                "LUTRAM": m.lutram_luts}
    # logic
    if m.rom:
        ff, fn = rom_lanes(D, W, words)
        if D > 8 and words is None:
            fn = W
        lut = fn * (rom_luts_per_lane(D) if D > 8 else 1.0)
        return {"LUT": lut, "FF": ff if sync else 0.0, "LUTRAM": 0, "ROM_LUT": lut}
    ff = D * W + (W if sync and not mem.trans else 0)
    lut = W * mux_luts(D) + (D if D > 1 else 0)
    return {"LUT": float(lut), "FF": float(ff), "LUTRAM": 0}
