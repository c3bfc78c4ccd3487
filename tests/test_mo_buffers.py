"""One buffer size from the MO search through the schedule to the RTL engine's parameters.

The ResNet-18 engine the search chose (PE 8, SIMD 16, 32 KiB weight halves) was once run in
Verilator with the RTL's default buffers (qloom_mo_top's WBUF = 16 KiB): its 512-channel
3x3 convolutions' weight fold (288 SIMD words of 64 bytes = 18,432 bytes) did not fit. The
image header now carries the buffer halves the schedule was compiled for; the compiler, the
emulator and the RTL runner check every transfer against them. Cheap: no Verilator build
(every RTL-runner check here fails before building)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import qloom
from qloom.emulate import run_stream
from qloom.mo.build import engine_params, rtl_dir
from qloom.mo.engine import descriptors, header, run_frame, run_stream_mo
from qloom.mo.schedule import HEADER_BYTES, HEADER_FIELDS, Engine, check_buffers, compile_schedule
from qloom.sim.mo_engine import image_buffers, rtlsim_mo

import onnx_builders as ob

BUFS = ("IBUF", "WBUF", "TBUF", "OBUF")


def _rtl_default(name: str) -> int:
    """A buffer parameter's default in the RTL top (read from the Verilog itself)."""
    text = (rtl_dir() / "qloom_mo_top.v").read_text()
    return int(re.search(rf"parameter\s+{name}\s*=\s*(\d+)", text).group(1))


@pytest.fixture(scope="module")
def wide_fold(tmp_path_factory):
    """An MLP whose first layer (MW 4096, 4-bit weights) at PE = SIMD = 16 has a weight fold
    of 256 words x 128 bytes = 32 KiB, twice the RTL's default weight half."""
    d = tmp_path_factory.mktemp("fold")
    g = qloom.compile_model(ob.mlp(d / "m.onnx", features=(4096, 16, 4)))
    e = Engine(pe=16, simd=16, in_buf_bytes=4096, w_buf_bytes=32768, t_buf_bytes=4096, out_buf_bytes=256)
    return g, e, compile_schedule(g, e)


def test_image_carries_the_engines_buffers(wide_fold):
    g, e, s = wide_fold
    fold = max(d.w_bytes for d in s.descs)
    assert fold == -(-4096 // e.simd) * e.pe * e.simd * 4 // 8  # one neuron fold: SF words of PE x SIMD x 4 bits
    assert fold > _rtl_default("WBUF")  # the old mismatch's precondition
    head = header(s.image)
    assert len(HEADER_FIELDS) * 4 == HEADER_BYTES and head["desc_addr"] >= HEADER_BYTES
    assert image_buffers(s.image) == {k: v for k, v in engine_params(e).items() if k in BUFS}
    assert (head["in_buf"], head["w_buf"], head["t_buf"], head["out_buf"]) == (
        e.in_buf_bytes, e.w_buf_bytes, e.t_buf_bytes, e.out_buf_bytes)
    # every transfer fits its half (counted here from the decoded descriptors)
    for d in descriptors(s.image):
        assert d.in_bytes <= e.in_buf_bytes and d.w_bytes <= e.w_buf_bytes
        assert d.t_bytes <= e.t_buf_bytes and d.out_bytes <= e.out_buf_bytes
    x = np.random.default_rng(0).uniform(0, 1, (2, 4096)).astype(np.float32)
    q = g.host_input(x)
    ref = run_stream(g, q).reshape(len(q), -1)
    assert np.array_equal(run_stream_mo(s.image, q), ref) and len(np.unique(ref)) > 1


def test_fold_over_the_rtl_default_buffer_is_refused(wide_fold):
    """The old mismatch: the image's weight blocks against an engine with the RTL's default
    weight half. The check, the emulator and the RTL runner refuse it (one-line QloomError
    naming the transfer), instead of a run that overwrites the other half."""
    g, e, s = wide_fold
    small = _rtl_default("WBUF")
    head = header(s.image)
    with pytest.raises(qloom.QloomError, match=rf"w_bytes 32,768 exceeds the engine's w_buf half of {small:,}"):
        check_buffers(descriptors(s.image), dict(head, w_buf=small))
    bad = bytearray(s.image)
    i = HEADER_FIELDS.index("w_buf")
    bad[4 * i:4 * i + 4] = np.uint32(small).tobytes()
    q = g.host_input(np.zeros((1, 4096), dtype=np.float32))
    with pytest.raises(qloom.QloomError, match="exceeds the engine's w_buf"):
        run_frame(bytes(bad), q[0])
    with pytest.raises(qloom.QloomError, match="exceeds the engine's w_buf"):
        rtlsim_mo(bytes(bad), q)
    # an engine other than the image's: refused before any Verilator build
    with pytest.raises(qloom.QloomError, match="the MO image was compiled for PE 16, SIMD 16"):
        rtlsim_mo(s.image, q, engine=Engine(pe=16, simd=16, in_buf_bytes=4096, w_buf_bytes=small,
                                            t_buf_bytes=4096, out_buf_bytes=256))


def test_search_schedule_and_rtl_params_agree(tmp_path):
    """``--arch mo``: the engine the search picks is the engine of the schedule, of the image
    header and of build.json's ``rtl_params`` (what the RTL is built with); every transfer of
    the image fits it."""
    import json

    from qloom.flow import build

    path = ob.small_cnn(tmp_path / "c.onnx", hw=10, c1=8, c2=16)
    build(path, tmp_path / "out", arch="mo")
    meta = json.loads((tmp_path / "out" / "build.json").read_text())
    sched = json.loads((tmp_path / "out" / "mo" / "schedule.json").read_text())
    image = (tmp_path / "out" / "mo" / "image.bin").read_bytes()
    e = Engine(**meta["engine"])
    assert sched["engine"] == meta["engine"]
    assert image_buffers(image) == {k: meta["rtl_params"][k] for k in BUFS} == \
        {k: v for k, v in engine_params(e).items() if k in BUFS}
    head = header(image)
    assert (head["pe"], head["simd"]) == (e.pe, e.simd) == (meta["rtl_params"]["PE"], meta["rtl_params"]["SIMD"])
    check_buffers(descriptors(image), head)
