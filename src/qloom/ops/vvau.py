"""VVAU: the vector-vector-activation unit of depthwise convolutions (FINN's
VectorVectorActivation; Blott et al., FINN-R, TRETS 2018, Sec. 4 for the MVAU it derives
from; FINN documentation, "VectorVectorActivation": K*K MACs per channel per output pixel,
PE over channels, SIMD over the kernel window), and everything about its Verilog
``qloom_vvau`` (rtl/verilog/qloom_vvau.v): cycles, pipeline depth, latency rule,
weight/threshold memory layout, instance parameters and resource model.

Folding: PE channels and SIMD kernel positions per cycle, C % PE == 0, K % SIMD == 0 (K =
K_H*K_W); one output pixel takes (C / PE) * (K / SIMD) cycles. qloom's SWG emits a window in
(ky, kx, c) order with c innermost (FINN uses a depthwise SWG with channel folds outermost
instead), so a beat of several kernel positions is contiguous only when it holds all
channels: SIMD > 1 needs PE = C (:meth:`VVAU.illegal`). The kernel folds are the outer loop
and the NF = C/PE partial sums wait in a delay line (see the Verilog header).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.cost.parts import Parts, cmp_bits, mem_words
from qloom.cost.replay import cdiv, clog2, mul_dsps
from qloom.instance import RtlInstance, memh_text
from qloom.ops.base import (MUL_STYLES, RES_TYPES, HWOp, Knob, apply_thresholds, divisors,
                            product_widths, ram_style_knob, rom_parts, threshold_files, threshold_words,
                            weight_rom_words)
from qloom.ops.fifo import parts_qloom_fifo
from qloom.stream import serve
from qloom.types import IntType

# How far Verilator may be from cycles_/latency_qloom_vvau for a run of frames (relative,
# cycles): tests/rtl/test_qloom_vvau.py
CYCLE_TOLERANCE = {"qloom_vvau": (0.0, 1)}


# ----------------------------------------------------------------------------------------
# qloom_vvau: cycles, pipeline, memory layout (the RTL tests check these same functions)
# ----------------------------------------------------------------------------------------

def cycles_qloom_vvau(p, NUM_PIXELS: int = 1) -> int:
    """qloom_vvau cycles per frame: one input beat and one weight word per cycle,
    NUM_PIXELS * (CHANNELS / PE) * (K / SIMD) (FINN's VVAU folding). ``p``: the module's
    Verilog parameters."""
    return NUM_PIXELS * (p["CHANNELS"] // p["PE"]) * (p["K"] // p["SIMD"])


def pipeline_depth(NUM_THRESH: int) -> int:
    """Cycles from issuing a pixel's last input beat to its output beat at m_axis:
    ROM/input register, retiming copy, products, adder tree, accumulate, output
    register, output FIFO (8), + the comparison stage with thresholds."""
    return 8 + (1 if NUM_THRESH > 0 else 0)


def latency_qloom_vvau(p) -> int:
    """An isolated pixel takes its II plus this many cycles (the pipeline depth)."""
    return pipeline_depth(p["NUM_THRESH"])


def vvau_credits(NF: int, KF: int, depth: int) -> int:
    """Output beats qloom_vvau may have in flight or queued so that it never waits for a
    credit at full rate: the output beats issued in any ``depth + 2`` consecutive cycles
    (issue -> m_axis -> the credit back; a burst of NF, one per channel fold, every
    KF*NF cycles), plus one."""
    period, window = NF * KF, depth + 2
    return NF * (window // period) + min(NF, window % period) + 1


def vvau_weight_words(W, PE: int, SIMD: int, W_BITS: int, bipolar: bool = False) -> list[int]:
    """Weight ROM words of ``qloom_vvau`` for (C, K) integer weights ``W``: KF*NF words
    (KF = K/SIMD, NF = C/PE), word ``kf*NF + nf``, weight ``(s, p)`` at bits
    ``[(s*PE + p)*W_BITS +: W_BITS]`` = ``W[nf*PE + p][kf*SIMD + s]``. Bipolar weights
    are given as -1/+1 (stored as 0/1, ``W_BITS`` must be 1). Raises ValueError on a
    layout violation."""
    return weight_rom_words(W, PE, SIMD, "cr", W_BITS, bipolar)


def acc_bits_for(acc_type: IntType, thresholds) -> int:
    """Signed accumulator width holding every accumulator value and threshold."""
    lo, hi = acc_type.min, acc_type.max
    if thresholds is not None:
        lo, hi = min(lo, int(thresholds.min())), max(hi, int(thresholds.max()))
    return max(IntType.for_range(min(lo, -1), hi).bits, 2)


# ----------------------------------------------------------------------------------------
# qloom_vvau resource model (coefficients in qloom/cost/coef)
# ----------------------------------------------------------------------------------------

def parts_qloom_vvau(CHANNELS=4, K=9, PE=1, SIMD=1, IN_BITS=4, IN_SIGNED=0, IN_BIPOLAR=0,
                     W_BITS=4, W_SIGNED=1, W_BIPOLAR=0, ACC_BITS=16, NUM_THRESH=0, OUT_BITS=4,
                     OUT_SIGNED=0, OUT_BIAS=0, WEIGHT_FILE="", THRESH_FILE="", RAM_STYLE="auto",
                     MUL_STYLE=0, CREDITS=None, OB=None, family="xc7", files=None) -> Parts:
    """qloom_vvau: weight ROM (+ retiming copy), threshold ROM, input and retiming
    registers, PE*SIMD registered products, per PE an adder tree over SIMD, the delay
    line of NF partial sums (shift-register LUTs on Xilinx), PE*NUM_THRESH registered
    comparisons + count trees, the output FIFO.

    Memories and DSPs are exact replays (qloom.cost.replay); flip-flops are counted
    register by register; LUT features follow FINN-R Sec. 5 (a per-lane product cost,
    adder trees and accumulators by width, comparators by width) with coefficients fitted
    to Yosys runs of qloom_vvau (qloom/cost/coef)."""
    P = Parts("qloom_vvau")
    NF, KF = CHANNELS // PE, K // SIMD
    NT = NUM_THRESH
    IB, WB, ACC = IN_BITS, W_BITS, ACC_BITS
    OB = OUT_BITS if NT > 0 else ACC
    lanes = PE * SIMD
    D = NF * KF
    wwords = mem_words(files, WEIGHT_FILE)
    twords = mem_words(files, THRESH_FILE) if NT else None
    WW = lanes * WB
    rom_style = "logic" if str(RAM_STYLE) == "distributed" else str(RAM_STYLE)
    _, wlanes, nt_live = rom_parts(P, family, D, WW, wwords, rom_style, NF, PE, NT, ACC, twords)
    const_w = D == 1
    credits = CREDITS or vvau_credits(NF, KF, pipeline_depth(NT))
    P.add(parts_qloom_fifo(WIDTH=PE * OB, DEPTH=credits, RAM_STYLE="distributed", family=family))
    mode = ("xnor" if IN_BIPOLAR and W_BIPOLAR else "wbip" if W_BIPOLAR else "xbip" if IN_BIPOLAR
            else "mul")
    dsp_per = 0
    if mode == "mul":
        mul_lut = MUL_STYLE == 1 or (MUL_STYLE == 0 and IB + WB <= 10)
        if not mul_lut and not const_w:
            dsp_per = mul_dsps(*product_widths(IB, IN_SIGNED, WB, W_SIGNED, ACC), family)
    P.dsp = lanes * dsp_per
    PW = IB + WB + 2
    if mode == "xnor":
        prw = 2  # +1 / -1
    elif mode == "mul" and not IN_SIGNED and not W_SIGNED:
        prw = min(ACC, IB + WB)
    else:
        prw = min(ACC, PW)
    TL = clog2(SIMD)
    tw = min(ACC, prw + TL)
    # ---- registers beyond the memories and the FIFO
    ff = clog2(NF) + clog2(KF) + clog2(D)           # nf kf waddr
    ff += clog2(credits + 1) + 4 + 1                # pending, control valid bits, fin3
    ff += 8 if KF > 1 else 0                        # first, last through 4 stages (constant if KF = 1)
    ff += 3 * clog2(NF) if NT else 0                # nf to the threshold ROM (CP)
    absorb = bool(dsp_per) and family == "xc7"
    live_lanes, prod_bits = lanes, lanes * prw
    if const_w and wwords:
        # constant weights (one ROM word): a lane with weight 0 vanishes with its input
        # registers; a product register keeps only the bits that vary over the inputs
        live_lanes, prod_bits = 0, 0
        xs = [-1, 1] if IN_BIPOLAR else list(range(-(1 << (IB - 1)), 1 << (IB - 1)) if IN_SIGNED
                                             else range(1 << IB))
        for i in range(lanes):
            v = (wwords[0] >> (i * WB)) & ((1 << WB) - 1)
            w = (1 if v else -1) if W_BIPOLAR else (v - (1 << WB) if W_SIGNED and v >> (WB - 1) else v)
            if w == 0:
                continue
            live_lanes += 1
            vals = [(x * w) & ((1 << prw) - 1) for x in xs]
            prod_bits += sum(1 for b in range(prw) if len({(u >> b) & 1 for u in vals}) > 1)
    ff += 2 * live_lanes * IB                       # x1, x1r
    ff += prod_bits if not absorb else 0            # prodq (in the DSP48E1 on xc7)
    if absorb:  # DSP48E1s absorb the retiming registers (w1r, x1r) and, without a tree, dot2
        ff -= wlanes + lanes * IB
    if not absorb or SIMD > 1:
        ff += PE * tw                               # dot2
    ff += PE * ACC                                  # dl[0] (the accumulator)
    ff += PE * OB + 1                               # output register (credit_out IN_REG)
    P.ff += ff
    # the delay line dl[1..NF-1]: Yosys' shregmap turns a chain of 3 or more stages into
    # shift-register LUTs on Xilinx (SRL16E / SRLC32E: one per bit per 32 stages; measured:
    # NF 8 -> 48 SRL16E for PE*ACC = 48, NF 32 -> 12 SRLC32E), flip-flops elsewhere
    if NF > 1:
        bits = PE * ACC
        if family in ("xc7", "xcup") and NF - 1 >= 3:
            # counted exactly, like LUT-RAM (a LUT each in synth.json's LUT)
            P.lut[("mem", "lutram")] = P.lut.get(("mem", "lutram"), 0.0) + bits * cdiv(NF - 1, 32)
        else:
            P.ff += bits * (NF - 1)
    # ---- LUT features
    P.feat("const", 1)
    P.feat("ctl", clog2(NF) + clog2(KF) + clog2(D))
    tag = "c" if const_w else ""
    if dsp_per:
        P.feat("lane_dsp", lanes)
    elif mode == "mul":
        P.feat(tag + "lane_mul", lanes * IB * WB)
    elif mode in ("wbip", "xbip"):
        P.feat(tag + "lane_neg", lanes * (IB if mode == "wbip" else WB))
    else:  # XNOR: a +1/-1 product, priced as a 1-bit negation (not in the sweep yet)
        P.feat(tag + "lane_neg", lanes)
    tree, n = 0.0, SIMD
    for lv in range(1, TL + 1):
        tree += (n // 2) * min(ACC, prw + lv)
        n = (n + 1) // 2
    P.feat("tree", PE * tree)
    P.feat("acc", PE * ACC)
    if NT:
        # comparators with a constant or narrow threshold (the real values when known) are
        # the cheaper constant compares Yosys folds them into
        var, cst = (cmp_bits(twords, PE * NT, ACC, ACC, -(1 << (ACC - 1)), None, NT) if NF > 1
                    else (0.0, nt_live * ACC))
        P.feat("cmp", var)
        P.feat("cmp_const", cst)
        P.feat("cnt", nt_live)
    return P


# ----------------------------------------------------------------------------------------
# the operator
# ----------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class VVAU(HWOp):
    """Vector-vector-activation unit for depthwise convolutions (FINN's VVAU).

    Input ``(..., K*C)`` from the SWG in (ky, kx, c) order (c innermost), output
    ``(..., C)``: ``acc[c] = sum_k weights[c, k] * x[k*C + c]``, then thresholds
    (MultiThreshold semantics, :func:`qloom.ops.base.apply_thresholds`) or the raw
    accumulator.

    Attributes
    ----------
    weights : int64 (C, K), K = kernel_h * kernel_w
        Integer weights (bipolar weights as -1/+1).
    weight_type : IntType
    acc_type : IntType
        Wide enough for every reachable accumulator value.
    thresholds : int64 (C, T) or None
    out_bias : int

    Knobs: PE (divisors of C), SIMD (divisors of K; > 1 only with PE = C), ram_style,
    resType (integer products). Cycles per frame: pixels * (C/PE) * (K/SIMD).
    """

    op_type: ClassVar[str] = "VVAU"
    models: ClassVar[dict] = {}

    weights: np.ndarray = None
    weight_type: IntType = None
    acc_type: IntType = None
    thresholds: np.ndarray | None = None
    out_bias: int = 0

    @property
    def channels(self) -> int:
        return int(self.weights.shape[0])

    @property
    def kernel_size(self) -> int:
        return int(self.weights.shape[1])

    @property
    def weight_count(self) -> int:
        return int(self.weights.size)

    @property
    def threshold_count(self) -> int:
        return 0 if self.thresholds is None else int(self.thresholds.size)

    @property
    def int_products(self) -> bool:
        """Integer (not bipolar) weights and inputs: products in LUTs or DSPs (resType)."""
        return not self.weight_type.bipolar and not self.in_type.bipolar

    def execute(self, x: np.ndarray) -> np.ndarray:
        C, K = self.weights.shape
        xs = x.reshape(x.shape[:-1] + (K, C)).astype(np.int64)
        acc = np.einsum("...kc,ck->...c", xs, self.weights.astype(np.int64))
        if self.thresholds is None:
            return acc
        return apply_thresholds(acc, self.thresholds, self.out_bias, self.out_type)

    @property
    def macs(self) -> int:
        return int(np.prod(self.out_shape, dtype=np.int64)) * self.kernel_size

    def describe(self) -> str:
        act = "acc" if self.thresholds is None else f"T={self.thresholds.shape[1]}"
        return f"C={self.channels} K={self.kernel_size} W:{self.weight_type} {act}"

    # ---- folding
    def own_knobs(self) -> dict[str, Knob]:
        return {"PE": Knob(tuple(divisors(self.channels))), "SIMD": Knob(tuple(divisors(self.kernel_size))),
                "ram_style": ram_style_knob(searched=True, fill=True),
                "resType": Knob(RES_TYPES, "style", ("lut", "dsp") if self.int_products else (),
                                "auto", fill=False)}

    def illegal(self, fold: dict) -> str | None:
        if int(fold.get("SIMD", 1)) > 1 and int(fold.get("PE", 1)) != self.channels:
            return (f"SIMD > 1 needs PE = all {self.channels} channels (the SWG streams a "
                    "window channels innermost)")
        return None

    def in_elems(self, fold: dict) -> int:
        return int(fold.get("PE", 1)) * int(fold.get("SIMD", 1))

    def _vparams(self, fold: dict) -> dict:
        return {"CHANNELS": self.channels, "K": self.kernel_size, "PE": int(fold.get("PE", 1)),
                "SIMD": int(fold.get("SIMD", 1)), "NUM_THRESH": int(self.thresholds is not None)}

    def cycles(self, fold: dict) -> int:
        """pixels * (C / PE) * (K / SIMD) (:func:`cycles_qloom_vvau`)."""
        return cycles_qloom_vvau(self._vparams(fold), NUM_PIXELS=self.pixels)

    def out_times(self, fold: dict, a_in: np.ndarray) -> np.ndarray:
        """A pixel's KF*NF beats are consumed as they arrive (its last at ``a_in[i]``), at
        most one per cycle, then the pipeline: ``t[i] = max(a[i], t[i-1] + KF*NF) + L``."""
        s = cycles_qloom_vvau(self._vparams(fold))
        return serve(a_in - s, s) + latency_qloom_vvau(self._vparams(fold))

    def rtl_missing(self, fold: dict) -> str | None:
        return self.illegal(fold)

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_vvau`` (rtl/verilog/qloom_vvau.v): weights and thresholds as .mem files
        (layouts: :func:`vvau_weight_words`, ``threshold_words``)."""
        self._no_rtl(fold)
        pe, simd = int(fold.get("PE", 1)), int(fold.get("SIMD", 1))
        C, K = self.weights.shape
        wt, it, ot = self.weight_type, self.in_type, self.out_type
        thr = self.thresholds
        nt = 0 if thr is None else int(thr.shape[1])
        acc_bits = acc_bits_for(self.acc_type, thr)
        w = self.weights
        wfile, tfile = f"{self.name}_weights.mem", f"{self.name}_thresholds.mem"

        def make_files():
            files = {wfile: memh_text(vvau_weight_words(w, pe, simd, wt.bits, bipolar=wt.bipolar),
                                      pe * simd * wt.bits)}
            if nt:
                files[tfile] = memh_text(threshold_words(thr, pe, acc_bits), pe * nt * acc_bits)
            return files

        out_bits = ot.bits if nt else acc_bits
        nf, kf = C // pe, K // simd
        params = dict(CHANNELS=C, K=K, PE=pe, SIMD=simd, IN_BITS=it.bits,
                      IN_SIGNED=int(it.signed and not it.bipolar), IN_BIPOLAR=int(it.bipolar),
                      W_BITS=wt.bits, W_SIGNED=int(wt.signed and not wt.bipolar),
                      W_BIPOLAR=int(wt.bipolar), ACC_BITS=acc_bits, NUM_THRESH=nt,
                      OUT_BITS=out_bits, OUT_SIGNED=int(ot.signed if nt else 1),
                      OUT_BIAS=int(self.out_bias) if nt and not ot.bipolar else 0,
                      WEIGHT_FILE=wfile, THRESH_FILE=tfile if nt else "",
                      RAM_STYLE=fold.get("ram_style", "auto"),
                      MUL_STYLE=MUL_STYLES[fold.get("resType", "auto")] if self.int_products else 0,
                      CREDITS=vvau_credits(nf, kf, pipeline_depth(nt)))
        return RtlInstance("qloom_vvau", params, it.bits, out_bits,
                           bool(ot.signed if nt else True) and not (nt and ot.bipolar),
                           make_files, (wfile, tfile) if nt else (wfile,),
                           model_files=(lambda: threshold_files(thr, pe, acc_bits, tfile, False)) if nt else None)


VVAU.models = {"qloom_vvau": parts_qloom_vvau}
