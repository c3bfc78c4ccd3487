"""The model zoo of qloom's seed benchmarks: named QONNX models, see :data:`ZOO`.

* BNN-PYNQ / FINN-R topologies from ``brevitas_examples.bnn_pynq`` (CNV, LFC, SFC, TFC at
  1w1a, 1w2a, 2w2a). Pretrained weights would be downloaded from the internet, which qloom
  never does: these models carry random weights and non-trivial batch-norm statistics
  (scaled to each layer's fan-in so that activations are not saturated).
* hls4ml benchmark topologies (Aarrestad et al. 2021 SVHN CNN; the jet-tagging MLP of
  Duarte et al. 2018 / Coelho et al. 2021) at 6-bit weights and activations, trained with
  Brevitas QAT by ``scripts/train_zoo.py``. Real SVHN and jet data do not ship in any
  package, so they are trained on scikit-learn's digits as a stand-in (see
  :func:`svhn_frames`, :func:`jet_features`); their accuracies are NOT comparable to the
  papers' numbers.
* ``digits_w4a4``, the embedded model of ``qloom demo`` (``scripts/train_digits.py``).

Hardware figures (cycles, resources) do not depend on the weight values; accuracy numbers
do, and none are claimed for the random-weight models.

    from qloom.zoo import ZOO, zoo_export, sample_input
    path = zoo_export("svhn_w6a6", "svhn.onnx")
    x = sample_input("svhn_w6a6", 8)      # real (digits-derived) frames, or random ones
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from qloom.errors import QloomError
from qloom.fileio import write_atomic

BNN_PYNQ = tuple(f"{t}_{p}" for t in ("cnv", "lfc", "sfc", "tfc") for p in ("1w1a", "1w2a", "2w2a"))


def input_shape(name: str) -> tuple[int, ...]:
    """Per-frame input shape of a zoo model, e.g. (C, H, W); for a BNN-PYNQ topology
    CIFAR-10 (3, 32, 32) or MNIST (1, 28, 28)."""
    if name in globals().get("ZOO", {}):
        return ZOO[name].input_shape
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


@contextlib.contextmanager
def _quiet():
    """Silence the exporters' warnings and console noise (torch dynamo, brevitas)."""
    with warnings.catch_warnings(), open(os.devnull, "w") as devnull:
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(devnull), contextlib.redirect_stderr(devnull):
            yield


def export_bnn_pynq(name: str, path: str | os.PathLike, seed: int = 0) -> Path:
    """Export a BNN-PYNQ topology to QONNX at ``path`` (weights in ``path``.data)."""
    import torch
    from brevitas.export import export_qonnx

    model = build_bnn_pynq(name, seed)
    path = Path(path)
    with _quiet():
        export_qonnx(model, torch.zeros((1,) + input_shape(name)), str(path))
    return path


def export_to_temp(name: str, seed: int = 0) -> Path:
    """Export into a fresh temporary folder; returns the model path."""
    d = Path(tempfile.mkdtemp(prefix=f"qloom_{name}_"))
    return export_bnn_pynq(name, d / f"{name}.onnx", seed)


def export_self_contained(model, example, out: str | os.PathLike) -> Path:
    """Export a Brevitas module as ONE self-contained QONNX file at ``out``, atomically.

    ``brevitas.export.export_qonnx`` (torch dynamo exporter) writes the weights to
    ``MODEL.onnx.data`` and also lists every initializer as a graph input; this exports into
    a temporary folder, loads the result with its weights, keeps only the real inputs (so
    runtimes treat weights as constants), checks it and renames it into place.
    ``example``: an input tensor with a batch dimension of 1.
    """
    import onnx
    from brevitas.export import export_qonnx

    out = Path(out)
    model.eval()
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "model.onnx")
        with _quiet():
            export_qonnx(model, example, raw)
        m = onnx.load(raw)  # also pulls in model.onnx.data
    init_names = {t.name for t in m.graph.initializer}
    real_inputs = [i for i in m.graph.input if i.name not in init_names]
    del m.graph.input[:]
    m.graph.input.extend(real_inputs)

    def write(part):
        onnx.save_model(m, part, save_as_external_data=False)
        onnx.checker.check_model(part)

    return write_atomic(out, write)


# --------------------------------------------------------------------- hls4ml topologies
W6A6_BITS = 6


