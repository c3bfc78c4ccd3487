"""Analytical resource models (LUT, FF, BRAM18, URAM, DSP) of the qloom Verilog operators,
fitted to our own Yosys 0.70 synthesis (``qloom.synth``: ``synth_xilinx -family xc7|xcup``,
``synth_ecp5``), in the units of ``synth.json`` (see ``qloom.synth.count_cells``).

Structure (FINN-R, Blott et al., TRETS 2018, arXiv:1809.04570, Sec. 5 "resource and
performance models"):

* memories: the block-RAM count of a D x W memory follows from the aspect ratios of one
  RAMB18 (16Kx1, 8Kx2, 4Kx4, 2Kx9, 1Kx18, 512x36; FINN-R Sec. 5, Eq. for BRAM count
  ceil(W / w_a) * ceil(D / d_a) minimised over aspects). Yosys decides *whether* a memory
  becomes block RAM, LUT-RAM or logic with a cost model (``memory_libmap``); this module
  replays that decision exactly (:func:`map_memory`), so BRAM18 is exact;
* compute: the MVAU's LUTs grow with PE * SIMD * (weight bits x activation bits) for the
  products, PE * SIMD * accumulator bits for the SIMD adder tree, PE * accumulator bits
  for the accumulators and PE * thresholds * accumulator bits for the comparators
  (FINN-R Sec. 5, LUT model of the MVAU); the coefficients are fitted to a Yosys sweep
  (``benchmarks/cost_model.py --fit``);
* DSP: exact rule of Yosys' ``mul2dsp`` mapping (see :func:`mul_dsps`).

Each ``res_<module>(**params)`` takes the module's Verilog parameters by name (extra
keywords are ignored) and returns ``{"LUT", "FF", "BRAM18", "URAM", "DSP"}``;
:func:`estimate` dispatches on an :class:`~qloom.ops.base.RtlInstance`.

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
  and identical lanes share one read register; :func:`estimate` takes the memory files
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

KEYS = ("LUT", "FF", "BRAM18", "URAM", "DSP")
FAMILIES = ("xc7", "xcup", "ecp5")


def _clog2(n: int) -> int:
    return max(0, math.ceil(math.log2(n))) if n > 1 else 0


def _cdiv(a: int, b: int) -> int:
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


def _xc7_lib():
    L = []
    # lutrams_xc5v.txt (xc7): SP / DP / QP / SDP, "widthscale" (SDP: 7, else = cost)
    for ab, w, cell, luts, bits in ((5, 8, "RAM32M", 4, 8), (6, 4, "RAM64X1S", 1, 1),
                                    (7, 2, "RAM128X1S", 2, 1), (8, 1, "RAM256X1S", 4, 1)):
        L.append(_RamDef(f"LUTRAM_SP{ab}", "distributed", ab, (w,), 8, 8, 0, "sp", False, 0, cell, luts, bits))
    for ab, w, cell, luts, bits in ((5, 4, "RAM32M", 4, 4), (6, 2, "RAM64X1D", 2, 1), (7, 1, "RAM128X1D", 4, 1)):
        L.append(_RamDef(f"LUTRAM_DP{ab}", "distributed", ab, (w,), 8, 8, 0, "dp", False, 0, cell, luts, bits))
    for ab, w, cell, luts, bits in ((5, 2, "RAM32M", 4, 2), (6, 1, "RAM64M", 4, 1)):
        L.append(_RamDef(f"LUTRAM_QP{ab}", "distributed", ab, (w,), 7, 7, 0, "dp", False, 0, cell, luts, bits))
    for ab, w, cell, luts, bits in ((5, 6, "RAM32M", 4, 6), (6, 3, "RAM64M", 4, 3)):
        L.append(_RamDef(f"LUTRAM_SDP{ab}", "distributed", ab, (w,), 8, 7, 0, "sdp", False, 0, cell, luts, bits))
    L += _xilinx_brams(cascade=True)
    return L


def _xcup_lib():
    L = []
    # lutrams_xcu.txt: cost 16, widthscale = cost, twice the widths of xc7 (RAM32M16, RAM64M8)
    for ab, w, cell, luts, bits in ((5, 16, "RAM32M16", 8, 16), (6, 8, "RAM64X1S", 1, 1),
                                    (7, 4, "RAM128X1S", 2, 1), (8, 2, "RAM256X1S", 4, 1),
                                    (16, 1, "RAM512X1S", 8, 1)):
        L.append(_RamDef(f"LUTRAM_SP{ab}", "distributed", ab, (w,), 16, 16, 0, "sp", False, 0, cell, luts, bits))
    for ab, w, cell, luts, bits in ((5, 8, "RAM32M16", 8, 8), (6, 4, "RAM64X1D", 2, 1),
                                    (7, 2, "RAM128X1D", 4, 1), (8, 1, "RAM256X1D", 8, 1)):
        L.append(_RamDef(f"LUTRAM_DP{ab}", "distributed", ab, (w,), 16, 16, 0, "dp", False, 0, cell, luts, bits))
    for ab, w, cell, luts, bits in ((5, 4, "RAM32M16", 8, 4), (6, 2, "RAM64M8", 8, 2)):
        L.append(_RamDef(f"LUTRAM_QP{ab}", "distributed", ab, (w,), 16, 16, 0, "dp", False, 0, cell, luts, bits))
    for ab, w, cell, luts, bits in ((5, 2, "RAM32M16", 8, 2), (6, 1, "RAM64M8", 8, 1)):
        L.append(_RamDef(f"LUTRAM_OP{ab}", "distributed", ab, (w,), 16, 16, 0, "dp", False, 0, cell, luts, bits))
    for ab, w, cell, luts, bits in ((5, 14, "RAM32M16", 8, 14), (6, 7, "RAM64M8", 8, 7)):
        L.append(_RamDef(f"LUTRAM_SDP{ab}", "distributed", ab, (w,), 16, 16, 0, "sdp", False, 0, cell, luts, bits))
    L += _xilinx_brams(cascade=False)
    return L


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


_LIBS = {"xc7": _xc7_lib(), "xcup": _xcup_lib(), "ecp5": _ecp5_lib()}
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
        swz = _cdiv(mem.width, eff) * eff
        addrs = 1 << (rd.abits - bw)
        mult_a = (mem.depth - 1) // addrs + 1
        bits = mult_a * swz
        repl = _cdiv(bits, unit)
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
    order = []
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
            res.cells = mult_a * _cdiv(mem.width, rd.cell_bits)
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


def mvau_product_widths(IN_BITS, IN_SIGNED, W_BITS, W_SIGNED, ACC_BITS):
    """(a_bits, a_signed, b_bits, b_signed, y_bits) of the MVAU's ``$mul`` as Yosys sees
    it after ``wreduce``/``alumacc``: the RTL multiplies zero-/sign-extended operands, which
    Yosys narrows back to the element widths; a mixed signed x unsigned product becomes a
    signed product with one extra bit on the unsigned operand; the result is cut to the
    accumulator width."""
    xs, ws = bool(IN_SIGNED), bool(W_SIGNED)
    a, b = IN_BITS, W_BITS
    if xs != ws:
        a += 0 if xs else 1
        b += 0 if ws else 1
        xs = ws = True
    y = min(a + b, ACC_BITS, IN_BITS + W_BITS + 2)
    return a, xs, b, ws, y


# =====================================================================================
# LUTs and flip-flops of a mapped memory
# =====================================================================================


def mux_luts(n: int) -> int:
    """LUT6s of an n:1 multiplexer per bit on Xilinx (4:1 per LUT6, MUXF7/MUXF8 combine
    up to 16:1 for free, LUT muxes beyond)."""
    if n <= 1:
        return 0
    if n <= 4:
        return 1
    if n <= 16:
        return _cdiv(n, 4)
    g = _cdiv(n, 16)
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
        cols = {}
        nbits = max((w.bit_length() for w in words[:depth]), default=0)
        for b in range(nbits):
            col = 0
            for i, w in enumerate(words[:depth]):
                col |= ((w >> b) & 1) << i
            cols[col] = 1
        full = (1 << depth) - 1
        ab = _clog2(depth)
        trivial = {0, full}
        addr = set()
        for k in range(ab):
            c = sum(((i >> k) & 1) << i for i in range(depth))
            addr |= {c, full ^ c}
        ff = sum(1 for c in cols if c not in trivial)
        return float(ff), float(sum(1 for c in cols if c not in trivial and c not in addr))
    if depth > 20:
        return float(width), float(width)
    n = 2.0 ** depth
    distinct = n * (1.0 - (1.0 - 1.0 / n) ** width)
    ab = _clog2(depth)
    ff = distinct * (n - 2) / n
    lut = distinct * (n - 2 - 2 * ab) / n
    return ff, max(lut, 0.0)


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
        sel = _clog2(m.mult_a)
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


# =====================================================================================
# per-module inventories: memories, registers, LUT features
# =====================================================================================


@dataclass
class Parts:
    """What a module instance is made of: memories (mapped), exact flip-flop counts of
    its registers, LUT features (multiplied by fitted coefficients) and DSPs. Features
    are keyed (module, name): a sub-module (e.g. the output FIFO) keeps its own
    coefficients."""

    module: str
    mems: list = field(default_factory=list)  # (Mem, MemMapping, cost dict)
    ff: float = 0.0  # registers outside memories
    lut: dict = field(default_factory=dict)  # (module, feature) -> value
    dsp: int = 0

    def add_mem(self, mem: Mem, family: str, words=None):
        mp = map_memory(mem, family)
        c = mem_cost(mp, mem, words, family)
        self.mems.append((mem, mp, c))
        self.ff += c["FF"]
        self.lut[("mem", "lutram")] = self.lut.get(("mem", "lutram"), 0.0) + c["LUTRAM"]
        if c.get("ROM_LUT"):
            key = ("mem", mem.feature)
            self.lut[key] = self.lut.get(key, 0.0) + c["ROM_LUT"]
        elif c["LUT"] - c["LUTRAM"]:
            self.lut[("mem", "logic")] = self.lut.get(("mem", "logic"), 0.0) + c["LUT"] - c["LUTRAM"]
        return mp

    def feat(self, k, v):
        key = (self.module, k)
        self.lut[key] = self.lut.get(key, 0.0) + float(v)

    def add(self, other: "Parts"):
        self.mems += other.mems
        self.ff += other.ff
        for k, v in other.lut.items():
            self.lut[k] = self.lut.get(k, 0.0) + v
        self.dsp += other.dsp

    @property
    def bram18(self) -> int:
        return sum(mp.bram18 for _, mp, _ in self.mems)


def _aw(depth: int) -> int:
    return _clog2(depth) if depth > 1 else 1


def parts_qloom_fifo(WIDTH=8, DEPTH=16, RAM_STYLE="auto", family="xc7", **_) -> Parts:
    P = Parts("qloom_fifo")
    style = str(RAM_STYLE)
    if style == "registers":
        style = "logic"
    P.add_mem(Mem("fifo", DEPTH, WIDTH, style=style), family)
    aw = _clog2(DEPTH)  # pointers vanish for DEPTH = 1
    cw = _clog2(DEPTH + 1)
    P.ff += 2 * aw + cw + 1
    P.feat("fifo_ctl", 1)
    P.feat("fifo_ptr", 2 * aw + cw)
    return P


def _mvau_mode(IN_BIPOLAR, W_BIPOLAR):
    if IN_BIPOLAR and W_BIPOLAR:
        return "xnor"
    if W_BIPOLAR:
        return "wbip"
    if IN_BIPOLAR:
        return "xbip"
    return "mul"


def _tree_n(n0: int, level: int) -> int:
    """Nodes on ``level`` of a balanced adder tree over n0 leaves (qloom_mvau tree_n)."""
    n = n0
    for _ in range(level):
        n = (n + 1) // 2
    return n


def _distinct(k: int, n: int) -> float:
    """Expected number of distinct values among ``n`` uniform draws from ``k``."""
    return k * (1.0 - (1.0 - 1.0 / k) ** n)


def xnor_popcount(SIMD: int, ACC: int, PE: int = 1, wpats=None) -> dict:
    """The XNOR popcount of qloom_mvau (``g_xnor``) per PE: the lanes in groups of 3 (a
    2-bit match count, each bit one LUT6 of the group's 6 inputs; 1 bit for a lone lane),
    a balanced adder tree over the groups; CP registers tree level XR (1 -- the 3-bit
    counts of 6 lanes -- when a level is left for the split, else 0), the split (SIMD > 4)
    level XSL. Node widths as Yosys keeps them (a sum is one bit wider than its wider
    operand, a lone node passes through).

    Returns per PE {"grp": group LUT functions, "adder_pre" / "adder": adder bit
    positions with two operands (one LUT each beside the carry chain) up to / after the
    CP register, "cp", "split", "out": register bits (CP, tree split, dot2)}.
    ``wpats(lo, hi)`` (constant weights): the number of distinct weight patterns of
    lanes lo..hi-1 across the PEs; PEs with equal patterns share the logic up to the CP
    register, so "grp", "adder_pre" and "cp" are then totals over all PEs ("shared").
    (Yosys shares even more there -- e.g. a count's bit 0 is a parity, equal up to
    inversion for every pattern --: constant-weight FF counts are overestimated.)"""
    XG = _cdiv(SIMD, 3)
    XTL = _clog2(XG)
    treg = SIMD > 4
    XR = 1 if XTL >= 1 + (1 if treg else 0) else 0
    XSL = max(XR + 1, (XTL + XR + 1) // 2)
    # level 0: groups (lane range, width)
    lv = [[(3 * g, min(SIMD, 3 * g + 3), 2 if min(3, SIMD - 3 * g) >= 2 else 1) for g in range(XG)]]
    adders = [0]
    for l in range(1, XTL + 1):
        lw = min(ACC, 2 + l)
        prev, cur, add = lv[-1], [], 0
        for i in range(0, len(prev), 2):
            if i + 1 < len(prev):
                (lo, _, wa), (_, hi, wb) = prev[i], prev[i + 1]
                cur.append((lo, hi, min(lw, max(wa, wb) + 1)))
                add += min(wa, wb)
            else:
                cur.append(prev[i])
        lv.append(cur)
        adders.append(add)
    mult = (lambda lo, hi: 1.0) if wpats is None else wpats
    grp = sum(w * mult(lo, hi) for lo, hi, w in lv[0])
    pre = sum(adders[1:XR + 1]) if wpats is None else sum(
        min(a[2], b[2]) * mult(a[0], b[1]) for l in range(1, XR + 1)
        for a, b in zip(lv[l - 1][0::2], lv[l - 1][1::2]))
    cp = sum(w * mult(lo, hi) for lo, hi, w in lv[XR])
    return {"grp": grp, "adder_pre": pre, "adder": sum(adders[XR + 1:]), "cp": cp,
            "split": sum(w for _, _, w in lv[XSL]) if treg else 0, "out": lv[-1][0][2],
            "shared": wpats is not None}


def parts_qloom_mvau(MW=4, MH=4, PE=1, SIMD=1, IN_BITS=4, IN_SIGNED=0, IN_BIPOLAR=0, W_BITS=4,
                     W_SIGNED=1, W_BIPOLAR=0, ACC_BITS=16, NUM_THRESH=0, OUT_BITS=4,
                     RAM_STYLE="auto", MUL_STYLE=0, family="xc7", files=None, WEIGHT_FILE="",
                     THRESH_FILE="", **_) -> Parts:
    """qloom_mvau: weight ROM (+ retiming register), threshold ROM, input buffer, PE x SIMD
    registered products, balanced adder trees (split by a register for SIMD > 4),
    accumulators, registered PE x NUM_THRESH comparisons + count trees, output FIFO.

    LUT features (FINN-R Sec. 5, MVAU LUT model: a per-lane product cost times PE*SIMD --
    ~ weight bits x activation bits for a LUT multiplier; XNOR: the LUTs of the 3-lane
    group counts and of the adders into 6-lane counts (``xgrp``) and the adder tree after
    the CP register (``xtree``), see :func:`xnor_popcount` --, adder trees and
    accumulators growing with the sum width, PE*NUM_THRESH comparators of the accumulator
    width, plus the memories)."""
    P = Parts("qloom_mvau")
    SF, NF = MW // SIMD, MH // PE
    NT = NUM_THRESH
    IB, WB, ACC = IN_BITS, W_BITS, ACC_BITS
    OB = OUT_BITS if NT > 0 else ACC
    mode = _mvau_mode(IN_BIPOLAR, W_BIPOLAR)
    wwords = _mem_words(files, WEIGHT_FILE)
    twords = _mem_words(files, THRESH_FILE) if NT else None
    D = NF * SF
    WW = PE * SIMD * WB
    style = str(RAM_STYLE)
    rom_style = "logic" if style == "distributed" else style
    wlanes = _const_lanes_removed(wwords, WW) if wwords is not None else WW
    wm = P.add_mem(Mem("weights", D, wlanes, rom=True, style=rom_style, feature="rom_w"), family, wwords)
    const_w = D == 1  # the weights are constants: the datapath folds them in
    # w1r, the retiming copy of the ROM output: one flip-flop per distinct lane
    if not const_w:
        P.ff += P.mems[-1][2]["FF"] if wm.kind == "logic" else wlanes
    # thresholds: a comparator whose threshold is the accumulator minimum in every word is
    # always true (the generator clamps "always fire" thresholds there): Yosys drops it
    nt_live = float(PE * NT)
    if NT:
        TW = PE * NT * ACC
        if twords is not None:
            twords, nt_live = _live_thresholds(twords, PE * NT, ACC, -(1 << (ACC - 1)), None)
        tlanes = _const_lanes_removed(twords, TW) if twords is not None else TW
        tm = P.add_mem(Mem("thresholds", NF, tlanes, rom=True, feature="rom_t"), family, twords)
        if NF > 1:  # thr3, the copy of the ROM read register tq
            P.ff += P.mems[-1][2]["FF"] if tm.kind == "logic" else tlanes
        P.ff += nt_live + 1  # ge4, fin4
    if NF > 1:
        P.add_mem(Mem("ibuf", SF, SIMD * IB, shared=True), family)
    TL = _clog2(SIMD)
    treg = TL >= 3
    credits = _cdiv(9 + (1 if SIMD > 4 else 0) + (1 if NT else 0), SF) + 1
    P.add(parts_qloom_fifo(WIDTH=PE * OB, DEPTH=credits, RAM_STYLE="distributed", family=family))
    # ---- products: LUT shift-add (MUL_STYLE 1, or 0 with IN_BITS + W_BITS <= 10) or `*`
    lanes = PE * SIMD
    dsp_per = 0
    if mode == "mul":
        mul_lut = MUL_STYLE == 1 or (MUL_STYLE == 0 and IB + WB <= 10)
        if not mul_lut and not const_w:
            dsp_per = mul_dsps(*mvau_product_widths(IB, IN_SIGNED, WB, W_SIGNED, ACC), family)
    P.dsp = lanes * dsp_per
    # product register width as Yosys keeps it (known-zero top bits dropped)
    PW = IB + WB + 2
    if mode == "xnor":
        prw = 1
    elif mode == "mul" and not IN_SIGNED and not W_SIGNED:
        prw = min(ACC, IB + WB)
    else:
        prw = min(ACC, PW)
    xp = None
    if mode == "xnor":
        wpats = None
        if const_w:
            # constant weights: PEs with equal weights on a group of lanes share its logic
            # and CP register (distinct weight patterns: exact from the ROM word, else the
            # expectation for random weights)
            word = wwords[0] if wwords else None

            def wpats(lo, hi):
                if word is None:
                    return _distinct(1 << (hi - lo), PE)
                m = (1 << (hi - lo)) - 1
                return float(len({(word >> (p * SIMD + lo)) & m for p in range(PE)}))
        xp = xnor_popcount(SIMD, ACC, PE, wpats)
    # ---- registers (beyond memories and the FIFO)
    sfw, nfw, waw = _clog2(SF), _clog2(NF), _clog2(D)
    pcw = _clog2(credits + 1)
    stages = 5 + (1 if treg else 0)  # valid bits v1 vr vp [vt] v2, plus fin3 o4v below
    ff = sfw + nfw + waw + pcw + stages + 2
    if SF > 1:
        ff += 2 * (stages - 1)  # first/last along the pipeline up to first2/last2
    if NF > 1:
        ff += 1  # src1
        if NT:
            ff += nfw * (stages - 2)  # nf1 nfr nfp [nft] (address the threshold ROM)
    ff += 2 * SIMD * IB  # sd1, x1r
    ff += PE * ACC + PE * OB  # acc, o4
    if mode == "xnor" and not NT:
        ff -= PE  # o4 = 2 pop - MW: its bit 0 is MW mod 2, a constant
    absorb = dsp_per and family == "xc7"
    if absorb:
        # DSP48E1s absorb their operand registers (w1r, x1r -- duplicated per PE), the
        # product register, the tree split and the sum register when there is no tree
        # (measured on xc7; on xcup and ECP5 the registers stay in fabric)
        if not const_w:
            ff -= P.mems[0][2]["FF"] if wm.kind == "logic" else wlanes
        ff -= SIMD * IB
    elif xp is not None:
        # XNOR: the CP register (6-lane or group counts), the tree split, dot2
        ff += (xp["cp"] if xp["shared"] else PE * xp["cp"]) + PE * (xp["split"] + xp["out"])
    elif const_w:
        # constant weights: a product depends on the input and the weight value only, so
        # equal (input, weight) pairs share one register
        nvals = 2 if mode in ("wbip", "xbip") else (1 << WB)
        ff += min(lanes, SIMD * min(PE, nvals)) * prw
    else:
        ff += lanes * prw  # prodq
    if xp is None and (not absorb or SIMD > 1):
        ff += PE * min(ACC, prw + TL)  # dot2 (extension bits merge with the top bit)
    if treg and xp is None:
        ts = (TL + 1) // 2
        split = PE * _tree_n(SIMD, ts - 1) * min(ACC, prw + ts - 1)  # tree split register
        # beside DSP48E1 cascades about half of it is absorbed (measured: 220 of 280 kept
        # for 4 x 9 lanes, ~1/3 for 2 x 9)
        ff += split // 2 if absorb else split
    P.ff += ff
    # ---- LUT features
    P.feat("const", 1)
    P.feat("ctl", sfw + nfw + waw)
    if NF > 1:
        P.feat("xmux", SIMD * IB)
    tag = "c" if const_w else ""
    if dsp_per:
        P.feat("lane_dsp", lanes)
    elif mode == "mul":
        P.feat(tag + "lane_mul", lanes * IB * WB)
    elif mode in ("wbip", "xbip"):
        P.feat(tag + "lane_neg", lanes * (IB if mode == "wbip" else WB))
    else:
        # XNOR: group LUTs and the adders up to the CP register (shared between PEs with
        # constant weights), the adders after it
        k = 1 if xp["shared"] else PE
        P.feat(tag + "xgrp", k * (xp["grp"] + xp["adder_pre"]))
        P.feat("xtree", PE * xp["adder"])
    # balanced adder tree: level l has ceil(SIMD / 2^l) nodes of width prw + l (<= ACC)
    tree = 0.0
    n = SIMD
    for lv in range(1, TL + 1):
        tree += (n // 2) * min(ACC, prw + lv)
        n = (n + 1) // 2
    if tree and xp is None:
        P.feat("tree_dsp" if dsp_per else "tree", PE * tree)
    P.feat("acc", PE * ACC)
    if NT:
        P.feat("cmp_const" if NF == 1 else "cmp", nt_live * ACC)
        P.feat("cnt", nt_live)
    elif mode == "xnor":
        P.feat("xnor_out", PE * ACC)
    return P


def _live_thresholds(words, n: int, bits: int, lo, hi):
    """Threshold words with the lanes of dead comparators zeroed, and the number of live
    comparators: a comparator is dead when its threshold is <= ``lo`` in every word
    (always true) or > ``hi`` in every word (never true)."""
    mask = (1 << bits) - 1
    dead = 0
    keep = 0
    for k in range(n):
        vals = [((w >> (k * bits)) & mask) for w in words]
        vals = [v - (1 << bits) if v >> (bits - 1) else v for v in vals]
        if all(v <= lo for v in vals) or (hi is not None and all(v > hi for v in vals)):
            dead += 1
        else:
            keep |= mask << (k * bits)
    return [w & keep for w in words], float(n - dead)


def _mem_words(files, name):
    """Words of a $readmemh text in ``files`` ({name: text}), or None."""
    if not files or not name or name not in files:
        return None
    return [int(t, 16) for t in files[name].split() if t and not t.startswith("//")]


def _const_lanes_removed(words, width: int) -> int:
    """Width of a ROM after Yosys' opt_mem drops the lanes that are constant."""
    if not words:
        return width
    all_or = 0
    all_and = (1 << width) - 1
    for w in words:
        all_or |= w
        all_and &= w
    const = (~all_or & ((1 << width) - 1)) | all_and
    return width - bin(const).count("1")


def _bw(v: int) -> int:
    """qloom_swg's bw(): bits of an unsigned value (at least 1)."""
    return _clog2(v + 1) if v > 1 else 1


def swg_geometry(IFM_DIM_H=5, IFM_DIM_W=5, CHANNELS=2, SIMD=1, K_H=3, K_W=3, S_H=1, S_W=1,
                 PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0, **_) -> dict:
    """The localparams of qloom_swg.v: R rows, DEPTH words, counter widths."""
    CF = CHANNELS // SIMD
    OFM_H = (IFM_DIM_H + PAD_T + PAD_B - K_H) // S_H + 1
    OFM_W = (IFM_DIM_W + PAD_L + PAD_R - K_W) // S_W + 1
    ROWW = IFM_DIM_W * CF
    need0 = min(max(K_H - PAD_T, 0), IFM_DIM_H)
    last_lo = min(max((OFM_H - 1) * S_H - PAD_T, 0), IFM_DIM_H)
    left = IFM_DIM_H - last_lo
    R = max(left + need0, K_H + S_H)
    if OFM_H * OFM_W * K_H * K_W * CF < 2 * IFM_DIM_H * ROWW:
        R += 1  # a spare row when (nearly) input-bound
    depth = R * ROWW
    aw = _clog2(depth) if depth > 1 else 1
    g = dict(R=R, DEPTH=depth, AW=aw, ROWW=ROWW, CF=CF, OFM_H=OFM_H, OFM_W=OFM_W,
             RW=_bw(4 * (IFM_DIM_H + PAD_T + PAD_B + K_H + S_H + R)) + 1,
             XW=_bw(2 * (IFM_DIM_W + PAD_L + PAD_R + K_W + S_W)) + 1,
             CW=_bw(2 * (IFM_DIM_W + PAD_L + PAD_R + K_W + S_W) * CF) + 1,
             CFW=_bw(CF - 1), KXW=_bw(K_W - 1), KYW=_bw(K_H - 1), OXW=_bw(OFM_W - 1),
             OYW=_bw(OFM_H - 1), WCW=_bw(ROWW - 1))
    return g


def parts_qloom_swg(IFM_DIM_H=5, IFM_DIM_W=5, CHANNELS=2, SIMD=1, K_H=3, K_W=3, S_H=1, S_W=1,
                    PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0, ELEM_BITS=8, RAM_STYLE="auto",
                    family="xc7", **_) -> Parts:
    """qloom_swg: a line buffer of R rows (R * IFM_DIM_W * CF words of SIMD*ELEM_BITS),
    incremental row/column/address counters (no multipliers), a 5-word output FIFO."""
    P = Parts("qloom_swg")
    g = swg_geometry(IFM_DIM_H, IFM_DIM_W, CHANNELS, SIMD, K_H, K_W, S_H, S_W,
                     PAD_T, PAD_B, PAD_L, PAD_R)
    DW = SIMD * ELEM_BITS
    P.add_mem(Mem("linebuf", g["DEPTH"], DW, style=str(RAM_STYLE)), family)
    P.add(parts_qloom_fifo(WIDTH=DW, DEPTH=5, RAM_STYLE="distributed", family=family))
    RW, AW, XW, CW = g["RW"], g["AW"], g["XW"], g["CW"]
    ctr = (g["OXW"] if g["OFM_W"] > 1 else 0) + (g["OYW"] if g["OFM_H"] > 1 else 0) + g["WCW"]
    ctr += (g["CFW"] if g["CF"] > 1 else 0) + (g["KXW"] if K_W > 1 else 0) + (g["KYW"] if K_H > 1 else 0)
    # row bases are multiples of ROWW: their low bits are constant
    roww = g["ROWW"]
    tz = (roww & -roww).bit_length() - 1
    base = max(AW - tz, 1)
    # wrows rlimit cur/nx need lim iy0 (8 RW), iy; cur/nx base, rbase; waddr; ix0 ix (2 XW;
    # one when K_W = 1), cb col (2 CW), loop counters, row_open, pending(3), v1, pad1
    xw = (2 if K_W > 1 else 1) * XW - (XW if g["OFM_W"] == 1 and K_W > 1 else 0)
    cw = 2 * CW - (CW if g["OFM_W"] == 1 else 0)
    P.ff += 9 * RW + 3 * base + AW + xw + cw + ctr + 1 + 3 + 2
    P.feat("const", 1)
    P.feat("rw", RW)
    P.feat("aw", AW)
    P.feat("xcw", XW + CW)
    P.feat("ctr", ctr)
    P.feat("dw", DW)
    P.feat("tab", g["OFM_H"] * RW)
    return P


def parts_qloom_swg_pw(IFM_DIM_H=5, IFM_DIM_W=5, CHANNELS=2, K_H=3, K_W=3, S_H=1, S_W=1,
                       PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0, ELEM_BITS=8, RAM_STYLE="auto",
                       family="xc7", **_) -> Parts:
    """qloom_swg_pw (parallel window): K_H - 1 line buffers of IFM_DIM_W pixels (one word
    = CHANNELS*ELEM_BITS bits, synchronous read register), a K_H*K_W-pixel window register
    and the output register (a 2:1 load mux per bit: the LUT bulk), a 1-pixel input skid
    (a zero/skid mux per bit), scan and stride-phase counters."""
    P = Parts("qloom_swg_pw")
    DW = CHANNELS * ELEM_BITS
    WP = IFM_DIM_W + PAD_L + PAD_R
    HP = IFM_DIM_H + PAD_T + PAD_B
    OWB = K_H * K_W * DW
    for _k in range(K_H - 1):
        if WP == 1:
            pass  # W = 1 without side padding: a register per line, equal to a window column
        else:
            mp = P.add_mem(Mem("linebuf", IFM_DIM_W, DW, style=str(RAM_STYLE)), family)
            if family == "ecp5" and mp.kind == "block":
                # measured: no extra registers beside the DP16KD here (its output register
                # takes the read enable and the pad-column reset)
                P.ff -= 2 * DW + 9
    # x y, wa (only addresses line buffers), stride phases (constant 0 without kernel/stride > 1)
    ctr = (_bw(WP - 1) if WP > 1 else 0) + (_bw(HP - 1) if HP > 1 else 0)
    ctr += _bw(IFM_DIM_W - 1) if IFM_DIM_W > 1 and K_H > 1 else 0
    ctr += (_bw(max(K_W, S_W) - 1) if max(K_W, S_W) > 1 else 0)
    ctr += (_bw(max(K_H, S_H) - 1) if max(K_H, S_H) > 1 else 0)
    early = K_H - 1 < PAD_T or (K_H - 1 == PAD_T and K_W - 1 < PAD_L)
    # window + out0, input skid, counters, xreal yreal rdy v0 pend (+ pre)
    P.ff += 2 * OWB + DW + ctr + 5 + (1 if early else 0)
    P.feat("const", 1)
    P.feat("ctr", ctr)
    P.feat("win", OWB)
    P.feat("px", DW)
    return P


def parts_qloom_maxpool_pw(IFM_DIM_H=4, IFM_DIM_W=4, CHANNELS=1, K_H=2, K_W=None, S_H=None,
                           S_W=None, ELEM_BITS=8, SIGNED=0, RAM_STYLE="auto", family="xc7",
                           **_) -> Parts:
    """qloom_maxpool_pw: qloom_swg_pw + a chain of K_H*K_W - 1 compare/selects per channel
    (feature "cmp" = compared bits; about 2 LUT per bit on xc7, fitted to 4 Yosys runs)
    + a 2-word distributed qloom_fifo of CHANNELS*ELEM_BITS bits."""
    K_W = K_H if K_W is None else K_W
    S_H = K_H if S_H is None else S_H
    S_W = K_W if S_W is None else S_W
    P = Parts("qloom_maxpool_pw")
    P.add(parts_qloom_swg_pw(IFM_DIM_H=IFM_DIM_H, IFM_DIM_W=IFM_DIM_W, CHANNELS=CHANNELS,
                             K_H=K_H, K_W=K_W, S_H=S_H, S_W=S_W, ELEM_BITS=ELEM_BITS,
                             RAM_STYLE=RAM_STYLE, family=family))
    P.add(parts_qloom_fifo(WIDTH=CHANNELS * ELEM_BITS, DEPTH=2, RAM_STYLE="distributed", family=family))
    P.feat("cmp", CHANNELS * (K_H * K_W - 1) * ELEM_BITS)
    return P


def parts_qloom_pool_reduce(WINDOW=4, CF=1, PE=1, ELEM_BITS=8, SIGNED=0, MODE=0, OUT_BITS=8,
                            family="xc7", **_) -> Parts:
    """qloom_pool_reduce: CF partial results (LUT-RAM, read and written at the same
    address), PE max/add units, a 5-word output FIFO."""
    P = Parts("qloom_pool_reduce")
    OB = OUT_BITS
    # part[cf] is read combinationally at the address register cf: Yosys moves that
    # register into a synchronous read port that must see the write of the previous beat
    P.add_mem(Mem("part", CF, PE * OB, trans=True), family)
    P.add(parts_qloom_fifo(WIDTH=PE * OB, DEPTH=5, RAM_STYLE="distributed", family=family))
    P.ff += _clog2(CF) + _clog2(WINDOW) + 3 + 1 + PE * OB  # cf, w, pending, ov, o
    P.feat("const", 1)
    P.feat("max" if MODE == 0 else "add", PE * OB)
    return P


def _pool_common(IFM_DIM_H, IFM_DIM_W, CHANNELS, PE, K_H, K_W, S_H, S_W, ELEM_BITS, SIGNED,
                 RAM_STYLE, family, mode, out_bits, pads=(0, 0, 0, 0)) -> Parts:
    P = Parts("pool")
    t, b, l, r = pads
    P.add(parts_qloom_swg(IFM_DIM_H=IFM_DIM_H, IFM_DIM_W=IFM_DIM_W, CHANNELS=CHANNELS, SIMD=PE,
                          K_H=K_H, K_W=K_W, S_H=S_H, S_W=S_W, PAD_T=t, PAD_B=b, PAD_L=l, PAD_R=r,
                          ELEM_BITS=ELEM_BITS, RAM_STYLE=RAM_STYLE, family=family))
    P.add(parts_qloom_pool_reduce(WINDOW=K_H * K_W, CF=CHANNELS // PE, PE=PE, ELEM_BITS=ELEM_BITS,
                                  SIGNED=SIGNED, MODE=mode, OUT_BITS=out_bits, family=family))
    return P


def parts_qloom_maxpool(IFM_DIM_H=4, IFM_DIM_W=4, CHANNELS=1, PE=1, K_H=2, K_W=None, S_H=None,
                        S_W=None, ELEM_BITS=8, SIGNED=0, RAM_STYLE="auto", family="xc7", **_) -> Parts:
    K_W = K_H if K_W is None else K_W
    S_H = K_H if S_H is None else S_H
    S_W = K_W if S_W is None else S_W
    return _pool_common(IFM_DIM_H, IFM_DIM_W, CHANNELS, PE, K_H, K_W, S_H, S_W, ELEM_BITS, SIGNED,
                        RAM_STYLE, family, 0, ELEM_BITS)


def parts_qloom_sumpool(IFM_DIM_H=4, IFM_DIM_W=4, CHANNELS=1, PE=1, K_H=2, K_W=None, S_H=None,
                        S_W=None, PAD_T=0, PAD_B=0, PAD_L=0, PAD_R=0, ELEM_BITS=8, SIGNED=0,
                        OUT_BITS=None, RAM_STYLE="auto", family="xc7", **_) -> Parts:
    K_W = K_H if K_W is None else K_W
    S_H = K_H if S_H is None else S_H
    S_W = K_W if S_W is None else S_W
    if OUT_BITS is None:
        OUT_BITS = ELEM_BITS + (_clog2(K_H * K_W) if K_H * K_W > 1 else 0)
    return _pool_common(IFM_DIM_H, IFM_DIM_W, CHANNELS, PE, K_H, K_W, S_H, S_W, ELEM_BITS, SIGNED,
                        RAM_STYLE, family, 1, OUT_BITS, (PAD_T, PAD_B, PAD_L, PAD_R))


def parts_qloom_thresholding(CHANNELS=4, PE=1, IN_BITS=8, IN_SIGNED=1, T_BITS=9, NUM_THRESH=3,
                             OUT_BITS=2, RAM_STYLE="auto", family="xc7", files=None, THRESH_FILE="",
                             **_) -> Parts:
    """qloom_thresholding: NF x PE*NUM_THRESH*T_BITS threshold ROM, PE*NUM_THRESH
    comparators of CW = max(IN_BITS + 1, T_BITS) + 1 bits, a 5-word output FIFO."""
    P = Parts("qloom_thresholding")
    NF = CHANNELS // PE
    NT = NUM_THRESH
    cw = max(IN_BITS + 1, T_BITS) + 1
    TW = PE * NT * T_BITS
    twords = _mem_words(files, THRESH_FILE)
    live = float(PE * NT)
    dead_pe = 0
    if twords is not None:
        xlo = -(1 << (IN_BITS - 1)) if IN_SIGNED else 0
        xhi = (1 << (IN_BITS - 1)) - 1 if IN_SIGNED else (1 << IN_BITS) - 1
        per_pe = []
        for p in range(PE):
            sub = [(w >> (p * NT * T_BITS)) & ((1 << (NT * T_BITS)) - 1) for w in twords]
            per_pe.append(_live_thresholds(sub, NT, T_BITS, xlo, xhi)[1])
        twords, live = _live_thresholds(twords, PE * NT, T_BITS, xlo, xhi)
        dead_pe = sum(1 for n in per_pe if n == 0)
    tl = _const_lanes_removed(twords, TW) if twords is not None else TW
    style = "logic" if str(RAM_STYLE) == "distributed" else str(RAM_STYLE)
    P.add_mem(Mem("thresholds", NF, tl, rom=True, style=style, feature="rom_thr"), family, twords)
    P.add(parts_qloom_fifo(WIDTH=PE * OUT_BITS, DEPTH=5, RAM_STYLE="distributed", family=family))
    # nf pending v1 x1 ov o (the input lanes of a PE without live comparators are unused)
    P.ff += _clog2(NF) + 3 + 1 + (PE - dead_pe) * IN_BITS + 1 + PE * OUT_BITS
    P.feat("const", 1)
    P.feat("cmp_const" if NF == 1 else "cmp", live * cw)
    P.feat("cnt", live)
    return P


def parts_qloom_labelselect(NUM_LABELS=10, PE=1, IN_BITS=8, IN_SIGNED=1, K=1, IDX_BITS=None,
                            family="xc7", **_) -> Parts:
    """qloom_labelselect: a sorted list of K (value, index) pairs updated by K parallel
    comparisons per element, an output shift register of K indices."""
    P = Parts("qloom_labelselect")
    if IDX_BITS is None:
        IDX_BITS = _clog2(NUM_LABELS) if NUM_LABELS > 1 else 1
    vw = IN_BITS + 1
    lw = _clog2(PE)
    kw = _clog2(K)
    P.ff += PE * IN_BITS + 1 + lw + IDX_BITS + 1 + K * (vw + IDX_BITS + 1) + K * IDX_BITS + kw
    P.feat("const", 1)
    P.feat("hold", PE * IN_BITS if PE > 1 else 0)
    P.feat("list", K * (vw + IDX_BITS))
    return P


def parts_qloom_dwc(IN_WIDTH=8, OUT_WIDTH=16, family="xc7", **_) -> Parts:
    """qloom_dwc: up: OUT-IN assembly + OUT output flip-flops; down/equal: 2 x IN
    flip-flops and an IN/OUT : 1 output multiplexer."""
    P = Parts("qloom_dwc")
    P.feat("const", 1)
    if OUT_WIDTH > IN_WIDTH:
        n = OUT_WIDTH // IN_WIDTH
        P.ff += (OUT_WIDTH - IN_WIDTH) + OUT_WIDTH + _clog2(n) + 1
        P.feat("up_cnt", _clog2(n))
        P.feat("up_bits", OUT_WIDTH - IN_WIDTH)  # assembly register: a load mux per bit
    else:
        n = IN_WIDTH // OUT_WIDTH
        P.ff += 2 * IN_WIDTH + 2 + (_clog2(n) if n > 1 else 0)
        P.feat("down_sel", IN_WIDTH)  # head/spare input mux
        P.feat("down_mux", OUT_WIDTH * mux_luts(n))
    return P


# =====================================================================================
# coefficients (fitted by benchmarks/cost_model.py --fit) and evaluation
# =====================================================================================

# LUTs per unit of each feature, per family; ("mem", "lutram") is exact (1.0).
COEF: dict = {'ecp5': {'mem': {'_scale': 1.0471,
                  'logic': 1.0028,
                  'rom_t': 0.3831,
                  'rom_thr': 0.9773,
                  'rom_w': 1.5534},
          'qloom_dwc': {'_scale': 1.2126,
                        'const': 3.043,
                        'down_mux': 1.681,
                        'down_sel': 1.3801,
                        'up_bits': 1.3199,
                        'up_cnt': 0.3594},
          'qloom_fifo': {'_scale': 3.2465, 'fifo_ctl': 0.0, 'fifo_ptr': 3.8401},
          'qloom_labelselect': {'_scale': 2.1779, 'const': 0.0, 'hold': 1.3065, 'list': 3.5301},
          'qloom_mvau': {'_scale': 1.4787,
                         'acc': 0.7993,
                         'cmp': 1.1722,
                         'cmp_const': 0.4777,
                         'cnt': 5.7752,
                         'const': 46.8632,
                         'ctl': 0.0,
                         'lane_dsp': 11.4179,
                         'lane_mul': 1.5698,
                         'tree': 1.4965,
                         'tree_dsp': 0.0,
                         'xgrp': 2.3648,
                         'xmux': 1.9357,
                         'xtree': 0.7747},
          'qloom_pool_reduce': {'_scale': 1.2993, 'const': 9.3559, 'max': 2.2672},
          'qloom_swg': {'_scale': 2.0318,
                        'aw': 7.1455,
                        'const': 1.6031,
                        'ctr': 0.3552,
                        'dw': 1.1234,
                        'rw': 22.414,
                        'tab': 0.0337,
                        'xcw': 0.0},
          # qloom_swg_pw: fitted by hand to 4 synth_ecp5 runs (CCU2C counters count 2 LUT4)
          'qloom_swg_pw': {'const': 0.0, 'ctr': 3.93, 'px': 1.0, 'win': 1.0},
          'qloom_thresholding': {'_scale': 1.2191,
                                 'cmp': 1.0451,
                                 'cnt': 0.8694,
                                 'const': 25.3199}},
 'xc7': {'mem': {'logic': 1.2155,
                 'lutram': 1.0,
                 'rom_t': 0.3585,
                 'rom_thr': 0.8512,
                 'rom_w': 1.2325},
         'qloom_dwc': {'const': 2.4181,
                       'down_mux': 1.36,
                       'down_sel': 1.0727,
                       'up_bits': 1.1585,
                       'up_cnt': 0.2955},
         'qloom_fifo': {'fifo_ctl': 4.0593, 'fifo_ptr': 0.6324},
         'qloom_labelselect': {'const': 0.0, 'hold': 0.5554, 'list': 1.6433},
         'qloom_mvau': {'acc': 0.5384,
                        'clane_mul': 0.0,
                        'cmp': 1.1006,
                        'cmp_const': 0.2875,
                        'cnt': 0.0,
                        'const': 32.7394,
                        'ctl': 0.0,
                        'cxgrp': 0.0,
                        'lane_dsp': 7.7901,
                        'lane_mul': 1.1258,
                        'lane_neg': 1.3261,
                        'tree': 1.0286,
                        'tree_dsp': 0.0,
                        'xgrp': 1.2448,
                        'xmux': 1.3151,
                        'xnor_out': 0.0,
                        'xtree': 0.4078},
         'qloom_pool_reduce': {'add': 1.4804, 'const': 7.2201, 'max': 1.7465},
         'qloom_swg': {'aw': 3.5061,
                       'const': 0.7892,
                       'ctr': 0.1747,
                       'dw': 0.5525,
                       'rw': 11.3399,
                       'tab': 0.0,
                       'xcw': 0.0},
         # qloom_swg_pw: least squares over 6 synth_xilinx runs (max error 1.2 %)
         'qloom_swg_pw': {'const': 0.683, 'ctr': 1.4466, 'px': 0.9692, 'win': 1.0046},
         'qloom_thresholding': {'cmp': 0.8313,
                                'cmp_const': 0.221,
                                'cnt': 0.7269,
                                'const': 25.0632}},
 'xcup': {'mem': {'_scale': 0.9535,
                  'logic': 1.0808,
                  'rom_t': 0.3624,
                  'rom_thr': 0.9047,
                  'rom_w': 1.038},
          'qloom_dwc': {'_scale': 0.9685,
                        'const': 2.4036,
                        'down_mux': 1.3263,
                        'down_sel': 1.0617,
                        'up_bits': 1.0908,
                        'up_cnt': 0.2868},
          'qloom_fifo': {'_scale': 0.9606, 'fifo_ctl': 4.7143, 'fifo_ptr': 0.5627},
          'qloom_labelselect': {'_scale': 1.0091, 'const': 0.0, 'hold': 0.5763, 'list': 1.6496},
          'qloom_mvau': {'_scale': 0.9457,
                         'acc': 0.508,
                         'cmp': 0.9891,
                         'cnt': 0.0,
                         'const': 30.8829,
                         'ctl': 2.5741,
                         'lane_dsp': 7.3621,
                         'lane_mul': 1.0939,
                         'tree': 0.9987,
                         'tree_dsp': 0.0,
                         'xgrp': 1.2183,
                         'xmux': 1.2551,
                         'xtree': 0.3991},
          'qloom_pool_reduce': {'_scale': 1.1927, 'const': 8.598, 'max': 2.082},
          'qloom_swg': {'_scale': 0.9759,
                        'aw': 3.4745,
                        'const': 0.7699,
                        'ctr': 0.1707,
                        'dw': 0.5383,
                        'rw': 10.5537,
                        'tab': 0.0054,
                        'xcw': 0.2238},
          'qloom_swg_pw': {'_scale': 1.0},
          'qloom_thresholding': {'_scale': 0.853,
                                 'cmp': 0.696,
                                 'cnt': 0.6079,
                                 'const': 20.5108}}}


# qloom_maxpool_pw compare chain, xc7 (Yosys 0.70: 30x30x16 and 13x13x16 6-bit K2, 8x8x4
# 8-bit K3, 4x4x24 6-bit unsigned K2: 1.97-2.03 LUT per compared bit beyond swg_pw + fifo)
COEF["xc7"].setdefault("qloom_maxpool_pw", {"cmp": 2.0})


def _coef(family: str) -> dict:
    c = COEF.get(family)
    if c is None:
        c = COEF["xc7"]
    return c


def lut_of(P: Parts, family: str = "xc7") -> float:
    """LUTs of ``P``: its features times the family's coefficients; a feature the family
    has no coefficient for uses the xc7 one times the module's ``_scale`` (LUT-RAM LUTs
    are exact)."""
    C = _coef(family)
    base = COEF["xc7"]
    total = 0.0
    for (mod, k), v in P.lut.items():
        if (mod, k) == ("mem", "lutram"):
            total += v
            continue
        c = C.get(mod, {})
        if k in c:
            total += c[k] * v
        else:  # a feature the family's sweep has not fitted: scaled xc7 coefficient
            total += c.get("_scale", 1.0) * base.get(mod, {}).get(k, 0.0) * v
    return total


def parts(module: str, params: dict, family: str = "xc7", files=None) -> Parts:
    """The :class:`Parts` of ``module`` with Verilog ``params``."""
    fn = globals().get(f"parts_{module}")
    if fn is None:
        raise KeyError(f"no resource model for Verilog module {module!r}")
    p = dict(params)
    p.pop("family", None)
    return fn(family=family, files=files, **p)


def _result(P: Parts, family: str) -> dict:
    return {"LUT": int(round(lut_of(P, family))), "FF": int(round(P.ff)), "BRAM18": P.bram18,
            "URAM": 0, "DSP": int(P.dsp)}


def _make_res(module):
    def res(family: str = "xc7", files=None, **params) -> dict:
        return _result(parts(module, params, family, files), family)

    res.__name__ = f"res_{module}"
    res.__doc__ = (f"Resources of one ``{module}`` instance: "
                   f"{{'LUT', 'FF', 'BRAM18', 'URAM', 'DSP'}} (see :func:`parts_{module}`).")
    return res


MODULES = ("qloom_fifo", "qloom_mvau", "qloom_swg", "qloom_swg_pw", "qloom_pool_reduce", "qloom_maxpool",
           "qloom_maxpool_pw",
           "qloom_sumpool", "qloom_thresholding", "qloom_labelselect", "qloom_dwc")
res_qloom_fifo = _make_res("qloom_fifo")
res_qloom_mvau = _make_res("qloom_mvau")
res_qloom_swg = _make_res("qloom_swg")
res_qloom_swg_pw = _make_res("qloom_swg_pw")
res_qloom_pool_reduce = _make_res("qloom_pool_reduce")
res_qloom_maxpool = _make_res("qloom_maxpool")
res_qloom_maxpool_pw = _make_res("qloom_maxpool_pw")
res_qloom_sumpool = _make_res("qloom_sumpool")
res_qloom_thresholding = _make_res("qloom_thresholding")
res_qloom_labelselect = _make_res("qloom_labelselect")
res_qloom_dwc = _make_res("qloom_dwc")


def estimate(inst, family: str = "xc7", files=None) -> dict:
    """Resources of an :class:`~qloom.ops.base.RtlInstance` on ``family``.

    ``files``: optional memory contents {file name: $readmemh text}; with them the ROM
    widths after Yosys' constant-lane removal are exact, without them (the default, so
    that no memory file is built) every lane is assumed to vary."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {', '.join(FAMILIES)}")
    return _result(parts(inst.module, inst.params, family, files), family)


def memory_report(inst, family: str = "xc7", files=None) -> list[dict]:
    """How each memory of ``inst`` is mapped (name, depth, width, kind, RAM type, BRAM18)."""
    P = parts(inst.module, inst.params, family, files)
    return [{"name": m.name, "depth": m.depth, "width": m.width, "rom": m.rom, "kind": mp.kind,
             "ram": mp.ramdef, "bram18": mp.bram18, "cost": round(mp.cost, 2)} for m, mp, _ in P.mems]
