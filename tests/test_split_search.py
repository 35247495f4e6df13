"""The constrained search against a brute-force check on small synthetic cases.

Brute force: every point simulated, its edge memory evaluated at EVERY token position (no
bisection), every constraint checked directly; the search's choice must be feasible, never over
the memory budget at the last generated token, and the fastest feasible point whenever one
exists.
"""

import numpy as np
import pytest

from simulator.devices.config import load_device
from simulator.split.link import Link
from simulator.split.memory import side_memory
from simulator.split.pipeline import SplitSetup, simulate_generation
from simulator.split.search import Constraints, best_point, mean_weight_bits, pareto_front, run_search, search_space
from simulator.workload import load_model

TINY = load_model("gpt2-small").scaled(name="gpt2-6l", layers=6, hidden=256, heads=4, kv_heads=4,
                                       intermediate=1024, vocab=1000, max_positions=512)
P, G = 16, 24


@pytest.fixture(scope="module")
def setup():
    return SplitSetup(TINY, load_device("jetson-orin-nano"), load_device("h100-sxm5"),
                      Link("test", 50.0, 80.0, 4.0), prompt=P, generate=G)


@pytest.fixture(scope="module")
def space():
    return search_space(TINY.layers, None, ("int4", "int8", "bf16"), ("bf16", "int8"), (4, 8, 16))


def _edge_mem(p, n, prefill=0):
    w = "bf16" if p.edge_weights == "-" else p.edge_weights
    return side_memory(TINY, p.layer, "edge", w, p.kv, n, "gpu-pytorch", 0.0, prefill=prefill).total_bytes


def _brute(setup, space, c):
    rows = []
    for p in space:
        r = simulate_generation(setup, p)
        mems = [_edge_mem(p, P, prefill=P)] + [_edge_mem(p, n) for n in range(P, P + G)]
        over = [n for n, b in zip([P] + list(range(P, P + G)), mems) if b > c.edge_memory_gb * 1e9]
        ok = not over and r.server_ms_per_token <= c.server_ms and r.tpot_max_ms <= c.latency_ms
        rows.append((p, r, ok, over[0] if over else None, mems[-1]))
    return rows


@pytest.mark.parametrize("seed", range(6))
def test_choice_matches_brute_force(setup, space, seed):
    rng = np.random.default_rng(seed)
    loose = Constraints(1e6, 80.0, edge_workspace_mb=0.0)
    ref = run_search(setup, loose, space)
    lat = np.array([e.result.tpot_max_ms for e in ref])
    srv = np.array([e.result.server_ms_per_token for e in ref])
    # a budget that some point crosses in the middle of the generation
    pick = ref[rng.integers(len(ref))].point
    while pick.layer == 0:
        pick = ref[rng.integers(len(ref))].point
    t = int(rng.integers(P, P + G))
    budget_gb = _edge_mem(pick, t) / 1e9
    c = Constraints(budget_gb, 80.0, float(np.quantile(srv, rng.uniform(0.3, 1.0))),
                    float(np.quantile(lat, rng.uniform(0.05, 0.9))), edge_workspace_mb=0.0)
    ev = run_search(setup, c, space)
    brute = _brute(setup, space, c)
    assert [e.feasible for e in ev] == [b[2] for b in brute]
    for e, (_, _, _, first_over, _) in zip(ev, brute):
        if first_over is not None:
            assert f"out of edge memory at token {first_over}" in e.violations["edge_memory"]
    feasible = [b for b in brute if b[2]]
    best = best_point(ev, "latency", TINY.layers)
    if not feasible:
        assert best is None
        return
    assert best is not None and best.feasible
    b = next(x for x in brute if x[0] == best.point)
    assert b[4] <= budget_gb * 1e9                                  # memory at the last generated token
    assert best.result.tpot_max_ms <= c.latency_ms
    assert best.result.tpot_max_ms == min(x[1].tpot_max_ms for x in feasible)
    bits = best_point(ev, "bits", TINY.layers)
    assert bits.feasible
    assert mean_weight_bits(bits.point, TINY.layers) == max(mean_weight_bits(x[0], TINY.layers) for x in feasible)


def test_some_case_has_points_out_of_memory_mid_generation(setup, space):
    """The cases above exercise the growing KV cache: a budget crossed at a token after the prompt."""
    p = next(q for q in space if q.layer == TINY.layers and q.edge_weights == "bf16")
    budget = _edge_mem(p, P + G // 2) / 1e9
    e = run_search(setup, Constraints(budget, 80.0, edge_workspace_mb=0.0), [p])[0]
    assert f"at token {P + G // 2 + 1}:" in e.violations["edge_memory"]
    assert e.max_tokens == P + G // 2


def test_pareto_front_is_non_dominated(setup, space):
    ev = run_search(setup, Constraints(1e6, 80.0, edge_workspace_mb=0.0), space)
    front = pareto_front(ev)

    def obj(e):
        return (e.result.tpot_max_ms, e.edge_memory_bytes, e.result.link_bytes)
    for f in front:
        assert not any(all(a <= b for a, b in zip(obj(o), obj(f))) and obj(o) != obj(f) for o in ev)
    for e in ev:          # every point is on the front or dominated by (or equal to) a front point
        assert any(all(a <= b for a, b in zip(obj(f), obj(e))) for f in front)
