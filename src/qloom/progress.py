"""Progress of long work: synthesis stages, place-and-route phases, the Verilator build and
simulated frames.

One object, :class:`Progress`, counts steps of a known total. On a terminal it draws a
``rich`` progress bar (description, bar, done/total, elapsed time, ETA); anywhere else
(a pipe, a log file, CI) it prints one plain line per step with the same figures, e.g.::

    [ 3/46] synthesis: MVAU_0 (qloom_mvau) 12.3 s: 410 LUT, 380 FF, 0 BRAM18, 0 DSP | elapsed 0:00:31, ETA 0:07:10
    [ 4/46] synthesis: FIFO_1 (qloom_fifo) cached: 12 LUT, 40 FF, 0 BRAM18, 0 DSP | elapsed 0:00:31, ETA 0:06:02

A step marked ``cached`` took no time now: it says "cached" (never the time the result once
took) and is left out of the rate that the ETA is computed from (ETA = wall time per
non-cached step so far x steps left; none until one step has run).

``echo``: a callable receiving each plain line (e.g. a test's list.append, or a caller's
``print``); then no bar is drawn whatever the terminal. ``echo=False`` or ``quiet=True``
prints nothing; ``echo=None`` or ``True`` chooses the bar or plain lines on stdout.
The bar is drawn only when ``echo`` is None, ``$QLOOM_PROGRESS`` is not ``plain`` and
stdout is a TTY.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Callable

__all__ = ["Progress", "format_seconds"]


def format_seconds(s: float | None) -> str:
    """H:MM:SS (``-:--:--`` for an unknown time)."""
    if s is None:
        return "-:--:--"
    s = int(round(max(0.0, s)))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _use_bar(echo) -> bool:
    if echo not in (None, True) or os.environ.get("QLOOM_PROGRESS", "") == "plain":
        return False
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """Counts ``total`` steps of a job called ``title`` (``unit``: what a step is, for the
    bar). Use as a context manager; :meth:`step` after each finished step (thread-safe: the
    synthesis pool calls it from several threads)."""

    def __init__(self, title: str, total: int, unit: str = "step",
                 echo: Callable[[str], object] | None = None, quiet: bool = False):
        if echo is False:  # the callers' "progress=False": nothing printed
            echo, quiet = None, True
        elif echo is True:  # "progress=True": bar on a terminal, lines otherwise
            echo = None
        self.title, self.total, self.unit = title, max(0, int(total)), unit
        self.done = 0
        self.ran = 0  # steps that were not cached
        self.t0 = time.perf_counter()
        self._lock = threading.Lock()
        self._echo = echo if echo is not None else (lambda m: print(m, flush=True))
        self._quiet = quiet
        self._bar = None
        if not quiet and _use_bar(echo):
            try:
                from rich.progress import (BarColumn, MofNCompleteColumn, Progress as _Rich,
                                           TextColumn, TimeElapsedColumn)
            except ImportError:  # pragma: no cover - rich is a dependency
                _Rich = None
            if _Rich is not None:
                self._bar = _Rich(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("elapsed"), TimeElapsedColumn(),
                                  TextColumn("ETA {task.fields[eta]}"))  # ours: cached steps excluded
                self._bar.start()
                self._task = self._bar.add_task(title, total=self.total, eta=format_seconds(None))

    # ------------------------------------------------------------------ figures
    @property
    def elapsed(self) -> float:
        """Seconds since the job started."""
        return time.perf_counter() - self.t0

    def eta(self) -> float | None:
        """Seconds left: wall time per non-cached step so far x steps left (None before one
        has run; 0 when done)."""
        left = self.total - self.done
        if left <= 0:
            return 0.0
        if self.ran == 0:
            return None
        return self.elapsed / self.ran * left

    # ------------------------------------------------------------------ output
    def note(self, message: str) -> None:
        """A line that is not a step (printed above the bar on a terminal)."""
        if self._quiet:
            return
        if self._bar is not None:
            self._bar.console.print(message, markup=False, highlight=False)
        else:
            self._echo(message)

    def step(self, label: str = "", detail: str = "", cached: bool = False,
             seconds: float | None = None) -> None:
        """One more step finished: ``label`` names it; ``seconds`` its own run time (shown
        unless ``cached``); ``detail`` is appended (e.g. its resource counts)."""
        with self._lock:
            self.done += 1
            if not cached:
                self.ran += 1
            if self._quiet:
                return
            how = "cached" if cached else (f"{seconds:.1f} s" if seconds is not None else "done")
            text = f"{self.title}: {label} {how}" + (f": {detail}" if detail else "")
            if self._bar is not None:
                self._bar.console.print(f"  {label} {how}" + (f": {detail}" if detail else ""),
                                        markup=False, highlight=False)
                self._bar.update(self._task, completed=self.done, eta=format_seconds(self.eta()))
            else:
                w = len(str(self.total))
                self._echo(f"[{self.done:>{w}}/{self.total}] {text} | elapsed "
                           f"{format_seconds(self.elapsed)}, ETA {format_seconds(self.eta())}")

    def advance_to(self, done: int, label: str = "") -> None:
        """Set the count of finished steps (e.g. frames seen so far) without a line per
        step: plain output prints a line each time another tenth of the total is reached."""
        with self._lock:
            done = min(self.total, int(done))
            if done <= self.done:
                return
            before, self.done = self.done, done
            self.ran = self.done
            if self._quiet:
                return
            if self._bar is not None:
                self._bar.update(self._task, completed=self.done, eta=format_seconds(self.eta()))
                return
            tenth = max(1, self.total // 10)
            if done // tenth != before // tenth or done == self.total:
                w = len(str(self.total))
                self._echo(f"[{self.done:>{w}}/{self.total}] {self.title}"
                           f"{': ' + label if label else ''} | elapsed {format_seconds(self.elapsed)}, "
                           f"ETA {format_seconds(self.eta())}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
