"""Synthesis with open tools: Yosys (``synth_xilinx`` for xc7/xcup, ``synth_ecp5``) and,
for ECP5, nextpnr-ecp5 place-and-route (Fmax, utilization) and ecppack (bitstream).

Flat synthesis time grows fast with design size (TOOLS.md), so a build is synthesized
per layer: one Yosys run per distinct (module, parameters, memory contents), cached under
``$QLOOM_SYNTH_CACHE`` (default ``~/.cache/qloom/synth``), two runs in parallel. Totals are
the sums over layers (the top adds only wires).

Counting (units of ``synth.json``): LUT = logic LUTs plus LUT-RAM/SRL cells in LUT
equivalents (as Vivado's "LUT as Memory"); FF = flip-flops; BRAM18 = RAMB18 + 2 x RAMB36
(ECP5: DP16KD, 18 kbit each); DSP = DSP48E1/E2 (ECP5: MULT18X18D); CARRY = CARRY4/CARRY8
(ECP5: CCU2C, each also counted as 2 LUT4). :func:`count_cells` is the only place that
counts; :func:`synth_xilinx` (one flat module, for the RTL tests) reports through it too.

Yosys, nextpnr-ecp5 and ecppack run through :mod:`qloom.tools` (work folder with relative
paths, timeout, log kept on failure, :class:`~qloom.errors.QloomError`).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from qloom.errors import QloomError
from qloom.tools import cache_folder, run_tool, run_yosys, stage, verilog_names, yosys_cells

FAMILIES = ("xc7", "xcup", "ecp5")
_LUTRAM_LUTS = {"RAM16X1S": 1, "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "RAM256X1S": 4,
                "RAM16X1D": 2, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM256X1D": 8,
                "RAM32M": 4, "RAM64M": 4, "RAM32M16": 8, "RAM64M8": 8, "RAM512X1S": 8,
                "SRL16E": 1, "SRLC16E": 1, "SRLC32E": 1}
_VERSION = "2"


def lutram_luts(cells: dict) -> int:
    """LUT equivalents of the Xilinx LUT-RAM and SRL cells in ``cells``."""
    return sum(v * _LUTRAM_LUTS.get(k, 0) for k, v in cells.items())


def count_cells(cells: dict, family: str) -> dict:
    """Resource counts from Yosys ``num_cells_by_type`` (the one definition; see the module
    docstring): LUT includes LUT-RAM and SRL cells in LUT equivalents, as Vivado's "LUT"."""
    def n(*prefixes):
        return sum(v for k, v in cells.items() if any(k.startswith(p) for p in prefixes))

    if family == "ecp5":
        carry = n("CCU2C")
        return {"LUT": n("LUT4") + 2 * carry + 4 * n("TRELLIS_DPR16X4"), "FF": n("TRELLIS_FF"),
                "BRAM18": n("DP16KD", "PDPW16KD"), "URAM": 0, "DSP": n("MULT18X18D", "ALU54B"),
                "CARRY": carry}
    return {"LUT": n("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6") + lutram_luts(cells),
            "FF": n("FDRE", "FDSE", "FDCE", "FDPE", "FDRE_1", "FDSE_1"),
            "BRAM18": n("RAMB18") + 2 * n("RAMB36"), "URAM": n("URAM288"),
            "DSP": n("DSP48"), "CARRY": n("CARRY4", "CARRY8"),
            "LATCH": n("LDCE", "LDPE", "$_DLATCH")}


def latch_lines(log: str) -> list[str]:
    """Yosys log lines that report an inferred latch."""
    return [ln for ln in log.splitlines() if "Latch inferred" in ln and "No latch" not in ln]


WRAP = "qloom_synth_wrap"


def wrapper_verilog(module: str, params: dict, in_width: int, out_width: int, n_in: int = 1,
                    n_out: int = 1) -> str:
    """A top that instantiates ``module`` with ``params`` (string parameters such as
    $readmemh file names cannot be passed reliably on Yosys' command line). A join has
    ``n_in`` input streams (packed tdata of ``in_width`` bits in all), a fork ``n_out``
    output streams of ``out_width`` bits each."""
    ps = ",\n".join(f"    .{k}({chr(34) + v + chr(34) if isinstance(v, str) else int(v)})"
                     for k, v in params.items())
    return (f"module {WRAP} (input wire ap_clk, input wire ap_rst_n,\n"
            f"  input wire [{in_width - 1}:0] s_axis_tdata, input wire [{n_in - 1}:0] s_axis_tvalid, "
            f"output wire [{n_in - 1}:0] s_axis_tready,\n"
            f"  output wire [{n_out * out_width - 1}:0] m_axis_tdata, output wire [{n_out - 1}:0] m_axis_tvalid, "
            f"input wire [{n_out - 1}:0] m_axis_tready);\n"
            f"  {module} #(\n{ps}\n  ) u (.ap_clk(ap_clk), .ap_rst_n(ap_rst_n), .s_axis_tdata(s_axis_tdata),\n"
            "    .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready), .m_axis_tdata(m_axis_tdata),\n"
            "    .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready));\nendmodule\n")


