"""Branching graphs (issue 16 item 4): a fork (DuplicateStreams) and joins (AddStreams for a
residual Add, ConcatStreams for a channel Concat).

Each model goes through the emulator (== qonnx ``execute_onnx``, the independent
reference) and, for the convolutional ones, build + Verilator (== the emulator, measured II
== the cycle model, no deadlock under random back-pressure; the skip-path FIFO sized by
the latency model is what prevents one: a small one deadlocks).
"""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

import qloom
from brevitas_models import assert_accepted, export, prepare
from branching_models import ConcatNet, InvertedResidual, ResidualBlock, ResNet8, UnquantizedBranchBlock
from onnx_builders import branching_mlp
from qloom.errors import QloomError
from qloom.reference import reference_outputs

SHAPE = (3, 8, 8)


def _frames(n, seed=1):
    return np.random.default_rng(seed).random((n,) + SHAPE, dtype=np.float32)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Brevitas exports: residual blocks with power-of-two, shared and independent float
    branch scales, and the Concat network (random weights, calibrated, random BN)."""
    d = tmp_path_factory.mktemp("branching")
    paths = {}
    for name, m in (("res_pot", ResidualBlock(align="pot")), ("res_shared", ResidualBlock(align="shared")),
                    ("res_float", ResidualBlock(align="float")), ("concat", ConcatNet())):
        torch.manual_seed(0)
        prepare(m, torch.from_numpy(_frames(16, seed=5)), seed=0)
        paths[name] = export(m, (1,) + SHAPE, d / name)
    return paths


def within(measured, model, rel=0.05, abs_=15):
    return abs(measured - model) <= max(rel * model, abs_)


# ------------------------------------------------------------------ lowering + emulator
@pytest.mark.parametrize("name", ["res_pot", "res_shared", "res_float", "concat"])
def test_emulator_equals_reference(models, name):
    g = qloom.compile_model(models[name])
    kinds = [op.op_type for op in g.nodes]
    assert kinds.count("DuplicateStreams") == 1
    assert kinds.count("ConcatStreams" if name == "concat" else "AddStreams") == 1
    assert not g.is_chain
    x = _frames(24, seed=2)
    y, y_ref = qloom.emulate(g, x), reference_outputs(models[name], x)
    assert_accepted(y, y_ref)
    assert np.ptp(y_ref, axis=0).max() > 0


def test_residual_alignment_weights(models):
    """Power-of-two branch scales give a shift (weights 1 and 2^k), shared ones 1 and 1."""
    for name, pot in (("res_pot", True), ("res_shared", False)):
        add = next(op for op in qloom.compile_model(models[name]).nodes if op.op_type == "AddStreams")
        m0, m1 = add.mul0, add.mul1
        if pot:
            assert min(m0, m1) == 1 and max(m0, m1) & (max(m0, m1) - 1) == 0, (m0, m1)
        else:
            assert (m0, m1) == (1, 1)


@pytest.mark.parametrize("kw, muls", [
    ({"s_branch": 0.125}, (1, 1)),  # equal scales
    ({"s_branch": 0.0625}, (1, 2)),  # power-of-two ratio: a shift
    ({"s_branch": 0.09375}, (3, 4)),  # 3/32 against 1/8
    ({"s_branch": 0.1}, None),  # unrelated float scales: large weights
    ({"join": "Concat"}, None),
    ({"join": "Concat", "s_branch": 0.1}, None),  # per-channel scales after the concat
])
def test_vector_joins_equal_reference(tmp_path, kw, muls):
    p = branching_mlp(tmp_path / "m.onnx", **kw)
    g = qloom.compile_model(p)
    if muls:
        add = next(op for op in g.nodes if op.op_type == "AddStreams")
        assert (add.mul0, add.mul1) == muls
    x = np.random.default_rng(0).random((300, 6), dtype=np.float32) * 2
    np.testing.assert_array_equal(qloom.emulate(g, x), reference_outputs(p, x))


@pytest.mark.parametrize("swap", [False, True], ids=["branch-first", "skip-first"])
def test_join_of_an_unquantized_branch(tmp_path, swap):
    """No quantizer between the MatMul and the Add: the MVAU's raw accumulator (scale
    s_in * s_w = 1/64) joins the skip (scale s_in = 1/8) with weights 1 and 8, whatever the
    Add's input order; emulate == reference."""
    import onnx

    p = branching_mlp(tmp_path / "m.onnx", branch_quant=False)
    if swap:
        m = onnx.load(str(p))
        add = next(n for n in m.graph.node if n.op_type == "Add")
        add.input[0], add.input[1] = add.input[1], add.input[0]
        onnx.save(m, str(p))
    g = qloom.compile_model(p)
    assert [op.op_type for op in g.nodes] == ["DuplicateStreams", "MVAU", "AddStreams", "Thresholding"]
    mv, add = g.nodes[1], g.nodes[2]
    assert mv.thresholds is None and g.edges[add.name] == (mv.name, g.nodes[0].name)
    assert (add.mul0, add.mul1) == (1, 8)
    x = np.random.default_rng(0).random((300, 6), dtype=np.float32) * 2
    y_ref = reference_outputs(p, x)
    np.testing.assert_array_equal(qloom.emulate(g, x), y_ref)
    assert len(np.unique(y_ref)) > 4


