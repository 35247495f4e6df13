"""Joint search over split points under memory, server-time and latency constraints.

Space: split layer (0..L), edge and server weight formats, activation bits on the link. Each
point is simulated (:func:`.pipeline.simulate_generation`) and checked, in this order:

* ``edge_memory``: the edge's memory (:mod:`.memory`) during prefill and at every token up to the
  last generated one (KV length ``prompt + generate - 1``) fits the edge budget; the report
  names the first token position that does not ("out of edge memory at token N");
* ``server_memory``: the same for the server against its capacity;
* ``server_time``: the server's compute per decode step (the slowest step) within the budget;
* ``latency``: the slowest time between tokens at the edge within the target;
* ``ttft``: the time to the first token at the edge (prefill, the prompt's hidden states on the
  uplink) within its target.

A point that passes all of them is feasible. The Pareto front is taken over the feasible points on
(per-token latency, edge memory at the last token, link bytes), all minimised. The best point:
``objective="latency"``: the lowest per-token latency, then the least edge memory, then the
fewest link bytes; ``objective="bits"``: the most weight bits per layer on average, then the
most activation bits (a proxy for accuracy, which this simulator does not model), then latency.
Every point also reports ``max_tokens``: the longest sequence its edge memory admits.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from ..config_io import check_float, check_int
from ..errors import ConfigError
from ..workload.workload import WEIGHT_FORMATS
from .memory import first_oom_token, side_memory
from .pipeline import SplitPoint, SplitResult, SplitSetup, simulate_generation

GB = 1e9
PROMPT_MAX = 65536          # longest prompt a split run takes (tokens)
STAGING_US_MAX = 1e6        # largest host-memory staging cost (us)
CONSTRAINTS = ("edge_memory", "server_memory", "server_time", "latency", "ttft")


@dataclass
class Constraints:
    edge_memory_gb: float                 # edge budget (GB = 1e9 bytes)
    server_memory_gb: float = float("inf")
    server_ms: float = float("inf")       # server compute per token
    latency_ms: float = float("inf")      # time between tokens at the edge
    ttft_ms: float = float("inf")         # time to the first token at the edge
    edge_workspace_mb: float | None = None
    server_workspace_mb: float | None = None


def check_request(names: dict, prompt, staging_us):
    """Range checks of the request shared by ``decodesim split`` and split sweep points;
    ``names``: field -> (source, key) to name in the error (an option: ``("--prompt", "")``).
    Raises ConfigError."""
    check_int(*names["prompt"], prompt, 1, PROMPT_MAX)
    if staging_us is not None:
        check_float(*names["staging_us"], staging_us, 0.0, STAGING_US_MAX)


def make_constraints(names: dict, edge, server, edge_memory_gb, server_ms, latency_ms, ttft_ms,
                     edge_workspace_mb=None) -> Constraints:
    """Constraints of a split run, each checked: the edge budget (GB, default the edge device's
    capacity) in (0, 1e6]; the ms budgets > 0 (None: no budget). ``names`` as in check_request.
    Raises ConfigError."""
    budget = edge.memory["capacity_gb"] if edge_memory_gb is None else \
        check_float(*names["edge_memory_gb"], edge_memory_gb, 1e-6, 1e6)
    ms = []
    for field_, v in (("server_ms", server_ms), ("latency_ms", latency_ms), ("ttft_ms", ttft_ms)):
        v = float("inf") if v is None else check_float(*names[field_], v, -float("inf"), float("inf"))
        if not v > 0:
            raise ConfigError(*names[field_], f"{v} out of range; allowed > 0 ms")
        ms.append(v)
    return Constraints(budget, server.memory["capacity_gb"], *ms, edge_workspace_mb)


@dataclass
class Evaluated:
    result: SplitResult
    edge_memory_bytes: int                # at the last generated token (or prefill, if larger)
    server_memory_bytes: int
    max_tokens: int                       # longest sequence (KV length) the edge budget admits
    violations: dict = field(default_factory=dict)     # constraint -> message

    @property
    def point(self) -> SplitPoint:
        return self.result.point

    @property
    def feasible(self) -> bool:
        return not self.violations

    def as_dict(self) -> dict:
        return {**self.result.as_dict(), "edge_memory_gb": self.edge_memory_bytes / GB,
                "server_memory_gb": self.server_memory_bytes / GB, "max_tokens": self.max_tokens,
                "feasible": self.feasible, "violations": dict(self.violations)}


def search_space(layers: int, split_layers=None, edge_weights=("int4", "int8", "bf16"),
                 server_weights=("bf16", "int8"), act_bits=(4, 8, 16), outlier_frac=0.0, kv="bf16") -> list:
    """All distinct points (fields that do not matter at k = 0 or k = L collapsed)."""
    ks = range(layers + 1) if split_layers is None else split_layers
    seen, out = set(), []
    for k, ew, sw, ab in itertools.product(ks, edge_weights, server_weights, act_bits):
        p = SplitPoint(int(k), ew, sw, int(ab), outlier_frac, kv).canonical(layers)
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def _memory(setup: SplitSetup, p: SplitPoint, side: str, tokens: int, workspace_mb, prefill=0) -> int:
    w = p.edge_weights if side == "edge" else p.server_weights
    rt = (setup.edge_runtime if side == "edge" else setup.server_runtime).name
    return side_memory(setup.model, p.layer, side, "bf16" if w == "-" else w, p.kv, tokens, rt,
                       workspace_mb, prefill=prefill).total_bytes


def _oom(setup, p, side, budget_bytes, workspace_mb):
    """First token position over the budget (prefill counts as position ``prompt``), or None."""
    P, last = setup.prompt, setup.prompt + setup.generate - 1
    if _memory(setup, p, side, P, workspace_mb, prefill=P) > budget_bytes:
        return P
    w = p.edge_weights if side == "edge" else p.server_weights
    rt = (setup.edge_runtime if side == "edge" else setup.server_runtime).name
    return first_oom_token(setup.model, p.layer, side, "bf16" if w == "-" else w, p.kv, rt, budget_bytes,
                           P, max(last, P), workspace_mb)


def evaluate(setup: SplitSetup, p: SplitPoint, c: Constraints) -> Evaluated:
    """Simulate ``p`` and check it against ``c``."""
    r = simulate_generation(setup, p)
    last = setup.prompt + setup.generate - 1
    P = setup.prompt
    e_mem = max(_memory(setup, p, "edge", last, c.edge_workspace_mb),
                _memory(setup, p, "edge", P, c.edge_workspace_mb, prefill=P))
    s_mem = max(_memory(setup, p, "server", last, c.server_workspace_mb),
                _memory(setup, p, "server", P, c.server_workspace_mb, prefill=P))
    budget = c.edge_memory_gb * GB
    ew = "bf16" if p.edge_weights == "-" else p.edge_weights
    cap = setup.model.max_positions
    oom_any = first_oom_token(setup.model, p.layer, "edge", ew, p.kv, setup.edge_runtime.name, budget, 0, cap,
                              c.edge_workspace_mb)
    max_tokens = cap if oom_any is None else max(oom_any - 1, 0)
    v = {}
    n = _oom(setup, p, "edge", budget, c.edge_workspace_mb)
    if n is not None:
        v["edge_memory"] = (f"out of edge memory at token {n}" + (" (prefill)" if n == P else "")
                            + f": {_memory(setup, p, 'edge', n, c.edge_workspace_mb, prefill=P if n == P else 0) / GB:.3f}"
                            f" GB > {c.edge_memory_gb:g} GB")
    n = _oom(setup, p, "server", c.server_memory_gb * GB, c.server_workspace_mb)
    if n is not None:
        v["server_memory"] = f"out of server memory at token {n} (> {c.server_memory_gb:g} GB)"
    if r.server_ms_per_token > c.server_ms:
        v["server_time"] = f"server {r.server_ms_per_token:.3f} ms/token > budget {c.server_ms:g} ms"
    if r.tpot_max_ms > c.latency_ms:
        v["latency"] = f"{r.tpot_max_ms:.3f} ms/token > target {c.latency_ms:g} ms"
    if r.ttft_ms > c.ttft_ms:
        v["ttft"] = f"TTFT {r.ttft_ms:.1f} ms > target {c.ttft_ms:g} ms"
    return Evaluated(r, e_mem, s_mem, max_tokens, v)


def pareto_front(points: list) -> list:
    """The feasible points no other feasible point dominates on (per-token latency, edge
    memory, link bytes), sorted by latency."""
    ok = [e for e in points if e.feasible]

    def obj(e):
        return (e.result.tpot_max_ms, e.edge_memory_bytes, e.result.link_bytes)
    front = [e for e in ok if not any(all(a <= b for a, b in zip(obj(o), obj(e))) and obj(o) != obj(e) for o in ok)]
    uniq, seen = [], set()
    for e in sorted(front, key=obj):
        if obj(e) not in seen:
            seen.add(obj(e))
            uniq.append(e)
    return uniq


def mean_weight_bits(p: SplitPoint, layers: int) -> float:
    b = {f: WEIGHT_FORMATS[f][0] for f in WEIGHT_FORMATS}
    e = b.get(p.edge_weights, 0) * p.layer
    s = b.get(p.server_weights, 0) * (layers - p.layer)
    return (e + s) / layers


def rank_key(e: Evaluated, objective: str, layers: int):
    lat = (e.result.tpot_max_ms, e.edge_memory_bytes, e.result.link_bytes)
    if objective == "bits":
        return (-mean_weight_bits(e.point, layers), -e.point.act_bits) + lat
    return lat


def best_point(points: list, objective: str = "latency", layers: int = 1):
    """The best feasible point, or None when no point meets every constraint."""
    ok = [e for e in points if e.feasible]
    return min(ok, key=lambda e: rank_key(e, objective, layers)) if ok else None


def run_search(setup: SplitSetup, c: Constraints, space: list, progress=None) -> list:
    out = []
    for p in space:
        out.append(evaluate(setup, p, c))
        if progress:
            progress(1)
    return out
