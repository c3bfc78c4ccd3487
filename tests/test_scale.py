"""Long work made visible and spread out: progress lines and bars, the per-layer plot, and
synthesis on a Dask cluster (a LocalCluster of process workers) giving the same synth.json
as the local pool."""
from __future__ import annotations

import io
import json
import re
import sys

import numpy as np
import pytest

import qloom
from onnx_builders import mlp
from qloom import progress as prog
from qloom.cli import main
from qloom.flow import build, rtlsim


@pytest.fixture(scope="module")
def small_build(tmp_path_factory):
    """A 6-5-4 MLP (3 small stages: two MVAUs and a FIFO)."""
    d = tmp_path_factory.mktemp("small")
    model = mlp(d / "mlp.onnx")
    build(model, d / "out")
    return model, d / "out"


# ------------------------------------------------------------------------- progress


class _Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


@pytest.mark.unit
def test_progress_plain_lines_cached_and_eta(monkeypatch):
    """Plain lines: a cached step says "cached" (no time of its own) and does not count in
    the rate; ETA = wall time per non-cached step x steps left, by hand below."""
    clock = _Clock()
    monkeypatch.setattr(prog.time, "perf_counter", clock)
    lines = []
    with prog.Progress("synthesis (xc7)", 4, echo=lines.append) as p:
        clock.t += 1.0
        p.step("FIFO_0 (qloom_fifo)", "3 LUT", cached=True, seconds=55.0)
        clock.t += 9.0  # 10 s in: one stage ran
        p.step("MVAU_0 (qloom_mvau)", "40 LUT", seconds=9.0)
        clock.t += 20.0  # 30 s in: two ran, one left -> 15 s
        p.step("MVAU_1 (qloom_mvau)", "50 LUT", seconds=20.0)
        clock.t += 5.0
        p.step("MVAU_2 (qloom_mvau)", "60 LUT", seconds=5.0)
    assert lines == [
        "[1/4] synthesis (xc7): FIFO_0 (qloom_fifo) cached: 3 LUT | elapsed 0:00:01, ETA -:--:--",
        "[2/4] synthesis (xc7): MVAU_0 (qloom_mvau) 9.0 s: 40 LUT | elapsed 0:00:10, ETA 0:00:20",
        "[3/4] synthesis (xc7): MVAU_1 (qloom_mvau) 20.0 s: 50 LUT | elapsed 0:00:30, ETA 0:00:15",
        "[4/4] synthesis (xc7): MVAU_2 (qloom_mvau) 5.0 s: 60 LUT | elapsed 0:00:35, ETA 0:00:00",
    ]


@pytest.mark.unit
def test_progress_counts_print_a_line_per_tenth():
    lines = []
    with prog.Progress("rtlsim", 50, unit="frame", echo=lines.append) as p:
        for i in range(1, 51):
            p.advance_to(i, "frames simulated")
    assert [ln.split("]")[0] for ln in lines] == [f"[{k:>2}/50" for k in range(5, 51, 5)]


@pytest.mark.unit
def test_progress_bar_on_a_terminal(monkeypatch):
    """On a TTY (and no echo) a rich bar is drawn with the count, elapsed time and ETA;
    QLOOM_PROGRESS=plain gives the plain lines instead."""

    class TTY(io.StringIO):
        def isatty(self):
            return True

    out = TTY()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.delenv("QLOOM_PROGRESS", raising=False)
    with prog.Progress("place-and-route (ecp5)", 3, unit="phase") as p:
        assert p._bar is not None
        p.step("synth_ecp5 (flat)", seconds=1.0)
        p.step("nextpnr-ecp5", seconds=2.0)
        p.step("ecppack", seconds=0.5)
    text = out.getvalue()
    assert "place-and-route (ecp5)" in text and "3/3" in text
    assert "elapsed" in text and "ETA" in text and "nextpnr-ecp5 2.0 s" in text
    monkeypatch.setenv("QLOOM_PROGRESS", "plain")
    out2 = TTY()
    monkeypatch.setattr(sys, "stdout", out2)
    with prog.Progress("job", 1) as p:
        assert p._bar is None
        p.step("one", seconds=1.0)
    assert out2.getvalue().startswith("[1/1] job: one 1.0 s | elapsed ")


@pytest.mark.sim
def test_rtlsim_progress_build_phases_and_frames(small_build, tmp_path, monkeypatch):
    """A fresh Verilator build reports its two phases, then the simulated frames up to N/N;
    the outputs are the emulator's."""
    model, out = small_build
    monkeypatch.setenv("QLOOM_SIM_CACHE", str(tmp_path / "simcache"))
    x = np.random.default_rng(3).random((20, 6), dtype=np.float32)
    lines = []
    y, stats = rtlsim(out, x, progress=lines.append)
    np.testing.assert_array_equal(y, qloom.emulate(qloom.compile_model(model), x))
    assert lines[0].startswith("[1/2] Verilator build of qloom_top: verilator (Verilog to C++) ")
    assert lines[1].startswith("[2/2] Verilator build of qloom_top: C++ compile (make) ")
    frames = [ln for ln in lines[2:] if "rtlsim: frames simulated" in ln]
    assert frames and frames[-1].startswith("[20/20] rtlsim")
    lines.clear()
    rtlsim(out, x, progress=lines.append)  # built: no build lines
    assert not any("Verilator build" in ln for ln in lines)


# ------------------------------------------------------------------------- per-layer plot


