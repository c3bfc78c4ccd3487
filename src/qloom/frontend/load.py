"""Load a QONNX file with the ``qonnx`` library: parse, cleanup, shape and datatype inference.

QCDQ models (QuantizeLinear / Clip / DequantizeLinear: Brevitas ``export_onnx_qcdq``, the
quantization tools of PyTorch and ONNX Runtime) become QONNX ``Quant`` nodes with qonnx's own
``QCDQToQuant`` (a QuantizeLinear -> [Clip] -> DequantizeLinear chain is a Quant whose bit
width comes from the integer type, narrowed by the Clip; a lone DequantizeLinear of an
integer initializer is a constant-folded Quant on the weights).

Weights kept in a side file (``MODEL.onnx.data``, the torch dynamo exporter's default) are
loaded from next to the model. Every failure becomes a one-line :class:`QloomError`.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

from qloom.errors import QloomError


QCDQ_OPS = ("QuantizeLinear", "DequantizeLinear")
QLINEAR_ATTR = "qloom_qlinear_rounding"  # on a Quant fused from QCDQ with a zero point


def qcdq_to_quant(model):
    """QCDQ -> Quant with ``qonnx.transformation.qcdq_to_qonnx.QCDQToQuant``; a QCDQ node
    left over (a pattern qonnx does not fuse) is an error naming it."""
    import numpy as np
    from qonnx.transformation.qcdq_to_qonnx import QCDQToQuant

    from onnx import helper

    g = model.graph
    inits = {t.name: t for t in g.initializer}
    for i in [i for i in g.input if i.name in inits]:  # constants listed as graph inputs
        g.input.remove(i)
    # QCDQToQuant reads the integer type of a lone DequantizeLinear's initializer from its
    # value_info, which exporters often leave out: give it one
    known = {v.name for v in g.value_info}
    for n in g.node:
        t = inits.get(n.input[0]) if n.op_type == "DequantizeLinear" else None
        if t is not None and t.name not in known:
            g.value_info.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
            known.add(t.name)
    from qonnx.transformation.infer_shapes import InferShapes

    model = model.transform(InferShapes())  # QuantizeLinear outputs' integer types, likewise
    before = {n.name for n in model.graph.node if n.op_type == "Quant"}
    model = model.transform(QCDQToQuant())
    for n in model.graph.node:
        # QuantizeLinear rounds x / scale, then adds the zero point; qonnx's Quant rounds
        # x / scale + zero point: apart at ties when the zero point is odd. Mark the fused
        # quantizers with a non-zero zero point so that qloom keeps QuantizeLinear's order.
        z = model.get_initializer(n.input[2]) if n.op_type == "Quant" and len(n.input) > 2 else None
        if n.name not in before and z is not None and np.any(np.asarray(z) != 0):
            n.attribute.append(helper.make_attribute(QLINEAR_ATTR, 1))
    left = [n for n in model.graph.node if n.op_type in QCDQ_OPS]
    if left:
        n = left[0]
        raise QloomError(f"node {n.name or n.op_type} ({n.op_type}): a QCDQ node that qonnx's "
                         "QCDQToQuant could not fuse into a Quant (expected QuantizeLinear -> "
                         "[Clip] -> DequantizeLinear with constant scale and zero point)")
    return model


def load_qonnx(path: str | os.PathLike):
    """Read ``path`` and return a cleaned ``qonnx.core.modelwrapper.ModelWrapper``.

    Raises
    ------
    QloomError
        The file is missing, not ONNX, truncated, its external data file is missing, or
        qonnx's cleanup fails on it.
    """
    import onnx
    from google.protobuf.message import DecodeError

    p = Path(path)
    if not p.is_file():
        raise QloomError(f"{p}: no such file (expected a QONNX .onnx model)")
    try:
        proto = onnx.load(str(p), load_external_data=False)
    except (DecodeError, RuntimeError, ValueError, OSError) as e:
        raise QloomError(f"{p}: not a readable ONNX model (protobuf parse failed: {e})") from None
    if not proto.graph.node and not proto.graph.input:
        raise QloomError(f"{p}: not an ONNX model (no graph nodes or inputs found)")
    # external data (weights in MODEL.onnx.data next to the model)
    from onnx.external_data_helper import _get_all_tensors, uses_external_data

    for t in _get_all_tensors(proto):
        if uses_external_data(t):
            loc = next((e.value for e in t.external_data if e.key == "location"), "")
            f = p.parent / loc
            if not f.is_file():
                raise QloomError(
                    f"{p}: weights are kept in an external data file {f.name!r}, which is "
                    f"missing (expected at {f})")
    try:
        onnx.load_external_data_for_model(proto, str(p.parent))
    except Exception as e:  # truncated or unreadable side file
        raise QloomError(f"{p}: cannot read its external weight data ({e})") from None
    try:
        from qonnx.core.modelwrapper import ModelWrapper
        from qonnx.transformation.infer_datatypes import InferDataTypes
        from qonnx.util.cleanup import cleanup_model

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ModelWrapper(proto)
            if any(n.op_type in QCDQ_OPS for n in model.graph.node):
                model = qcdq_to_quant(model)
            model = cleanup_model(model)
            model = model.transform(InferDataTypes())
    except QloomError:
        raise
    except Exception as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise QloomError(f"{p}: qonnx could not clean up the model ({type(e).__name__}: {msg})") from None
    if len(model.graph.input) != 1:
        raise QloomError(f"{p}: the model has {len(model.graph.input)} inputs; qloom expects exactly 1")
    _check_dangling_inputs(model, p)
    _check_attributes(model)
    _check_quantizer_constants(model)
    return model


# attributes of the QONNX quantizers (qonnx.custom_op.general), which ONNX has no schema for
_QONNX_ATTRS = {"signed": "INT", "narrow": "INT", "rounding_mode": "STRING", "signed_input": "INT"}


def _check_attributes(model) -> None:
    """Each node attribute has the type its ONNX schema (or QONNX's quantizer definition)
    declares, and float attributes are finite (``epsilon`` >= 0): a wrong attribute would
    otherwise fail deep in the lowering or warn from numpy."""
    import math

    import onnx
    from onnx import AttributeProto, defs

    opsets = {o.domain: o.version for o in model.model.opset_import}
    for node in model.graph.node:
        declared = {}
        try:
            schema = defs.get_schema(node.op_type, opsets.get(node.domain, opsets.get("", 13)),
                                     node.domain)
            declared = {k: AttributeProto.AttributeType.Name(v.type) for k, v in schema.attributes.items()}
        except Exception:  # no ONNX schema: a custom (QONNX) op
            declared = _QONNX_ATTRS if node.op_type in _QUANT_INPUTS else {}
        for a in node.attribute:
            kind = AttributeProto.AttributeType.Name(a.type)
            want = declared.get(a.name)
            if want is not None and want != kind:
                raise QloomError(f"node {node.name} ({node.op_type}): attribute {a.name} is "
                                 f"{kind.lower()}, expected {want.lower()}")
            v = onnx.helper.get_attribute_value(a)
            vals = v if isinstance(v, (list, tuple)) else [v]
            if any(isinstance(x, float) and not math.isfinite(x) for x in vals):
                raise QloomError(f"node {node.name} ({node.op_type}): attribute {a.name} is "
                                 "NaN or infinite; expected a finite number")
            if a.name == "epsilon" and isinstance(v, float) and v < 0:
                raise QloomError(f"node {node.name} ({node.op_type}): attribute epsilon is "
                                 f"{v:g}; expected >= 0")


def _check_dangling_inputs(model, p) -> None:
    """Every node input is the graph input, an initializer, or another node's output (a
    dropped initializer otherwise surfaces deep in the lowering)."""
    known = {i.name for i in model.graph.input} | {i.name for i in model.graph.initializer}
    for node in model.graph.node:
        for name in node.input:
            if name and name not in known:
                raise QloomError(f"node {node.name} ({node.op_type}): input {name!r} is not the "
                                 "graph input, an initializer nor an earlier node's output "
                                 f"(a missing weight or constant in {p.name}?)")
        known.update(node.output)


# quantizer scales outside this range overflow float32 on the integer grid
SCALE_RANGE = (2.0 ** -64, 2.0 ** 64)


# QONNX quantizers (qonnx.custom_op.general): the role of each input, by position
_QUANT_INPUTS = {
    "Quant": ("input", "scale", "zero point", "bit width"),
    "IntQuant": ("input", "scale", "zero point", "bit width"),
    "BipolarQuant": ("input", "scale"),
    "Trunc": ("input", "scale", "zero point", "input bit width", "output scale", "output bit width"),
}


def _check_quantizer_constants(model) -> None:
    """A quantizer's constant inputs (weights, scale, zero point, bit width) must be finite
    and its scales positive (QONNX's quantizer definitions): a NaN, infinite or zero scale
    would otherwise surface later as a misleading message and a numpy warning. Raises
    QloomError naming the node and the input."""
    import numpy as np

    for node in model.graph.node:
        roles = _QUANT_INPUTS.get(node.op_type)
        if roles is None:
            continue
        for role, name in zip(roles, node.input):
            v = model.get_initializer(name) if name else None
            if v is None or not np.issubdtype(np.asarray(v).dtype, np.floating):
                continue
            bad = int(np.count_nonzero(~np.isfinite(v)))
            if bad:
                raise QloomError(f"node {node.name} ({node.op_type}): its {role} ({name!r}) has "
                                 f"{bad:,} NaN or infinite value{'s' if bad > 1 else ''} of "
                                 f"{np.asarray(v).size:,}; expected finite numbers")
            if role.endswith("scale") and (np.asarray(v) <= 0).any():  # QONNX: scales are > 0
                raise QloomError(f"node {node.name} ({node.op_type}): its {role} ({name!r}) is not "
                                 f"positive; expected scales > 0")
            lo, hi = SCALE_RANGE
            if role.endswith("scale") and ((np.asarray(v) < lo) | (np.asarray(v) > hi)).any():
                raise QloomError(f"node {node.name} ({node.op_type}): its {role} ({name!r}) is "
                                 "outside 2**-64 .. 2**64; expected a quantization step in that range")
            if role.endswith("bit width") and ((np.asarray(v) < 1) | (np.asarray(v) > 64)).any():
                raise QloomError(f"node {node.name} ({node.op_type}): its {role} ({name!r}) is "
                                 "outside 1 .. 64; expected a bit width in that range")
