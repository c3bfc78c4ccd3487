"""Benchmark networks: the FINN-R / BNN-PYNQ topologies from ``brevitas_examples.bnn_pynq``
(CNV, LFC, SFC, TFC at 1w1a, 1w2a, 2w2a), exported as QONNX.

Pretrained weights would be downloaded from the internet, which qloom never does: these
models carry random weights and non-trivial batch-norm statistics (scaled to each layer's
fan-in so that activations are not saturated). Hardware figures (cycles, resources) do not
depend on the weight values; accuracy numbers do, and none are claimed for them.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

BNN_PYNQ = tuple(f"{t}_{p}" for t in ("cnv", "lfc", "sfc", "tfc") for p in ("1w1a", "1w2a", "2w2a"))


def input_shape(name: str) -> tuple[int, ...]:
    """Per-frame input shape (C, H, W) of a BNN-PYNQ topology: CIFAR-10 or MNIST."""
    return (3, 32, 32) if name.startswith("cnv") else (1, 28, 28)


def build_bnn_pynq(name: str, seed: int = 0):
    """The torch module of a BNN-PYNQ topology with random weights and batch-norm stats."""
    import torch
    from brevitas_examples.bnn_pynq.models import model_with_cfg

    if name not in BNN_PYNQ:
        raise ValueError(f"unknown BNN-PYNQ topology {name!r}; expected one of {', '.join(BNN_PYNQ)}")
    torch.manual_seed(seed)
    model, _ = model_with_cfg(name, pretrained=False)
    g = torch.Generator().manual_seed(seed)
    for mod in model.modules():
        if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            c = mod.num_features
            mod.weight.data = torch.rand(c, generator=g) * 1.5 + 0.2
            mod.bias.data = torch.randn(c, generator=g) * 0.5
            mod.running_mean.data = torch.randn(c, generator=g) * 4.0
            mod.running_var.data = torch.rand(c, generator=g) * 40.0 + 4.0
    return model.eval()


def export_bnn_pynq(name: str, path: str | os.PathLike, seed: int = 0) -> Path:
    """Export a BNN-PYNQ topology to QONNX at ``path`` (weights in ``path``.data)."""
    import torch
    from brevitas.export import export_qonnx

    model = build_bnn_pynq(name, seed)
    path = Path(path)
    with warnings.catch_warnings(), open(os.devnull, "w") as devnull:
        warnings.simplefilter("ignore")
        import contextlib

        with contextlib.redirect_stdout(devnull), contextlib.redirect_stderr(devnull):
            export_qonnx(model, torch.zeros((1,) + input_shape(name)), str(path))
    return path


def export_to_temp(name: str, seed: int = 0) -> Path:
    """Export into a fresh temporary folder; returns the model path."""
    d = Path(tempfile.mkdtemp(prefix=f"qloom_{name}_"))
    return export_bnn_pynq(name, d / f"{name}.onnx", seed)
