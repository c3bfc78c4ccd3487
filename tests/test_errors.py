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

import shutil

from onnx import numpy_helper

from onnx_builders import branching_mlp, depthwise, mlp
from qloom.cli import main
from qloom.flow import build
from qloom.models import model_path
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
    branching_mlp(d / "join_float.onnx", branch_quant=False)
    m = onnx.load(str(d / "join_float.onnx"))  # a Relu (not affine) on the unquantized branch
    k = next(i for i, n in enumerate(m.graph.node) if n.op_type == "MatMul")
    m.graph.node.insert(k + 1, onnx.helper.make_node("Relu", ["mm"], ["mm_relu"], name="Relu_b"))
    next(n for n in m.graph.node if n.op_type == "Add").input[0] = "mm_relu"
    onnx.save(m, str(d / "join_float.onnx"))
    branching_mlp(d / "join_ratio.onnx", branch_quant=False)
    m = onnx.load(str(d / "join_ratio.onnx"))  # per-channel scales on the unquantized branch
    k = next(i for i, n in enumerate(m.graph.node) if n.op_type == "MatMul")
    m.graph.initializer.append(numpy_helper.from_array(np.linspace(0.5, 2, 6).astype(np.float32), "chs"))
    m.graph.node.insert(k + 1, onnx.helper.make_node("Mul", ["mm", "chs"], ["mm_s"], name="Mul_b"))
    next(n for n in m.graph.node if n.op_type == "Add").input[0] = "mm_s"
    onnx.save(m, str(d / "join_ratio.onnx"))
    mlp(d / "pc_zp.onnx")
    m = onnx.load(str(d / "pc_zp.onnx"))  # per-channel zero points on the hidden activation
    z = next(t for t in m.graph.initializer if t.name == "qa_z")
    z.CopyFrom(numpy_helper.from_array(np.array([[0, 1, 2, 0, 1]], np.float32), "qa_z"))
    onnx.save(m, str(d / "pc_zp.onnx"))
    branching_mlp(d / "mul_join.onnx")
    m = onnx.load(str(d / "mul_join.onnx"))
    next(n for n in m.graph.node if n.op_type == "Add").op_type = "Mul"
    onnx.save(m, str(d / "mul_join.onnx"))
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
    (d / "fold_const.json").write_text(json.dumps({"MVAU_0": {"PE": 2, "resType": "const"}}))
    (d / "fold_reg.json").write_text(json.dumps({"MVAU_0": {"reg_levels": 5}}))
    (d / "fold_packed.json").write_text(json.dumps({"MVAU_0": {"PE": 1, "resType": "dsp_packed"}}))
    depthwise(d / "depthwise.onnx")
    (d / "fold_vvau.json").write_text(json.dumps({"VVAU_0": {"PE": 2, "SIMD": 3}}))
    (d / "alveo").mkdir()  # the two files qloom deploy reads first, of a build for a board file with no flow
    (d / "alveo" / "build.json").write_text(json.dumps({"port_in_width": 8, "port_out_width": 8}))
    (d / "alveo" / "estimates.json").write_text(json.dumps({"board": "vcu118", "clock_mhz": 300}))
    (d / "alveo_dep" / "deploy").mkdir(parents=True)  # an Alveo deploy, run where XRT is not installed
    (d / "alveo_dep" / "deploy" / "deploy.json").write_text(json.dumps(
        {"kind": "alveo", "xclbin": "qloom.xclbin", "link": {}, "clock_mhz": 300}))
    # issue 13: boards, non-finite inputs and scales, budgets
    pynq = json.loads(_board_json("pynq-z1"))
    (d / "fam.json").write_text(json.dumps(dict(pynq, name="fam", family="virtex2")))
    (d / "neg_lut.json").write_text(json.dumps(dict(pynq, name="neg", LUT=-5)))
    (d / "clock0.json").write_text(json.dumps(dict(pynq, name="clock0", clock_mhz=0)))
    nobw = dict(pynq, name="nobw")
    del nobw["mem_bandwidth_gbps"]
    (d / "nobw.json").write_text(json.dumps(nobw))
    (d / "port48.json").write_text(json.dumps(dict(pynq, name="port48", mem_port_bits=48)))
    for name, board in (("mo_ulx3s", "ulx3s-85f"), ("mo_nortl", "pynq-z1")):  # MO builds qloom deploy refuses
        (d / name).mkdir()
        (d / name / "build.json").write_text(json.dumps({"arch": "mo"}))
        (d / name / "estimates.json").write_text(json.dumps({"board": board, "clock_mhz": 100}))
    x = np.zeros((3, 1, 8, 8), np.float32)
    x[1, 0, 2, 2], x[2, 0, 0, 0], x[2, 0, 1, 0] = np.nan, np.inf, -np.inf
    np.save(d / "x_nan.npy", x)
    np.save(d / "x_big.npy", np.full((1, 1, 8, 8), 1e300))
    for tag, value in (("inf", np.inf), ("nan", np.nan), ("zero", 0.0)):
        m = onnx.load(str(digits_model))
        first_weight_quant = [n for n in m.graph.node if n.op_type == "Quant"][1]
        scale = first_weight_quant.input[1]
        for init in m.graph.initializer:
            if init.name == scale:
                a = numpy_helper.to_array(init).copy()
                a[...] = value
                init.CopyFrom(numpy_helper.from_array(a.astype(np.float32), scale))
        onnx.save(m, str(d / f"wscale_{tag}.onnx"))
    shutil.copy(model_path("jet_w6a6"), d / "jet.onnx")
    _mutants(d, digits_model)
    (d / "small.json").write_text(json.dumps(dict(pynq, name="small", LUT=1500)))
    build(digits_model, d / "built")
    branching_mlp(d / "branch.onnx", join="Concat")  # issue 12: the MO engine has no Concat unit
    build(digits_model, d / "built_mo", arch="mo")
    return {"model": digits_model}


