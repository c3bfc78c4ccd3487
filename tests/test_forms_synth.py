"""Every front-end model form of issue 16 through ``qloom build`` and ``qloom synth``
(Yosys synth_xilinx, per layer): one tiny model each, folded for 1,000 FPS (the fewest
PE*SIMD lanes: small modules, quick synthesis). Synthesis succeeds without latches, every
layer is measured, and the measured counts are within the usual tolerance of the
estimates (tests/test_resources.py: BRAM18 and DSP exact, LUT and FF within 35 % or 8
cells, per layer).

The estimates read the real thresholds (``RtlInstance.model_files``): comparators whose
threshold is constant or narrow across the channels are priced as the constant compares
Yosys folds them into, and the binary-search stage memories keep only their varying bits
(so a 255-threshold stage fits one BRAM18, as Yosys maps it). Every layer, the deep
threshold banks included (QKeras' quantized_relu(6), QCDQ's uint8, the 4- and 5-bit
activations after the joins and the depthwise VVAU), meets the usual tolerance.
"""
from __future__ import annotations

import json

import pytest

from onnx_builders import (branching_mlp, channels_last, depthwise, finn_streamlined_mlp,
                           keras_jet_tagger, qdq_mlp, small_cnn)
from qloom.cli import main

FORMS = {
    "qkeras_mlp": (lambda d: keras_jet_tagger(d / "jet.onnx", widths=(16, 8, 5)), ["--input-type", "fixed<8,4>"]),
    "finn_multithreshold": (lambda d: finn_streamlined_mlp(d / "finn.onnx", widths=(16, 8, 5)), []),
    "qcdq_asymmetric": (lambda d: qdq_mlp(d / "qdq.onnx", widths=(12, 8, 5), zero_points=(-3, 37), relu=False), []),
    "channels_last": (lambda d: channels_last(small_cnn(d / "cnn.onnx", hw=6, c1=4, c2=4), d / "cl.onnx"), []),
    "residual_unquantized_branch": (lambda d: branching_mlp(d / "res.onnx", branch_quant=False), []),
    "concat": (lambda d: branching_mlp(d / "cat.onnx", join="Concat"), []),
    "depthwise_vvau": (lambda d: depthwise(d / "dw.onnx", channels=4, size=6), []),
}


# the two with the longest cold synthesis (a 255-threshold bank; six stages), 3-5 min each
# beside other jobs on 2 cores: behind the slow marker
SLOW = {"qcdq_asymmetric", "channels_last"}


@pytest.mark.synth
@pytest.mark.parametrize("form", [pytest.param(f, marks=pytest.mark.slow) if f in SLOW else f for f in FORMS])
def test_form_builds_and_synthesizes_near_the_estimates(tmp_path, form, capsys):
    make, extra = FORMS[form]
    path, out = make(tmp_path), tmp_path / "out"
    assert main(["build", str(path), "-o", str(out), "--target-fps", "1000"] + extra) == 0
    assert main(["synth", str(out)]) == 0
    capsys.readouterr()
    est = json.loads((out / "estimates.json").read_text())["layers"]
    syn = json.loads((out / "synth.json").read_text())
    assert syn["latches"] == 0
    assert set(syn["layers"]) == set(est)
    kinds = {layer.rstrip("_0123456789") for layer in est}
    want_kind = {"depthwise_vvau": "VVAU", "concat": "ConcatStreams",
                 "residual_unquantized_branch": "AddStreams"}.get(form, "MVAU")
    assert want_kind in kinds, kinds
    bad = []
    for layer, got in syn["layers"].items():
        e = est[layer]
        for k in ("BRAM18", "DSP"):
            if got[k] != e[k]:
                bad.append(f"{layer} {k}: yosys {got[k]} != estimate {e[k]}")
        for k in ("LUT", "FF"):
            if abs(got[k] - e[k]) > max(0.35 * got[k], 8):
                bad.append(f"{layer} {k}: yosys {got[k]} vs estimate {e[k]}")
    assert not bad, "\n".join(bad)