def _script(names: list[str], family: str) -> str:
    if family == "ecp5":
        syn = f"synth_ecp5 -top {WRAP} -json netlist.json"
    else:
        fam = "xc7" if family == "xc7" else "xcup"
        syn = f"synth_xilinx -top {WRAP} -family {fam} -flatten -noiopad"
    # -defer: modules are elaborated only with the wrapper's parameters
    return (f"read_verilog -defer -sv {' '.join(verilog_names(names))}; hierarchy -top {WRAP}; {syn}; "
            "tee -q -o stat.json stat -json")


def cache_dir() -> Path:
    """Cached per-stage results: ``$QLOOM_SYNTH_CACHE``, default ~/.cache/qloom/synth."""
    return cache_folder("QLOOM_SYNTH_CACHE", "synth")


def synth_module(top: str, sources, params: dict, files: dict, family: str, in_width: int,
                 out_width: int, keep_netlist: Path | None = None, n_in: int = 1, n_out: int = 1) -> dict:
    """Synthesize one module instance; returns {"cells", "resources", "seconds", "latches"}
    (cached by module, parameters, sources and memory contents).

    ``files``: {name: path} memory files the module reads with $readmemh (relative names);
    ``in_width``/``out_width``: its tdata widths in bits; ``n_in``/``n_out``: its input and
    output streams (a join, a fork: see :func:`wrapper_verilog`).
    """
    ports = f"{in_width},{out_width}" + (f",{n_in},{n_out}" if (n_in, n_out) != (1, 1) else "")
    h = hashlib.sha256(f"{_VERSION}{top}{family}{sorted(params.items())}{ports}".encode())
    for s in sorted(map(str, sources)):
        h.update(Path(s).read_bytes())
    for k in sorted(files):
        h.update(k.encode() + Path(files[k]).read_bytes())
    key = h.hexdigest()[:24]
    hit = cache_dir() / f"{top}-{family}-{key}.json"
    if hit.is_file() and keep_netlist is None:
        return json.loads(hit.read_text())
    import time

    t0 = time.perf_counter()
    wd = Path(tempfile.mkdtemp(prefix="qloom-synth-"))
    try:
        names = stage(wd, sources, files)
        (wd / "wrap.v").write_text(wrapper_verilog(top, params, in_width, out_width, n_in, n_out))
        log = run_yosys(_script(names + ["wrap.v"], family), wd, what=top)
        cells = yosys_cells(wd / "stat.json")
        res = {"cells": cells, "resources": count_cells(cells, family),
               "seconds": round(time.perf_counter() - t0, 2),
               "latches": len(latch_lines(log))}
        if keep_netlist is not None and (wd / "netlist.json").exists():
            shutil.copy(wd / "netlist.json", keep_netlist)
        tmp = hit.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(res))
        os.replace(tmp, hit)
        return res
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def synth_out(out: str | os.PathLike, family: str = "xc7", jobs: int = 2, progress=print) -> dict:
    """Synthesize every stage of a build folder OUT; returns (and writes) ``synth.json``."""
    from qloom.flow import _load_out
    from qloom.rtl.generate import library_sources, plan_top

    if family not in FAMILIES:
        raise QloomError(f"unknown family {family!r}; expected one of {', '.join(FAMILIES)}")
    out = Path(out)
    graph, folding, meta = _load_out(out)
    plan = plan_top(graph, folding, meta.get("fifo_depths"))
    rtl = out / "rtl"
    jobs_list = []
    for st in plan.stages:
        # a build written before the port-list header existed has (and needs) none
        srcs = [rtl / p.name for p in library_sources([st.inst.module])
                if p.suffix == ".v" or (rtl / p.name).is_file()]
        files = {f: rtl / f for f in st.inst.file_names}
        jobs_list.append((st, srcs, files))
    results = {}

    def work(item):
        st, srcs, files = item
        r = synth_module(st.inst.module, srcs, st.inst.params, files, family, st.in_width, st.out_width,
                         n_in=max(1, len(st.ins)), n_out=max(1, len(st.outs)))
        progress(f"  synthesized {st.name} ({st.inst.module}) in {r['seconds']:.1f} s: "
                 f"{r['resources']['LUT']} LUT, {r['resources']['FF']} FF, "
                 f"{r['resources']['BRAM18']} BRAM18, {r['resources']['DSP']} DSP")
        return st.name, r

    progress(f"synthesizing {len(jobs_list)} stages of {out} for {family} ({jobs} in parallel)")
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        for name, r in ex.map(work, jobs_list):
            results[name] = r
    keys = ("LUT", "FF", "BRAM18", "URAM", "DSP", "CARRY")
    total = {k: sum(r["resources"].get(k, 0) for r in results.values()) for k in keys}
    layers = {}
    for st in plan.stages:  # FIFOs and DWCs are charged to the layer they feed
        d = layers.setdefault(st.layer, {k: 0 for k in keys})
        for k in keys:
            d[k] += results[st.name]["resources"].get(k, 0)
    latches = sum(r.get("latches", 0) for r in results.values()) + total.get("LATCH", 0)
    report = {"family": family, "tool": f"yosys 0.70 {'synth_ecp5' if family == 'ecp5' else 'synth_xilinx -family ' + family}",
              "total": total, "layers": layers, "latches": latches,
              "stages": {n: r["resources"] for n, r in results.items()}}
    _write_json(out / "synth.json", report)
    _update_report(out, graph, folding, meta, plan, report)
    return report


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def _update_report(out: Path, graph, folding, meta, plan, synth: dict) -> None:
    """report.md gains Yosys-measured columns beside the estimates."""
    from qloom.flow import build_report

    est_path = out / "estimates.json"
    if est_path.is_file():
        est = json.loads(est_path.read_text())
        text = build_report(graph, folding, est, plan, meta.get("folding_note", ""), synth)
        tmp = out / ".report.md.tmp"
        tmp.write_text(text)
        os.replace(tmp, out / "report.md")


