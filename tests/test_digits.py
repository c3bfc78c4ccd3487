"""The embedded model: emulator == QONNX reference on all 1797 digits images."""
from __future__ import annotations

import json

import numpy as np
import pytest

import qloom
from qloom.data import digits_split
from qloom.reference import reference_outputs


@pytest.mark.slow
def test_embedded_model_all_digits(digits_model):
    x_tr, y_tr, x_te, y_te = digits_split()
    x = np.concatenate([x_tr, x_te])
    assert len(x) == 1797
    graph = qloom.compile_model(digits_model)
    y = qloom.emulate(graph, x)
    ref = reference_outputs(digits_model, x)
    assert y.dtype == ref.dtype and y.shape == ref.shape
    assert np.abs(y - ref).max() <= 1e-5 * np.abs(ref).max()
    np.testing.assert_array_equal(y.argmax(1), ref.argmax(1))
    # the shipped accuracy claim holds on the test split
    meta = json.loads(digits_model.with_suffix(".json").read_text())
    acc = float((y[len(x_tr):].argmax(1) == y_te).mean())
    assert acc >= 0.95
    assert int(round(acc * len(y_te))) == meta["test_correct"]


def test_embedded_model_is_integer_hardware(digits_model):
    graph = qloom.compile_model(digits_model)
    ops = [n.op_type for n in graph.nodes]
    assert ops.count("MVAU") == 3 and ops.count("SWG") == 2 and ops.count("StreamingMaxPool") == 2
    for n in graph.nodes:
        for arr in (getattr(n, "weights", None), getattr(n, "thresholds", None)):
            if arr is not None:
                assert arr.dtype.kind == "i"