def build_svhn_w6a6():
    """The hls4ml SVHN CNN (Aarrestad et al. 2021, arXiv:2101.05108) at W6A6, untrained.

    Input (3, 32, 32) in [0, 1], unsigned 8-bit input quantizer; three blocks of
    3x3 convolution without padding (16, 16, 24 filters), batch norm, 6-bit ReLU and 2x2
    max-pool (32 -> 30 -> 15 -> 13 -> 6 -> 4 -> 2); flatten (2*2*24 = 96); dense 42 and
    dense 64, each with batch norm and 6-bit ReLU; dense 10 (logits, no softmax). Layers
    followed by batch norm have no bias (the batch norm absorbs it).
    """
    import brevitas.nn as qnn
    from brevitas.quant import Uint8ActPerTensorFloat
    from torch import nn

    def relu():
        return qnn.QuantReLU(bit_width=W6A6_BITS, return_quant_tensor=True)

    layers = [qnn.QuantIdentity(act_quant=Uint8ActPerTensorFloat, return_quant_tensor=True)]
    c_in = 3
    for c_out in (16, 16, 24):
        layers += [qnn.QuantConv2d(c_in, c_out, 3, weight_bit_width=W6A6_BITS, bias=False),
                   nn.BatchNorm2d(c_out), relu(), nn.MaxPool2d(2)]
        c_in = c_out
    layers.append(nn.Flatten())
    n_in = 24 * 2 * 2
    for n_out in (42, 64):
        layers += [qnn.QuantLinear(n_in, n_out, weight_bit_width=W6A6_BITS, bias=False),
                   nn.BatchNorm1d(n_out), relu()]
        n_in = n_out
    layers.append(qnn.QuantLinear(n_in, 10, weight_bit_width=W6A6_BITS, bias=True))
    return nn.Sequential(*layers)


def build_jet_w6a6():
    """The hls4ml jet-tagging MLP (Duarte et al. 2018, arXiv:1804.06913; Coelho et al. 2021)
    at W6A6, untrained: 16 -> 64 -> 32 -> 32 -> 5, batch norm and 6-bit ReLU after each
    hidden layer, logits out (no softmax). Input features are signed (jet features are
    standardized): a signed 8-bit input quantizer.
    """
    import brevitas.nn as qnn
    from brevitas.quant import Int8ActPerTensorFloat
    from torch import nn

    layers = [qnn.QuantIdentity(act_quant=Int8ActPerTensorFloat, return_quant_tensor=True)]
    n_in = 16
    for n_out in (64, 32, 32):
        layers += [qnn.QuantLinear(n_in, n_out, weight_bit_width=W6A6_BITS, bias=False),
                   nn.BatchNorm1d(n_out),
                   qnn.QuantReLU(bit_width=W6A6_BITS, return_quant_tensor=True)]
        n_in = n_out
    layers.append(qnn.QuantLinear(n_in, 5, weight_bit_width=W6A6_BITS, bias=True))
    return nn.Sequential(*layers)


def _build_digits_w4a4():
    """The embedded digits CNN's architecture, from ``scripts/train_digits.py`` (source
    checkouts only: the scripts are not part of the installed package)."""
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts" / "train_digits.py"
    if not script.is_file():
        raise QloomError(f"digits_w4a4: builder needs {script} (a source checkout of qloom)")
    spec = importlib.util.spec_from_file_location("_qloom_train_digits", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.build_model()


# ------------------------------------------------ stand-in data (scikit-learn's digits)
JET_CLASSES = 5


def svhn_frames(x8: np.ndarray) -> np.ndarray:
    """Digits images (N, 1, 8, 8) in [0, 1] -> SVHN-shaped frames (N, 3, 32, 32): each pixel
    repeated 4x4 (nearest-neighbour upsampling), the grey image replicated to 3 channels."""
    x = np.repeat(np.repeat(np.asarray(x8, dtype=np.float32), 4, axis=2), 4, axis=3)
    return np.ascontiguousarray(np.repeat(x, 3, axis=1))


def jet_features(x8: np.ndarray) -> np.ndarray:
    """Digits images (N, 1, 8, 8) in [0, 1] -> 16 signed features (N, 16) in [-1, 1]: the image
    average-pooled 2x2 to 4x4, flattened row-major, mapped to 2 * v - 1."""
    x = np.asarray(x8, dtype=np.float32).reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4))
    return (2.0 * x.reshape(-1, 16) - 1.0).astype(np.float32)


def jet_split():
    """:func:`qloom.data.digits_split` restricted to the digits 0..4 (the 5 jet classes)."""
    from qloom.data import digits_split

    x_tr, y_tr, x_te, y_te = digits_split()
    tr, te = y_tr < JET_CLASSES, y_te < JET_CLASSES
    return x_tr[tr], y_tr[tr], x_te[te], y_te[te]


