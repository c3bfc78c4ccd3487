"""SWG: the sliding window generator (im2col as a stream; FINN-R Sec. 4.1, "Convolution
Input Generator"). It lowers a convolution to a matrix product for the MVAU/VVAU behind it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from qloom.ops.base import HWOp, RtlInstance, divisors


def conv_out_dim(size: int, kernel: int, stride: int, pad_before: int, pad_after: int,
                 dilation: int = 1) -> int:
    """Output size of a convolution or pooling window (ONNX, floor mode)."""
    return (size + pad_before + pad_after - dilation * (kernel - 1) - 1) // stride + 1


@dataclass(frozen=True, eq=False)
class SWG(HWOp):
    """Sliding window generator.

    Input ``(H, W, C)`` NHWC; output ``(OH, OW, KH*KW*C)``: for each output pixel in raster
    order, its window in (ky, kx, c) order, c innermost. Padding inserts the integer
    ``pad_value`` (0: the real value 0 when the zero point is 0).

    kernel, stride, dilation : (h, w); pads : (top, left, bottom, right) in pixels.
    """

    op_type: ClassVar[str] = "SWG"

    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    dilation: tuple[int, int] = (1, 1)
    pad_value: int = 0

    def execute(self, x: np.ndarray) -> np.ndarray:
        t, l, b, r = self.pads
        if any(self.pads):
            x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=self.pad_value)
        kh, kw = self.kernel
        sh, sw = self.stride
        dh, dw = self.dilation
        oh, ow = self.out_shape[0], self.out_shape[1]
        win = np.lib.stride_tricks.sliding_window_view(
            x, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(1, 2))
        # win: (N, H', W', C, kh_span, kw_span)
        win = win[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw, :, ::dh, ::dw]
        win = win.transpose(0, 1, 2, 4, 5, 3)  # (N, OH, OW, kh, kw, C)
        return np.ascontiguousarray(win).reshape(x.shape[0], oh, ow, -1)

    @property
    def fold_channels(self) -> int:
        return int(self.in_shape[-1])

    def knobs(self) -> dict[str, list[int]]:
        """SIMD: channels per input beat; parallel_window: 1 = a whole window per output
        beat (FINN's ``parallel_window``; only with SIMD = C), 0 = one SIMD slice of a window
        per beat."""
        return {"SIMD": divisors(self.fold_channels), "parallel_window": [0, 1]}

    def legal(self, fold: dict) -> bool:
        return not int(fold.get("parallel_window", 0)) or int(fold.get("SIMD", 1)) == self.fold_channels

    def in_elems(self, fold: dict) -> int:
        return int(fold.get("SIMD", 1))

    def out_elems(self, fold: dict) -> int:
        if int(fold.get("parallel_window", 0)):
            return int(self.out_shape[-1])  # KH * KW * C
        return int(fold.get("SIMD", 1))

    def cycles(self, fold: dict) -> int:
        """Serial window: output-bound OH * OW * KH * KW * C / SIMD beats, or input-bound
        H * W * C / SIMD. Parallel window: one padded input position per cycle,
        (H + pad_t + pad_b) * (W + pad_l + pad_r) (qloom.rtl.cycles.cycles_swg_pw)."""
        if int(fold.get("parallel_window", 0)):
            h, w, _ = self.in_shape
            t, l, b, r = self.pads
            return (h + t + b) * (w + l + r)
        simd = int(fold.get("SIMD", 1))
        return max(int(np.prod(self.out_shape, dtype=np.int64)), int(np.prod(self.in_shape, dtype=np.int64))) // simd

    def out_times(self, fold: dict, a_in: np.ndarray) -> np.ndarray:
        """Serial window (qloom_swg): an output row starts once its last input row is in,
        ~4 cycles later, and a window takes KH*KW*C/SIMD beats. Parallel window
        (qloom_swg_pw): one padded position scanned per cycle (a real one waits for its
        pixel), a window leaves the cycle after its last position."""
        from qloom.dse.latency import serve, window_ready
        from qloom.rtl.cycles import swg_pw_window_pos

        h, w, _ = self.in_shape
        t, l, b, r = self.pads
        if int(fold.get("parallel_window", 0)):
            grid = np.full((h + t + b, w + l + r), -np.inf)
            grid[t:t + h, l:l + w] = a_in.reshape(h, w)
            scan = serve(grid.ravel() - 1, 1.0)  # the cycle each position is scanned
            pos = swg_pw_window_pos(h, w, K_H=self.kernel[0], K_W=self.kernel[1], S_H=self.stride[0],
                                    S_W=self.stride[1], PAD_T=t, PAD_B=b, PAD_L=l, PAD_R=r)
            return scan[np.asarray(pos)] + 1
        ready = window_ready(a_in, self.in_shape, self.out_shape, self.kernel, self.stride, self.pads, rows=True)
        return serve(ready + 4, self.out_shape[-1] / int(fold.get("SIMD", 1)))

    def parallelism(self, fold: dict) -> int:
        return self.out_elems(fold)

    def rtl(self, fold: dict) -> RtlInstance:
        """``qloom_swg`` (rtl/verilog/qloom_swg.v): a line buffer of whole input rows, one
        SIMD slice of a window per beat; with ``parallel_window`` ``qloom_swg_pw``
        (qloom_swg_pw.v): K_H - 1 line buffers and a window register, one window per beat."""
        from qloom.errors import QloomError

        if self.dilation != (1, 1):
            raise QloomError(f"layer {self.name}: dilated convolutions have no RTL yet")
        h, w, c = self.in_shape
        t, l, b, r = self.pads
        p = dict(IFM_DIM_H=h, IFM_DIM_W=w, CHANNELS=c, SIMD=int(fold.get("SIMD", 1)),
                 K_H=self.kernel[0], K_W=self.kernel[1], S_H=self.stride[0], S_W=self.stride[1],
                 PAD_T=t, PAD_B=b, PAD_L=l, PAD_R=r, ELEM_BITS=self.in_type.bits,
                 RAM_STYLE=fold.get("ram_style", "auto"))
        module = "qloom_swg"
        if int(fold.get("parallel_window", 0)):
            if not self.legal(fold):
                raise QloomError(f"layer {self.name}: parallel_window needs SIMD = {c} (all channels)")
            del p["SIMD"]
            module = "qloom_swg_pw"
        return RtlInstance(module, p, self.in_type.bits, self.in_type.bits,
                           self.in_type.signed and not self.in_type.bipolar)

    def describe(self) -> str:
        return (f"k={self.kernel[0]}x{self.kernel[1]} s={self.stride[0]}x{self.stride[1]} "
                f"pad={','.join(map(str, self.pads))}")