@pytest.fixture(scope="module")
def unquantized_branch(tmp_path_factory):
    """The torchvision-shaped Brevitas block (conv with no quantizer before the Add), with
    power-of-two scales, and with a batch norm on that branch."""
    d = tmp_path_factory.mktemp("unq")
    paths = {}
    for name, kw in (("pot", {}), ("bn", {"bn": True})):
        torch.manual_seed(0)
        m = UnquantizedBranchBlock(**kw)
        prepare(m, torch.from_numpy(_frames(16, seed=5)), seed=0)
        paths[name] = export(m, (1,) + SHAPE, d / name)
    return paths


def test_brevitas_block_with_an_unquantized_branch(unquantized_branch):
    """conv (power-of-two weight scale, float bias) + identity skip -> Add -> QuantReLU:
    the conv's accumulator and the skip align exactly (weights 1 and 2^k), the bias and the
    scale go into the thresholds after the join; emulate == reference."""
    p = unquantized_branch["pot"]
    g = qloom.compile_model(p)
    add = next(op for op in g.nodes if op.op_type == "AddStreams")
    src = g.node(g.edges[add.name][0])
    assert src.op_type == "MVAU" and src.thresholds is None  # the raw accumulator joins
    assert min(add.mul0, add.mul1) == 1 and max(add.mul0, add.mul1) & (max(add.mul0, add.mul1) - 1) == 0
    x = _frames(24, seed=2)
    y, y_ref = qloom.emulate(g, x), reference_outputs(p, x)
    np.testing.assert_array_equal(y, y_ref)
    assert np.ptp(y_ref, axis=0).max() > 0


def test_unquantized_branch_with_a_batch_norm_is_one_line_error(unquantized_branch):
    """A batch norm on the unquantized branch scales each channel differently: no exact
    integer alignment; the error names the node and what it needs."""
    with pytest.raises(QloomError) as e:
        qloom.compile_model(unquantized_branch["bn"])
    msg = str(e.value)
    assert msg.startswith("node Add_0 (Add): the ratio of the two branches' scales differs between channels")
    assert "put a quantizer on the unquantized branch" in msg and "\n" not in msg


@pytest.mark.sim
def test_unquantized_branch_build_rtlsim(unquantized_branch, tmp_path):
    """build + Verilator of the block: RTL == emulator, measured II == model, random
    back-pressure."""
    _build_and_check(unquantized_branch["pot"], tmp_path / "out")