# ----------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class ZooModel:
    """One model of the zoo.

    ``builder()`` returns the torch (Brevitas) module: the exported one for random-weight
    models, the untrained architecture for trained ones (whose weights ship as
    ``qloom/models/<name>.onnx``, written by ``scripts/``)."""

    name: str
    builder: Callable[[], object]
    input_shape: tuple[int, ...]
    trained: bool
    precision: str
    note: str

    @property
    def shipped(self) -> Path | None:
        """The shipped QONNX file of a trained model (None for random-weight models)."""
        if not self.trained:
            return None
        from qloom.models import model_path

        return model_path(self.name)


def _bnn_entry(name: str) -> ZooModel:
    w, a = name.split("_")[1].split("w")
    topo = name.split("_")[0].upper()
    data = "CIFAR-10-shaped" if topo == "CNV" else "MNIST-shaped"
    shape = (3, 32, 32) if topo == "CNV" else (1, 28, 28)
    a = a.rstrip("a")
    in_bits = 8 if topo == "CNV" else a  # IN_BIT_WIDTH of brevitas_examples/bnn_pynq/cfg/*.ini
    return ZooModel(name, lambda: build_bnn_pynq(name), shape, False,
                    f"W{w}A{a}, {in_bits}-bit input",
                    f"BNN-PYNQ/FINN-R {topo} (brevitas_examples.bnn_pynq), {data} input; "
                    "random weights and batch norm (seed 0)")


ZOO: dict[str, ZooModel] = {n: _bnn_entry(n) for n in
                            ("cnv_1w1a", "cnv_1w2a", "cnv_2w2a", "lfc_1w1a", "sfc_1w1a", "tfc_2w2a")}
ZOO["svhn_w6a6"] = ZooModel(
    "svhn_w6a6", build_svhn_w6a6, (3, 32, 32), True, "W6A6, 8-bit input",
    "hls4ml SVHN CNN (Aarrestad et al. 2021); QAT on sklearn digits upsampled to 32x32x3 "
    "as a stand-in for SVHN (scripts/train_zoo.py)")
ZOO["jet_w6a6"] = ZooModel(
    "jet_w6a6", build_jet_w6a6, (16,), True, "W6A6, 8-bit input",
    "hls4ml jet-tagging MLP 16-64-32-32-5; QAT on sklearn digits 0-4 pooled to 4x4 as a "
    "stand-in for jet features (scripts/train_zoo.py)")
ZOO["digits_w4a4"] = ZooModel(
    "digits_w4a4", _build_digits_w4a4, (1, 8, 8), True, "W4A4, 8-bit input",
    "embedded qloom demo CNN; QAT on sklearn digits (scripts/train_digits.py)")


def get(name: str) -> ZooModel:
    """The zoo entry ``name``; :class:`QloomError` naming the known models otherwise."""
    try:
        return ZOO[name]
    except KeyError:
        raise QloomError(f"unknown zoo model {name!r}; known: {', '.join(ZOO)}") from None


def zoo_export(name: str, path: str | os.PathLike, seed: int = 0) -> Path:
    """Write zoo model ``name`` as one self-contained QONNX file at ``path``: a trained
    model's shipped file is copied, a random-weight one is exported (``seed``)."""
    import torch

    entry = get(name)
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise QloomError(f"{path}: folder {parent} does not exist")
    if entry.trained:
        src = entry.shipped
        if not src.is_file():
            raise QloomError(f"{name}: shipped model {src} is missing (run scripts/train_zoo.py)")
        return write_atomic(path, lambda part: shutil.copyfile(src, part))
    model = build_bnn_pynq(name, seed)
    return export_self_contained(model, torch.zeros((1,) + entry.input_shape), path)


def sample_input(name: str, n: int, seed: int = 0) -> np.ndarray:
    """``n`` input frames (n,) + input shape, float32, for zoo model ``name``: real test frames
    of the (stand-in) data set for trained models, uniform random in [0, 1) otherwise."""
    entry = get(name)
    if not entry.trained:
        return np.random.default_rng(seed).random((n,) + entry.input_shape, dtype=np.float32)
    if name == "jet_w6a6":
        x = jet_features(jet_split()[2])
    else:
        from qloom.data import digits_split

        x = digits_split()[2]
        x = svhn_frames(x) if name == "svhn_w6a6" else x
    if n > len(x):
        raise QloomError(f"{name}: only {len(x)} test frames, {n} requested")
    return x[:n]
