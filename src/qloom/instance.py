"""The RTL instance record and the $readmemh text format (a leaf module).

An operator describes its Verilog instance as an :class:`RtlInstance`; the top generator
(qloom.rtl.generate), the resource models (qloom.ops) and the synthesis runner read it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class RtlInstance:
    """How one operator (or FIFO, DWC) is instantiated in the generated Verilog top.

    module : Verilog module name in ``qloom/rtl/verilog``; params : its parameters;
    in_bits/out_bits : stream element widths (bits); out_signed : how the output
    elements are read (``in_bits_each``: per input of a multi-input operator); make_files : builds the memory-initialisation files
    {file name: $readmemh text} (lazily: the design-space search never needs them).
    """

    module: str
    params: dict
    in_bits: int
    out_bits: int
    out_signed: bool
    make_files: Callable[[], dict] | None = field(default=None, compare=False)
    file_names: tuple = ()
    in_bits_each: tuple = ()  # element widths per input stream of a join (default: (in_bits,))
    library: str = ""
    # the memory files the resource model reads when given none (the thresholds: cheap to
    # build, and Yosys constant-folds their comparators; qloom.ops.estimate_instance)
    model_files: Callable[[], dict] | None = field(default=None, compare=False)
    # modules of the generated sources that synthesis runs alone and sums (the stage itself
    # is then read with QLOOM_SYNTH_BLACKBOX defined, those modules as black boxes)
    synth_parts: tuple = ()

    @property
    def library_module(self) -> str:
        """The library module (in ``qloom/rtl/verilog``) this instance's sources and resource
        model come from: ``library`` for a generated module, else ``module``."""
        return self.library or self.module

    @property
    def generated_sources(self) -> tuple:
        """Names of the generated Verilog files among ``file_names`` (compiled with the
        library sources; the other files are memory images)."""
        return tuple(f for f in self.file_names if f.endswith(".v"))

    @property
    def inputs_bits(self) -> tuple:
        """Element width (bits) of each input stream, in input order."""
        return tuple(self.in_bits_each) or (self.in_bits,)

    @property
    def files(self) -> dict:
        return self.make_files() if self.make_files else {}


def pack_field(v: int, bits: int, what: str) -> int:
    """``v`` as a ``bits``-bit two's complement field; ValueError when it does not fit."""
    v = int(v)
    if not -(1 << (bits - 1)) <= v < (1 << bits):
        raise ValueError(f"{what} value {v} does not fit {bits} bits")
    return v & ((1 << bits) - 1)


def memh_text(words, width: int) -> str:
    """$readmemh text: one zero-padded hex word per line."""
    nd = max(1, (width + 3) // 4)
    return "".join(format(int(w), f"0{nd}x") + "\n" for w in words)


def write_memh(path: str | os.PathLike, words, width: int) -> None:
    with open(path, "w") as f:
        f.write(memh_text(words, width))
