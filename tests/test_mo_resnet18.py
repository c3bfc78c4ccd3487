"""A ResNet-18-shaped W4A4 network (CIFAR-10 size, about 11.2M weights) in the
memory-optimized architecture (issue 12 target): generated at test time (Brevitas, random
weights, seed 0; nothing downloaded, nothing committed), it does not fit the DF architecture
on PYNQ-Z1, so ``--arch auto`` builds it in MO; the MO schedule's tile emulator equals the DF
emulator (numpy, == qonnx execute_onnx on the residual models of tests/test_branching.py)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import qloom
from branching_models import ResNet18
from brevitas_models import export, prepare
from qloom.emulate import run_stream
from qloom.mo.engine import run_stream_mo

pytestmark = pytest.mark.slow  # Brevitas calibration + export of 11M weights: about 2 minutes


@pytest.fixture(scope="module")
def resnet18(tmp_path_factory):
    d = tmp_path_factory.mktemp("resnet18")
    torch.manual_seed(0)
    m = ResNet18()
    x = np.random.default_rng(5).random((8, 3, 32, 32), dtype=np.float32)
    prepare(m, torch.from_numpy(x), seed=0)
    p = export(m, (1, 3, 32, 32), d / "m")
    return p, qloom.compile_model(p), d


def test_resnet18_shape(resnet18):
    _, g, _ = resnet18
    kinds = [op.op_type for op in g.nodes]
    assert kinds.count("AddStreams") == 8 and kinds.count("DuplicateStreams") == 8
    convs = [op for op in g.nodes if op.op_type == "MVAU"]
    assert len(convs) == 1 + 16 + 3 + 1  # stem, 16 block convs, 3 projections, dense
    assert 11.0e6 < sum(op.weight_count for op in g.nodes) < 11.3e6


def test_auto_builds_resnet18_in_mo_and_mo_equals_df(resnet18):
    """``--arch auto`` on PYNQ-Z1: the DF build does not fit (the note says which
    resources), so the build is MO; its DRAM image run tile by tile equals the DF emulator
    on a frame."""
    from qloom.boards import get_board
    from qloom.flow import build

    path, g, d = resnet18
    r = build(path, d / "out", board="pynq-z1", arch="auto")
    meta = json.loads((d / "out" / "build.json").read_text())
    assert meta["arch"] == "mo" and r["arch"] == "mo"
    assert "--arch auto: the DF build does not fit pynq-z1" in meta["folding_note"], meta["folding_note"]
    est = json.loads((d / "out" / "estimates.json").read_text())
    assert est["fps"] > 0 and not get_board("pynq-z1").over(est["total"])
    image = (d / "out" / "mo" / "image.bin").read_bytes()
    # the RTL is built with the buffers the schedule was tiled for (tests/test_mo_buffers.py)
    from qloom.sim.mo_engine import image_buffers

    assert image_buffers(image) == {k: meta["rtl_params"][k] for k in ("IBUF", "WBUF", "TBUF", "OBUF")}
    x = np.random.default_rng(2).random((1, 3, 32, 32), dtype=np.float32)
    q = g.host_input(x)
    ref = run_stream(g, q).reshape(len(q), -1)
    assert np.array_equal(run_stream_mo(image, q), ref)
    assert len(np.unique(ref)) > 1