PNR_LOGS = ("yosys.log", "nextpnr.log", "report.json")


def _keep_pnr_logs(wd: Path, out: Path) -> list[str]:
    """Copy the place-and-route logs from the work folder (deleted afterwards) into
    ``OUT/pnr/``; returns their paths relative to OUT. A failed run keeps its logs under
    ``qloom.tools.log_dir()`` instead, named in the one-line error."""
    dst = out / "pnr"
    dst.mkdir(exist_ok=True)
    kept = []
    for name in PNR_LOGS:
        if (wd / name).is_file():
            tmp = dst / f".{name}.tmp"
            shutil.copy(wd / name, tmp)
            os.replace(tmp, dst / name)
            kept.append(f"pnr/{name}")
    return kept


def pnr_ecp5(out: str | os.PathLike, device: str = "85k", package: str = "CABGA381",
             clock_mhz: float | None = None, progress=print) -> dict:
    """Flat synth_ecp5 of the whole top, nextpnr-ecp5 (Fmax, utilization) and ecppack
    (bitstream ``OUT/qloom_top.bit``); adds ``fmax_mhz`` and ``pnr`` to ``synth.json``.

    Logs: on success the Yosys and nextpnr logs and nextpnr's report are kept in
    ``OUT/pnr/`` (``pnr.logs`` in synth.json); on failure :class:`~qloom.tools.ToolError`
    names a kept log (under ``qloom.tools.log_dir()``) holding the program's own log file,
    not one in the deleted work folder."""
    import time

    out = Path(out)
    rtl = out / "rtl"
    meta = json.loads((out / "build.json").read_text())
    est = json.loads((out / "estimates.json").read_text()) if (out / "estimates.json").is_file() else {}
    clock = clock_mhz or est.get("clock_mhz", 50.0)
    wd = Path(tempfile.mkdtemp(prefix="qloom-pnr-"))
    try:
        names = sorted(n for n in stage(wd, [f for f in rtl.iterdir() if f.is_file()]) if n.endswith(".v"))
        t0 = time.perf_counter()
        progress(f"synth_ecp5 of the flat design ({len(names)} files)")
        script = (f"read_verilog -defer -sv {' '.join(names)}; hierarchy -top qloom_top; "
                  "synth_ecp5 -top qloom_top -json top.json; tee -q -o stat.json stat -json")
        run_yosys(script, wd, what=f"{out}: synth_ecp5", expect=("top.json", "stat.json"))
        progress(f"nextpnr-ecp5 --{device} at {clock:g} MHz")
        run_tool("nextpnr-ecp5", [f"--{device}", "--package", package, "--json", "top.json",
                                  "--textcfg", "top.config", "--freq", str(clock), "--lpf-allow-unconstrained",
                                  "--report", "report.json", "--timing-allow-fail", "-q",
                                  "--log", "nextpnr.log"],
                 cwd=wd, what=str(out), expect=("report.json", "top.config"), tool_logs=("nextpnr.log",))
        rep = json.loads((wd / "report.json").read_text())
        progress("ecppack")
        run_tool("ecppack", ["top.config", "qloom_top.bit"], cwd=wd, what=str(out), expect=("qloom_top.bit",))
        shutil.copy(wd / "qloom_top.bit", out / "qloom_top.bit")
        logs = _keep_pnr_logs(wd, out)
        fmax = rep.get("fmax", {})
        fmax_mhz = min((v.get("achieved", 0) for v in fmax.values()), default=None)
        util = {k: v for k, v in rep.get("utilization", {}).items() if v.get("used")}
        synth_path = out / "synth.json"
        data = json.loads(synth_path.read_text()) if synth_path.is_file() else {"family": "ecp5"}
        data.update({"fmax_mhz": fmax_mhz, "pnr": {"tool": "nextpnr-ecp5", "device": device,
                     "package": package, "target_mhz": clock, "utilization": util,
                     "seconds": round(time.perf_counter() - t0, 1), "bitstream": "qloom_top.bit",
                     "logs": logs}})
        _write_json(synth_path, data)
        return data
    finally:
        shutil.rmtree(wd, ignore_errors=True)


