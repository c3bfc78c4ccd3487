"""Generate the dataflow accelerator: a Verilog top ``qloom_top`` that wires one
hand-written operator instance per layer along the graph's streams (FINN-R's dataflow
architecture, Sec. 4.3: a chain, or a DAG with forks and joins), with data width
converters (DWC) where a producer's and a consumer's stream widths differ and a FIFO in
front of every layer input (the FIFOs in front of a join are sized by ``qloom.dse.folding.fifo_depths``).

Top-level ports (DESIGN.md): ``ap_clk, ap_rst_n, s_axis_tdata, s_axis_tvalid,
s_axis_tready, m_axis_tdata, m_axis_tvalid, m_axis_tready``; tdata widths are padded to a
multiple of 8 bits (AXI4-Stream byte lanes); element i of a beat at bits [i*W +: W].
"""
from __future__ import annotations

import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from qloom.errors import QloomError
from qloom.instance import RtlInstance
from qloom.ir import HWGraph
from qloom.ops import glue_instances
from qloom.ops.fifo import DEFAULT_DEPTH as DEFAULT_FIFO_DEPTH
from qloom.ops.fifo import fifo_key

VERILOG_DIR = Path(__file__).with_name("verilog")


@dataclass
class Stage:
    """One instance in the top: an operator, a DWC or a FIFO."""

    name: str
    kind: str  # "op" | "dwc" | "fifo"
    inst: RtlInstance
    in_width: int  # tdata bits
    out_width: int
    layer: str = ""  # the graph layer this stage implements (or feeds, for DWC/FIFO)
    elems_in: int = 1
    elems_out: int = 1
    out_beats_per_frame: int = 0
    ins: list = field(default_factory=list)  # wire of each input stream (sK), in input order
    outs: list = field(default_factory=list)  # wire of each output stream (a fork: several)


@dataclass
class TopPlan:
    stages: list = field(default_factory=list)
    wires: dict = field(default_factory=dict)  # stream wire sK -> tdata bits
    out_wire: str = ""
    in_elem_bits: int = 1
    in_elems: int = 1
    out_elem_bits: int = 1
    out_elems: int = 1
    out_signed: bool = True

    @property
    def in_width(self) -> int:
        return self.in_elem_bits * self.in_elems

    @property
    def out_width(self) -> int:
        return self.out_elem_bits * self.out_elems

    @property
    def port_in_width(self) -> int:
        return 8 * math.ceil(self.in_width / 8)

    @property
    def port_out_width(self) -> int:
        return 8 * math.ceil(self.out_width / 8)

    def modules(self) -> list[str]:
        return sorted({s.inst.library_module for s in self.stages})


