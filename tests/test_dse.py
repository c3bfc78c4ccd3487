"""Search objectives, the parallel-window knob and the streaming latency model (numpy only;
the latency model is checked against Verilator in test_rtl_matrix / test_build_rtlsim /
test_latency_svhn)."""
import json

import numpy as np
import pytest

import qloom
from qloom.boards import RESOURCES, get_board
from qloom.dse.folding import graph_cycles, validate_folding
from qloom.dse.latency import latency, serve
from qloom.dse.search import search
from qloom.errors import QloomError

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def svhn(tmp_path_factory):
    from qloom.zoo import zoo_export

    return qloom.compile_model(zoo_export("svhn_w6a6", tmp_path_factory.mktemp("z") / "svhn.onnx"))


@pytest.fixture(scope="module")
def cnv(tmp_path_factory):
    from qloom.zoo import zoo_export

    return qloom.compile_model(zoo_export("cnv_1w1a", tmp_path_factory.mktemp("z") / "cnv.onnx"))


def test_serve_closed_form_equals_loop():
    rng = np.random.default_rng(0)
    for s in (1.0, 3.0, 0.5, 16.0):
        ready = np.sort(rng.integers(0, 500, 200)).astype(float) + rng.integers(-20, 20, 200)
        t, ref = serve(ready, s), []
        for r in ready:  # in-order server: starts when ready and free, takes s cycles
            ref.append(max(r, ref[-1] if ref else -np.inf) + s)
        np.testing.assert_allclose(t, ref)


def test_parallel_window_knob_is_legal_only_with_all_channels(svhn):
    swg = svhn.nodes[0]
    c = swg.in_shape[-1]
    assert swg.legal({"SIMD": c, "parallel_window": 1})
    assert not swg.legal({"SIMD": 1, "parallel_window": 1})
    assert swg.out_elems({"SIMD": c, "parallel_window": 1}) == swg.out_shape[-1]
    h, w, _ = swg.in_shape
    assert swg.cycles({"SIMD": c, "parallel_window": 1}) == h * w  # one pixel per cycle
    with pytest.raises(QloomError, match="parallel_window"):
        validate_folding(svhn, {swg.name: {"SIMD": 1, "parallel_window": 1}})
    fold = validate_folding(svhn, {})
    assert fold[swg.name]["parallel_window"] == 0  # default: serial window


def test_svhn_reaches_hls4ml_ii_with_parallel_windows(svhn):
    """hls4ml's SVHN II (1,028 cycles at 200 MHz) needs a window per cycle in the first conv:
    32*32 input pixels at one pixel per cycle."""
    fold, pick, tot = search(svhn, get_board("u250"), 200e6 / 1028, 200)
    ii = max(graph_cycles(svhn, fold).values())
    assert ii <= 1028
    assert fold["SWG_0"]["parallel_window"] == 1
    assert all(tot[r] <= getattr(get_board("u250"), r) for r in RESOURCES)


def test_lut_objective_fits_meets_target_and_uses_fewer_luts(cnv):
    board = get_board("pynq-z1")
    fb, _, tb = search(cnv, board, 3040, 100, objective="balanced")
    fl, _, tl = search(cnv, board, 3040, 100, objective="LUT")
    for fold, tot in ((fb, tb), (fl, tl)):
        assert max(graph_cycles(cnv, fold).values()) <= 100e6 / 3040
        assert all(tot[r] <= getattr(board, r) for r in RESOURCES)
    assert tl["LUT"] < tb["LUT"]
    assert tl["BRAM18"] >= tb["BRAM18"]  # LUT ROMs moved to block RAM


def test_default_objective_is_fewest_luts_that_fit(cnv):
    """No objective given: the fewest LUTs that fit the board (DEFAULT_OBJECTIVE), and no
    other objective's folding of the same target has fewer LUTs (issue 15)."""
    from qloom.dse.search import DEFAULT_OBJECTIVE

    board = get_board("pynq-z1")
    fd, _, td = search(cnv, board, 3040, 100)
    assert DEFAULT_OBJECTIVE == "LUT" and fd == search(cnv, board, 3040, 100, objective="LUT")[0]
    for obj in ("balanced", "BRAM18", "DSP"):
        assert td["LUT"] <= search(cnv, board, 3040, 100, objective=obj)[2]["LUT"]


