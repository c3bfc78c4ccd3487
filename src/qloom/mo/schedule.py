"""The MO schedule compiler: a lowered hardware graph (a chain) and an engine size -> the
layer order, the tiling of feature maps and weights, one fixed-width descriptor per tile and
the DRAM image (FINN-R, Blott et al. 2018, Sec. 3.2: the memory-optimized architecture runs
the layers one after another on shared engines, parameters and activations in off-chip
memory).

Engine layers (``opcode``):

* ``MVAU`` (1): an MVAU of PE x SIMD lanes behind a sliding window generator: an SWG +
  MVAU pair of the graph (convolution), an MVAU on an image stream (pointwise, 1x1 window)
  or an MVAU on a vector (fully connected; the whole stored input tensor, flattened in
  stream order, is the vector: flag ``FLAT``); fused thresholds when the MVAU has them;
* ``MAXPOOL`` (2) / ``SUMPOOL`` (3): window max / sum per channel;
* ``THRESH`` (4): a standalone MultiThreshold per channel;
* ``LABELSELECT`` (5): the indices of the k largest of a vector (stable, lowest index
  first among equals);
* ``ADD`` (6): the join of a residual connection, ``MUL0*x0 + MUL1*x1`` elementwise over two
  stored tensors of one shape (``qloom.ops.addstreams``' integer alignment of the branches),
  then the thresholds of a following Thresholding when that is the sum's only consumer
  (fused: the wide sum never goes to DRAM). Descriptor fields reused: the second operand's
  rows at ``w_addr``/``w_bytes`` (its format in the ``w_bits`` byte and the W_SIGNED /
  W_BIPOLAR flags), MUL0 in ``mh`` and MUL1 in ``mw`` (signed); every tile carries LOAD_W
  (the second operand's rows and the thresholds);
* ``END`` (0) ends the stream.

Branching graphs: a fork (an operator whose lowering has no opcode: DuplicateStreams) is
free, its consumers read the one tensor it forwards from DRAM; layers run in the graph's
topological order, every tensor keeps its own DRAM region for the frame.

Tiling. A layer's output is cut into *row tiles* (consecutive output rows, all columns; the
input rows a tile's windows reach are loaded with it) so a tile's input fits one half of the
double-buffered input buffer and its output one half of the output buffer; an MVAU's
weights are cut into *weight blocks* of whole neuron folds (``nfb`` x PE output channels x
all MW columns, with their thresholds) that fit the weight and threshold buffers. Tiles run
row tile by row tile, weight block inside: the input rows load with a row tile's first block
(``LOAD_IN``), a layer with one weight block loads it once (``LOAD_W`` on its first tile
only), and the output rows are written after the last block (``STORE_OUT``). A layer's
first tile carries ``BARRIER``: its loads wait for every earlier store (its input is the
previous layer's output); the emulator needs no such order, the engine does.

DRAM image (byte addresses, little-endian; every region aligned to ``ALIGN`` = 64 bytes):

=============  =================================================================
0              header: 20 uint32 (:data:`HEADER_FIELDS`; the last four: the engine's
               buffer halves in bytes, so the image alone sizes the RTL engine that runs it)
128            descriptors: ``n_desc`` records of 32 uint32 (128 bytes,
               :data:`DESC_FIELDS`), the last an END
...            per engine layer: weight words, then threshold records
               (:mod:`qloom.mo.layout`)
image_bytes    feature maps, one region per tensor (the input first; not in
               ``image.bin``: zero until written), up to ``dram_bytes``
=============  =================================================================
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from qloom.errors import QloomError
from qloom.ir import HOST, HWGraph
from qloom.mo.layout import pack, record_bytes, weight_records
from qloom.types import IntType

ALIGN = 64
MAGIC = 0x4F4D4C51  # b"QLMO" little-endian
VERSION = 2  # 2: the header carries the engine's buffer halves (in_buf .. out_buf)
OPCODES = {"END": 0, "MVAU": 1, "MAXPOOL": 2, "SUMPOOL": 3, "THRESH": 4, "LABELSELECT": 5, "ADD": 6}
# descriptor flag bits
LOAD_IN, LOAD_W, STORE_OUT, FLAT, HAS_T, BARRIER = 1, 2, 4, 8, 16, 2048
IN_SIGNED, IN_BIPOLAR, W_SIGNED, W_BIPOLAR, OUT_SIGNED, OUT_BIPOLAR = 32, 64, 128, 256, 512, 1024
HEADER_FIELDS = ("magic", "version", "pe", "simd", "n_desc", "desc_addr", "in_addr", "in_bytes",
                 "out_addr", "out_bytes", "image_bytes", "dram_bytes", "in_h", "in_w", "in_c", "in_fmt",
                 "in_buf", "w_buf", "t_buf", "out_buf")
# the descriptor fields each buffer half must hold: (header field, descriptor bytes field)
BUFFER_LOADS = (("in_buf", "in_bytes"), ("w_buf", "w_bytes"), ("t_buf", "t_bytes"), ("out_buf", "out_bytes"))
HEADER_BYTES = 4 * len(HEADER_FIELDS)


def _fmt(t: IntType) -> int:
    """A tensor's element format word: bits | signed << 8 | bipolar << 9."""
    return t.bits | (int(t.signed and not t.bipolar) << 8) | (int(t.bipolar) << 9)


