"""qloom's Python API: everything the command line does, without a subprocess.

The ``qloom`` command line (:mod:`qloom.cli`) is a thin layer over this module: it parses
arguments, calls these functions, prints their results and maps :class:`~qloom.errors.QloomError`
to exit status 2. Errors raised here are the same one-line ``QloomError`` messages the
command line prints (they name the command line's options, e.g. ``--target-fps``).

Quick start (the Python version of ``qloom build`` + ``qloom rtlsim``)::

    import qloom
    b = qloom.build("model.onnx", "out", board="pynq-z1", target_fps=10_000)
    print(b.estimates["cycles_per_frame"], b.estimates["total"]["LUT"])
    y = b.rtlsim(x)                      # Verilator: float outputs as the QONNX model's
    assert (y == qloom.emulate(b.graph, x)).all()

Arrays: model inputs ``x`` are float arrays of shape (N, \\*model input shape), batch first
(a single frame without the batch axis is accepted); outputs are float32 arrays of the QONNX
model's output shape (N, ...), or integer indices for a model ending in ArgMax/TopK.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qloom.dse.search import DEFAULT_OBJECTIVE, OBJECTIVES  # noqa: F401 (the objectives of ``objective=``)
from qloom.errors import QloomError
from qloom.synth import FAMILIES  # noqa: F401 (the families of ``family=``)

#: the board of a build when none is given
DEFAULT_BOARD = "pynq-z1"


# ------------------------------------------------------------------------ typed results
@dataclass(frozen=True)
class BuildOptions:
    """The options of :func:`build` (as ``qloom build`` takes them).

    ``board``: a board name (:func:`boards`) or a board ``.json`` file; ``clock_mhz`` (MHz,
    > 0; default the board's clock); ``target_fps`` (frames/s, > 0): choose the folding that
    meets it; ``folding``: a ``folding.json`` path or a dict ``{layer: {"PE": .., "SIMD": ..,
    "ram_style": ..}}`` (not together with ``target_fps``); ``objective``: what the target-FPS
    search minimizes (:data:`OBJECTIVES`); ``target_latency`` (cycles, needs ``target_fps``);
    ``input_type``: the type of a float model input (e.g. ``"fixed<16,6>"``, ``"INT8"``);
    ``allow_overbudget``: write a build whose estimate exceeds the board's budget;
    ``arch``: "df" (dataflow, default), "mo" (FINN-R's memory-optimized engine: ``OUT/mo``
    holds its schedule and DRAM image) or "auto" (DF when it fits the board, else MO).
    """

    board: str = DEFAULT_BOARD
    clock_mhz: float | None = None
    target_fps: float | None = None
    folding: Any = None
    objective: str = DEFAULT_OBJECTIVE
    target_latency: float | None = None
    input_type: str | None = None
    allow_overbudget: bool = False
    arch: str = "df"

    def check(self) -> None:
        """Raise QloomError (the command line's one-line messages) for inconsistent options."""
        from qloom.flow import check_positive

        check_positive("clock_mhz", self.clock_mhz, "MHz")
        check_positive("target_fps", self.target_fps, "frames per second")
        check_positive("target_latency", self.target_latency, "cycles")
        if self.folding and self.target_fps:
            raise QloomError("give either --folding or --target-fps, not both")
        if self.target_latency and not self.target_fps:
            raise QloomError("--target-latency needs --target-fps (the throughput to meet first)")


@dataclass(frozen=True)
class RtlsimResult:
    """What a Verilator simulation of a build gives (``rtlsim.json`` plus the outputs).

    ``outputs``: float32 (N, ...) as the QONNX model outputs them; ``cycles_per_frame``:
    measured II in cycles (median distance between frame completions; None for one frame);
    ``latency_cycles``: first input beat to last output beat of frame 0 (cycles);
    ``total_cycles``: the whole run; ``layers``: per layer ``cycles``, ``frame0_done_cycle``,
    ``cycles_estimate``.
    """

    outputs: np.ndarray
    frames: int
    cycles_per_frame: float | None
    latency_cycles: int
    total_cycles: int
    layers: dict = field(default_factory=dict)

    def stats(self) -> dict:
        """The ``rtlsim.json`` content (everything but the outputs)."""
        return {"frames": self.frames, "cycles_per_frame": self.cycles_per_frame,
                "latency_cycles": self.latency_cycles, "total_cycles": self.total_cycles,
                "layers": self.layers}


@dataclass(frozen=True)
class RunResult:
    """A deployed accelerator's run (:func:`run`): ``outputs`` float32 (N, ...), ``seconds``
    of wall time, ``clock_mhz`` and, for the simulated UART board top, ``cycles`` of the whole
    exchange, for the simulated Alveo kernel ``kernel_cycles`` from ap_start to ap_done
    (None otherwise)."""

    outputs: np.ndarray
    seconds: float
    clock_mhz: float
    cycles: int | None = None
    kernel_cycles: int | None = None


# ------------------------------------------------------------------------------- Build
class Build:
    """A build folder OUT (``qloom build``'s output) as a Python object.

    Made by :func:`build` or :func:`load_build`. The files are read lazily and cached:
    ``graph`` (:class:`qloom.ir.HWGraph`, lowered from ``OUT/model.onnx``), ``folding``
    (``folding.json``: ``{layer: {PE, SIMD, ram_style, ...}}``), ``estimates``
    (``estimates.json``: cycles per frame, FPS, latency in cycles, LUT/FF/BRAM18/URAM/DSP per
    layer and in total), ``meta`` (``build.json``). In a notebook it shows as an HTML table
    with one row per layer.
    """

    def __init__(self, out: str | os.PathLike, *, seconds: float | None = None,
                 board: str | None = None, _summary: dict | None = None):
        self.out = Path(out)
        #: wall time of the build in seconds (None for :func:`load_build`)
        self.seconds = seconds
        self._board = board
        self._cache: dict[str, Any] = {}
        if _summary is not None:
            self._cache["folding"] = _summary["folding"]
            self._cache["estimates"] = _summary["estimates"]

    def __repr__(self) -> str:
        e = self.estimates
        return (f"<qloom.Build {self.out}: {len(self.folding_layers())} layers, "
                f"{e['cycles_per_frame']:,} cycles/frame = {e['fps']:,.0f} FPS at "
                f"{e['clock_mhz']:g} MHz on {e['board']}, {e['total']['LUT']:,} LUT>")

    def _json(self, name: str) -> dict:
        if name not in self._cache:
            self._cache[name] = json.loads((self.out / f"{name}.json").read_text())
        return self._cache[name]

    @property
    def meta(self) -> dict:
        """``build.json``: stream widths, stages, the folding note, the input type."""
        return self._json("build")

    @property
    def folding(self) -> dict:
        """``folding.json``: ``{layer: {"PE": int, "SIMD": int, "ram_style": str, ...}}``."""
        return self._json("folding")

    @property
    def estimates(self) -> dict:
        """``estimates.json``: ``cycles_per_frame`` (II, cycles), ``fps``, ``latency_cycles``,
        ``clock_mhz``, ``board``, ``total``/``budget``/``utilization`` and ``layers`` (per layer
        ``op``, ``cycles``, ``done_cycle``, LUT, FF, BRAM18, URAM, DSP)."""
        return self._json("estimates")

    @property
    def graph(self):
        """The hardware graph (:class:`qloom.ir.HWGraph`) of ``OUT/model.onnx``."""
        if "graph" not in self._cache:
            self._cache["graph"] = compile_model(self.out / "model.onnx", self.meta.get("input_type"))
        return self._cache["graph"]

    @property
    def note(self) -> str:
        """How the folding was chosen (and the over-budget warning, if any)."""
        return self.meta.get("folding_note", "")

    @property
    def stages(self) -> int:
        """Stages in ``qloom_top`` (operators, DWCs, FIFOs)."""
        return len(self.meta.get("stages", []))

    @property
    def cycles_per_frame(self) -> int:
        """Estimated II in cycles per frame (the slowest layer's cycles)."""
        return self.estimates["cycles_per_frame"]

    @property
    def fps(self) -> float:
        """Estimated frames per second at the build's clock."""
        return self.estimates["fps"]

    @property
    def clock_mhz(self) -> float:
        """The build's clock in MHz."""
        return self.estimates["clock_mhz"]

    def folding_layers(self) -> list[str]:
        """Layer names in graph order (the rows of :meth:`_repr_html_`)."""
        return list(self.estimates["layers"])

    def report(self) -> str:
        """``report.md`` (Markdown): folding and estimates per layer, Yosys' figures once
        :meth:`synth` has run."""
        return (self.out / "report.md").read_text()

    def _repr_html_(self) -> str:
        from qloom.html import table

        e = self.estimates
        rows = []
        for name, v in e["layers"].items():
            f = self.folding.get(name, {})
            rows.append([name, v["op"], f.get("PE", "-"), f.get("SIMD", "-"), f"{v['cycles']:,}",
                         f"{v['LUT']:,}", f"{v['FF']:,}", v["BRAM18"], v["DSP"]])
        t = e["total"]
        caption = (f"qloom build {self.out}: {e['cycles_per_frame']:,} cycles/frame = "
                   f"{e['fps']:,.0f} FPS at {e['clock_mhz']:g} MHz on {e['board']}, latency "
                   f"{e['latency_cycles']:,} cycles; {t['LUT']:,} LUT, {t['FF']:,} FF, "
                   f"{t['BRAM18']} BRAM18, {t['DSP']} DSP")
        return table(["layer", "op", "PE", "SIMD", "cycles", "LUT", "FF", "BRAM18", "DSP"], rows,
                     caption=caption)

    # --------------------------------------------------------------- what runs on it
    def simulate(self, x: np.ndarray, *, progress=False, what: str = "input",
                 write_stats: bool = True) -> RtlsimResult:
        """Verilator simulation of ``qloom_top`` (:func:`rtlsim`), with its statistics."""
        return rtlsim(self.out, x, progress=progress, what=what, write_stats=write_stats)

    def rtlsim(self, x: np.ndarray, *, progress=False) -> np.ndarray:
        """Verilator simulation on float ``x`` (N, \\*input shape) -> float32 outputs (N, ...),
        as ``qloom rtlsim`` writes them; the statistics go to ``OUT/rtlsim.json``."""
        return self.simulate(x, progress=progress).outputs

    def emulate(self, x: np.ndarray) -> np.ndarray:
        """The bit-exact numpy emulation of this build's graph (:func:`emulate`)."""
        return emulate(self.graph, x)

    def synth(self, family: str | None = None, pnr: bool = False, jobs: int | None = None,
              scheduler=None, progress=None) -> dict:
        """Yosys synthesis per stage (:func:`synth`); ``family`` defaults to the build's
        board's (xc7, xcup or ecp5). Returns ``synth.json``'s content (LUT, FF, BRAM18, DSP,
        CARRY in total and per layer) plus ``pnr`` (nextpnr-ecp5: ``fmax_mhz``...) with
        ``pnr=True``."""
        if family is None:
            family = _board_of(self).family
        return synth(self.out, family=family, pnr=pnr, jobs=jobs, scheduler=scheduler,
                     progress=progress)

    def deploy(self, board: str | None = None, bitstream: bool = False, progress=None) -> dict:
        """Board files into ``OUT/deploy/`` (:func:`deploy`)."""
        return deploy(self.out, board=board, bitstream=bitstream, progress=progress)

    def run(self, x: np.ndarray, target: str = "sim", port: str | None = None) -> np.ndarray:
        """Run the deployed accelerator (:func:`run`; :meth:`deploy` first) -> float32 outputs."""
        return run(self.out, x, target=target, port=port).outputs

    def pareto(self, board: str | None = None):
        """The Pareto front of FPS against LUT over the folding space of this build's graph
        on its board (or ``board``): a matplotlib Figure (:func:`pareto_figure`)."""
        return pareto_figure(self.graph, board or _board_of(self), self.clock_mhz)[0]

    def roofline(self, board: str | None = None):
        """FINN-R's roofline of this build's graph on its board (or ``board``): a matplotlib
        Figure (:func:`roofline_figure`)."""
        return roofline_figure(self.graph, board or _board_of(self), self.clock_mhz)[0]


def _board_of(b: Build):
    from qloom.boards import get_board

    return get_board(b._board or b.estimates["board"])


# --------------------------------------------------------------------------- functions
def compile_model(model: str | os.PathLike, input_type: str | None = None):
    """Load a QONNX file (weights may sit in ``MODEL.onnx.data``) and lower it to a
    :class:`qloom.ir.HWGraph`; ``input_type`` types a float model input like
    ``--input-type`` (e.g. ``"fixed<16,6>"``). Raises QloomError naming the file or node."""
    from qloom.passes import lower_model

    return lower_model(model, input_type=input_type)


def info(model, input_type: str | None = None) -> str:
    """The ``qloom info`` table of a model (path) or hardware graph: one line per operator."""
    from qloom.report import format_info

    return format_info(_graph(model, input_type))


def _graph(model, input_type=None):
    from qloom.ir import HWGraph

    if isinstance(model, Build):
        return model.graph
    if isinstance(model, HWGraph):
        return model
    return compile_model(model, input_type)


def emulate(model, x: np.ndarray, *, input_type: str | None = None, what: str = "input") -> np.ndarray:
    """Bit-exact integer emulation of ``model`` (a QONNX path, a :class:`qloom.ir.HWGraph` or
    a :class:`Build`) on float ``x`` (N, \\*input shape) -> what the QONNX model outputs
    (float32, or integer indices after ArgMax/TopK). ``x`` is checked first (float dtype,
    shape, finite values; QloomError naming ``what`` otherwise)."""
    from qloom.emulate import check_input
    from qloom.emulate import emulate as run_graph

    graph = _graph(model, input_type)
    x = check_input(graph, x, what=what)
    return run_graph(graph, x)


def build(model: str | os.PathLike, out: str | os.PathLike, *, board: str | None = None,
          clock_mhz: float | None = None, target_fps: float | None = None, folding=None,
          objective: str = DEFAULT_OBJECTIVE, target_latency: float | None = None,
          input_type: str | None = None, allow_overbudget: bool = False, arch: str = "df") -> Build:
    """Compile the QONNX ``model`` into a dataflow accelerator in the folder ``out``
    (``qloom build``); the options are :class:`BuildOptions`'s (``board`` default
    ``"pynq-z1"``). ``out`` is written atomically (replaced when it exists).

    Returns the :class:`Build`. Raises QloomError (one line) for bad input, a folding that
    is not legal, a target out of reach or a build over the board's budget (unless
    ``allow_overbudget``).
    """
    opts = BuildOptions(board=board or DEFAULT_BOARD, clock_mhz=clock_mhz, target_fps=target_fps,
                        folding=folding, objective=objective, target_latency=target_latency,
                        input_type=input_type, allow_overbudget=allow_overbudget, arch=arch)
    return build_with(model, out, opts)


def build_with(model: str | os.PathLike, out: str | os.PathLike, options: BuildOptions) -> Build:
    """:func:`build` with a :class:`BuildOptions`."""
    from qloom.flow import build as flow_build

    options.check()
    folding = options.folding
    if folding is not None and not isinstance(folding, dict):
        folding = str(folding)
    r = flow_build(model, out, folding_path=folding or None, clock_mhz=options.clock_mhz,
                   board=options.board, target_fps=options.target_fps,
                   objective=options.objective, target_latency=options.target_latency,
                   input_type=options.input_type, allow_overbudget=options.allow_overbudget,
                   arch=options.arch)
    return Build(r["out"], seconds=r["seconds"], board=options.board, _summary=r)


def load_build(out: str | os.PathLike) -> Build:
    """The :class:`Build` of an existing build folder (QloomError if it is not one)."""
    out = Path(out)
    if not (out / "build.json").is_file():
        raise QloomError(f"{out}: not a qloom build folder (no build.json); run qloom build first")
    return Build(out)


def rtlsim(out: str | os.PathLike, x: np.ndarray, *, progress=False, what: str = "input",
           write_stats: bool = True) -> RtlsimResult:
    """Verilator simulation of build folder ``out``'s ``qloom_top`` on float ``x``
    (``qloom rtlsim``). ``progress``: False (silent), True (a bar or lines) or a callable
    receiving lines. Writes the statistics to ``OUT/rtlsim.json`` (atomically) unless
    ``write_stats=False``. QloomError for a folder that is not a build or a bad ``x``
    (naming ``what``)."""
    from qloom.flow import rtlsim as flow_rtlsim

    y, stats = flow_rtlsim(out, x, what=what, progress=progress)
    r = RtlsimResult(outputs=y, frames=stats["frames"], cycles_per_frame=stats["cycles_per_frame"],
                     latency_cycles=stats["latency_cycles"], total_cycles=stats["total_cycles"],
                     layers=stats["layers"])
    if write_stats:
        save_rtlsim_stats(out, r)
    return r


def save_rtlsim_stats(out: str | os.PathLike, result: RtlsimResult) -> None:
    """Write ``result``'s statistics to ``OUT/rtlsim.json`` (atomically)."""
    out = Path(out)
    tmp = out / ".rtlsim.json.tmp"
    tmp.write_text(json.dumps(result.stats(), indent=2) + "\n")
    os.replace(tmp, out / "rtlsim.json")


def check_positive(name: str, value, unit: str) -> None:
    """QloomError unless ``value`` is None or a finite number > 0; the message names the
    command-line option (``clock_mhz`` -> ``--clock-mhz``) and ``unit``."""
    from qloom.flow import check_positive as check

    check(name, value, unit)


def check_synth(family: str = "xc7", pnr: bool = False, jobs: int | None = None, scheduler=None) -> None:
    """QloomError (one line) for synthesis options that do not go together; checked before
    any synthesis runs."""
    if pnr and family != "ecp5":
        raise QloomError("--pnr needs --family ecp5 (nextpnr-ecp5 is the open place-and-route)")
    if jobs is not None and scheduler:
        raise QloomError("give either --jobs (a local pool) or --scheduler (a Dask cluster), not both")
    if jobs is not None and jobs < 1:
        raise QloomError(f"--jobs must be at least 1, got {jobs}")


def synth(out: str | os.PathLike, family: str = "xc7", pnr: bool = False, jobs: int | None = None,
          scheduler=None, progress=None) -> dict:
    """Yosys synthesis of build folder ``out``, one run per distinct stage, cached
    (``qloom synth``): ``family`` xc7/xcup (synth_xilinx) or ecp5 (synth_ecp5); ``jobs``
    local parallel runs (default 2) or ``scheduler`` a Dask scheduler address. Returns (and
    writes) ``synth.json``: ``total`` and per-layer LUT, FF, BRAM18, URAM, DSP, CARRY,
    ``latches``. ``pnr=True`` (ecp5 only) also places and routes with nextpnr-ecp5 and packs
    the bitstream ``OUT/qloom_top.bit``; the result gains ``pnr`` (:func:`pnr`)."""
    from qloom.synth import synth_out

    check_synth(family, pnr, jobs, scheduler)
    r = synth_out(out, family=family, jobs=jobs or 2, scheduler=scheduler, progress=progress)
    if pnr:
        r = dict(r, pnr=place_and_route(out, progress=progress))
    return r


def place_and_route(out: str | os.PathLike, progress=None) -> dict:
    """nextpnr-ecp5 place-and-route and ecppack of build folder ``out`` (after
    :func:`synth` with family ecp5): ``fmax_mhz`` (MHz) and ``pnr`` (``target_mhz``, ...)."""
    from qloom.synth import pnr_ecp5

    return pnr_ecp5(out, progress=progress)


def deploy(out: str | os.PathLike, board: str | None = None, bitstream: bool = False,
           progress=None) -> dict:
    """``qloom deploy``: board files into ``OUT/deploy/`` for ``board`` (default the build's):
    ulx3s-85f (board top, PLL, UART link, Makefile; ``bitstream=True`` runs the open ECP5
    flow) or a Zynq board (Vivado TCL). Returns ``deploy.json``'s content plus ``dir``.
    ``progress``: a callable receiving lines (default: silent)."""
    from qloom.deploy import deploy as do_deploy

    return do_deploy(out, board=board, bitstream=bitstream,
                     progress=progress if progress is not None else (lambda m: None))


def run(out: str | os.PathLike, x: np.ndarray, target: str = "sim", port: str | None = None) -> RunResult:
    """``qloom run``: float ``x`` (N, ...) through a deployed accelerator: ``target`` "sim"
    (Verilator: the ULX3S UART top, a Zynq build's stream side, or the Alveo RTL kernel with
    its memory and control) or "board" (the ULX3S on serial ``port``; an Alveo card through
    XRT)."""
    from qloom.deploy import run as do_run

    t0 = time.perf_counter()
    y, stats = do_run(out, x, target=target, port=port)
    return RunResult(outputs=y, seconds=time.perf_counter() - t0, clock_mhz=stats.get("clock_mhz"),
                     cycles=stats.get("cycles"), kernel_cycles=stats.get("kernel_cycles"))


def deploy_summary(info: dict, out: str | os.PathLike) -> list[str]:
    """The lines ``qloom deploy`` prints for ``info`` (a :func:`deploy` result): what was
    written and the commands that build, program and run it
    (:func:`qloom.deploy.summary_lines`)."""
    from qloom.deploy import summary_lines

    return summary_lines(info, out)


def demo_deploy(model, out: str | os.PathLike, x, y_emu, board: str = "ulx3s-85f",
                bitstream: bool = True, n_images: int = 20, progress=print) -> bool:
    """The last step of ``qloom demo`` (:func:`qloom.deploy.demo_deploy`): ``model`` built
    into ``out`` for ``board``, deployed (bitstream unless ``bitstream`` is False), ``n_images``
    of float ``x`` run through the simulated board top and compared with ``y_emu``; prints the
    commands for a real board. True when equal."""
    from qloom.deploy import demo_deploy as do

    return do(model, out, x, y_emu, board=board, bitstream=bitstream, n_images=n_images,
              progress=progress)


def boards() -> list:
    """The known FPGA boards (:class:`qloom.boards.Board`: part, family, LUT, FF, BRAM18,
    URAM, DSP budgets and clock in MHz)."""
    from qloom.boards import list_boards

    return list_boards()


def get_board(board: str):
    """A :class:`qloom.boards.Board` by name or board ``.json`` path (QloomError if unknown)."""
    from qloom.boards import get_board as find

    return find(board)


def zoo_models() -> list:
    """The benchmark model zoo (:class:`qloom.zoo.ZooModel`: name, input shape, precision...)."""
    from qloom import zoo

    return list(zoo.ZOO.values())


def zoo_export(name: str, out: str | os.PathLike) -> Path:
    """Write zoo model ``name`` as one self-contained QONNX file ``out``; returns its path."""
    from qloom import zoo

    return zoo.zoo_export(name, out)


def model_path(name: str | None = None) -> Path:
    """Path of a QONNX model shipped with qloom (default: the W4A4 digits CNN)."""
    from qloom.models import model_path as path

    return path() if name is None else path(name)


def digits_split():
    """scikit-learn's digits: ``(x_train, y_train, x_test, y_test)``, x float32 (N, 1, 8, 8)
    in [0, 1], y int labels (:func:`qloom.data.digits_split`)."""
    from qloom.data import digits_split as split

    return split()


def reference_outputs(model: str | os.PathLike, x: np.ndarray) -> np.ndarray:
    """The QONNX reference: qonnx ``execute_onnx`` of ``model`` on ``x`` (float32 outputs)."""
    from qloom.reference import reference_outputs as ref

    return ref(model, x)


def load_array(path: str | os.PathLike) -> np.ndarray:
    """Read a ``.npy`` array (no pickles); QloomError naming the file otherwise."""
    from qloom.fileio import load_array as load

    return load(path)


def save_array(path: str | os.PathLike, arr: np.ndarray) -> None:
    """Write ``arr`` to ``path`` (.npy) atomically."""
    from qloom.fileio import save_array as save

    save(path, arr)


def _board_clock(board, clock_mhz):
    from qloom.boards import Board
    from qloom.flow import check_positive

    check_positive("clock_mhz", clock_mhz, "MHz")
    brd = board if isinstance(board, Board) else get_board(board)
    return brd, float(clock_mhz or brd.clock_mhz)


def pareto_figure(model, board="pynq-z1", clock_mhz: float | None = None):
    """The Pareto front of FPS against LUT over the folding space of ``model`` (path,
    graph or Build) on ``board`` (name, file or Board) at ``clock_mhz`` (default the
    board's): ``(matplotlib Figure, points)``, points as ``qloom explore`` writes them."""
    from qloom.plots import pareto_figure as fig

    brd, clock = _board_clock(board, clock_mhz)
    return fig(_graph(model), brd, clock)


def roofline_figure(model, board="pynq-z1", clock_mhz: float | None = None):
    """FINN-R's roofline of ``model`` on ``board`` (Blott et al. 2018, Sec. 3):
    ``(matplotlib Figure, data)``, data as ``qloom roofline`` writes it."""
    from qloom.plots import roofline_figure as fig

    brd, clock = _board_clock(board, clock_mhz)
    return fig(_graph(model), brd, clock)


def _plot_inputs(model, board, clock_mhz, output, input_type, cmd):
    from qloom.flow import check_positive

    check_positive("clock_mhz", clock_mhz, "MHz")
    graph = compile_model(model, input_type=input_type)
    brd = get_board(board)
    clock = float(clock_mhz or brd.clock_mhz)
    prefix = Path(output) if output else Path(Path(model).stem + f"_{cmd}")
    if not (prefix.parent if str(prefix.parent) else Path(".")).is_dir():
        raise QloomError(f"{prefix}: folder {prefix.parent} does not exist")
    return graph, brd, clock, prefix


def explore(model: str | os.PathLike, board: str = "pynq-z1", clock_mhz: float | None = None,
            output: str | os.PathLike | None = None, input_type: str | None = None) -> dict:
    """``qloom explore``: the Pareto front of FPS vs LUT, written to ``output``.png/.json
    (default prefix ``<model stem>_explore``). Returns ``png``, ``json``, ``points``."""
    from qloom.plots import explore as write

    graph, brd, clock, prefix = _plot_inputs(model, board, clock_mhz, output, input_type, "explore")
    return write(graph, brd, clock, prefix)


def roofline(model: str | os.PathLike, board: str = "pynq-z1", clock_mhz: float | None = None,
             output: str | os.PathLike | None = None, input_type: str | None = None,
             builds=()) -> dict:
    """``qloom roofline``: FINN-R's roofline written to ``output``.png/.json (default prefix
    ``<model stem>_roofline``). Returns ``png``, ``json`` and the ``df``/``mo`` points
    (``intensity_ops_per_byte``, ``attainable_fps``); ``builds`` (OUT folders, DF or MO)
    are placed by their estimates (written under ``builds`` in the JSON)."""
    from qloom.plots import roofline as write

    graph, brd, clock, prefix = _plot_inputs(model, board, clock_mhz, output, input_type, "roofline")
    return write(graph, brd, clock, prefix, builds)


__all__ = ["Build", "BuildOptions", "RtlsimResult", "RunResult", "DEFAULT_OBJECTIVE", "OBJECTIVES", "FAMILIES",
           "build", "build_with", "load_build", "check_positive", "save_rtlsim_stats", "compile_model", "emulate", "info", "rtlsim",
           "synth", "check_synth", "place_and_route", "deploy", "deploy_summary", "run", "demo_deploy", "boards", "get_board",
           "zoo_models", "zoo_export", "model_path", "digits_split", "reference_outputs",
           "load_array", "save_array", "pareto_figure", "roofline_figure", "explore", "roofline"]
