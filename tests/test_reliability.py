"""Issue 13: budgets always kept, interrupted builds leave nothing, readable outputs,
timeouts and kept logs. (The one-line error messages are in tests/test_errors.py.)"""
from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qloom.boards import RESOURCES, _dirs, get_board
from qloom.cli import main
from qloom.errors import QloomError
from qloom.flow import build
from qloom.models import model_path

ROOT = Path(__file__).resolve().parents[1]


def _board_file(path: Path, base: str, **changes) -> Path:
    data = json.loads((_dirs()[0] / f"{base}.json").read_text())
    data.update(changes)
    path.write_text(json.dumps(data))
    return path


def _fits(out: Path, board) -> bool:
    """estimates.json of a written build (summed per stage: ops, DWCs, FIFOs) within the board."""
    est = json.loads((out / "estimates.json").read_text())
    return all(est["total"][r] <= getattr(board, r) for r in RESOURCES)


# ------------------------------------------------------------------ budgets (items 2, 3)

def test_target_search_counts_fifos_and_dwcs(tmp_path, capsys, digits_model):
    """A board one LUT smaller than a build's estimate (DWCs and FIFOs included): the
    search must not accept that folding as fitting (the old fit check summed the layers
    alone). Either it finds another folding that fits, or it exits 2 naming the best
    fitting FPS, and that FPS then builds within the budget."""
    ref = build(digits_model, tmp_path / "ref", target_fps=50_000)
    lut = ref["estimates"]["total"]["LUT"]
    bf = _board_file(tmp_path / "tight.json", "pynq-z1", name="tight", LUT=lut - 1)
    board = get_board(str(bf))
    out = tmp_path / "out"
    rc = main(["build", str(digits_model), "-o", str(out), "--board", str(bf), "--target-fps", "50000"])
    err = capsys.readouterr().err
    if rc == 0:
        assert _fits(out, board)
        return
    assert rc == 2 and not out.exists() and len(err.strip().splitlines()) == 1
    m = re.search(r"the best fitting is ([\d,]+) FPS", err)
    assert m, err
    best = int(m.group(1).replace(",", ""))
    assert best < 50_000
    rc = main(["build", str(digits_model), "-o", str(out), "--board", str(bf), "--target-fps", str(best)])
    assert rc == 0 and _fits(out, board)