@dataclass(frozen=True)
class Engine:
    """The MO engine's size: PE x SIMD MVAU lanes (PE also the channels per cycle of the
    pool and thresholding units) and the bytes of ONE half of each double-buffered on-chip
    buffer (the engine has two of each: one is filled while the other is used)."""

    pe: int = 8
    simd: int = 8
    in_buf_bytes: int = 16384
    w_buf_bytes: int = 16384
    t_buf_bytes: int = 4096
    out_buf_bytes: int = 16384

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise QloomError(f"MO engine: {f.name} must be a whole number >= 1, got {v!r}")


@dataclass
class Desc:
    """One tile's descriptor: 32 uint32 words in this field order (:data:`DESC_FIELDS`).
    Geometry of the stored input (ih, iw, ic) and output (oh, ow, oc) tensors; window
    k = kh | kw << 16, stride s = sh | sw << 16, pads = t | l << 8 | b << 16 | r << 24;
    bits = in_bits | w_bits << 8 | out_bits << 16 | t_bits << 24; byte addresses and sizes
    of the input rows (in_addr/in_bytes), weight block (w_addr/w_bytes), its thresholds
    (t_addr/t_bytes) and output rows (out_addr/out_bytes); the tile's output rows
    [out_row0, out_row0 + out_rows) and input rows [in_row0, in_row0 + in_rows); its
    neuron folds [nf0, nf0 + nfs) (MVAU) or k (LABELSELECT); acc_bits (the accumulator
    width the RTL needs). ``layer`` (the engine layer index) is not stored."""

    opcode: int = 0
    flags: int = 0
    ih: int = 1
    iw: int = 1
    ic: int = 1
    oh: int = 1
    ow: int = 1
    oc: int = 1
    k: int = 0x10001
    s: int = 0x10001
    pads: int = 0
    pad_value: int = 0
    bits: int = 0
    mh: int = 0
    mw: int = 0
    nt: int = 0
    out_bias: int = 0
    in_addr: int = 0
    in_bytes: int = 0
    w_addr: int = 0
    w_bytes: int = 0
    t_addr: int = 0
    t_bytes: int = 0
    out_addr: int = 0
    out_bytes: int = 0
    out_row0: int = 0
    out_rows: int = 0
    in_row0: int = 0
    in_rows: int = 0
    nf0: int = 0
    nfs: int = 0
    acc_bits: int = 0
    layer: int = 0

    def words(self) -> np.ndarray:
        return np.array([getattr(self, f) & 0xFFFFFFFF for f in DESC_FIELDS], dtype="<u4")

    @classmethod
    def from_words(cls, w) -> "Desc":
        w = np.asarray(w, dtype="<u4").astype(np.int64)
        d = cls(**{f: int(v) for f, v in zip(DESC_FIELDS, w)})
        for f in ("pad_value", "out_bias", "mh", "mw"):  # signed fields (ADD: mh, mw the join weights)
            v = getattr(d, f)
            setattr(d, f, v - (1 << 32) if v >= (1 << 31) else v)
        return d


DESC_FIELDS = tuple(f.name for f in fields(Desc) if f.name != "layer")
DESC_WORDS = 32
DESC_BYTES = 4 * DESC_WORDS
assert len(DESC_FIELDS) == DESC_WORDS, len(DESC_FIELDS)


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


