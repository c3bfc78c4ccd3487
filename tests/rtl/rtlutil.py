"""Shared helpers for the RTL tests (Verilator simulation, lint, Yosys synthesis)."""
from __future__ import annotations

import json
import os

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
