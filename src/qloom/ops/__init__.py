"""Hardware operators. Each module holds one operator: its numpy semantics, folding knobs,
stream shapes and (as the back ends grow) its cycle model, resource model and RTL emission.

Operator names follow FINN-R / FINN: MVAU, VVAU, SWG, StreamingMaxPool, SumPool (average
pooling without the division, which moves into thresholds), Thresholding, LabelSelect.
"""
from qloom.ops.base import HWOp, apply_thresholds
from qloom.ops.labelselect import LabelSelect
from qloom.ops.mvau import MVAU, VVAU
from qloom.ops.pool import StreamingMaxPool, SumPool
from qloom.ops.swg import SWG
from qloom.ops.thresholding import Thresholding

__all__ = [
    "HWOp", "apply_thresholds", "MVAU", "VVAU", "SWG", "StreamingMaxPool", "SumPool",
    "Thresholding", "LabelSelect",
]
