"""Target-throughput folding search (FINN-R, Blott et al. 2018, Sec. 5: "design space
exploration" with resource and performance models).

In a dataflow pipeline the initiation interval is the slowest layer's cycles per frame, so
meeting ``target_fps`` at ``clock_mhz`` means every layer must take at most
``T = clock_mhz * 1e6 / target_fps`` cycles. Layers are independent under that bound: each
takes its cheapest configuration (PE, SIMD, ram_style) with cycles <= T, where "cheap" is
the resource use weighted by the board's scarcity, sum_r use_r / budget_r. The search is
generic over the knobs that operators declare (``HWOp.knob_space``) and their cycle and
resource models (``HWOp.cycles``, ``HWOp.resources``). The default folding (no target) is
here too: the fewest PE*SIMD lanes that meet a cycle budget.
"""
from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass

from qloom.boards import RESOURCES, Board, format_over
from qloom.dse.folding import glue_resources, graph_cycles, host_padding
from qloom.dse.latency import done_cycles, latency
from qloom.errors import QloomError
from qloom.ir import HOST, HWGraph
from qloom.stream import stream_rate

DEFAULT_LANES = 2048  # MAC lanes the default folding spreads over the layers

@dataclass(frozen=True)
class Option:
    cycles: int
    cost: float
    res: dict
    cfg: dict


def scarcity_cost(res: dict, board: Board, weights: dict | None = None) -> float:
    """sum over resources of weight * use / budget (weights default to 1; a resource the
    board lacks costs infinitely)."""
    c = 0.0
    for r in RESOURCES:
        use = res.get(r, 0)
        if use:
            b = getattr(board, r)
            c += (weights.get(r, 1.0) if weights else 1.0) * use / b if b else math.inf
    return c


def _configs(op, graph: HWGraph):
    """Every searched configuration of ``op``: the product of each knob's searched values
    (``Knob.searched``; a knob searched over nothing stays out), legal combinations only
    (padded foldings not at the host boundary, ``folding.host_padding``)."""
    space = op.knob_space()
    names = sorted(k for k, v in space.items() if v.searched)
    for values in itertools.product(*(space[n].searched for n in names)):
        cfg = dict(zip(names, values))
        if op.legal(cfg) and host_padding(graph, op, cfg) is None:
            yield cfg


def board_cost(board: Board, weights: dict | None = None, memo: dict | None = None):
    """Cost function of the target-FPS search: scarcity-weighted resources on ``board``
    (each resource's use / budget, times its weight). ``memo``: a dict that keeps each
    (layer, configuration)'s resources between cost functions of the same graph and board
    (the prices change, the resources do not)."""
    def cost(op, cfg):
        key = (op.name, tuple(sorted(cfg.items())))
        res = memo.get(key) if memo is not None else None
        if res is None:
            res = op.resources(cfg, family=board.family)
            if memo is not None:
                memo[key] = res
        return scarcity_cost(res, board, weights), res
    return cost


def lanes_cost(op, cfg):
    """Cost function of the default folding: datapath lanes (PE * SIMD). The default
    folding keeps the serial-window SWG (a parallel window is excluded: infinite cost);
    the target-FPS search (``board_cost``) weighs it by its resources like any knob."""
    if cfg.get("parallel_window"):
        return math.inf, {}
    return float(op.parallelism(cfg)), {}


