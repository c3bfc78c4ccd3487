"""The build and RTL-simulation flows behind ``qloom build`` and ``qloom rtlsim``.

``build`` writes OUT (DESIGN.md): ``rtl/`` (library files, generated ``qloom_top.v``,
``.mem`` files), ``folding.json``, ``report.md`` with its per-layer plot ``layers.png``
(:func:`qloom.report.layer_plot`), ``estimates.json`` and ``build.json``
(what rtlsim needs), plus ``model.onnx`` (a self-contained copy, so OUT stands alone).
Everything is written to a temporary folder next to OUT and renamed when complete.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np

from qloom.dse.search import DEFAULT_OBJECTIVE
from qloom.errors import QloomError
from qloom.ir import HWGraph
from qloom.report import LAYER_PLOT, layer_plot

DEFAULT_CLOCK_MHZ = 100.0


def check_positive(name: str, value, unit: str) -> None:
    """QloomError unless ``value`` is None or a finite number > 0 (``name`` in the message
    as the command line spells it: clock_mhz -> --clock-mhz)."""
    if value is None:
        return
    try:
        ok = math.isfinite(float(value)) and float(value) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise QloomError(f"--{name.replace('_', '-')} must be a positive number of {unit}, got {value!r}"
                         if not isinstance(value, (int, float)) else
                         f"--{name.replace('_', '-')} must be a positive number of {unit}, got {value:g}")



def _save_model_copy(src: Path, dst: Path) -> None:
    import onnx

    m = onnx.load(str(src))  # loads MODEL.onnx.data too
    onnx.save_model(m, str(dst), save_as_external_data=False)


def build(model: str | os.PathLike, out: str | os.PathLike, folding_path=None,
          clock_mhz: float | None = None, fifo_depths: dict | None = None, board: str = "pynq-z1",
          target_fps: float | None = None, objective: str = DEFAULT_OBJECTIVE,
          target_latency: float | None = None, input_type: str | None = None,
          allow_overbudget: bool = False, arch: str = "df") -> dict:
    """Compile ``model`` to a dataflow accelerator in ``out``; return the build summary.

    Folding: ``folding_path`` (a folding.json, or a dict {layer: {knob: value}}) overrides; else ``target_fps`` chooses the
    cheapest folding that meets it on ``board`` (qloom.dse.search with ``objective``: one
    resource to minimize while fitting, default "LUT", or "balanced" scarcity-weighted resources;
    QloomError with the best reachable FPS if it cannot; ``target_latency`` in cycles
    additionally speeds layers up until the modelled latency meets it); else a balanced
    default (qloom.dse.default_folding).
    ``clock_mhz`` defaults to the board's clock (MHz, > 0); ``target_fps`` (frames/s) and
    ``target_latency`` (cycles) must be positive when given. ``input_type``
    (``--input-type``: a qonnx DataType name or hls4ml ``fixed<W,I>``) types a float model
    input (default: the graph input's quantization annotation); it is kept in
    ``build.json`` for ``rtlsim``.

    Budget: every build fits ``board`` (all of LUT, FF, BRAM18, URAM, DSP, the DWCs and
    FIFOs between layers included, as ``estimates.json`` counts them) or raises QloomError
    with the best fitting FPS; ``allow_overbudget=True`` writes it anyway, and the summary's
    ``over_budget`` ({resource: [use, budget]}) and note say by how much it is over.

    ``arch``: "df" (this dataflow build, the default), "mo" (FINN-R's memory-optimized
    engine: :func:`qloom.mo.build.build_mo`) or "auto" (DF when it fits ``board`` and
    reaches ``target_fps``, MO otherwise).
    """
    from qloom.boards import format_over, get_board
    from qloom.dse import default_folding, graph_cycles, load_folding
    from qloom.dse.search import best_fitting_fps, search
    from qloom.passes import lower_model
    from qloom.rtl.generate import plan_top, write_rtl

    t0 = time.perf_counter()
    model, out = Path(model), Path(out)
    check_positive("clock_mhz", clock_mhz, "MHz")
    check_positive("target_fps", target_fps, "frames per second")
    check_positive("target_latency", target_latency, "cycles")
    brd = get_board(board)
    clock_mhz = float(clock_mhz or brd.clock_mhz)
    if arch not in ARCHES:
        raise QloomError(f"--arch must be one of {', '.join(ARCHES)}, got {arch!r}")
    if arch == "mo" and (folding_path or target_latency):
        raise QloomError("--arch mo takes no --folding or --target-latency (they fold a DF build); "
                         "the MO engine is chosen for --target-fps or the highest FPS that fits")
    graph = lower_model(model, input_type=input_type)
    if arch == "mo":
        return _build_mo(graph, model, out, brd, clock_mhz, target_fps, input_type, "--arch mo")
    if isinstance(folding_path, dict):  # the Python API's folding given as data
        from qloom.dse import validate_folding

        folding = validate_folding(graph, folding_path, "folding")
        why = "folding given by the caller"
    elif folding_path:
        folding = load_folding(folding_path, graph)
        why = f"folding from {folding_path}"
    elif target_fps:
        try:
            folding, _, _ = search(graph, brd, float(target_fps), clock_mhz, objective=objective,
                                   target_latency=target_latency, allow_overbudget=allow_overbudget)
        except QloomError as e:
            if arch != "auto":
                raise
            return _build_mo(graph, model, out, brd, clock_mhz, target_fps, input_type,
                             f"--arch auto: no DF folding ({e})")
        how = ("fewest scarcity-weighted resources per layer" if objective == "balanced" else
               f"fewest {objective} that fit the board")
        lat = f" and {target_latency:,.0f} cycles latency" if target_latency else ""
        why = f"folding chosen for {target_fps:,.0f} FPS{lat} on {brd.name} at {clock_mhz:g} MHz ({how})"
    else:
        folding, _, why = default_folding(graph)
    graph.verify(folding)
    if fifo_depths is None:
        fifo_depths = fifo_depths_from_cycles(graph, folding)
    plan = plan_top(graph, folding, fifo_depths)
    est = estimates(graph, folding, plan, brd, clock_mhz)
    over = brd.over(est["total"])
    if over and arch == "auto":
        return _build_mo(graph, model, out, brd, clock_mhz, target_fps, input_type,
                         f"--arch auto: the DF build does not fit {brd.name} ({format_over(over)})")
    if over and not allow_overbudget:
        best = best_fitting_fps(graph, brd, clock_mhz)
        hint = (f"the fastest folding that fits is {best[0]:,.0f} FPS at {clock_mhz:g} MHz "
                f"(--target-fps {math.floor(best[0])})" if best else
                "no folding fits it (the slowest folding exceeds the budget)")
        raise QloomError(f"{model}: the build does not fit {brd.name}: estimated {format_over(over)}; "
                         f"{hint}, or pass --allow-overbudget to build it anyway")
    if over:
        why += f"; OVER BUDGET on {brd.name} (--allow-overbudget): {format_over(over)}"
    from qloom.fileio import publish_dir, staging_dir

    tmp = staging_dir(out)
    try:
        write_rtl(plan, graph, tmp / "rtl")
        _save_model_copy(model, tmp / "model.onnx")
        cycles = graph_cycles(graph, folding)
        ii = max(cycles.values())
        (tmp / "folding.json").write_text(json.dumps(folding, indent=2) + "\n")
        (tmp / "estimates.json").write_text(json.dumps(est, indent=2) + "\n")
        meta = {
            "model": str(model), "input_type": input_type, "folding_note": why, "fifo_depths": fifo_depths,
            "in_elem_bits": plan.in_elem_bits, "in_elems": plan.in_elems,
            "out_elem_bits": plan.out_elem_bits, "out_elems": plan.out_elems,
            "out_signed": plan.out_signed, "port_in_width": plan.port_in_width,
            "port_out_width": plan.port_out_width,
            "stages": [s.name for s in plan.stages],
            "mem_files": sorted(f for s in plan.stages for f in s.inst.file_names),
        }
        (tmp / "build.json").write_text(json.dumps(meta, indent=2) + "\n")
        (tmp / "report.md").write_text(build_report(graph, folding, est, plan, why))
        layer_plot(est, tmp / LAYER_PLOT)
        publish_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"out": str(out), "folding": folding, "note": why, "cycles_per_frame": ii,
            "clock_mhz": clock_mhz, "estimates": est,
            "fps": clock_mhz * 1e6 / ii, "seconds": time.perf_counter() - t0,
            "stages": len(plan.stages), "over_budget": {r: list(v) for r, v in over.items()}}


ARCHES = ("df", "mo", "auto")  # --arch: dataflow, memory-optimized, DF when it fits


def _build_mo(graph, model, out, brd, clock_mhz, target_fps, input_type, note) -> dict:
    from qloom.mo.build import build_mo

    return build_mo(graph, model, out, brd, clock_mhz, target_fps, input_type, note)


def estimates(graph: HWGraph, folding: dict, plan, board, clock_mhz: float) -> dict:
    """``estimates.json`` (DESIGN.md): cycle and resource models per layer and in total.

    A layer's resources include the DWCs and FIFO that feed it. latency_cycles: frame 0's
    first input beat to its last output beat, from the streaming latency model
    (qloom.dse.latency, checked against Verilator); ``done_cycle`` per layer: when frame 0
    leaves it.
    """
    from qloom.boards import RESOURCES
    from qloom.dse import graph_cycles
    from qloom.dse.latency import done_cycles
    from qloom.ops import estimate_instance

    cycles = graph_cycles(graph, folding)
    done = done_cycles(graph, folding)
    ii = max(cycles.values())
    layers = {}
    for op in graph.nodes:
        res = op.resources(folding.get(op.name, {}), family=board.family)
        layers[op.name] = {"op": op.op_type, "cycles": cycles[op.name], "done_cycle": done[op.name],
                           **{r: res.get(r, 0) for r in RESOURCES}}
    for st in plan.stages:
        if st.kind != "op":
            res = estimate_instance(st.inst, board.family)
            for r in RESOURCES:
                layers[st.layer][r] += res.get(r, 0)
    total = {r: sum(v[r] for v in layers.values()) for r in RESOURCES}
    return {"board": board.name, "clock_mhz": clock_mhz, "fps": clock_mhz * 1e6 / ii,
            "latency_cycles": done[graph.last.name] + 1, "cycles_per_frame": ii,
            "total": total, "budget": board.budget(),
            "utilization": {r: (total[r] / getattr(board, r) if getattr(board, r) else None)
                            for r in RESOURCES},
            "layers": layers}


def fifo_depths_from_cycles(graph: HWGraph, folding: dict) -> dict:
    """FIFO depth (in the consumer's beats) in front of each layer (qloom.dse.folding.fifo_depths)."""
    from qloom.dse.folding import fifo_depths

    return fifo_depths(graph, folding)


def build_report(graph, folding, est, plan, why, synth: dict | None = None) -> str:
    """report.md: the folding and the estimates per layer (and Yosys' figures once
    ``qloom synth`` has run)."""
    ii, clock = est["cycles_per_frame"], est["clock_mhz"]
    t = est["total"]
    lines = [f"# qloom build: {Path(graph.source).name}", "",
             f"- {why}",
             f"- board {est['board']}, clock {clock:g} MHz",
             f"- estimated II: {ii:,} cycles per frame = {est['fps']:,.0f} FPS",
             f"- estimated latency: {est['latency_cycles']:,} cycles = "
             f"{est['latency_cycles'] / clock:,.2f} us (first input beat to last output beat)",
             f"- estimated resources: {t['LUT']:,} LUT, {t['FF']:,} FF, {t['BRAM18']} BRAM18, "
             f"{t['URAM']} URAM, {t['DSP']} DSP",
             f"- stages in qloom_top: {len(plan.stages)} (ops, DWCs, FIFOs)", ""]
    head = "| layer | op | PE | SIMD | ram_style | cycles/frame | LUT | FF | BRAM18 | DSP |"
    sep = "|---|---|---|---|---|---|---|---|---|---|"
    if synth:
        head += " LUT (Yosys) | FF (Yosys) | BRAM18 (Yosys) | DSP (Yosys) |"
        sep += "---|---|---|---|"
    lines += [head, sep]
    for op in graph.nodes:
        f, e = folding.get(op.name, {}), est["layers"][op.name]
        mark = " *" if e["cycles"] == ii else ""
        row = (f"| {op.name} | {op.op_type} | {f.get('PE', '-')} | {f.get('SIMD', '-')} | "
               f"{f.get('ram_style', '-')} | {e['cycles']:,}{mark} | {e['LUT']:,} | {e['FF']:,} | "
               f"{e['BRAM18']} | {e['DSP']} |")
        if synth:
            m = synth["layers"].get(op.name, {})
            row += f" {m.get('LUT', '-'):,} | {m.get('FF', '-'):,} | {m.get('BRAM18', '-')} | {m.get('DSP', '-')} |"
        lines.append(row)
    if synth:
        s = synth["total"]
        lines += ["", f"Yosys ({synth['tool']}) total: {s['LUT']:,} LUT, {s['FF']:,} FF, "
                      f"{s['BRAM18']} BRAM18, {s['DSP']} DSP, {s['CARRY']:,} CARRY"]
    pads = []
    for op in graph.nodes:  # non-divisor folding: the layer's stream vectors carry padding
        f = folding.get(op.name, {})
        for what, n, m in (("input", int(op.in_shapes[0][-1]), op.in_len(f)),
                           ("output", int(op.out_shape[-1]), op.out_len(f))):
            if m != n:
                pads.append(f"{op.name} {what} {n} -> {m}")
    if pads:
        lines += ["", "Padded vectors (lanes that do not divide the layer; zero weights or dropped "
                      "elements, docs/DESIGN.md \"Non-divisor folding\"): " + ", ".join(pads) + "."]
    lines += ["", "`*` marks the bottleneck layer (its cycles set the II).", "",
              f"![cycles per layer against the II, and LUT/FF/BRAM18/DSP per layer]({LAYER_PLOT})"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ rtlsim


def _load_out(out: Path):
    from qloom.passes import lower_model

    if not (out / "build.json").is_file():
        raise QloomError(f"{out}: not a qloom build folder (no build.json); run qloom build first")
    meta = json.loads((out / "build.json").read_text())
    if meta.get("arch") == "mo":
        raise QloomError(f"{out}: an MO build (--arch mo); rtlsim and synth take DF builds (simulate "
                         "the MO engine with qloom deploy, then driver.py --target sim)")
    folding = json.loads((out / "folding.json").read_text())
    graph = lower_model(out / "model.onnx", input_type=meta.get("input_type"))
    return graph, folding, meta


def encode_elems(q: np.ndarray, bipolar: bool) -> np.ndarray:
    """Integer values -> stream element values (bipolar -1/+1 -> bit 0/1)."""
    return (q > 0).astype(np.int64) if bipolar else q.astype(np.int64)


def out_beats_per_frame(graph: HWGraph, meta: dict) -> int:
    """m_axis beats per output frame of a build (``meta`` = build.json)."""
    return int(np.prod(graph.last.out_shape)) // meta["out_elems"]


def host_encode(graph: HWGraph, meta: dict, x: np.ndarray) -> list[int]:
    """The host side of ``qloom_top``'s input: float32 ``x`` (N, *model input shape), already
    checked, -> s_axis beats (ints, ``meta["in_elems"]`` elements of ``in_elem_bits`` bits
    each, element i at bits ``[i*W +: W]``, two's complement when signed, bipolar -1/+1 as
    bit 0/1). The one packing code of rtlsim and the deploy driver."""
    from qloom.sim.verilator import pack_beats

    first = graph.first
    q = graph.host_input(x).reshape(len(x), -1)
    in_elems = encode_elems(q, first.in_type.bipolar).ravel()
    return pack_beats(in_elems, meta["in_elem_bits"], meta["in_elems"],
                      signed=first.in_type.signed and not first.in_type.bipolar)


def host_decode(graph: HWGraph, meta: dict, beats, n: int) -> np.ndarray:
    """Inverse of :func:`host_encode` for the output: ``n`` frames of m_axis beats (ints; bits
    above ``out_elems * out_elem_bits`` are byte-lane padding and ignored) -> float32 as the
    QONNX model outputs it (de-scaled by ``graph.host_output``)."""
    from qloom.sim.verilator import unpack_beats

    last = graph.last
    mask = (1 << (meta["out_elem_bits"] * meta["out_elems"])) - 1
    vals = unpack_beats([int(b) & mask for b in beats], meta["out_elem_bits"], meta["out_elems"],
                        signed=bool(meta["out_signed"]) and not last.out_type.bipolar)
    vals = np.asarray(vals, dtype=np.int64)
    if last.out_type.bipolar:
        vals = 2 * vals - 1
    return graph.host_output(vals.reshape((n,) + tuple(last.out_shape)))


def sim_cycle_limit(graph: HWGraph, folding: dict, frames: int, beats: int, p_stall: float = 0.0) -> int:
    """Cycles after which an rtlsim of ``frames`` frames (``beats`` AXI4-Stream beats in and
    out) is stopped as hung: 4x the modelled time (the latency of the first frame plus
    ``frames`` - 1 IIs, qloom.dse.latency and the cycle model), scaled by 1 / (1 -
    ``p_stall``) for random back-pressure, and never under the beat-count bound
    (200,000 + 50 cycles per beat) that holds for fast designs."""
    from qloom.dse import graph_cycles
    from qloom.dse.latency import latency

    slow = 1.0 / max(1e-3, 1.0 - p_stall)
    ii = max(graph_cycles(graph, folding).values())
    model = latency(graph, folding) + max(0, frames - 1) * ii
    return int(max(200_000 + 50 * slow * beats, 4 * slow * model))


def rtlsim(out: str | os.PathLike, x: np.ndarray, p_in_gap: float = 0.0, p_out_stall: float = 0.0,
           seed: int = 0, what: str = "input", progress=False) -> tuple[np.ndarray, dict]:
    """Simulate OUT's ``qloom_top`` with Verilator on float input ``x``.

    ``progress``: the Verilator build's phases and the simulated frames (counted from the
    last layer's trace lines as the model runs) as :class:`qloom.progress.Progress`
    (False: silent; True: a bar on a terminal, lines otherwise; a callable: gets the lines).

    Returns (y, stats): y as the QONNX model outputs it; stats as in ``rtlsim.json``:
    frames, cycles_per_frame (measured II: median distance between frame completions),
    latency_cycles (first input beat -> last output beat of frame 0).
    """
    from qloom.emulate import check_input
    from qloom.sim.verilator import AxisSim

    out = Path(out)
    graph, folding, meta = _load_out(out)
    x = check_input(graph, x, what)
    n = len(x)
    beats = host_encode(graph, meta, x)
    out_per_frame = out_beats_per_frame(graph, meta)
    rtl = out / "rtl"
    sources = sorted(str(p) for p in rtl.glob("*.v"))
    sim = AxisSim("qloom_top", sources, in_width=meta["port_in_width"], out_width=meta["port_out_width"])
    files = {f: str(rtl / f) for f in meta["mem_files"]}
    from qloom.progress import Progress

    sim.build(progress)
    tag = f"qloom_frame {graph.last.name} "
    with Progress("rtlsim", n, unit="frame", echo=progress) as bar:
        seen = [0]

        def on_line(line):
            if line.startswith(tag):
                seen[0] += 1
                bar.advance_to(seen[0], "frames simulated")

        res = sim.run(beats, n * out_per_frame, p_in_gap=p_in_gap, p_out_stall=p_out_stall,
                      seed=seed, files=files, on_line=on_line if progress is not False else None,
                      max_cycles=sim_cycle_limit(graph, folding, n, len(beats) + n * out_per_frame,
                                                 max(p_in_gap, p_out_stall)))
    y = host_decode(graph, meta, res.outputs, n)
    done = np.asarray(res.out_cycles).reshape(n, out_per_frame)[:, -1]
    ii = float(np.median(np.diff(done))) if n > 1 else None
    stats = {"frames": n, "cycles_per_frame": ii,
             "latency_cycles": int(done[0] - res.in_cycles[0] + 1),
             "total_cycles": int(res.cycles),
             "layers": _layer_trace(res.stdout, graph, folding, int(done[0]), n)}
    return y, stats


def _layer_trace(stdout: str, graph: HWGraph, folding: dict, done0: int, n: int) -> dict:
    """Per layer, from qloom_top's simulation trace: ``cycles`` = the layer's measured cycles
    per frame inside the pipeline (median distance between its frame completions; all
    layers settle at the slowest one's II), ``frame0_done_cycle`` (relative to the top's
    clock like ``latency_cycles``) and the cycle model's ``cycles_estimate`` in isolation."""
    times: dict[str, list[int]] = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "qloom_frame":
            times.setdefault(parts[1], []).append(int(parts[2]))
    from qloom.dse import graph_cycles

    est = graph_cycles(graph, folding)
    last = graph.last.name
    offset = done0 - times[last][0] if times.get(last) else 0
    layers = {}
    for op in graph.nodes:
        t = times.get(op.name, [])
        layers[op.name] = {
            "cycles": float(np.median(np.diff(t))) if len(t) > 1 else None,
            "frame0_done_cycle": t[0] + offset if t else None,
            "cycles_estimate": est[op.name],
        }
    return layers
