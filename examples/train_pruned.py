"""Pruning recipe: Brevitas QAT with iterative magnitude pruning, exported as QONNX.

What it does
------------
For a zoo topology (``jet_w6a6``: the hls4ml jet-tagger MLP 16-64-32-32-5; ``svhn_w6a6``: the
hls4ml SVHN CNN, Aarrestad et al. 2021, arXiv:2101.05108), W6A6 with an 8-bit input quantizer
(:mod:`qloom.zoo` builders):

1. trains the dense network with quantization-aware training exactly as ``scripts/train_zoo.py``
   does (same seed, data, Adam + one-cycle schedule): the dense snapshot is sparsity 0;
2. prunes iteratively to each sparsity target in turn (default 0.5, 0.75, 0.9): per pruning
   round, ``torch.nn.utils.prune.l1_unstructured`` removes the smallest-magnitude float
   weights of every quantized layer (each layer to the same fraction; the layer keeps its
   mask), then the network is fine-tuned with the masks in place (``FINETUNE_EPOCHS`` at a
   lower learning rate). Rounds within a target go in ``ROUNDS`` equal steps of sparsity
   (Zhu and Gupta 2017, "To prune, or not to prune", arXiv:1710.01878, use a gradual schedule;
   hls4ml's SVHN study (Aarrestad et al. 2021, section 4) prunes to a target with TF-MOT the
   same way);
3. at each target the network has its masks made permanent (``prune.remove``; put back after) and is
   exported as one self-contained QONNX file (:func:`qloom.zoo.export_self_contained`), checked
   with qonnx's ``execute_onnx`` on the whole test split (accuracy within one image of torch),
   plus a JSON sidecar with the accuracy, the float sparsity and the integer sparsity of the
   exported weights (a float weight pruned to 0 quantizes to the integer 0; more small weights
   round to 0, so the integer sparsity is at least the target).

Data: the real jet-tagging and SVHN data sets do not ship in any package and nothing is
downloaded, so both train on scikit-learn's handwritten digits as a stand-in, transformed to
the input shape (``qloom.zoo.jet_features``: digits 0-4, 2x2 average pool to 16 features in
[-1, 1], 5 classes; ``qloom.zoo.svhn_frames``: each 8x8 digit upsampled to 32x32 and
replicated to 3 channels, 10 classes). The accuracies are NOT comparable to the papers'; the
hardware figures (adders, LUTs) depend on the weights only.

How to run (from the repository root; measured CPU time: jet MLP 3.5 min, SVHN shape with
``--epochs 4`` 6.5 min, both on 2 threads)::

    .venv/bin/python examples/train_pruned.py --model jet_w6a6
    .venv/bin/python examples/train_pruned.py --model svhn_w6a6 --epochs 4 --out-dir /tmp/p

Outputs ``<out-dir>/<model>_s<percent>.onnx`` and ``.json`` (default out-dir
``src/qloom/models/pruned``, where ``benchmarks/pruning.py`` and the tests read them).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "scripts"))
import train_digits as td  # noqa: E402  (seeds, training loop, evaluation, QONNX check)
import train_zoo as tz  # noqa: E402  (the zoo models' data and dense recipe)

DEFAULT_OUT_DIR = REPO_ROOT / "src" / "qloom" / "models" / "pruned"
TARGETS = (0.5, 0.75, 0.9)
ROUNDS = 2  # pruning rounds per target
FINETUNE_EPOCHS = {"jet_w6a6": 6, "svhn_w6a6": 2}  # after each round
FINETUNE_LR = 2e-3


def prunable(model: nn.Module) -> list[nn.Module]:
    """The quantized weight layers (Brevitas QuantLinear / QuantConv2d: subclasses of
    nn.Linear / nn.Conv2d), in order."""
    return [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def prune_to(model: nn.Module, sparsity: float) -> None:
    """Mask the smallest-|w| float weights of every quantized layer so that each layer has
    ``round(sparsity * size)`` zeros (L1 magnitude, per layer; masks accumulate)."""
    for m in prunable(model):
        n = m.weight.numel()
        have = int((m.weight == 0).sum()) if hasattr(m, "weight_mask") else 0
        want = int(round(sparsity * n))
        if want > have:
            prune.l1_unstructured(m, "weight", amount=want - have)


def float_sparsity(model: nn.Module) -> float:
    ws = [m.weight.detach() for m in prunable(model)]
    return float(sum(int((w == 0).sum()) for w in ws) / sum(w.numel() for w in ws))


def integer_sparsity(onnx_path: Path) -> dict:
    """Zero fraction of the exported integer weights, per weight Quant node and overall:
    qonnx's own ``Quant`` executed on each weight initializer (scale-free integers)."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.general.quant import quant

    m = ModelWrapper(str(onnx_path))
    zeros = total = 0
    layers = []
    for node in m.graph.node:
        if node.op_type != "Quant":
            continue
        w = m.get_initializer(node.input[0])
        if w is None or w.ndim < 2:
            continue
        scale, zp, bits = (m.get_initializer(node.input[i]) for i in (1, 2, 3))
        q = quant(w, scale, zp, bits, signed=1, narrow=0, rounding_mode="ROUND") / scale
        z = int(np.sum(q == 0))
        layers.append(round(z / q.size, 4))
        zeros, total = zeros + z, total + q.size
    return {"overall": round(zeros / total, 4), "per_layer": layers}


