"""Every user-facing error of the command line, verbatim, from one catalogue.

Each entry: how to provoke it (arguments, given a folder of prepared files) and the exact
line the user reads on stderr (a regular expression anchored at both ends; ``{d}`` stands
for the folder). The CLI must exit 2, print that one line, no traceback, and write nothing.
"""
from __future__ import annotations

import json
import re

import numpy as np
import onnx
import pytest

from onnx_builders import depthwise, mlp
from qloom.cli import main
from qloom.passes.lower import HANDLERS

P = "qloom: error: "


def _files(d, digits_model):
    """The prepared inputs every catalogue entry draws on."""
    (d / "bad.onnx").write_text("this is not a protobuf\n" * 10)
    data = digits_model.read_bytes()
    (d / "trunc.onnx").write_bytes(data[: len(data) // 3])
    m = onnx.load(str(digits_model))
    onnx.save_model(m, str(d / "ext.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="ext.onnx.data", size_threshold=0)
    (d / "ext.onnx.data").unlink()
    mlp(d / "sin.onnx", tail="Sin")
    mlp(d / "softmax_mid.onnx", mid="Softmax")
    mlp(d / "float_input.onnx", quant_input=False)
    mlp(d / "pc_bits.onnx", act_bits=[4, 2, 4, 1, 3])
    mlp(d / "pc_wbits.onnx", weight_bits=[4, 2, 4, 1, 3])
    mlp(d / "float_between.onnx", quant_between=False)
    mlp(d / "float_w.onnx", quant_weights=False)
    np.save(d / "x_shape.npy", np.zeros((4, 1, 9, 9), np.float32))
    np.save(d / "x_int.npy", np.zeros((4, 1, 8, 8), np.int32))
    np.save(d / "x.npy", np.zeros((2, 1, 8, 8), np.float32))
    (d / "garbage.npy").write_bytes(b"\x00garbage")
    (d / "fold_json.json").write_text("{not json")
    (d / "fold_layer.json").write_text(json.dumps({"Conv_9": {"PE": 1}}))
    (d / "fold_pe.json").write_text(json.dumps({"MVAU_0": {"PE": 3}}))
    (d / "fold_knob.json").write_text(json.dumps({"MVAU_0": {"PX": 1}}))
    (d / "fold_style.json").write_text(json.dumps({"MVAU_0": {"ram_style": "ultra"}}))
    (d / "fold_pw.json").write_text(json.dumps({"SWG_1": {"SIMD": 1, "parallel_window": 1}}))
    depthwise(d / "depthwise.onnx")
    (d / "fold_vvau.json").write_text(json.dumps({"VVAU_0": {"PE": 2, "SIMD": 3}}))
    return {"model": digits_model}


# name: (argv with {d} for the folder and {model} for the digits model, the line on stderr)
CATALOGUE = {
    "not_onnx": (["info", "{d}/bad.onnx"],
                 r"{d}/bad\.onnx: not a readable ONNX model \(protobuf parse failed: .+\)"),
    "missing_model": (["info", "{d}/nope.onnx"],
                      r"{d}/nope\.onnx: no such file \(expected a QONNX \.onnx model\)"),
    "truncated": (["info", "{d}/trunc.onnx"], r"{d}/trunc\.onnx: not a readable ONNX model \(.+\)"),
    "missing_external_data": (["info", "{d}/ext.onnx"],
                              r"{d}/ext\.onnx: weights are kept in an external data file 'ext\.onnx\.data', "
                              r"which is missing \(expected at {d}/ext\.onnx\.data\)"),
    "unsupported_op": (["info", "{d}/sin.onnx"],
                       r"node Sin_0 \(Sin\): unsupported op; qloom lowers Add, ArgMax, AveragePool, "
                       r"BatchNormalization, BipolarQuant, Clip, Conv, Div, Dropout, Flatten, Gemm, "
                       r"GlobalAveragePool, Identity, IntQuant, LogSoftmax, MatMul, MaxPool, Mul, "
                       r"MultiThreshold, Neg, Quant, ReduceMean, Relu, Reshape, Sigmoid, Softmax, Squeeze, "
                       r"Sub, Tanh, TopK, Transpose, Trunc and Unsqueeze"),
    "softmax_not_last": (["info", "{d}/softmax_mid.onnx"],
                         r"node Softmax_0 \(Softmax\): a softmax runs on the host, so it must be the "
                         r"model's last op"),
    "float_input": (["info", "{d}/float_input.onnx"],
                    r"node MatMul_0 \(MatMul\): its input is the unquantized float model input; give "
                    r"its type with --input-type \(e\.g\. fixed<16,6>, INT8, BIPOLAR\) or add an input "
                    r"quantizer \(e\.g\. QuantIdentity\) in front of it"),
    "input_type_unknown": (["info", "{d}/float_input.onnx", "--input-type", "float8"],
                           r"input type 'float8': expected a qonnx DataType name \(BIPOLAR, BINARY, INTn, "
                           r"UINTn, FIXED<W,I>, UFIXED<W,I>\) or hls4ml's fixed<W,I> / ufixed<W,I>"),
    "input_type_width": (["emulate", "{d}/float_input.onnx", "-i", "{d}/x.npy", "-o", "{d}/y.npy",
                          "--input-type", "fixed<40,8>"],
                         r"input type 'fixed<40,8>': width 40 bits; expected 1 to 32"),
    "input_type_mode": (["build", "{d}/float_input.onnx", "-o", "{d}/out", "--input-type",
                         "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"],
                        r"input type 'ap_fixed<16,6,AP_RND_CONV,AP_SAT>': the host quantizer rounds with "
                        r"AP_TRN and wraps with AP_WRAP \(hls4ml's defaults\); got AP_RND_CONV, AP_SAT"),
    "per_channel_bits": (["info", "{d}/pc_bits.onnx"],
                         r"node Quant_\d+ \(Quant\): per-channel bit widths \[4, 2, 4, 1, 3\] on an activation "
                         r"are not supported; qloom needs one bit width per activation quantizer"),
    "per_channel_weight_bits": (["info", "{d}/pc_wbits.onnx"],
                                r"node Quant_\d+ \(Quant\): per-channel bit widths \[4, 2, 4, 1, 3\] on "
                                r"weights are not supported; qloom needs one bit width per weight quantizer"),
    "float_between": (["info", "{d}/float_between.onnx"], r"node MatMul_1 \(MatMul\): .*not quantized.*"),
    "float_weights": (["info", "{d}/float_w.onnx"], r"node MatMul_0 \(MatMul\): .*not quantized.*"),
    "input_shape": (["emulate", "{model}", "-i", "{d}/x_shape.npy", "-o", "{d}/y.npy"],
                    r"{d}/x_shape\.npy: expected shape \(N, 1, 8, 8\), got \(4, 1, 9, 9\)"),
    "input_dtype": (["emulate", "{model}", "-i", "{d}/x_int.npy", "-o", "{d}/y.npy"],
                    r"{d}/x_int\.npy: expected a float array of shape \(N, 1, 8, 8\), got dtype int32"),
    "input_not_npy": (["emulate", "{model}", "-i", "{d}/garbage.npy", "-o", "{d}/y.npy"],
                      r"{d}/garbage\.npy: not a readable \.npy array \(.+\)"),
    "input_missing": (["emulate", "{model}", "-i", "{d}/none.npy", "-o", "{d}/y.npy"],
                      r"{d}/none\.npy: no such file \(expected a \.npy array\)"),
    "folding_missing": (["build", "{model}", "-o", "{d}/out", "--folding", "{d}/none.json"],
                        r"{d}/none\.json: no such file \(expected a folding\.json\)"),
    "folding_not_json": (["build", "{model}", "-o", "{d}/out", "--folding", "{d}/fold_json.json"],
                         r"{d}/fold_json\.json: not valid JSON \(.+\)"),
    "folding_unknown_layer": (["build", "{model}", "-o", "{d}/out", "--folding", "{d}/fold_layer.json"],
                              r"{d}/fold_layer\.json: unknown layer 'Conv_9'; layers are MVAU_0, MVAU_1, "
                              r"MVAU_2, SWG_0, SWG_1, StreamingMaxPool_0, StreamingMaxPool_1"),
    "folding_illegal_value": (["build", "{model}", "-o", "{d}/out", "--folding", "{d}/fold_pe.json"],
                              r"{d}/fold_pe\.json: layer MVAU_0: PE=3 is not legal; expected one of "
                              r"\[1, 2, 4, 8, 16\]"),
    "folding_unknown_knob": (["build", "{model}", "-o", "{d}/out", "--folding", "{d}/fold_knob.json"],
                             r"{d}/fold_knob\.json: layer MVAU_0 \(MVAU\): unknown knob 'PX'; it has PE, SIMD, "
                             r"fifo_ram_style, ram_style, resType"),
    "folding_bad_style": (["build", "{model}", "-o", "{d}/out", "--folding", "{d}/fold_style.json"],
                          r"{d}/fold_style\.json: layer MVAU_0: ram_style 'ultra'; expected one of auto, "
                          r"block, distributed"),
    "folding_not_realizable": (["build", "{model}", "-o", "{d}/out", "--folding", "{d}/fold_pw.json"],
                               r"{d}/fold_pw\.json: layer SWG_1 \(SWG\): the combination \{'SIMD': 1, "
                               r"'parallel_window': 1\} is not realizable \(parallel_window needs SIMD = "
                               r"all 16 channels\)"),
    "folding_vvau_simd": (["build", "{d}/depthwise.onnx", "-o", "{d}/out", "--folding", "{d}/fold_vvau.json"],
                          r"{d}/fold_vvau\.json: layer VVAU_0 \(VVAU\): the combination \{'PE': 2, 'SIMD': 3\} "
                          r"is not realizable \(SIMD > 1 needs PE = all 4 channels \(the SWG streams a window "
                          r"channels innermost\)\)"),
    "folding_and_target": (["build", "{model}", "-o", "{d}/out", "--folding", "{d}/fold_pe.json",
                            "--target-fps", "1000"], r"give either --folding or --target-fps, not both"),
    "latency_without_fps": (["build", "{model}", "-o", "{d}/out", "--target-latency", "100"],
                            r"--target-latency needs --target-fps \(the throughput to meet first\)"),
    "unknown_board": (["build", "{model}", "-o", "{d}/out", "--board", "zedboard9"],
                      r"unknown board 'zedboard9'; known boards: .+"),
    "target_out_of_reach": (["build", "{model}", "-o", "{d}/out", "--target-fps", "1e12"],
                            r"target 1,000,000,000,000 FPS is out of reach on pynq-z1 at 100 MHz: the best "
                            r"reachable is [\d,]+ FPS \([\d,]+ cycles per frame\)"),
    "synth_jobs_and_scheduler": (["synth", "{d}", "--jobs", "2", "--scheduler", "tcp://127.0.0.1:9"],
                                 r"give either --jobs \(a local pool\) or --scheduler \(a Dask cluster\), "
                                 r"not both"),
    "synth_jobs_zero": (["synth", "{d}", "--jobs", "0"], r"--jobs must be at least 1, got 0"),
    "not_a_build": (["rtlsim", "{d}", "-i", "{d}/x.npy", "-o", "{d}/y.npy"],
                    r"{d}: not a qloom build folder \(no build\.json\); run qloom build first"),
}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, digits_model):
    d = tmp_path_factory.mktemp("errors")
    return d, _files(d, digits_model)


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_error_line(name, prepared, capsys):
    d, files = prepared
    argv, pattern = CATALOGUE[name]
    before = sorted(p.name for p in d.iterdir())
    rc = main([a.format(d=d, model=files["model"]) for a in argv])
    out, err = capsys.readouterr()
    assert rc == 2, (out, err)
    assert "Traceback" not in err
    line = err.rstrip("\n")
    regex = "^" + re.escape(P) + pattern.replace("{d}", re.escape(str(d))) + "$"
    assert re.match(regex, line), f"\n{line}\n{regex}"
    assert sorted(p.name for p in d.iterdir()) == before  # nothing written, nothing partial


def test_unsupported_message_lists_the_handler_table():
    """The op types in the unsupported-op line are exactly the lowering's table."""
    pattern = CATALOGUE["unsupported_op"][1].replace("\\(", "(").replace("\\)", ")")
    listed = pattern.split("qloom lowers ", 1)[1].replace(" and ", ", ").split(", ")
    assert sorted(listed) == sorted(HANDLERS)
