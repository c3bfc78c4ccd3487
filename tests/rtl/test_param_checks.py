"""Illegal parameters stop elaboration with a message (a generate-if around $error in
each operator module), in Verilator lint and in Yosys; the credit parameters of the
credit-managed operators can be overridden."""
import numpy as np
import pytest

from qloom.errors import QloomError
from qloom.instance import memh_text
from qloom.ops.base import threshold_words
from qloom.sim import verilator as vl
from qloom.sim.verilator import pack_beats, unpack_beats
from rtlutil import STALL_PATTERNS, assert_lint_clean, build_sim, sources

ILLEGAL = [
    ("qloom_thresholding", dict(CHANNELS=6, PE=4), "qloom_thresholding: CHANNELS must be a multiple of PE"),
    ("qloom_thresholding", dict(NUM_THRESH=0), "qloom_thresholding: NUM_THRESH must be >= 1"),
    ("qloom_thresholding", dict(CREDITS=0), "qloom_credit_out: CREDITS must be >= 1"),
    ("qloom_mvau", dict(MW=6, SIMD=4), "qloom_mvau: MW must be a multiple of SIMD"),
    ("qloom_mvau", dict(MH=6, PE=4), "qloom_mvau: MH must be a multiple of PE"),
    ("qloom_mvau", dict(IN_BIPOLAR=1, IN_BITS=2), "qloom_mvau: bipolar inputs / weights must be 1 bit wide"),
    ("qloom_vvau", dict(CHANNELS=6, PE=4), "qloom_vvau: CHANNELS must be a multiple of PE"),
    ("qloom_vvau", dict(K=9, SIMD=2, PE=4, CHANNELS=4), "qloom_vvau: K must be a multiple of SIMD"),
    ("qloom_vvau", dict(K=9, SIMD=3, PE=2, CHANNELS=4), "qloom_vvau: SIMD > 1 needs PE == CHANNELS"),
    ("qloom_swg", dict(CHANNELS=3, SIMD=2), "qloom_swg: CHANNELS must be a multiple of SIMD"),
    ("qloom_swg", dict(K_H=8), "qloom_swg: the kernel must fit in the padded image"),
    ("qloom_swg_pw", dict(S_W=0), "qloom_swg_pw: K_H, K_W, S_H and S_W must be >= 1"),
    ("qloom_pool_reduce", dict(MODE=2), "qloom_pool_reduce: MODE must be 0 (max) or 1 (sum)"),
    ("qloom_pool", dict(CHANNELS=3, PE=2), "qloom_pool: CHANNELS must be a multiple of PE"),
    ("qloom_pool", dict(CHANNELS=4, PE=3, MODE=1, OUT_BITS=10), "qloom_pool: CHANNELS must be a multiple of PE"),
    ("qloom_labelselect", dict(NUM_LABELS=4, K=5), "qloom_labelselect: K must be in 1 .. NUM_LABELS"),
    ("qloom_labelselect", dict(NUM_LABELS=10, PE=4), "qloom_labelselect: NUM_LABELS must be a multiple of PE"),
    ("qloom_dwc", dict(IN_WIDTH=6, OUT_WIDTH=8), "qloom_dwc: IN_WIDTH and OUT_WIDTH must be >= 1 and one"),
    ("qloom_fifo", dict(DEPTH=0), "qloom_fifo: WIDTH and DEPTH must be >= 1"),
    ("qloom_mvau_const", dict(DEPTH=3, CREDITS=4), "qloom_mvau_const: CREDITS must be >= DEPTH + 2"),
    ("qloom_mul_pack", dict(IB=6, WB=6, S=14), "qloom_mul_pack: K >= 1 and 2 <= S <= PW"),
]


@pytest.mark.sim
@pytest.mark.parametrize("top,params,msg", ILLEGAL, ids=[f"{t}-{m.split(': ')[1][:24]}" for t, _, m in ILLEGAL])
def test_illegal_parameters_stop_lint(top, params, msg):
    out = vl.lint(top, sources(top), params)
    assert msg in out, out
    assert "USERERROR" in out and "Exiting due to" in out, out


@pytest.mark.synth
def test_illegal_parameters_stop_yosys(tmp_path):
    from qloom.synth import synth_module

    (tmp_path / "thresholds.mem").write_text("0\n")
    with pytest.raises(QloomError, match="qloom_thresholding: CHANNELS must be a multiple of PE"):
        synth_module("qloom_thresholding", sources("qloom_thresholding"), dict(CHANNELS=6, PE=4),
                     {"thresholds.mem": tmp_path / "thresholds.mem"}, "xc7", 32, 8)
    with pytest.raises(QloomError, match="qloom_labelselect: K must be in 1 .. NUM_LABELS"):
        synth_module("qloom_labelselect", sources("qloom_labelselect"), dict(NUM_LABELS=4, K=5),
                     {}, "xc7", 8, 2)


@pytest.mark.sim
@pytest.mark.parametrize("top,params", [
    ("qloom_mvau", dict(CREDITS=7)), ("qloom_mvau", dict(ROUND_TRIP=20)),
    ("qloom_swg", dict(CREDITS=2)), ("qloom_thresholding", dict(CREDITS=9)),
    ("qloom_pool_reduce", dict(CREDITS=1)),
])
def test_credit_parameters_lint_clean(top, params):
    assert_lint_clean(top, [top], params)


@pytest.mark.sim
@pytest.mark.parametrize("credits", [1, 2, 8])
def test_thresholding_credits_override(credits):
    """Other credit counts keep the results (fewer credits only cost throughput)."""
    p = dict(CHANNELS=4, PE=2, IN_BITS=4, IN_SIGNED=1, T_BITS=5, NUM_THRESH=3, OUT_BITS=2,
             THRESH_FILE="thresholds.mem", CREDITS=credits)
    sim = build_sim("qloom_thresholding", ["qloom_thresholding"], p, 8, 4)
    rng = np.random.default_rng(credits)
    for gap, stall, seed in STALL_PATTERNS:
        X = rng.integers(-8, 8, size=(12, 4))
        T = np.sort(rng.integers(-9, 9, size=(4, 3)), axis=1)
        files = {"thresholds.mem": memh_text(threshold_words(T, 2, 5), 2 * 3 * 5)}
        res = sim.run(pack_beats(X.reshape(-1), 4, 2), 24, p_in_gap=gap, p_out_stall=stall, seed=seed,
                      files=files)
        got = unpack_beats(res.outputs, 2, 2, False).reshape(12, 4)
        np.testing.assert_array_equal(got, (X[:, :, None] >= T[None]).sum(axis=2) & 3)
