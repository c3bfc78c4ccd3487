"""Branching graphs in the memory-optimized (MO) architecture (issue 12): the fork
(DuplicateStreams) is free (one tensor in DRAM read by every consumer), the residual join
(AddStreams) is the engine's ADD opcode with a following Thresholding fused. The tile-by-tile
MO emulator must equal the DF emulator (which equals qonnx's execute_onnx,
tests/test_branching.py) on residual networks, through engine sizes that force many row
tiles and weight blocks."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

import qloom
import onnx_builders as ob
from branching_models import ResidualBlock, ResNet8
from brevitas_models import export, prepare
from qloom.emulate import run_stream
from qloom.mo.engine import descriptors, emulate_mo, run_stream_mo
from qloom.mo.model import Memory, cycles
from qloom.mo.schedule import LOAD_W, OPCODES, Engine, compile_schedule
from test_mo import TINY, _check_schedule

ROOMY = Engine(pe=8, simd=8, in_buf_bytes=1 << 15, w_buf_bytes=1 << 15, t_buf_bytes=1 << 13, out_buf_bytes=1 << 15)


def _exported(tmp_path, model, shape, n_calib=16):
    torch.manual_seed(0)
    x = np.random.default_rng(5).random((n_calib,) + shape, dtype=np.float32)
    prepare(model, torch.from_numpy(x), seed=0)
    return export(model, (1,) + shape, tmp_path / "m")


def _mo_equals_df(g, engine, x):
    s = compile_schedule(g, engine)
    _check_schedule(s, g)
    q = g.host_input(x)
    ref = run_stream(g, q).reshape(len(q), -1)
    assert np.array_equal(run_stream_mo(s.image, q), ref)
    return s


def _joins(s):
    return [L for L in s.layers if L.opcode == "ADD"]


@pytest.mark.parametrize("s_branch, branch_quant", [(0.0625, True), (0.125, True), (0.1875, True),
                                                     (0.125, False)])
def test_vector_residual_equals_df(tmp_path, s_branch, branch_quant):
    """A fork and an Add join of vectors (branch scales equal, power-of-two and 3/2 ratios;
    an unquantized branch): the fork makes no layer, the join one ADD layer with the ReLU's
    thresholds fused, reading the MVAU's output and the forked input from DRAM."""
    g = qloom.compile_model(ob.branching_mlp(tmp_path / "b.onnx", s_branch=s_branch, branch_quant=branch_quant))
    s = _mo_equals_df(g, TINY, np.random.default_rng(1).random((16, 6), dtype=np.float32) * 2)
    (add,) = _joins(s)
    assert add.src2 is s.input and add.src is s.layers[0].dst
    assert add.thresholds is not None and len(add.ops) == 2 and s.layers[-1] is add
    assert [d.opcode for d in descriptors(s.image)].count(OPCODES["ADD"]) == len(add.tiles)


@pytest.fixture(scope="module")
def residual(tmp_path_factory):
    """Two residual blocks (power-of-two branch scales: a shift-add join), and a narrow ResNet-8 (three stacks, two with a 1x1 stride-2
    projection on the skip), exported from Brevitas with random weights (seed 0)."""
    d = tmp_path_factory.mktemp("mo_res")
    return {"pot": _exported(d / "pot", ResidualBlock(align="pot", blocks=2), (3, 8, 8)),
            "resnet8": _exported(d / "r8", ResNet8(width=8), (3, 16, 16))}


@pytest.mark.slow  # the residual fixture: two Brevitas exports, 45-110 s on a loaded machine
@pytest.mark.parametrize("name", ["pot", "resnet8"])
def test_residual_networks_equal_df(residual, name):
    """Row tiles and weight blocks (the least weight buffer that holds a neuron fold; the
    join's second operand rows share it), then one tile per layer: MO == DF emulator, and
    through the host edges == qloom.emulate."""
    g = qloom.compile_model(residual[name])
    shape = (3, 16, 16) if name == "resnet8" else (3, 8, 8)
    x = np.random.default_rng(3).random((2,) + shape, dtype=np.float32)
    small = replace(TINY, in_buf_bytes=256, out_buf_bytes=128, w_buf_bytes=1 << 16)
    plan = compile_schedule(g, small, image=False)
    small = replace(small, w_buf_bytes=max([L.fold_bytes for L in plan.layers] +
                                           [L.src2.row_bytes for L in _joins(plan)]))
    s = _mo_equals_df(g, small, x)
    n_add = [op.op_type for op in g.nodes].count("AddStreams")
    assert len(_joins(s)) == n_add >= 1
    assert all(len(L.tiles) > 1 and all(d.flags & LOAD_W for d in L.tiles) for L in _joins(s))
    assert any(L.nf > L.nfb for L in s.layers)
    s = _mo_equals_df(g, ROOMY, x)
    assert np.array_equal(emulate_mo(g, s.image, x), qloom.emulate(g, x))