@pytest.mark.unit
def test_build_writes_the_layer_plot(small_build):
    """OUT/layers.png: a readable PNG, world-readable, linked from report.md; no partial file."""
    import matplotlib.image

    _, out = small_build
    png = out / "layers.png"
    img = matplotlib.image.imread(png)
    assert img.ndim == 3 and img.shape[0] > 400 and img.shape[1] > 400
    assert png.stat().st_mode & 0o044 == 0o044
    assert "![cycles per layer against the II, and LUT/FF/BRAM18/DSP per layer](layers.png)" in \
        (out / "report.md").read_text()
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


# ------------------------------------------------------------------------- Dask scale-out


@pytest.mark.synth
def test_synth_on_dask_cluster_equals_local_pool(small_build, tmp_path, monkeypatch):
    """Every stage synthesized on a 2-worker LocalCluster (cold cache) gives a synth.json
    identical, byte for byte, to the local pool's (another cold cache); the cluster's
    results land in the client's cache, so a second cluster run synthesizes nothing."""
    from distributed import LocalCluster

    from qloom.synth import synth_out

    _, out = small_build
    monkeypatch.setenv("QLOOM_SYNTH_CACHE", str(tmp_path / "cache_dask"))
    lines = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        rep = synth_out(out, scheduler=cl.scheduler_address, progress=lines.append)
        dask_json = (out / "synth.json").read_bytes()
        assert "on the Dask cluster at tcp://" in lines[0] and "(2 workers)" in lines[0]
        ran = [ln for ln in lines[1:] if re.search(r"\) \d+\.\d s: ", ln)]
        assert len(ran) == len(rep["stages"]) == 3
        cached = sorted((tmp_path / "cache_dask").glob("*.json"))
        assert len(cached) == 3
        lines.clear()
        synth_out(out, scheduler=cl.scheduler_address, progress=lines.append)
        assert len([ln for ln in lines if ") cached: " in ln]) == 3
    monkeypatch.setenv("QLOOM_SYNTH_CACHE", str(tmp_path / "cache_local"))
    local = synth_out(out, jobs=2, progress=lambda m: None)
    assert (out / "synth.json").read_bytes() == dask_json
    assert local["latches"] == 0 and local["total"]["LUT"] > 0
    assert json.loads(dask_json)["stages"] == local["stages"]


@pytest.mark.synth
def test_scheduler_unreachable_is_one_line(small_build, capsys):
    _, out = small_build
    rc = main(["synth", str(out), "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert re.fullmatch(r"qloom: error: cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9 \(.+\)\n", err), err


@pytest.mark.synth
def test_stage_error_comes_back_with_its_log(tmp_path, monkeypatch):
    """A stage that fails on a worker raises on the client with the log kept locally."""
    from qloom.errors import QloomError
    from qloom.synth import _raise_stage_error, synth_staged

    monkeypatch.setenv("QLOOM_LOG_DIR", str(tmp_path / "logs"))
    r = synth_staged("nope", {"bad.v": b"module nope(; endmodule\n"}, ["bad.v"], {}, "xc7", 8, 8)
    assert set(r) == {"error", "log"} and r["error"].startswith("nope: yosys failed (exit 1)")
    assert not list((tmp_path / "logs").glob("*"))  # the worker's copy is gone
    with pytest.raises(QloomError) as e:
        _raise_stage_error(r, "nope")
    log = e.value.log
    assert str(e.value) == f"{r['error']}; log: {log}" and log.parent == tmp_path / "logs"
    assert "bad.v" in log.read_text()


@pytest.mark.synth
@pytest.mark.slow
def test_place_and_route_reports_its_phases(small_build):
    """ECP5: synth_ecp5, nextpnr-ecp5 and ecppack each report a line with their own time;
    the bitstream and Fmax are written."""
    from qloom.synth import pnr_ecp5

    _, out = small_build
    lines = []
    p = pnr_ecp5(out, device="25k", progress=lines.append)
    steps = [ln for ln in lines if ln.startswith("[")]
    assert [s.split(": ")[1].split(" ")[0] for s in steps] == ["synth_ecp5", "nextpnr-ecp5", "ecppack"]
    assert all(re.search(r" \d+\.\d s", s) for s in steps) and steps[-1].startswith("[3/3] ")
    assert p["fmax_mhz"] > 0 and (out / "qloom_top.bit").stat().st_size > 0
    assert json.loads((out / "synth.json").read_text())["pnr"]["device"] == "25k"


def test_split_stage_sums_unit_cpu_seconds():
    """A stage synthesized in units (the stage around black boxes, then its sub-modules):
    cells and CPU seconds are the units' sums, wall the longest unit; a unit read from an
    older cache entry without CPU seconds leaves the stage without them."""
    from qloom.synth import _combine_units

    units = [{"cells": {"LUT6": 3, "FDRE": 1}, "seconds": 4.0, "cpu_s": 1.5},
             {"cells": {"LUT6": 2}, "seconds": 9.0, "cpu_s": 2.25},
             {"cells": {"LUT3": 1}, "seconds": 1.0, "cpu_s": 0.25}]
    r = _combine_units(units, "xcup")
    assert r["cells"] == {"LUT6": 5, "FDRE": 1, "LUT3": 1}
    assert (r["cpu_s"], r["unit_cpu_s"], r["wall"], r["seconds"], r["parts"]) == (4.0, [1.5, 2.25, 0.25], 9.0, 14.0, 2)
    old = _combine_units([{k: v for k, v in units[0].items() if k != "cpu_s"}] + units[1:], "xcup")
    assert "cpu_s" not in old and "unit_cpu_s" not in old