def _mutants(d, digits_model):
    """Malformed copies of the digits model (what the fuzz test in test_fuzz.py draws)."""
    def edit(name, change):
        m = onnx.load(str(digits_model))
        change(m)
        onnx.save(m, str(d / name))

    def set_init(m, which, fn):
        for init in m.graph.initializer:
            if init.name == which:
                init.CopyFrom(numpy_helper.from_array(fn(numpy_helper.to_array(init)), which))

    def quant_input(m, i):
        return [n for n in m.graph.node if n.op_type == "Quant"][1].input[i]

    def drop(m):
        name = quant_input(m, 1)
        del m.graph.initializer[[i.name for i in m.graph.initializer].index(name)]

    def group_list(m):
        conv = next(n for n in m.graph.node if n.op_type == "Conv")
        conv.attribute.remove(next(a for a in conv.attribute if a.name == "group"))
        conv.attribute.append(onnx.helper.make_attribute("group", [1, 1]))

    def eps_nan(m):
        bn = next(n for n in m.graph.node if n.op_type == "BatchNormalization")
        bn.attribute.remove(next(a for a in bn.attribute if a.name == "epsilon"))
        bn.attribute.append(onnx.helper.make_attribute("epsilon", float("nan")))

    edit("dropped.onnx", drop)
    edit("group_list.onnx", group_list)
    edit("eps_nan.onnx", eps_nan)
    edit("wscale_tiny.onnx", lambda m: set_init(m, quant_input(m, 1), lambda a: np.full_like(a, 1e-38)))
    edit("wbits_zero.onnx", lambda m: set_init(m, quant_input(m, 3), lambda a: np.zeros_like(a)))
    gemm_w = lambda m: next(n for n in m.graph.node if n.op_type == "Quant" and  # noqa: E731
                            any(c.op_type == "Gemm" and c.input[1] == n.output[0] for c in m.graph.node)).input[0]
    edit("gemm_rank3.onnx", lambda m: set_init(m, gemm_w(m), lambda a: np.ascontiguousarray(a[None])))


