"""Resource-model library: exact replays of Yosys' mapping rules (:mod:`qloom.cost.replay`),
the :class:`~qloom.cost.parts.Parts` inventory and the fitted LUT coefficients per family
(:mod:`qloom.cost.parts`, data in ``coef/*.json``). The models of each Verilog module live
with their operator in :mod:`qloom.ops`."""
from qloom.cost.parts import FAMILIES, KEYS, Parts, coefficients, lut_of, result
from qloom.cost.replay import Mem, MemMapping, map_memory, mem_cost, mul_dsps, mux_luts

__all__ = ["FAMILIES", "KEYS", "Parts", "coefficients", "lut_of", "result", "Mem", "MemMapping",
           "map_memory", "mem_cost", "mul_dsps", "mux_luts"]
