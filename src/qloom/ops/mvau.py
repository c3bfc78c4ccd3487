"""MVAU: integer matrix-vector products with fused
thresholds (FINN-R, Blott et al. 2018, Sec. 4: the Matrix-Vector-Activation Unit), and
everything about their Verilog ``qloom_mvau`` (rtl/verilog/qloom_mvau.v): cycles, pipeline
depth, latency rule, weight/threshold memory layout, instance parameters and resource model.

Folding (FINN-R Sec. 4.2): PE output rows and SIMD input columns in parallel; one input
vector takes (MH / PE) * (MW / SIMD) cycles. FINN requires MH % PE == 0 and MW % SIMD == 0;
qloom also takes lane counts that do not divide (a dense layer, :meth:`_MvauRtl.padded`):
the matrix is padded to MH' = ceil(MH/PE)*PE rows (copies of row 0, their outputs are
padding on the stream) and MW' = ceil(MW/SIMD)*SIMD columns (zero weights, so any padding
on the input stream adds nothing), and takes (MH'/PE) * (MW'/SIMD) cycles. E.g. 64 x 32 at
II <= 100 needs 21 lanes: divisors give 32 (PE 2 x SIMD 16, 64 cycles), padding 22 (PE 1 x
SIMD 22, MW' = 66, 96 cycles).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.cost.parts import Parts, cmp_bits, const_lanes_removed, mem_words
from qloom.cost.replay import Mem, cdiv, clog2, mul_dsps
from qloom.instance import RtlInstance, memh_text
from qloom.ops.base import (MUL_STYLES, RES_TYPES, THR_MEM_STYLES, HWOp, Knob, apply_thresholds,
                            bsearch_stages, divisors, padded_lanes, parts_bsearch, ram_style_knob, rom_parts,
                            threshold_files, threshold_illegal, threshold_knobs, weight_rom_words)
from qloom.ops.base import product_widths as mvau_product_widths
from qloom.ops.fifo import parts_qloom_fifo
from qloom.ops.mvau_const import (DEFAULT_REG_LEVELS, REG_LEVELS, const_instance, const_layer,
                                  latency_qloom_mvau_const, parts_qloom_mvau_const, requantizer,
                                  row_acc_ranges)
from qloom.stream import serve
from qloom.types import IntType

# How far Verilator may be from cycles_/latency_qloom_mvau for a run of frames (relative,
# cycles): measured at most 1 cycle off (tests/rtl/test_qloom_mvau.py)
CYCLE_TOLERANCE = {"qloom_mvau": (0.0, 1)}
# the constant-weight unit's limit: the CMVM solver takes ~7 s for 2,048 weights
CONST_MAX_WEIGHTS = 4096
# resType "bitplane": qloom_mvau's MUL_STYLE 3 (qloom_dot_bitplane: W_BITS*IN_BITS
# AND-popcounts per PE instead of products + adder tree); searched while the plane pairs
# stay few (measured on xc7: 2x2 bits at SIMD 64 take 0.54x the LUTs of LUT products)
BITPLANE_MAX_PLANES = 4
# LUT products (qloom_mul_lane) wider than this many bits on either side: feature lane_mul_wide
MUL_WIDE_BITS = 4



# thr_style "requant" (qloom_thr_requant): the largest shift searched per channel and the
# widest multiplier M (M < 2^24 and a signed accumulator of at most 18 bits: one
# DSP48E1 25 x 18 product)
RQ_MAX_SHIFT = 30
RQ_MAX_MB = 24
RQ_STAGES = 2  # qloom_thr_requant's latency beyond the C3 register (3 cycles in all)
THR_STYLE_CODES = {"parallel": 0, "binsearch": 1, "requant": 2}  # thr_style -> THR_STYLE

# ----------------------------------------------------------------------------------------
# qloom_mvau: cycles, pipeline, memory layout (the RTL tests check these same functions)
# ----------------------------------------------------------------------------------------

def cycles_qloom_mvau(p) -> int:
    """qloom_mvau cycles per input vector: one weight word per cycle, II = (MH/PE) * (MW/SIMD)
    (FINN-R Sec. 4.2). ``p``: the module's Verilog parameters."""
    return (p["MH"] // p["PE"]) * (p["MW"] // p["SIMD"])


def pipeline_depth(SIMD: int, NUM_THRESH: int, THR_STAGES: int = 0) -> int:
    """Cycles from an input beat to its result leaving qloom_mvau's pipeline (ROUND_TRIP in
    the Verilog): 9, +1 for the adder-tree register when SIMD > 4, +1 with thresholds,
    + THR_STAGES (the binary search's compare stages, ``bsearch_stages``) with THR_STYLE 1."""
    return 9 + (1 if SIMD > 4 else 0) + (1 if NUM_THRESH > 0 else 0) + (THR_STAGES if NUM_THRESH > 0 else 0)


def thr_stages(NUM_THRESH: int, THR_STYLE: int) -> int:
    """Cycles the threshold unit adds to qloom_mvau's pipeline: the binary search's compare
    stages (THR_STYLE 1, ``bsearch_stages``), RQ_STAGES for the requantizer (THR_STYLE 2),
    0 for the parallel bank."""
    if not NUM_THRESH or not THR_STYLE:
        return 0
    return RQ_STAGES if THR_STYLE == 2 else bsearch_stages(NUM_THRESH)


def latency_qloom_mvau(p) -> int:
    """First input beat of an isolated vector -> its last output beat, beyond the II."""
    return pipeline_depth(p["SIMD"], p["NUM_THRESH"], thr_stages(p["NUM_THRESH"], p.get("THR_STYLE", 0)))


@dataclass(frozen=True)
class Requant:
    """The per-channel requantizer of thr_style "requant" (qloom_thr_requant): for channel
    c, ``clip((acc * M[c] + B[c]) >> shift, cmin[c], cmax[c])`` (floor shift) equals the
    threshold count on the channel's reachable accumulator range. int64 arrays of MH
    entries; ``mb``/``bb``: bits of M (unsigned) and B (signed)."""

    M: np.ndarray
    B: np.ndarray
    cmin: np.ndarray
    cmax: np.ndarray
    shift: int
    mb: int
    bb: int


def requant_params(T, lo, hi) -> Requant | None:
    """The :class:`Requant` of an (MH x NUM_THRESH) ascending threshold array on per-channel
    accumulator ranges ``lo[c]..hi[c]``, or None when a channel has no exact requantizer
    (``qloom.ops.mvau_const.requantizer``, shifts up to RQ_MAX_SHIFT) or M needs more than
    RQ_MAX_MB bits. One shift for the layer: the largest channel shift S, every other
    channel's (M, B) scaled by 2^(S - S_c) (exact: floor((aM 2^k + B 2^k) / 2^(S_c + k))
    = floor((aM + B) / 2^S_c))."""
    rows = []
    for t, a, b in zip(np.asarray(T), lo, hi):
        r = requantizer(t, int(a), int(b), RQ_MAX_SHIFT)
        if r is None:
            return None
        rows.append(r)
    S = max(r[2] for r in rows)
    M = np.array([r[0] << (S - r[2]) for r in rows], dtype=np.int64)
    B = np.array([r[1] << (S - r[2]) for r in rows], dtype=np.int64)
    mb = max(1, int(M.max()).bit_length())
    if mb > RQ_MAX_MB:
        return None
    bb = IntType.for_range(min(int(B.min()), -1), max(int(B.max()), 0)).bits
    return Requant(M, B, np.array([r[3] for r in rows], np.int64), np.array([r[4] for r in rows], np.int64),
                   int(S), mb, bb)


def requant_words(rq: Requant, PE: int, CB: int) -> list[int]:
    """qloom_thr_requant's parameter memory: NF = MH / PE words, lane p of word nf at
    ``[p*RW +: RW]`` (RW = mb + bb + 2*CB) = {cmax, cmin, B (two's complement), M} of
    channel nf*PE + p, M in the low bits. Raises ValueError when MH % PE != 0 or a clip
    bound does not fit CB bits."""
    mh = len(rq.M)
    if mh % PE:
        raise ValueError(f"{mh} channels are not a multiple of PE = {PE}")
    if int(rq.cmax.max()) >> CB or int(rq.cmin.min()) < 0:
        raise ValueError(f"requantizer clip bounds do not fit {CB} bits")
    rw = rq.mb + rq.bb + 2 * CB
    words = []
    for nf in range(mh // PE):
        w = 0
        for p in range(PE):
            c = nf * PE + p
            lane = (int(rq.M[c]) | ((int(rq.B[c]) & ((1 << rq.bb) - 1)) << rq.mb)
                    | (int(rq.cmin[c]) << (rq.mb + rq.bb)) | (int(rq.cmax[c]) << (rq.mb + rq.bb + CB)))
            w |= lane << (p * rw)
        words.append(w)
    return words


def mvau_credits(SF: int, depth: int) -> int:
    """Output beats in flight that qloom_mvau's output FIFO must hold: ceil(depth / SF) + 1."""
    return cdiv(depth, SF) + 1


def mvau_weight_words(W, PE: int, SIMD: int, W_BITS: int, bipolar: bool = False) -> list[int]:
    """Weight ROM words of ``qloom_mvau`` for an MH x MW integer matrix ``W``: NF*SF words,
    word ``nf*SF + sf``, weight ``(p, s)`` at bits ``[(p*SIMD + s)*W_BITS +: W_BITS]`` =
    ``W[nf*PE + p][sf*SIMD + s]``. Bipolar weights are given as -1/+1 (stored as 0/1,
    ``W_BITS`` must be 1). Raises ValueError on a layout violation."""
    return weight_rom_words(W, PE, SIMD, "rc", W_BITS, bipolar)


# DSP packing (resType "dsp_packed", qloom_mul_pack): at most this many products per DSP
PACK_MAX = 4


def pack_field_bits(IN_BITS: int, IN_SIGNED: int, W_BITS: int, W_SIGNED: int) -> int:
    """Width S of one packed product field: the bit width of the product range x * w
    (two's complement when either operand is signed, else unsigned)."""
    xl, xh = (-(1 << (IN_BITS - 1)), (1 << (IN_BITS - 1)) - 1) if IN_SIGNED else (0, (1 << IN_BITS) - 1)
    wl, wh = (-(1 << (W_BITS - 1)), (1 << (W_BITS - 1)) - 1) if W_SIGNED else (0, (1 << W_BITS) - 1)
    ps = [a * b for a in (xl, xh) for b in (wl, wh)]
    lo, hi = min(ps), max(ps)
    if IN_SIGNED or W_SIGNED:
        return max(2, IntType.for_range(min(lo, -1), hi).bits)
    return max(2, int(hi).bit_length())


def pack_operand_widths(IN_BITS: int, IN_SIGNED: int, W_BITS: int, K: int, S: int) -> tuple[int, int]:
    """(packed weight operand, activation operand) widths of qloom_mul_pack's signed
    multiplier: (K-1)*S + W_BITS + 1 and IN_BITS (+1 for an unsigned input)."""
    return (K - 1) * S + W_BITS + 1, IN_BITS + (0 if IN_SIGNED else 1)


def pack_dsps(IN_BITS: int, IN_SIGNED: int, W_BITS: int, K: int, S: int, family: str = "xc7") -> int:
    """DSP blocks of one qloom_mul_pack multiplier (Yosys' rule, ``mul_dsps``; 1 when
    :func:`dsp_pack` chose K for ``family``). Only the K fields of the product are read
    (K*S bits): Yosys drops the unused top bits (opt_clean, wreduce) before mul2dsp, so a
    product of fewer than 9 used bits stays in LUTs (e.g. s2 x s2 at K = 2: 8 bits; seen on
    CNV-W2A2's MVAU_6, 0 DSP in Yosys against 2 modelled before)."""
    aw, xw = pack_operand_widths(IN_BITS, IN_SIGNED, W_BITS, K, S)
    return mul_dsps(aw, True, xw, True, min(aw + xw, K * S), family)


def dsp_pack(IN_BITS: int, IN_SIGNED: int, W_BITS: int, W_SIGNED: int, PE: int,
             family: str = "xc7") -> tuple[int, int] | None:
    """(K, S): products per DSP multiplier and field width of resType "dsp_packed" --
    the largest K <= min(PE, PACK_MAX) whose packed operand ((K-1)*S + W_BITS + 1 bits,
    :func:`pack_operand_widths`) and input still map to ONE DSP block of ``family``
    (``qloom.cost.replay.mul_dsps``: 25 x 18 on DSP48E1, 27 x 18 on DSP48E2). None when
    not even two products fit (e.g. 8-bit x 8-bit: S = 16, 16 + 8 + 1 > 25) or PE < 2.
    Method: Xilinx WP486 (two INT8 products sharing one operand, sign-borrow correction),
    generalised to K fields (Sommer et al., FPL 2022, Sec. III)."""
    S = pack_field_bits(IN_BITS, IN_SIGNED, W_BITS, W_SIGNED)
    best = None
    for K in range(2, min(PE, PACK_MAX) + 1):
        if pack_dsps(IN_BITS, IN_SIGNED, W_BITS, K, S, family) == 1:
            best = (K, S)
    return best


def xnor_popcount_thresholds(T, MW: int):
    """Accumulator-domain thresholds -> popcount domain for the XNOR MVAU: with
    pop = #{i: w_i == x_i} the dot product is 2*pop - MW, and
    ``dot >= t  <=>  pop >= ceil((t + MW) / 2)``."""
    T = np.asarray(T, dtype=np.int64)
    return -((-(T + MW)) // 2)


def pad_matrix(W, thresholds, rq: Requant | None, MH: int, MW: int):
    """The padded matrix of a non-divisor folding: ``W`` (MH0 x MW0) -> (MH x MW), zero
    columns on the right (they weigh the input stream's padding zero) and copies of row 0
    below (their outputs are the output stream's padding, dropped or weighted zero by the
    consumer); the thresholds (rows) and the :class:`Requant` arrays padded with row 0
    likewise. Returns (W, thresholds, rq)."""
    mh0, mw0 = W.shape
    rows = np.r_[np.arange(mh0), np.zeros(MH - mh0, dtype=np.int64)]
    Wp = np.zeros((MH, MW), dtype=W.dtype)
    Wp[:, :mw0] = W[rows]
    T = None if thresholds is None else np.asarray(thresholds)[rows]
    if rq is not None:
        rq = Requant(rq.M[rows], rq.B[rows], rq.cmin[rows], rq.cmax[rows], rq.shift, rq.mb, rq.bb)
    return Wp, T, rq


def mvau_instance(name, weights, wtype: IntType, in_type: IntType, thresholds, out_bias: int,
                  out_type: IntType, acc_type: IntType, fold: dict, requant: Requant | None = None) -> RtlInstance:
    """Parameters and memory files of a ``qloom_mvau`` instance. With bipolar weights and inputs the datapath is
    XNOR-popcount and the thresholds are converted to the popcount domain. ``thr_style``
    "requant" needs ``requant`` (:func:`requant_params` of the thresholds; ValueError
    without it)."""
    pe, simd = int(fold.get("PE", 1)), int(fold.get("SIMD", 1))
    mh, mw = weights.shape
    xnor = wtype.bipolar and in_type.bipolar
    nt = 0 if thresholds is None else int(thresholds.shape[1])
    if xnor:
        acc_bits = IntType.for_range(-mw - 1, mw + 1).bits
        thr = None if thresholds is None else xnor_popcount_thresholds(thresholds, mw)
    else:
        thr = thresholds
        lo, hi = acc_type.min, acc_type.max
        if thr is not None:
            lo, hi = min(lo, int(thr.min())), max(hi, int(thr.max()))
        acc_bits = max(IntType.for_range(min(lo, -1), hi).bits, 2)  # a signed accumulator
    if thr is not None:  # clamp thresholds that can never or always fire into range
        thr = np.clip(thr, -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1)
    wfile, tfile = f"{name}_weights.mem", f"{name}_thresholds.mem"

    # binary search: ACC_BITS + 1-bit stage words (the pad exceeds every accumulator)
    style = THR_STYLE_CODES[fold.get("thr_style", "parallel")] if nt else 0
    bs = style == 1
    tprefix = f"{name}_thresholds"
    S = bsearch_stages(nt) if bs else 0
    if style == 2 and requant is None:
        raise ValueError(f"{name}: thr_style requant needs the layer's requantizer")
    rqfile = f"{name}_requant.mem"

    def thr_files():
        if style == 2:
            return {rqfile: memh_text(requant_words(requant, pe, bsearch_stages(nt)),
                                      pe * (requant.mb + requant.bb + 2 * bsearch_stages(nt)))}
        if bs:
            return threshold_files(thr, pe, acc_bits + 1, tprefix, True)
        return threshold_files(thr, pe, acc_bits, tfile, False) if nt else {}

    def make_files():
        files = {wfile: memh_text(mvau_weight_words(weights, pe, simd, wtype.bits, bipolar=wtype.bipolar),
                                  pe * simd * wtype.bits)}
        files.update(thr_files())
        return files

    out_bits = out_type.bits if nt else acc_bits
    params = dict(MW=mw, MH=mh, PE=pe, SIMD=simd, IN_BITS=in_type.bits,
                  IN_SIGNED=int(in_type.signed and not in_type.bipolar), IN_BIPOLAR=int(in_type.bipolar),
                  W_BITS=wtype.bits, W_SIGNED=int(wtype.signed and not wtype.bipolar),
                  W_BIPOLAR=int(wtype.bipolar), ACC_BITS=acc_bits, NUM_THRESH=nt,
                  OUT_BITS=out_bits, OUT_SIGNED=int(out_type.signed if nt else 1),
                  OUT_BIAS=int(out_bias) if nt and not out_type.bipolar else 0,
                  WEIGHT_FILE=wfile, THRESH_FILE=tfile if nt else "",
                  RAM_STYLE=fold.get("ram_style", "auto"))
    depth = pipeline_depth(simd, nt, thr_stages(nt, style))  # the pipeline qloom_mvau.v implements
    params.update(ROUND_TRIP=depth, CREDITS=mvau_credits(mw // simd, depth))
    if not xnor and not wtype.bipolar and not in_type.bipolar:  # integer products
        rt = fold.get("resType", "auto")
        params["MUL_STYLE"] = MUL_STYLES[rt]
        if rt == "dsp_packed":
            pk = dsp_pack(params["IN_BITS"], params["IN_SIGNED"], wtype.bits, params["W_SIGNED"], pe)
            if pk is None:
                raise ValueError(f"{name}: resType dsp_packed does not fit these widths (see dsp_pack)")
            params.update(PACK_K=pk[0], PACK_S=pk[1])
    names = (wfile, tfile) if nt else (wfile,)
    if bs:
        params.update(THRESH_FILE=tprefix, THR_STYLE=1, THR_RAM_STYLE=THR_MEM_STYLES[fold.get("thr_mem", "lut")])
        names = (wfile,) + tuple(f"{tprefix}_s{k}.mem" for k in range(S))
    if style == 2:
        params.update(THRESH_FILE=rqfile, THR_STYLE=2, THR_RAM_STYLE="distributed", RQ_MB=requant.mb,
                      RQ_BB=requant.bb, RQ_SHIFT=requant.shift)
        names = (wfile, rqfile)
    return RtlInstance("qloom_mvau", params, in_type.bits, out_bits,
                       bool(out_type.signed if nt else True) and not (nt and out_type.bipolar),
                       make_files, names, model_files=thr_files if nt else None)


# ----------------------------------------------------------------------------------------
# qloom_mvau resource model (FINN-R Sec. 5 MVAU LUT model; coefficients in qloom/cost/coef)
# ----------------------------------------------------------------------------------------

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
    XG = cdiv(SIMD, 3)
    XTL = clog2(XG)
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


def bitplane_sum_bits(IB: int, IN_SIGNED: int, WB: int, W_SIGNED: int, SIMD: int, ACC: int) -> int:
    """Adder bits of qloom_dot_bitplane's weighting per PE: the positive and the negative
    plane-pair counts (2 + ceil(log2(ceil(SIMD/3))) bits, shifted by j + k) each summed by a
    chain (an add is as wide as its running sum, at most ACC bits), then pos - neg
    (ACC bits)."""
    xw = 2 + clog2(cdiv(SIMD, 3))
    bits = ACC
    for neg in (0, 1):
        run = 0
        for j in range(WB):
            for k in range(IB):
                sign = int(bool(W_SIGNED) and j == WB - 1) ^ int(bool(IN_SIGNED) and k == IB - 1)
                if sign != neg:
                    continue
                w = min(ACC, xw + j + k)
                if run:
                    w = min(ACC, max(run, w) + 1)
                    bits += w
                run = w
    return bits


def parts_requant(P0: Parts, family: str, PE: int, NF: int, XW: int, MB: int, BB: int, CB: int,
                  SHIFT: int, words=None) -> None:
    """qloom_thr_requant added to ``P0``: its parameter ROM (NF words of PE*(MB + BB + 2*CB)
    bits in LUTs, constant lanes removed when ``words`` are known; feature ``rom_rq``), per
    lane one XW x (MB+1) signed product + bias (DSP blocks by Yosys' rule, ``mul_dsps``:
    one DSP48E1 holds the product, its operand registers and the bias add; in LUTs
    otherwise, feature ``rq_mul``: XW * (MB+1) partial-product bits), and the clip
    (feature ``rq_clip``: the quotient's compare bits against both bounds + the count's
    select)."""
    P = Parts("qloom_thr_requant")
    rw = MB + BB + 2 * CB
    lanes = const_lanes_removed(words, PE * rw) if words is not None else PE * rw
    P.add_mem(Mem("rq", NF, lanes, rom=True, style="logic", feature="rom_rq"), family, words)
    yw = max(XW + MB + 1, BB) + 1
    qx = max(max(yw - SHIFT, 1), CB) + 1
    d = mul_dsps(XW, True, MB + 1, True, yw, family)
    P.dsp = PE * d
    if not d:
        P.feat("rq_mul", PE * XW * (MB + 1))
    P.feat("rq_clip", PE * (2 * qx + CB))
    # v, the ROM read (its registered copy w0 when it is a LUT ROM's output), the bounds
    # beside the product, the count; operand and product registers sit in the DSP
    P.ff += 3 + PE * (3 * CB) + (0 if d else PE * (XW + yw))
    P0.add(P)


def parts_qloom_mvau(MW=4, MH=4, PE=1, SIMD=1, IN_BITS=4, IN_SIGNED=0, IN_BIPOLAR=0, W_BITS=4,
                     W_SIGNED=1, W_BIPOLAR=0, ACC_BITS=16, NUM_THRESH=0, OUT_BITS=4,
                     OUT_SIGNED=1, OUT_BIAS=0, RAM_STYLE="auto", MUL_STYLE=0, WEIGHT_FILE="",
                     THRESH_FILE="", ROUND_TRIP=None, CREDITS=None, OB=None, THR_STYLE=0,
                     THR_RAM_STYLE="distributed", PACK_K=2, PACK_S=None, RQ_MB=8, RQ_BB=16, RQ_SHIFT=8,
                     family="xc7", files=None) -> Parts:
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
    wwords = mem_words(files, WEIGHT_FILE)
    # a threshold unit after the accumulator instead of the parallel compare bank: the
    # binary search (THR_STYLE 1) or the requantizer (THR_STYLE 2), both with nf3
    unit = bool(NT) and bool(THR_STYLE)
    twords = mem_words(files, THRESH_FILE) if NT and not unit else None
    D = NF * SF
    WW = PE * SIMD * WB
    style = str(RAM_STYLE)
    rom_style = "logic" if style == "distributed" else style
    # weight ROM (+ its retiming copy), threshold ROM (the generator clamps "always fire"
    # thresholds to the accumulator minimum, so Yosys drops those comparators)
    wm, wlanes, nt_live = rom_parts(P, family, D, WW, wwords, rom_style, NF, PE, 0 if unit else NT, ACC, twords)
    if unit and THR_STYLE == THR_STYLE_CODES["requant"]:  # the requantizer (qloom_thr_requant); nf3
        parts_requant(P, family, PE, NF, ACC, RQ_MB, RQ_BB, bsearch_stages(NT), RQ_SHIFT,
                      mem_words(files, THRESH_FILE) if files and THRESH_FILE in files else None)
        P.ff += clog2(NF)
    elif unit:  # the binary search (qloom_thr_bsearch) in place of the compare bank; nf3
        S = bsearch_stages(NT)
        swords = None
        if files and f"{THRESH_FILE}_s0.mem" in files:
            swords = [mem_words(files, f"{THRESH_FILE}_s{k}.mem") for k in range(S)]
        parts_bsearch(P, family, PE, NF, ACC, ACC + 1, NT, THR_RAM_STYLE, swords)
        P.ff += clog2(NF)
    const_w = D == 1  # the weights are constants: the datapath folds them in
    if NF > 1:
        P.add_mem(Mem("ibuf", SF, SIMD * IB, shared=True), family)
    TL = clog2(SIMD)
    treg = TL >= 3
    credits = CREDITS or mvau_credits(SF, ROUND_TRIP or pipeline_depth(SIMD, NT, thr_stages(NT, THR_STYLE)))
    P.add(parts_qloom_fifo(WIDTH=PE * OB, DEPTH=credits, RAM_STYLE="distributed", family=family))
    # ---- products: LUT shift-add (MUL_STYLE 1, or 0 with IN_BITS + W_BITS <= 10) or `*`
    lanes = PE * SIMD
    dsp_per = 0
    pack_dsp = 0
    packed = mode == "mul" and MUL_STYLE == MUL_STYLES["dsp_packed"]  # qloom_mul_pack: groups of PACK_K PEs per DSP
    if packed:
        S = PACK_S or IB + WB
        groups = [min(PACK_K, PE - g) for g in range(0, PE, PACK_K)]
        pack_dsp = SIMD * sum(pack_dsps(IB, IN_SIGNED, WB, k, S, family) for k in groups)
        P.dsp += pack_dsp
    elif mode == "mul":
        mul_lut = MUL_STYLE in (MUL_STYLES["lut"], MUL_STYLES["bitplane"]) or (MUL_STYLE == 0 and IB + WB <= 10)
        if not mul_lut and not const_w:
            dsp_per = mul_dsps(*mvau_product_widths(IB, IN_SIGNED, WB, W_SIGNED, ACC), family)
    if not packed:
        P.dsp += lanes * dsp_per
    # product register width as Yosys keeps it (known-zero top bits dropped)
    PW = IB + WB + 2
    if mode == "xnor":
        prw = 1
    elif packed:
        prw = min(ACC, S)  # qloom_mul_pack's fields: S bits, sign-extended
    elif mode == "mul" and not IN_SIGNED and not W_SIGNED:
        prw = min(ACC, IB + WB)
    else:
        prw = min(ACC, PW)
    xp = None
    bitplane = mode == "mul" and MUL_STYLE == MUL_STYLES["bitplane"]
    if bitplane:
        # qloom_dot_bitplane: per PE, IB*WB popcounts with the XNOR popcount's structure
        # (AND in place of XNOR), then the counts weighted and summed
        xp = xnor_popcount(SIMD, 2 + clog2(cdiv(SIMD, 3)))
        npl = IB * WB
        xp = {k: (v * npl if k in ("grp", "adder_pre", "adder", "cp", "split") else v)
              for k, v in xp.items()}
        xp["out"] = ACC
    elif mode == "xnor":
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
        else:
            wpats = None
        xp = xnor_popcount(SIMD, ACC, PE, wpats)
    # ---- registers (beyond memories and the FIFO)
    sfw, nfw, waw = clog2(SF), clog2(NF), clog2(D)
    pcw = clog2(credits + 1)
    stages = 5 + (1 if treg else 0)  # valid bits v1 vr vp [vt] v2, plus fin3 o4v below
    ff = sfw + nfw + waw + pcw + stages + 2
    if SF > 1:
        ff += 2 * (stages - 1)  # first/last along the pipeline up to first2/last2
    if NF > 1:
        ff += 1  # src1
        if NT and not unit:
            ff += nfw * (stages - 2)  # nf1 nfr nfp [nft] (address the threshold ROM)
        elif unit:
            ff += nfw * (stages - 1)  # nf1 nfr nfp [nft] nf2 (nf3 with the binary search)
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
    elif packed and family in ("xc7", "xcup"):
        # the packed products' register is the DSP's P register (PREG), the input
        # register x1r its B register (measured, benchmarks/results/dsp_pack.json)
        ff -= SIMD * IB
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
    elif bitplane:
        # group LUTs + adders up to CP, the adders after it, the weighting adders
        P.feat("bpgrp", PE * (xp["grp"] + xp["adder_pre"]))
        P.feat("bptree", PE * xp["adder"])
        P.feat("bpsum", PE * bitplane_sum_bits(IB, IN_SIGNED, WB, W_SIGNED, SIMD, ACC))
    elif packed:
        # per packed DSP: the packed operand's decrements and the fields' sign inversions
        P.feat("lane_pack", pack_dsp)
    elif mode == "mul":
        P.feat(tag + "lane_mul", lanes * IB * WB)
        if not const_w and max(IB, WB) > MUL_WIDE_BITS:
            # wider than 4 x 4 bits the shift-add lane costs more than IB * WB says (a tree
            # level more: 16 LUT more per lane on 7 Yosys runs, 2x8 .. 8x6 bits, -8 .. +12)
            P.feat("lane_mul_wide", lanes)
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
    if NT and not unit:
        # comparators with a constant or narrow threshold (the real values when known) are
        # the cheaper constant compares Yosys folds them into
        var, cst = (cmp_bits(twords, PE * NT, ACC, ACC, -(1 << (ACC - 1)), None, NT) if NF > 1
                    else (0.0, nt_live * ACC))
        P.feat("cmp", var)
        P.feat("cmp_const", cst)
        P.feat("cnt", nt_live)
    elif mode == "xnor":
        P.feat("xnor_out", PE * ACC)
    return P


# ----------------------------------------------------------------------------------------
# the operators
# ----------------------------------------------------------------------------------------

def _exact_matmul(x: np.ndarray, w_t: np.ndarray, bound: int) -> np.ndarray:
    """Integer x @ w_t through float BLAS, exact because every partial sum stays below the
    float's integer range (2**24 for float32, 2**53 for float64); int64 otherwise."""
    lead = x.shape[:-1]
    x = x.reshape(-1, x.shape[-1])  # 2D: stacked matmuls do not reach BLAS
    for ft, limit, it in ((np.float32, 2**24, np.int32), (np.float64, 2**53, np.int64)):
        if bound < limit:
            return (x.astype(ft) @ w_t.astype(ft)).astype(it).reshape(lead + (w_t.shape[1],))
    return (x.astype(np.int64) @ w_t.astype(np.int64)).reshape(lead + (w_t.shape[1],))


@dataclass(frozen=True, eq=False)
class _MvauRtl(HWOp):
    """The ``qloom_mvau`` operator's shared part: integer weights, fused thresholds, the
    datapath. Subclasses give :meth:`mvau_matrix` (the MH x MW matrix qloom_mvau holds)
    and the vectors per frame. (Depthwise convolutions have their own unit,
    :class:`qloom.ops.vvau.VVAU`.)"""

    models: ClassVar[dict] = {}

    weights: np.ndarray = None
    weight_type: IntType = None
    acc_type: IntType = None
    thresholds: np.ndarray | None = None
    out_bias: int = 0

    def mvau_matrix(self) -> tuple[np.ndarray, IntType]:
        raise NotImplementedError

    @property
    def mvau_dims(self) -> tuple[int, int]:
        """(MH, MW) of the qloom_mvau instance."""
        raise NotImplementedError

    @property
    def weight_count(self) -> int:
        return int(self.weights.size)

    @property
    def threshold_count(self) -> int:
        return 0 if self.thresholds is None else int(self.thresholds.size)

    def _act(self, acc):
        if self.thresholds is None:
            return acc
        return apply_thresholds(acc, self.thresholds, self.out_bias, self.out_type)

    def _act_describe(self) -> str:
        return "acc" if self.thresholds is None else f"T={self.thresholds.shape[1]}"

    @property
    def int_products(self) -> bool:
        """Integer (not bipolar) weights and inputs: products in LUTs or DSPs (resType)."""
        return not self.weight_type.bipolar and not self.in_type.bipolar

    @property
    def const_ok(self) -> str | None:
        """Why this layer cannot take the constant-weight unit (resType "const",
        :mod:`qloom.ops.mvau_const`), or None."""
        if not self.int_products:
            return "resType const needs integer (not bipolar) weights and inputs"
        if self.thresholds is not None and self.out_type.bipolar:
            return "resType const needs integer (not bipolar) output levels"
        mh, mw = self.mvau_dims
        if mh * mw > CONST_MAX_WEIGHTS:
            return f"resType const takes at most {CONST_MAX_WEIGHTS} weights (the CMVM solver's time)"
        return None

    def pack_ok(self, pe: int) -> str | None:
        """Why resType "dsp_packed" (qloom_mul_pack, :func:`dsp_pack`) cannot run this
        layer at ``pe`` PEs, or None."""
        if not self.int_products:
            return "resType dsp_packed needs integer (not bipolar) weights and inputs"
        if pe < 2:
            return "resType dsp_packed needs PE >= 2 (it packs the weights of several PEs into one DSP)"
        _, wt = self.mvau_matrix()
        it = self.in_type
        if dsp_pack(it.bits, int(it.signed), wt.bits, int(wt.signed), pe) is None:
            return (f"resType dsp_packed: {it.bits}-bit x {wt.bits}-bit products at PE {pe} do not fit "
                    "two per DSP48E1 (25 x 18 bits), or are too narrow to map to a DSP (under 9 bits)")
        return None

    def own_knobs(self) -> dict[str, Knob]:
        mh, mw = self.mvau_dims
        search = ("lut", "dsp") + (("const",) if self.const_ok is None else ())
        if self.weight_type.bits * self.in_type.bits <= BITPLANE_MAX_PLANES:
            search += ("bitplane",)
        if self.pack_ok(mh) is None:
            search += ("dsp_packed",)
        return {"PE": self._lane_knob(mh, True), "SIMD": self._lane_knob(mw, self.int_products),
                "ram_style": ram_style_knob(searched=True, fill=True),
                "resType": Knob(RES_TYPES + ("const", "bitplane", "dsp_packed"), "style", search if self.int_products else (),
                                "auto", fill=False),
                # resType const: adder levels between register levels (the latency budget)
                "reg_levels": Knob(REG_LEVELS, "style", (), DEFAULT_REG_LEVELS, fill=False,
                                   latency=tuple(r for r in REG_LEVELS if r > DEFAULT_REG_LEVELS)),
                # resType const, latency-first: no register from the accumulator to the
                # output FIFO, and no FIFO in front of the layer
                "fused": Knob((0, 1), "style", (), 0, fill=False, latency=(1,)),
                **(self._thr_knobs() if self.thresholds is not None else {})}

    @property
    def pad_ok(self) -> bool:
        """Non-divisor PE (and, with integer products, SIMD) are legal: a dense layer (one
        vector per frame), whose padded vector the stream glue (``qloom.ops.repad``) adapts."""
        return self.pixels == 1

    def _lane_knob(self, n: int, pad: bool) -> Knob:
        """PE over ``n`` = MH rows or SIMD over ``n`` = MW columns: the divisors of ``n``,
        and with ``pad`` (:attr:`pad_ok`) every lane count up to ``n``, the search trying
        :func:`padded_lanes` beside the divisors."""
        divs = tuple(divisors(n))
        if not (pad and self.pad_ok):
            return Knob(divs)
        return Knob(tuple(range(1, n + 1)), search=tuple(sorted(divs + tuple(padded_lanes(n)))))

    def padded(self, fold: dict) -> tuple[int, int]:
        """(MH', MW'): the matrix qloom_mvau holds under ``fold``, MH and MW rounded up to
        multiples of PE and SIMD (equal to (MH, MW) with divisors)."""
        mh, mw = self.mvau_dims
        pe, simd = int(fold.get("PE", 1)), int(fold.get("SIMD", 1))
        return -(-mh // pe) * pe, -(-mw // simd) * simd

    def in_len(self, fold: dict, k: int = 0) -> int:
        return self.padded(fold)[1]

    def out_len(self, fold: dict) -> int:
        return self.padded(fold)[0]  # resType const: PE = MH, never padded

    def _thr_knobs(self) -> dict[str, Knob]:
        """threshold_knobs plus thr_style "requant", searched with the binary search (from
        BSEARCH_MIN_THRESH thresholds: below that a few comparators beat a multiplier)
        where :meth:`requant_ok` holds."""
        k = threshold_knobs(int(self.thresholds.shape[1]))
        t = k["thr_style"]
        search = t.searched + (("requant",) if t.searched and self.requant_ok is None else ())
        k["thr_style"] = Knob(t.values + ("requant",), t.kind, search, t.default, fill=t.fill)
        return k

    @property
    def requant_ok(self) -> str | None:
        """Why thr_style "requant" (qloom_thr_requant) cannot replace this layer's
        thresholds, or None."""
        if self.thresholds is None:
            return "thr_style requant needs thresholds"
        if not self.int_products or self.out_type.bipolar:
            return "thr_style requant needs integer (not bipolar) weights, inputs and output levels"
        if self._requant() is None:
            return ("thr_style requant needs thresholds that an integer requantizer reproduces exactly "
                    f"(uniformly spaced; M < 2^{RQ_MAX_MB}, shift <= {RQ_MAX_SHIFT})")
        return None

    @functools.lru_cache(maxsize=32)
    def _requant(self) -> Requant | None:
        """The layer's :class:`Requant` on each channel's reachable accumulator range
        (sum over the row of min/max of w * x over the input range), or None; once per op."""
        w, _ = self.mvau_matrix()
        return requant_params(self.thresholds, *row_acc_ranges(w, self.in_type))

    def illegal(self, fold: dict) -> str | None:
        if self.thresholds is None and fold.get("thr_style", "parallel") != "parallel":
            return "thr_style binsearch needs thresholds"
        if fold.get("thr_style") == "requant":
            why = self.requant_ok
            if why or fold.get("thr_mem", "lut") != "lut":
                return why or "thr_mem applies to thr_style binsearch only"
            if fold.get("resType") == "const":
                return "resType const has its own output stage (thr_style parallel)"
        mh, mw = self.mvau_dims
        pe, simd = int(fold.get("PE", 1)), int(fold.get("SIMD", 1))
        if (mh % pe or mw % simd) and not self.pad_ok:
            return (f"PE must divide MH = {mh} and SIMD MW = {mw}: lane counts that do not divide "
                    "(padding) are taken on dense layers only")
        if mw % simd and not self.int_products:
            return f"SIMD must divide MW = {mw} with bipolar weights or inputs (padding needs zero weights)"
        why = threshold_illegal(fold, -(-mh // pe))
        if not why and fold.get("resType") == "dsp_packed":
            return self.pack_ok(int(fold.get("PE", 1)))
        if not why and fold.get("resType") == "bitplane" and not self.int_products:
            return "resType bitplane needs integer (not bipolar) weights and inputs"
        if why or fold.get("resType") != "const":
            return why
        mh, mw = self.mvau_dims
        if int(fold.get("PE", 1)) != mh or int(fold.get("SIMD", 1)) != mw:
            return f"resType const needs a fully unrolled layer (PE = MH = {mh}, SIMD = MW = {mw})"
        if fold.get("ram_style", "auto") not in ("auto", "distributed"):
            return "resType const has no weight memory (ram_style auto)"
        return self.const_ok

    def _const(self, fold: dict):
        return self._const_layer(int(fold.get("reg_levels", DEFAULT_REG_LEVELS)), int(fold.get("fused", 0)))

    @functools.lru_cache(maxsize=32)
    def _const_layer(self, reg_levels: int, fused: int = 0):
        """The constant-weight layer (adder graph, output stage), once per op and spacing:
        the search prices it many times."""
        w, _ = self.mvau_matrix()
        return const_layer(w, self.in_type, self.thresholds, self.out_bias, self.out_type,
                           self.acc_type, reg_levels, fused=bool(fused))

    def in_elems(self, fold: dict) -> int:
        return int(fold.get("SIMD", 1))

    def _vparams(self, fold: dict) -> dict:
        mh, mw = self.padded(fold)
        nt = 0 if self.thresholds is None else int(self.thresholds.shape[1])
        return {"MH": mh, "MW": mw, "PE": int(fold.get("PE", 1)), "SIMD": int(fold.get("SIMD", 1)),
                "NUM_THRESH": nt, "THR_STYLE": THR_STYLE_CODES[fold.get("thr_style", "parallel")] if nt else 0}

    def cycles(self, fold: dict) -> int:
        """vectors * (MH' / PE) * (MW' / SIMD) (:func:`cycles_qloom_mvau`; MH', MW' :meth:`padded`)."""
        return self.pixels * cycles_qloom_mvau(self._vparams(fold))

    def out_times(self, fold: dict, a_in: np.ndarray) -> np.ndarray:
        """Vector i is read during the first of its NF passes, overlapping its arrival (its
        last beat at ``a_in[i]``), then takes (NF-1)*SF more cycles, NF*SF after the
        previous vector at the earliest, and leaves the pipeline depth later."""
        p = self._vparams(fold)
        nf, sf = p["MH"] // p["PE"], p["MW"] // p["SIMD"]
        if fold.get("resType") == "const":
            return serve(a_in - 1, 1) + latency_qloom_mvau_const(self.rtl(fold).params)
        return serve(a_in - sf, nf * sf) + latency_qloom_mvau(p)

    def out_beat_cycles(self, fold: dict) -> int:
        """One output beat per SF = MW'/SIMD cycles (the accumulation of a row group)."""
        if fold.get("resType") == "const":
            return 1
        p = self._vparams(fold)
        return p["MW"] // p["SIMD"]

    def input_fifo_depth(self, fold: dict, producer_burst: int) -> int:
        """With NF = MH/PE > 1 qloom_mvau reads its input vector only during its first pass
        over the rows, so the FIFO in front holds a whole vector (SF = MW/SIMD beats, plus
        2): the next vector streams in during the other NF - 1 passes (measured: CNV-W1A1
        at 50,571 instead of 32,768 cycles per frame without it)."""
        p = self._vparams(fold)
        if fold.get("resType") == "const" and int(fold.get("fused", 0)):
            # latency-first: the credit-checked input of qloom_mvau_const needs no FIFO
            # (AXI4-Stream back-pressure still honoured), 2 cycles saved per layer
            return 0
        if p["MH"] // p["PE"] > 1:
            return p["MW"] // p["SIMD"] + 2
        return super().input_fifo_depth(fold, producer_burst)

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_mvau`` (rtl/verilog/qloom_mvau.v): weights and thresholds as .mem files
        (layouts: :func:`mvau_weight_words`, ``threshold_words``)."""
        if fold.get("resType") == "const":
            self._no_rtl(fold)
            why = self.illegal(fold)
            if why:
                from qloom.errors import QloomError

                raise QloomError(f"layer {self.name}: {why}")
            out_signed = bool(self.out_type.signed) if self.thresholds is not None else True
            return const_instance(self.name, self._const(fold), out_signed)
        _, wt = self.mvau_matrix()
        w, thr, rq = self._padded_layer(*self.padded(fold), fold.get("thr_style") == "requant")
        return mvau_instance(self.name, w, wt, self.in_type, thr, self.out_bias,
                             self.out_type, self.acc_type, fold, rq)

    @functools.lru_cache(maxsize=32)
    def _padded_layer(self, MH: int, MW: int, requant: bool):
        """(weights, thresholds, requantizer) of the MH x MW matrix qloom_mvau holds
        (:func:`pad_matrix` when padded), once per op and shape: the search prices many
        configurations of each."""
        w, _ = self.mvau_matrix()
        rq = self._requant() if requant else None
        if (MH, MW) == self.mvau_dims:
            return w, self.thresholds, rq
        return pad_matrix(np.asarray(w), self.thresholds, rq, MH, MW)


@dataclass(frozen=True, eq=False)
class MVAU(_MvauRtl):
    """Matrix-vector-activation unit: ``y = act(W @ x)`` for every input vector.

    Shapes: input ``(..., MW)``, output ``(..., MH)`` (the leading dims are the pixels of a
    convolution after the SWG, or empty for a fully-connected layer).

    Attributes
    ----------
    weights : int64 (MH, MW)
        Integer weights (bipolar weights as -1/+1); column order matches the input stream
        (for convolutions: (ky, kx, c) with c innermost, as the SWG emits it).
    weight_type : IntType
    acc_type : IntType
        Wide enough for every reachable accumulator value (no overflow).
    thresholds : int64 (MH, T) or None
        Fused MultiThreshold activation; None outputs the raw accumulator (``acc_type``).
    out_bias : int
        Added to the threshold count.
    """

    op_type: ClassVar[str] = "MVAU"

    @property
    def mw(self) -> int:
        return int(self.weights.shape[1])

    @property
    def mh(self) -> int:
        return int(self.weights.shape[0])

    @property
    def mvau_dims(self) -> tuple[int, int]:
        return self.mh, self.mw

    def mvau_matrix(self):
        return self.weights, self.weight_type

    @property
    def vectors(self) -> int:
        """Input vectors per frame (output pixels of a convolution, 1 for a dense layer)."""
        return self.pixels

    def accumulate(self, x: np.ndarray) -> np.ndarray:
        """x int64 (N, ..., MW) -> acc int64 (N, ..., MH)."""
        bound = self.mw * max(abs(self.in_type.min), abs(self.in_type.max)) * max(
            abs(self.weight_type.min), abs(self.weight_type.max))
        return _exact_matmul(x, self.weights.T, bound)

    def execute(self, x: np.ndarray) -> np.ndarray:
        return self._act(self.accumulate(x))

    @property
    def macs(self) -> int:
        return self.vectors * self.mh * self.mw

    def describe(self) -> str:
        return f"MH={self.mh} MW={self.mw} W:{self.weight_type} {self._act_describe()}"

    def mo_lowering(self) -> dict:
        """The engine's MVAU (HWOp.mo_lowering): pointwise on an image, or on the whole
        stored input as one vector (``flat``); thresholds fused when it has them."""
        w, wt = self.mvau_matrix()
        return {"opcode": "MVAU", "flat": len(self.in_shape) != 3, "weights": np.asarray(w, dtype=np.int64),
                "weight_type": wt, "thresholds": None if self.thresholds is None else
                np.asarray(self.thresholds, dtype=np.int64), "out_bias": int(self.out_bias),
                "acc_range": (int(self.acc_type.min), int(self.acc_type.max)), "macs": self.macs}

    def mo_windowed(self, window: dict) -> dict:
        """The engine's MVAU behind its window generator (a convolution)."""
        low = self.mo_lowering()
        low.update(flat=False, **{k: window[k] for k in ("kernel", "stride", "pads", "pad_value")})
        return low


_MvauRtl.models = {"qloom_mvau": parts_qloom_mvau, "qloom_mvau_const": parts_qloom_mvau_const}