def test_lut_objective_respects_a_small_bram_budget(cnv, tmp_path):
    """With little block RAM the prices push the ROMs back into LUTs until it fits."""
    board = get_board("pynq-z1")
    small = tmp_path / "small.json"
    spec = {k: getattr(board, k) for k in ("name", "part", "family", "clock_mhz", *RESOURCES)}
    spec.update(name="small-bram", BRAM18=110)
    small.write_text(json.dumps(spec))
    b = get_board(str(small))
    _, _, tot = search(cnv, b, 3040, 100, objective="LUT")
    assert tot["BRAM18"] <= 110


def test_unknown_objective(cnv):
    with pytest.raises(QloomError, match="objective"):
        search(cnv, get_board("pynq-z1"), 3040, 100, objective="power")


def test_latency_grows_with_folding_and_is_at_least_the_input_time(cnv):
    from qloom.dse import fold_for_target

    fast = fold_for_target(cnv, 30_000)
    slow = fold_for_target(cnv, 300_000)
    lf, ls = latency(cnv, fast), latency(cnv, slow)
    assert ls > lf
    h, w, c = cnv.nodes[0].in_shape
    assert lf >= h * w * c // fast[cnv.nodes[0].name]["SIMD"]


@pytest.fixture(scope="module")
def svhn_u250(svhn):
    """The balanced search of SVHN on the U250 at 1,028 cycles/frame (one search, shared)."""
    return search(svhn, get_board("u250"), 200e6 / 1028, 200, objective="balanced")[0]


