"""Fuzz (hypothesis): valid QONNX models, mutated the ways files go wrong (truncated bytes,
dropped initializers, wrong attributes, NaN or infinite scales, wrong ranks), through the
command line. Whatever the mutation, qloom answers with exit status 0 (the mutation left a
model it can still compile) or 2 and exactly one ``qloom: error:`` line: never an internal
error (exit 1), never a traceback, never a numpy warning on the way."""
from __future__ import annotations

import functools
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import helper, numpy_helper

from onnx_builders import mlp
from qloom.cli import main

pytestmark = pytest.mark.slow

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@functools.lru_cache(maxsize=1)
def _models():
    """name -> (serialized model, input shape): the embedded Brevitas digits CNN and a small
    hand-built QONNX MLP."""
    from qloom.models import model_path

    d = Path(tempfile.mkdtemp(prefix="qloom-fuzz-"))
    mlp(d / "mlp.onnx")
    out = {}
    for name, path in (("digits", model_path()), ("mlp", d / "mlp.onnx")):
        m = onnx.load(str(path))
        dims = [x.dim_value for x in m.graph.input[0].type.tensor_type.shape.dim]
        out[name] = (m.SerializeToString(), tuple(dims[1:]))
    shutil.rmtree(d)
    return out


def _run(argv, capsys) -> tuple[int, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # numpy's overflow/invalid-value noise
        rc = main(argv)
    out, err = capsys.readouterr()
    return rc, err


def _check(tmp_path, data: bytes, shape, capsys, what: str) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    for argv in (["info", str(path)], None):
        if argv is None:  # the model still compiles: run it too, on input of its own shape
            x = tmp_path / "x.npy"
            np.save(x, np.random.default_rng(0).random((2, *shape), dtype=np.float32))
            argv = ["emulate", str(path), "-i", str(x), "-o", str(tmp_path / "y.npy")]
        rc, err = _run(argv, capsys)
        assert rc in (0, 2), f"{what}: exit {rc}: {err}"
        assert "Traceback" not in err, what
        if rc == 2:
            lines = err.rstrip("\n").splitlines()
            assert len(lines) == 1 and lines[0].startswith("qloom: error: "), f"{what}: {err}"
            return


def _model(name):
    data, shape = _models()[name]
    m = onnx.ModelProto()
    m.ParseFromString(data)
    return m, shape


MODEL = st.sampled_from(["digits", "mlp"])


@SETTINGS
@given(name=MODEL, frac=st.floats(0.0, 0.999))
def test_truncated_bytes(tmp_path, capsys, name, frac):
    data, shape = _models()[name]
    _check(tmp_path, data[: int(len(data) * frac)], shape, capsys, f"{name} truncated at {frac:.3f}")


@SETTINGS
@given(name=MODEL, pick=st.integers(0, 10_000))
def test_dropped_initializer(tmp_path, capsys, name, pick):
    m, shape = _model(name)
    inits = m.graph.initializer
    gone = inits[pick % len(inits)].name
    del inits[pick % len(inits)]
    _check(tmp_path, m.SerializeToString(), shape, capsys, f"{name} without initializer {gone}")


WRONG = st.one_of(st.integers(-3, 70), st.lists(st.integers(-3, 9), max_size=6),
                  st.sampled_from(["", "NOTSET", "SAME_UPPER", "ROUND", "FLOOR", "x" * 40]),
                  st.floats(allow_nan=True, allow_infinity=True))


@SETTINGS
@given(name=MODEL, pick=st.integers(0, 10_000), value=WRONG, drop=st.booleans())
def test_wrong_attribute(tmp_path, capsys, name, pick, value, drop):
    m, shape = _model(name)
    attrs = [(n, a) for n in m.graph.node for a in n.attribute]
    node, attr = attrs[pick % len(attrs)]
    what = f"{name}: {node.name}.{attr.name} " + ("dropped" if drop else f"= {value!r}")
    node.attribute.remove(attr)
    if not drop:
        empty = isinstance(value, list) and not value  # make_attribute cannot infer its type
        node.attribute.append(helper.make_attribute(attr.name, value, attr_type=onnx.AttributeProto.INTS)
                              if empty else helper.make_attribute(attr.name, value))
    _check(tmp_path, m.SerializeToString(), shape, capsys, what)


@SETTINGS
@given(name=MODEL, pick=st.integers(0, 10_000), which=st.sampled_from([1, 2, 3]),
       value=st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.5, 1e38, 1e-38]))
def test_bad_quantizer_constants(tmp_path, capsys, name, pick, which, value):
    """Scale (input 1), zero point (2) or bit width (3) of a quantizer set to NaN, an
    infinity, zero, a negative or an extreme number."""
    m, shape = _model(name)
    quants = [n for n in m.graph.node if n.op_type in ("Quant", "BipolarQuant") and len(n.input) > which]
    node = quants[pick % len(quants)]
    inits = {i.name: i for i in m.graph.initializer}
    name_in = node.input[which]
    if name_in not in inits:
        return
    a = numpy_helper.to_array(inits[name_in]).astype(np.float32)
    a = np.full_like(a, value)
    inits[name_in].CopyFrom(numpy_helper.from_array(a, name_in))
    _check(tmp_path, m.SerializeToString(), shape, capsys, f"{name}: {node.name} input {which} = {value}")


@SETTINGS
@given(name=MODEL, pick=st.integers(0, 10_000), how=st.sampled_from(["add", "drop", "flat", "input"]))
def test_wrong_rank(tmp_path, capsys, name, pick, how):
    """An initializer gains or loses a dimension, or is flattened; or the graph input's
    declared rank changes."""
    m, shape = _model(name)
    if how == "input":
        dims = m.graph.input[0].type.tensor_type.shape.dim
        if pick % 2:
            dims.add().dim_value = 1
        else:
            del dims[-1]
        what = f"{name}: graph input rank {len(dims)}"
    else:
        inits = m.graph.initializer
        init = inits[pick % len(inits)]
        a = numpy_helper.to_array(init)
        b = a[None] if how == "add" else (a.reshape(-1) if how == "flat" else
                                          (a[0] if a.ndim else a[None]))
        init.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(b), init.name))
        what = f"{name}: initializer {init.name} {a.shape} -> {b.shape}"
    _check(tmp_path, m.SerializeToString(), shape, capsys, what)