class Space:
    """Every layer's configurations with their cost, and the per-layer Pareto fronts of
    (cycles, cost), for fast queries at many targets.

    A layer's cycles assume its producer can be made to feed it at the best rate the
    producer's knobs allow (``stream_rate``); :meth:`at` then raises the producer's
    parallelism where the cheapest producer would starve it (an MVAU reads its input
    vector in its first pass over the rows, at SIMD elements per cycle).
    """

    def __init__(self, graph: HWGraph, cost_fn, board: Board | None = None):
        self.graph, self.board, self.cost_fn = graph, board, cost_fn
        self.nodes = list(graph.nodes)
        self.all: dict[str, list[Option]] = {}
        self.options: dict[str, list[Option]] = {}
        out_elems = {op.name: sorted({op.out_elems(c) for c in _configs(op, graph)}) for op in self.nodes}
        for op in self.nodes:
            opts = []
            for cfg in _configs(op, graph):
                cost, res = cost_fn(op, cfg)
                e_in = op.in_elems(cfg)
                r = min(e_in if p == HOST else max(stream_rate(q, e_in) for q in out_elems[p])
                        for p in graph.producers(op.name))
                opts.append(Option(op.cycles_fed(cfg, r), cost, res, cfg))
            opts.sort(key=lambda o: (o.cycles, o.cost))
            self.all[op.name] = opts
            front, best = [], math.inf
            for o in opts:  # fast to slow: keep only ones cheaper than every faster one
                if o.cost < best:
                    front.append(o)
                    best = o.cost
            self.options[op.name] = front
        self._cycles = {k: [o.cycles for o in v] for k, v in self.options.items()}

    @property
    def min_cycles(self) -> int:
        return max(v[0].cycles for v in self.options.values())

    def at(self, target_cycles: float, price=None, target_latency: float | None = None) -> dict[str, Option] | None:
        """Cheapest option per layer with cycles <= target (None when a layer cannot),
        producers raised where they would starve their consumer. ``price`` (a function of
        the totals, e.g. the scarcity cost): then refined with the stream glue and the
        raised producers counted (:meth:`refine`)."""
        pick = {}
        for name, opts in self.options.items():
            i = bisect.bisect_right(self._cycles[name], target_cycles) - 1
            if i < 0:
                return None
            pick[name] = opts[i]  # the slowest allowed is the cheapest
        if price is not None:
            return self.refine(pick, target_cycles, price, target_latency)
        return self.feed(pick, target_cycles)

    def refine(self, base: dict[str, Option], target_cycles: float, price,
               target_latency: float | None = None, width: int = 12) -> dict[str, Option]:
        """Local search on what the per-layer choice does not see: a layer's option also
        decides the stream glue in front of it and behind it (DWCs, FIFOs) and how far
        :meth:`feed` raises its producer (e.g. an MVAU at PE 128 x SIMD 3 is a little
        cheaper alone than at PE 8 x SIMD 48, but needs a parallel-window SWG and wide
        DWCs). Sweeps the layers, trying each one's ``width`` cheapest options within the
        target (producers re-fed from their own cheapest choice), and keeps a move when
        ``price`` of the totals (``Space.totals``, glue included) falls and the II (and
        the latency target, if any) still hold; at most 4 sweeps. ``base``: the un-fed
        per-layer choice. Returns the fed pick; its price never rises."""
        base = dict(base)
        cur = self.feed(base, target_cycles)
        best = price(self.totals(cur))
        cands = {}
        for op in self.nodes:  # per stream shape (elements in, out) the cheapest option
            shape = {}
            for o in self.all[op.name]:
                k = (op.in_elems(o.cfg), op.out_elems(o.cfg))
                if o.cycles <= target_cycles and (k not in shape or o.cost < shape[k].cost):
                    shape[k] = o
            cands[op.name] = sorted(shape.values(), key=lambda o: o.cost)[:width]
        for _ in range(4):
            improved = False
            for n, opts in cands.items():
                for o in opts:
                    if o is base[n]:
                        continue
                    tb = {**base, n: o}
                    trial = self.feed(tb, target_cycles)
                    p = price(self.totals(trial))
                    if p >= best - 1e-12 or self.ii(trial) > target_cycles:
                        continue
                    if target_latency is not None and self.latency(trial) > target_latency:
                        continue
                    base, cur, best, improved = tb, trial, p, True
            if not improved:
                break
        return cur

    def feed(self, pick: dict[str, Option], target_cycles: float) -> dict[str, Option]:
        """Raise producers that would starve their consumer (cheapest that feeds it)."""
        pick = dict(pick)
        g = self.graph
        for c in reversed(self.nodes):
            cc = pick[c.name].cfg
            e_in = c.in_elems(cc)
            prods = g.producers(c.name)

            def rate(p, cfg):
                return e_in if p == HOST else stream_rate(g.node(p).out_elems(cfg), e_in)

            for p in prods:
                if p == HOST:
                    continue
                others = min([rate(q, pick[q].cfg if q != HOST else None) for q in prods if q != p]
                             + [math.inf])

                def feeds(o, p=p, others=others):
                    return c.cycles_fed(cc, min(rate(p, o.cfg), others)) <= target_cycles

                if feeds(pick[p]):
                    continue
                ok = [o for o in self.all[p] if o.cycles <= target_cycles and feeds(o)]
                if ok:
                    pick[p] = min(ok, key=lambda o: (o.cost, o.cycles))
        return pick

    def latency(self, pick) -> int:
        return latency(self.graph, self.folding(pick))

    def meet_latency(self, pick: dict[str, Option], target_cycles: float,
                     target_latency: float) -> tuple[dict[str, Option], int]:
        """Speed up layers until frame latency <= ``target_latency`` (qloom.dse.latency):
        greedy, each step moves one layer to its next faster Pareto option, the one with the
        largest latency gain per added cost (when no single step gains, the layer that
        holds the frame longest: its done cycle minus its producer's). Returns (pick,
        latency); the latency is above the target when every layer is at its fastest."""
        pick = dict(pick)
        idx = {n: self.options[n].index(o) if o in self.options[n] else
               max(i for i, q in enumerate(self.options[n]) if q.cycles <= o.cycles)
               for n, o in pick.items()}
        lat = self.latency(pick)
        while lat > target_latency:
            best = None
            for n in idx:
                if idx[n] == 0:
                    continue
                trial = dict(pick)
                trial[n] = self.options[n][idx[n] - 1]
                trial = self.feed(trial, target_cycles)
                gain = lat - self.latency(trial)
                dcost = max(trial[n].cost - pick[n].cost, 1e-12)
                if gain > 0 and (best is None or gain / dcost > best[0]):
                    best = (gain / dcost, n, trial)
            if best is None:  # plateau: speed up the layer that holds the frame longest
                done = {**done_cycles(self.graph, self.folding(pick)), HOST: 0}
                held = {n: done[n] - max(done[p] for p in self.graph.producers(n))
                        for n in idx if idx[n] > 0}
                if not held:
                    break
                n = max(held, key=held.get)
                trial = self.feed({**pick, n: self.options[n][idx[n] - 1]}, target_cycles)
                best = (0.0, n, trial)
            _, n, pick = best
            idx[n] -= 1
            for m, o in pick.items():  # feed() may have raised producers
                if o in self.options[m]:
                    idx[m] = min(idx[m], self.options[m].index(o))
            lat = self.latency(pick)
        if lat > target_latency:
            pick, lat = self._latency_knobs(pick, lat, target_latency)
        return pick, lat

    def _latency_knobs(self, pick: dict[str, Option], lat: int,
                       target_latency: float) -> tuple[dict[str, Option], int]:
        """Past the fastest options: move layers' latency knobs (``Knob.latency``: register
        spacing, latency-first variants; same cycles) greedily, each step the single knob
        value with the largest latency gain per added cost, until the target is met or no
        step gains."""
        nodes = {op.name: op for op in self.nodes}
        while lat > target_latency:
            best = None
            for n, o in pick.items():
                op = nodes[n]
                for k, knob in op.knob_space().items():
                    for v in knob.latency:
                        if o.cfg.get(k, knob.initial) == v:
                            continue
                        cfg = {**o.cfg, k: v}
                        if not op.legal(cfg):
                            continue
                        cost, res = self.cost_fn(op, cfg)
                        trial = {**pick, n: Option(o.cycles, cost, res, cfg)}
                        gain = lat - self.latency(trial)
                        score = gain / max(cost - o.cost, 1e-12)
                        if gain > 0 and (best is None or score > best[0]):
                            best = (score, trial)
            if best is None:
                break
            pick = best[1]
            lat = self.latency(pick)
        return pick, lat

    def exchange(self, pick: dict[str, Option], target_cycles: float, objective: str,
                 target_latency: float | None = None) -> tuple[dict[str, Option], dict]:
        """Greedy exchange under the board's budget (a knapsack step after the priced
        search fits): repeatedly move the one layer to another of its options (cycles
        within the target) that lowers the total ``objective`` resource most while every
        total, the stream glue included, stays within the budget (and the II, and the
        latency target if any, still hold). E.g. the jet MLP on a 16-DSP budget: one layer
        takes resType dsp_packed where the price that fits gave every layer LUT products.
        Returns (pick, totals); the objective never rises."""
        pick = dict(pick)
        cap = {r: getattr(self.board, r) for r in RESOURCES}
        tot = self.totals(pick)
        for _ in range(4 * len(pick)):
            cands = []
            for n, opts in self.all.items():
                cur = pick[n].res
                for o in opts:
                    save = cur.get(objective, 0) - o.res.get(objective, 0)
                    if save <= 0 or o.cycles > target_cycles:
                        continue
                    if any(tot[r] - cur.get(r, 0) + o.res.get(r, 0) > cap[r] for r in RESOURCES):
                        continue
                    cands.append((-save, len(cands), n, o))
            cands.sort()
            moved = False
            for _, _, n, o in cands[:64]:
                trial = self.feed({**pick, n: o}, target_cycles)
                t = self.totals(trial)
                if t[objective] >= tot[objective] or any(t[r] > cap[r] for r in RESOURCES):
                    continue
                if self.ii(trial) > target_cycles:
                    continue
                if target_latency is not None and self.latency(trial) > target_latency:
                    continue
                pick, tot, moved = trial, t, True
                break
            if not moved:
                break
        return pick, tot

    def folding(self, pick) -> dict:
        return {k: dict(o.cfg) for k, o in pick.items()}

    def ii(self, pick) -> int:
        return max(graph_cycles(self.graph, self.folding(pick)).values())

    def totals(self, pick: dict[str, Option]) -> dict:
        """Resources of ``pick`` in total: the layers' own plus, on a board, the stream glue
        in front of each layer (DWCs and FIFOs, ``glue_resources``), as in estimates.json."""
        t = {r: sum(o.res.get(r, 0) for o in pick.values()) for r in RESOURCES}
        if self.board is not None:
            for g in glue_resources(self.graph, self.folding(pick), self.board.family).values():
                for r in RESOURCES:
                    t[r] += g.get(r, 0)
        return t

    def fits(self, pick) -> bool:
        t = self.totals(pick)
        return all(t[r] <= getattr(self.board, r) for r in RESOURCES)

    def candidate_targets(self) -> list[int]:
        return sorted({o.cycles for v in self.options.values() for o in v})