def test_latency_target_speeds_up_the_tail(svhn, svhn_u250):
    """hls4ml-style: II first, then the tail layers unfolded until the latency target."""
    board = get_board("u250")
    l0 = latency(svhn, svhn_u250)
    f1, _, t1 = search(svhn, board, 200e6 / 1028, 200, target_latency=l0 // 2)
    assert latency(svhn, f1) <= l0 // 2
    assert max(graph_cycles(svhn, f1).values()) <= 1028


def test_latency_target_out_of_reach(digits_model):
    """A latency target below the input's pixel count (64 on the 8x8 digits; the search
    exhausts every unfolding before it says so: minutes on SVHN, seconds here)."""
    g = qloom.compile_model(digits_model)
    with pytest.raises(QloomError, match="latency .* out of reach"):
        search(g, get_board("u250"), 200e6 / 1028, 200, target_latency=63)  # < the 64 input pixels


def test_cli_target_latency_needs_target_fps(tmp_path, capsys):
    from qloom.cli import main
    from qloom.models import model_path

    rc = main(["build", str(model_path()), "-o", str(tmp_path / "o"), "--target-latency", "100"])
    assert rc == 2
    assert "--target-fps" in capsys.readouterr().err


def test_res_type_knob(svhn, svhn_u250):
    """FINN's resType: integer products in LUTs or DSPs; the U250's scarce DSPs (12,288
    against 1.7M LUTs) make the balanced search build SVHN's 6-bit products in LUTs."""
    mvau = next(op for op in svhn.nodes if op.op_type == "MVAU")
    lut = mvau.resources({"PE": 4, "SIMD": 9, "resType": "lut"}, family="xcup")
    dsp = mvau.resources({"PE": 4, "SIMD": 9, "resType": "dsp"}, family="xcup")
    assert lut["DSP"] == 0 and dsp["DSP"] == 36 and lut["LUT"] > dsp["LUT"]
    with pytest.raises(QloomError, match="resType"):
        validate_folding(svhn, {mvau.name: {"resType": "carry"}})
    fold = svhn_u250
    picked = {n: f.get("resType") for n, f in fold.items() if n.startswith("MVAU")}
    assert set(picked.values()) <= {"lut", "const"} and "lut" in picked.values()
    for n, r in picked.items():  # the constant-weight adder graph only where fully unrolled
        if r == "const":
            mh, mw = svhn.node(n).mvau_dims
            assert (fold[n]["PE"], fold[n]["SIMD"]) == (mh, mw)


def test_fifo_ram_style_knob(tmp_path):
    """A layer knob of every operator (ops/base.py LAYER_KNOBS): the FIFO in front of the
    layer gets that RAM_STYLE; not searched, kept out of folding.json unless given; the
    resource model of the FIFO follows it (registers: no LUT-RAM)."""
    from qloom.flow import build
    from qloom.models import model_path
    from qloom.ops import estimate_instance, estimate_module
    from qloom.rtl.generate import plan_top

    graph = qloom.compile_model(model_path())
    fold = validate_folding(graph, {"MVAU_1": {"PE": 8, "SIMD": 16, "fifo_ram_style": "registers"}})
    assert fold["MVAU_1"]["fifo_ram_style"] == "registers" and "fifo_ram_style" not in fold["MVAU_0"]
    with pytest.raises(qloom.QloomError, match=r"fifo_ram_style 'ultra'; expected one of auto, block"):
        validate_folding(graph, {"MVAU_1": {"fifo_ram_style": "ultra"}})
    plan = plan_top(graph, fold, {"MVAU_1": 18})
    fifo = next(s for s in plan.stages if s.name == "fifo_MVAU_1")
    other = next(s for s in plan.stages if s.name == "fifo_MVAU_0")
    assert fifo.inst.params["RAM_STYLE"] == "registers" and other.inst.params["RAM_STYLE"] == "auto"
    auto = dict(fifo.inst.params, RAM_STYLE="auto")
    reg, lutram = estimate_instance(fifo.inst), estimate_module("qloom_fifo", auto)
    assert reg["FF"] > lutram["FF"]  # 18 beats in flip-flops instead of LUT-RAM
    fp = tmp_path / "f.json"
    fp.write_text(json.dumps(fold))
    build(model_path(), tmp_path / "out", folding_path=fp)
    top = (tmp_path / "out" / "rtl" / "qloom_top.v").read_text()
    assert top.count('.RAM_STYLE("registers")') == 1


@pytest.mark.slow  # 64 s on the loaded 2-core machine (search + every layer's shapes re-priced)
def test_refine_is_a_local_optimum_of_the_priced_totals(cnv):
    """Space.refine against a brute force written here: the per-layer pick priced on the
    totals (stream glue, raised producers) is no worse than the plain per-layer pick, and
    no single layer moved to any stream shape it supports (elements in/out per cycle, its
    cheapest option at that shape, producers re-fed from their own cheapest) lowers it."""
    from qloom.dse.search import Space, board_cost, scarcity_cost

    board = get_board("pynq-z1")
    w = {r: (1.0 if r == "LUT" else 0.01) for r in RESOURCES}
    space = Space(cnv, board_cost(board, w), board)
    target = 100e6 / 3040

    def price(pick):
        return scarcity_cost(space.totals(pick), board, w)

    plain = space.at(target)
    refined = space.at(target, lambda t: scarcity_cost(t, board, w))
    assert max(graph_cycles(cnv, space.folding(refined)).values()) <= target
    assert price(refined) <= price(plain)
    # moves from the fed pick (producers stay at least as fast: feed() only raises)
    ops = {op.name: op for op in cnv.nodes}
    base = dict(refined)
    for n, op in ops.items():
        shapes = {}
        for o in space.all[n]:
            k = (op.in_elems(o.cfg), op.out_elems(o.cfg))
            if o.cycles <= target and (k not in shapes or o.cost < shapes[k].cost):
                shapes[k] = o
        for o in shapes.values():
            trial = space.feed({**base, n: o}, target)
            if max(graph_cycles(cnv, space.folding(trial)).values()) > target:
                continue
            assert price(trial) >= price(refined) - 1e-9, (n, o.cfg)