def test_allow_overbudget_writes_and_says_by_how_much(tmp_path, capsys, digits_model):
    ref = build(digits_model, tmp_path / "ref", target_fps=50_000)
    lut = ref["estimates"]["total"]["LUT"]
    bf = _board_file(tmp_path / "small.json", "pynq-z1", name="small", LUT=lut // 2)
    out = tmp_path / "out"
    rc = main(["build", str(digits_model), "-o", str(out), "--board", str(bf), "--target-fps", "50000",
               "--allow-overbudget"])
    text = capsys.readouterr().out
    assert rc == 0 and (out / "estimates.json").is_file()
    used = json.loads((out / "estimates.json").read_text())["total"]["LUT"]
    assert used > lut // 2
    assert f"OVER BUDGET on small (--allow-overbudget): LUT {used:,} of {lut // 2:,} " \
           f"({100 * used / (lut // 2):.0f}%)" in text
    # without a target too: the default folding, over budget, written on request
    r = build(digits_model, tmp_path / "out2", board=str(bf), allow_overbudget=True)
    assert r["over_budget"]["LUT"] == [r["estimates"]["total"]["LUT"], lut // 2]
    with pytest.raises(QloomError, match=r"does not fit small: estimated LUT"):
        build(digits_model, tmp_path / "out3", board=str(bf))
    assert not (tmp_path / "out3").exists()


def test_default_build_over_budget_names_a_target_that_fits(tmp_path, capsys):
    """The jet tagger on ULX3S: the default folding is far over budget (issue 13: 151% of
    the LUTs, 1,364% of the DSPs, silently); the FPS the error names does fit."""
    jet = model_path("jet_w6a6")
    rc = main(["build", str(jet), "-o", str(tmp_path / "out"), "--board", "ulx3s-85f"])
    err = capsys.readouterr().err
    assert rc == 2 and not (tmp_path / "out").exists()
    fps = int(re.search(r"--target-fps (\d+)\)", err).group(1))
    rc = main(["build", str(jet), "-o", str(tmp_path / "out"), "--board", "ulx3s-85f",
               "--target-fps", str(fps)])
    assert rc == 0 and _fits(tmp_path / "out", get_board("ulx3s-85f"))


def test_search_totals_equal_the_written_estimates(digits_model):
    """The search's fit check and estimates.json count the same things (ops, DWCs, FIFOs)."""
    import qloom
    from qloom.dse.search import search
    from qloom.flow import estimates, fifo_depths_from_cycles
    from qloom.rtl.generate import plan_top

    graph = qloom.compile_model(digits_model)
    board = get_board("pynq-z1")
    for fps in (20_000, 100_000):
        folding, _, totals = search(graph, board, fps, 100.0)
        plan = plan_top(graph, folding, fifo_depths_from_cycles(graph, folding))
        assert totals == estimates(graph, folding, plan, board, 100.0)["total"]


@pytest.mark.slow
def test_cnv_w1a1_20k_fps_on_pynq_z1_fits_or_says_so(tmp_path, capsys):
    """Issue 13, item 2: CNV-W1A1 --target-fps 20000 on PYNQ-Z1 was accepted at 55,673
    estimated LUT on a 53,200-LUT board. Now: exit 2, or a build that fits; the Pareto
    points ``qloom explore`` draws as fitting fit too."""
    from qloom.dse.search import pareto_points
    from qloom.passes import lower_model
    from qloom.zoo import export_bnn_pynq

    path = export_bnn_pynq("cnv_1w1a", tmp_path / "cnv.onnx", seed=1)
    out = tmp_path / "out"
    board = get_board("pynq-z1")
    rc = main(["build", str(path), "-o", str(out), "--target-fps", "20000"])
    err = capsys.readouterr().err
    assert (rc == 0 and _fits(out, board)) or (rc == 2 and "the best fitting is" in err and not out.exists())
    graph = lower_model(path)
    for p in pareto_points(graph, board, 100.0):
        if p["fits"]:
            fold = tmp_path / "f.json"
            fold.write_text(json.dumps(p["folding"]))
            r = build(path, tmp_path / "p", folding_path=fold)  # raises when over budget
            assert _fits(tmp_path / "p", board) and r["cycles_per_frame"] == p["cycles_per_frame"]
            break


# ------------------------------------------------------------------ item 11: SIGTERM

def test_sigterm_during_build_leaves_nothing(tmp_path, digits_model):
    """SIGTERM while OUT is being written: the temporary folder is removed, OUT is not
    created, exit status 128 + 15."""
    script = tmp_path / "slow_build.py"
    script.write_text(
        "import sys, time\n"
        "import qloom.rtl.generate as g\n"
        "real = g.write_rtl\n"
        "def slow(*a, **k):\n"
        "    real(*a, **k)\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
        "g.write_rtl = slow\n"
        "from qloom.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n")
    import qloom

    env = dict(os.environ, PYTHONPATH=str(Path(qloom.__file__).resolve().parents[1]))
    proc = subprocess.Popen([sys.executable, str(script), "build", str(digits_model), "-o", str(tmp_path / "out")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "writing"
    assert list(tmp_path.glob(".out.tmp-*"))  # the build is under way
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip() == "qloom: terminated by SIGTERM"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slow_build.py"]


# ------------------------------------------------------------------ item 12: modes

def test_outputs_readable_by_others(tmp_path, digits_model):
    """OUT folders and output arrays get the modes a plain mkdir/open gives (umask 022:
    0755 and 0644), not mkdtemp's/mkstemp's 0700/0600."""
    old = os.umask(0o022)
    try:
        out = tmp_path / "out"
        assert main(["build", str(digits_model), "-o", str(out)]) == 0
        x = tmp_path / "x.npy"
        np.save(x, np.zeros((1, 1, 8, 8), np.float32))
        assert main(["emulate", str(digits_model), "-i", str(x), "-o", str(tmp_path / "y.npy")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "rtl").stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "estimates.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "y.npy").stat().st_mode) == 0o644


# ------------------------------------------------------------------ item 13: timeouts

def test_simulation_run_has_a_timeout(tmp_path, monkeypatch):
    """A Verilator model that never returns is killed after QLOOM_TOOL_TIMEOUT."""
    from qloom.sim.verilator import AxisSim, SimError

    fake = tmp_path / "Vsim"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    sim = AxisSim("qloom_fifo", [], in_width=8, out_width=8)
    sim._bin = fake
    monkeypatch.setenv("QLOOM_TOOL_TIMEOUT", "0.5")
    t0 = time.perf_counter()
    with pytest.raises(SimError, match=r"^simulation of qloom_fifo timed out after 0\.5 s "
                                       r"\(set QLOOM_TOOL_TIMEOUT for longer runs\)$"):
        sim.run([1, 2], 2)
    assert time.perf_counter() - t0 < 10


# ------------------------------------------------------------------ item 7: P&R logs

def _fake(tmp_path: Path, name: str, body: str) -> str:
    p = tmp_path / name
    p.write_text("#!/bin/sh\n" + body + "\n")
    p.chmod(0o755)
    return str(p)


# a Yosys stand-in: writes the -l log and the result files the flow expects
FAKE_YOSYS = 'echo "yosys says hello" > "$3"; echo "{}" > top.json; echo "{}" > stat.json'


def test_pnr_failure_keeps_nextpnrs_own_log(tmp_path, monkeypatch, digits_model):
    """nextpnr fails: the one-line error names a log that still exists after the work
    folder is gone and holds nextpnr's own log file (written with --log)."""
    from qloom.synth import pnr_ecp5

    build(digits_model, tmp_path / "out")
    monkeypatch.setenv("QLOOM_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("QLOOM_WARM_DIR", str(tmp_path / "warm"))
    monkeypatch.setenv("QLOOM_YOSYS", _fake(tmp_path, "yosys", FAKE_YOSYS))
    # nextpnr: its detailed log goes to --log only (-q); it fails
    monkeypatch.setenv("QLOOM_NEXTPNR_ECP5", _fake(
        tmp_path, "nextpnr", 'while [ "$1" != "--log" ]; do shift; done; '
                             'echo "ERROR: Max frequency for clock: routing congestion" > "$2"; exit 1'))
    with pytest.raises(QloomError) as e:
        pnr_ecp5(tmp_path / "out", progress=lambda m: None)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{tmp_path / 'out'}: nextpnr-ecp5 failed (exit 1): ERROR: Max frequency")
    log = Path(re.search(r"log: (\S+)$", msg).group(1))
    assert log.is_file() and "===== nextpnr.log =====" in log.read_text()
    assert not (tmp_path / "out" / "qloom_top.bit").exists()


def test_pnr_success_keeps_logs_in_out(tmp_path, monkeypatch, digits_model):
    from qloom.synth import pnr_ecp5

    build(digits_model, tmp_path / "out")
    monkeypatch.setenv("QLOOM_WARM_DIR", str(tmp_path / "warm"))
    monkeypatch.setenv("QLOOM_YOSYS", _fake(tmp_path, "yosys", FAKE_YOSYS))
    monkeypatch.setenv("QLOOM_NEXTPNR_ECP5", _fake(
        tmp_path, "nextpnr",
        'for a in "$@"; do case "$p" in --log) echo "Info: placed" > "$a";; --report) '
        'echo \'{"fmax": {"clk": {"achieved": 61.5}}, "utilization": {}}\' > "$a";; '
        '--textcfg) echo cfg > "$a";; esac; p="$a"; done'))
    monkeypatch.setenv("QLOOM_ECPPACK", _fake(tmp_path, "ecppack", 'echo bit > "$2"'))
    r = pnr_ecp5(tmp_path / "out", progress=lambda m: None)
    assert r["fmax_mhz"] == 61.5
    assert r["pnr"]["logs"] == ["pnr/yosys.log", "pnr/nextpnr.log", "pnr/report.json"]
    assert (tmp_path / "out" / "pnr" / "nextpnr.log").read_text() == "Info: placed\n"
    assert "yosys says hello" in (tmp_path / "out" / "pnr" / "yosys.log").read_text()
