"""Hardware operators. Each module holds one operator (or stream piece) and its Verilog:
numpy semantics, folding knobs, stream widths, cycle and latency model, resource model,
memory-file layout and RTL instance (see :mod:`qloom.ops.base`).

Operator names follow FINN-R / FINN: MVAU, VVAU, SWG, StreamingMaxPool, SumPool (average
pooling without the division, which moves into thresholds), Thresholding, LabelSelect;
the fork and joins of branching graphs: DuplicateStreams, AddStreams, ConcatStreams; the
stream glue between layers: qloom_fifo (:mod:`qloom.ops.fifo`), qloom_dwc
(:mod:`qloom.ops.dwc`) and qloom_repad (:mod:`qloom.ops.repad`, between padded foldings).
"""
import math

from qloom.cost.parts import FAMILIES, Parts, result
from qloom.instance import RtlInstance
from qloom.ops import (addstreams, concatstreams, duplicatestreams, dwc, fifo, labelselect, mvau,
                       pool, repad, swg, thresholding, vvau)
from qloom.ops.addstreams import AddStreams
from qloom.ops.base import HWOp, Knob, apply_thresholds
from qloom.ops.concatstreams import ConcatStreams
from qloom.ops.duplicatestreams import DuplicateStreams
from qloom.ops.labelselect import LabelSelect
from qloom.ops.mvau import MVAU
from qloom.ops.pool import POOL_MODELS, StreamingMaxPool, SumPool
from qloom.ops.swg import SWG
from qloom.ops.thresholding import Thresholding
from qloom.ops.vvau import VVAU

OPS = (MVAU, VVAU, SWG, StreamingMaxPool, SumPool, Thresholding, LabelSelect, DuplicateStreams,
       AddStreams, ConcatStreams)

# Verilog module -> its resource model parts_<module>(family, files, **params)
RESOURCE_MODELS: dict = {**fifo.MODELS, **dwc.MODELS, **repad.MODELS, **POOL_MODELS}
for _op in OPS:
    RESOURCE_MODELS.update(_op.models)


# Verilog module -> (relative, cycles) that Verilator may differ from its cycles_/latency_
# formulas over a run of frames (tests/rtl assert it; 0 where the RTL is exact)
CYCLE_TOLERANCE: dict = {"qloom_mvau_const": (0.0, 0)}
for _m in (fifo, dwc, repad, mvau, vvau, swg, pool, thresholding, labelselect, duplicatestreams, addstreams,
           concatstreams):
    CYCLE_TOLERANCE.update(_m.CYCLE_TOLERANCE)


def module_parts(module: str, params: dict, family: str = "xc7", files: dict | None = None) -> Parts:
    """The :class:`~qloom.cost.parts.Parts` of one instance of Verilog ``module``. Raises
    KeyError for a module without a model, TypeError for a parameter it does not know."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {', '.join(FAMILIES)}")
    return RESOURCE_MODELS[module](family=family, files=files, **params)


def estimate_module(module: str, params: dict, family: str = "xc7", files: dict | None = None) -> dict:
    """{LUT, FF, BRAM18, URAM, DSP} of one instance of Verilog ``module`` with ``params``.
    ``files``: optional memory contents {file name: $readmemh text}; with them the ROM
    widths after Yosys' constant-lane removal are exact, without them every lane is assumed
    to vary."""
    return result(module_parts(module, params, family, files), family)


def estimate_instance(inst: RtlInstance, family: str = "xc7", files: dict | None = None) -> dict:
    """:func:`estimate_module` of an :class:`~qloom.instance.RtlInstance`; without ``files``
    the instance's ``model_files`` (its threshold files, when it has thresholds)."""
    if files is None and inst.model_files is not None:
        files = inst.model_files()
    return estimate_module(inst.library_module, inst.params, family, files)


def glue_instances(bits: int, producer_elems: int, consumer_elems: int, fifo_depth: int,
                   fifo_ram_style: str = "auto", producer_len: int | None = None,
                   consumer_len: int | None = None) -> list[RtlInstance]:
    """The stream glue in front of a layer (qloom.rtl.generate puts it there): the DWCs from
    the producer's ``producer_elems`` to the consumer's ``consumer_elems`` elements of
    ``bits`` per beat (none when equal, two via the gcd when neither divides the other),
    then a ``qloom_fifo`` of ``fifo_depth`` consumer beats. ``fifo_depth`` 0 (a layer that
    needs no FIFO in front, ``HWOp.input_fifo_depth``): no glue at all when no DWC is
    needed (a direct link), else a FIFO of the smallest depth (2) after the DWCs.

    ``producer_len`` / ``consumer_len``: elements per frame on the producer's and the
    consumer's stream (``HWOp.out_frame_len`` / ``in_frame_len``) when a padded folding
    makes them differ (it pads only layers with one vector per frame): then the DWCs go
    through the gcd width g of the two beat widths with a ``qloom_repad`` at g between them
    (``producer_len / g`` beats in per frame, ``consumer_len / g`` out)."""
    if producer_len is not None and consumer_len is not None and producer_len != consumer_len:
        g = math.gcd(producer_elems, consumer_elems)
        dwcs = (dwc.dwc_instances(bits, producer_elems, g) + [repad.repad_instance(bits, g, producer_len, consumer_len)]
                + dwc.dwc_instances(bits, g, consumer_elems))
    else:
        dwcs = dwc.dwc_instances(bits, producer_elems, consumer_elems)
    if fifo_depth == 0 and not dwcs:
        return []
    return dwcs + [fifo.fifo_instance(consumer_elems * bits, max(2, fifo_depth), fifo_ram_style)]


def memory_report(inst: RtlInstance, family: str = "xc7", files: dict | None = None) -> list[dict]:
    """How each memory of ``inst`` is mapped (name, depth, width, kind, RAM type, BRAM18)."""
    P = module_parts(inst.library_module, inst.params, family, files)
    return [{"name": m.name, "depth": m.depth, "width": m.width, "rom": m.rom, "kind": mp.kind,
             "ram": mp.ramdef, "bram18": mp.bram18, "cost": round(mp.cost, 2)} for m, mp, _ in P.mems]


__all__ = [
    "HWOp", "Knob", "apply_thresholds", "MVAU", "VVAU", "SWG", "StreamingMaxPool", "SumPool",
    "Thresholding", "LabelSelect", "DuplicateStreams", "AddStreams", "ConcatStreams", "OPS",
    "RESOURCE_MODELS", "CYCLE_TOLERANCE", "estimate_module", "estimate_instance", "glue_instances",
    "memory_report", "module_parts",
]