def test_verify_checks_the_dag(models):
    g = qloom.compile_model(models["res_pot"])
    add = next(op for op in g.nodes if op.op_type == "AddStreams")
    bad = g.replace(edges={**g.edges, add.name: g.edges[add.name][:1]})
    with pytest.raises(QloomError, match=rf"layer {add.name} \(AddStreams\): 1 input streams, the operator takes 2"):
        bad.verify()
    wrong = g.replace(edges={**g.edges, add.name: (add.name,) + g.edges[add.name][1:]})
    with pytest.raises(QloomError, match=rf"input 0 reads '{add.name}', which is not an earlier layer"):
        wrong.verify()
    three = tuple(dataclasses.replace(op, copies=3) if op.op_type == "DuplicateStreams" else op
                  for op in g.nodes)
    with pytest.raises(QloomError, match=r"its stream feeds 2 inputs, the operator has 3 output port\(s\)"):
        g.replace(nodes=three).verify()


def test_latency_of_a_join_is_the_later_input(models):
    """The join's frame-0 completion follows the long branch, not the skip."""
    from qloom.dse import default_folding
    from qloom.dse.latency import done_cycles, join_fifo_depths, timing

    g = qloom.compile_model(models["res_pot"])
    fold, target, _ = default_folding(g)
    t, arr = timing(g, fold)
    add = next(op for op in g.nodes if op.op_type == "AddStreams")
    a0, a1 = arr[(add.name, 0)], arr[(add.name, 1)]
    long_k = int(a1.max() > a0.max())
    assert np.all(np.max([a0, a1], axis=0) == [a0, a1][long_k])
    done = done_cycles(g, fold)
    assert done[add.name] > done[g.producers(add.name)[long_k]]
    depth = join_fifo_depths(g, fold, target)
    # the skip input buffers what arrives before the long branch delivers (here more than a row)
    assert depth[(add.name, 1 - long_k)] > depth[(add.name, long_k)]
    assert depth[(add.name, 1 - long_k)] >= 8 * add.in_shape[-1]


def _exported(tmp_path, model, shape, n_calib=16):
    torch.manual_seed(0)
    x = np.random.default_rng(5).random((n_calib,) + shape, dtype=np.float32)
    prepare(model, torch.from_numpy(x), seed=0)
    return export(model, (1,) + shape, tmp_path / "m")


def test_resnet8_mlperf_tiny_emulates(tmp_path):
    """ResNet-8 (MLPerf Tiny shape, 32x32x3): three forks and three AddStreams (two with a
    1x1 stride-2 projection on the skip); emulator == reference."""
    p = _exported(tmp_path, ResNet8(), (3, 32, 32))
    g = qloom.compile_model(p)
    kinds = [op.op_type for op in g.nodes]
    assert kinds.count("AddStreams") == 3 and kinds.count("DuplicateStreams") == 3
    x = np.random.default_rng(2).random((12, 3, 32, 32), dtype=np.float32)
    y, y_ref = qloom.emulate(g, x), reference_outputs(p, x)
    assert_accepted(y, y_ref)
    assert np.ptp(y_ref, axis=0).max() > 0


# ------------------------------------------------------------------ build + Verilator
def _build_and_check(path, out, rel_ii=0.05, **build_kw):
    from qloom.flow import build, rtlsim

    r = build(path, out, **build_kw)
    x = _frames(4, seed=3)
    y_emu = qloom.emulate(qloom.compile_model(path), x)
    y, st = rtlsim(out, x)  # no stalls: II and latency as modelled
    np.testing.assert_array_equal(y, y_emu)
    assert within(st["cycles_per_frame"], r["cycles_per_frame"], rel=rel_ii), (st, r["cycles_per_frame"])
    assert within(st["latency_cycles"], r["estimates"]["latency_cycles"]), st
    for gap, stall, seed in ((0.3, 0.5, 3), (0.0, 0.8, 4), (0.7, 0.0, 5)):  # random back-pressure
        y, _ = rtlsim(out, x, p_in_gap=gap, p_out_stall=stall, seed=seed)
        np.testing.assert_array_equal(y, y_emu)
    return r, st


