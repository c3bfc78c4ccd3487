"""Folding: how many PE and SIMD lanes each layer gets (FINN-R, Blott et al. 2018, Sec. 4.2).

A folding is the ``folding.json`` dict FINN users know::

    {"<layer>": {"PE": int, "SIMD": int, "ram_style": "auto|block|distributed",
                 "resType": "auto|lut|dsp|dsp_packed", "parallel_window": 0|1}}

Operators declare their knobs (``HWOp.knob_space``) and cycle model (``HWOp.cycles``);
the code here is generic (the folding search is qloom.dse.search). In a dataflow pipeline
every layer works concurrently, so the initiation interval (II, cycles per frame) is the
slowest layer's cycles (FINN-R Sec. 4.3).
"""
from __future__ import annotations

import json
from pathlib import Path

from qloom.errors import QloomError
from qloom.ir import HOST, HWGraph
from qloom.dse.latency import join_fifo_depths
from qloom.ops.fifo import DEFAULT_DEPTH, fifo_key
from qloom.stream import stream_rate


def host_padding(graph: HWGraph, op, cfg: dict) -> str | None:
    """Why ``cfg`` cannot be ``op``'s folding at the host boundary, or None: the host
    streams unpadded vectors, so the layer reading the host input must not pad its input
    (SIMD dividing MW) and the last layer must not pad its output (PE dividing MH).
    Between layers the stream glue adapts padded vectors (``qloom.ops.repad``)."""
    if HOST in graph.producers(op.name) and op.in_len(cfg) != int(op.in_shapes[0][-1]):
        return f"the first layer's input comes from the host unpadded: its lanes must divide {op.in_shapes[0][-1]}"
    if op.name == graph.last.name and op.out_len(cfg) != int(op.out_shape[-1]):
        return f"the last layer's output goes to the host unpadded: its lanes must divide {op.out_shape[-1]}"
    return None


def link_rate(graph: HWGraph, folding: dict, op, prod: str) -> int:
    """Elements per cycle the stream from ``prod`` (HOST: the host, one beat per cycle)
    can deliver to ``op``."""
    e_in = op.in_elems(folding.get(op.name, {}))
    if prod == HOST:
        return e_in
    return stream_rate(graph.node(prod).out_elems(folding.get(prod, {})), e_in)


def input_rates(graph: HWGraph, folding: dict) -> dict[str, int]:
    """Elements per cycle each layer's input streams can deliver (the slowest input of a
    join; the host feeds the first layer one beat per cycle)."""
    return {op.name: min(link_rate(graph, folding, op, p) for p in graph.producers(op.name))
            for op in graph.nodes}


def graph_cycles(graph: HWGraph, folding: dict) -> dict[str, int]:
    """Cycles per frame of every layer under ``folding``, including the slow-down of a
    layer whose input stream delivers fewer elements per cycle than it consumes."""
    rates = input_rates(graph, folding)
    return {op.name: op.cycles_fed(folding.get(op.name, {}), rates[op.name]) for op in graph.nodes}


def fifo_depths(graph: HWGraph, folding: dict) -> dict[str, int]:
    """FIFO depth (in the consumer's beats) in front of each layer input fed by another
    layer, keyed by ``qloom.ops.fifo.fifo_key``: what the layer asks for
    (``HWOp.input_fifo_depth``) given its producer's burst (beats per output pixel), and in
    front of a join at least what ``qloom.dse.latency.join_fifo_depths`` says that input
    must buffer at the graph's II.

    In a chain every stage makes progress on its own, so no depth can deadlock it; the
    FIFOs only decouple rates so the slowest layer never waits. Branches that leave one
    fork and meet at a join deadlock when the short branch's FIFO is too small (the fork
    stalls both when one is full); the join sizing prevents that.
    """
    depths = {}
    for prev, op, k in graph.links():
        pf = folding.get(prev.name, {})
        burst = prev.out_len(pf) // max(1, prev.out_elems(pf))
        depths[fifo_key(op.name, k)] = op.input_fifo_depth(folding.get(op.name, {}), burst)
    if not graph.is_chain:
        ii = max(graph_cycles(graph, folding).values())
        for (name, k), d in join_fifo_depths(graph, folding, ii).items():
            key = fifo_key(name, k)
            if key in depths:
                depths[key] = max(depths[key], d)
    return depths


def glue_resources(graph: HWGraph, folding: dict, family: str,
                   depths: dict[str, int] | None = None) -> dict[str, dict]:
    """{layer: {LUT, FF, BRAM18, URAM, DSP}} of the stream glue in front of each layer input
    fed by another layer (its DWCs and FIFO, ``qloom.ops.glue_instances``; the host feeds the
    first layer directly), as ``estimates.json`` charges them to the layer they feed.
    ``depths``: the FIFO depths (default :func:`fifo_depths`). The folding search counts
    these in its fit check."""
    from qloom.ops import estimate_instance, glue_instances

    depths = fifo_depths(graph, folding) if depths is None else depths
    out: dict[str, dict] = {}
    for prev, op, k in graph.links():
        fold = folding.get(op.name, {})
        tot = out.setdefault(op.name, {})
        pf = folding.get(prev.name, {})
        for inst in glue_instances(op.in_types[k].bits, prev.out_elems(pf),
                                   op.in_elems(fold), int(depths.get(fifo_key(op.name, k), DEFAULT_DEPTH)),
                                   fold.get("fifo_ram_style", "auto"), prev.out_frame_len(pf),
                                   op.in_frame_len(fold, k)):
            for r, v in estimate_instance(inst, family).items():
                tot[r] = tot.get(r, 0) + v
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
                                     f"expected one of {', '.join(map(str, knob.values))}")
            elif not isinstance(val, int) or val not in knob.values:
                raise QloomError(f"{source}: layer {op.name}: {key}={val!r} is not legal; "
                                 f"expected one of {list(knob.values)}")
        for key, knob in space.items():
            if knob.fill:
                cfg.setdefault(key, knob.initial)
        why = op.illegal(cfg) or host_padding(graph, op, cfg)
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
