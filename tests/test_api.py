"""The Python API (qloom.api): the same results and one-line errors as the command line, and
the notebook views (``_repr_html_``) checked against the files a build writes."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest

import qloom
from qloom import api
from qloom.cli import main
from qloom.reference import reference_outputs
from test_errors import CATALOGUE, P


class Tables(HTMLParser):
    """Every table of an HTML text: its header cells and body rows (lists of cell texts);
    fails on a closing tag that does not match the open one (so it checks nesting)."""

    def __init__(self):
        super().__init__()
        self.stack, self.head, self.rows, self.cell = [], [], [], None
        self.in_head = False

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        if tag == "thead":
            self.in_head = True
        elif tag == "tr" and not self.in_head:
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, f"</{tag}> closes nothing open"
        if tag == "thead":
            self.in_head = False
        elif tag == "th":
            self.head.append(self.cell)
            self.cell = None
        elif tag == "td":
            self.rows[-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def parse(html: str) -> Tables:
    t = Tables()
    t.feed(html)
    t.close()
    assert t.stack == [], f"unclosed tags {t.stack}"
    return t


def num(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.fixture(scope="module")
def built(tmp_path_factory, digits_model):
    out = tmp_path_factory.mktemp("api") / "out"
    return api.build(digits_model, out, target_fps=20000)


def test_build_html_has_one_row_per_layer_of_estimates_json(built):
    est = json.loads((built.out / "estimates.json").read_text())
    folding = json.loads((built.out / "folding.json").read_text())
    t = parse(qloom.load_build(built.out)._repr_html_())
    assert t.head == ["layer", "op", "PE", "SIMD", "cycles", "LUT", "FF", "BRAM18", "DSP"]
    assert [r[0] for r in t.rows] == list(est["layers"])
    for name, op, pe, simd, cycles, lut, ff, bram, dsp in t.rows:
        e, f = est["layers"][name], folding.get(name, {})
        assert op == e["op"]
        assert (pe, simd) == (str(f.get("PE", "-")), str(f.get("SIMD", "-")))
        assert [num(cycles), num(lut), num(ff), num(bram), num(dsp)] == \
            [e["cycles"], e["LUT"], e["FF"], e["BRAM18"], e["DSP"]]


def test_graph_html_has_one_row_per_layer(built):
    est = json.loads((built.out / "estimates.json").read_text())
    folding = json.loads((built.out / "folding.json").read_text())
    g = built.graph
    t = parse(g._repr_html_())
    col = {h: i for i, h in enumerate(t.head)}
    assert [(r[col["layer"]], r[col["op"]]) for r in t.rows] == [(n, e["op"]) for n, e in est["layers"].items()]
    # under the build's folding: each operator alone is no slower than inside the pipeline
    # (where a layer fed slower runs at its input's rate), and the slowest sets the II
    t = parse(g.to_html(folding))
    alone = [num(r[col["cycles alone"]]) for r in t.rows]
    assert all(a <= e["cycles"] for a, e in zip(alone, est["layers"].values()))
    assert max(alone) == est["cycles_per_frame"]
    assert [r[col["PE"]] for r in t.rows] == [str(folding[n].get("PE", "-")) for n in est["layers"]]


def test_build_equals_cli_build(built, tmp_path, capsys, digits_model):
    """The API and the command line write the same build."""
    assert main(["build", str(digits_model), "-o", str(tmp_path / "cli"), "--target-fps", "20000"]) == 0
    out = capsys.readouterr().out
    assert built.note in out
    for f in ("estimates.json", "folding.json", "report.md"):
        assert (tmp_path / "cli" / f).read_text() == (built.out / f).read_text(), f
    b = qloom.load_build(tmp_path / "cli")
    assert b.estimates == built.estimates and b.folding == built.folding
    assert f"{b.cycles_per_frame:,} cycles/frame" in out and b.note == built.note
    assert "| MVAU_0 |" in b.report()


def test_emulate_accepts_path_graph_and_build(built, digits_model):
    x = api.digits_split()[2][:12]
    ref = reference_outputs(digits_model, x)
    for model in (digits_model, str(digits_model), qloom.compile_model(digits_model), built):
        y = qloom.emulate(model, x)
        assert y.shape == ref.shape and np.abs(y - ref).max() <= 1e-5 * np.abs(ref).max()
    # one frame without the batch axis
    np.testing.assert_array_equal(qloom.emulate(built, x[0]), qloom.emulate(built, x[:1]))


@pytest.mark.sim
def test_rtlsim_equals_emulator_and_writes_stats(built):
    x = api.digits_split()[2][:6]
    r = built.simulate(x)
    np.testing.assert_array_equal(r.outputs, qloom.emulate(built.graph, x))
    stats = json.loads((built.out / "rtlsim.json").read_text())
    assert stats == json.loads(json.dumps(r.stats()))
    assert r.cycles_per_frame == built.cycles_per_frame  # measured II == cycle model
    assert r.latency_cycles > 0


def test_plots_are_figures_with_the_cli_data(built, tmp_path):
    from matplotlib.figure import Figure

    fig = built.pareto()
    assert isinstance(fig, Figure) and fig.axes[0].collections
    fig, data = api.roofline_figure(built, "pynq-z1")
    assert isinstance(fig, Figure)
    r = api.roofline(built.out / "model.onnx", output=tmp_path / "roof")
    written = json.loads((tmp_path / "roof.json").read_text())
    assert written["points"] == json.loads(json.dumps(data["points"]))
    assert (tmp_path / "roof.png").stat().st_size > 0 and r["df"] == data["points"]["df"]


def _cli_line(name, d, model):
    return "^" + re.escape(P) + CATALOGUE[name][1].replace("{d}", re.escape(str(d))) + "$"


@pytest.mark.parametrize("name, call", [
    ("folding_and_target", lambda m, d: api.build(m, d / "o", folding=d / "f.json", target_fps=1000)),
    ("latency_without_fps", lambda m, d: api.build(m, d / "o", target_latency=100)),
    ("target_fps_zero", lambda m, d: api.build(m, d / "o", target_fps=0)),
    ("clock_nan", lambda m, d: api.build(m, d / "o", clock_mhz=float("nan"))),
    ("unknown_board", lambda m, d: api.build(m, d / "o", board="zedboard9")),
    ("not_a_build", lambda m, d: qloom.load_build(d)),
    ("deploy_not_a_build", lambda m, d: api.deploy(d)),
    ("synth_jobs_zero", lambda m, d: api.synth(d, jobs=0)),
    ("pnr_needs_ecp5", lambda m, d: api.synth(d, family="xc7", pnr=True)),
    ("explore_clock_negative", lambda m, d: api.explore(m, clock_mhz=-1, output=d / "ex")),
])
def test_api_errors_are_the_cli_lines(name, call, tmp_path, digits_model):
    with pytest.raises(qloom.QloomError) as e:
        call(digits_model, tmp_path)
    assert re.match(_cli_line(name, tmp_path, digits_model), P + str(e.value)), str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_folding_as_a_dict_is_checked_like_a_file(tmp_path, digits_model, built):
    b = api.build(digits_model, tmp_path / "o", folding=built.folding)
    assert b.folding == built.folding and b.estimates["layers"] == built.estimates["layers"]
    with pytest.raises(qloom.QloomError, match=r"^folding: layer MVAU_0: PE=3 is not legal"):
        api.build(digits_model, tmp_path / "p", folding={"MVAU_0": {"PE": 3}})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_the_cli_calls_only_the_api():
    import grimp

    graph = grimp.build_graph("qloom")
    assert graph.find_modules_directly_imported_by("qloom.cli") <= {"qloom", "qloom.api", "qloom.errors"}


@pytest.mark.sim
def test_deploy_and_run_through_the_api(built):
    """Build.deploy writes OUT/deploy for the build's board (a Zynq: Vivado TCL and the host
    driver); Build.run streams frames through the driver's simulation transport."""
    info = built.deploy()
    assert info["board"] == "pynq-z1" and (built.out / "deploy" / "deploy.json").is_file()
    x = api.digits_split()[2][:3]
    np.testing.assert_array_equal(built.run(x, target="sim"), qloom.emulate(built, x))
