"""Stream timing and rate helpers shared by every operator (a leaf module: imports only numpy).

* :func:`conv_out_dim`: the output size of a sliding window (ONNX, floor mode), the one
  statement of that formula;
* :func:`stream_rate`: elements per cycle between a producer and a consumer beat width;
* :func:`serve`, :func:`window_ready`, :func:`grid`: the pieces of the streaming latency
  model (qloom.dse.latency) from which each operator states its own rule
  (``HWOp.out_times``).
"""
from __future__ import annotations

import math

import numpy as np

LINK_LATENCY = 2  # cycles through a FIFO (and DWC) between two layers


def conv_out_dim(size: int, kernel: int, stride: int, pad_before: int, pad_after: int,
                 dilation: int = 1) -> int:
    """Output size of a convolution or pooling window (ONNX, floor mode)."""
    return (size + pad_before + pad_after - dilation * (kernel - 1) - 1) // stride + 1


def stream_rate(p_elems: int, q_elems: int) -> int:
    """Elements per cycle that pass between a producer emitting ``p_elems`` per beat and a
    consumer taking ``q_elems`` per beat: the narrower side when one width divides the
    other (one DWC), their gcd otherwise (two DWCs through the gcd width)."""
    if p_elems % q_elems == 0 or q_elems % p_elems == 0:
        return min(p_elems, q_elems)
    return math.gcd(p_elems, q_elems)


def serve(ready: np.ndarray, s: float) -> np.ndarray:
    """Finish times of in-order service, s cycles per granule:
    t[i] = max(ready[i], t[i-1]) + s, in closed form ``s*i + cummax(ready - s*i) + s``."""
    i = np.arange(len(ready), dtype=np.float64) * s
    return i + np.maximum.accumulate(ready - i) + s


def grid(shape) -> tuple[int, int, int]:
    """(H, W, C) of an image stream, or (1, 1, C) for a vector."""
    shp = tuple(int(v) for v in shape)
    if len(shp) == 3:
        return shp
    return 1, 1, int(np.prod(shp))


def window_ready(a_in, in_hw, out_hw, kernel, stride, pads, rows: bool) -> np.ndarray:
    """Ready time of each output window: its last needed input pixel (rows=False) or the
    end of its last needed input row (rows=True). ``a_in``: arrival cycle of each input
    pixel (H*W, raster order); pads (top, left, bottom, right)."""
    h, w = in_hw[:2]
    oh, ow = out_hw[:2]
    t, l = pads[0], pads[1]
    ry = np.clip(np.arange(oh) * stride[0] + kernel[0] - 1 - t, 0, h - 1)
    rx = np.clip(np.arange(ow) * stride[1] + kernel[1] - 1 - l, 0, w - 1)
    a = a_in.reshape(h, w)
    if rows:
        return np.repeat(a[ry, w - 1], ow)
    return a[ry[:, None], rx[None, :]].ravel()
