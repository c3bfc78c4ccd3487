"""Tile-by-tile emulator of the MO engine: the executable specification of the MO
architecture (integer numpy). It knows nothing of the hardware graph: it reads the header
and the descriptor stream from a DRAM byte array, loads input rows, weight blocks and
thresholds from their addresses, computes each tile and writes its output rows back, exactly
as the engine does (qloom.mo.schedule, qloom.mo.layout). It must equal the DF emulator
(:func:`qloom.emulate.emulate`) frame for frame.

Per frame: the host writes the integer input stream (pixel records) at the header's
``in_addr``; the engine runs the descriptors until END; the host reads ``out_bytes`` at
``out_addr``.
"""
from __future__ import annotations

import numpy as np

from qloom.mo.layout import record_bytes, unpack, weights_from_records
from qloom.mo.schedule import (DESC_BYTES, FLAT, HAS_T, HEADER_BYTES, HEADER_FIELDS, IN_BIPOLAR,
                               IN_SIGNED, LOAD_IN, LOAD_W, MAGIC, OPCODES, VERSION, OUT_BIPOLAR, OUT_SIGNED,
                               STORE_OUT, W_BIPOLAR, W_SIGNED, Desc, check_buffers)
from qloom.mo.layout import pack

_OPS = {v: k for k, v in OPCODES.items()}


def header(dram) -> dict:
    """The image header (:data:`qloom.mo.schedule.HEADER_FIELDS`) of a DRAM byte array."""
    h = np.frombuffer(bytes(dram[:HEADER_BYTES]), dtype="<u4")
    head = {k: int(v) for k, v in zip(HEADER_FIELDS, h)}
    if head["magic"] != MAGIC:
        raise ValueError("not a qloom MO image (bad magic)")
    if head["version"] != VERSION:
        raise ValueError(f"qloom MO image version {head['version']}, this qloom reads {VERSION}")
    return head


def descriptors(dram) -> list[Desc]:
    """Every descriptor up to and including END, decoded from the DRAM bytes."""
    head = header(dram)
    out = []
    for j in range(head["n_desc"]):
        a = head["desc_addr"] + j * DESC_BYTES
        d = Desc.from_words(np.frombuffer(bytes(dram[a:a + DESC_BYTES]), dtype="<u4"))
        out.append(d)
        if d.opcode == OPCODES["END"]:
            break
    return out


def _windows(x: np.ndarray, row0: int, d: Desc, rows: int, pad_value: int) -> np.ndarray:
    """The windows of output rows [out_row0, +rows) over input rows x (in_rows, IW, C) that
    start at input row ``row0``: (rows, OW, KH, KW, C), pads filled with ``pad_value``."""
    kh, kw = d.k & 0xFFFF, d.k >> 16
    sh, sw = d.s & 0xFFFF, d.s >> 16
    pt, pl = d.pads & 0xFF, (d.pads >> 8) & 0xFF
    span = (rows - 1) * sh + kh
    wp = (d.ow - 1) * sw + kw
    P = np.full((span, wp, d.ic), pad_value, dtype=np.int64)
    top = d.out_row0 * sh - pt  # input row of the span's first row
    for j in range(span):
        iy = top + j
        if 0 <= iy < d.ih and row0 <= iy < row0 + len(x):
            cols = x[iy - row0]
            lo = max(0, -pl)
            n = min(d.iw, wp - pl) - lo
            P[j, pl + lo: pl + lo + n] = cols[lo:lo + n]
    win = np.lib.stride_tricks.sliding_window_view(P, (kh, kw), axis=(0, 1))  # (., ., C, kh, kw)
    win = win[: (rows - 1) * sh + 1: sh, : (d.ow - 1) * sw + 1: sw]
    return win.transpose(0, 1, 3, 4, 2)


def _count(acc: np.ndarray, T: np.ndarray) -> np.ndarray:
    """#{k : acc[..., c] >= T[c, k]} (MultiThreshold)."""
    return (acc[..., None] >= T).sum(axis=-1).astype(np.int64)


class EngineState:
    """The engine's on-chip buffers between tiles: input rows, the weight block with its
    thresholds, the output rows being assembled."""

    def __init__(self):
        self.inp = None
        self.in_row0 = 0
        self.w = None
        self.t = None
        self.out = None


