"""FPGA boards: resource budgets and default clocks.

Each board is a small JSON file (this folder, or a folder in ``$QLOOM_BOARDS``, or a
path given as ``--board FILE.json``)::

    {"name": "pynq-z1", "part": "xc7z020clg400-1", "family": "xc7", "LUT": 53200,
     "FF": 106400, "BRAM18": 280, "URAM": 0, "DSP": 220, "clock_mhz": 100,
     "mem_bandwidth_gbps": 4.3, "mem_port_bits": 64, "note": "..."}

``family`` selects the synthesis flow (``xc7``/``xcup``: Yosys synth_xilinx; ``ecp5``:
synth_ecp5 + nextpnr). Budgets are the device's totals from the vendors' data sheets
(BRAM18 counts 18-kbit block RAM halves: a BRAM36 is two; ECP5 EBRs are 18 kbit).
``mem_port_bits`` (optional): the data width of the AXI4 port the PL reaches DRAM through
(Zynq-7000 HP: 64 bits, UG585 Sec. 5.4; Zynq UltraScale+ HP: 128 bits, UG1085 Ch. 35); the MO
engine moves at most that many bits per cycle.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from qloom.errors import QloomError

RESOURCES = ("LUT", "FF", "BRAM18", "URAM", "DSP")


@dataclass(frozen=True)
class Board:
    name: str
    part: str
    family: str
    LUT: int
    FF: int
    BRAM18: int
    URAM: int
    DSP: int
    clock_mhz: float
    mem_bandwidth_gbps: float = 0.0
    note: str = ""
    mem_port_bits: int = 0  # data width of the PL's AXI4 port to DRAM (Zynq HP), 0: not limited

    def budget(self) -> dict[str, int]:
        return {r: getattr(self, r) for r in RESOURCES}

    def over(self, totals: dict) -> dict[str, tuple[int, int]]:
        """The resources ``totals`` ({LUT, FF, BRAM18, URAM, DSP}) uses beyond this board's
        budget: {resource: (use, budget)}, in RESOURCES order; empty when it fits."""
        return {r: (int(totals.get(r, 0)), getattr(self, r)) for r in RESOURCES
                if totals.get(r, 0) > getattr(self, r)}


def format_over(over: dict[str, tuple[int, int]]) -> str:
    """``Board.over``'s result as text: "LUT 55,673 of 53,200 (105%), DSP 300 of 220 (136%)"
    (a resource the board lacks: "URAM 4 of 0")."""
    return ", ".join(f"{r} {u:,} of {b:,}" + (f" ({100 * u / b:.0f}%)" if b else "")
                     for r, (u, b) in over.items())


def _dirs() -> list[Path]:
    ds = [Path(str(resources.files(__package__)))]
    for d in os.environ.get("QLOOM_BOARDS", "").split(os.pathsep):
        if d:
            ds.append(Path(d))
    return ds


def _read(path: Path) -> Board:
    try:
        data = json.loads(path.read_text())
        board = Board(**data)
    except (json.JSONDecodeError, TypeError, OSError, UnicodeDecodeError) as e:
        raise QloomError(f"{path}: not a valid board file ({e}); expected keys name, part, "
                         "family, LUT, FF, BRAM18, URAM, DSP, clock_mhz") from None
    return _check(board, path)


def _check(b: Board, path: Path) -> Board:
    """Every field of a board file, checked when it is read (not deep in a model)."""
    from qloom.cost import FAMILIES

    if b.family not in FAMILIES:
        raise QloomError(f"{path}: family {b.family!r} is not one qloom models; expected one of "
                         f"{', '.join(FAMILIES)}")
    for r in RESOURCES:
        v = getattr(b, r)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise QloomError(f"{path}: {r} must be a whole number >= 0, got {v!r}")
    for key, positive in (("clock_mhz", True), ("mem_bandwidth_gbps", False)):
        v = getattr(b, key)
        ok = (not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)
              and (v > 0 if positive else v >= 0))
        if not ok:
            raise QloomError(f"{path}: {key} must be a number {'> 0' if positive else '>= 0'}, got {v!r}")
    if isinstance(b.mem_port_bits, bool) or b.mem_port_bits not in (0, 32, 64, 128, 256, 512):
        raise QloomError(f"{path}: mem_port_bits must be 0 (not limited) or an AXI4 data width "
                         f"(32, 64, 128, 256, 512), got {b.mem_port_bits!r}")
    if not isinstance(b.name, str) or not b.name:
        raise QloomError(f"{path}: name must be a non-empty string, got {b.name!r}")
    return b


def list_boards() -> list[Board]:
    seen = {}
    for d in _dirs():
        for f in sorted(d.glob("*.json")):
            b = _read(f)
            seen[b.name] = b
    return list(seen.values())


def get_board(name: str) -> Board:
    """A board by name, or from a JSON file path. Raises QloomError listing the known ones."""
    p = Path(name)
    if name.endswith(".json") and p.is_file():
        return _read(p)
    for b in list_boards():
        if b.name == name:
            return b
    raise QloomError(f"unknown board {name!r}; known boards: {', '.join(b.name for b in list_boards())} "
                     "(or give a board .json file)")
