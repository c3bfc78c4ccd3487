"""Folding: how many PE and SIMD lanes each layer gets (FINN-R, Blott et al. 2018, Sec. 4.2).

A folding is the ``folding.json`` dict FINN users know::

    {"<layer>": {"PE": int, "SIMD": int, "ram_style": "auto|block|distributed",
                 "resType": "auto|lut|dsp", "parallel_window": 0|1}}

Operators declare their knobs (``HWOp.knobs``) and cycle model (``HWOp.cycles``); the
search here is generic. In a dataflow pipeline every layer works concurrently, so the
initiation interval (II, cycles per frame) is the slowest layer's cycles (FINN-R Sec. 4.3).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from qloom.errors import QloomError
from qloom.ir import HWGraph

RAM_STYLES = ("auto", "block", "distributed")
RES_TYPES = ("auto", "lut", "dsp")  # FINN's resType: products in LUTs or DSP slices
DEFAULT_LANES = 2048  # MAC lanes the default folding spreads over the layers


def fold_for_target(graph: HWGraph, target_cycles: int) -> dict:
    """Per layer, the folding with the fewest lanes (PE * SIMD) whose cycles per frame are
    at most ``target_cycles`` (producers raised where they would starve their consumer);
    the fastest where none is (then II > target)."""
    from qloom.dse.search import Space, lanes_cost

    space = Space(graph, lanes_cost)
    pick = space.at(max(target_cycles, space.min_cycles))
    out = space.folding(pick)
    for op in graph.nodes:
        if hasattr(op, "weights"):
            out[op.name]["ram_style"] = "auto"
            out[op.name].pop("resType", None)  # the RTL's default (LUT for narrow products)
        elif "ram_style" in out[op.name]:
            del out[op.name]["ram_style"]
    return out


def min_cycles(graph: HWGraph) -> int:
    """The smallest II any folding reaches (the slowest layer fully unfolded)."""
    from qloom.dse.search import Space, lanes_cost

    return Space(graph, lanes_cost).min_cycles


def default_folding(graph: HWGraph, lanes: int = DEFAULT_LANES) -> tuple[dict, int, str]:
    """A legal, balanced folding: II = max(fastest reachable, total MACs / ``lanes``).

    Returns (folding, target cycles, one-line explanation).
    """
    macs = sum(op.macs for op in graph.nodes)
    target = max(min_cycles(graph), math.ceil(macs / lanes))
    fold = fold_for_target(graph, target)
    why = (f"default folding: every layer folded to at most {target:,} cycles per frame "
           f"(max of the fastest reachable II and {macs:,} MACs / {lanes} lanes), "
           "fewest PE*SIMD lanes per layer")
    return fold, target, why


def stream_rate(p_elems: int, q_elems: int) -> int:
    """Elements per cycle that pass between a producer emitting ``p_elems`` per beat and a
    consumer taking ``q_elems`` per beat: the narrower side when one width divides the
    other (one DWC), their gcd otherwise (two DWCs through the gcd width)."""
    if p_elems % q_elems == 0 or q_elems % p_elems == 0:
        return min(p_elems, q_elems)
    return math.gcd(p_elems, q_elems)


def input_rates(graph: HWGraph, folding: dict) -> dict[str, int]:
    """Elements per cycle each layer's input stream can deliver (the host feeds the first
    layer one beat per cycle)."""
    rates = {}
    prev = None
    for op in graph.nodes:
        f = folding.get(op.name, {})
        if prev is None:
            rates[op.name] = op.in_elems(f)
        else:
            rates[op.name] = stream_rate(prev.out_elems(folding.get(prev.name, {})), op.in_elems(f))
        prev = op
    return rates


def graph_cycles(graph: HWGraph, folding: dict) -> dict[str, int]:
    """Cycles per frame of every layer under ``folding``, including the slow-down of a
    layer whose input stream delivers fewer elements per cycle than it consumes."""
    rates = input_rates(graph, folding)
    return {op.name: op.cycles_fed(folding.get(op.name, {}), rates[op.name]) for op in graph.nodes}


def validate_folding(graph: HWGraph, folding: dict, source: str = "folding") -> dict:
    """Check a user folding; fill absent layers and knobs with 1 / "auto".

    Raises QloomError naming the layer and the legal values.
    """
    if not isinstance(folding, dict):
        raise QloomError(f"{source}: expected a JSON object {{layer: {{PE, SIMD, ram_style}}}}")
    names = {op.name for op in graph.nodes}
    for k in folding:
        if k not in names and not k.startswith("_"):
            raise QloomError(f"{source}: unknown layer {k!r}; layers are {', '.join(sorted(names))}")
    out = {}
    for op in graph.nodes:
        cfg = dict(folding.get(op.name, {}))
        knobs = op.knobs()
        for key, val in cfg.items():
            if key == "ram_style":
                if val not in RAM_STYLES:
                    raise QloomError(f"{source}: layer {op.name}: ram_style {val!r}; expected one of {', '.join(RAM_STYLES)}")
            elif key == "resType" and hasattr(op, "weights"):
                if val not in RES_TYPES:
                    raise QloomError(f"{source}: layer {op.name}: resType {val!r}; expected one of {', '.join(RES_TYPES)}")
            elif key in knobs:
                if not isinstance(val, int) or val not in knobs[key]:
                    raise QloomError(f"{source}: layer {op.name}: {key}={val!r} is not legal; "
                                     f"expected one of {knobs[key]}")
            elif key in ("PE", "SIMD") and val == 1:
                pass
            else:
                raise QloomError(f"{source}: layer {op.name} ({op.op_type}): unknown knob {key!r}; "
                                 f"it has {', '.join(sorted(knobs)) or 'none'}")
        for key in knobs:
            cfg.setdefault(key, knobs[key][0])  # the smallest: 1 lane, serial window
        if not op.legal(cfg):
            raise QloomError(f"{source}: layer {op.name} ({op.op_type}): the combination "
                             f"{ {k: v for k, v in cfg.items() if k in knobs} } is not realizable"
                             + (" (parallel_window needs SIMD = all channels)" if "parallel_window" in knobs else ""))
        if hasattr(op, "weights"):
            cfg.setdefault("ram_style", "auto")
        out[op.name] = cfg
    return out


def load_folding(path, graph: HWGraph) -> dict:
    """Read and validate a folding.json file."""
    p = Path(path)
    if not p.is_file():
        raise QloomError(f"{p}: no such file (expected a folding.json)")
    try:
        data = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise QloomError(f"{p}: not valid JSON ({e})") from None
    return validate_folding(graph, data, str(p))
