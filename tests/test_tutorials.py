"""The tutorials in docs/tutorials run from top to bottom (executed with nbclient in a fresh
kernel; each asserts its own results, e.g. RTL == emulator) and are stored without outputs."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "docs" / "tutorials").glob("*.ipynb"))
FIGURES = {"02_target_fps_exploration": 2}  # the Pareto front and the roofline, drawn inline


def test_there_are_three_tutorials():
    assert [p.name[:3] for p in NOTEBOOKS] == ["01_", "02_", "03_"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_tutorial_is_stored_without_outputs(path):
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


# over 60 s of CPU with cold Verilator and Yosys caches (01: about 61 s, 03: about 50 s of CPU
# and the Verilator build of an 18k-LUT design); 02 builds only (about 10 s of CPU)
SLOW = {"01_digits_qat_build_rtlsim_synth", "03_low_latency_mlp"}


@pytest.mark.sim
@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.slow) if p.stem in SLOW else p
                                  for p in NOTEBOOKS], ids=lambda p: p.stem)
def test_tutorial_runs(path, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    # the kernel imports this checkout's qloom (as the tests do)
    src = str(ROOT / "src")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    pngs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(pngs) == FIGURES.get(path.stem, 0)
    html = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "text/html" in o.get("data", {})]
    assert html and all(o["data"]["text/html"].startswith('<table class="qloom">') for o in html)
