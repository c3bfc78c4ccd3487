"""Brevitas models with branches for tests/test_branching.py: a ResNet-style residual block
(conv-BN-ReLU-conv-BN + identity skip, both branches quantized, Add, quantized ReLU) and a
channel-concatenation network (two conv branches, Concat, quantized ReLU, 1x1 conv)."""
from __future__ import annotations

import torch
import torch.nn as nn

from brevitas_models import conv_block, input_quant, quant_act


def _v(t):
    return getattr(t, "value", t)


class ResidualBlock(nn.Module):
    """input quant -> stem conv3x3-BN-ReLU(q) -> [conv3x3-BN-ReLU(q) -> conv3x3-BN -> q]
    + identity skip -> Add -> ReLU(q) [-> a second block]. ``align``: "pot" (power-of-two
    scales on the two branches: a shift-add), "shared" (one quantizer module on both
    branches: equal scales), "float" (independent float scales: large integer weights)."""

    def __init__(self, c_in: int = 3, c: int = 8, *, bits: int = 4, align: str = "pot",
                 blocks: int = 1, head: bool = False):
        super().__init__()
        pot = align == "pot"
        self.inp = input_quant("uint", 8, pot=pot)
        self.stem = nn.Sequential(*conv_block(c_in, c, k=3, pad=1, bn="pos", act=("relu", bits, pot)))
        self.blocks = nn.ModuleList()
        for _ in range(blocks):
            b = nn.Module()
            b.c1 = nn.Sequential(*conv_block(c, c, k=3, pad=1, bn="pos", act=("relu", bits, pot)))
            b.c2 = nn.Sequential(*conv_block(c, c, k=3, pad=1, bn="neg", act=None))
            b.q2 = quant_act("int", bits + 1, pot=pot)
            b.skipq = b.q2 if align == "shared" else None
            b.out = quant_act("relu", bits, pot=pot)
            self.blocks.append(b)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  *[__import__("brevitas.nn", fromlist=["QuantLinear"]).QuantLinear(
                                      c, 10, bias=True, weight_bit_width=4)]) if head else None

    def forward(self, x):
        x = self.stem(self.inp(x))
        for b in self.blocks:
            y = b.q2(b.c2(b.c1(x)))
            s = b.skipq(x) if b.skipq is not None else x
            x = b.out(_v(y) + _v(s))
        return _v(self.head(_v(x))) if self.head is not None else _v(x)


class ConcatNet(nn.Module):
    """input quant -> stem conv3x3-ReLU(q) -> {conv1x1-BN-ReLU(q), conv3x3-BN-ReLU(q)} ->
    Concat(channels) -> ReLU(q) -> conv1x1 (output)."""

    def __init__(self, c_in: int = 3, c: int = 6, ca: int = 4, cb: int = 6, *, bits: int = 4):
        super().__init__()
        self.inp = input_quant("uint", 8)
        self.stem = nn.Sequential(*conv_block(c_in, c, k=3, pad=1, bn="pos", act=("relu", bits)))
        self.a = nn.Sequential(*conv_block(c, ca, k=1, bn="pos", act=("relu", bits)))
        self.b = nn.Sequential(*conv_block(c, cb, k=3, pad=1, bn="neg", act=("relu", bits - 1)))
        self.q = quant_act("relu", bits)
        self.out = nn.Sequential(*conv_block(ca + cb, 5, k=1, act=None))

    def forward(self, x):
        x = self.stem(self.inp(x))
        y = torch.cat([_v(self.a(x)), _v(self.b(x))], dim=1)
        return _v(self.out(self.q(y)))
