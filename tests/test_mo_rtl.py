"""The MO engine's RTL (qloom_mo_engine: PE x SIMD MVAU lanes, 32- to 128-bit AXI4, MVAU with windows, pools,
double-buffered) in Verilator with an AXI4 memory model: the DRAM it leaves equals the MO
emulator's (and so the DF emulator's) outputs, and its cycles match the cycle model (per tile
max(compute, memory)) within 10 % at two bandwidth/latency settings."""
from __future__ import annotations

import numpy as np
import pytest

import qloom
from qloom.emulate import run_stream
from qloom.mo.model import Memory, rtl_cycles, serial_cycles
from qloom.mo.schedule import Engine, compile_schedule
from qloom.sim.mo_engine import rtlsim_mo

import onnx_builders as ob


@pytest.mark.sim
@pytest.mark.slow  # the first Verilator build of each PE takes about 90 s (cached after)
@pytest.mark.parametrize("which, pe", [("jet_w6a6", 1), ("finn_bipolar", 1), ("small_cnn", 1),
                                       ("digits_w4a4", 1), ("jet_w6a6", 3), ("small_cnn", 3),
                                       ("digits_w4a4", 3)])
def test_rtl_engine_equals_emulator_and_cycle_model(tmp_path, which, pe):
    """jet_w6a6: INT8 input, 6-bit weights, 63 thresholds per channel, an INT16 accumulator
    output; the FINN-streamlined MLP: bipolar inputs, weights and outputs (XNOR); a random
    CNN (3x3 convolutions with padding, BN, max-pool, dense) and the digits CNN (padded
    convolutions, two max-pools). Small buffers split layers into several row tiles and
    weight blocks; PE = 3 divides none of the layers (padding rows are computed, not
    written)."""
    from qloom.models import model_path

    path = {"finn_bipolar": lambda: ob.finn_streamlined_mlp(tmp_path / "f.onnx"),
            "small_cnn": lambda: ob.small_cnn(tmp_path / "c.onnx")}.get(which, lambda: model_path(which))()
    g = qloom.compile_model(path)
    s = compile_schedule(g, Engine(pe=pe, simd=1, in_buf_bytes=256, w_buf_bytes=256 * pe,
                                   t_buf_bytes=4096, out_buf_bytes=128))
    assert any(L.nf > L.nfb or len(L.tiles) > 1 for L in s.layers)
    x = np.random.default_rng(3).uniform(-1, 1, (2,) + tuple(g.host_input.onnx_shape)).astype(np.float32)
    q = g.host_input(x)
    ref = run_stream(g, q).reshape(len(q), -1)
    for latency, gap in ((20, 1), (60, 4)):
        y, cycles = rtlsim_mo(s.image, q, latency, gap)
        assert np.array_equal(y, ref)
        model = rtl_cycles(s, Memory(4 / gap, latency, 1024))
        assert all(abs(c - model) <= 0.10 * model for c in cycles), (cycles, model)
        # double buffering pays: faster than the phases one after another
        assert max(cycles) < serial_cycles(s, Memory(4 / gap, latency, 1024))


@pytest.mark.sim
@pytest.mark.slow  # a second Verilator build (DB = 0)
def test_rtl_engine_serial_mode(tmp_path):
    """DB = 0: the phases one after another, equal outputs, cycles within 10 % of
    serial_cycles (transfers + compute per descriptor)."""
    g = qloom.compile_model(ob.small_cnn(tmp_path / "c.onnx", hw=6, c1=4, c2=3))
    s = compile_schedule(g, Engine(pe=1, simd=1, in_buf_bytes=256, w_buf_bytes=256, t_buf_bytes=4096,
                                   out_buf_bytes=128))
    q = g.host_input(np.random.default_rng(4).uniform(0, 1, (2, 3, 6, 6)).astype(np.float32))
    y, cycles = rtlsim_mo(s.image, q, 40, 2, db=0)
    assert np.array_equal(y, run_stream(g, q).reshape(len(q), -1))
    model = serial_cycles(s, Memory(2.0, 40, 1024))
    assert all(abs(c - model) <= 0.10 * model for c in cycles), (cycles, model)


@pytest.mark.sim
@pytest.mark.slow  # one Verilator build per (PE, SIMD, DW), about 40 s each on a loaded machine
@pytest.mark.parametrize("which, pe, simd, dw, wbuf", [("small_cnn", 2, 3, 64, 256), ("jet_w6a6", 2, 4, 32, 256),
                                                       ("finn_bipolar", 1, 8, 128, 16)])
def test_rtl_engine_simd(tmp_path, which, pe, simd, dw, wbuf):
    """SIMD > 1 (PE x SIMD MACs per cycle) and wider AXI4 ports: SIMD = 3 divides neither the
    CNN's 3 input channels' windows nor its layers' widths (a cycle's elements span pixels
    and window rows; columns past MW are zero-weight padding); 64- and 128-bit beats. The
    DRAM outputs equal the DF emulator's, cycles within 10 % of rtl_cycles at two memory
    settings (bytes per cycle = DW/8 per beat gap, bursts of 256 beats)."""
    from qloom.models import model_path

    path = {"finn_bipolar": lambda: ob.finn_streamlined_mlp(tmp_path / "f.onnx"),
            "small_cnn": lambda: ob.small_cnn(tmp_path / "c.onnx")}.get(which, lambda: model_path(which))()
    g = qloom.compile_model(path)
    s = compile_schedule(g, Engine(pe=pe, simd=simd, in_buf_bytes=256, w_buf_bytes=wbuf * pe * simd,
                                   t_buf_bytes=4096, out_buf_bytes=128))
    assert any(L.nf > L.nfb or len(L.tiles) > 1 for L in s.layers)
    x = np.random.default_rng(5).uniform(-1, 1, (2,) + tuple(g.host_input.onnx_shape)).astype(np.float32)
    q = g.host_input(x)
    ref = run_stream(g, q).reshape(len(q), -1)
    for latency, gap in ((20, 1), (60, 4)):
        y, cycles = rtlsim_mo(s.image, q, latency, gap, dw=dw)
        assert np.array_equal(y, ref)
        model = rtl_cycles(s, Memory(dw / 8 / gap, latency, 256 * dw // 8))
        assert all(abs(c - model) <= 0.10 * model for c in cycles), (cycles, model)
