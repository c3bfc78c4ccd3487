"""The constant-weight (multiplierless) MVAU: a fully unrolled MVAU (PE = MH, SIMD = MW)
whose weight matrix is an adder graph, generated per layer around the stream shell
``qloom_mvau_const`` (rtl/verilog/qloom_mvau_const.v).

Algorithm: constant matrix-vector multiplication (CMVM) as shift-add with common
subexpressions shared between outputs. The adder graph comes from da4ml's CMVM solver
(Sun et al., "da4ml: Distributed Arithmetic for Real-time Neural Networks on FPGAs",
ACM TRETS 2025, arXiv:2507.04535; the library is used, its graph read as data, and the
Verilog here is qloom's own). Zero weights and all-zero columns take no adder. Every
node's width is exact: the node is an integer linear form of the inputs, its range the
exact range of that form over the input box. A register level is placed after every
``REG_LEVELS`` adder levels (the latency budget knob); the threshold counts (FINN's
MultiThreshold) follow in their own level.

Stream: one input vector of MW elements per beat (MW * IN_BITS bits), one output vector
of MH elements per beat; II = 1 cycle per vector.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qloom.cost.parts import Parts, coefficients
from qloom.instance import RtlInstance
from qloom.ops.fifo import parts_qloom_fifo
from qloom.types import IntType

# How far Verilator may be from cycles_/latency_qloom_mvau_const (relative, cycles): exact
CYCLE_TOLERANCE = {"qloom_mvau_const": (0.0, 0)}

REG_LEVELS = (1, 2, 3, 4, 6, 8, 64)  # adder levels between registers (the knob's values)
DEFAULT_REG_LEVELS = 3
PART_BITS = 3000  # adder/register bits per synthesized sub-module (about 2.5k LUT: Yosys in ~1 min)
DELAY_SLACK = 2  # adder levels the CMVM solver may add beyond the minimum depth, for fewer adders


def _sbits(lo: int, hi: int) -> int:
    """Bits of the two's complement field holding every integer in [lo, hi] (>= 1)."""
    b = 1
    while not (-(1 << (b - 1)) <= lo and hi <= (1 << (b - 1)) - 1):
        b += 1
    return b


@dataclass(frozen=True)
class AdderGraph:
    """A constant matrix-vector product y = W x as a DAG of two-input adders.

    Node i is ``n_i = s_a * (n_a << sh_a) + s_b * (n_b << sh_b)`` (``ops[i] = (a, s_a,
    sh_a, b, s_b, sh_b)``; ``a = -1``: input ``b`` itself), an integer; ``lo[i]..hi[i]``
    its exact range, ``level[i]`` its adder depth. Output j is ``s * (n_k << sh)``
    (``outs[j] = (k, s, sh)``; ``k = -1``: the constant 0)."""

    n_in: int
    ops: tuple
    lo: tuple
    hi: tuple
    level: tuple
    outs: tuple

    @property
    def adders(self) -> int:
        return sum(1 for op in self.ops if op[0] >= 0)

    @property
    def depth(self) -> int:
        """Adder levels from the inputs to the deepest output."""
        return max([self.level[k] for k, _, _ in self.outs if k >= 0] or [0])

    def width(self, i: int) -> int:
        return _sbits(self.lo[i], self.hi[i])

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """x int (N, n_in) -> y int64 (N, n_out), node by node (the adder graph's own
        arithmetic; a test compares it with ``x @ W.T``)."""
        x = np.asarray(x, dtype=np.int64)
        v = []
        for op in self.ops:
            a, sa, sha, b, sb, shb = op
            if a < 0:
                v.append(x[:, b])
            else:
                v.append(sa * (v[a] << sha) + sb * (v[b] << shb))
        cols = [np.zeros(len(x), np.int64) if k < 0 else s * _shift(v[k], sh) for k, s, sh in self.outs]
        return np.stack(cols, axis=1)


def _shift(v, sh: int):
    """v * 2**sh for an integer array (sh < 0: an exact right shift, the low bits are 0)."""
    return v << sh if sh >= 0 else v >> -sh


def adder_graph(W: np.ndarray, in_lo: int, in_hi: int) -> AdderGraph:
    """The adder graph of y = W x for an integer (MH, MW) matrix ``W`` and inputs in
    [in_lo, in_hi] (da4ml's CMVM solver; its solution is checked against ``x @ W.T`` on
    the corners of the input range and random inputs: RuntimeError if it differs)."""
    W = np.asarray(W, dtype=np.int64)
    key = (W.shape, W.tobytes(), int(in_lo), int(in_hi))
    return _adder_graph(key)