@pytest.mark.sim
@pytest.mark.parametrize("name", ["res_pot", "concat"])
def test_build_rtlsim_default_folding(models, tmp_path, name):
    out = tmp_path / "out"
    _build_and_check(models[name], out)
    depths = json.loads((out / "build.json").read_text())["fifo_depths"]
    join = "AddStreams_0" if name == "res_pot" else "ConcatStreams_0"
    assert max(depths[join], depths[f"{join}.in1"]) > 2 * 8  # the short branch buffers


@pytest.mark.sim
def test_build_rtlsim_target_fps(models, tmp_path):
    """The folding search over the DAG (a faster II than the default): RTL == emulator, no
    deadlock under back-pressure, measured II near the model. The tolerance is 10 %: two
    parallel-window SWGs in sequence lose about 20 cycles per frame to a bubble between
    frames that the cycle model does not see; the same three convolutions as a chain with
    this folding measure the same (407 cycles against 384 modelled, on main before
    branching graphs existed), so it is the chain's gap, not the join's."""
    r, st = _build_and_check(models["res_float"], tmp_path / "out", rel_ii=0.1, target_fps=250_000,
                             clock_mhz=100)
    assert r["cycles_per_frame"] <= 400
    fold = r["folding"]
    assert any(v.get("PE", 1) > 1 for k, v in fold.items() if k.startswith(("AddStreams", "DuplicateStreams")))


@pytest.mark.sim
def test_small_skip_fifo_deadlocks(models, tmp_path):
    """Why the skip FIFO is sized: with 8 beats the fork stalls the long branch before the
    3x3 convolutions have the rows they need, and nothing ever comes out."""
    from qloom.dse import default_folding
    from qloom.flow import build, fifo_depths_from_cycles, rtlsim
    from qloom.passes import lower_model
    from qloom.sim.verilator import SimTimeout

    g = lower_model(models["res_pot"])
    fold, _, _ = default_folding(g)
    depths = fifo_depths_from_cycles(g, fold)
    depths["AddStreams_0.in1"] = 8
    build(models["res_pot"], tmp_path / "out", fifo_depths=depths)
    with pytest.raises(SimTimeout):
        rtlsim(tmp_path / "out", _frames(2))


@pytest.mark.sim
def test_generated_dag_top_lints_clean(models, tmp_path):
    from qloom.flow import build
    from qloom.sim.verilator import lint

    build(models["concat"], tmp_path / "out")
    warnings = lint("qloom_top", sorted((tmp_path / "out" / "rtl").glob("*.v")))
    assert warnings == "", warnings


@pytest.mark.sim
def test_mobilenet_v2_inverted_residual_rtlsim(tmp_path):
    """MobileNet-v2 inverted residual block (expand 1x1, depthwise 3x3, project 1x1, + skip):
    emulator == reference, RTL == emulator, II as modelled, no deadlock under back-pressure."""
    p = _exported(tmp_path, InvertedResidual(), SHAPE)
    x = _frames(24, seed=2)
    assert_accepted(qloom.emulate(qloom.compile_model(p), x), reference_outputs(p, x))
    _build_and_check(p, tmp_path / "out")


@pytest.mark.sim
def test_small_resnet8_rtlsim(tmp_path):
    """ResNet-8's structure at 8x8 input and width 4 (projection skips, three joins)."""
    p = _exported(tmp_path, ResNet8(width=4), SHAPE)
    x = _frames(24, seed=2)
    assert_accepted(qloom.emulate(qloom.compile_model(p), x), reference_outputs(p, x))
    _build_and_check(p, tmp_path / "out")


