"""Lowering: a cleaned QONNX graph -> the integer hardware graph (:class:`qloom.ir.HWGraph`).

One walk over the graph (``walk.py``) tracks, for every dynamic tensor, how the reference's
float tensor relates to the integer stream in hardware (``state.py``), and hands each node
to the handler of its op family, listed in :data:`HANDLERS`:

* ``linear.py``: MatMul, Gemm, Conv -> MVAU / VVAU (+ SWG), and the weight quantizers;
* ``pool.py``: MaxPool, AveragePool, GlobalAveragePool, ReduceMean -> pools;
* ``elementwise.py``: Add/Sub/Mul/Div, BatchNormalization, Relu, ... collected in the
  float program, and the activation quantizers that turn it into thresholds;
* ``layout.py``: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Identity, Dropout;
* ``output.py``: ArgMax/TopK -> LabelSelect, and the host output.
"""
from qloom.passes.lower.walk import HANDLERS, Lowering, lower_model, unsupported_message

__all__ = ["HANDLERS", "Lowering", "lower_model", "unsupported_message"]