@lru_cache(maxsize=64)
def _adder_graph(key) -> AdderGraph:
    shape, data, in_lo, in_hi = key
    W = np.frombuffer(data, dtype=np.int64).reshape(shape)
    mh, mw = W.shape
    from da4ml.cmvm import solve  # a library dependency only where the unit is used

    # hard_dc: adder levels allowed beyond the minimum depth (da4ml delay constraint)
    pipe = solve(np.ascontiguousarray(W.T, dtype=np.float32), hard_dc=DELAY_SLACK,
                 qintervals=[(float(in_lo), float(in_hi), 1.0)] * mw)
    ops: list = []
    expo: list = []  # node value = n * 2**expo
    coef: list = []  # node value as float64 coefficients over the inputs (exact: dyadic)
    # terms of the current stage's inputs: (node, sign, exponent of the value)
    terms = []
    for j in range(mw):
        ops.append((-1, 1, 0, j, 1, 0))
        expo.append(0)
        c = np.zeros(mw)
        c[j] = 1.0
        coef.append(c)
        terms.append((j, 1, 0))
    for sol in pipe.solutions:
        local: dict[int, tuple] = {}  # da4ml buffer index -> (node, sign, exponent)
        for i, op in enumerate(sol.ops):
            if op.opcode == -1:
                k, s, e = terms[op.id0]
                local[i] = (k, s, e + sol.inp_shifts[op.id0])
            elif op.opcode in (0, 1):
                (ka, sa, ea), (kb, sb, eb) = local[op.id0], local[op.id1]
                eb += op.data
                if op.opcode == 1:
                    sb = -sb
                e = min(ea, eb)
                ops.append((ka, sa, ea - e, kb, sb, eb - e))
                expo.append(e)
                coef.append(_combine(coef, expo, ka, sa, ea, kb, sb, eb))
                local[i] = (len(ops) - 1, 1, e)
            else:
                raise RuntimeError(f"da4ml returned opcode {op.opcode}, which a linear CMVM does not use")
        new = []
        for idx, sh, neg in zip(sol.out_idxs, sol.out_shifts, sol.out_negs):
            if idx < 0:
                new.append((-1, 1, 0))
            else:
                k, s, e = local[idx]
                new.append((k, -s if neg else s, e + sh))
        terms = new
    outs = list(terms)  # output j = s * (n_k << e)
    # ranges over the input box, from the exact coefficients (value / 2**expo = n)
    lo, hi = [], []
    for c, e in zip(coef, expo):
        cl, ch = c * in_lo, c * in_hi
        vlo, vhi = np.minimum(cl, ch).sum(), np.maximum(cl, ch).sum()
        lo.append(int(round(vlo / 2.0 ** e)))
        hi.append(int(round(vhi / 2.0 ** e)))
    level = []
    for a, _, _, b, _, _ in ops:
        level.append(0 if a < 0 else 1 + max(level[a], level[b]))
    for k, s, sh in outs:
        if k >= 0 and sh < 0:
            raise RuntimeError("da4ml solution has a fractional output")
    g = AdderGraph(mw, tuple(ops), tuple(lo), tuple(hi), tuple(level), tuple(outs))
    _check(g, W, in_lo, in_hi)
    return g


def _combine(coef, expo, ka, sa, ea, kb, sb, eb):
    """Coefficients over the inputs of the value s_a*n_a*2**ea + s_b*n_b*2**eb (``coef[k]``:
    those of node k's value n_k*2**expo[k]; float64, exact for these dyadic values)."""
    return sa * coef[ka] * 2.0 ** (ea - expo[ka]) + sb * coef[kb] * 2.0 ** (eb - expo[kb])


def _check(g: AdderGraph, W: np.ndarray, in_lo: int, in_hi: int) -> None:
    mh, mw = W.shape
    rng = np.random.default_rng(0)
    x = rng.integers(in_lo, in_hi + 1, size=(64, mw))
    x = np.concatenate([x, np.full((1, mw), in_lo), np.full((1, mw), in_hi)])
    if not np.array_equal(g.evaluate(x), x @ W.T):
        raise RuntimeError("the CMVM adder graph differs from W x")


