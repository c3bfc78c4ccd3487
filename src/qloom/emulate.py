"""The bit-exact emulator: runs a hardware graph in numpy, integer arithmetic inside,
vectorized over the batch. It is qloom's executable specification; RTL simulation must
equal it, and it must equal the QONNX reference (qonnx ``execute_onnx``).
"""
from __future__ import annotations

import numpy as np

from qloom.errors import InputDataError
from qloom.ir import HWGraph


def check_input(graph: HWGraph, x: np.ndarray, what: str = "input") -> np.ndarray:
    """Validate a float input batch: float dtype, shape (N, *input_shape).

    Raises InputDataError (one line) otherwise, also for NaN or infinite values (the
    hardware has no encoding for them); returns ``x`` as float32.
    """
    want = tuple(graph.host_input.onnx_shape)
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        kind = getattr(x, "dtype", type(x))
        raise InputDataError(f"{what}: expected a float array of shape (N, {', '.join(map(str, want))}), got dtype {kind}")
    if x.ndim == len(want):  # a single frame
        x = x[None]
    if tuple(x.shape[1:]) != want or x.shape[0] < 1:
        raise InputDataError(f"{what}: expected shape (N, {', '.join(map(str, want))}), got {tuple(x.shape)}")
    bad = ~np.isfinite(x)
    if bad.any():
        frame = int(np.argwhere(bad)[0][0])
        raise InputDataError(f"{what}: {int(bad.sum()):,} values are NaN or infinite (first in frame "
                             f"{frame}); expected finite floats")
    if x.dtype.itemsize > 4 and (np.abs(x) > np.finfo(np.float32).max).any():
        raise InputDataError(f"{what}: values beyond float32's range (|x| > 3.4e38); expected finite "
                             "float32 values")
    return x.astype(np.float32, copy=False)


def run_stream(graph: HWGraph, q: np.ndarray, upto: int | None = None) -> np.ndarray:
    """Run the integer operators on an integer input stream (N, *stream_shape) and return
    the integer output stream of the graph (or of the ``upto``-th operator), following
    the graph's edges: each operator gets its producers' streams, in input order."""
    from qloom.ir import HOST

    nodes = graph.nodes if upto is None else graph.nodes[:upto]
    want = graph.last.name if upto is None else nodes[-1].name
    streams = {HOST: q}
    left = {}  # readers still to come: a stream is dropped after its last one
    for op in nodes:
        for p in graph.producers(op.name):
            left[p] = left.get(p, 0) + 1
    for op in nodes:
        xs = []
        for p, shp in zip(graph.producers(op.name), op.in_shapes):
            x = streams[p]
            # a stream is a flat sequence per frame: each operator sees it in its own shape
            xs.append(x.reshape((len(x),) + tuple(shp)))
            left[p] -= 1
            if left[p] == 0 and p != want:
                del streams[p]
        streams[op.name] = op.execute(*xs)
    return streams[want]


WORKING_SET = 1 << 22  # elements of the widest stream per batch: keeps temporaries in cache


def emulate(graph: HWGraph, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
    """Emulate ``graph`` on float input ``x`` (N, *model input shape) in batches.

    ``batch_size`` defaults to what keeps the widest stream of a batch near
    ``WORKING_SET`` elements (memory bandwidth, not arithmetic, bounds the emulator).
    Returns what the QONNX model outputs: float32 values in the model's output units, or
    int64 indices when the model ends in ArgMax/TopK.
    """
    x = check_input(graph, x)
    if batch_size is None:
        widest = max([int(np.prod(op.out_shape)) for op in graph.nodes] + [1])
        batch_size = max(1, WORKING_SET // widest)
    outs = []
    for i in range(0, len(x), batch_size):
        q = graph.host_input(x[i : i + batch_size])
        outs.append(graph.host_output(run_stream(graph, q)))
    return np.concatenate(outs, axis=0)