OBJECTIVES = ("balanced", "LUT", "FF", "BRAM18", "URAM", "DSP")
# The default objective: the fewest LUTs that fit the board. Block RAM and DSPs the board has
# are spent where they save LUTs (weights in BRAM18, products in DSPs), as FINN's BNN-PYNQ
# builds fill the PYNQ-Z1's block RAM and hls4ml maps products to DSPs; LUTs are what a
# design's routing and timing closure pay for, and what the shell around it needs.
DEFAULT_OBJECTIVE = "LUT"


def search(graph: HWGraph, board: Board, target_fps: float, clock_mhz: float,
           objective: str = DEFAULT_OBJECTIVE, target_latency: float | None = None,
           allow_overbudget: bool = False):
    """Folding that meets ``target_fps`` with the fewest resources.

    ``objective`` "balanced" minimizes the scarcity-weighted sum sum_r use_r / budget_r. A
    resource name ("LUT", the default :data:`DEFAULT_OBJECTIVE`; "BRAM18", ...) minimizes
    that resource while the design fits the board: the other resources start at a price of 1/100 and a
    resource over budget has its price raised 4x until the folding fits (a Lagrangian
    relaxation of "min LUT subject to use_r <= budget_r"); when no price makes it fit, the
    balanced folding is returned. Example: on PYNQ-Z1 "LUT" moves weight ROMs into block RAM
    that the balanced folding leaves unused (FINN-R Sec. 5 trades LUT against BRAM the
    same way).

    ``target_latency`` (cycles, first input beat to last output beat of a frame): after
    the throughput target is met, layers are sped up until the modelled latency
    (qloom.dse.latency) meets it (``Space.meet_latency``).

    The fit check counts every resource of the build, the stream glue (DWCs, FIFOs)
    included (``Space.totals``). ``allow_overbudget``: when the target is reachable only
    over the budget, return the cheapest folding that meets it anyway.

    Returns (folding, per-layer options, totals). Raises QloomError with the best
    fitting FPS (or latency) when a target is out of reach on ``board``.
    """
    if objective not in OBJECTIVES:
        raise QloomError(f"objective {objective!r}: expected one of {', '.join(OBJECTIVES)}")
    target = clock_mhz * 1e6 / target_fps
    memo: dict = {}  # resources per (layer, configuration), whatever the prices
    if objective != "balanced":
        weights = {r: (1.0 if r == objective else 0.01) for r in RESOURCES}

        def priced(w):
            """(space, pick, totals, over-budget resources) at prices ``w``; None when
            the targets are out of reach whatever the prices."""
            space = Space(graph, board_cost(board, w, memo), board)
            pick = space.at(target, lambda t: scarcity_cost(t, board, w), target_latency)
            if pick is None or space.ii(pick) > target:
                return None
            if target_latency is not None:
                pick, lat = space.meet_latency(pick, target, target_latency)
                if lat > target_latency:
                    return None
            tot = space.totals(pick)
            return space, pick, tot, [r for r in RESOURCES if tot[r] > getattr(board, r)]

        raised = False
        for _ in range(12):
            got = priced(weights)
            if got is None:
                break  # out of reach whatever the prices: the balanced search reports it
            space, pick, tot, over = got
            if not over:
                if raised:
                    # a 4x price step may overshoot (every layer drops the resource at
                    # once): spend what is left of the budget layer by layer
                    pick, tot = space.exchange(pick, target, objective, target_latency)
                return space.folding(pick), pick, tot
            raised = True
            for r in over:
                weights[r] *= 4.0
    space = Space(graph, board_cost(board, memo=memo), board)
    pick = space.at(target, lambda t: scarcity_cost(t, board), target_latency)
    if pick is not None and space.ii(pick) <= target and target_latency is not None:
        pick, lat = space.meet_latency(pick, target, target_latency)
        if lat > target_latency:
            raise QloomError(f"target latency {target_latency:,.0f} cycles is out of reach at "
                             f"{target_fps:,.0f} FPS: the fastest layers give {lat:,} cycles "
                             "(qloom.dse.latency)")
    reachable = pick is not None and space.ii(pick) <= target
    if reachable and (allow_overbudget or space.fits(pick)):
        return space.folding(pick), pick, space.totals(pick)
    best = best_reachable(space)
    if best is None:
        raise QloomError(f"no folding of {graph.name} fits {board.name} at all "
                         f"(the slowest folding exceeds the budget)")
    fps = clock_mhz * 1e6 / best
    if reachable:
        raise QloomError(f"target {target_fps:,.0f} FPS does not fit {board.name} at {clock_mhz:g} MHz: "
                         f"the cheapest folding that meets it needs {format_over(board.over(space.totals(pick)))}; "
                         f"the best fitting is {fps:,.0f} FPS ({best:,} cycles per frame), or pass "
                         "--allow-overbudget to build it anyway")
    raise QloomError(f"target {target_fps:,.0f} FPS is out of reach on {board.name} at "
                     f"{clock_mhz:g} MHz: the best reachable is {fps:,.0f} FPS "
                     f"({best:,} cycles per frame)")


