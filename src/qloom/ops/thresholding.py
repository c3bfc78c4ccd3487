"""Thresholding: standalone per-channel multi-threshold activation (FINN's Thresholding), and
its Verilog ``qloom_thresholding``: cycles, latency, threshold ROM layout
(``qloom.ops.base.threshold_words``), instance parameters and resource model.

Used where a quantizer follows an integer tensor that no MVAU/VVAU produced directly
(for example after a SumPool, whose division by the window size moved into thresholds).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.cost.parts import Parts, cmp_bits, const_lanes_removed, live_thresholds, mem_words
from qloom.cost.replay import Mem, clog2
from qloom.instance import RtlInstance
from qloom.ops.base import (CREDITS, THR_MEM_STYLES, ChannelStreamOp, Knob, apply_thresholds, bsearch_stages,
                            divisors, parts_bsearch, ram_style_knob, threshold_files, threshold_illegal,
                            threshold_knobs)
from qloom.ops.fifo import parts_qloom_fifo
from qloom.types import IntType


# How far Verilator may be from the formulas (relative, cycles): measured 1 cycle
CYCLE_TOLERANCE = {"qloom_thresholding": (0.0, 1)}


def cycles_qloom_thresholding(p, NUM_PIXELS: int = 1) -> int:
    """qloom_thresholding: one beat per cycle, CHANNELS/PE beats per pixel."""
    return NUM_PIXELS * (p["CHANNELS"] // p["PE"])


def latency_qloom_thresholding(p) -> int:
    """Compare/count pipeline of an isolated pixel, beyond its beats: 5 cycles, plus
    ``bsearch_stages(NUM_THRESH)`` with the binary search (THR_STYLE 1: qloom_thr_bsearch's
    S + 1 registers in place of the parallel bank's one)."""
    return 5 + (bsearch_stages(p["NUM_THRESH"]) if p.get("THR_STYLE", 0) else 0)


def parts_qloom_thresholding(CHANNELS=4, PE=1, IN_BITS=8, IN_SIGNED=1, T_BITS=9, NUM_THRESH=3,
                             OUT_BITS=2, OUT_SIGNED=0, OUT_BIAS=0, THRESH_FILE="", RAM_STYLE="auto",
                             CREDITS=CREDITS, THR_STYLE=0, family="xc7", files=None) -> Parts:
    """qloom_thresholding: NF x PE*NUM_THRESH*T_BITS threshold ROM, PE*NUM_THRESH
    comparators of CW = max(IN_BITS + 1, T_BITS) + 1 bits, a 5-word output FIFO; with
    THR_STYLE 1 the binary-search unit instead (:func:`parts_bsearch`)."""
    P = Parts("qloom_thresholding")
    if THR_STYLE:
        NF = CHANNELS // PE
        words = None
        if files and f"{THRESH_FILE}_s0.mem" in files:
            words = [mem_words(files, f"{THRESH_FILE}_s{k}.mem") for k in range(bsearch_stages(NUM_THRESH))]
        parts_bsearch(P, family, PE, NF, IN_BITS + 1, T_BITS, NUM_THRESH, RAM_STYLE, words)
        P.add(parts_qloom_fifo(WIDTH=PE * OUT_BITS, DEPTH=CREDITS, RAM_STYLE="distributed", family=family))
        P.ff += clog2(NF) + clog2(CREDITS + 1) + 1 + PE * OUT_BITS  # nf, pending, ov, o
        P.feat("const", 1)
        return P
    NF = CHANNELS // PE
    NT = NUM_THRESH
    cw = max(IN_BITS + 1, T_BITS) + 1
    TW = PE * NT * T_BITS
    twords = mem_words(files, THRESH_FILE)
    live = float(PE * NT)
    dead_pe = 0
    xlo = xhi = None
    raw = twords
    if twords is not None:
        xlo = -(1 << (IN_BITS - 1)) if IN_SIGNED else 0
        xhi = (1 << (IN_BITS - 1)) - 1 if IN_SIGNED else (1 << IN_BITS) - 1
        per_pe = []
        for p in range(PE):
            sub = [(w >> (p * NT * T_BITS)) & ((1 << (NT * T_BITS)) - 1) for w in twords]
            per_pe.append(live_thresholds(sub, NT, T_BITS, xlo, xhi)[1])
        twords, live = live_thresholds(twords, PE * NT, T_BITS, xlo, xhi)
        dead_pe = sum(1 for n in per_pe if n == 0)
    tl = const_lanes_removed(twords, TW) if twords is not None else TW
    style = "logic" if str(RAM_STYLE) == "distributed" else str(RAM_STYLE)
    P.add_mem(Mem("thresholds", NF, tl, rom=True, style=style, feature="rom_thr"), family, twords)
    P.add(parts_qloom_fifo(WIDTH=PE * OUT_BITS, DEPTH=CREDITS, RAM_STYLE="distributed", family=family))
    # nf pending v1 x1 ov o (the input lanes of a PE without live comparators are unused)
    P.ff += clog2(NF) + clog2(CREDITS + 1) + 1 + (PE - dead_pe) * IN_BITS + 1 + PE * OUT_BITS
    P.feat("const", 1)
    var, cst = cmp_bits(raw, PE * NT, T_BITS, cw, xlo, xhi, NT) if NF > 1 else (0.0, live * cw)
    P.feat("cmp", var)
    P.feat("cmp_const", cst)
    P.feat("cnt", live)
    return P


@dataclass(frozen=True, eq=False)
class Thresholding(ChannelStreamOp):
    """``out[..., c] = #{k : x[..., c] >= thresholds[c, k]} + out_bias``.

    thresholds : int64 (C, T), ascending per channel; shapes ``(..., C)`` in and out.
    """

    op_type: ClassVar[str] = "Thresholding"
    cycles_model = staticmethod(cycles_qloom_thresholding)
    latency_model = staticmethod(latency_qloom_thresholding)
    models: ClassVar[dict] = {}

    thresholds: np.ndarray = None
    out_bias: int = 0

    def execute(self, x: np.ndarray) -> np.ndarray:
        return apply_thresholds(x, self.thresholds, self.out_bias, self.out_type)

    @property
    def threshold_count(self) -> int:
        return int(self.thresholds.size)

    def own_knobs(self) -> dict[str, Knob]:
        return {"PE": Knob(tuple(divisors(self.fold_channels))), "ram_style": ram_style_knob(searched=False),
                **threshold_knobs(int(self.thresholds.shape[1]))}

    def illegal(self, fold: dict) -> str | None:
        return threshold_illegal(fold, int(self.thresholds.shape[0]) // int(fold.get("PE", 1)))

    def _vparams(self, fold: dict) -> dict:
        return {**super()._vparams(fold), "NUM_THRESH": int(self.thresholds.shape[1]),
                "THR_STYLE": int(fold.get("thr_style", "parallel") == "binsearch")}

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_thresholding``: per-channel thresholds in a ROM, PE lanes per beat; with
        ``thr_style`` "binsearch" the binary-search unit (stage files ``<layer>_thresholds_s<k>.mem``,
        in LUTs or block RAM by ``thr_mem``)."""
        pe = int(fold.get("PE", 1))
        thr, it, ot = self.thresholds, self.in_type, self.out_type
        bs = fold.get("thr_style", "parallel") == "binsearch"
        # signed threshold words: the range always includes -1 (and, for the binary
        # search's pad, a value above every input)
        t_bits = max(2, IntType.for_range(min(it.min, int(thr.min()), -1),
                                          max(it.max + int(bs), int(thr.max()))).bits)
        nt = int(thr.shape[1])
        p = dict(CHANNELS=int(thr.shape[0]), PE=pe, IN_BITS=it.bits,
                 IN_SIGNED=int(it.signed and not it.bipolar), T_BITS=t_bits, NUM_THRESH=nt,
                 OUT_BITS=ot.bits, OUT_SIGNED=int(ot.signed and not ot.bipolar),
                 OUT_BIAS=0 if ot.bipolar else int(self.out_bias), THRESH_FILE="",
                 RAM_STYLE=fold.get("ram_style", "auto"), CREDITS=CREDITS)
        if bs:
            prefix = f"{self.name}_thresholds"
            S = bsearch_stages(nt)
            p.update(THRESH_FILE=prefix, RAM_STYLE=THR_MEM_STYLES[fold.get("thr_mem", "lut")],
                     CREDITS=CREDITS + S, THR_STYLE=1)
            def files():
                return threshold_files(thr, pe, t_bits, prefix, True)
            return RtlInstance("qloom_thresholding", p, it.bits, ot.bits, ot.signed and not ot.bipolar,
                               files, tuple(f"{prefix}_s{k}.mem" for k in range(S)), model_files=files)
        fname = f"{self.name}_thresholds.mem"
        p["THRESH_FILE"] = fname
        def files():
            return threshold_files(thr, pe, t_bits, fname, False)
        return RtlInstance("qloom_thresholding", p, it.bits, ot.bits, ot.signed and not ot.bipolar,
                           files, (fname,), model_files=files)

    def describe(self) -> str:
        return f"C={self.in_shape[-1]} T={self.thresholds.shape[1]}"

    def mo_lowering(self) -> dict:
        """The engine's thresholding unit (HWOp.mo_lowering): thresholds (C, NT), one row per channel."""
        c = int(self.in_shape[-1])
        T = np.broadcast_to(np.asarray(self.thresholds, dtype=np.int64), (c, self.thresholds.shape[1]))
        return {"opcode": "THRESH", "thresholds": np.array(T), "out_bias": int(self.out_bias)}


Thresholding.models = {"qloom_thresholding": parts_qloom_thresholding}