# ----------------------------------------------------------------------------------------
# the output stage: thresholds, or an exact requantizer
# ----------------------------------------------------------------------------------------

MAX_SHIFT = 24  # the requantizer's largest right shift S (bits)


def csd_digits(m: int) -> list:
    """Canonical signed digits of m > 0: [(position, +1 or -1)], no two adjacent
    (Reitwiesner 1960; the fewest nonzero digits)."""
    out, k = [], 0
    while m:
        if m & 1:
            d = 2 - (m & 3)  # +1 when m = 1 mod 4, -1 when m = 3 mod 4
            out.append((k, d))
            m -= d
        m >>= 1
        k += 1
    return out


def requantizer(row, lo: int, hi: int, max_shift: int = MAX_SHIFT) -> tuple | None:
    """An integer requantizer equal to a threshold count on [lo, hi]: (M, B, S, cmin,
    cmax) with ``clip((a*M + B) >> S, cmin, cmax) == #{t in row: t <= a}`` for every
    integer a in [lo, hi] (arithmetic shift: floor), the smallest S <= ``max_shift``, or None.

    Exact by construction: between two consecutive distinct thresholds the count is
    constant and floor((a*M + B) / 2**S) is monotone, so it is enough that at every
    distinct live threshold v: floor((v*M + B)/2**S) >= c(v) and floor(((v-1)*M + B)/2**S)
    <= c(v-1), linear in (M, B) for each S (checked on all of [lo, hi] afterwards)."""
    row = np.sort(np.asarray(row, dtype=np.int64))
    cmin, cmax = int(np.searchsorted(row, lo, "right")), int(np.searchsorted(row, hi, "right"))
    vals = np.unique(row[(row > lo) & (row <= hi)])
    if len(vals) == 0:
        return (0, cmin, 0, cmin, cmax)
    c_at = np.searchsorted(row, vals, "right").astype(np.int64)
    c_below = np.searchsorted(row, vals - 1, "right").astype(np.int64)
    D = int(c_at[-1] - c_below[0])
    d = int(vals[-1] - vals[0] + 1)
    for S in range(max_shift + 1):
        P = 1 << S
        m_lo = max(1, ((D - 1) * P) // d)
        m_hi = -((-(D + 1) * P) // d)
        if m_hi - m_lo > 1 << 16:
            continue
        M = np.arange(m_lo, m_hi + 1, dtype=np.int64)[:, None]
        b_lo = (c_at * P - vals * M).max(axis=1)
        b_hi = ((c_below + 1) * P - 1 - (vals - 1) * M).min(axis=1)
        ok = np.nonzero(b_lo <= b_hi)[0]
        if len(ok):
            m, b = int(M[ok[0], 0]), int(b_lo[ok[0]])
            a = np.arange(lo, hi + 1, dtype=np.int64)
            got = np.clip((a * m + b) >> S, cmin, cmax)
            if np.array_equal(got, np.searchsorted(row, a, "right")):
                return (m, b, S, cmin, cmax)
    return None


# ----------------------------------------------------------------------------------------
# the generated Verilog, its cycles, latency and resources
# ----------------------------------------------------------------------------------------

def cycles_qloom_mvau_const(p) -> int:
    """Cycles per input vector: 1 (the whole matrix every cycle)."""
    return 1


def latency_qloom_mvau_const(p) -> int:
    """First input beat of an isolated vector -> its output beat, beyond the II: the core's
    DEPTH register levels, then the output FIFO's write and its output register (measured exactly in
    tests/rtl/test_qloom_mvau_const.py)."""
    return int(p["DEPTH"]) + 2


def credits_qloom_mvau_const(depth: int) -> int:
    """Beats in flight or queued that the output FIFO must hold for II = 1: DEPTH + 5 (the
    core, the FIFO's own register and the credit counter's)."""
    return int(depth) + 5


@dataclass(frozen=True)
class ConstLayer:
    """Everything the generated module of one layer needs: the adder graph, the input
    type, thresholds (MH, T) or None, the output bias/type, the register spacing."""

    graph: AdderGraph
    in_type: IntType
    thresholds: np.ndarray | None
    out_bias: int
    out_bits: int
    acc_bits: int
    reg_levels: int
    requant: tuple = ()  # per output: (M, B, S, cmin, cmax) or None (comparators)
    part_bits: int = 0  # sub-module size for synthesis (adder/register bits; 0: PART_BITS)
    fused: bool = False  # latency-first: accumulator -> output stage -> output FIFO unregistered

    def stage_of(self, i: int) -> int:
        """Pipeline stage of node i: inputs and adder levels 1..R in stage 0, a register
        level after every R adder levels."""
        lv = self.graph.level[i]
        return max(0, math.ceil(lv / self.reg_levels) - 1)

    @property
    def acc_stage(self) -> int:
        return max([self.stage_of(k) for k, _, _ in self.graph.outs if k >= 0] or [0])

    @property
    def depth(self) -> int:
        """Register levels of the core: up to the accumulators, plus one in front of the
        threshold comparators."""
        if self.thresholds is None:
            return self.acc_stage
        if self.fused:  # the output stage writes the output FIFO unregistered
            return self.acc_stage
        return self.acc_stage + 1 + (1 if self.has_requant else 0)

    @property
    def has_requant(self) -> bool:
        """A requantizer (its registered multiply) on some channel."""
        return any(r is not None and r[0] for r in self.requant)

    def out_ranges(self):
        g = self.graph
        res = []
        for k, s, sh in g.outs:
            if k < 0:
                res.append((0, 0))
                continue
            a, b = s * g.lo[k], s * g.hi[k]
            lo, hi = min(a, b), max(a, b)
            res.append((lo << sh, hi << sh) if sh >= 0 else (lo >> -sh, hi >> -sh))
        return res

    def live_thresholds(self):
        """Per output: (thresholds always true, the live thresholds) over its exact range."""
        out = []
        for j, ((lo, hi), row) in enumerate(zip(self.out_ranges(), self.thresholds)):
            if self.requant and self.requant[j] is not None:
                out.append((0, []))
                continue
            always = int(np.sum(row <= lo))
            live = [int(t) for t in row if lo < t <= hi]
            out.append((always, live))
        return out

    def counts(self) -> dict:
        """Resource features: adder bits, pipeline register bits, live comparators and
        their bits."""
        g = self.graph
        add_bits = sum(g.width(i) for i, op in enumerate(g.ops) if op[0] >= 0)
        last = {}  # node -> last stage it is read in
        for i, (a, _, _, b, _, _) in enumerate(g.ops):
            if a >= 0:
                for o in (a, b):
                    last[o] = max(last.get(o, 0), self.stage_of(i))
        fin = self.acc_stage
        for k, _, _ in g.outs:
            if k >= 0:
                last[k] = max(last.get(k, 0), fin)
        reg_bits = sum(g.width(k) * (st - self.stage_of(k)) for k, st in last.items())
        cmp_n = cmp_bits = 0
        if self.thresholds is not None and self.has_requant and not self.fused:
            reg_bits += self.out_bits * sum(1 for j in range(len(g.outs))
                                            if not (self.requant and self.requant[j] is not None))
        if self.thresholds is not None and not self.fused:
            reg_bits += sum(_sbits(lo, hi) for lo, hi in self.out_ranges())
            for (lo, hi), (_, live) in zip(self.out_ranges(), self.live_thresholds()):
                cmp_n += len(live)
                cmp_bits += len(live) * _sbits(lo, hi)
        rq_bits = 0  # the requantizers' adder bits (CSD terms + bias), registered
        for j, r in enumerate(self.requant or ()):
            if r is not None and r[0]:
                lo, hi = self.out_ranges()[j]
                ws = _sbits(min(lo * r[0] + r[1], -1), hi * r[0] + r[1])
                rq_bits += ws * len(csd_digits(r[0]))
                reg_bits += 0 if self.fused else ws
        return {"ADD_BITS": add_bits, "ADDERS": g.adders, "REG_BITS": reg_bits, "CMP_N": cmp_n,
                "CMP_BITS": cmp_bits, "RQ_BITS": rq_bits}

    def _requant_stmts(self, j: int, r: tuple) -> list:
        """Output j = (clip((acc*M + B) >>> S, cmin, cmax) + out_bias) mod 2**OUT_BITS:
        acc*M + B as shift-adds of M's canonical signed digits (no multiplier), registered,
        then the shift and the clip (statements, :meth:`statements`)."""
        m, b, sh, cmin, cmax = r
        ob = self.out_bits
        mask = (1 << ob) - 1
        lo, hi = self.out_ranges()[j]
        if m == 0 or lo == hi:
            c = min(max(((lo * m + b) >> sh), cmin), cmax)
            return [_Stmt(f"yo{j}", ob, False, False, f"{ob}'d{(c + self.out_bias) & mask}", 0)]
        ws = _sbits(min(lo * m + b, -1), hi * m + b)
        digits = csd_digits(m)
        a = f"acc{j}" if self.fused else f"acc{j}_q"
        terms = [f"({a} <<< {k})" if d > 0 else f"-({a} <<< {k})" for k, d in digits]
        terms.append(f"{ws}'sh{(b & ((1 << ws) - 1)):x}")
        wq = max(ws - sh, 2)
        cb = _sbits(-1, max(cmax, 1)) + 1
        wc = max(wq, cb)
        bias = self.out_bias & mask
        return [_Stmt(f"rs{j}", ws, True, not self.fused, " + ".join(terms), ws * len(digits)),
                _Stmt(f"rq{j}", wq, True, False, f"rs{j} >>> {sh}", 0),
                _Stmt(f"rc{j}", wc, True, False, f"rq{j} < {wc}'sd{cmin} ? {wc}'sd{cmin} : "
                      f"(rq{j} > {wc}'sd{cmax} ? {wc}'sd{cmax} : rq{j})", wc),
                _Stmt(f"yo{j}", ob, False, False, f"rc{j}[{ob - 1}:0]" + (f" + {ob}'d{bias}" if bias else ""),
                      ob if bias else 0)]

    def statements(self) -> list:
        """The core as a list of :class:`_Stmt` in dependency order: one named signal each
        (adder nodes ``n<i>_s<stage>``, their delay registers, accumulators ``acc<j>``,
        the output stage), reading the input vector ``x`` and earlier signals; output j
        of the core is ``yo<j>`` (OUT_BITS bits)."""
        g = self.graph
        ib = self.in_type.bits
        S: list = []
        have: dict = {}  # node -> highest stage with a signal

        def sig(k: int, st: int) -> str:
            s0 = self.stage_of(k)
            while have[k] < st:  # delay registers up to stage st
                t = have[k] + 1
                S.append(_Stmt(f"n{k}_s{t}", g.width(k), True, True, f"n{k}_s{t - 1}", g.width(k)))
                have[k] = t
            return f"n{k}_s{max(st, s0)}"

        for i, (a, sa, sha, b, sb, shb) in enumerate(g.ops):
            w = g.width(i)
            st = self.stage_of(i)
            if a < 0:
                e = f"x[{b * ib + ib - 1}:{b * ib}]"
                e = f"$signed({e})" if self.in_type.signed else f"$signed({{1'b0, {e}}})"
                cost = 0
            else:
                ta, tb = sig(a, st), sig(b, st)
                ta = ta if sha == 0 else f"({ta} <<< {sha})"
                tb = tb if shb == 0 else f"({tb} <<< {shb})"
                if sa > 0:
                    e = f"{ta} {'+' if sb > 0 else '-'} {tb}"
                elif sb > 0:
                    e = f"{tb} - {ta}"
                else:
                    e = f"-{ta} - {tb}"
                cost = w
            S.append(_Stmt(f"n{i}_s{st}", w, True, False, e, cost))
            have[i] = st
        fin = self.acc_stage
        ranges = self.out_ranges()
        for j, (k, s, sh) in enumerate(g.outs):
            w = _sbits(*ranges[j])
            if k < 0:
                e = f"{w}'sd0"
            else:
                t = sig(k, fin)
                t = t if sh == 0 else (f"({t} <<< {sh})" if sh > 0 else f"({t} >>> {-sh})")
                e = t if s > 0 else f"-{t}"
            S.append(_Stmt(f"acc{j}", w, True, False, e, w if s < 0 else 0))
        ob = self.out_bits
        if self.thresholds is None:
            for j in range(len(g.outs)):
                S.append(_Stmt(f"yo{j}", ob, False, False, f"acc{j}", 0))
            return S
        for j, (always, live) in enumerate(self.live_thresholds()):
            w = _sbits(*ranges[j])
            a = f"acc{j}" if self.fused else f"acc{j}_q"
            if not self.fused:
                S.append(_Stmt(a, w, True, True, f"acc{j}", w))
            r = self.requant[j] if self.requant else None
            if r is not None:
                S += self._requant_stmts(j, r)
                continue
            base = (always + int(self.out_bias)) & ((1 << ob) - 1)
            terms = [f"{ob}'d{base}"] + [
                f"{{{ob - 1}'d0, {a} >= {w}'sh{(t & ((1 << w) - 1)):x}}}" for t in live]
            cost = w * len(live) + ob * len(live)
            if self.has_requant and not self.fused:  # align with the requantizers' register level
                S.append(_Stmt(f"yc{j}", ob, False, True, " + ".join(terms), cost))
                S.append(_Stmt(f"yo{j}", ob, False, False, f"yc{j}", 0))
            else:
                S.append(_Stmt(f"yo{j}", ob, False, False, " + ".join(terms), cost))
        return S

    def parts(self) -> list:
        """The core's statements cut into consecutive groups of at most ``part_bits`` cost
        (adder and register bits) each: the sub-modules ``<module>_p<k>`` that synthesis
        runs separately (one group: no sub-module)."""
        groups, cur, c = [], [], 0
        for st in self.statements():
            if cur and c + st.cost > (self.part_bits or PART_BITS):
                groups.append(cur)
                cur, c = [], 0
            cur.append(st)
            c += st.cost
        if cur:
            groups.append(cur)
        return groups

    def part_names(self, module: str) -> tuple:
        n = len(self.parts())
        return tuple(f"{module}_p{k}" for k in range(n)) if n > 1 else ()

    def verilog(self, module: str, params: dict) -> str:
        """The text of ``module``: the shell ``qloom_mvau_const`` and the adder graph (flat,
        or in the sub-modules of :meth:`parts`, each also given as a black box when
        ``QLOOM_SYNTH_BLACKBOX`` is defined: qloom.synth then runs every sub-module alone
        and sums the counts)."""
        g = self.graph
        groups = self.parts()
        L = [f"// {module}: constant-weight MVAU generated by qloom (qloom.ops.mvau_const); do not edit.",
             f"// {len(g.outs)} x {g.n_in} matrix as {g.adders} adders over {g.depth} levels, "
             f"a register level every {self.reg_levels} adder levels, {self.depth} register levels"
             + (f", {len(groups)} sub-modules." if len(groups) > 1 else "."),
             "`default_nettype none", '`include "qloom_axis.vh"', ""]
        lint_off = ["/* verilator lint_off UNUSEDSIGNAL */", "/* verilator lint_off WIDTHEXPAND */",
                    "/* verilator lint_off WIDTHTRUNC */"]
        lint_on = ["/* verilator lint_on WIDTHTRUNC */", "/* verilator lint_on WIDTHEXPAND */",
                   "/* verilator lint_on UNUSEDSIGNAL */"]
        names = {}
        for grp in groups:
            for st in grp:
                names[st.name] = st
        outs = {f"yo{j}" for j in range(len(g.outs))}
        body: list = []
        if len(groups) == 1:
            body += [_decl(st) for st in groups[0]]
        else:
            owner = {st.name: k for k, grp in enumerate(groups) for st in grp}
            pos = {n: i for i, n in enumerate(names)}
            used_by: dict = {}
            for k, grp in enumerate(groups):
                for st in grp:
                    for r in _refs(st.expr, names):
                        used_by.setdefault(r, set()).add(k)
            cross = [n for n in names if n in outs or any(u != owner[n] for u in used_by.get(n, ()))]
            for n in cross:
                st = names[n]
                body.append(f"    wire {'signed ' if st.signed else ''}[{st.width - 1}:0] {n};")
            for k, grp in enumerate(groups):
                mine = {st.name for st in grp}
                ins = sorted({r for st in grp for r in _refs(st.expr, names) if r not in mine},
                             key=lambda n: pos.get(n, -1))
                outp = [st.name for st in grp if st.name in cross]
                ports = self._part_ports(grp, ins, outp, names)
                pm = f"{module}_p{k}"
                conns = ", ".join(f".{n}({n})" for n in ports["names"])
                body.append(f"    {pm} u_p{k} ({conns});")
                sub = [f"module {pm} (", ",\n".join(ports["decl"]), ");"]
                L += ["`ifdef QLOOM_SYNTH_BLACKBOX", "(* blackbox *)"] + sub + ["endmodule", "`else"]
                L += sub + lint_off
                for st in grp:
                    L.append(_decl(st, st.name in outp))
                L += lint_on + ["endmodule", "`endif", ""]
        L += ["/* verilator lint_off UNUSEDPARAM */", f"module {module} #("]
        L.append(",\n".join(f"    parameter integer {k} = {int(v)}" for k, v in params.items()))
        L += [") (", "    `QLOOM_AXIS_PORTS(IN_W, OUT_W)", ");", "/* verilator lint_on UNUSEDPARAM */"] + lint_off
        L += ["    wire [IN_W-1:0] x;", "    wire [OUT_W-1:0] y;",
              "    qloom_mvau_const #(.IN_W(IN_W), .OUT_W(OUT_W), .DEPTH(DEPTH), .CREDITS(CREDITS)) u_shell (",
              "        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),",
              "        .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),",
              "        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),",
              "        .core_x(x), .core_y(y)", "    );"]
        L += body
        ob = self.out_bits
        for j in range(len(g.outs)):
            L.append(f"    assign y[{j * ob + ob - 1}:{j * ob}] = yo{j};")
        L += lint_on + ["endmodule", "`default_nettype wire", ""]
        return "\n".join(L)

    def _part_ports(self, grp, ins, outp, names) -> dict:
        """Port names and declarations of one sub-module: ap_clk when it has a register,
        the input vector x when it reads it, the signals it reads and those read outside."""
        pn, decl = [], []
        if any(st.reg for st in grp):
            pn.append("ap_clk")
            decl.append("    input wire ap_clk")
        mw, ib = self.graph.n_in, self.in_type.bits
        for n in ins:
            pn.append(n)
            if n == "x":
                decl.append(f"    input wire [{mw * ib - 1}:0] x")
            else:
                st = names[n]
                decl.append(f"    input wire {'signed ' if st.signed else ''}[{st.width - 1}:0] {n}")
        for n in outp:
            st = names[n]
            decl.append(f"    output {'reg' if st.reg else 'wire'} {'signed ' if st.signed else ''}"
                        f"[{st.width - 1}:0] {n}")
            pn.append(n)
        return {"names": pn, "decl": decl}


@dataclass(frozen=True)
class _Stmt:
    """One signal of the generated core: ``name`` (``width`` bits, signed or not), a
    register (``reg``: loaded with ``expr`` every clock) or a wire equal to ``expr``;
    ``cost``: adder/register bits, what :meth:`ConstLayer.parts` balances."""

    name: str
    width: int
    signed: bool
    reg: bool
    expr: str
    cost: int


_IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


def _refs(expr: str, names) -> set:
    """The signals (core statement names, or the input vector ``x``) ``expr`` reads
    (identifiers after a ``'`` are literal digits, e.g. ``8'sh1f``)."""
    expr = re.sub(r"'s?[bodh][0-9a-fA-F_]+", "", expr)
    return {t for t in _IDENT.findall(expr) if t in names or t == "x"}


def _decl(st: _Stmt, port: bool = False) -> str:
    """The Verilog of one statement (``port``: declared in the port list already)."""
    t = f"{'signed ' if st.signed else ''}[{st.width - 1}:0] {st.name}"
    if st.reg:
        d = "" if port else f"    reg {t};\n"
        return d + f"    always @(posedge ap_clk) {st.name} <= {st.expr};"
    return f"    assign {st.name} = {st.expr};" if port else f"    wire {t} = {st.expr};"


def _cheaper_requantizer(row, lo: int, hi: int) -> tuple | None:
    """The channel's requantizer when one exists and the resource model prices it below
    its live comparators (coefficients of qloom_mvau_const in qloom/cost/coef/xc7.json),
    else None."""
    r = requantizer(row, lo, hi)
    if r is None or r[0] == 0:
        return r
    c = coefficients("xc7").get("qloom_mvau_const", {})
    live = [t for t in row if lo < t <= hi]
    cmp_lut = c.get("cmp_bits", 0.0) * len(live) * _sbits(lo, hi) + c.get("cnt", 0.0) * len(live)
    ws = _sbits(min(lo * r[0] + r[1], -1), hi * r[0] + r[1])
    rq_lut = c.get("rq_bits", 0.0) * ws * len(csd_digits(r[0]))
    return r if rq_lut < cmp_lut else None


def const_layer(weights, in_type: IntType, thresholds, out_bias: int, out_type: IntType,
                acc_type: IntType, reg_levels: int = DEFAULT_REG_LEVELS,
                requant: str = "auto", part_bits: int = 0, fused: bool = False) -> ConstLayer:
    """The :class:`ConstLayer` of an MVAU (integer, not bipolar, weights and inputs;
    output levels not bipolar: the caller checks). ``requant``: "auto" gives a channel whose
    threshold count equals an integer requantizer on its accumulator range
    (:func:`requantizer`: acc * M as shift-adds of M's canonical signed digits) that
    requantizer when the resource model prices it below the comparators, "always" whenever
    one exists, "never" keeps the comparators. ``part_bits``: the sub-module size for
    synthesis (:meth:`ConstLayer.parts`; 0: :data:`PART_BITS`). ``fused``: the latency-first
    output stage (no register from the accumulator through the requantizer or comparators
    to the output FIFO's write: one or two register levels fewer; the FIFO's storage is
    the layer's last register)."""
    W = np.asarray(weights, dtype=np.int64)
    lo, hi = acc_type.min, acc_type.max
    acc_bits = max(IntType.for_range(min(lo, -1), hi).bits, 2)
    out_bits = out_type.bits if thresholds is not None else acc_bits
    rq: tuple = ()
    if thresholds is not None and requant != "never":
        # per channel: the exact accumulator range, a requantizer where one exists
        wlo, whi = row_acc_ranges(W, in_type)
        pick = requantizer if requant == "always" else _cheaper_requantizer
        rq = tuple(pick(t, int(a), int(b)) for t, a, b in zip(np.asarray(thresholds), wlo, whi))
    g = adder_graph(W, in_type.min, in_type.max)
    return ConstLayer(g, in_type, None if thresholds is None else np.asarray(thresholds, np.int64),
                      int(out_bias), out_bits, acc_bits, int(reg_levels), rq, int(part_bits), bool(fused))


def row_acc_ranges(W, in_type: IntType) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) int64 arrays of MH entries: each row's reachable accumulator range over
    inputs in ``in_type`` (sum over the row of min / max of w * x at the input bounds), the
    range a per-channel requantizer must be exact on."""
    W = np.asarray(W, dtype=np.int64)
    a, b = W * in_type.min, W * in_type.max
    return np.minimum(a, b).sum(axis=1), np.maximum(a, b).sum(axis=1)


def const_instance(name: str, layer: ConstLayer, out_signed: bool) -> RtlInstance:
    """The generated ``qloom_mvau_const_<name>`` instance (file ``<name>_const.v``)."""
    module = f"qloom_mvau_const_{name}"
    mh, mw = len(layer.graph.outs), layer.graph.n_in
    params = dict(IN_W=mw * layer.in_type.bits, OUT_W=mh * layer.out_bits, DEPTH=layer.depth,
                  CREDITS=credits_qloom_mvau_const(layer.depth), **layer.counts())
    fname = f"{name}_const.v"
    return RtlInstance(module, params, layer.in_type.bits, layer.out_bits, out_signed,
                       lambda: {fname: layer.verilog(module, params)}, (fname,), library="qloom_mvau_const",
                       synth_parts=layer.part_names(module))


def parts_qloom_mvau_const(IN_W=8, OUT_W=8, DEPTH=1, CREDITS=3, ADD_BITS=0, ADDERS=0, REG_BITS=0,
                           CMP_N=0, CMP_BITS=0, RQ_BITS=0, family="xc7", files=None) -> Parts:
    """Constant-weight MVAU: LUTs per adder bit (one LUT beside the carry chain per sum
    bit) and per comparator bit (compare against a constant), the threshold count adders;
    flip-flops exact: the pipeline registers, DEPTH valid bits, the credit counter and
    the output FIFO (qloom_credit_out). Coefficients (qloom/cost/coef, xc7 and xcup alike)
    from three jet_w6a6 stages, Yosys 0.70 synth_xilinx -family xcup: 0.795 LUT per adder
    bit (MVAU_3: 1,703 LUT for 2,142 bits), 0.787 per requantizer bit and 0.216 per
    comparator bit (MVAU_2 with requantizers: 12,279 LUT; with 2,016 comparators: 14,531)."""
    P = Parts("qloom_mvau_const")
    P.add(parts_qloom_fifo(WIDTH=OUT_W, DEPTH=CREDITS, RAM_STYLE="distributed", family=family))
    P.ff += REG_BITS + DEPTH + math.ceil(math.log2(CREDITS + 1))
    P.feat("const", 1)
    P.feat("add_bits", ADD_BITS)
    P.feat("cmp_bits", CMP_BITS)
    P.feat("cnt", CMP_N)
    P.feat("rq_bits", RQ_BITS)  # requantizer: bias adder and clip above the shift
    return P
