"""The architecture as a contract: one-way imports (the import-linter contracts in
pyproject.toml), no import cycle between any two qloom modules, and generic code that never
names an operator type."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "qloom"


@pytest.mark.unit
def test_import_linter_contracts():
    exe = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(exe), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert re.search(r"Contracts: (\d+) kept, 0 broken", r.stdout), r.stdout[-2000:]


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for m in sorted(graph.modules):
        if m not in index:
            visit(m)
    return out


@pytest.mark.unit
def test_no_import_cycles():
    graph = grimp.build_graph("qloom")
    assert _cycles(graph) == []


@pytest.mark.unit
def test_generic_code_names_no_operator_type():
    """Search, latency, folding, flow and top generation work through the operator
    interface (HWOp): no op-type strings, no hasattr on operators."""
    ops = ("MVAU", "VVAU", "SWG", "StreamingMaxPool", "SumPool", "Thresholding", "LabelSelect",
           "DuplicateStreams", "AddStreams", "ConcatStreams")
    for f in ("dse/search.py", "dse/folding.py", "dse/latency.py", "flow.py", "rtl/generate.py"):
        text = (SRC / f).read_text()
        code = re.sub(r'"""(.|\n)*?"""|#.*', "", text)  # docstrings and comments may explain
        assert "hasattr(" not in code, f
        for name in ops:
            assert not re.search(rf"[\"']{name}[\"']|\b{name}\(", code), (f, name)


@pytest.mark.unit
def test_mo_compiler_maps_operators_through_their_own_lowering():
    """The MO compiler (qloom/mo, its simulator) never refers to an operator class nor uses
    hasattr on ops: each operator's ``mo_lowering``/``mo_windowed`` (qloom/ops/<op>.py) says
    how it runs on the engine. String literals may name the engine's opcodes ("MVAU" is
    the engine unit), so they are stripped before looking for class names."""
    classes = ("MVAU", "VVAU", "SWG", "StreamingMaxPool", "SumPool", "_Pool", "Thresholding", "LabelSelect",
               "DuplicateStreams", "AddStreams", "ConcatStreams")
    files = sorted((SRC / "mo").glob("*.py")) + [SRC / "sim" / "mo_engine.py"]
    assert len(files) >= 6
    for f in files:
        code = re.sub(r'"""(.|\n)*?"""|#.*', "", f.read_text())
        assert "hasattr(" not in code, f
        assert "isinstance(op" not in code, f
        code = re.sub(r"f?\"[^\"\n]*\"|f?'[^'\n]*'", "''", code)
        for name in classes:
            assert not re.search(rf"\b{name}\b", code), (f.name, name)
