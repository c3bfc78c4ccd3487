"""Shared helpers for the RTL tests (Verilator simulation, lint, Yosys synthesis)."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

from qloom.sim import verilator as vl


def sources(*modules):
    """The modules' files and those their `// Depends on:` lines name (as the generator
    copies them)."""
    from qloom.rtl.generate import library_sources

    return [str(f) for f in library_sources(modules)]


def assert_lint_clean(top, modules, params):
    out = vl.lint(top, sources(*modules), params)
    assert out == "", f"verilator -Wall lint of {top} {params}:\n{out}"


def synth_check(top, modules, params, files=None):
    """synth_xilinx must succeed without latches; returns the SynthResult."""
    from qloom.synth import synth_xilinx

    res = synth_xilinx(top, sources(*modules), params, files=files)
    assert not res.latches, f"latches inferred in {top}: {res.latches}"
    return res


def build_sim(top, modules, params, in_width, out_width):
    return vl.AxisSim(top, sources(*modules), params, in_width=in_width, out_width=out_width)


# (p_in_gap, p_out_stall, seed) used by every stream test: no stalls, input
# gaps only, back-pressure only, both.
STALL_PATTERNS = [(0.0, 0.0, 1), (0.5, 0.0, 2), (0.0, 0.6, 3), (0.4, 0.5, 4), (0.1, 0.9, 5)]


def cycles_ok(module, measured, formula):
    """measured within the tolerance that ``module``'s operator declares
    (qloom.ops.CYCLE_TOLERANCE: relative, cycles) of ``formula``."""
    from qloom.ops import CYCLE_TOLERANCE

    rel, abs_ = CYCLE_TOLERANCE[module]
    return within(measured, formula, rel, abs_)


def within(measured, formula, rel=0.05, abs_=15):
    """measured within 5% or 15 cycles of formula.  With QLOOM_CYCLES_LOG=path every
    comparison is appended there as a JSON line (test id, measured, formula)."""
    log = os.environ.get("QLOOM_CYCLES_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps({"test": os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0],
                                "measured": measured, "formula": formula}) + "\n")
    return abs(measured - formula) <= max(rel * formula, abs_)


# ------------------------------------------------------------------ several streams
class MultiAxisSim(vl.AxisSim):
    """A Verilator model of a fork or join (the ``QLOOM_AXIS_PORTS_N`` ports): ``in_widths``
    / ``out_widths`` are the tdata widths (bits) of each input / output stream, packed in
    order into s_axis_tdata / m_axis_tdata. Testbench: tests/rtl/tb_axis_n.cpp.in (random
    gaps on every input, random back-pressure on every output); cached like AxisSim."""

    TEMPLATE = Path(__file__).with_name("tb_axis_n.cpp.in")

    def __init__(self, top, sources, params, in_widths, out_widths):
        self.in_widths, self.out_widths = [int(w) for w in in_widths], [int(w) for w in out_widths]
        super().__init__(top, sources, params, in_width=sum(self.in_widths), out_width=sum(self.out_widths))

    def key(self) -> str:
        h = hashlib.sha256(super().key().encode())
        h.update(self.TEMPLATE.read_bytes())
        h.update(f"n:{self.in_widths},{self.out_widths}".encode())
        return h.hexdigest()[:20]

    def _build_into(self, d, progress=False):
        from qloom.tools import run_tool

        vtop = "V" + self.top
        tb = (self.TEMPLATE.read_text().replace("@VTOP@", vtop)
              .replace("@N_IN@", str(len(self.in_widths))).replace("@N_OUT@", str(len(self.out_widths)))
              .replace("@IN_BITS@", str(self.in_width)).replace("@OUT_BITS@", str(self.out_width))
              .replace("@IN_W@", ", ".join(map(str, self.in_widths)))
              .replace("@OUT_W@", ", ".join(map(str, self.out_widths)))
              .replace("@SET_IN@", vl._set_code(self.in_width, "in"))
              .replace("@GET_OUT@", vl._set_code(self.out_width, "out")))
        (d / "tb.cpp").write_text(tb)
        obj = d / "obj"
        cmd = ["--cc", "--exe", "-O2", "--x-assign", "fast", "--x-initial", "fast", "-Wno-fatal",
               "-Werror-USERERROR", "--top-module", self.top, "-Mdir", str(obj), "-o", "Vsim"]
        cmd += [vl._param_arg(k, v) for k, v in self.params.items()]
        srcs, incs, _ = vl._split_sources(self.sources)
        cmd += incs + [str(s) for s in srcs] + [str(d / "tb.cpp")]
        env = vl._verilator_env()
        run_tool("verilator", cmd, cwd=d, env=env, log="build.log", what=self.top)
        self._compile(d, obj, vtop, env)

    def run_n(self, inputs, n_out, p_in_gap=0.0, p_out_stall=0.0, seed=0, max_cycles=200_000,
              extra_cycles=32):
        """Feed ``inputs[k]`` (beats) to input k, collect ``n_out[j]`` beats of output j.
        Returns dict(outputs=[[beat...] per output], out_cycles=[[...]], in_cycles=[[...]],
        extra=[(j, beat)], cycles=last expected output cycle + 1); raises on a timeout."""
        binary = self.build()
        with tempfile.TemporaryDirectory(prefix="qloom-runn-") as rd:
            rd = Path(rd)
            for k, beats in enumerate(inputs):
                (rd / f"in{k}.hex").write_text("".join(vl.to_hex(b, self.in_widths[k]) + "\n" for b in beats))
            (rd / "n_out.txt").write_text("".join(f"{int(n)}\n" for n in n_out))
            r = subprocess.run([str(binary), str(rd), repr(float(p_in_gap)), repr(float(p_out_stall)),
                                str(int(seed)), str(int(max_cycles)), str(int(extra_cycles))],
                               capture_output=True, text=True, cwd=rd, timeout=600)
            assert r.returncode == 0, (r.stdout, r.stderr)
            text = (rd / "out.txt").read_text()
        res = dict(outputs=[[] for _ in n_out], out_cycles=[[] for _ in n_out],
                   in_cycles=[[] for _ in inputs], extra=[], cycles=0, status="error")
        for line in text.splitlines():
            f = line.split()
            if f[0] == "i":
                res["in_cycles"][int(f[1])].append(int(f[2]))
            elif f[0] == "o":
                res["outputs"][int(f[1])].append(int(f[2], 16))
                res["out_cycles"][int(f[1])].append(int(f[3]))
            elif f[0] == "x":
                res["extra"].append((int(f[1]), int(f[2], 16)))
            elif f[0] == "end":
                res["cycles"], res["status"] = int(f[1]), f[2]
        assert res["status"] == "ok", f"{self.top}: timeout (deadlock?) {[len(o) for o in res['outputs']]}/{n_out}"
        assert not res["extra"], f"{self.top}: unexpected extra output beats {res['extra'][:4]}"
        return res