def best_fitting_fps(graph: HWGraph, board: Board, clock_mhz: float) -> tuple[float, int] | None:
    """(FPS, cycles per frame) of the fastest folding whose every resource, the stream glue
    included, fits ``board``; None when even the slowest folding does not fit."""
    best = best_reachable(Space(graph, board_cost(board), board))
    return None if best is None else (clock_mhz * 1e6 / best, best)


def best_reachable(space: Space) -> int | None:
    """The smallest II whose cheapest folding fits the budget (None if none fits)."""
    cands = [t for t in space.candidate_targets() if t >= space.min_cycles]
    lo, hi, best = 0, len(cands) - 1, None
    while lo <= hi:  # resources shrink as the target grows: bisect
        mid = (lo + hi) // 2
        pick = space.at(cands[mid])
        if pick is not None and space.fits(pick):
            best, hi = space.ii(pick), mid - 1
        else:
            lo = mid + 1
    return best


def pareto_points(graph: HWGraph, board: Board, clock_mhz: float) -> list[dict]:
    """(FPS, resources) of the cheapest folding at every distinct II: the Pareto front of
    throughput against LUTs that ``qloom explore`` draws."""
    space = Space(graph, board_cost(board), board)
    pts = []
    for t in space.candidate_targets():
        if t < space.min_cycles:
            continue
        pick = space.at(t)
        if pick is None:
            continue
        ii = space.ii(pick)
        tot = space.totals(pick)
        pts.append({"cycles_per_frame": ii, "fps": clock_mhz * 1e6 / ii, **tot,
                    "fits": space.fits(pick), "folding": {k: o.cfg for k, o in pick.items()}})
    front = []
    for p in sorted(pts, key=lambda p: (p["LUT"], -p["fps"])):
        if not front or p["fps"] > front[-1]["fps"]:
            front.append(p)
    return front


