"""Train the embedded W4A4 digits CNN with Brevitas QAT and ship it as QONNX.

What it does
------------
1. Loads scikit-learn's handwritten digits through :func:`qloom.data.digits_split`
   (fixed split: 1437 train / 360 test images, 1x8x8, pixels in [0, 1]).
2. Trains a small plain-chain quantized CNN with Brevitas quantization-aware
   training (4-bit weights, 4-bit activations, unsigned 8-bit input quantizer):

       QuantIdentity(uint8) -> QuantConv2d(1->16, 3x3) -> BN -> QuantReLU(4) -> MaxPool2
                            -> QuantConv2d(16->32, 3x3) -> BN -> QuantReLU(4) -> MaxPool2
                            -> flatten -> QuantLinear(128->10)

   Adam, cosine learning-rate schedule, light augmentation (random +-1 pixel
   shifts). Seeds are fixed and only the CPU with 2 threads is used, so a run
   is reproducible.
3. Evaluates in eval() mode on the 360 test images and prints
   ``test accuracy: 0.9xx (N/360)``; fails if it is below 95 %.
4. Exports with ``brevitas.export.export_qonnx`` into a temporary folder, loads
   the result (including the ``.onnx.data`` side file written by the dynamo
   exporter), drops the initializers that the exporter also lists as graph
   inputs, and re-saves it as ONE self-contained ONNX file, written to a
   temporary file and renamed into place (default
   ``src/qloom/models/digits_w4a4.onnx``), plus a JSON metadata file next to it.
5. Verifies the shipped file with the QONNX reference executor
   (``cleanup_model`` + ``execute_onnx`` over the whole test split) and checks
   that its accuracy matches the torch accuracy (at most one image apart).

How to run (from the repository root)::

    .venv/bin/python scripts/train_digits.py
    .venv/bin/python scripts/train_digits.py --epochs 40 --out /tmp/digits.onnx
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "src" / "qloom" / "models" / "digits_w4a4.onnx"

SEED = 0
WEIGHT_BITS = 4
ACT_BITS = 4
MIN_ACCURACY = 0.95


def set_determinism(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)


def build_model() -> nn.Module:
    """The W4A4 digits CNN: a plain chain of Brevitas layers."""
    import brevitas.nn as qnn
    from brevitas.quant import Uint8ActPerTensorFloat

    return nn.Sequential(
        qnn.QuantIdentity(act_quant=Uint8ActPerTensorFloat, return_quant_tensor=True),
        qnn.QuantConv2d(1, 16, 3, padding=1, weight_bit_width=WEIGHT_BITS, bias=False),
        nn.BatchNorm2d(16),
        qnn.QuantReLU(bit_width=ACT_BITS, return_quant_tensor=True),
        nn.MaxPool2d(2),
        qnn.QuantConv2d(16, 32, 3, padding=1, weight_bit_width=WEIGHT_BITS, bias=False),
        nn.BatchNorm2d(32),
        qnn.QuantReLU(bit_width=ACT_BITS, return_quant_tensor=True),
        nn.MaxPool2d(2),
        nn.Flatten(),
        qnn.QuantLinear(32 * 2 * 2, 10, weight_bit_width=WEIGHT_BITS, bias=True),
    )


def logits_of(out) -> torch.Tensor:
    """Plain tensor from a module output (QuantTensor or Tensor)."""
    return out.value if hasattr(out, "value") else out


def random_shift(x: torch.Tensor, gen: torch.Generator, max_shift: int = 1) -> torch.Tensor:
    """Shift each image by up to ``max_shift`` pixels in x and y, zero-filled."""
    n, _, h, w = x.shape
    padded = nn.functional.pad(x, (max_shift,) * 4)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h)[None, :])  # (n, h)
    cols = (dx[:, None] + torch.arange(w)[None, :])  # (n, w)
    idx_n = torch.arange(n)[:, None, None]
    return padded[:, 0][idx_n, rows[:, :, None], cols[:, None, :]].unsqueeze(1)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    model.eval()
    pred = logits_of(model(x)).argmax(dim=1)
    return int((pred == y).sum())


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int,
          batch_size: int = 64, lr: float = 1e-2) -> None:
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = (len(x) + batch_size - 1) // batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=0.15)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(0, len(x), batch_size):
            idx = perm[i:i + batch_size]
            xb = random_shift(x[idx], gen)
            loss = loss_fn(logits_of(model(xb)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if (epoch + 1) % 5 == 0 or epoch == 0:
            print(f"epoch {epoch + 1:3d}/{epochs}  loss {total / len(x):.4f}", flush=True)


def export_single_file(model: nn.Module, out: Path) -> None:
    """Export QONNX and write it as one self-contained file, atomically."""
    import onnx
    from brevitas.export import export_qonnx

    model.eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "model.onnx")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            export_qonnx(model, torch.zeros(1, 1, 8, 8), raw)
        m = onnx.load(raw)  # also pulls in model.onnx.data if present
    # The exporter also lists every initializer as a graph input; keep only the
    # real input so that graph.input == [image] and runtimes treat weights as constants.
    init_names = {t.name for t in m.graph.initializer}
    real_inputs = [i for i in m.graph.input if i.name not in init_names]
    del m.graph.input[:]
    m.graph.input.extend(real_inputs)
    fd, part = tempfile.mkstemp(prefix=out.name + ".", suffix=".part", dir=out.parent)
    os.close(fd)
    try:
        onnx.save_model(m, part, save_as_external_data=False)
        onnx.checker.check_model(part)
        os.chmod(part, 0o644)  # mkstemp creates 0600
        os.replace(part, out)
    except BaseException:
        if os.path.exists(part):
            os.unlink(part)
        raise


def write_json_atomic(obj: dict, out: Path) -> None:
    fd, part = tempfile.mkstemp(prefix=out.name + ".", suffix=".part", dir=out.parent)
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.chmod(part, 0o644)
    os.replace(part, out)


def qonnx_accuracy(path: Path, x: np.ndarray, y: np.ndarray) -> tuple[int, list[str]]:
    """Run the test split through the QONNX reference executor, image by image."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    model = cleanup_model(ModelWrapper(str(path)))
    in_name = model.graph.input[0].name
    out_name = model.graph.output[0].name
    in_shape = model.get_tensor_shape(in_name)
    op_types = [n.op_type for n in model.graph.node]
    correct = 0
    for i in range(len(x)):
        xi = x[i:i + 1].reshape(in_shape).astype(np.float32)
        res = execute_onnx(model, {in_name: xi})[out_name]
        correct += int(np.argmax(res.reshape(-1)) == y[i])
    return correct, op_types


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help=f"output .onnx path (default: {DEFAULT_OUT})")
    ap.add_argument("--epochs", type=int, default=40, help="training epochs (default: 40)")
    args = ap.parse_args(argv)
    out: Path = args.out.resolve()

    import brevitas

    from qloom.data import digits_split

    set_determinism(SEED)
    x_train, y_train, x_test, y_test = digits_split()
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    xv, yv = torch.from_numpy(x_test), torch.from_numpy(y_test)

    model = build_model()
    t0 = time.perf_counter()
    train(model, xt, yt, args.epochs)
    train_seconds = time.perf_counter() - t0
    print(f"training time: {train_seconds:.1f} s")

    correct = evaluate(model, xv, yv)
    total = len(yv)
    acc = correct / total
    print(f"test accuracy: {acc:.3f} ({correct}/{total})")
    if acc < MIN_ACCURACY:
        print(f"error: accuracy below {MIN_ACCURACY:.2f}, not exporting", file=sys.stderr)
        return 1

    export_single_file(model, out)
    meta = {
        "name": out.stem,
        "dataset": "sklearn digits",
        "split": "qloom.data.digits_split",
        "test_accuracy": round(acc, 6),
        "test_correct": correct,
        "test_total": total,
        "weight_bits": WEIGHT_BITS,
        "act_bits": ACT_BITS,
        "epochs": args.epochs,
        "seed": SEED,
        "torch_version": torch.__version__,
        "brevitas_version": brevitas.__version__,
    }
    write_json_atomic(meta, out.with_suffix(".json"))
    print(f"wrote {out} ({out.stat().st_size} bytes) and {out.with_suffix('.json').name}")

    q_correct, op_types = qonnx_accuracy(out, x_test, y_test)
    q_acc = q_correct / total
    print(f"qonnx reference accuracy: {q_acc:.3f} ({q_correct}/{total})")
    print("op types after cleanup_model:", sorted(set(op_types)))
    if abs(q_correct - correct) > 1:
        print("error: QONNX accuracy differs from torch by more than one image",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