@dataclass
class Tensor:
    """A feature map in DRAM: (h, w, c) pixel records (qloom.mo.layout) at ``addr``."""

    name: str
    h: int
    w: int
    c: int
    type: IntType
    addr: int = 0

    @property
    def pixel_bytes(self) -> int:
        return record_bytes(self.c, self.type.bits)

    @property
    def row_bytes(self) -> int:
        return self.w * self.pixel_bytes

    @property
    def bytes(self) -> int:
        return self.h * self.row_bytes


@dataclass
class Layer:
    """One engine layer of the schedule (one or two graph operators)."""

    name: str
    opcode: str
    ops: tuple
    src: Tensor
    dst: Tensor
    kernel: tuple = (1, 1)
    stride: tuple = (1, 1)
    pads: tuple = (0, 0, 0, 0)  # t, l, b, r
    pad_value: int = 0
    flat: bool = False
    weights: np.ndarray | None = None  # (MH, MW)
    weight_type: IntType | None = None
    thresholds: np.ndarray | None = None  # (MH or C, NT)
    out_bias: int = 0
    t_bits: int = 0
    acc_bits: int = 0
    k: int = 0
    macs: int = 0
    src2: Tensor | None = None  # ADD: the second operand
    mul: tuple = (1, 1)  # ADD: the join's integer weights
    w_addr: int = 0
    t_addr: int = 0
    fold_bytes: int = 0  # weight bytes of one neuron fold (SF words)
    fold_t_bytes: int = 0  # threshold bytes of one neuron fold (PE records)
    nf: int = 1  # neuron folds of the layer (MH / PE, rounded up; 1 without weights)
    nfb: int = 1  # neuron folds per weight block
    rows_per_tile: int = 1
    tiles: list = field(default_factory=list)

    def summary(self) -> dict:
        return {"name": self.name, "opcode": self.opcode, "ops": list(self.ops),
                "in": [self.src.h, self.src.w, self.src.c, str(self.src.type), self.src.addr],
                "out": [self.dst.h, self.dst.w, self.dst.c, str(self.dst.type), self.dst.addr],
                **({"in2": [self.src2.h, self.src2.w, self.src2.c, str(self.src2.type), self.src2.addr],
                    "mul": list(self.mul)} if self.src2 is not None else {}),
                "kernel": list(self.kernel), "stride": list(self.stride), "pads": list(self.pads),
                "weights": None if self.weights is None else list(self.weights.shape),
                "w_addr": self.w_addr, "t_addr": self.t_addr, "rows_per_tile": self.rows_per_tile,
                "neuron_folds_per_block": self.nfb, "tiles": len(self.tiles), "macs": self.macs}


@dataclass
class Schedule:
    """The compiled MO schedule: ``layers`` in execution order, ``descs`` (every tile, then
    an END), the DRAM ``image`` (header, descriptors, weights, thresholds: ``image_bytes``
    bytes) and the total DRAM footprint ``dram_bytes`` with the feature maps."""

    engine: Engine
    layers: list
    descs: list
    image: bytes
    dram_bytes: int
    input: Tensor
    output: Tensor

    def summary(self) -> dict:
        return {"engine": asdict(self.engine), "image_bytes": len(self.image),
                "dram_bytes": self.dram_bytes, "descriptors": len(self.descs),
                "descriptor_bytes": DESC_BYTES, "input": {"addr": self.input.addr, "shape": [
                    self.input.h, self.input.w, self.input.c], "type": str(self.input.type)},
                "output": {"addr": self.output.addr, "shape": [self.output.h, self.output.w, self.output.c],
                           "type": str(self.output.type)},
                "layers": [L.summary() for L in self.layers]}


def _stored(name: str, shape, t: IntType) -> Tensor:
    shape = tuple(int(v) for v in shape)
    if len(shape) == 3:
        return Tensor(name, *shape, t)
    return Tensor(name, 1, 1, int(np.prod(shape)), t)


def _thr_bits(T: np.ndarray) -> int:
    return max(2, IntType.for_range(min(int(T.min()), -1), max(int(T.max()), 0)).bits)


def _acc_bits(lo: int, hi: int, thresholds) -> int:
    """Bits of the accumulator range [lo, hi] widened to the thresholds it is compared with."""
    if thresholds is not None:
        lo, hi = min(lo, int(thresholds.min())), max(hi, int(thresholds.max()))
    return max(2, IntType.for_range(min(lo, -1), hi).bits)


_LAYER_KEYS = ("kernel", "stride", "pads", "pad_value", "flat", "weights", "weight_type", "thresholds",
               "out_bias", "macs", "k", "mul")


