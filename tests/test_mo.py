"""The memory-optimized (MO) architecture: DRAM layout, schedule compiler, the tile-by-tile
engine emulator (== the DF emulator, which equals qonnx's execute_onnx), the cycle model
and the engine search."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import qloom
from qloom.emulate import run_stream
from qloom.mo.engine import descriptors, header, run_stream_mo
from qloom.mo.layout import pack, record_bytes, unpack
from qloom.mo.schedule import (BARRIER, LOAD_IN, LOAD_W, STORE_OUT, Desc, Engine, compile_schedule)

import onnx_builders as ob

TINY = Engine(pe=2, simd=3, in_buf_bytes=128, w_buf_bytes=230, t_buf_bytes=1024, out_buf_bytes=48)


def _ref_pack(values, bits):
    """Independent reference of the record layout: Python integers, field i at bit i*bits."""
    out = b""
    for row in values:
        word = 0
        for i, v in enumerate(row):
            word |= (int(v) & ((1 << bits) - 1)) << (i * bits)
        out += word.to_bytes(record_bytes(len(row), bits), "little")
    return out


@pytest.mark.parametrize("bits, signed, n", [(1, False, 13), (2, True, 5), (3, False, 7), (6, True, 16),
                                             (10, True, 3), (17, True, 2)])
def test_pack_matches_reference_and_round_trips(bits, signed, n):
    rng = np.random.default_rng(bits)
    lo, hi = (-(1 << (bits - 1)), 1 << (bits - 1)) if signed else (0, 1 << bits)
    v = rng.integers(lo, hi, (9, n))
    data = pack(v, bits)
    assert data == _ref_pack(v, bits)
    assert np.array_equal(unpack(data, 9, n, bits, signed), v)
    bip = rng.choice([-1, 1], (4, n))
    assert np.array_equal(unpack(pack(bip, 1, bipolar=True), 4, n, 1, True, bipolar=True), bip)


def test_descriptor_round_trip():
    d = Desc(opcode=1, flags=LOAD_IN | STORE_OUT, ih=30, iw=30, ic=64, pad_value=-8, out_bias=-1,
             in_addr=123456, nfs=7)
    w = d.words()
    assert w.dtype == np.dtype("<u4") and len(w) == 32
    back = Desc.from_words(w)
    assert back == Desc(**{**d.__dict__, "layer": 0})


def _check_schedule(s, graph):
    """Structural facts of a compiled schedule, from the descriptors read back out of the
    image: every output row of every layer is stored exactly once, every neuron fold is
    computed for every row tile, and each transfer fits its buffer half."""
    e = s.engine
    ds = descriptors(s.image)
    assert ds[-1].opcode == 0 and len(ds) == len(s.descs)
    assert [d.words().tolist() for d in ds[:-1]] == [d.words().tolist() for d in s.descs[:-1]]
    for L in s.layers:
        rows = np.zeros(L.dst.h, dtype=int)
        folds = {}
        for d in L.tiles:
            assert d.in_bytes <= e.in_buf_bytes and d.out_bytes <= e.out_buf_bytes
            assert d.w_bytes <= e.w_buf_bytes and d.t_bytes <= e.t_buf_bytes
            if d.flags & STORE_OUT:
                rows[d.out_row0:d.out_row0 + d.out_rows] += 1
            folds.setdefault(d.out_row0, []).extend(range(d.nf0, d.nf0 + d.nfs))
        assert (rows == 1).all(), L.name
        barrier = [bool(d.flags & BARRIER) for d in L.tiles]
        assert barrier[0] and not any(barrier[1:]), L.name  # the layer's first tile waits
        if L.weights is not None:
            nf = -(-L.weights.shape[0] // e.pe)
            assert all(sorted(f) == list(range(nf)) for f in folds.values()), L.name
            assert L.tiles[0].flags & LOAD_W
    assert len(s.image) < s.dram_bytes and header(s.image)["dram_bytes"] == s.dram_bytes


def _equal_to_df(graph, engine, x):
    s = compile_schedule(graph, engine)
    _check_schedule(s, graph)
    q = graph.host_input(x)
    ref = run_stream(graph, q).reshape(len(q), -1)
    got = run_stream_mo(s.image, q)
    assert np.array_equal(got, ref)
    return s


@pytest.mark.parametrize("seed, hw, c1, c2", [(0, 8, 6, 4), (1, 6, 5, 7), (2, 10, 3, 9)])
def test_random_conv_net_equals_df_emulator(tmp_path, seed, hw, c1, c2):
    """A small random CNN (3x3 convs with padding 1, BN, max-pool, dense) through odd
    engine sizes: PE/SIMD that divide nothing (padded lanes), tiny buffers (many row tiles
    and weight blocks), and roomy ones (one tile per layer)."""
    path = ob.small_cnn(tmp_path / "cnn.onnx", hw=hw, c1=c1, c2=c2, seed=seed)
    g = qloom.compile_model(path)
    x = np.random.default_rng(seed).uniform(0, 1, (3, 3, hw, hw)).astype(np.float32)
    fold = max(L.fold_bytes for L in compile_schedule(g, TINY, image=False).layers)
    s = _equal_to_df(g, replace(TINY, w_buf_bytes=fold), x)  # the least weight buffer
    assert max(-(-L.dst.h // L.rows_per_tile) for L in s.layers) > 1  # row tiles
    assert any(L.nf > L.nfb for L in s.layers)  # weight blocks
    _equal_to_df(g, Engine(pe=16, simd=32, in_buf_bytes=1 << 16, w_buf_bytes=1 << 16,
                           t_buf_bytes=1 << 14, out_buf_bytes=1 << 16), x)
    # the whole model output, through the host edges, equals the DF emulator's
    from qloom.mo.engine import emulate_mo

    assert np.array_equal(emulate_mo(g, s.image, x), qloom.emulate(g, x))


@pytest.mark.slow  # Brevitas export of TFC (about 50 s) and SVHN's threshold search
@pytest.mark.parametrize("name", ["tfc_2w2a", "svhn_w6a6"])
def test_zoo_models_equal_df_emulator(tmp_path, name):
    from qloom import zoo

    g = qloom.compile_model(zoo.zoo_export(name, tmp_path / f"{name}.onnx"))
    x = zoo.sample_input(name, 3)
    _equal_to_df(g, Engine(pe=4, simd=8, in_buf_bytes=1024, w_buf_bytes=2048, t_buf_bytes=1024,
                           out_buf_bytes=1024), x)
    _equal_to_df(g, Engine(), x)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cnv_1w1a", "cnv_2w2a"])
def test_cnv_equals_df_emulator(tmp_path, name):
    from qloom import zoo

    g = qloom.compile_model(zoo.zoo_export(name, tmp_path / f"{name}.onnx"))
    x = zoo.sample_input(name, 2)
    _equal_to_df(g, Engine(pe=16, simd=16, in_buf_bytes=8192, w_buf_bytes=16384, t_buf_bytes=2048,
                           out_buf_bytes=4096), x)


def test_branching_graph_and_small_buffers_are_one_line_errors(tmp_path):
    g = qloom.compile_model(ob.branching_mlp(tmp_path / "b.onnx", join="Concat"))  # residual Add: test_mo_branching
    with pytest.raises(qloom.QloomError, match=r"^layer \S+: the MO engine has no ConcatStreams unit yet"):
        compile_schedule(g, Engine())
    g = qloom.compile_model(ob.small_cnn(tmp_path / "c.onnx"))
    with pytest.raises(qloom.QloomError, match=r"one neuron fold needs \d+ weight bytes"):
        compile_schedule(g, Engine(w_buf_bytes=8))
    with pytest.raises(qloom.QloomError, match=r"must be a whole number >= 1"):
        Engine(pe=0)


def test_cycle_model_roofline_bounds(tmp_path):
    """Per tile max(compute, memory): a frame takes at least its compute cycles and at least
    its bytes over the bandwidth; starving the bandwidth makes every layer memory-bound and
    the frame time then tracks bytes / bandwidth."""
    from qloom.mo.model import Memory, cycles

    g = qloom.compile_model(ob.small_cnn(tmp_path / "c.onnx", hw=10, c1=8, c2=8))
    s = compile_schedule(g, TINY, image=False)
    fast = cycles(s, Memory(1e6, 0.0))
    comp = sum(L["compute_cycles"] for L in fast["layers"])
    assert comp <= fast["cycles_per_frame"] < comp * 1.01 + 64 * len(s.layers)
    slow = cycles(s, Memory(0.01, 0.0))
    assert all(L["bound"] == "memory" for L in slow["layers"])
    assert slow["cycles_per_frame"] == pytest.approx(slow["bytes_per_frame"] / 0.01, rel=0.01)
    # compute cycles counted independently: MACs / (PE x SIMD) at full lanes is a lower bound
    macs = sum(L.macs for L in s.layers if L.weights is not None)
    mv = sum(L["compute_cycles"] for L in fast["layers"] if L["opcode"] == "MVAU")
    assert mv >= macs / (TINY.pe * TINY.simd)


def test_search_meets_target_and_fits(tmp_path):
    from qloom.boards import get_board
    from qloom.mo.model import Memory, cycles, engine_compute, resources, search

    g = qloom.compile_model(ob.small_cnn(tmp_path / "c.onnx", hw=10, c1=8, c2=8))
    board = get_board("pynq-z1")
    e_max, best = search(g, board, 100.0)
    e, info = search(g, board, 100.0, target_fps=best["fps"] / 4)
    assert info["fps"] >= best["fps"] / 4 and info["resources"]["LUT"] <= best["resources"]["LUT"]
    s = compile_schedule(g, e, image=False)
    assert not board.over(resources(s, board.family))
    # timed as the RTL engine runs it
    cyc = cycles(s, Memory.from_board(board, 100.0), engine_compute)["cycles_per_frame"]
    assert 100e6 / cyc == pytest.approx(info["fps"])
    with pytest.raises(qloom.QloomError, match="reaches at most"):
        search(g, board, 100.0, target_fps=best["fps"] * 10)


@pytest.mark.parametrize("which", ["digits_w4a4", "jet_w6a6", "finn_bipolar"])
def test_small_models_equal_df_emulator(tmp_path, which):
    """Padded convolutions and pools (digits), a signed INT8 input MLP (jet), bipolar inputs,
    outputs and weights (a FINN-streamlined MLP: XNOR layers)."""
    from qloom.models import model_path

    path = ob.finn_streamlined_mlp(tmp_path / "f.onnx") if which == "finn_bipolar" else model_path(which)
    g = qloom.compile_model(path)
    x = np.random.default_rng(1).uniform(-1, 1, (4,) + tuple(g.host_input.onnx_shape)).astype(np.float32)
    _equal_to_df(g, Engine(pe=3, simd=5, in_buf_bytes=256, w_buf_bytes=1024, t_buf_bytes=4096,
                           out_buf_bytes=128), x)


def test_cli_build_arch_mo_and_auto(tmp_path, digits_model, capsys):
    """``qloom build --arch mo`` writes the schedule and the DRAM image, which the engine
    emulator runs to the DF emulator's outputs; ``--arch auto`` takes DF when it fits the
    board and MO when it does not; ``qloom roofline --build`` places both."""
    import json

    from qloom.boards import get_board
    from qloom.cli import main
    from qloom.data import digits_split
    from qloom.mo.engine import emulate_mo

    out = tmp_path / "mo"
    assert main(["build", str(digits_model), "-o", str(out), "--arch", "mo"]) == 0
    assert "MO engine" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["build.json", "estimates.json", "mo", "model.onnx", "rtl"]
    est = json.loads((out / "estimates.json").read_text())
    meta = json.loads((out / "build.json").read_text())
    sched = json.loads((out / "mo" / "schedule.json").read_text())
    assert est["arch"] == meta["arch"] == "mo" and sched["engine"] == meta["engine"]
    assert not get_board("pynq-z1").over(est["total"])
    assert est["fps"] == pytest.approx(100e6 / est["cycles_per_frame"])
    g = qloom.compile_model(digits_model)
    x = digits_split()[2][:16]
    image = (out / "mo" / "image.bin").read_bytes()
    assert np.array_equal(emulate_mo(g, image, x), qloom.emulate(g, x))
    # auto: DF fits pynq-z1 (a DF build folder), MO on a board with too few LUTs for DF
    assert main(["build", str(digits_model), "-o", str(tmp_path / "auto_df"), "--arch", "auto"]) == 0
    assert (tmp_path / "auto_df" / "rtl").is_dir()
    assert "arch" not in json.loads((tmp_path / "auto_df" / "build.json").read_text())
    (tmp_path / "b.json").write_text(json.dumps(dict(json.loads(_board_text("pynq-z1")), name="lut9k",
                                                      LUT=9000)))
    capsys.readouterr()
    assert main(["build", str(digits_model), "-o", str(tmp_path / "auto_mo"), "--arch", "auto",
                 "--board", str(tmp_path / "b.json")]) == 0
    assert "--arch auto: the DF build does not fit lut9k (LUT" in capsys.readouterr().out
    est2 = json.loads((tmp_path / "auto_mo" / "estimates.json").read_text())
    assert est2["arch"] == "mo" and est2["total"]["LUT"] <= 9000
    # the roofline places both builds: the MO build moves its weights, so its intensity is lower
    assert main(["roofline", str(digits_model), "-o", str(tmp_path / "roof"), "--build", str(out),
                 "--build", str(tmp_path / "auto_df")]) == 0
    placed = json.loads((tmp_path / "roof.json").read_text())["builds"]
    assert [p["arch"] for p in placed] == ["mo", "df"]
    assert placed[0]["intensity_ops_per_byte"] < placed[1]["intensity_ops_per_byte"]
    assert placed[0]["intensity_ops_per_byte"] == pytest.approx(
        2 * sum(op.macs for op in g.nodes) / est["bytes_per_frame"])


def _board_text(name):
    from qloom.boards import _dirs

    return (_dirs()[0] / f"{name}.json").read_text()


def test_auto_builds_mo_when_weights_do_not_fit_on_chip(tmp_path):
    """A chain CNN of 1.5M 4-bit weights (about 6 Mbit: more than PYNQ-Z1's 280 BRAM18)
    does not fit DF; ``--arch auto`` builds it into MO, within the board's budget, and the
    written DRAM image runs to the DF emulator's outputs."""
    import json

    from qloom.boards import get_board
    from qloom.flow import build
    from qloom.mo.engine import emulate_mo

    path = ob.small_cnn(tmp_path / "big.onnx", hw=16, c1=256, c2=512, classes=10)
    g = qloom.compile_model(path)
    w_bits = sum(op.weight_count * op.weight_type.bits for op in g.nodes if op.weight_count)
    board = get_board("pynq-z1")
    assert w_bits > board.BRAM18 * 18432
    r = build(path, tmp_path / "out", arch="auto")
    assert r["arch"] == "mo" and "the DF build does not fit pynq-z1" in r["note"]
    est = json.loads((tmp_path / "out" / "estimates.json").read_text())
    assert not board.over(est["total"])
    x = np.random.default_rng(0).uniform(0, 1, (2, 3, 16, 16)).astype(np.float32)
    image = (tmp_path / "out" / "mo" / "image.bin").read_bytes()
    assert np.array_equal(emulate_mo(g, image, x), qloom.emulate(g, x))


@pytest.mark.slow  # a Brevitas export (torch start-up and the dynamo exporter)
def test_label_select_unit(tmp_path):
    """The engine's LabelSelect: top-3 indices of a Brevitas MLP's logits."""
    import torch

    from brevitas_models import TopK, export, mlp, prepare

    m = mlp(24, hidden=(16,), classes=10, wbits=3, act=("relu", 3), last_bias=False, tail=TopK(3), pot=True)
    prepare(m, torch.rand(16, 24))
    g = qloom.compile_model(export(m, (1, 24), tmp_path / "topk"))
    assert g.nodes[-1].op_type == "LabelSelect"
    x = np.random.default_rng(5).uniform(0, 1, (6, 24)).astype(np.float32)
    _equal_to_df(g, Engine(pe=3, simd=5), x)


def test_sum_pool_and_thresholding_units(tmp_path):
    """SumPool and a standalone Thresholding (an AveragePool before a quantizer)."""
    g = qloom.compile_model(ob.avgpool_tie(tmp_path / "avg.onnx", channels=3, hw=7))
    assert [op.op_type for op in g.nodes] == ["SumPool", "Thresholding"]
    x = np.random.default_rng(6).uniform(-1, 1, (4,) + tuple(g.host_input.onnx_shape)).astype(np.float32)
    s = _equal_to_df(g, Engine(pe=2, simd=2, in_buf_bytes=64, out_buf_bytes=32), x)
    assert len(s.layers[0].tiles) > 1


def test_memory_model_capped_at_the_boards_axi_port(tmp_path):
    """Memory.from_board: the board's DRAM bandwidth at the clock, but at most one beat of
    its PL-to-DRAM port per cycle (PYNQ-Z1: 4.3 GB/s at 100 MHz is 43 bytes/cycle, its HP0
    port is 64 bits (Zynq-7000 TRM UG585 Sec. 5.4): 8 bytes/cycle, bursts of 256 beats);
    without a port width the bandwidth alone; a width that is not an AXI4 data width is a
    one-line error naming the file."""
    import json

    from qloom.boards import get_board
    from qloom.mo.model import Memory

    b = get_board("pynq-z1")
    m = Memory.from_board(b, 100.0)
    assert (m.bytes_per_cycle, m.burst_bytes) == (8.0, 2048)
    free = json.loads(_board_text("pynq-z1"))
    free.pop("mem_port_bits")
    (tmp_path / "free.json").write_text(json.dumps(dict(free, name="free")))
    assert Memory.from_board(get_board(str(tmp_path / "free.json")), 100.0).bytes_per_cycle == pytest.approx(43.0)
    (tmp_path / "bad.json").write_text(json.dumps(dict(free, name="bad", mem_port_bits=48)))
    with pytest.raises(qloom.QloomError, match=r"bad\.json: mem_port_bits must be 0 \(not limited\) or an AXI4"):
        get_board(str(tmp_path / "bad.json"))
