"""The benchmarks run in CI in their reduced form, so they cannot rot."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
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


@pytest.mark.unit
def test_soak_frame_sequence_finds_lost_duplicated_and_reordered():
    """The soak's checker on hand-made outputs: it must see each kind of fault."""
    soak = _load("soak")
    ref = np.arange(20, dtype=np.float32).reshape(5, 2, 2)
    ok = soak.frame_sequence(ref.copy(), ref)
    assert ok["in_order"] and ok["lost"] == ok["duplicated"] == ok["unmatched"] == 0
    dup = soak.frame_sequence(ref[[0, 1, 1, 3, 4]], ref)  # frame 2 lost, frame 1 twice
    assert not dup["in_order"] and dup["lost"] == 1 and dup["duplicated"] == 1
    swap = soak.frame_sequence(ref[[0, 2, 1, 3, 4]], ref)
    assert not swap["in_order"] and swap["lost"] == swap["duplicated"] == 0
    bad = ref.copy()
    bad[4, 0, 0] += 1
    wrong = soak.frame_sequence(bad, ref)
    assert wrong["unmatched"] == 1 and wrong["lost"] == 1


@pytest.mark.slow
@pytest.mark.sim
def test_soak_small(tmp_path):
    """benchmarks/soak.py on 200 frames under random back-pressure: every frame once, in
    order, equal to the emulator; the JSON is written."""
    soak = _load("soak")
    out = tmp_path / "soak.json"
    assert soak.main(["--frames", "200", "--json", str(out)]) == 0
    row = json.loads(out.read_text())["rows"][0]
    assert row["frames_out"] == 200 and row["in_order"] and row["unique_reference_frames"]
    assert row["lost"] == row["duplicated"] == row["unmatched"] == 0 and row["rtl_equals_emulator"]
    assert row["frames_per_s"] > 0 and row["cycles_per_frame"] >= row["ii_model"]
