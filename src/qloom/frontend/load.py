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


def qcdq_to_quant(model):
    """QCDQ -> Quant with ``qonnx.transformation.qcdq_to_qonnx.QCDQToQuant``; a QCDQ node
    left over (a pattern qonnx does not fuse) is an error naming it."""
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
    model = model.transform(QCDQToQuant())
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
    return model
