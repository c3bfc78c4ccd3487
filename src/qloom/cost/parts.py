"""Resource-model plumbing (FINN-R, Blott et al., TRETS 2018, arXiv:1809.04570, Sec. 5:
resource and performance models): what an RTL instance is made of (:class:`Parts`) and how
its LUT features are priced by the fitted coefficients of each FPGA family.

Each operator module (qloom.ops.<op>) states, for each of its Verilog modules, a function
``parts_<module>(family, files, **params) -> Parts`` that lists the instance's memories
(mapped exactly by :mod:`qloom.cost.replay`), its exact flip-flop count, its DSPs and its
LUT *features* (counts such as PE*SIMD*IN_BITS*W_BITS for LUT products). LUTs are
``sum(feature * coefficient)``: the coefficients are data, one JSON file per family in
``qloom/cost/coef/`` (written by ``benchmarks/cost_model.py --fit --write``, with their
provenance); a feature that a family has not fitted uses the xc7 coefficient times the
module's ``_scale``. Results are in the units of ``synth.json`` (LUT includes LUT-RAM).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from qloom.cost.replay import Mem, clog2, map_memory, mem_cost

KEYS = ("LUT", "FF", "BRAM18", "URAM", "DSP")
FAMILIES = ("xc7", "xcup", "ecp5")
COEF_DIR = Path(__file__).with_name("coef")


@lru_cache(maxsize=None)
def coefficients(family: str) -> dict:
    """{module: {feature: LUTs per unit}} of ``family`` (qloom/cost/coef/<family>.json)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {', '.join(FAMILIES)}")
    return json.loads((COEF_DIR / f"{family}.json").read_text())["coefficients"]


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


def lut_of(P: Parts, family: str = "xc7") -> float:
    """LUTs of ``P``: its features times the family's coefficients; a feature the family
    has no coefficient for uses the xc7 one times the module's ``_scale`` (LUT-RAM LUTs
    are exact); the total times the instance module's ``_pnr`` (post-place ratio) when the
    family has one."""
    C = coefficients(family)
    base = coefficients("xc7")
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
    # post-place: the family's ratio of placed logic cells to the synthesized LUTs of the
    # instance's module (ECP5: nextpnr's TRELLIS_COMB over the LUT4 model; 1 when unfitted)
    return total * C.get(P.module, {}).get("_pnr", 1.0)


def result(P: Parts, family: str) -> dict:
    """{LUT, FF, BRAM18, URAM, DSP} of ``P`` on ``family`` (integers)."""
    return {"LUT": int(round(lut_of(P, family))), "FF": int(round(P.ff)), "BRAM18": P.bram18,
            "URAM": 0, "DSP": int(P.dsp)}


def mem_words(files, name):
    """Words of a $readmemh text in ``files`` ({name: text}), or None."""
    if not files or not name or name not in files:
        return None
    return list(_parse_memh(files[name]))


@lru_cache(maxsize=1024)
def _parse_memh(text: str) -> tuple:
    return tuple(int(t, 16) for t in text.split() if t and not t.startswith("//"))


def live_thresholds(words, n: int, bits: int, lo, hi):
    """Threshold words with the lanes of dead comparators zeroed, and the number of live
    comparators: a comparator is dead when its threshold is <= ``lo`` in every word
    (always true) or > ``hi`` in every word (never true). Memoized on the words (the
    folding search prices one layer's thresholds under many configurations)."""
    kept, live = _live_thresholds(tuple(words), n, bits, lo, hi)
    return list(kept), live


@lru_cache(maxsize=256)
def _live_thresholds(words: tuple, n: int, bits: int, lo, hi):
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
    return tuple(w & keep for w in words), float(n - dead)


def cmp_bits(words, n: int, bits: int, cw: int, lo=None, hi=None, group: int | None = None,
             fields=None):
    """Comparator bits of a threshold bank as Yosys keeps them: ``(variable, constant)``.

    ``words``: the threshold memory words (None: the worst case, ``(n*cw, 0)``), ``n``
    fields of ``bits`` (signed) each, compared against a ``cw``-bit input. A comparator whose
    threshold is the same in every word compares with a constant (``cw`` constant bits); a
    varying one is a compare of the ``b`` bit positions that vary across its values
    (variable bits) plus ``cw - b`` constant bits. Comparators that
    are dead (every value <= ``lo``: always true; > ``hi``: never true) are left out, and
    within each ``group`` of fields (the thresholds of one input lane) equal columns are one
    comparator (Yosys merges identical cells). ``fields``: explicit {comparator: [field
    indices]} whose values are pooled (a 2:1 select in front of one comparator)."""
    if words is None:
        k = len(fields) if fields is not None else n
        return float(k * cw), 0.0
    f = None if fields is None else tuple((c, tuple(ks)) for c, ks in fields.items())
    return _cmp_bits(tuple(words), n, bits, cw, lo, hi, group, f)


@lru_cache(maxsize=4096)
def _cmp_bits(words: tuple, n: int, bits: int, cw: int, lo, hi, group, fields):
    """:func:`cmp_bits` of known words (cached: the search prices the same thresholds
    under many foldings)."""
    mask = (1 << bits) - 1

    def col(k):
        vals = [((w >> (k * bits)) & mask) for w in words]
        return tuple(v - (1 << bits) if v >> (bits - 1) else v for v in vals)

    fields = dict(fields) if fields is not None else {k: [k] for k in range(n)}
    var = const = 0.0
    seen = set()
    for c, ks in fields.items():
        vals = []
        for k in ks:
            vals += col(k)
        if not vals:
            continue
        if (lo is not None and all(v <= lo for v in vals)) or (hi is not None and all(v > hi for v in vals)):
            continue
        key = ((c // group) if group else c, tuple(vals)) if len(ks) == 1 else (c, None)
        if len(ks) == 1 and group:
            if key in seen:
                continue
            seen.add(key)
        all_or, all_and = 0, mask
        for v in vals:
            all_or |= v & mask
            all_and &= v & mask
        b = min(cw, bin(all_or ^ all_and).count("1"))  # the bits that vary
        var += b
        const += cw - b
    return var, const


def const_lanes_removed(words, width: int) -> int:
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


def bw(v: int) -> int:
    """qloom_swg's bw(): bits of an unsigned value (at least 1)."""
    return clog2(v + 1) if v > 1 else 1
