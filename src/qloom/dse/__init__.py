"""Design-space exploration: folding (PE/SIMD per layer) and the models that guide it."""
from qloom.dse.folding import (default_folding, fold_for_target, graph_cycles, load_folding,
                               validate_folding)

__all__ = ["default_folding", "fold_for_target", "graph_cycles", "load_folding", "validate_folding"]
