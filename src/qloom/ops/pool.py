"""Pooling: StreamingMaxPool and SumPool (average pooling without its division).

The division of an average pool by the window size K*K is a scale; streamlining moves it
into the thresholds (or the output de-scaling) behind the SumPool, so hardware only adds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.ops.base import HWOp, RtlInstance, divisors


def _window_cycles(op, fold) -> int:
    """max(OFM_H*OFM_W*K_H*K_W*C, IFM_H*IFM_W*C) / PE: the window stream and the input
    stream run concurrently, one beat each per cycle (qloom_swg inside)."""
    kh, kw = op.kernel
    oh, ow, c = op.out_shape
    h, w, _ = op.in_shape
    return max(oh * ow * kh * kw * c, h * w * c) // int(fold.get("PE", 1))


def _pool_out_times(op, fold, a_in):
    """qloom_maxpool / qloom_sumpool (qloom_swg + reduction): an output row starts once its
    last input row is in, ~8 cycles later, K_H*K_W*C/PE beats per window; the
    pixel-streaming qloom_maxpool_pw reduces a window 3 cycles after its last pixel."""
    from qloom.dse.latency import serve, window_ready

    pw = int(fold.get("parallel_window", 0))
    ready = window_ready(a_in, op.in_shape, op.out_shape, op.kernel, op.stride, op.pads, rows=not pw)
    if pw:
        return serve(ready + 3, 1.0)
    return serve(ready + 8, op.kernel[0] * op.kernel[1] * op.in_shape[-1] / int(fold.get("PE", 1)))


def _pool_params(op, fold) -> dict:
    h, w, c = op.in_shape
    return dict(IFM_DIM_H=h, IFM_DIM_W=w, CHANNELS=c, PE=int(fold.get("PE", 1)),
                K_H=op.kernel[0], K_W=op.kernel[1], S_H=op.stride[0], S_W=op.stride[1],
                ELEM_BITS=op.in_type.bits, SIGNED=int(op.in_type.signed and not op.in_type.bipolar),
                RAM_STYLE=fold.get("ram_style", "auto"))


def _windows(x, kernel, stride, pads, pad_value, out_hw):
    t, l, b, r = pads
    if any(pads):
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=pad_value)
    win = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(1, 2))
    oh, ow = out_hw
    return win[:, : (oh - 1) * stride[0] + 1 : stride[0], : (ow - 1) * stride[1] + 1 : stride[1]]


@dataclass(frozen=True, eq=False)
class StreamingMaxPool(HWOp):
    """Max over KH x KW windows per channel. ``(H, W, C)`` -> ``(OH, OW, C)``.

    Padding (ONNX pads, or ceil mode turned into extra bottom/right padding) uses the
    input type's minimum, which never wins a max.
    """

    op_type: ClassVar[str] = "StreamingMaxPool"

    kernel: tuple[int, int] = (2, 2)
    stride: tuple[int, int] = (2, 2)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)

    def execute(self, x: np.ndarray) -> np.ndarray:
        win = _windows(x, self.kernel, self.stride, self.pads, self.in_type.min, self.out_shape[:2])
        return win.max(axis=(-2, -1))

    def knobs(self) -> dict[str, list[int]]:
        """PE: channels per beat; parallel_window: 1 = pixel-streaming (a whole pixel per
        beat, the window reduced in the cycle it completes; only with PE = C)."""
        return {"PE": divisors(self.fold_channels), "parallel_window": [0, 1]}

    def legal(self, fold: dict) -> bool:
        return not int(fold.get("parallel_window", 0)) or int(fold.get("PE", 1)) == self.fold_channels

    def out_times(self, fold: dict, a_in: np.ndarray) -> np.ndarray:
        return _pool_out_times(self, fold, a_in)

    def cycles(self, fold: dict) -> int:
        if int(fold.get("parallel_window", 0)):
            return int(self.in_shape[0]) * int(self.in_shape[1])  # one input pixel per cycle
        return _window_cycles(self, fold)

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_maxpool`` (qloom_swg + max reduction over K_H*K_W*C/PE beats), or with
        ``parallel_window`` ``qloom_maxpool_pw`` (qloom_swg_pw + a comparator tree per
        channel); bipolar elements compare as bits."""
        from qloom.errors import QloomError

        if any(self.pads):
            raise QloomError(f"layer {self.name}: padded (or ceil-mode) max-pooling has no RTL yet")
        t = self.in_type
        p = _pool_params(self, fold)
        module = "qloom_maxpool"
        if int(fold.get("parallel_window", 0)):
            if not self.legal(fold):
                raise QloomError(f"layer {self.name}: parallel_window needs PE = {self.fold_channels}")
            del p["PE"]
            module = "qloom_maxpool_pw"
        return RtlInstance(module, p, t.bits, t.bits, t.signed and not t.bipolar)

    def describe(self) -> str:
        return f"k={self.kernel[0]}x{self.kernel[1]} s={self.stride[0]}x{self.stride[1]}"


@dataclass(frozen=True, eq=False)
class SumPool(HWOp):
    """Sum over KH x KW windows per channel (zero padding). ``(H, W, C)`` -> ``(OH, OW, C)``."""

    op_type: ClassVar[str] = "SumPool"

    kernel: tuple[int, int] = (2, 2)
    stride: tuple[int, int] = (2, 2)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)

    def execute(self, x: np.ndarray) -> np.ndarray:
        win = _windows(x, self.kernel, self.stride, self.pads, 0, self.out_shape[:2])
        return win.sum(axis=(-2, -1), dtype=np.int64)

    def out_times(self, fold: dict, a_in: np.ndarray) -> np.ndarray:
        return _pool_out_times(self, fold, a_in)

    def cycles(self, fold: dict) -> int:
        return _window_cycles(self, fold)

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_sumpool`` (qloom_swg + sum reduction), zero padding."""
        if self.in_type.bipolar:
            from qloom.errors import QloomError

            raise QloomError(f"layer {self.name}: sum-pooling of bipolar values has no RTL yet")
        t, l, b, r = self.pads
        p = dict(_pool_params(self, fold), PAD_T=t, PAD_B=b, PAD_L=l, PAD_R=r,
                 OUT_BITS=self.out_type.bits)
        return RtlInstance("qloom_sumpool", p, self.in_type.bits, self.out_type.bits,
                           self.out_type.signed)

    @property
    def macs(self) -> int:
        return int(np.prod(self.out_shape, dtype=np.int64)) * self.kernel[0] * self.kernel[1]

    def describe(self) -> str:
        return f"k={self.kernel[0]}x{self.kernel[1]} s={self.stride[0]}x{self.stride[1]}"
