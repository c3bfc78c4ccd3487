"""The benchmarks run in CI in their reduced form, so they cannot rot."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
@pytest.mark.sim
@pytest.mark.synth
def test_seeds_quick(tmp_path):
    """tfc_2w2a (synthesized) and the jet tagger: built for their target, simulated, RTL ==
    emulator, measured II == the model, Yosys figures beside the estimates."""
    seeds = _load("seeds")
    assert seeds.main(["--quick", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "seeds_quick.json").read_text())["rows"]
    assert {r["model"] for r in rows} == set(seeds.QUICK)
    for r in rows:
        assert r["rtl_equals_emulator"]
        assert abs(r["cycles_per_frame"] - r["cycles_per_frame_est"]) <= max(15, 0.05 * r["cycles_per_frame_est"])
        if r["model"] not in seeds.NO_SYNTH:
            assert r["yosys"]["LUT"] > 0
    assert "| tfc_2w2a |" in (tmp_path / "seeds_quick.md").read_text()


@pytest.mark.slow
def test_emulate_benchmark_small(tmp_path):
    """benchmarks/emulate.py on few frames: outputs agree and the table is written."""
    emu = _load("emulate")
    out = tmp_path / "emulate.json"
    assert emu.main(["--frames", "8", "--ref-frames", "2", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert all(r["argmax_equal"] and r["max_rel_diff"] <= 1e-5 for r in rows)