# --------------------------------------------------------------------------- one flat module


@dataclass
class SynthResult:
    """``synth_xilinx`` of one flat module: Yosys cells, latches found, the Yosys log.
    The counts are :func:`count_cells` (family xc7): ``luts`` includes LUT-RAM/SRL."""

    cells: dict  # cell type -> count (flattened design)
    latches: list  # latch cell types / log lines found
    log: str

    @property
    def resources(self) -> dict:
        return count_cells(self.cells, "xc7")

    def count(self, *prefixes: str) -> int:
        return sum(n for t, n in self.cells.items() if any(t.startswith(p) for p in prefixes))

    @property
    def luts(self) -> int:
        return self.resources["LUT"]

    @property
    def ffs(self) -> int:
        return self.resources["FF"]

    @property
    def brams(self) -> int:  # in BRAM18 (a RAMB36 counts 2)
        return self.resources["BRAM18"]

    @property
    def lutrams(self) -> int:  # the LUT-RAM/SRL part of ``luts``
        return lutram_luts(self.cells)

    @property
    def dsps(self) -> int:
        return self.resources["DSP"]


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
    """Synthesize ``top`` alone with ``synth_xilinx -flatten`` (parameters via chparam, no
    wrapper, no cache), e.g. to check a library module for latches.

    ``files`` are written into the work folder ({name: path, or text with a newline}), e.g.
    $readmemh files named by relative string parameters. Raises :class:`QloomError`
    (:class:`qloom.tools.ToolError`) on a Yosys error.
    """
    own = workdir is None
    wd = Path(tempfile.mkdtemp(prefix="qloom-yosys-")) if own else Path(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    try:
        names = stage(wd, sources, files)
        chp = ""
        if params:
            sets = " ".join(f"-set {k} {_param_value(v)}" for k, v in params.items())
            chp = f"chparam {sets} {top}; "
        script = (f"read_verilog -sv {' '.join(verilog_names(names))}; {chp}"
                  f"synth_xilinx -top {top} -flatten -noiopad {extra}; "
                  f"tee -q -o stat.json stat -json")
        log = run_yosys(script, wd, what=top, timeout=timeout, log="log.txt")
        cells = yosys_cells(wd / "stat.json")
        latches = [t for t in cells if re.match(r"^(LD|\$_DLATCH|\$dlatch|\$_SR_|\$sr)", t)]
        latches += latch_lines(log)
        return SynthResult(cells, latches, log)
    finally:
        if own:
            shutil.rmtree(wd, ignore_errors=True)
