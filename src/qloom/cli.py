"""The ``qloom`` command line. Errors in the user's input exit with status 2 and one line."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time

import numpy as np

from qloom import api
from qloom.api import DEFAULT_OBJECTIVE, OBJECTIVES
from qloom.errors import QloomError


def _cmd_emulate(args) -> int:
    x = api.load_array(args.input)
    graph = api.compile_model(args.model, input_type=args.input_type)
    t0 = time.perf_counter()
    y = api.emulate(graph, x, what=str(args.input))
    dt = time.perf_counter() - t0
    api.save_array(args.output, y)
    print(f"emulated {len(y)} frames in {dt:.3f} s ({len(y) / dt:,.0f} frames/s) -> {args.output} "
          f"{tuple(y.shape)} {y.dtype}")
    return 0


def _cmd_info(args) -> int:
    print(api.info(args.model, input_type=args.input_type))
    return 0


def _cmd_demo(args) -> int:
    """The whole flow on the embedded digits model: emulate, build, rtlsim, then deploy to a
    ULX3S (bitstream, the board top simulated through the driver, the commands for a board)."""
    import tempfile
    from pathlib import Path

    api.check_positive("target_fps", args.target_fps, "frames per second")
    path = api.model_path()
    print(f"qloom demo: embedded model {path.name} (Brevitas QAT on scikit-learn digits, W4A4)")
    t0 = time.perf_counter()
    graph = api.compile_model(path)
    print(f"lowered QONNX -> {len(graph.nodes)} integer hardware operators in {time.perf_counter() - t0:.2f} s\n")
    print(api.info(graph))
    _, _, x, y = api.digits_split()
    n = len(x)

    print(f"\n[1/3] emulate: digits test split, {n} real 8x8 images")
    t0 = time.perf_counter()
    y_emu = api.emulate(graph, x)
    t_emu = time.perf_counter() - t0
    t0 = time.perf_counter()
    y_ref = api.reference_outputs(path, x)
    t_ref = time.perf_counter() - t0
    acc_emu = float((y_emu.argmax(1) == y).mean())
    acc_ref = float((y_ref.argmax(1) == y).mean())
    same = bool(np.array_equal(y_emu.argmax(1), y_ref.argmax(1)))
    rel = float(np.abs(y_emu - y_ref).max() / max(np.abs(y_ref).max(), 1e-30))
    print(f"  accuracy, emulator (integer hardware graph):    {acc_emu:.4f} ({round(acc_emu * n)}/{n})")
    print(f"  accuracy, QONNX reference (qonnx execute_onnx): {acc_ref:.4f} ({round(acc_ref * n)}/{n})")
    print(f"  emulator == reference: argmax {'identical' if same else 'DIFFERENT'} on every image, "
          f"max |diff| = {rel:.2e} of max |reference|")
    print(f"  emulator {n / t_emu:,.0f} images/s, reference {n / t_ref:,.0f} images/s ({t_ref / t_emu:.0f}x)")

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="qloom_demo_")) / "out"
    print(f"\n[2/3] build: dataflow accelerator for {args.board} -> {out}")
    b = api.build(path, out, board=args.board, target_fps=args.target_fps)
    print(f"  {b.note}")
    e = b.estimates
    print(f"  estimated: {e['cycles_per_frame']:,} cycles/frame = {e['fps']:,.0f} FPS at {e['clock_mhz']:g} MHz; "
          f"{e['total']['LUT']:,} LUT, {e['total']['FF']:,} FF, {e['total']['BRAM18']} BRAM18, {e['total']['DSP']} DSP "
          f"(built in {b.seconds:.2f} s)")

    m = min(n, args.rtl_images)
    print(f"\n[3/3] rtlsim: Verilator simulation of qloom_top on {m} test images")
    t0 = time.perf_counter()
    sim = b.simulate(x[:m], write_stats=False)
    y_rtl = sim.outputs
    t_rtl = time.perf_counter() - t0
    acc_rtl = float((y_rtl.argmax(1) == y[:m]).mean())
    equal = bool(np.array_equal(y_rtl, y_emu[:m]))
    ii = sim.cycles_per_frame
    print(f"  accuracy, RTL simulation: {acc_rtl:.4f} ({round(acc_rtl * m)}/{m})")
    print(f"  RTL == emulator: {'yes, bit for bit on every image' if equal else 'NO'}")
    print(f"  measured: {ii:,.0f} cycles/frame (model {e['cycles_per_frame']:,}), latency "
          f"{sim.latency_cycles:,} cycles; {e['clock_mhz'] * 1e6 / ii:,.0f} frames/s at "
          f"{e['clock_mhz']:g} MHz ({t_rtl:.1f} s of simulation incl. Verilator build)")
    ok = same and rel <= 1e-5 and acc_emu == acc_ref and equal
    if not args.no_deploy:
        board_out = out if args.board == "ulx3s-85f" else out.with_name(out.name + "_ulx3s-85f")
        print(f"\n[deploy] the digits model on a ULX3S (ulx3s-85f) -> {board_out}/deploy")
        ok = api.demo_deploy(path, board_out, x, y_emu, bitstream=not args.no_bitstream,
                             progress=lambda m: print(m, flush=True)) and ok
    return 0 if ok else 1


def _cmd_build(args) -> int:
    b = api.build(args.model, args.output, folding=args.folding, clock_mhz=args.clock_mhz,
                  board=args.board, target_fps=args.target_fps, objective=args.objective,
                  target_latency=args.target_latency, input_type=args.input_type,
                  allow_overbudget=args.allow_overbudget, arch=args.arch)
    print(f"{b.note}")
    what = f"MO engine, {b.stages} engine layers" if b.meta.get("arch") == "mo" else f"{b.stages} stages"
    print(f"built {b.out} in {b.seconds:.2f} s: {what}, estimated "
          f"{b.cycles_per_frame:,} cycles/frame = {b.fps:,.0f} FPS at {b.clock_mhz:g} MHz")
    return 0


def _cmd_rtlsim(args) -> int:
    x = api.load_array(args.input)
    r = api.rtlsim(args.out_dir, x, what=str(args.input), progress=True, write_stats=False)
    api.save_array(args.output, r.outputs)
    api.save_rtlsim_stats(args.out_dir, r)
    ii = r.cycles_per_frame
    print(f"rtlsim: {r.frames} frames, latency {r.latency_cycles:,} cycles, "
          f"II {'-' if ii is None else f'{ii:,.0f}'} cycles/frame -> {args.output}")
    return 0


def _cmd_deploy(args) -> int:
    r = api.deploy(args.out_dir, board=args.board, bitstream=args.bitstream,
                   progress=lambda m: print(m, flush=True))
    print(f"deploy for {r['board']} -> {r['dir']}")
    for line in api.deploy_summary(r, args.out_dir):
        print(line)
    return 0


def _cmd_run(args) -> int:
    x = api.load_array(args.input)
    r = api.run(args.out_dir, x, target=args.target, port=args.port)
    y, dt = r.outputs, r.seconds
    api.save_array(args.output, y)
    print(f"run ({args.target}): {len(x)} frames in {dt:.2f} s ({len(x) / dt:,.1f} frames/s) -> "
          f"{args.output} {tuple(y.shape)} {y.dtype}")
    if r.kernel_cycles:
        c, f = r.kernel_cycles, r.clock_mhz
        print(f"  simulated kernel: {c:,} cycles from ap_start to ap_done at {f:g} MHz = "
              f"{len(x) * f * 1e6 / c:,.0f} frames/s with the buffers in device memory")
    elif r.cycles:
        c, f = r.cycles, r.clock_mhz
        print(f"  simulated board: {c:,} cycles at {f:g} MHz for the whole UART exchange = "
              f"{len(x) * f * 1e6 / c:,.0f} frames/s through the link")
    return 0


def _cmd_boards(args) -> int:
    rows = [("board", "part", "family", "LUT", "FF", "BRAM18", "URAM", "DSP", "clock MHz")]
    rows += [(b.name, b.part, b.family, f"{b.LUT:,}", f"{b.FF:,}", f"{b.BRAM18:,}", f"{b.URAM:,}",
              f"{b.DSP:,}", f"{b.clock_mhz:g}") for b in api.boards()]
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(n) for c, n in zip(r, w)).rstrip())
    print("add a board: a JSON file with these keys in a folder listed in $QLOOM_BOARDS, "
          "or pass --board FILE.json")
    return 0


def _cmd_zoo(args) -> int:
    if args.action == "list":
        rows = [("name", "input", "precision", "weights", "note")]
        rows += [(m.name, "x".join(map(str, m.input_shape)), m.precision,
                  "trained" if m.trained else "random", m.note) for m in api.zoo_models()]
        w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print("  ".join(c.ljust(n) for c, n in zip(r, w)).rstrip())
        return 0
    out = api.zoo_export(args.name, args.output)
    print(f"{args.name} -> {out} ({out.stat().st_size:,} bytes)")
    return 0


def _cmd_synth(args) -> int:
    api.check_synth(args.family, args.pnr, args.jobs, args.scheduler)  # before the synthesis
    r = api.synth(args.out_dir, family=args.family, jobs=args.jobs, scheduler=args.scheduler)
    t = r["total"]
    print(f"{r['tool']}: {t['LUT']:,} LUT, {t['FF']:,} FF, {t['BRAM18']} BRAM18, {t['DSP']} DSP, "
          f"{t['CARRY']:,} CARRY; latches: {r['latches']} -> {args.out_dir}/synth.json")
    if args.pnr:
        p = api.place_and_route(args.out_dir)
        print(f"nextpnr-ecp5: Fmax {p['fmax_mhz']:.1f} MHz (target {p['pnr']['target_mhz']:g}); "
              f"bitstream {args.out_dir}/qloom_top.bit")
    return 0


def _cmd_explore(args) -> int:
    r = api.explore(args.model, board=args.board, clock_mhz=args.clock_mhz, output=args.output,
                    input_type=args.input_type)
    print(f"Pareto front: {r['points']} foldings -> {r['png']}, {r['json']}")
    return 0


def _cmd_roofline(args) -> int:
    r = api.roofline(args.model, board=args.board, clock_mhz=args.clock_mhz, output=args.output,
                     input_type=args.input_type, builds=args.build or ())
    print(f"roofline -> {r['png']}, {r['json']}; DF intensity {r['df']['intensity_ops_per_byte']:,.0f} op/B "
          f"(attainable {r['df']['attainable_fps']:,.0f} FPS), MO {r['mo']['intensity_ops_per_byte']:,.1f} op/B "
          f"({r['mo']['attainable_fps']:,.0f} FPS)")
    return 0


INPUT_TYPE_HELP = ("type of a float model input: a qonnx DataType name (BIPOLAR, BINARY, INTn, "
                   "UINTn, FIXED<W,I>, UFIXED<W,I>) or hls4ml's fixed<W,I> / ufixed<W,I> (W bits, "
                   "I integer bits incl. sign); the host quantizer floors (AP_TRN) and wraps "
                   "(AP_WRAP). Default: the input's quantization annotation, if any")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qloom", description=(
        "Quantized neural networks (QONNX) to verified FPGA dataflow accelerators."))
    from qloom import __version__

    p.add_argument("--version", action="version", version=f"qloom {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    e = sub.add_parser("emulate", help="bit-exact integer emulation of a QONNX model")
    e.add_argument("model", help="QONNX model (.onnx; weights may sit in MODEL.onnx.data)")
    e.add_argument("-i", "--input", required=True, help="input .npy, float, batch first")
    e.add_argument("-o", "--output", required=True, help="output .npy (what the QONNX model outputs)")
    e.add_argument("--input-type", metavar="T", help=INPUT_TYPE_HELP)
    e.set_defaults(fn=_cmd_emulate)
    i = sub.add_parser("info", help="table of the integer hardware graph")
    i.add_argument("model")
    i.add_argument("--input-type", metavar="T", help=INPUT_TYPE_HELP)
    i.set_defaults(fn=_cmd_info)
    b = sub.add_parser("build", help="generate the dataflow accelerator (Verilog) into OUT")
    b.add_argument("model")
    b.add_argument("-o", "--output", required=True, help="output folder OUT")
    b.add_argument("--folding", help="folding.json: {layer: {PE, SIMD, ram_style}}")
    b.add_argument("--board", default="pynq-z1", help="board name (qloom boards) or a board .json")
    b.add_argument("--clock-mhz", type=float, help="clock (MHz); default: the board's")
    b.add_argument("--target-fps", type=float, help="choose the folding to meet this throughput")
    b.add_argument("--objective", default=DEFAULT_OBJECTIVE, choices=OBJECTIVES,
                   help="what the --target-fps search minimizes while the build fits the board: "
                        f"one resource (default {DEFAULT_OBJECTIVE}: block RAM and DSPs spent where "
                        "they save LUTs), or balanced = the sum of use/budget over resources")
    b.add_argument("--target-latency", type=float, metavar="CYCLES",
                   help="with --target-fps: also speed layers up until the modelled latency "
                        "(first input beat to last output beat) is at most CYCLES")
    b.add_argument("--input-type", metavar="T", help=INPUT_TYPE_HELP + " (kept in OUT for rtlsim)")
    b.add_argument("--allow-overbudget", action="store_true",
                   help="write the build even when its estimate exceeds the board's budget "
                        "(the note says by how much); without it such a build exits 2 with "
                        "the best fitting FPS")
    b.add_argument("--arch", default="df", choices=["df", "mo", "auto"],
                   help="df: dataflow, an engine per layer, weights on chip (default); mo: FINN-R's "
                        "memory-optimized engine, weights and feature maps in DRAM (OUT/mo: "
                        "schedule and DRAM image); auto: DF when it fits the board, else MO")
    b.set_defaults(fn=_cmd_build)
    r = sub.add_parser("rtlsim", help="Verilator simulation of a built accelerator")
    r.add_argument("out_dir", metavar="OUT")
    r.add_argument("-i", "--input", required=True)
    r.add_argument("-o", "--output", required=True)
    r.set_defaults(fn=_cmd_rtlsim)
    sy = sub.add_parser("synth", help="Yosys synthesis of a build, per layer (writes OUT/synth.json)")
    sy.add_argument("out_dir", metavar="OUT")
    sy.add_argument("--family", choices=["xc7", "xcup", "ecp5"], default="xc7")
    sy.add_argument("--pnr", action="store_true", help="ecp5: nextpnr-ecp5 place-and-route and ecppack")
    sy.add_argument("--jobs", type=int, metavar="N", help="stages synthesized in parallel on this machine "
                    "(default 2)")
    sy.add_argument("--scheduler", metavar="ADDRESS", help="send each stage's synthesis to the Dask "
                    "cluster at ADDRESS (e.g. tcp://10.0.0.5:8786); results are cached here")
    sy.set_defaults(fn=_cmd_synth)
    dp = sub.add_parser("deploy", help="board files into OUT/deploy: ULX3S top + bitstream flow, "
                                       "Zynq Vivado TCL, Alveo RTL kernel, the host driver")
    dp.add_argument("out_dir", metavar="OUT")
    dp.add_argument("--board", help="board (default: the build's): ulx3s-85f, pynq-z1, ultra96, zcu104, "
                    "u250, aws-f1")
    dp.add_argument("--bitstream", action="store_true",
                    help="ECP5: also build the bitstream (Yosys, nextpnr-ecp5, ecppack; minutes)")
    dp.set_defaults(fn=_cmd_deploy)
    ru = sub.add_parser("run", help="run a deployed accelerator through the host driver")
    ru.add_argument("out_dir", metavar="OUT")
    ru.add_argument("-i", "--input", required=True, help="input .npy, float, batch first")
    ru.add_argument("-o", "--output", required=True, help="output .npy")
    ru.add_argument("--target", choices=["sim", "board"], default="sim",
                    help="sim: Verilator model of the board top (ULX3S UART link, Zynq stream side, Alveo "
                         "kernel with memory); board: the ULX3S over serial, an Alveo card through pyxrt")
    ru.add_argument("--port", help="board: serial port (default /dev/ttyUSB0)")
    ru.set_defaults(fn=_cmd_run)
    for name, fn, hlp in (("explore", _cmd_explore, "Pareto front of FPS vs LUT over the folding space"),
                          ("roofline", _cmd_roofline, "FINN-R roofline of a model on a board")):
        x = sub.add_parser(name, help=hlp)
        x.add_argument("model")
        x.add_argument("--board", default="pynq-z1")
        x.add_argument("--clock-mhz", type=float)
        x.add_argument("-o", "--output", help="output prefix (.png and .json are written)")
        x.add_argument("--input-type", metavar="T", help=INPUT_TYPE_HELP)
        if name == "roofline":
            x.add_argument("--build", action="append", metavar="OUT",
                           help="place this build (DF or --arch mo) by its estimates (repeatable)")
        x.set_defaults(fn=fn)
    bo = sub.add_parser("boards", help="list the known FPGA boards and their budgets")
    bo.set_defaults(fn=_cmd_boards)
    z = sub.add_parser("zoo", help="the benchmark model zoo: list, or export a model as QONNX")
    zs = z.add_subparsers(dest="action", required=True, metavar="ACTION")
    zs.add_parser("list", help="table of the zoo models")
    ze = zs.add_parser("export", help="write a zoo model as one QONNX file")
    ze.add_argument("name", help="model name (qloom zoo list)")
    ze.add_argument("-o", "--output", required=True, help="output .onnx")
    z.set_defaults(fn=_cmd_zoo)
    d = sub.add_parser("demo", help="the whole flow on the embedded digits model")
    d.add_argument("--out", help="build folder (default: a new temporary folder)")
    d.add_argument("--board", default="pynq-z1")
    d.add_argument("--target-fps", type=float, help="folding target (default: balanced default folding)")
    d.add_argument("--rtl-images", type=int, default=120, help="test images to simulate (>= 100)")
    d.add_argument("--no-bitstream", action="store_true",
                   help="deploy to the ULX3S without building its bitstream (Yosys + nextpnr: minutes)")
    d.add_argument("--no-deploy", action="store_true", help="stop after the RTL simulation")
    d.set_defaults(fn=_cmd_demo)
    return p


class Terminated(BaseException):
    """SIGTERM (or SIGHUP) arrived: unwinds like Ctrl-C, so every temporary output is
    removed on the way out (an OUT being built, synthesis work folders)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, frame):
    raise Terminated(signum)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    old = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            old[sig] = signal.signal(sig, _terminate)
    try:
        return args.fn(args)
    except QloomError as e:
        print(f"qloom: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qloom: interrupted", file=sys.stderr)
        return 130
    except Terminated as e:
        print(f"qloom: terminated by {signal.Signals(e.signum).name}", file=sys.stderr)
        return 128 + e.signum
    except Exception as e:  # a bug in qloom: one line unless asked for the traceback
        if os.environ.get("QLOOM_DEBUG"):
            raise
        first = str(e).splitlines()[0] if str(e) else ""
        print(f"qloom: internal error: {type(e).__name__}: {first} (set QLOOM_DEBUG=1 for the "
              "traceback, and please report it)", file=sys.stderr)
        return 1
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
