"""cost_model.py's builds (digits x3, TFC x2, small CNN) re-estimated by the current resource
model beside the Yosys counts stored in benchmarks/results/cost_model.json (matched by build and
stage; no synthesis): per operator the median relative LUT/FF error before (stored estimates)
and after, without the memory files ("new": what the search sees, thresholds read) and with
them ("new_data").

    PYTHONPATH=src .venv/bin/python benchmarks/cost_model_rerun.py benchmarks/results/cost_model.json OUT.json
"""
import json
import statistics
import sys
import tempfile
from pathlib import Path
sys.path.insert(0, "benchmarks")
import cost_model as CM
old = json.load(open(sys.argv[1]))
ys = {(b["name"], s["stage"]): s for b in old["builds"] for s in b["stages"]}
recs = []
from qloom.flow import _load_out, build
from qloom.rtl.generate import plan_top
from qloom.ops import estimate_instance
with tempfile.TemporaryDirectory() as td:
    td = Path(td)
    for name, model, folding in CM.cases(td):
        out = td / name.replace("/", "__")
        fp = None
        if folding is not None:
            fp = td / (name.replace("/", "__") + ".folding.json"); fp.write_text(json.dumps(folding))
        build(model, out, folding_path=fp, allow_overbudget=True)
        g, f, m = _load_out(out)
        for st in plan_top(g, f, m.get("fifo_depths")).stages:
            o = ys.get((name, st.name))
            if not o or not o.get("yosys"): continue
            files = {fn: (out / "rtl" / fn).read_text() for fn in st.inst.file_names}
            e0 = estimate_instance(st.inst, "xc7"); e1 = estimate_instance(st.inst, "xc7", files=files)
            recs.append(dict(build=name, stage=st.name, op=o["op"], yosys=o["yosys"], old=o["estimate"], old_data=o["estimate_data"], new=e0, new_data=e1))
def med(key, k, op=None):
    errs = [abs(r[key][k] - r["yosys"][k]) / max(r["yosys"][k], 1) for r in recs if op in (None, r["op"])]
    return round(statistics.median(errs), 4) if errs else None
ops = sorted({r["op"] for r in recs})
res = {}
for op in ops + [None]:
    res[op or "all"] = {"n": sum(1 for r in recs if op in (None, r["op"])),
                        **{f"{k}_{key}": med(key, k, op) for k in ("LUT", "FF") for key in ("old", "new", "old_data", "new_data")},
                        "BRAM18_exact_new": sum(r["new"]["BRAM18"] == r["yosys"]["BRAM18"] for r in recs if op in (None, r["op"]))}
print(json.dumps(res, indent=1))
json.dump({"summary": res, "stages": recs}, open(sys.argv[2], "w"), indent=1)