def _glue(stem, bits, e_prev, e_in, depth, ram_style="auto", len_prev=None, len_in=None) -> list[Stage]:
    """The stages in front of a layer input (qloom.ops.glue_instances): DWCs from ``e_prev``
    to ``e_in`` elements of ``bits`` (``dwc_<stem>``, or ``_a`` and ``_b`` via their gcd when
    neither divides the other), with a ``repad_<stem>`` between them when the padded vector
    lengths ``len_prev`` and ``len_in`` differ, then ``fifo_<stem>``; ``stem`` is the layer's
    name, with ``_in<k>`` for its input k > 0."""
    insts = glue_instances(bits, e_prev, e_in, depth, ram_style, len_prev, len_in)
    if not insts:  # a direct link (the layer needs no FIFO in front)
        return []
    dwcs, fifo = insts[:-1], insts[-1]
    n_dwc = sum(i.library_module == "qloom_dwc" for i in dwcs)
    names, k = [], 0
    for inst in dwcs:
        if inst.library_module == "qloom_repad":
            names.append(f"repad_{stem}")
        else:
            names.append(f"dwc_{stem}" if n_dwc == 1 else f"dwc_{stem}_{'ab'[k]}")
            k += 1
    out = []
    for n, inst in zip(names, dwcs):
        if inst.library_module == "qloom_repad":
            w = inst.params["WIDTH"]
            out.append(Stage(n, "dwc", inst, w, w, elems_in=w // bits, elems_out=w // bits))
        else:
            out.append(Stage(n, "dwc", inst, inst.params["IN_WIDTH"], inst.params["OUT_WIDTH"],
                             elems_in=inst.params["IN_WIDTH"] // bits, elems_out=inst.params["OUT_WIDTH"] // bits))
    w = fifo.params["WIDTH"]
    return out + [Stage(f"fifo_{stem}", "fifo", fifo, w, w)]


def plan_top(graph: HWGraph, folding: dict, fifo_depths: dict | None = None) -> TopPlan:
    """Stages of ``qloom_top`` in graph order (op instances, and in front of each layer
    input fed by another layer its DWCs and FIFO), with the stream wires between them.

    ``fifo_depths`` maps :func:`fifo_key` to the depth of that FIFO (default
    ``DEFAULT_FIFO_DEPTH``). A fork's output port j feeds its j-th consumer input
    (``HWGraph.consumers``).
    """
    from qloom.ir import HOST

    fifo_depths = fifo_depths or {}
    plan = TopPlan()

    def wire(width: int) -> str:
        name = f"s{len(plan.wires)}"
        plan.wires[name] = width
        return name

    outs: dict[str, list] = {}  # layer -> (wire, element bits, elements per beat) per port
    top_in = None
    for op in graph.nodes:
        fold = folding.get(op.name, {})
        inst = op.rtl(fold)
        e_in, e_out = op.in_elems(fold), op.out_elems(fold)
        ins = []
        for k, (p, bits) in enumerate(zip(graph.producers(op.name), inst.inputs_bits)):
            if p == HOST:
                plan.in_elem_bits, plan.in_elems = bits, e_in
                top_in = wire(bits * e_in)
                ins.append(top_in)
                continue
            port = graph.consumers(p).index((op.name, k)) if len(outs[p]) > 1 else 0
            src, p_bits, p_elems, p_len = outs[p][port]
            if p_bits != bits:
                raise QloomError(f"layer {op.name}: element width {bits} != producer's {p_bits} "
                                 "(HWGraph.verify checks this)")
            glue = _glue(f"{op.name}{'' if k == 0 else f'_in{k}'}", bits, p_elems, e_in,
                         int(fifo_depths.get(fifo_key(op.name, k), DEFAULT_FIFO_DEPTH)),
                         fold.get("fifo_ram_style", "auto"), p_len, op.in_frame_len(fold, k))
            for g in glue:  # glue is charged to the layer it feeds
                g.layer = op.name
                g.ins, g.outs = [src], [wire(g.out_width)]
                src = g.outs[0]
            plan.stages += glue
            ins.append(src)
        st = Stage(op.name, "op", inst, e_in * sum(inst.inputs_bits), e_out * inst.out_bits,
                   layer=op.name, elems_in=e_in, elems_out=e_out,
                   out_beats_per_frame=op.out_frame_len(fold) // e_out, ins=ins)
        st.outs = [wire(st.out_width) for _ in range(op.out_ports)]
        outs[op.name] = [(w, inst.out_bits, e_out, op.out_frame_len(fold)) for w in st.outs]
        plan.stages.append(st)
    last = graph.last
    plan.out_wire, plan.out_elem_bits, plan.out_elems, _ = outs[last.name][0]
    plan.out_signed = next(s for s in plan.stages if s.name == last.name).inst.out_signed
    if top_in != "s0":
        raise QloomError(f"{graph.name}: the first layer must read the host input")
    return plan


def _vparam(v) -> str:
    return f'"{v}"' if isinstance(v, str) else str(int(v))


def _port(wires: list, sig: str) -> str:
    """The connection of a (packed, for several streams) port: stream 0 in the low bits."""
    if len(wires) == 1:
        return f"{wires[0]}_{sig}"
    return "{" + ", ".join(f"{w}_{sig}" for w in reversed(wires)) + "}"


def top_verilog(plan: TopPlan, graph: HWGraph) -> str:
    """The text of ``qloom_top.v``."""
    chain = " -> ".join(s.name for s in plan.stages)
    L = [f"// qloom_top: generated by qloom from {Path(graph.source).name or graph.name}; do not edit.",
         ("// Dataflow chain: " + chain) if graph.is_chain else
         "// Dataflow graph (stages in order, streams by wire): " + chain,
         f"// s_axis: {plan.in_elems} x {plan.in_elem_bits}-bit elements per beat (padded to {plan.port_in_width} bits)",
         f"// m_axis: {plan.out_elems} x {plan.out_elem_bits}-bit elements per beat (padded to {plan.port_out_width} bits)",
         "`default_nettype none", "",
         "module qloom_top (",
         "    input  wire ap_clk,",
         "    input  wire ap_rst_n,",
         f"    input  wire [{plan.port_in_width - 1}:0] s_axis_tdata,",
         "    input  wire s_axis_tvalid,",
         "    output wire s_axis_tready,",
         f"    output wire [{plan.port_out_width - 1}:0] m_axis_tdata,",
         "    output wire m_axis_tvalid,",
         "    input  wire m_axis_tready",
         ");"]
    for k, w in plan.wires.items():
        L.append(f"    wire [{w - 1}:0] {k}_tdata;  wire {k}_tvalid, {k}_tready;")
    pad_in = plan.port_in_width - plan.in_width
    L.append(f"    assign s0_tdata = s_axis_tdata[{plan.in_width - 1}:0];")
    if pad_in:
        L.append("    /* verilator lint_off UNUSEDSIGNAL */  // byte-lane padding of the input port")
        L.append(f"    wire [{pad_in - 1}:0] unused_pad = s_axis_tdata[{plan.port_in_width - 1}:{plan.in_width}];")
        L.append("    /* verilator lint_on UNUSEDSIGNAL */")
    L += ["    assign s0_tvalid = s_axis_tvalid;", "    assign s_axis_tready = s0_tready;", ""]
    for st in plan.stages:
        params = ",\n".join(f"        .{p}({_vparam(v)})" for p, v in st.inst.params.items())
        i, o = st.ins, st.outs
        L += [f"    // {st.kind}: {st.name}",
              f"    {st.inst.module} #(\n{params}\n    ) u_{st.name} (",
              "        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),",
              f"        .s_axis_tdata({_port(i, 'tdata')}), .s_axis_tvalid({_port(i, 'tvalid')}), "
              f".s_axis_tready({_port(i, 'tready')}),",
              f"        .m_axis_tdata({_port(o, 'tdata')}), .m_axis_tvalid({_port(o, 'tvalid')}), "
              f".m_axis_tready({_port(o, 'tready')})",
              "    );", ""]
    L += _trace_block(plan)
    n = plan.out_wire
    pad_out = plan.port_out_width - plan.out_width
    L.append(f"    assign m_axis_tdata = {{{pad_out}'d0, {n}_tdata}};" if pad_out else
             f"    assign m_axis_tdata = {n}_tdata;")
    L += [f"    assign m_axis_tvalid = {n}_tvalid;", f"    assign {n}_tready = m_axis_tready;",
          "endmodule", "`default_nettype wire", ""]
    return "\n".join(L)


def _trace_block(plan: TopPlan) -> list[str]:
    """Simulation-only trace (ignored by synthesis): prints ``qloom_frame <layer> <cycle>``
    whenever a layer has emitted the last output beat of a frame (on its first output)."""
    L = ["`ifndef SYNTHESIS",
         "    // simulation-only: the cycle at which each layer completes a frame",
         "    reg [63:0] trace_cycle;",
         "    always @(posedge ap_clk) trace_cycle <= ap_rst_n ? trace_cycle + 64'd1 : 64'd0;"]
    for k, st in enumerate(plan.stages):
        if st.kind != "op":
            continue
        bpf = st.out_beats_per_frame
        w = st.outs[0]
        L += [f"    reg [31:0] trace_beats_{k};",
              "    always @(posedge ap_clk) begin",
              f"        if (!ap_rst_n) trace_beats_{k} <= 32'd0;",
              f"        else if ({w}_tvalid && {w}_tready) begin",
              f"            if (trace_beats_{k} == 32'd{bpf - 1}) begin",
              f"                trace_beats_{k} <= 32'd0;",
              f'                $display("qloom_frame {st.name} %0d", trace_cycle);',
              f"            end else trace_beats_{k} <= trace_beats_{k} + 32'd1;",
              "        end",
              "    end"]
    return L + ["`endif", ""]


def library_sources(modules) -> list[Path]:
    """Library files of the given modules and what their ``// Depends on:`` lines name,
    sorted by file name: a module name (``qloom_fifo``, or ``qloom_fifo.v``) is its ``.v``
    file; a name with another extension is that file (the port-list header
    ``qloom_axis.vh``, which is copied but not compiled on its own)."""
    files = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        if not Path(name).suffix:
            name += ".v"
        if name in files:
            continue
        f = VERILOG_DIR / name
        files[name] = f
        for line in f.read_text().splitlines():
            if line.startswith("// Depends on:"):
                todo += [d.strip() for d in line.split(":", 1)[1].split(",") if d.strip()]
    return [files[n] for n in sorted(files)]


def write_rtl(plan: TopPlan, graph: HWGraph, rtl_dir: Path) -> list[Path]:
    """Write ``qloom_top.v``, the library files it uses and the .mem files into ``rtl_dir``."""
    rtl_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for src in library_sources(plan.modules()):
        shutil.copy(src, rtl_dir / src.name)
        written.append(rtl_dir / src.name)
    for st in plan.stages:
        for fname, text in st.inst.files.items():
            (rtl_dir / fname).write_text(text)
    top = rtl_dir / "qloom_top.v"
    top.write_text(top_verilog(plan, graph))
    written.append(top)
    return written
