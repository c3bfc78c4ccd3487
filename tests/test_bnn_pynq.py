"""The FINN-R benchmark topologies (brevitas_examples.bnn_pynq: CNV, LFC, SFC, TFC at
1w1a, 1w2a, 2w2a) with random weights and non-trivial batch-norm statistics: qloom's
emulator must equal the QONNX reference, and the lowering must be the FINN-style one
(every batch norm absorbed into MVAU thresholds, integer types as configured).

Exports are cached per test session in a directory shared by the xdist workers (guarded by a
file lock), so each topology is exported once.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from filelock import FileLock

import qloom
from qloom.reference import reference_outputs

from brevitas_models import assert_accepted, export, prepare

bnn_pynq = pytest.importorskip("brevitas_examples.bnn_pynq.models")

CFG_DIR = Path(bnn_pynq.__file__).parent.parent / "cfg"
NAMES = sorted(p.stem for p in CFG_DIR.glob("*.ini")
               if re.fullmatch(r"(cnv|lfc|sfc|tfc)_\dw\da", p.stem))
# (name, negative gammas): every topology as shipped, plus negative-gamma variants
VARIANTS = [(n, False) for n in NAMES] + [(n, True) for n in ("cnv_2w2a", "sfc_1w2a", "tfc_2w2a")]


def _params(variants):
    return [pytest.param(n, neg, id=n + ("-neggamma" if neg else ""),
                         marks=[pytest.mark.slow] if n.startswith("cnv") else [])
            for n, neg in variants]


def _shape(name: str) -> tuple:
    return (3, 32, 32) if name.startswith("cnv") else (1, 28, 28)


def _frames(name: str, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, *_shape(name)), dtype=np.float32)


def _build(name: str, neg: bool, d: Path) -> Path:
    torch.manual_seed(sum(map(ord, name)))
    model, _ = bnn_pynq.model_with_cfg(name, pretrained=False)
    calib = torch.from_numpy(_frames(name, 16 if name.startswith("cnv") else 64, seed=1))
    prepare(model, calib, negative_gammas=neg, seed=len(name) + neg)
    return export(model, (1, *_shape(name)), d)


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """name, neg -> path of the exported QONNX model (built once per session)."""
    root = tmp_path_factory.getbasetemp()
    if root.name.startswith("popen-gw"):  # xdist worker: share with the other workers
        root = root.parent
    root = root / "bnn_pynq_exports"
    root.mkdir(exist_ok=True)

    def get(name: str, neg: bool) -> Path:
        d = root / (name + ("_neg" if neg else ""))
        with FileLock(str(d) + ".lock"):
            path = d / "model.onnx"
            if not (d / "done").is_file():
                _build(name, neg, d)
                (d / "done").write_text("ok")
            return path

    return get


def test_topologies_exist():
    """Eleven FINN-R configurations ship with brevitas (there is no lfc_2w2a)."""
    assert NAMES == ["cnv_1w1a", "cnv_1w2a", "cnv_2w2a", "lfc_1w1a", "lfc_1w2a", "sfc_1w1a",
                     "sfc_1w2a", "sfc_2w2a", "tfc_1w1a", "tfc_1w2a", "tfc_2w2a"]


@pytest.mark.parametrize("name,neg", _params(VARIANTS))
def test_emulator_matches_reference(name, neg, exported):
    path = exported(name, neg)
    graph = qloom.compile_model(path)
    x = _frames(name, 4 if name.startswith("cnv") else 16, seed=2)
    y = qloom.emulate(graph, x)
    y_ref = reference_outputs(path, x)
    assert y_ref.shape == (len(x), 10)
    assert_accepted(y, y_ref)
    assert np.ptp(y_ref, axis=0).max() > 0, "degenerate model: every frame gives the same output"


@pytest.mark.parametrize("name,neg", _params([(n, False) for n in NAMES]))
def test_lowering_is_finn_style(name, neg, exported):
    """One MVAU per Conv/Linear layer, thresholds fused into all but the last, the configured
    weight/activation types, sliding windows and max-pools for CNV, nothing else."""
    graph = qloom.compile_model(exported(name, neg))
    w, a = map(int, re.fullmatch(r"\w+_(\d)w(\d)a", name).groups())
    mvaus = [n for n in graph.nodes if n.op_type == "MVAU"]
    n_layers = {"cnv": 9, "lfc": 4, "sfc": 4, "tfc": 4}[name[:3]]
    assert len(mvaus) == n_layers
    kinds = {n.op_type for n in graph.nodes}
    if name.startswith("cnv"):
        assert kinds == {"MVAU", "SWG", "StreamingMaxPool"}
        assert sum(n.op_type == "SWG" for n in graph.nodes) == 6
        assert sum(n.op_type == "StreamingMaxPool" for n in graph.nodes) == 2
        assert str(graph.host_input.int_type) == "INT8"  # the Q1.7 input quantizer
    else:
        assert kinds == {"MVAU"}
        assert str(graph.host_input.int_type) == ("BIPOLAR" if a == 1 else "INT2")
    act = "BIPOLAR" if a == 1 else "INT2"
    for i, m in enumerate(mvaus):
        # a weight type may widen by one bit where a negative gamma flips a row's sign
        assert str(m.weight_type) in (("BIPOLAR",) if w == 1 else ("INT2", "INT3"))
        if i < len(mvaus) - 1:
            assert m.thresholds is not None and str(m.out_type) == act
        else:
            assert m.thresholds is None  # raw accumulator; TensorNorm runs on the host
    assert graph.host_output.program is not None