def run(name: str, out_dir: Path, epochs: int | None, targets=TARGETS) -> int:
    import brevitas

    from qloom.zoo import ZOO, export_self_contained

    entry = ZOO[name]
    dense_epochs, _min_acc, stand_in_for = tz.RECIPES[name]
    epochs = epochs or dense_epochs
    td.set_determinism(td.SEED)
    torch.utils.deterministic.fill_uninitialized_memory = False
    x_tr, y_tr, x_te, y_te, transform = tz._data(name)
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    model = entry.builder()
    wrapped = tz._FromDigits(model, transform)
    t0 = time.perf_counter()
    td.train(wrapped, xt, yt, epochs)
    out_dir.mkdir(parents=True, exist_ok=True)
    rc = 0
    done = 0.0
    for target in (0.0,) + tuple(targets):
        for r in range(1, ROUNDS + 1 if target > 0 else 1):
            prune_to(model, done + (target - done) * r / ROUNDS)
            td.train(wrapped, xt, yt, FINETUNE_EPOCHS[name], lr=FINETUNE_LR)
        done = target
        # masks made permanent for the export (prune.remove), then put back to go on pruning
        masks = {m: m.weight_mask.detach().clone() for m in prunable(model) if hasattr(m, "weight_mask")}
        for m in masks:
            prune.remove(m, "weight")
        snap = model
        correct = td.evaluate(snap, torch.from_numpy(x_te), torch.from_numpy(y_te))
        total = len(y_te)
        out = out_dir / f"{name}_s{round(target * 100):02d}.onnx"
        export_self_contained(snap, torch.zeros((1,) + entry.input_shape), out)
        q_correct, _ = td.qonnx_accuracy(out, x_te, y_te)
        isp = integer_sparsity(out)
        print(f"{out.name}: target {target:.2f}, float sparsity {float_sparsity(snap):.3f}, integer "
              f"sparsity {isp['overall']:.3f}, accuracy torch {correct}/{total}, qonnx {q_correct}/{total}, "
              f"{out.stat().st_size} bytes, {time.perf_counter() - t0:.0f} s", flush=True)
        if abs(q_correct - correct) > 1:
            print("error: QONNX accuracy differs from torch by more than one image", file=sys.stderr)
            rc = 1
        td.write_json_atomic({
            "name": out.stem, "topology": name, "precision": entry.precision,
            "target_sparsity": target, "float_sparsity": round(float_sparsity(snap), 4),
            "integer_sparsity": isp["overall"], "integer_sparsity_per_layer": isp["per_layer"],
            "test_accuracy": round(correct / total, 6), "test_correct": correct, "test_total": total,
            "qonnx_test_correct": q_correct,
            "dense_epochs": epochs, "rounds_per_target": ROUNDS,
            "finetune_epochs_per_round": FINETUNE_EPOCHS[name], "finetune_lr": FINETUNE_LR,
            "pruning": "torch.nn.utils.prune.l1_unstructured per layer, iterative, then prune.remove",
            "dataset": "sklearn digits (stand-in)", "stand_in_for": stand_in_for,
            "accuracy_comparable_to_paper": False,
            "seconds_since_start": round(time.perf_counter() - t0, 1), "seed": td.SEED,
            "script": "examples/train_pruned.py",
            "torch_version": torch.__version__, "brevitas_version": brevitas.__version__,
        }, out.with_suffix(".json"))
        for m, mask in masks.items():
            prune.custom_from_mask(m, "weight", mask)
    return rc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=sorted(FINETUNE_EPOCHS), required=True)
    ap.add_argument("--epochs", type=int, help="dense training epochs (default: train_zoo's)")
    ap.add_argument("--targets", default=",".join(str(t) for t in TARGETS),
                    help="comma-separated sparsity targets, increasing (default: %(default)s)")
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = ap.parse_args(argv)
    targets = tuple(float(t) for t in args.targets.split(","))
    return run(args.model, args.out_dir.resolve(), args.epochs, targets)


if __name__ == "__main__":
    sys.exit(main())
