"""Folding: how many PE and SIMD lanes each layer gets (FINN-R, Blott et al. 2018, Sec. 4.2).

A folding is the ``folding.json`` dict FINN users know::

    {"<layer>": {"PE": int, "SIMD": int, "ram_style": "auto|block|distributed"}}

Operators declare their knobs (``HWOp.knobs``) and cycle model (``HWOp.cycles``); the
search here is generic. In a dataflow pipeline every layer works concurrently, so the
initiation interval (II, cycles per frame) is the slowest layer's cycles (FINN-R Sec. 4.3).
"""
from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

from qloom.errors import QloomError
from qloom.ir import HWGraph

RAM_STYLES = ("auto", "block", "distributed")
DEFAULT_LANES = 2048  # MAC lanes the default folding spreads over the layers


def _configs(op):
    knobs = op.knobs()
    names = sorted(knobs)
    for values in itertools.product(*(knobs[n] for n in names)):
        yield dict(zip(names, values))


def fold_for_target(graph: HWGraph, target_cycles: int) -> dict:
    """Per layer, the folding with the fewest lanes (PE * SIMD) whose cycles per frame are
    at most ``target_cycles``; the fastest one where none is (then II > target)."""
    out = {}
    for op in graph.nodes:
        best = None
        for cfg in _configs(op):
            key = (op.cycles(cfg) > target_cycles, op.parallelism(cfg), op.cycles(cfg))
            if best is None or key < best[0]:
                best = (key, cfg)
        if best[0][0]:  # cannot meet the target: take the fastest
            best = min(((op.cycles(c), op.parallelism(c)), c) for c in _configs(op))
        cfg = dict(best[1])
        if hasattr(op, "weights"):
            cfg["ram_style"] = "auto"
        out[op.name] = cfg
    return out


def min_cycles(graph: HWGraph) -> int:
    """The smallest II any folding reaches (the slowest layer fully unfolded)."""
    return max(min(op.cycles(c) for c in _configs(op)) for op in graph.nodes)


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


def graph_cycles(graph: HWGraph, folding: dict) -> dict[str, int]:
    """Cycles per frame of every layer under ``folding``."""
    return {op.name: op.cycles(folding.get(op.name, {})) for op in graph.nodes}


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
            elif key in knobs:
                if not isinstance(val, int) or val not in knobs[key]:
                    raise QloomError(f"{source}: layer {op.name}: {key}={val!r} is not legal; "
                                     f"expected a divisor in {knobs[key]}")
            elif key in ("PE", "SIMD") and val == 1:
                pass
            else:
                raise QloomError(f"{source}: layer {op.name} ({op.op_type}): unknown knob {key!r}; "
                                 f"it has {', '.join(sorted(knobs)) or 'none'}")
        for key in knobs:
            cfg.setdefault(key, 1)
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