def _layer(name: str, ops: tuple, src: Tensor, low: dict) -> Layer:
    """An engine layer from an operator's MO lowering (``HWOp.mo_lowering``)."""
    L = Layer(name, low["opcode"], ops, src, None, **{k: low[k] for k in _LAYER_KEYS if k in low})
    if L.thresholds is not None:
        L.t_bits = _thr_bits(L.thresholds)
    if L.weights is not None:
        L.acc_bits = _acc_bits(*low["acc_range"], L.thresholds)
        if L.flat and L.src.h * L.src.w * L.src.c != L.weights.shape[1]:
            raise QloomError(f"layer {name}: MW {L.weights.shape[1]} != the {L.src.h * L.src.w * L.src.c} "
                             "elements of its input")
    return L


def engine_layers(graph: HWGraph) -> list[Layer]:
    """Group the graph's operators into engine layers (module docstring), in topological
    order, each operator lowered by its own ``mo_lowering`` (a window generator fused into
    its consumer by the consumer's ``mo_windowed``; a Thresholding into a join that absorbs
    thresholds when it is the join's only consumer; a fork into nothing: its consumers read
    its input tensor); the feature map a layer writes gets its last operator's output shape
    (an image (H, W, C), or a vector (C,) stored as 1 x 1 x C). Raises QloomError (naming
    the layer) for an operator the engine has no unit for."""
    nodes = list(graph.nodes)
    tens = {HOST: _stored("input", graph.first.in_shape, graph.first.in_type)}
    only = {op.name: [c for c, _ in graph.consumers(op.name)] for op in nodes}
    layers, done = [], set()
    for i, op in enumerate(nodes):
        if op.name in done:
            continue
        srcs = [tens[p] for p in graph.producers(op.name)]
        low = op.mo_lowering()
        ops, last, name = (op.name,), op, op.name
        if "window" in low:
            nxt = graph.node(only[op.name][0]) if len(only[op.name]) == 1 else None
            if nxt is None or graph.producers(nxt.name) != (op.name,):
                what = "the output" if nxt is None and not only[op.name] else "several layers"
                raise QloomError(f"layer {op.name}: the MO engine's window generator feeds its MVAU "
                                 f"only, not {nxt.op_type if nxt is not None else what}")
            low = nxt.mo_windowed(dict(low["window"], name=op.name))
            ops, last, name = (op.name, nxt.name), nxt, nxt.name
        if low["opcode"] is None:  # a fork: its consumers read its input tensor
            tens[op.name] = srcs[0]
            done.add(op.name)
            continue
        if low.get("absorbs_thresholds") and len(only[op.name]) == 1 and op is not graph.last:
            nxt = graph.node(only[op.name][0])
            nlow = nxt.mo_lowering() if graph.producers(nxt.name) == (op.name,) else {}
            if nlow.get("opcode") == "THRESH":
                low = dict(low, thresholds=nlow["thresholds"], out_bias=nlow["out_bias"])
                ops, last = ops + (nxt.name,), nxt
        L = _layer(name, ops, srcs[0], low)
        if len(srcs) > 1:
            L.src2 = srcs[1]
            if (L.src2.h, L.src2.w, L.src2.c) != (L.src.h, L.src.w, L.src.c):
                raise QloomError(f"layer {op.name}: the MO engine's join needs two inputs of one shape")
        L.dst = _stored(last.name, last.out_shape, last.out_type)
        for nm in ops:
            tens[nm] = L.dst
            done.add(nm)
        layers.append(L)
    if not layers or tens.get(graph.last.name) is not layers[-1].dst:
        raise QloomError(f"layer {graph.last.name}: the MO engine needs the last layer as the output")
    return layers


def _in_rows(L: Layer, y0: int, y1: int) -> tuple[int, int]:
    """Input rows [lo, hi) the output rows [y0, y1) of a window layer reach (pads clipped)."""
    if L.flat:
        return 0, L.src.h
    kh, sh, pt = L.kernel[0], L.stride[0], L.pads[0]
    lo = max(0, y0 * sh - pt)
    hi = min(L.src.h, (y1 - 1) * sh - pt + kh)
    return lo, max(lo, hi)


