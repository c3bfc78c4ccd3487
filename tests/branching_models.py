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


class ResNet8(nn.Module):
    """The MLPerf Tiny image-classification ResNet-8 shape (Banbury et al., "MLPerf Tiny
    Benchmark", NeurIPS 2021 datasets track: 32x32x3 input, a 3x3 conv of 16 channels,
    three residual stacks of 16, 32 and 64 channels (the last two stride 2 with a 1x1
    stride-2 projection on the skip), global average pool, a 10-way dense layer), quantized
    with power-of-two scales so each Add aligns its branches with a shift. ``width`` (and a
    smaller input) shrink it for quick simulations."""

    def __init__(self, width: int = 16, *, bits: int = 4, classes: int = 10):
        import brevitas.nn as qnn

        super().__init__()
        pot = True
        self.inp = input_quant("uint", 8, pot=pot)
        self.stem = nn.Sequential(*conv_block(3, width, k=3, pad=1, bn="pos", act=("relu", bits, pot)))
        self.stacks = nn.ModuleList()
        c = width
        for i, mult in enumerate((1, 2, 4)):
            o, s = width * mult, 1 if i == 0 else 2
            st = nn.Module()
            st.c1 = nn.Sequential(*conv_block(c, o, k=3, stride=s, pad=1, bn="pos", act=("relu", bits, pot)))
            st.c2 = nn.Sequential(*conv_block(o, o, k=3, pad=1, bn="pos", act=None))
            st.q2 = quant_act("int", bits + 1, pot=pot)
            st.proj = (nn.Sequential(*conv_block(c, o, k=1, stride=s, bn="pos", act=None),
                                     quant_act("int", bits + 1, pot=pot)) if s != 1 or c != o else None)
            st.out = quant_act("relu", bits, pot=pot)
            self.stacks.append(st)
            c = o
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = qnn.QuantLinear(c, classes, bias=True, weight_bit_width=bits)

    def forward(self, x):
        x = self.stem(self.inp(x))
        for st in self.stacks:
            y = st.q2(st.c2(st.c1(x)))
            s = st.proj(x) if st.proj is not None else x
            x = st.out(_v(y) + _v(s))
        return self.fc(torch.flatten(self.pool(_v(x)), 1))


class InvertedResidual(nn.Module):
    """A MobileNet-v2 inverted residual block (Sandler et al., CVPR 2018, Fig. 3b / Table 1):
    1x1 expansion conv-BN-ReLU6(q), 3x3 depthwise conv-BN-ReLU6(q), 1x1 linear projection
    conv-BN(q), + identity skip (stride 1, equal channels), behind a quantized stem."""

    def __init__(self, c: int = 8, t: int = 4, *, bits: int = 4):
        super().__init__()
        pot = True
        self.inp = input_quant("uint", 8, pot=pot)
        self.stem = nn.Sequential(*conv_block(3, c, k=3, pad=1, bn="pos", act=("uint", bits, pot)))
        self.expand = nn.Sequential(*conv_block(c, c * t, k=1, bn="pos", act=("relu", bits, pot)))
        self.dw = nn.Sequential(*conv_block(c * t, k=3, pad=1, depthwise=True, bn="pos", act=("relu", bits, pot)))
        self.project = nn.Sequential(*conv_block(c * t, c, k=1, bn="neg", act=None))
        self.q = quant_act("int", bits + 1, pot=pot)
        self.out = quant_act("int", bits + 1, pot=pot)

    def forward(self, x):
        x = self.stem(self.inp(x))
        y = self.q(self.project(self.dw(self.expand(x))))
        return _v(self.out(_v(y) + _v(x)))


class UnquantizedBranchBlock(nn.Module):
    """A torchvision-style basic block in Brevitas with no quantizer on the residual branch
    before the Add: input quant -> stem conv3x3-BN-ReLU(q) -> x; x -> conv3x3 [-> BN] (no
    quantizer) + x -> Add -> QuantReLU. Power-of-two scales on the stem's activation and the
    branch's weights (``pot``): the branch's reals are accumulator * 2^k (+ the conv bias),
    so the Add aligns exactly. ``bn``: a batch norm on the branch (per-channel multipliers:
    no exact alignment)."""

    def __init__(self, c_in: int = 3, c: int = 6, *, bits: int = 4, bn: bool = False, pot: bool = True):
        import brevitas.nn as qnn

        from brevitas_models import weight_kwargs

        super().__init__()
        self.inp = input_quant("uint", 8, pot=True)
        self.stem = nn.Sequential(*conv_block(c_in, c, k=3, pad=1, bn="pos", act=("relu", bits, True)))
        self.conv = qnn.QuantConv2d(c, c, 3, padding=1, bias=True, **weight_kwargs(bits, pot=pot))
        self.bn = nn.BatchNorm2d(c) if bn else None
        self.out = quant_act("relu", bits, pot=True)

    def forward(self, x):
        x = _v(self.stem(self.inp(x)))
        y = self.conv(x)
        if self.bn is not None:
            y = self.bn(_v(y))
        return _v(self.out(_v(y) + x))


class ResNet18(nn.Module):
    """The CIFAR-10 ResNet-18 shape (He et al., "Deep Residual Learning for Image
    Recognition", CVPR 2016, Table 1's 18-layer network with the CIFAR stem of Sec. 4.2: a
    3x3 conv of 64 channels on the 32x32x3 input, no max-pool), W4A4: four stages of two
    basic blocks (conv3x3-BN-ReLU, conv3x3-BN, + skip, ReLU) of 64, 128, 256 and 512
    channels, the first block of stages 2-4 stride 2 with a 1x1 stride-2 projection conv on
    the skip, global average pool, a 10-way dense layer: about 11.2M weights. Power-of-two
    scales so each Add aligns its branches with a shift (as :class:`ResNet8`). ``width``
    and ``blocks`` shrink it (64 and 2: the real shape)."""

    def __init__(self, width: int = 64, *, blocks: int = 2, bits: int = 4, classes: int = 10):
        import brevitas.nn as qnn

        super().__init__()
        pot = True
        self.inp = input_quant("uint", 8, pot=pot)
        self.stem = nn.Sequential(*conv_block(3, width, k=3, pad=1, bn="pos", act=("relu", bits, pot)))
        self.blocks = nn.ModuleList()
        c = width
        for i, mult in enumerate((1, 2, 4, 8)):
            o = width * mult
            for j in range(blocks):
                s = 2 if i and not j else 1
                b = nn.Module()
                b.c1 = nn.Sequential(*conv_block(c, o, k=3, stride=s, pad=1, bn="pos", act=("relu", bits, pot)))
                b.c2 = nn.Sequential(*conv_block(o, o, k=3, pad=1, bn="pos", act=None))
                b.q2 = quant_act("int", bits + 1, pot=pot)
                b.proj = (nn.Sequential(*conv_block(c, o, k=1, stride=s, bn="pos", act=None),
                                        quant_act("int", bits + 1, pot=pot)) if s != 1 or c != o else None)
                b.out = quant_act("relu", bits, pot=pot)
                self.blocks.append(b)
                c = o
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = qnn.QuantLinear(c, classes, bias=True, weight_bit_width=bits)

    def forward(self, x):
        x = self.stem(self.inp(x))
        for b in self.blocks:
            y = b.q2(b.c2(b.c1(x)))
            s = b.proj(x) if b.proj is not None else x
            x = b.out(_v(y) + _v(s))
        return self.fc(torch.flatten(self.pool(_v(x)), 1))
