"""Train the hls4ml zoo models (svhn_w6a6, jet_w6a6) with Brevitas QAT and ship them as QONNX.

What it does
------------
Real SVHN and jet-tagging data do not ship in any package and qloom downloads nothing, so
both models train on scikit-learn's handwritten digits (fixed split of
:func:`qloom.data.digits_split`) as a stand-in:

* ``svhn_w6a6`` (:func:`qloom.zoo.build_svhn_w6a6`, the CNN of Aarrestad et al. 2021):
  every 8x8 digit upsampled (nearest) to 32x32 and replicated to 3 channels
  (:func:`qloom.zoo.svhn_frames`), 10 classes.
* ``jet_w6a6`` (:func:`qloom.zoo.build_jet_w6a6`, the hls4ml jet-tagging MLP): the digits
  0-4 only (5 classes), each image average-pooled to 4x4 and flattened to 16 features in
  [-1, 1] (:func:`qloom.zoo.jet_features`).

Their accuracies are NOT comparable to the papers' SVHN / jet numbers; the hardware figures
(cycles, resources) do not depend on the data. Training reuses ``scripts/train_digits.py``
(seeds, Adam + one-cycle schedule, +-1 pixel random shifts applied to the 8x8 images before
the transform, evaluation, QONNX reference check); the export writes one self-contained
QONNX file (:func:`qloom.zoo.export_self_contained`) plus a JSON sidecar to
``src/qloom/models/<name>.onnx/.json``.

How to run (from the repository root)::

    .venv/bin/python scripts/train_zoo.py                  # both models
    .venv/bin/python scripts/train_zoo.py --only jet_w6a6 --out-dir /tmp/zoo
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_digits as td  # noqa: E402  (seeds, training loop, evaluation, JSON, QONNX check)

DEFAULT_OUT_DIR = td.REPO_ROOT / "src" / "qloom" / "models"

# name -> (epochs, minimum test accuracy, stand-in description)
RECIPES = {
    "svhn_w6a6": (12, 0.95, "SVHN (Netzer et al. 2011), as used by Aarrestad et al. 2021"),
    "jet_w6a6": (30, 0.90, "hls4ml LHC jet-tagging data set (16 features, 5 classes)"),
}


class _FromDigits(nn.Module):
    """Wraps a zoo model so that it trains on 8x8 digits: ``transform`` (torch, the same map
    as qloom.zoo.svhn_frames / jet_features) runs first, so train_digits.train's random
    shifts apply to the 8x8 images."""

    def __init__(self, model: nn.Module, transform):
        super().__init__()
        self.model = model
        self.transform = transform

    def forward(self, x):
        return self.model(self.transform(x))


def _svhn_t(x: torch.Tensor) -> torch.Tensor:
    return x.repeat_interleave(4, dim=2).repeat_interleave(4, dim=3).expand(-1, 3, -1, -1)


def _jet_t(x: torch.Tensor) -> torch.Tensor:
    return nn.functional.avg_pool2d(x, 2).flatten(1) * 2.0 - 1.0


def _data(name: str):
    """(x_train 8x8, y_train, x_test in the model's input format, y_test)."""
    from qloom.data import digits_split
    from qloom.zoo import jet_features, jet_split, svhn_frames

    if name == "svhn_w6a6":
        x_tr, y_tr, x_te, y_te = digits_split()
        return x_tr, y_tr, svhn_frames(x_te), y_te, _svhn_t
    x_tr, y_tr, x_te, y_te = jet_split()
    return x_tr, y_tr, jet_features(x_te), y_te, _jet_t


def _summary(model: nn.Module) -> dict:
    layers = [type(m).__name__ for m in model.children()]
    return {
        "layers": layers,
        "weights": sum(p.numel() for n, p in model.named_parameters() if n.endswith("weight") and p.dim() > 1),
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }


def train_one(name: str, out_dir: Path, epochs: int | None) -> int:
    import brevitas

    from qloom.zoo import ZOO, export_self_contained

    entry = ZOO[name]
    default_epochs, min_acc, stand_in_for = RECIPES[name]
    epochs = epochs or default_epochs
    td.set_determinism(td.SEED)
    # Deterministic mode also fills every new tensor with NaN (a debugging aid); that is a
    # sixth of the training time here and does not change any result.
    torch.utils.deterministic.fill_uninitialized_memory = False
    x_tr, y_tr, x_te, y_te, transform = _data(name)
    model = entry.builder()
    t0, c0 = time.perf_counter(), time.process_time()
    td.train(_FromDigits(model, transform), torch.from_numpy(x_tr), torch.from_numpy(y_tr), epochs)
    train_seconds = time.perf_counter() - t0
    train_cpu_seconds = time.process_time() - c0
    correct = td.evaluate(model, torch.from_numpy(x_te), torch.from_numpy(y_te))
    total = len(y_te)
    acc = correct / total
    print(f"{name}: training {train_seconds:.1f} s ({train_cpu_seconds:.1f} s CPU), test accuracy {acc:.3f} ({correct}/{total})")
    if acc < min_acc:
        print(f"error: {name} accuracy below {min_acc:.2f}, not exporting", file=sys.stderr)
        return 1

    out = out_dir / f"{name}.onnx"
    out_dir.mkdir(parents=True, exist_ok=True)
    export_self_contained(model, torch.zeros((1,) + entry.input_shape), out)
    q_correct, op_types = td.qonnx_accuracy(out, x_te, y_te)
    print(f"{name}: qonnx reference accuracy {q_correct / total:.3f} ({q_correct}/{total}); "
          f"wrote {out} ({out.stat().st_size} bytes)")
    if abs(q_correct - correct) > 1:
        print("error: QONNX accuracy differs from torch by more than one image", file=sys.stderr)
        return 1
    meta = {
        "name": name,
        "architecture": entry.note.split(";")[0],
        **_summary(model),
        "input_shape": list(entry.input_shape),
        "precision": entry.precision,
        "weight_bits": 6,
        "act_bits": 6,
        "input_bits": 8,
        "dataset": "sklearn digits (stand-in)",
        "stand_in_for": stand_in_for,
        "data_note": ("trained on scikit-learn's digits as a stand-in because the real data set "
                      "does not ship in any package and nothing is downloaded; the accuracy "
                      "below is NOT comparable to the paper's numbers. Hardware figures "
                      "(cycles, resources) do not depend on the data."),
        "data_transform": ("qloom.zoo.svhn_frames: 8x8 -> 32x32 nearest, grey -> 3 channels"
                           if name == "svhn_w6a6" else
                           "qloom.zoo.jet_features on qloom.zoo.jet_split (digits 0-4): "
                           "2x2 average pool -> 4x4 -> 16 features, 2*v-1"),
        "split": "qloom.data.digits_split" + (" restricted to labels 0-4" if name == "jet_w6a6" else ""),
        "accuracy_comparable_to_paper": False,
        "test_accuracy": round(acc, 6),
        "test_correct": correct,
        "test_total": total,
        "qonnx_test_correct": q_correct,
        "epochs": epochs,
        "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(train_cpu_seconds, 1),
        "seed": td.SEED,
        "qonnx_ops": sorted(set(op_types)),
        "script": "scripts/train_zoo.py",
        "torch_version": torch.__version__,
        "brevitas_version": brevitas.__version__,
    }
    td.write_json_atomic(meta, out.with_suffix(".json"))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=sorted(RECIPES), action="append",
                    help="train only this model (repeatable; default: all)")
    ap.add_argument("--epochs", type=int, help="override the epochs of every model")
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR,
                    help=f"output folder (default: {DEFAULT_OUT_DIR})")
    args = ap.parse_args(argv)
    rc = 0
    for name in args.only or list(RECIPES):
        rc |= train_one(name, args.out_dir.resolve(), args.epochs)
    return rc


if __name__ == "__main__":
    sys.exit(main())
