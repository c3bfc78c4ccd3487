"""The operator base class, the knob record, and the threshold semantics and memory layout
shared by MVAU, VVAU and Thresholding.

Every operator module (``qloom/ops/<op>.py`` with its Verilog ``qloom/rtl/verilog/qloom_<op>*.v``)
states its whole story once: numpy semantics (:meth:`HWOp.execute`), folding knobs and
their legal values (:meth:`HWOp.knob_space`), cycles (:meth:`HWOp.cycles`, from the
Verilog-level ``cycles_<module>(params)`` the RTL tests check), latency rule
(:meth:`HWOp.out_times`), RTL instance and memory-file layout (:meth:`HWOp.rtl`), resource
model (``parts_<module>``, listed in :attr:`HWOp.models`) and the FIFO it needs in front
(:meth:`HWOp.input_fifo_depth`). Generic code (search, latency, flow, top generation)
only calls these methods.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, ClassVar

import numpy as np

from qloom.cost.parts import Parts, cmp_bits, const_lanes_removed, live_thresholds, result
from qloom.cost.replay import Mem, clog2
from qloom.instance import RtlInstance, memh_text, pack_field
from qloom.stream import serve
from qloom.types import IntType, storage_dtype

RAM_STYLES = ("auto", "block", "distributed")  # FINN's ram_style (folding.json)
RES_TYPES = ("auto", "lut", "dsp")  # FINN's resType: integer products in LUTs or DSP slices
# FINN's resType -> the MUL_STYLE parameter of qloom_mvau / qloom_vvau
# bitplane (qloom_dot_bitplane) and dsp_packed (qloom_mul_pack): qloom_mvau only
MUL_STYLES = {"auto": 0, "lut": 1, "dsp": 2, "bitplane": 3, "dsp_packed": 4}
MAX_FIFO_BURST = 64  # beats: the largest default FIFO in front of a layer
# output beats in flight of qloom_swg, qloom_thresholding and qloom_pool_reduce: the CREDITS
# parameter of their qloom_credit_out, passed from here (its FIFO has CREDITS words)
CREDITS = 5


def weight_rom_words(W, rows: int, cols: int, order: str, W_BITS: int, bipolar: bool = False) -> list[int]:
    """Weight ROM words of a ``rows`` x ``cols`` folded weight matrix ``W`` (R, C) (an MVAU's
    PE x SIMD, a VVAU's PE x SIMD over (channel, kernel position)): R/rows row folds ``r``
    and C/cols column folds ``c``, lane ``(i, j)`` holds ``W[r*rows + i][c*cols + j]``.
    ``order``: ``"rc"`` = word ``r*CF + c`` with lane ``(i, j)`` at bits
    ``[(i*cols + j)*W_BITS +: W_BITS]`` (qloom_mvau); ``"cr"`` = word ``c*RF + r`` with lane
    ``(i, j)`` at bits ``[(j*rows + i)*W_BITS +: W_BITS]`` (qloom_vvau). Bipolar weights are
    given as -1/+1 and stored as 0/1 (1 bit). Raises ValueError on a layout violation or a
    weight that does not fit ``W_BITS``."""
    W = np.asarray(W)
    R, C = W.shape
    if R % rows or C % cols:
        raise ValueError(f"{R} rows % {rows} or {C} columns % {cols} != 0")
    if bipolar:
        if not np.isin(W, (-1, 1)).all():
            raise ValueError("bipolar weights must be -1/+1")
        W, W_BITS = (W > 0).astype(np.int64), 1
    f = W.reshape(R // rows, rows, C // cols, cols)
    lanes = f.transpose(0, 2, 1, 3) if order == "rc" else f.transpose(2, 0, 3, 1)
    lanes = lanes.reshape(-1, rows * cols)
    return [sum(pack_field(v, W_BITS, "weight") << (k * W_BITS) for k, v in enumerate(word))
            for word in lanes.tolist()]


def rom_parts(P, family: str, D: int, WW: int, wwords, rom_style: str, NF: int, PE: int, NT: int,
              ACC: int, twords):
    """The weight and threshold ROMs of an MVAU-like unit (qloom_mvau, qloom_vvau) added to
    the parts inventory ``P``: the weight ROM of ``D`` words of ``WW`` bits (constant lanes
    removed; ``D`` = 1: constant weights the datapath folds in, no read copy) with its
    retiming copy, and with ``NT`` > 0 the threshold ROM of ``NF`` words of PE*NT*ACC bits
    (comparators whose threshold is the accumulator minimum in every word are always true
    and dropped, as Yosys does), its read copy when NF > 1 and the compare/finish flags.
    ``wwords``/``twords``: the memory files' words when known (None: the worst case).
    Returns (the weight memory's mapping, weight lanes kept, live comparators)."""
    wlanes = const_lanes_removed(wwords, WW) if wwords is not None else WW
    wm = P.add_mem(Mem("weights", D, wlanes, rom=True, style=rom_style, feature="rom_w"), family, wwords)
    if D != 1:  # w1r, the retiming copy of the ROM read
        P.ff += P.mems[-1][2]["FF"] if wm.kind == "logic" else wlanes
    nt_live = float(PE * NT)
    if NT:
        TW = PE * NT * ACC
        if twords is not None:
            twords, nt_live = live_thresholds(twords, PE * NT, ACC, -(1 << (ACC - 1)), None)
        tlanes = const_lanes_removed(twords, TW) if twords is not None else TW
        tm = P.add_mem(Mem("thresholds", NF, tlanes, rom=True, feature="rom_t"), family, twords)
        if NF > 1:  # thr3, the copy of the ROM read register tq
            P.ff += P.mems[-1][2]["FF"] if tm.kind == "logic" else tlanes
        P.ff += nt_live + 1  # ge4, fin4
    return wm, wlanes, nt_live


@dataclass(frozen=True)
class Knob:
    """One folding knob of an operator (a key of its ``folding.json`` entry).

    values : the legal values (ints for parallelism knobs, names for style knobs).
    kind : "fold" (parallelism: PE, SIMD, parallel_window; changes cycles) or "style"
        (implementation: ram_style, resType; changes resources only).
    search : the values the target-FPS search tries; () = not searched (the key stays
        out of the searched configurations). Default: ``values``.
    default : the value when absent (default: ``values[0]``, the smallest).
    fill : written into a validated folding when absent (and kept by the default
        folding, at ``default``); otherwise left out.
    latency : values that shorten the layer's latency at the same cycles (register
        spacing, latency-first variants), tried by ``--target-latency`` once every layer
        is at its fastest option (``qloom.dse.search.Space.meet_latency``).
    """

    values: tuple
    kind: str = "fold"
    search: tuple | None = None
    default: Any = None
    fill: bool = True
    latency: tuple = ()

    @property
    def searched(self) -> tuple:
        return tuple(self.values) if self.search is None else tuple(self.search)

    @property
    def initial(self):
        return self.values[0] if self.default is None else self.default


def ram_style_knob(searched: bool, fill: bool = False) -> Knob:
    """``ram_style``: where a memory goes (FINN's attribute; "auto" lets Yosys choose)."""
    return Knob(RAM_STYLES, "style", ("block", "distributed") if searched else (), "auto", fill)


# threshold units (MVAU / VVAU output stage, Thresholding): "parallel" compare bank, or the
# pipelined binary search qloom_thr_bsearch with its thresholds in LUTs or block RAM
THR_STYLES = ("parallel", "binsearch")
THR_MEM_STYLES = {"lut": "distributed", "bram": "block"}  # thr_mem -> its RAM_STYLE
BSEARCH_BRAM_MIN_DEPTH = 256  # qloom_thr_bsearch BRAM_MIN_DEPTH: shallower stages stay in LUTs
BSEARCH_MIN_THRESH = 4  # the search tries the binary search from this many thresholds


def threshold_knobs(num_thresh: int) -> dict[str, Knob]:
    """``thr_style`` (parallel | binsearch) and ``thr_mem`` (lut | bram: where the binary
    search keeps its thresholds) of a layer with ``num_thresh`` thresholds per channel;
    searched from BSEARCH_MIN_THRESH thresholds (below that a search saves at most a
    comparator), absent from folding.json unless set."""
    s = num_thresh >= BSEARCH_MIN_THRESH
    return {"thr_style": Knob(THR_STYLES, "style", THR_STYLES if s else (), "parallel", fill=False),
            "thr_mem": Knob(tuple(THR_MEM_STYLES), "style", tuple(THR_MEM_STYLES) if s else (), "lut",
                            fill=False)}


def threshold_illegal(fold: dict, nf: int) -> str | None:
    """thr_mem other than lut only with the binary search (a duplicate configuration); the
    binary search only with NF = ``nf`` > 1 channel groups: with NF = 1 the thresholds are
    constants, which the parallel bank compares against far more cheaply (measured, Yosys
    xc7, 16 channels, PE 16, 63 thresholds: parallel 1,658 LUT / 463 FF, binary search
    3,083 LUT / 3,212 FF)."""
    bs = fold.get("thr_style", "parallel") == "binsearch"
    if fold.get("thr_mem", "lut") != "lut" and not bs:
        return "thr_mem applies to thr_style binsearch only"
    if bs and nf == 1:
        return "thr_style binsearch needs more than one channel group (NF = channels / PE > 1)"
    return None


FIFO_RAM_STYLES = ("auto", "block", "distributed", "registers")  # qloom_fifo RAM_STYLE

# Knobs of every layer, whatever its operator. fifo_ram_style: where the FIFO in front of
# the layer keeps its beats (FINN's StreamingFIFO ram_style; "auto" lets Yosys choose).
LAYER_KNOBS: dict[str, Knob] = {
    "fifo_ram_style": Knob(FIFO_RAM_STYLES, "style", (), "auto", fill=False),
}


@dataclass(frozen=True, eq=False)
class HWOp:
    """A streaming hardware operator of the dataflow chain.

    Attributes
    ----------
    name : str
        Layer name, unique in the graph (used in folding.json, reports, RTL instances).
    in_shape, out_shape : tuple of int
        Per-frame tensor shapes in stream order (NHWC images ``(H, W, C)``, vectors ``(C,)``).
    in_type, out_type : IntType
        Element types of the input and output streams.
    """

    op_type: ClassVar[str] = "HWOp"
    # Verilog module name -> resource model ``parts_<module>(family, files, **params)``
    models: ClassVar[dict[str, Callable]] = {}

    name: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    in_type: IntType
    out_type: IntType

    def execute(self, x: np.ndarray) -> np.ndarray:
        """Numpy semantics: x integer array (N, *in_shape) -> integer array (N, *out_shape)
        (values exact; dtype any integer dtype wide enough, see ``storage_dtype``).
        A join (:attr:`n_inputs` > 1) takes one array per input, (N, *in_shapes[k])."""
        raise NotImplementedError

    # ---- streams: one in, one out unless the operator is a join or a fork
    n_inputs: ClassVar[int] = 1

    @property
    def out_ports(self) -> int:
        """Output streams (a fork: one per consumer input; each carries the whole output)."""
        return 1

    @property
    def in_shapes(self) -> tuple:
        """Per-frame shape of each input stream, in input order."""
        return (tuple(self.in_shape),)

    @property
    def in_types(self) -> tuple:
        """Element type of each input stream, in input order."""
        return (self.in_type,)

    @property
    def macs(self) -> int:
        """Multiply-accumulates per frame."""
        return 0

    @property
    def weight_count(self) -> int:
        """Number of weights stored on chip."""
        return 0

    @property
    def threshold_count(self) -> int:
        return 0

    def describe(self) -> str:
        """Short parameter summary for tables."""
        return ""

    # ---- the memory-optimized engine (qloom.mo): this operator as an engine layer
    def mo_lowering(self) -> dict:
        """This operator as a layer of the MO engine (:mod:`qloom.mo.schedule`), as data:
        ``opcode`` (the engine unit: "MVAU", "MAXPOOL", "SUMPOOL", "THRESH", "LABELSELECT",
        "ADD"; None for no engine layer: the operator's outputs are its input tensor in
        DRAM, read once per consumer (a fork)), or ``window`` (a sliding window generator:
        {kernel, stride, pads, pad_value}, fused into its consumer by :meth:`mo_windowed`),
        and the layer fields it sets: ``kernel``/``stride`` (rows, cols), ``pads`` (t, l, b,
        r), ``pad_value``, ``flat`` (a vector input), ``weights`` (MH, MW) int64 with
        ``weight_type``, ``thresholds`` (rows, NT) int64, ``out_bias``, ``acc_range`` (lo,
        hi: the accumulator's integer range), ``macs``, ``k`` (LabelSelect), ``mul`` (the
        join's integer weights), ``absorbs_thresholds`` (a following Thresholding fuses
        into the layer). Default: QloomError, no engine unit for this operator."""
        from qloom.errors import QloomError

        raise QloomError(f"layer {self.name}: the MO engine has no {self.op_type} unit yet (it runs "
                         "SWG+MVAU, MVAU, max/sum pools, Thresholding, LabelSelect, DuplicateStreams, "
                         "AddStreams); build it with --arch df")

    def mo_windowed(self, window: dict) -> dict:
        """:meth:`mo_lowering` behind a sliding window generator (``window``: its
        :meth:`mo_lowering`, plus ``name``). Default: QloomError (only an MVAU takes one)."""
        from qloom.errors import QloomError

        raise QloomError(f"layer {window['name']}: the MO engine's window generator feeds its MVAU only, "
                         f"not {self.op_type}")

    # ---- folding (FINN-R Sec. 4.2): the knobs this operator offers, and their effect
    def knob_space(self) -> dict[str, Knob]:
        """Every knob of this layer with its legal values, in folding.json order: the
        operator's own (:meth:`own_knobs`), then those every layer has (:data:`LAYER_KNOBS`)."""
        return {**self.own_knobs(), **LAYER_KNOBS}

    def own_knobs(self) -> dict[str, Knob]:
        """This operator's knobs (default: PE lanes over the output channels)."""
        return {"PE": Knob(tuple(divisors(self.fold_channels)))}

    def illegal(self, fold: dict) -> str | None:
        """Why a combination of knob values (each legal alone) is not realizable, or None."""
        return None

    def legal(self, fold: dict) -> bool:
        return self.illegal(fold) is None

    @property
    def fold_channels(self) -> int:
        """The channel count the PE knob divides (innermost stream dimension)."""
        return int(self.out_shape[-1])

    def in_elems(self, fold: dict) -> int:
        """Elements per input stream beat under ``fold``."""
        return int(fold.get("PE", 1))

    def out_elems(self, fold: dict) -> int:
        """Elements per output stream beat under ``fold``."""
        return int(fold.get("PE", 1))

    def in_len(self, fold: dict, k: int = 0) -> int:
        """Elements per vector (pixel) on input stream ``k`` under ``fold``: the channels, or
        more when the folding pads the vector (an MVAU whose SIMD does not divide MW reads
        ceil(MW/SIMD)*SIMD elements, the padding weighted zero). A multiple of
        :meth:`in_elems`."""
        return int(self.in_shapes[k][-1])

    def out_len(self, fold: dict) -> int:
        """Elements per output vector (pixel) on the stream under ``fold``: the channels, or
        more when the folding pads it (an MVAU whose PE does not divide MH emits
        ceil(MH/PE)*PE, the padding last). A multiple of :meth:`out_elems`."""
        return int(self.out_shape[-1])

    def in_frame_len(self, fold: dict, k: int = 0) -> int:
        """Elements per frame on input stream ``k``: pixels x :meth:`in_len` (what the glue
        in front delivers; a dense layer reads a whole flattened image as one vector)."""
        return int(np.prod(self.in_shapes[k][:-1], dtype=np.int64)) * self.in_len(fold, k)

    def out_frame_len(self, fold: dict) -> int:
        """Elements per frame on the output stream: pixels x :meth:`out_len`."""
        return int(np.prod(self.out_shape[:-1], dtype=np.int64)) * self.out_len(fold)

    @property
    def pixels(self) -> int:
        """Vectors per frame in the input stream (pixels of an image, 1 for a vector)."""
        return int(np.prod(self.in_shape[:-1], dtype=np.int64))

    def cycles(self, fold: dict) -> int:
        """Clock cycles per frame at steady state (the operator's II), no stalls."""
        raise NotImplementedError

    def cycles_fed(self, fold: dict, in_rate: float) -> int:
        """Cycles per frame when the input arrives at most ``in_rate`` elements per cycle:
        an operator cannot finish a frame before its input has arrived."""
        n_in = max(int(np.prod(s[:-1], dtype=np.int64)) * self.in_len(fold, k) for k, s in enumerate(self.in_shapes))
        return max(self.cycles(fold), math.ceil(n_in / in_rate))

    def out_times(self, fold: dict, a_in: np.ndarray) -> np.ndarray:
        """Latency model (qloom.dse.latency): the cycle each output granule (pixel, or the
        vector) of frame 0 leaves, given the cycles ``a_in`` its input granules arrived
        (a join: the later of its inputs' arrivals, granule by granule)."""
        raise NotImplementedError

    def out_beat_cycles(self, fold: dict) -> int:
        """Cycles between consecutive output beats within a granule (pixel or vector) at
        full rate: 1 (a burst) unless the operator spaces them (an MVAU emits a PE-wide
        beat every SF = MW/SIMD cycles). The latency model lets a slow link (a DWC to a
        narrower width) overlap that spacing."""
        return 1

    @property
    def out_granules(self) -> int:
        """Output pixels of an image stream, 1 for a vector."""
        shp = self.out_shape
        return int(shp[0]) * int(shp[1]) if len(shp) == 3 else 1

    def input_fifo_depth(self, fold: dict, producer_burst: int) -> int:
        """Depth (in this layer's input beats) of the FIFO in front of it, given the
        producer's burst (its beats per output pixel): that burst, within 2..64."""
        return int(min(MAX_FIFO_BURST, max(2, producer_burst)))

    # ---- RTL and resources
    def rtl_missing(self, fold: dict) -> str | None:
        """Why this configuration has no RTL (then :meth:`rtl` raises), or None."""
        return None

    def rtl(self, fold: dict) -> RtlInstance:
        """The Verilog instance of this operator under ``fold`` (see qloom.rtl.generate).
        Raises QloomError naming the layer when :meth:`rtl_missing` gives a reason."""
        raise NotImplementedError

    def _no_rtl(self, fold: dict) -> None:
        why = self.rtl_missing(fold)
        if why:
            from qloom.errors import QloomError

            raise QloomError(f"layer {self.name}: {why}")

    def resources(self, fold: dict, family: str = "xc7", files: dict | None = None) -> dict:
        """{LUT, FF, BRAM18, URAM, DSP} of this operator's RTL under ``fold`` (FINN-R Sec. 5
        resource models, fitted to Yosys; see qloom.cost). Without ``files`` it builds only the
        threshold files (``RtlInstance.model_files``: the comparators Yosys constant-folds are
        priced as such). A configuration without RTL (:meth:`rtl_missing`) gets the lanes
        proxy: 10 LUT and 10 FF per PE*SIMD lane."""
        if self.rtl_missing(fold):
            lanes = self.parallelism(fold)
            return {"LUT": 10 * lanes, "FF": 10 * lanes, "BRAM18": 0, "URAM": 0, "DSP": 0}
        inst = self.rtl(fold)
        if files is None and inst.model_files is not None:  # the real thresholds
            files = inst.model_files()
        return result(self.models[inst.library_module](family=family, files=files, **inst.params), family)

    def parallelism(self, fold: dict) -> int:
        """Datapath lanes (PE * SIMD): the resource proxy of the default folding."""
        return int(fold.get("PE", 1)) * int(fold.get("SIMD", 1))


def divisors(n: int) -> list[int]:
    """Divisors of n, ascending (the legal PE/SIMD values: FINN-R folding constraint)."""
    n = int(n)
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


PAD_MAX_FRACTION = 8  # padded folds searched while the padding is at most 1/8 of the vector
PAD_PER_GAP = 2  # and at most this many between two consecutive divisors


def padded_lanes(n: int) -> list[int]:
    """Lane counts that do not divide ``n`` and that the search tries (non-divisor folding,
    the vector padded to ceil(n/v)*v elements): for each fold count f whose smallest lane
    count v = ceil(n/f) is not a divisor (other lane counts give the same folds with more
    lanes), that v, while the padding f*v - n is at most n / PAD_MAX_FRACTION; between two
    consecutive divisors the PAD_PER_GAP with the least padding. E.g. n = 64: 3, 5, 6, 11,
    13, 22 (66, 65, 66, 66, 65, 66 elements)."""
    n = int(n)
    cands = {}
    for f in range(2, n):
        v = -(-n // f)
        if n % v and f * v - n <= n // PAD_MAX_FRACTION:
            cands.setdefault(v, f * v - n)
    divs = divisors(n)
    out = []
    for lo, hi in zip(divs, divs[1:]):
        gap = sorted((pad, v) for v, pad in cands.items() if lo < v < hi)
        out += [v for _, v in gap[:PAD_PER_GAP]]
    return sorted(out)


def apply_thresholds(acc: np.ndarray, thresholds: np.ndarray, out_bias: int,
                     out_type: IntType) -> np.ndarray:
    """MultiThreshold semantics (FINN): ``out = #{k : acc >= T[c, k]} + out_bias``.

    Parameters
    ----------
    acc : int64 array (..., C)
        Accumulators, channel last.
    thresholds : int array (C, T)
        Per-channel thresholds, ascending along T.
    out_bias : int
        Added to the count (the lowest output level, e.g. -8 for INT4).
    out_type : IntType
        For the bipolar type the count (0 or 1) maps to -1 / +1 instead.

    Returns
    -------
    int64 array (..., C)
    """
    acc = np.asarray(acc)
    C, T = thresholds.shape
    if T <= 8:  # a few comparisons beat a search
        count = np.zeros(acc.shape, dtype=np.int16)
        for k in range(T):
            count += acc >= thresholds[:, k]
        count = count.astype(np.int64)
    else:
        # one searchsorted over all channels: shift channel c by c * span
        acc = acc.astype(np.int64)
        lo = min(int(thresholds.min()), int(acc.min(initial=0)))
        hi = max(int(thresholds.max()), int(acc.max(initial=0)))
        span = hi - lo + 2
        offs = np.arange(C, dtype=np.int64) * span
        flat_t = ((thresholds.astype(np.int64) - lo) + offs[:, None]).ravel()
        keys = (acc - lo) + offs
        count = np.searchsorted(flat_t, keys, side="right") - np.arange(C, dtype=np.int64) * T
    if out_type.bipolar:
        return (2 * count - 1).astype(storage_dtype(out_type))
    return (count + int(out_bias)).astype(storage_dtype(out_type))


def product_widths(IN_BITS, IN_SIGNED, W_BITS, W_SIGNED, ACC_BITS):
    """(a_bits, a_signed, b_bits, b_signed, y_bits) of the MVAU's / VVAU's ``$mul`` as Yosys sees
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


def _threshold_rows(T: np.ndarray, PE: int) -> tuple[np.ndarray, int, int]:
    """``T`` as (rows, thresholds) with its shape; ValueError when rows % PE != 0 or a row
    is not ascending (the layout both threshold memories need)."""
    if T.ndim == 1:
        T = T[:, None]
    rows, nt = T.shape
    if rows % PE:
        raise ValueError(f"{rows} rows not a multiple of PE={PE}")
    if nt > 1 and (np.diff(T, axis=1) < 0).any():
        raise ValueError("thresholds must be ascending along each row")
    return T, rows, nt


def threshold_words(T, PE: int, T_BITS: int) -> list[int]:
    """Threshold ROM words (``qloom_mvau`` and ``qloom_thresholding``) of a (rows x
    NUM_THRESH) array ``T`` (rows % PE == 0): NF words, word ``nf``, threshold ``(p, k)``
    at bits ``[(p*NUM_THRESH + k)*T_BITS +: T_BITS]`` = ``T[nf*PE + p][k]`` (signed two's
    complement, ascending in k). Raises ValueError on a layout violation."""
    T = np.asarray(T)
    T, rows, nt = _threshold_rows(T, PE)
    words = []
    for nf in range(rows // PE):
        word = 0
        for p in range(PE):
            for k in range(nt):
                t = int(T[nf * PE + p, k])
                v = pack_field(t, T_BITS, "threshold")
                if not -(1 << (T_BITS - 1)) <= t < (1 << (T_BITS - 1)):
                    raise ValueError(f"threshold {t} does not fit signed {T_BITS} bits")
                word |= v << ((p * nt + k) * T_BITS)
        words.append(word)
    return words


def bsearch_stages(num_thresh: int) -> int:
    """Compare stages of the binary-search threshold unit ``qloom_thr_bsearch``:
    S = ceil(log2(N + 1)) for N thresholds (N + 1 output levels)."""
    return max(1, int(num_thresh).bit_length())


def bsearch_words(T, PE: int, TB: int) -> list[list[int]]:
    """Stage memories of ``qloom_thr_bsearch`` (one word list per stage k = 0..S-1) for a
    (rows x N) array ``T`` of ascending thresholds (rows % PE == 0, NF = rows / PE): the
    thresholds padded to 2^S - 1 per row with the largest TB-bit value (above every input).
    Stage 0: NF words, lane ``p`` at ``[p*TB +: TB]`` = ``Tpad[nf*PE + p][2^(S-1) - 1]``;
    stage k >= 1: NF*2^(k-1) words, word ``nf*2^(k-1) + q``, lane ``p`` entry ``j`` at
    ``[(2p + j)*TB +: TB]`` = ``Tpad[nf*PE + p][((2q + j) << (S-k)) + 2^(S-k-1) - 1]``
    (signed two's complement). Binary search over sorted thresholds: FINN-R's
    (Blott et al. 2018) thresholding, the count's bits decided most significant first.
    Raises ValueError on a layout violation or a threshold that does not fit TB - 1 bits'
    range below the pad."""
    T = np.asarray(T, dtype=np.int64)
    T, rows, nt = _threshold_rows(T, PE)
    pad = (1 << (TB - 1)) - 1
    if T.size and (T.max() > pad or T.min() < -(1 << (TB - 1))):
        raise ValueError(f"thresholds do not fit signed {TB} bits")
    S = bsearch_stages(nt)
    Tp = np.full((rows, (1 << S) - 1), pad, dtype=np.int64)
    Tp[:, :nt] = T
    mask = (1 << TB) - 1
    NF = rows // PE
    stages = []
    for k in range(S):
        words = []
        if k == 0:
            for nf in range(NF):
                words.append(sum((int(Tp[nf * PE + p, (1 << (S - 1)) - 1]) & mask) << (p * TB)
                                 for p in range(PE)))
        else:
            for nf in range(NF):
                for q in range(1 << (k - 1)):
                    w = 0
                    for p in range(PE):
                        for j in range(2):
                            t = int(Tp[nf * PE + p, (((2 * q + j) << (S - k)) + (1 << (S - k - 1)) - 1)])
                            w |= (t & mask) << ((2 * p + j) * TB)
                    words.append(w)
        stages.append(words)
    return stages


def parts_bsearch(P0: Parts, family: str, PE: int, NF: int, XW: int, TB: int, NUM_THRESH: int,
                  RAM_STYLE: str, stage_words=None) -> None:
    """qloom_thr_bsearch added to ``P``: per lane and stage k a threshold memory (stage 0:
    NF x TB bits, stage k >= 1: NF*2^(k-1) x 2*TB bits, its read register included; the
    lane's words from ``stage_words`` (:func:`qloom.ops.base.bsearch_words`) when known),
    the input copies along the pipeline, the decided count bits, one comparator of
    max(XW, TB) bits per stage (features ``bs_cmp``/``bs_cmp_const``: its varying/constant
    bits, :func:`qloom.cost.parts.cmp_bits`) and the 2:1 candidate select
    of stages >= 1 (``bs_sel``: TB per stage and lane); features keyed by module
    ``qloom_thr_bsearch``, LUT-ROM lanes by the memory feature ``rom_bs``."""
    P = Parts("qloom_thr_bsearch")  # its own LUT coefficients, whichever module holds it
    S = bsearch_stages(NUM_THRESH)
    style0 = "logic" if str(RAM_STYLE) == "distributed" else str(RAM_STYLE)
    nfw = clog2(NF)
    cw = max(XW, TB)
    for p in range(PE):
        for k in range(S):
            w = TB if k == 0 else 2 * TB
            depth = NF << max(0, k - 1)
            style = "logic" if style0 == "block" and depth < BSEARCH_BRAM_MIN_DEPTH else style0
            # each lane's memory holds the whole PE-lane word; Yosys drops the other lanes'
            # bits of a LUT ROM, not of a block RAM (measured: 32 channels, PE 2, 63
            # thresholds: 4 BRAM18, 2 with lane-wide memories)
            full = style == "block"
            words = None
            if stage_words is not None:
                words = list(stage_words[k]) if full else [(x >> (p * w)) & ((1 << w) - 1) for x in stage_words[k]]
            if full:
                w = w * PE
            lanes = const_lanes_removed(words, w) if words is not None else w
            P.add_mem(Mem(f"bs{k}", depth, lanes, rom=True, style=style, feature="rom_bs"), family, words)
    # v, nf along stages 0..S-2; per lane x copies, pre bits (1 + 2 + ... + S-1), the count
    P.ff += (S + 1) + (nfw * (S - 1) if S > 1 else 0)
    P.ff += PE * (S * XW + S * (S - 1) // 2 + S)
    # per lane and stage one comparator; with the stage words known, its bits split as in
    # qloom.cost.parts.cmp_bits (a stage whose values are constant compares with a constant)
    var = cst = 0.0
    for p in range(PE):
        for k in range(S):
            if stage_words is None:
                var += cw
                continue
            f = {p: [p]} if k == 0 else {p: [2 * p, 2 * p + 1]}
            v, c = cmp_bits(stage_words[k], PE * (1 if k == 0 else 2), TB, cw, fields=f)
            var += v
            cst += c
    P.feat("bs_cmp", var)
    P.feat("bs_cmp_const", cst)
    P.feat("bs_sel", PE * (S - 1) * TB)
    P0.add(P)


def threshold_files(T, PE: int, bits: int, name: str, binsearch: bool) -> dict:
    """{file name: $readmemh text} of a (rows x NUM_THRESH) threshold array: the parallel
    bank's ROM ``name`` (:func:`threshold_words`, ``bits`` per threshold) or, with
    ``binsearch``, the stage memories ``name_s<k>.mem`` (:func:`bsearch_words`). Cached by
    content: the design-space search prices the same thresholds under many foldings."""
    T = np.ascontiguousarray(T)
    return dict(_threshold_texts(T.tobytes(), T.shape, str(T.dtype), int(PE), int(bits), name, bool(binsearch)))


@lru_cache(maxsize=256)
def _threshold_texts(data: bytes, shape, dtype: str, PE: int, bits: int, name: str, binsearch: bool) -> tuple:
    T = np.frombuffer(data, dtype=dtype).reshape(shape)
    if binsearch:
        return tuple(bsearch_files(name, bsearch_words(T, PE, bits), PE, bits).items())
    return ((name, memh_text(threshold_words(T, PE, bits), PE * T.shape[1] * bits)),)


def bsearch_files(prefix: str, stages: list, PE: int, TB: int) -> dict:
    """{file name: $readmemh text} of qloom_thr_bsearch's stage memories
    (``prefix_s<k>.mem``; words from :func:`qloom.ops.base.bsearch_words`)."""
    return {f"{prefix}_s{k}.mem": memh_text(words, PE * TB * (1 if k == 0 else 2))
            for k, words in enumerate(stages)}


__all__ = ["HWOp", "Knob", "RtlInstance", "apply_thresholds", "divisors", "ram_style_knob",
           "storage_dtype", "threshold_words", "RAM_STYLES", "RES_TYPES"]


@dataclass(frozen=True, eq=False)
class ChannelStreamOp(HWOp):
    """An operator that takes each pixel's channels in beats of PE lanes and emits at the
    same pace (Thresholding, the fork and the joins). Its Verilog parameters include
    ``CHANNELS`` and ``PE`` (:meth:`_vparams`); ``cycles_model(p, NUM_PIXELS)`` and
    ``latency_model(p)`` are the module's ``cycles_/latency_qloom_<op>`` functions (cycles
    per frame = NUM_PIXELS * CHANNELS / PE), and the streaming rule is an in-order server
    (``qloom.stream.serve``) plus the pipeline latency."""

    cycles_model: ClassVar[Callable]
    latency_model: ClassVar[Callable]

    def own_knobs(self) -> dict[str, Knob]:
        return {"PE": Knob(tuple(divisors(self.fold_channels)))}

    def _vparams(self, fold: dict) -> dict:
        return {"CHANNELS": int(self.in_shape[-1]), "PE": int(fold.get("PE", 1))}

    def cycles(self, fold: dict) -> int:
        return type(self).cycles_model(self._vparams(fold), NUM_PIXELS=self.pixels)

    def out_times(self, fold: dict, a_in: np.ndarray) -> np.ndarray:
        """C/PE beats per pixel, then the pipeline."""
        p = self._vparams(fold)
        return serve(a_in, type(self).cycles_model(p)) + type(self).latency_model(p)
