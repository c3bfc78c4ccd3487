"""FINN-R's memory-optimized (MO) architecture (Blott et al., ACM TRETS 2018, Sec. 3.2 and
the roofline of Sec. 3.3): one compute engine (an MVAU of PE x SIMD lanes with a sliding
window generator in front, a pooling and a thresholding unit) reused layer by layer; weights,
thresholds and feature maps live in off-chip DRAM and are streamed in tiles.

* :mod:`qloom.mo.layout`   the DRAM byte layout of tensors, weight words and thresholds;
* :mod:`qloom.mo.schedule` the schedule compiler: layer order, tiling, the descriptor
  stream and the DRAM image (``compile_schedule``, ``write_schedule``);
* :mod:`qloom.mo.engine`   the tile-by-tile emulator of the engine over a DRAM byte array
  (the MO executable specification; equals :func:`qloom.emulate.emulate`);
* :mod:`qloom.mo.model`    the cycle model (per tile max(compute, memory)), the engine's
  resource estimate and the search over engine sizes.
"""
from qloom.mo.schedule import Engine, Schedule, compile_schedule

__all__ = ["Engine", "Schedule", "compile_schedule"]