def run_tile(dram: bytearray, d: Desc, st: EngineState, pe: int, simd: int) -> None:
    """Execute one descriptor ``d`` on ``dram`` (modified in place)."""
    op = _OPS[d.opcode]
    in_bits, w_bits, out_bits, t_bits = (d.bits >> s & 0xFF for s in (0, 8, 16, 24))
    if d.flags & LOAD_IN:
        raw = dram[d.in_addr:d.in_addr + d.in_bytes]
        st.inp = unpack(raw, d.in_rows * d.iw, d.ic, in_bits, bool(d.flags & IN_SIGNED),
                        bool(d.flags & IN_BIPOLAR)).reshape(d.in_rows, d.iw, d.ic)
        st.in_row0 = d.in_row0
        st.out = np.zeros((d.out_rows, d.ow, d.oc), dtype=np.int64)
    if d.flags & LOAD_W:
        if op == "MVAU":
            sf = -(-d.mw // simd)
            rec = unpack(dram[d.w_addr:d.w_addr + d.w_bytes], d.nfs * sf, pe * simd, w_bits,
                         bool(d.flags & W_SIGNED), bool(d.flags & W_BIPOLAR))
            st.w = weights_from_records(rec, d.nfs, sf, pe, simd)[:, :d.mw]
        elif op == "ADD":  # the second operand's rows
            st.w = unpack(dram[d.w_addr:d.w_addr + d.w_bytes], d.in_rows * d.iw, d.ic, w_bits,
                          bool(d.flags & W_SIGNED), bool(d.flags & W_BIPOLAR)).reshape(d.in_rows, d.iw, d.ic)
        if d.flags & HAS_T:
            rows = d.t_bytes // record_bytes(d.nt, t_bits)
            st.t = unpack(dram[d.t_addr:d.t_addr + d.t_bytes], rows, d.nt, t_bits, True)
    rows = d.out_rows
    if op == "MVAU":
        if d.flags & FLAT:
            x = st.inp.reshape(1, -1)
        else:
            x = _windows(st.inp, st.in_row0, d, rows, d.pad_value).reshape(rows * d.ow, -1)
        acc = x @ st.w.T  # (pixels, nfs*PE), int64: exact
        ch0 = d.nf0 * pe
        n = min(d.nfs * pe, d.mh - ch0)  # rows past MH are padding: computed, never written
        acc = acc[:, :n]
        if d.flags & HAS_T:
            y = _count(acc, st.t[:n])
            y = 2 * y - 1 if d.flags & OUT_BIPOLAR else y + d.out_bias
        else:
            y = acc
        st.out[..., ch0:ch0 + n] = y.reshape(rows, d.ow, n)
    elif op in ("MAXPOOL", "SUMPOOL"):
        win = _windows(st.inp, st.in_row0, d, rows, d.pad_value)
        st.out[...] = win.max(axis=(2, 3)) if op == "MAXPOOL" else win.sum(axis=(2, 3))
    elif op == "THRESH":
        y = _count(st.inp, st.t)
        st.out[...] = 2 * y - 1 if d.flags & OUT_BIPOLAR else y + d.out_bias
    elif op == "ADD":  # MUL0 * x0 + MUL1 * x1, then the fused thresholds
        acc = d.mh * st.inp + d.mw * st.w
        if d.flags & HAS_T:
            y = _count(acc, st.t)
            acc = 2 * y - 1 if d.flags & OUT_BIPOLAR else y + d.out_bias
        st.out[...] = acc
    elif op == "LABELSELECT":
        v = st.inp.reshape(-1)
        st.out[...] = np.argsort(-v, kind="stable")[: d.nfs].reshape(st.out.shape)
    else:
        raise ValueError(f"unknown opcode {d.opcode}")
    if d.flags & STORE_OUT:
        data = pack(st.out.reshape(-1, d.oc), out_bits, bipolar=bool(d.flags & OUT_BIPOLAR))
        assert len(data) == d.out_bytes, (len(data), d.out_bytes)
        dram[d.out_addr:d.out_addr + d.out_bytes] = data


def run_frame(image: bytes, q: np.ndarray, trace: list | None = None) -> np.ndarray:
    """One frame: ``q`` the integer input stream (any shape with in_h*in_w*in_c elements in
    stream order) -> the output tensor's elements, int64, flat in stream order (decoded with
    the last layer's output format from its descriptor). ``trace`` collects the descriptors
    run."""
    head = header(image)
    dram = bytearray(head["dram_bytes"])
    dram[:len(image)] = image
    fmt = head["in_fmt"]
    bits, bipolar = fmt & 0xFF, bool(fmt >> 9 & 1)
    x = np.asarray(q, dtype=np.int64).reshape(head["in_h"] * head["in_w"], head["in_c"])
    data = pack(x, bits, bipolar=bipolar)
    dram[head["in_addr"]:head["in_addr"] + len(data)] = data
    st = EngineState()
    last = None
    check_buffers(descriptors(dram), head)
    for d in descriptors(dram):
        if d.opcode == OPCODES["END"]:
            break
        run_tile(dram, d, st, head["pe"], head["simd"])
        last = d
        if trace is not None:
            trace.append(d)
    out_bits = last.bits >> 16 & 0xFF
    raw = dram[head["out_addr"]:head["out_addr"] + head["out_bytes"]]
    return unpack(raw, last.oh * last.ow, last.oc, out_bits, bool(last.flags & OUT_SIGNED),
                  bool(last.flags & OUT_BIPOLAR)).reshape(-1)


def emulate_mo(graph, image: bytes, x: np.ndarray) -> np.ndarray:
    """Like :func:`qloom.emulate.emulate` but through the MO engine: host quantizer
    (``graph.host_input``), the engine frame by frame on ``image``, host output mapping."""
    from qloom.emulate import check_input

    x = check_input(graph, x)
    q = graph.host_input(x)
    ys = np.stack([run_frame(image, q[i]) for i in range(len(q))])
    return graph.host_output(ys.reshape((len(q),) + tuple(graph.last.out_shape)))


def run_stream_mo(image: bytes, q: np.ndarray) -> np.ndarray:
    """The integer output streams of a batch of integer input streams (N, ...) -> (N, elems)."""
    return np.stack([run_frame(image, q[i]) for i in range(len(q))])