def _tile_layer(L: Layer, e: Engine) -> None:
    """Choose rows per tile and neuron folds per weight block (module docstring)."""
    oh = L.dst.h
    if L.opcode in ("MVAU",):
        mh, mw = L.weights.shape
        sf, nf = -(-mw // e.simd), -(-mh // e.pe)
        wbits = 1 if L.weight_type.bipolar else L.weight_type.bits
        L.fold_bytes = sf * record_bytes(e.pe * e.simd, wbits)
        L.fold_t_bytes = 0 if L.thresholds is None else e.pe * record_bytes(L.thresholds.shape[1], L.t_bits)
        nfb = min(nf, e.w_buf_bytes // L.fold_bytes)
        if L.fold_t_bytes:
            nfb = min(nfb, e.t_buf_bytes // L.fold_t_bytes)
        if nfb < 1:
            raise QloomError(f"layer {L.name}: one neuron fold needs {L.fold_bytes:,} weight bytes and "
                             f"{L.fold_t_bytes:,} threshold bytes; the MO engine's buffers hold "
                             f"{e.w_buf_bytes:,} and {e.t_buf_bytes:,} (raise them or lower PE/SIMD)")
        L.nfb, L.nf = nfb, nf
    else:
        L.nf = 1
        if L.thresholds is not None:
            tb = L.thresholds.shape[0] * record_bytes(L.thresholds.shape[1], L.t_bits)
            if tb > e.t_buf_bytes:
                raise QloomError(f"layer {L.name}: its thresholds need {tb:,} bytes; the MO engine's "
                                 f"threshold buffer holds {e.t_buf_bytes:,}")
    if L.flat or L.opcode == "LABELSELECT":
        rows = oh
        need_in, need_out = L.src.bytes, L.dst.bytes
        if need_in > e.in_buf_bytes or need_out > e.out_buf_bytes:
            raise QloomError(f"layer {L.name}: its input ({need_in:,} bytes) and output ({need_out:,} "
                             f"bytes) must fit the MO engine's buffers ({e.in_buf_bytes:,} and "
                             f"{e.out_buf_bytes:,} bytes)")
    else:
        # r output rows reach at most (r - 1) * S_H + K_H input rows (fewer at the pads)
        kh, sh = L.kernel[0], L.stride[0]
        r_in = (e.in_buf_bytes // max(1, L.src.row_bytes) - kh) // sh + 1
        if e.in_buf_bytes >= L.src.bytes:
            r_in = oh
        rows = max(0, min(oh, r_in, e.out_buf_bytes // max(1, L.dst.row_bytes)))
        if L.src2 is not None:  # the join's second operand rows go to the weight buffer
            rows = min(rows, e.w_buf_bytes // max(1, L.src2.row_bytes))
            if rows == 0:
                raise QloomError(f"layer {L.name}: one row of the join's inputs needs {L.src.row_bytes:,} and "
                                 f"{L.src2.row_bytes:,} bytes; the MO engine's input and weight buffers hold "
                                 f"{e.in_buf_bytes:,} and {e.w_buf_bytes:,} (raise them)")
        if rows == 0:
            lo, hi = _in_rows(L, 0, 1)
            raise QloomError(f"layer {L.name}: one output row needs {(hi - lo) * L.src.row_bytes:,} input "
                             f"bytes and {L.dst.row_bytes:,} output bytes; the MO engine's buffers hold "
                             f"{e.in_buf_bytes:,} and {e.out_buf_bytes:,} (raise them)")
    L.rows_per_tile = rows


def _descs(L: Layer, e: Engine, index: int) -> list[Desc]:
    opc = OPCODES[L.opcode]
    it, ot = L.src.type, L.dst.type
    flags = ((IN_SIGNED if it.signed and not it.bipolar else 0) | (IN_BIPOLAR if it.bipolar else 0) |
             (OUT_SIGNED if ot.signed and not ot.bipolar else 0) | (OUT_BIPOLAR if ot.bipolar else 0) |
             (FLAT if L.flat else 0) | (HAS_T if L.thresholds is not None else 0))
    wbits = 0
    wt = L.weight_type if L.src2 is None else L.src2.type
    if wt is not None:
        flags |= (W_SIGNED if wt.signed and not wt.bipolar else 0) | (W_BIPOLAR if wt.bipolar else 0)
        wbits = 1 if wt.bipolar else wt.bits
    t, l, b, r = L.pads
    base = Desc(opcode=opc, flags=flags, ih=L.src.h, iw=L.src.w, ic=L.src.c, oh=L.dst.h, ow=L.dst.w, oc=L.dst.c,
                k=L.kernel[0] | (L.kernel[1] << 16), s=L.stride[0] | (L.stride[1] << 16),
                pads=t | (l << 8) | (b << 16) | (r << 24), pad_value=L.pad_value,
                bits=(1 if it.bipolar else it.bits) | (wbits << 8) | ((1 if ot.bipolar else ot.bits) << 16) |
                (L.t_bits << 24), out_bias=L.out_bias, acc_bits=L.acc_bits, layer=index)
    if L.weights is not None:
        base.mh, base.mw = (int(v) for v in L.weights.shape)
    if L.src2 is not None:
        base.mh, base.mw = (int(v) for v in L.mul)
    if L.thresholds is not None:
        base.nt = int(L.thresholds.shape[1])
    if L.opcode == "LABELSELECT":
        base.nfs = L.k
    out = []
    blocks = [(n0, min(L.nfb, L.nf - n0)) for n0 in range(0, L.nf, L.nfb)]
    for y0 in range(0, L.dst.h, L.rows_per_tile):
        y1 = min(L.dst.h, y0 + L.rows_per_tile)
        lo, hi = _in_rows(L, y0, y1)
        for j, (n0, nfs) in enumerate(blocks):
            d = Desc(**{f.name: getattr(base, f.name) for f in fields(Desc)})
            first_tile = y0 == 0
            d.flags |= ((LOAD_IN if j == 0 else 0) | (STORE_OUT if j == len(blocks) - 1 else 0) |
                        (BARRIER if first_tile and j == 0 else 0) |
                        (LOAD_W if (len(blocks) > 1 or first_tile) and (
                            L.weights is not None or L.thresholds is not None) else 0))
            d.in_row0, d.in_rows = lo, hi - lo
            d.in_addr, d.in_bytes = L.src.addr + lo * L.src.row_bytes, (hi - lo) * L.src.row_bytes
            d.out_row0, d.out_rows = y0, y1 - y0
            d.out_addr, d.out_bytes = L.dst.addr + y0 * L.dst.row_bytes, (y1 - y0) * L.dst.row_bytes
            if L.weights is not None:
                d.nf0, d.nfs = n0, nfs
                d.w_addr, d.w_bytes = L.w_addr + n0 * L.fold_bytes, nfs * L.fold_bytes
                if L.thresholds is not None:
                    d.t_addr, d.t_bytes = L.t_addr + n0 * L.fold_t_bytes, nfs * L.fold_t_bytes
            elif L.thresholds is not None:
                d.t_addr = L.t_addr
                d.t_bytes = L.thresholds.shape[0] * record_bytes(L.thresholds.shape[1], L.t_bits)
            if L.src2 is not None:  # ADD: the second operand's rows, every tile
                d.flags |= LOAD_W
                d.w_addr, d.w_bytes = L.src2.addr + lo * L.src2.row_bytes, (hi - lo) * L.src2.row_bytes
            out.append(d)
    return out


def compile_schedule(graph: HWGraph | list, engine: Engine, image: bool = True) -> Schedule:
    """Compile ``graph`` (a chain of SWG/MVAU/pool/Thresholding/LabelSelect operators, or
    the :func:`engine_layers` of one, which are copied) for ``engine``: engine layers,
    tiles, descriptors, DRAM image (module docstring). ``image=False`` plans only (sizes,
    addresses, descriptors; the image holds the header and descriptors, no parameters),
    for the search. Raises QloomError (naming the layer) when an operator has no engine
    unit or a tile cannot fit the engine's buffers."""
    from dataclasses import replace

    e = engine
    if isinstance(graph, list):
        layers, copies = [], {}

        def copy(t):
            return None if t is None else copies.setdefault(id(t), replace(t))

        for L in graph:
            L2 = replace(L, tiles=[])
            L2.src, L2.src2, L2.dst = copy(L.src), copy(L.src2), copy(L.dst)
            layers.append(L2)
    else:
        layers = engine_layers(graph)
    for L in layers:
        _tile_layer(L, e)
    n_desc = sum(len(range(0, L.dst.h, L.rows_per_tile)) * -(-L.nf // L.nfb) for L in layers) + 1
    desc_addr = _align(HEADER_BYTES)
    addr = _align(desc_addr + n_desc * DESC_BYTES)
    params = []  # (addr, bytes)
    for L in layers:
        if L.weights is not None:
            L.w_addr = addr
            n = L.nf * L.fold_bytes
            if image:
                rec = weight_records(L.weights, e.pe, e.simd)
                wb = pack(rec, L.weight_type.bits, bipolar=L.weight_type.bipolar)
                assert len(wb) == n
                params.append((addr, wb))
            addr = _align(addr + n)
        if L.thresholds is not None:
            T = L.thresholds
            if L.weights is not None:  # pad to whole PE folds with never-firing thresholds
                rows = L.nf * e.pe
                pad = np.full((rows - T.shape[0], T.shape[1]), (1 << (L.t_bits - 1)) - 1, dtype=np.int64)
                T = np.concatenate([T, pad])
            L.t_addr = addr
            n = T.shape[0] * record_bytes(T.shape[1], L.t_bits)
            if image:
                params.append((addr, pack(T, L.t_bits)))
            addr = _align(addr + n)
    image_bytes = addr
    tensors = [layers[0].src] + [L.dst for L in layers]  # the first layer reads the input
    assert all(id(t) in {id(u) for u in tensors} for L in layers for t in (L.src, L.src2) if t is not None)
    for tn in tensors:
        tn.addr = addr
        addr = _align(addr + tn.bytes)
    dram_bytes = addr
    if dram_bytes >= 1 << 32:
        raise QloomError(f"the MO schedule needs {dram_bytes:,} bytes of DRAM; descriptors address 4 GiB")
    descs = []
    for i, L in enumerate(layers):
        L.tiles = _descs(L, e, i)
        descs += L.tiles
    descs.append(Desc(opcode=OPCODES["END"], layer=len(layers)))
    assert len(descs) == n_desc
    src = layers[0].src
    head = dict(magic=MAGIC, version=VERSION, pe=e.pe, simd=e.simd, n_desc=n_desc, desc_addr=desc_addr,
                in_addr=src.addr, in_bytes=src.bytes, out_addr=layers[-1].dst.addr,
                out_bytes=layers[-1].dst.bytes, image_bytes=image_bytes, dram_bytes=dram_bytes,
                in_h=src.h, in_w=src.w, in_c=src.c, in_fmt=_fmt(src.type), in_buf=e.in_buf_bytes,
                w_buf=e.w_buf_bytes, t_buf=e.t_buf_bytes, out_buf=e.out_buf_bytes)
    check_buffers(descs, head)
    img = bytearray(image_bytes if image else desc_addr + n_desc * DESC_BYTES)
    img[0:HEADER_BYTES] = np.array([head[k] for k in HEADER_FIELDS], dtype="<u4").tobytes()
    for j, d in enumerate(descs):
        img[desc_addr + j * DESC_BYTES: desc_addr + (j + 1) * DESC_BYTES] = d.words().tobytes()
    for a, data in params:
        img[a:a + len(data)] = data
    return Schedule(e, layers, descs, bytes(img), dram_bytes, src, layers[-1].dst)


def check_buffers(descs, head: dict) -> None:
    """Every descriptor's loads and its store fit one half of their buffer: ``in_bytes`` <=
    ``in_buf``, ``w_bytes`` <= ``w_buf``, ``t_bytes`` <= ``t_buf``, ``out_bytes`` <= ``out_buf``
    (bytes; ``head`` an image header dict, :data:`HEADER_FIELDS`). The compiler, the
    emulator and the RTL runner check it, so one buffer size holds from the search through
    the schedule to the RTL parameters. Raises QloomError naming the descriptor, the
    buffer, the bytes needed and held."""
    for j, d in enumerate(descs):
        for buf, key in BUFFER_LOADS:
            if getattr(d, key) > head[buf]:
                raise QloomError(f"MO descriptor {j}: {key} {getattr(d, key):,} "
                                 f"exceeds the engine's {buf} half of {head[buf]:,} bytes")


def write_schedule(sched: Schedule, out_dir: str | Path, extra: dict | None = None) -> dict:
    """Write ``out_dir``/image.bin (the DRAM image: header, descriptors, weights, thresholds)
    and ``out_dir``/schedule.json (engine, addresses, layers and their tiling, plus
    ``extra``), each atomically. Returns the JSON written."""
    from qloom.fileio import write_atomic

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    js = {**sched.summary(), **(extra or {})}
    write_atomic(out_dir / "image.bin", lambda p: Path(p).write_bytes(sched.image))
    write_atomic(out_dir / "schedule.json", lambda p: Path(p).write_text(json.dumps(js, indent=1) + "\n"))
    return js