@pytest.mark.slow  # the residual fixture: two Brevitas exports, 45-110 s on a loaded machine
def test_join_cycle_model(residual):
    """The ADD tile's compute is pixels * ceil(C / PE) (PE lanes add and threshold per
    cycle); its memory reads both operands' rows and the thresholds (bytes counted from the
    tensors' shapes and types, independently of the descriptors)."""
    from qloom.mo.layout import record_bytes

    g = qloom.compile_model(residual["resnet8"])
    s = compile_schedule(g, ROOMY, image=False)
    mem = Memory(bytes_per_cycle=4.0, latency_cycles=20)
    per = {L["name"]: L for L in cycles(s, mem)["layers"]}
    for L in _joins(s):
        h, w, c = L.dst.h, L.dst.w, L.dst.c
        assert per[L.name]["compute_cycles"] == h * w * -(-c // ROOMY.pe)
        rec = lambda t: t.h * t.w * record_bytes(t.c, t.type.bits)  # noqa: E731
        t_bytes = c * record_bytes(L.thresholds.shape[1], L.t_bits)
        assert per[L.name]["bytes"] == (128 * len(L.tiles) + rec(L.src) + rec(L.src2) + rec(L.dst)
                                        + t_bytes * len(L.tiles))


def test_concat_is_a_one_line_error(tmp_path):
    g = qloom.compile_model(ob.branching_mlp(tmp_path / "c.onnx", join="Concat"))
    with pytest.raises(qloom.QloomError, match=r"^layer ConcatStreams_0: the MO engine has no ConcatStreams "
                                               r"unit yet .*; build it with --arch df$"):
        compile_schedule(g, Engine())


@pytest.mark.sim
@pytest.mark.slow  # a Verilator build of the engine (cached per source) and a residual CNN frame
@pytest.mark.parametrize("name", ["vector", "pot"])
def test_rtl_join_equals_emulator_and_cycle_model(tmp_path, residual, name):
    """The RTL engine's ADD opcode (qloom_mo_engine.v): a vector residual (join weights 1
    and 2, fused ReLU thresholds) and the two-block residual CNN (PE = 2 divides the 3 input
    channels of the stem, row tiles on every layer): the DRAM the engine leaves equals the
    DF emulator's output, and its cycles are within 10 % of rtl_cycles at two memory
    settings."""
    from qloom.mo.model import rtl_cycles
    from qloom.sim.mo_engine import rtlsim_mo

    if name == "vector":
        g = qloom.compile_model(ob.branching_mlp(tmp_path / "b.onnx", s_branch=0.0625))
        x = np.random.default_rng(1).random((2, 6), dtype=np.float32) * 2
    else:
        g = qloom.compile_model(residual["pot"])
        x = np.random.default_rng(3).random((1, 3, 8, 8), dtype=np.float32)
    s = compile_schedule(g, Engine(pe=2, simd=1, in_buf_bytes=256, w_buf_bytes=512, t_buf_bytes=4096,
                                   out_buf_bytes=128))
    assert _joins(s) and all(L.mul != (1, 1) or name == "pot" for L in _joins(s))
    q = g.host_input(x)
    ref = run_stream(g, q).reshape(len(q), -1)
    for latency, gap in ((20, 1), (60, 4)):
        y, cyc = rtlsim_mo(s.image, q, latency, gap)
        assert np.array_equal(y, ref)
        model = rtl_cycles(s, Memory(4 / gap, latency, 1024))
        assert all(abs(c - model) <= 0.10 * model for c in cyc), (cyc, model)


# ------------------------------------------------------------------ DF head + MO tail (planning)
@pytest.mark.slow  # the residual fixture: two Brevitas exports, 45-110 s on a loaded machine
def test_hybrid_cuts_split_exactly(residual):
    """Every cut of the two-block residual net lies outside the residual blocks (no cut
    between a fork and its join: two tensors would cross), and at every cut the DF emulator
    of the head, then the MO emulator of the tail on the head's output, equals the DF
    emulator of the whole graph."""
    from qloom.mo.hybrid import cuts, split

    g = qloom.compile_model(residual["pot"])
    kinds = [op.op_type for op in g.nodes]
    inside = set()
    for i, kd in enumerate(kinds):
        if kd == "DuplicateStreams":
            j = kinds.index("AddStreams", i)
            inside |= set(range(i + 2, j + 1))  # cut k: the head is nodes[:k]
    ks = cuts(g)
    assert ks and not inside & set(ks)
    q = g.host_input(np.random.default_rng(4).random((2, 3, 8, 8), dtype=np.float32))
    ref = run_stream(g, q).reshape(len(q), -1)
    for k in ks:
        head, tail = split(g, k)
        mid = run_stream(head, q).reshape(len(q), -1)
        s = compile_schedule(tail, ROOMY)
        assert np.array_equal(run_stream_mo(s.image, mid), ref), k


def test_hybrid_plan_fits_and_takes_the_slower_side(tmp_path):
    """plan_hybrid on a small CNN: the chosen cut's engine plus the head's fastest fitting
    folding fit the board; fps = min(head, tail); the plan is the best candidate."""
    from qloom.boards import get_board
    from qloom.dse.search import best_fitting_fps
    from qloom.mo.hybrid import plan_hybrid

    g = qloom.compile_model(ob.small_cnn(tmp_path / "c.onnx"))
    brd = get_board("pynq-z1")
    p = plan_hybrid(g, brd, 100.0, best_fitting_fps)
    assert p["head"] + p["tail"] == [op.name for op in g.nodes]
    assert p["fps"] == min(p["head_fps"], p["tail_fps"]) > 0
    assert p["fps"] == max(c["fps"] for c in p["candidates"] if "fps" in c)
    assert not brd.over(p["engine_resources"])
