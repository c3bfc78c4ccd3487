"""Folding: how many PE and SIMD lanes each layer gets (FINN-R, Blott et al. 2018, Sec. 4.2).

A folding is the ``folding.json`` dict FINN users know::

    {"<layer>": {"PE": int, "SIMD": int, "ram_style": "auto|block|distributed",
                 "resType": "auto|lut|dsp", "parallel_window": 0|1}}

Operators declare their knobs (``HWOp.knob_space``) and cycle model (``HWOp.cycles``);
the code here is generic (the folding search is qloom.dse.search). In a dataflow pipeline
every layer works concurrently, so the initiation interval (II, cycles per frame) is the
slowest layer's cycles (FINN-R Sec. 4.3).
"""
from __future__ import annotations

import json
from pathlib import Path

from qloom.errors import QloomError
from qloom.ir import HWGraph
from qloom.stream import stream_rate


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


def fifo_depths(graph: HWGraph, folding: dict) -> dict[str, int]:
    """FIFO depth (in the consumer's beats) in front of each layer but the first: what the
    layer asks for (``HWOp.input_fifo_depth``) given its producer's burst (beats per output
    pixel). In a chain every stage makes progress on its own, so no depth can deadlock it;
    the FIFOs only decouple rates so the slowest layer never waits."""
    depths = {}
    for prev, op in zip(graph.nodes, graph.nodes[1:]):
        burst = int(prev.out_shape[-1]) // max(1, prev.out_elems(folding.get(prev.name, {})))
        depths[op.name] = op.input_fifo_depth(folding.get(op.name, {}), burst)
    return depths


def glue_resources(graph: HWGraph, folding: dict, family: str,
                   depths: dict[str, int] | None = None) -> dict[str, dict]:
    """{layer: {LUT, FF, BRAM18, URAM, DSP}} of the stream glue in front of each layer (its
    DWCs and FIFO, ``qloom.ops.glue_instances``; the first layer has none), as
    ``estimates.json`` charges them to the layer they feed. ``depths``: the FIFO depths
    (default :func:`fifo_depths`). The folding search counts these in its fit check."""
    from qloom.ops import estimate_instance, glue_instances
    from qloom.ops.fifo import DEFAULT_DEPTH

    depths = fifo_depths(graph, folding) if depths is None else depths
    out = {}
    for prev, op in zip(graph.nodes, graph.nodes[1:]):
        fold = folding.get(op.name, {})
        tot: dict[str, int] = {}
        for inst in glue_instances(op.in_type.bits, prev.out_elems(folding.get(prev.name, {})),
                                   op.in_elems(fold), int(depths.get(op.name, DEFAULT_DEPTH)),
                                   fold.get("fifo_ram_style", "auto")):
            for r, v in estimate_instance(inst, family).items():
                tot[r] = tot.get(r, 0) + v
        out[op.name] = tot
    return out


def validate_folding(graph: HWGraph, folding: dict, source: str = "folding") -> dict:
    """Check a user folding against each operator's knobs (``HWOp.knob_space``); fill absent
    knobs with their defaults (1 lane, serial window, ram_style "auto" where it is kept).

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
        space = op.knob_space()
        for key, val in cfg.items():
            knob = space.get(key)
            if knob is None:
                if key in ("PE", "SIMD") and val == 1:
                    continue
                raise QloomError(f"{source}: layer {op.name} ({op.op_type}): unknown knob {key!r}; "
                                 f"it has {', '.join(sorted(space)) or 'none'}")
            if knob.kind == "style":
                if val not in knob.values:
                    raise QloomError(f"{source}: layer {op.name}: {key} {val!r}; "
                                     f"expected one of {', '.join(knob.values)}")
            elif not isinstance(val, int) or val not in knob.values:
                raise QloomError(f"{source}: layer {op.name}: {key}={val!r} is not legal; "
                                 f"expected one of {list(knob.values)}")
        for key, knob in space.items():
            if knob.fill:
                cfg.setdefault(key, knob.initial)
        why = op.illegal(cfg)
        if why:
            fold_knobs = {k: v for k, v in cfg.items() if k in space and space[k].kind == "fold"}
            raise QloomError(f"{source}: layer {op.name} ({op.op_type}): the combination "
                             f"{fold_knobs} is not realizable ({why})")
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