def _board_json(name: str) -> str:
    from qloom.boards import _dirs

    return (_dirs()[0] / f"{name}.json").read_text()


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
                             r"fifo_ram_style, fused, ram_style, reg_levels, resType, thr_mem, thr_style"),
    "folding_bad_style": (["build", "{model}", "-o", "{d}/out", "--folding", "{d}/fold_style.json"],
                          r"{d}/fold_style\.json: layer MVAU_0: ram_style 'ultra'; expected one of auto, "
                          r"block, distributed"),
    "folding_not_realizable": (["build", "{model}", "-o", "{d}/out", "--folding", "{d}/fold_pw.json"],
                               r"{d}/fold_pw\.json: layer SWG_1 \(SWG\): the combination \{'SIMD': 1, "
                               r"'parallel_window': 1\} is not realizable \(parallel_window needs SIMD = "
                               r"all 16 channels\)"),
    "folding_const_not_unrolled": (["build", "{model}", "-o", "{d}/out", "--folding", "{d}/fold_const.json"],
                                   r"{d}/fold_const\.json: layer MVAU_0 \(MVAU\): the combination \{'PE': 2, "
                                   r"'SIMD': 1\} is not realizable \(resType const needs a fully unrolled layer "
                                   r"\(PE = MH = \d+, SIMD = MW = \d+\)\)"),
    "folding_packed_pe1": (["build", "{model}", "-o", "{d}/out", "--folding", "{d}/fold_packed.json"],
                           r"{d}/fold_packed\.json: layer MVAU_0 \(MVAU\): the combination \{'PE': 1, "
                           r"'SIMD': 1\} is not realizable \(resType dsp_packed needs PE >= 2 \(it packs the "
                           r"weights of several PEs into one DSP\)\)"),
    "folding_bad_reg_levels": (["build", "{model}", "-o", "{d}/out", "--folding", "{d}/fold_reg.json"],
                               r"{d}/fold_reg\.json: layer MVAU_0: reg_levels 5; expected one of 1, 2, 3, 4, "
                               r"6, 8, 64"),
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
    "join_unquantized_branch": (["info", "{d}/join_float.onnx"],
                                r"node Add_0 \(Add\): input 0 \(\w+\) is not the output of an activation "
                                r"quantizer; quantize each branch \(e\.g\. a Brevitas QuantIdentity\) before the join"),
    "join_scale_ratio_per_channel": (["info", "{d}/join_ratio.onnx"],
                                     r"node Add_0 \(Add\): the ratio of the two branches' scales differs "
                                     r"between channels \(e\.g\. a batch norm on an unquantized branch\); "
                                     r"quantize each branch per tensor, or put a quantizer on the "
                                     r"unquantized branch"),
    "per_channel_zero_points": (["info", "{d}/pc_zp.onnx"],
                                r"node Quant_\d+ \(Quant\): per-channel zero points on an activation are not "
                                r"supported; qloom needs one zero point per activation quantizer"),
    "join_unsupported_op": (["info", "{d}/mul_join.onnx"],
                            r"node Mul_0 \(Mul\): more than one dynamic input; qloom joins branches "
                            r"with Add and Concat"),
    "synth_jobs_and_scheduler": (["synth", "{d}", "--jobs", "2", "--scheduler", "tcp://127.0.0.1:9"],
                                 r"give either --jobs \(a local pool\) or --scheduler \(a Dask cluster\), "
                                 r"not both"),
    "synth_jobs_zero": (["synth", "{d}", "--jobs", "0"], r"--jobs must be at least 1, got 0"),
    "not_a_build": (["rtlsim", "{d}", "-i", "{d}/x.npy", "-o", "{d}/y.npy"],
                    r"{d}: not a qloom build folder \(no build\.json\); run qloom build first"),
    "deploy_not_a_build": (["deploy", "{d}"],
                           r"{d}: not a qloom build folder \(no build\.json\); run qloom build first"),
    "deploy_no_flow": (["deploy", "{d}/alveo"], r"board vcu118: no deploy flow for it \(qloom deploy "
                       r"supports ulx3s-85f, pynq-z1, ultra96, zcu104, u250, aws-f1\)"),
    "run_not_deployed": (["run", "{d}/alveo", "-i", "{d}/x.npy", "-o", "{d}/y.npy"],
                         r"{d}/alveo: no deploy/deploy\.json; run qloom deploy {d}/alveo first"),
    "run_alveo_without_xrt": (["run", "{d}/alveo_dep", "-i", "{d}/x.npy", "-o", "{d}/y.npy", "--target", "board"],
                              r"{d}/alveo_dep: --target board on an Alveo card needs XRT's Python bindings "
                              r"\(pyxrt: source /opt/xilinx/xrt/setup\.sh\)"),
    # issue 13, item 3: a build without a target that does not fit its board
    "overbudget_default": (["build", "{d}/jet.onnx", "-o", "{d}/out", "--board", "ulx3s-85f"],
                           r"{d}/jet\.onnx: the build does not fit ulx3s-85f: estimated LUT [\d,]+ of 83,640 "
                           r"\(\d+%\), DSP [\d,]+ of 156 \(\d+%\); the fastest folding that fits is [\d,]+ FPS "
                           r"at 50 MHz \(--target-fps \d+\), or pass --allow-overbudget to build it anyway"),
    # item 4: board files checked when read
    "board_unknown_family": (["build", "{model}", "-o", "{d}/out", "--board", "{d}/fam.json"],
                             r"{d}/fam\.json: family 'virtex2' is not one qloom models; expected one of "
                             r"xc7, xcup, ecp5"),
    "board_negative_budget": (["build", "{model}", "-o", "{d}/out", "--board", "{d}/neg_lut.json"],
                              r"{d}/neg_lut\.json: LUT must be a whole number >= 0, got -5"),
    "board_zero_clock": (["build", "{model}", "-o", "{d}/out", "--board", "{d}/clock0.json"],
                         r"{d}/clock0\.json: clock_mhz must be a number > 0, got 0"),
    "board_port_bits": (["build", "{model}", "-o", "{d}/out", "--board", "{d}/port48.json"],
                        r"{d}/port48\.json: mem_port_bits must be 0 \(not limited\) or an AXI4 data width "
                        r"\(32, 64, 128, 256, 512\), got 48"),
    "deploy_mo_not_zynq": (["deploy", "{d}/mo_ulx3s"], r"board ulx3s-85f: an MO build deploys to a Zynq board "
                           r"\(pynq-z1, ultra96, zcu104\): its engine reads DRAM through the PS"),
    "deploy_mo_no_rtl": (["deploy", "{d}/mo_nortl"], r"{d}/mo_nortl: an MO build without the engine's RTL "
                         r"\(OUT/rtl/qloom_mo_top\.v\); rebuild it"),
    # item 5: targets and clocks must be positive
    "target_fps_zero": (["build", "{model}", "-o", "{d}/out", "--target-fps", "0"],
                        r"--target-fps must be a positive number of frames per second, got 0"),
    "target_fps_negative": (["build", "{model}", "-o", "{d}/out", "--target-fps", "-5"],
                            r"--target-fps must be a positive number of frames per second, got -5"),
    "clock_zero": (["build", "{model}", "-o", "{d}/out", "--clock-mhz", "0"],
                   r"--clock-mhz must be a positive number of MHz, got 0"),
    "clock_negative": (["build", "{model}", "-o", "{d}/out", "--clock-mhz", "-100"],
                       r"--clock-mhz must be a positive number of MHz, got -100"),
    "clock_nan": (["build", "{model}", "-o", "{d}/out", "--clock-mhz", "nan"],
                  r"--clock-mhz must be a positive number of MHz, got nan"),
    "target_latency_zero": (["build", "{model}", "-o", "{d}/out", "--target-fps", "1000",
                             "--target-latency", "0"],
                            r"--target-latency must be a positive number of cycles, got 0"),
    "explore_clock_negative": (["explore", "{model}", "--clock-mhz", "-1", "-o", "{d}/ex"],
                               r"--clock-mhz must be a positive number of MHz, got -1"),
    # item 6: --pnr with a Xilinx family, before any synthesis
    "pnr_needs_ecp5": (["synth", "{d}/built", "--family", "xc7", "--pnr"],
                       r"--pnr needs --family ecp5 \(nextpnr-ecp5 is the open place-and-route\)"),
    # item 8: NaN or infinite input
    "input_nan_emulate": (["emulate", "{model}", "-i", "{d}/x_nan.npy", "-o", "{d}/y.npy"],
                          r"{d}/x_nan\.npy: 3 values are NaN or infinite \(first in frame 1\); expected "
                          r"finite floats"),
    "input_nan_rtlsim": (["rtlsim", "{d}/built", "-i", "{d}/x_nan.npy", "-o", "{d}/y.npy"],
                         r"{d}/x_nan\.npy: 3 values are NaN or infinite \(first in frame 1\); expected "
                         r"finite floats"),
    "input_beyond_float32": (["emulate", "{model}", "-i", "{d}/x_big.npy", "-o", "{d}/y.npy"],
                             r"{d}/x_big\.npy: values beyond float32's range \(\|x\| > 3\.4e38\); expected "
                             r"finite float32 values"),
    # item 9: a NaN, infinite or zero weight scale
    "weight_scale_inf": (["info", "{d}/wscale_inf.onnx"],
                         r"node Quant_1 \(Quant\): its scale \('Quant_1_param1'\) has 1 NaN or infinite "
                         r"value of 1; expected finite numbers"),
    "weight_scale_nan": (["build", "{d}/wscale_nan.onnx", "-o", "{d}/out"],
                         r"node Quant_1 \(Quant\): its scale \('Quant_1_param1'\) has 1 NaN or infinite "
                         r"value of 1; expected finite numbers"),
    "weight_scale_zero": (["info", "{d}/wscale_zero.onnx"],
                          r"node Quant_1 \(Quant\): its scale \('Quant_1_param1'\) is not positive; "
                          r"expected scales > 0"),
    # budgets with a target: reachable, but not on this board
    "target_over_budget": (["build", "{model}", "-o", "{d}/out", "--board", "{d}/small.json",
                            "--target-fps", "100000"],
                           r"target 100,000 FPS does not fit small at 100 MHz: the cheapest folding that "
                           r"meets it needs LUT [\d,]+ of 1,500 \(\d+%\)(, \w+ [\d,]+ of [\d,]+ \(\d+%\))*; "
                           r"the best fitting is [\d,]+ FPS \([\d,]+ cycles per frame\), or pass "
                           r"--allow-overbudget to build it anyway"),
    # malformed models (the fuzz test's mutations)
    "dropped_initializer": (["info", "{d}/dropped.onnx"],
                            r"node Quant_1 \(Quant\): input '1\.weight_quant\.export_handler\.lifted_tensor_3' "
                            r"is not the graph input, an "
                            r"initializer nor an earlier node's output \(a missing weight or constant in "
                            r"dropped\.onnx\?\)"),
    "attribute_type": (["info", "{d}/group_list.onnx"],
                       r"node Conv_0 \(Conv\): attribute group is ints, expected int"),
    "attribute_nan": (["info", "{d}/eps_nan.onnx"],
                      r"node BatchNormalization_0 \(BatchNormalization\): attribute epsilon is NaN or "
                      r"infinite; expected a finite number"),
    "weight_scale_tiny": (["info", "{d}/wscale_tiny.onnx"],
                          r"node Quant_1 \(Quant\): its scale \('Quant_1_param1'\) is outside 2\*\*-64 "
                          r"\.\. 2\*\*64; expected a quantization step in that range"),
    "weight_bits_zero": (["info", "{d}/wbits_zero.onnx"],
                         r"node Quant_1 \(Quant\): its bit width \('Quant_1_param3'\) is outside 1 \.\. 64; "
                         r"expected a bit width in that range"),
    "node_does_not_fit": (["info", "{d}/gemm_rank3.onnx"],
                          r"node Gemm_0 \(Gemm\): its inputs or attributes do not fit a Gemm "
                          r"\(ValueError: .+\)"),
    # item 10: a roofline needs the board's memory bandwidth
    "roofline_no_bandwidth": (["roofline", "{model}", "--board", "{d}/nobw.json", "-o", "{d}/roof"],
                              r"board nobw has no mem_bandwidth_gbps \(off-chip memory bandwidth, GB/s\), "
                              r"which the roofline's memory roof needs; add it to the board file"),
    # issue 12: the memory-optimized (MO) architecture
    "mo_no_bandwidth": (["build", "{model}", "-o", "{d}/out", "--arch", "mo", "--board", "{d}/nobw.json"],
                        r"board nobw has no mem_bandwidth_gbps \(off-chip memory bandwidth, GB/s\), "
                        r"which the MO architecture needs; add it to the board file"),
    "mo_branching": (["build", "{d}/branch.onnx", "-o", "{d}/out", "--arch", "mo"],
                     r"layer ConcatStreams_0: the MO engine has no ConcatStreams unit yet \(it runs SWG\+MVAU, "
                     r"MVAU, max/sum pools, Thresholding, LabelSelect, DuplicateStreams, AddStreams\); "
                     r"build it with --arch df"),
    "mo_depthwise": (["build", "{d}/depthwise.onnx", "-o", "{d}/out", "--arch", "mo"],
                     r"layer SWG_0: the MO engine's window generator feeds its MVAU only, not VVAU"),
    "mo_target_out_of_reach": (["build", "{model}", "-o", "{d}/out", "--arch", "mo", "--target-fps", "1e9"],
                               r"the MO engine reaches at most [\d,]+ FPS on pynq-z1 at 100 MHz "
                               r"\(PE=\d+, SIMD=\d+\); --target-fps 1,000,000,000 is out of reach"),
    "mo_with_folding": (["build", "{model}", "-o", "{d}/out", "--arch", "mo", "--folding", "{d}/fold_pe.json"],
                        r"--arch mo takes no --folding or --target-latency \(they fold a DF build\); the MO "
                        r"engine is chosen for --target-fps or the highest FPS that fits"),
    "rtlsim_mo_build": (["rtlsim", "{d}/built_mo", "-i", "{d}/x.npy", "-o", "{d}/y.npy"],
                        r"{d}/built_mo: an MO build \(--arch mo\); rtlsim and synth take DF builds \(simulate "
                        r"the MO engine with qloom deploy, then driver.py --target sim\)"),
}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, digits_model):
    d = tmp_path_factory.mktemp("errors")
    return d, _files(d, digits_model)


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_error_line(name, prepared, capsys):
    d, files = prepared
    argv, pattern = CATALOGUE[name]
    before = sorted(str(p.relative_to(d)) for p in d.rglob("*"))
    rc = main([a.format(d=d, model=files["model"]) for a in argv])
    out, err = capsys.readouterr()
    assert rc == 2, (out, err)
    assert "Traceback" not in err
    line = err.rstrip("\n")
    regex = "^" + re.escape(P) + pattern.replace("{d}", re.escape(str(d))) + "$"
    assert re.match(regex, line), f"\n{line}\n{regex}"
    # nothing written, nothing partial (also inside the prepared build folder)
    assert sorted(str(p.relative_to(d)) for p in d.rglob("*")) == before


def test_unsupported_message_lists_the_handler_table():
    """The op types in the unsupported-op line are exactly the lowering's table."""
    pattern = CATALOGUE["unsupported_op"][1].replace("\\(", "(").replace("\\)", ")")
    listed = pattern.split("qloom lowers ", 1)[1].replace(" and ", ", ").split(", ")
    assert sorted(listed) == sorted(HANDLERS)
