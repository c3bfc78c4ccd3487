"""Human-readable reports of a hardware graph (``qloom info``)."""
from __future__ import annotations

from qloom.ir import HWGraph


# float steps at the output that are more than a de-scaling (shown by qloom info)
HOST_FLOAT_OPS = {"softmax": "Softmax", "logsoftmax": "LogSoftmax", "sigmoid": "Sigmoid",
                  "tanh": "Tanh"}


def _shape(s) -> str:
    return "x".join(str(d) for d in s) if len(s) else "1"


def info_rows(graph: HWGraph) -> list[dict]:
    """One dict per hardware operator: layer, op, shapes, types, weights, MACs per frame."""
    rows = []
    dag = not graph.is_chain
    for op in graph.nodes:
        wt = getattr(op, "weight_type", None)
        rows.append({
            "layer": op.name,
            "op": op.op_type,
            "source": graph.meta.get("sources", {}).get(op.name, ""),
            "in_shape": _shape(op.in_shape),
            "out_shape": _shape(op.out_shape),
            "in_type": op.in_type.name,
            "out_type": op.out_type.name,
            "weights": op.weight_count,
            "weight_type": wt.name if wt else "",
            "weight_bits": op.weight_count * (wt.bits if wt else 0),
            "thresholds": op.threshold_count,
            "macs": op.macs,
            "params": op.describe(),
            # a branching graph: where each layer's input streams come from
            "inputs": ", ".join(p or "input" for p in graph.producers(op.name)) if dag else "",
        })
    return rows


def format_info(graph: HWGraph) -> str:
    """The ``qloom info`` table: one line per operator, then totals."""
    rows = info_rows(graph)
    hi = graph.host_input
    head = ["layer", "op", "in", "out", "in type", "out type", "weights", "thresh", "MACs/frame", "params"]
    body = [[r["layer"], r["op"], r["in_shape"], r["out_shape"], r["in_type"], r["out_type"],
             f"{r['weights']:,} {r['weight_type']}".strip() if r["weights"] else "-",
             f"{r['thresholds']:,}" if r["thresholds"] else "-",
             f"{r['macs']:,}" if r["macs"] else "-",
             f"{r['params']} <- {r['inputs']}".strip() if r["inputs"] else r["params"]] for r in rows]
    total_w = sum(r["weights"] for r in rows)
    total_bits = sum(r["weight_bits"] for r in rows)
    total_macs = sum(r["macs"] for r in rows)
    body.append(["total", "", "", "", "", "", f"{total_w:,} ({total_bits / 8 / 1024:.1f} KiB)",
                 f"{sum(r['thresholds'] for r in rows):,}", f"{total_macs:,}", ""])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    ho = graph.host_output
    tail = [s.op for s in (ho.program.steps if ho.program is not None else ())
            if s.op in HOST_FLOAT_OPS]
    out_note = ("indices" if ho.kind == "indices" else "float32, host de-scaling"
                + "".join(f", then {HOST_FLOAT_OPS[t]} in float on the host" for t in tail))
    lines = [f"model: {graph.source}",
             f"input: {hi.name} {_shape(hi.onnx_shape)} float32 -> host quantizer"
             f"{f' ({hi.note})' if hi.note else ''} -> "
             f"{hi.int_type.name} stream {_shape(hi.order.shape)} (NHWC)",
             f"output: {ho.name} {_shape(ho.onnx_shape)} ({out_note})",
             "", fmt.format(*head), fmt.format(*["-" * w for w in widths])]
    lines += [fmt.format(*map(str, b)) for b in body[:-1]]
    lines += [fmt.format(*["-" * w for w in widths]), fmt.format(*map(str, body[-1]))]
    return "\n".join(l.rstrip() for l in lines)


LAYER_PLOT = "layers.png"


def layer_plot(est: dict, path, synth: dict | None = None) -> None:
    """The per-layer plot of a build (``OUT/layers.png``, linked from report.md), written
    atomically: cycles per frame of each layer against the II (the slowest layer's cycles,
    the dashed line), then LUT, FF, BRAM18 and DSP per layer, estimated (``est``: the
    estimates.json dict; a layer's figures include the FIFO and DWCs that feed it) and, once
    ``qloom synth`` has run, Yosys-measured (``synth``: the synth.json dict) beside them.
    matplotlib's Agg canvas (no display, no pyplot state).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from qloom.fileio import write_atomic

    names = list(est["layers"])
    ii = est["cycles_per_frame"]
    x = list(range(len(names)))
    fig = Figure(figsize=(max(8.0, 0.45 * len(names) + 2), 11))
    FigureCanvasAgg(fig)
    axes = fig.subplots(5, 1, sharex=True)
    cyc = [est["layers"][n]["cycles"] for n in names]
    axes[0].bar(x, cyc, color=["tab:red" if c == ii else "tab:blue" for c in cyc])
    axes[0].axhline(ii, color="tab:red", ls="--", lw=1, label=f"II = {ii:,} cycles/frame")
    axes[0].set_ylabel("cycles / frame")
    axes[0].legend(fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.suptitle(f"per layer: cycles against the II, and resources\n{est['board']}, "
                 f"{est['clock_mhz']:g} MHz, {est['fps']:,.0f} FPS", fontsize=10)
    w = 0.4 if synth else 0.8
    for ax, r in zip(axes[1:], ("LUT", "FF", "BRAM18", "DSP")):
        ax.bar([i - w / 2 if synth else i for i in x], [est["layers"][n][r] for n in names], width=w,
               color="tab:blue", label="estimated")
        if synth:
            ax.bar([i + w / 2 for i in x], [synth["layers"].get(n, {}).get(r, 0) for n in names],
                   width=w, color="tab:orange", label=f"Yosys ({synth['family']})")
        ax.set_ylabel(r)
        ax.grid(True, axis="y", alpha=0.3)
    axes[1].legend(fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, ncol=2)
    axes[-1].set_xticks(x)
    axes[-1].set_xticklabels(names, rotation=60, ha="right", fontsize=8)
    fig.tight_layout()
    write_atomic(path, lambda part: fig.savefig(part, format="png", dpi=100))
