"""The model zoo: every model compiles and the emulator equals the QONNX reference; the
registry and shipped files are consistent; ``qloom zoo list / export``."""
from __future__ import annotations

import json

import numpy as np
import pytest

import qloom
from qloom import zoo
from qloom.cli import main
from qloom.reference import reference_outputs

EXPECTED = {"cnv_1w1a", "cnv_1w2a", "cnv_2w2a", "lfc_1w1a", "sfc_1w1a", "tfc_2w2a",
            "svhn_w6a6", "jet_w6a6", "digits_w4a4"}


def _param(name):
    return pytest.param(name, marks=pytest.mark.slow) if name.startswith("cnv") else name


@pytest.mark.parametrize("name", [_param(n) for n in zoo.ZOO])
def test_zoo_model_compiles_and_emulates_like_reference(tmp_path, name):
    path = zoo.zoo_export(name, tmp_path / f"{name}.onnx")
    assert not (tmp_path / f"{name}.onnx.data").exists()  # one self-contained file
    n = 2 if name.startswith("cnv") else 8
    x = zoo.sample_input(name, n)
    assert x.shape == (n,) + zoo.input_shape(name) and x.dtype == np.float32
    y = qloom.emulate(qloom.compile_model(path), x)
    ref = reference_outputs(path, x)
    assert y.shape == ref.shape
    assert np.abs(y - ref).max() <= 1e-5 * np.abs(ref).max()
    assert np.array_equal(y.argmax(1), ref.argmax(1))


def test_registry():
    assert set(zoo.ZOO) == EXPECTED
    for name, m in zoo.ZOO.items():
        assert m.name == name and m.note and m.precision
        assert m.trained == (m.shipped is not None)
        if m.trained:
            assert m.shipped.is_file() and m.shipped.with_suffix(".json").is_file()
    with pytest.raises(qloom.QloomError, match="svhn_w6a6"):
        zoo.get("nope")


@pytest.mark.parametrize("name, weights", [("svhn_w6a6", 13552), ("jet_w6a6", 4256)])
def test_hls4ml_models_sidecar_and_size(name, weights):
    meta = json.loads(zoo.ZOO[name].shipped.with_suffix(".json").read_text())
    assert meta["accuracy_comparable_to_paper"] is False
    assert "stand-in" in meta["dataset"] and "NOT comparable" in meta["data_note"]
    assert meta["weights"] == weights  # 3x3 convs 16/16/24 + dense 42/64/10; 16-64-32-32-5
    model = zoo.ZOO[name].builder()
    assert sum(p.numel() for n, p in model.named_parameters()
               if n.endswith("weight") and p.dim() > 1) == weights


def test_stand_in_data_shapes():
    x8 = np.random.default_rng(0).random((3, 1, 8, 8), dtype=np.float32)
    s = zoo.svhn_frames(x8)
    assert s.shape == (3, 3, 32, 32) and np.array_equal(s[:, 2, 4:8, 8:12], np.broadcast_to(
        x8[:, 0, 1:2, 2:3], (3, 4, 4)))
    j = zoo.jet_features(x8)
    assert j.shape == (3, 16) and np.allclose(j[:, 5], 2 * x8[:, 0, 2:4, 2:4].mean(axis=(1, 2)) - 1)
    y_te = zoo.jet_split()[3]
    assert set(np.unique(y_te)) == set(range(5))


def test_cli_zoo_list(capsys):
    assert main(["zoo", "list"]) == 0
    out = capsys.readouterr().out
    for name in EXPECTED:
        assert name in out
    assert "trained" in out and "random" in out and "W6A6" in out


def test_cli_zoo_export_shipped(tmp_path, capsys):
    out = tmp_path / "jet.onnx"
    assert main(["zoo", "export", "jet_w6a6", "-o", str(out)]) == 0
    assert "jet_w6a6" in capsys.readouterr().out
    assert out.read_bytes() == zoo.ZOO["jet_w6a6"].shipped.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["jet.onnx"]


def test_cli_zoo_unknown_name_exits_2(tmp_path, capsys):
    rc = main(["zoo", "export", "resnet50", "-o", str(tmp_path / "m.onnx")])
    err = capsys.readouterr().err
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qloom: error: ") and "resnet50" in lines[0]
    assert all(n in lines[0] for n in EXPECTED)
    assert not list(tmp_path.iterdir())