# ---------------------------------------------------------------------- default folding

def fold_for_target(graph: HWGraph, target_cycles: int) -> dict:
    """Per layer, the folding with the fewest lanes (PE * SIMD) whose cycles per frame are
    at most ``target_cycles`` (producers raised where they would starve their consumer);
    the fastest where none is (then II > target)."""
    space = Space(graph, lanes_cost)
    pick = space.at(max(target_cycles, space.min_cycles))
    out = space.folding(pick)
    for op in graph.nodes:  # style knobs at their defaults (ram_style "auto", resType the RTL's)
        for key, knob in op.knob_space().items():
            if knob.kind == "style":
                if knob.fill:
                    out[op.name][key] = knob.initial
                else:
                    out[op.name].pop(key, None)
    return out


def min_cycles(graph: HWGraph) -> int:
    """The smallest II any folding reaches (the slowest layer fully unfolded)."""
    return Space(graph, lanes_cost).min_cycles


def default_folding(graph: HWGraph, lanes: int = DEFAULT_LANES) -> tuple[dict, int, str]:
    """A legal, balanced folding: II = max(fastest reachable, total MACs / ``lanes``).

    Returns (folding, target cycles, one-line explanation).
    """
    macs = sum(op.macs for op in graph.nodes)
    target = max(min_cycles(graph), math.ceil(macs / lanes))
    fold = fold_for_target(graph, target)
    why = (f"default folding: every layer folded to at most {target:,} cycles per frame "
           f"(max of the fastest reachable II and {macs:,} MACs / {lanes} lanes), "
           "fewest PE*SIMD lanes per layer")
    return fold, target, why
