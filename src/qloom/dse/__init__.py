"""Design-space exploration: folding (PE/SIMD per layer) and the models that guide it.

Imports run one way: latency (streaming latency model) <- folding (folding.json, stream rates,
graph cycles) <- search (per-layer Pareto fronts, target-FPS search, default folding)."""
from qloom.dse.folding import graph_cycles, load_folding, validate_folding
from qloom.dse.search import default_folding, fold_for_target

__all__ = ["default_folding", "fold_for_target", "graph_cycles", "load_folding", "validate_folding"]