@pytest.mark.sim
@pytest.mark.parametrize("top, params", [
    ("qloom_duplicatestreams", dict(CHANNELS=4, PE=2, BITS=3, N_OUT=2)),
    ("qloom_duplicatestreams", dict(CHANNELS=4, PE=1, BITS=1, N_OUT=3)),
    ("qloom_addstreams", dict(CHANNELS=4, PE=2, IN0_BITS=4, IN0_SIGNED=0, IN1_BITS=5, IN1_SIGNED=1,
                              MUL0=2, MUL1=1, OUT_BITS=7)),
    ("qloom_addstreams", dict(CHANNELS=8, PE=1, IN0_BITS=5, IN0_SIGNED=1, IN1_BITS=4, IN1_SIGNED=0,
                              MUL0=15872295, MUL1=60218384, OUT_BITS=32)),
    ("qloom_concatstreams", dict(C0=4, C1=6, PE=2, IN0_BITS=4, IN0_SIGNED=0, IN1_BITS=4, IN1_SIGNED=1,
                                 OUT_BITS=5)),
    ("qloom_concatstreams", dict(C0=1, C1=1, PE=1, IN0_BITS=3, IN1_BITS=3, OUT_BITS=3)),
])
def test_fork_join_modules_lint_clean(top, params):
    from qloom.rtl.generate import library_sources
    from qloom.sim.verilator import lint

    assert lint(top, library_sources([top]), params) == ""


@pytest.mark.synth
@pytest.mark.parametrize("name", ["res_pot", "concat"])
def test_branching_build_synthesizes(models, tmp_path, name, monkeypatch):
    """Yosys synth_xilinx of the stages of a branching build's fork and join layers (the fork,
    the join, the skip path's FIFO and the DWCs around them): no errors, no latches, each of
    those layers measured, and near the resource model (with the glue charged to them): FF
    within 10 % and LUT within 30 % (or 40 cells).

    CI time: the other stages (MVAU, SWG and their FIFOs/DWCs, about two thirds of the
    Yosys runs at about 10 s each) are the chain's modules, synthesized stage by stage in
    test_build_rtlsim.py::test_generated_top_synthesizes_without_latches and
    test_forms_synth.py; ``plan_top`` is narrowed for ``synth_out`` only."""
    import importlib

    import qloom.rtl.generate as gen
    from qloom.flow import build
    from qloom.synth import synth_out

    branch = ("DuplicateStreams", "AddStreams", "ConcatStreams")
    out = tmp_path / "out"
    r = build(models[name], out)
    whole = gen.plan_top

    def branch_stages(*args, **kwargs):
        plan = whole(*args, **kwargs)
        return dataclasses.replace(plan, stages=[st for st in plan.stages if st.layer.startswith(branch)])

    monkeypatch.setattr(gen, "plan_top", branch_stages)
    monkeypatch.setattr(importlib.import_module("qloom.synth"), "_update_report", lambda *a: None)  # report.md wants every layer
    rep = synth_out(out, family="xc7", progress=lambda m: None)
    assert rep["latches"] == 0
    fork_join = {n for n in r["folding"] if n.startswith(branch)}
    assert len(fork_join) == 2 and set(rep["layers"]) == fork_join
    assert len(rep["stages"]) > len(fork_join)  # the FIFOs and DWCs around them too
    est = r["estimates"]["layers"]
    for layer in rep["layers"]:
        if not layer.startswith(("DuplicateStreams", "AddStreams", "ConcatStreams")):
            continue
        got, want = rep["layers"][layer], est[layer]
        assert got["BRAM18"] == want["BRAM18"] and got["DSP"] == want["DSP"], (layer, got, want)
        assert abs(got["FF"] - want["FF"]) <= max(0.10 * want["FF"], 16), (layer, got, want)
        assert abs(got["LUT"] - want["LUT"]) <= max(0.30 * want["LUT"], 40), (layer, got, want)
