"""Split decode as a SimPy system: edge device, uplink, server, downlink.

A generation of ``generate`` tokens after a ``prompt``-token prompt:

* prefill: the edge runs its layers over the prompt, the prompt's hidden states go up once,
  the server runs the rest and samples the first token, whose id comes back (time to first
  token, TTFT, is its arrival at the edge);
* decode step ``j`` (token ``j`` at context ``prompt + j - 1``): the edge embeds the last
  token and runs layers ``0..k-1``, one hidden state goes up, the server runs ``k..L-1`` and
  the LM head, the token id comes down. Split at ``k = L``: no link; at ``k = 0``: the server
  decodes on its own and streams the ids down (off the critical path).

The link carries one message at a time per direction (serialisation occupies it, the
half-round-trip propagation does not). Device segments are timed by the same lowering and
SimPy segment model as ``decodesim run`` (:func:`simulator.engine.sim.run_segment`), memoised
per (side, format, layers, context). Decode-step times are timed exactly at ``samples``
contexts spread over the generation and interpolated linearly in between (every kernel's time
is piecewise linear in the context); ``samples=0`` times every step.

Prefill is timed as one batched step of ``prompt`` tokens attending to the mean causal length
``(prompt + 1) / 2`` (an approximation: the weights are read once, attention work is the causal
mean). Edge energy: TDP while the edge computes or stages a copy, idle power while it waits;
radio energy is not modelled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
import simpy

from ..devices.config import Device, runtime_for
from ..engine.sim import StepResult, run_segment
from ..engine.timeline import COLUMNS, TimelineRow
from ..errors import ConfigError
from ..lowering.gpu import lower
from ..workload import Workload, generate_trace
from ..workload.model import ModelConfig
from ..workload.workload import KV_FORMATS, WEIGHT_FORMATS
from .link import TOKEN_ID_BYTES, Link, hidden_state_bytes, staging_ns
from .memory import side_layers


@dataclass(frozen=True)
class SplitPoint:
    """One design point: split layer and formats. ``layer`` 0 = all on the server, L = all on
    the edge; ``act_bits`` / ``outlier_frac`` encode the hidden state on the uplink."""
    layer: int
    edge_weights: str = "int4"
    server_weights: str = "bf16"
    act_bits: int = 16
    outlier_frac: float = 0.0
    kv: str = "bf16"

    def canonical(self, layers: int) -> "SplitPoint":
        """Fields that do not matter at the extremes set to fixed values (for de-duplication)."""
        p = self
        if p.layer == 0:
            p = replace(p, edge_weights="-")
        if p.layer == layers:
            p = replace(p, server_weights="-")
        if p.layer in (0, layers):
            p = replace(p, act_bits=16, outlier_frac=0.0)
        return p

    def label(self) -> str:
        return f"k={self.layer} edge={self.edge_weights} server={self.server_weights} act={self.act_bits}b"


@dataclass
class SplitSetup:
    """What the search does not change: model, devices, link, request, runtime modes."""
    model: ModelConfig
    edge: Device
    server: Device
    link: Link
    prompt: int = 128
    generate: int = 128
    edge_mode: str = "eager"
    server_mode: str = "cuda_graphs"
    staging_us: float | None = None        # None: no staging copy
    samples: int = 5

    def __post_init__(self):
        if not 1 <= self.prompt <= 65536:            # prefill is timed as one batch of the prompt
            raise ConfigError("split", "--prompt", f"{self.prompt} out of range; allowed [1, 65536]")
        if not 1 <= self.generate <= 1 << 20:
            raise ConfigError("split", "--generate", f"{self.generate} out of range; allowed [1, {1 << 20}]")
        from ..checks import check_sequence
        check_sequence(self.model, self.prompt, self.generate)
        # the profile that runs each side's mode (as `decodesim run --mode`): the device's own, or
        # the one for its backend (``llamacpp`` on a Metal edge -> llamacpp-metal); ConfigError else
        self.edge_runtime = runtime_for(self.edge, self.edge_mode)
        self.server_runtime = runtime_for(self.server, self.server_mode)
        self._kernels = {}
        self._segments = {}
        self._results = {}

    # ---- device segments ---------------------------------------------------------------
    def _lowered(self, side: str, weights: str, kv: str, batch: int, context: int) -> list:
        key = (side, weights, kv, batch, context)
        if key not in self._kernels:
            dev, rt, mode = self._side(side)
            tr = generate_trace(Workload(self.model, weights=weights, kv=kv, batch=batch), context)
            self._kernels[key] = lower(tr, dev, rt, mode)
        return self._kernels[key]

    def _side(self, side):
        if side == "edge":
            return self.edge, self.edge_runtime, self.edge_mode
        return self.server, self.server_runtime, self.server_mode

    def segment_ns(self, side: str, k: int, weights: str, kv: str, context: int, batch: int = 1) -> float:
        """Time of ``side``'s part of one step (batch 1 decode at ``context``, or a prefill
        batch) from its SimPy segment run; 0 when the side holds nothing."""
        lo, hi, embed, head = side_layers(self.model, k, side)
        if lo == hi and not embed and not head:
            return 0.0
        key = (side, k, weights, kv, context, batch)
        if key not in self._segments:
            L = self.model.layers
            ks = [x for x in self._lowered(side, weights, kv, batch, context)
                  if lo <= x.layer < hi or (x.layer < 0 and embed) or (x.layer >= L and head)]
            dev, rt, mode = self._side(side)
            env = simpy.Environment()
            env.process(run_segment(env, ks, dev, rt, mode, []))
            env.run()
            self._segments[key] = float(env.now)
        return self._segments[key]

    def step_times_ns(self, side: str, k: int, weights: str, kv: str) -> np.ndarray:
        """Decode-step times of ``side`` for steps 1..generate-1 (contexts prompt..prompt+generate-2)."""
        n = self.generate - 1
        if n <= 0:
            return np.zeros(0)
        ctx = np.arange(self.prompt, self.prompt + n)
        if self.samples and n > self.samples:
            at = np.unique(np.linspace(ctx[0], ctx[-1], self.samples).round().astype(int))
        else:
            at = ctx
        t = np.array([self.segment_ns(side, k, weights, kv, int(c)) for c in at])
        return np.interp(ctx, at, t)

    def prefill_ns(self, side: str, k: int, weights: str, kv: str) -> float:
        return self.segment_ns(side, k, weights, kv, (self.prompt - 1) // 2, batch=self.prompt)


@dataclass
class SplitResult:
    point: SplitPoint
    ttft_ms: float
    tpot_ms: float                 # mean time between tokens arriving at the edge
    tpot_max_ms: float             # the slowest step (the last, longest context)
    tokens_per_s: float            # decode throughput at the edge, (generate - 1) / decode time
    edge_ms_per_token: float       # mean edge compute per decode step
    server_ms_per_token: float     # server compute of the slowest decode step
    uplink_bytes: int
    downlink_bytes: int
    edge_energy_mj: float          # whole request (prefill + decode)
    total_ms: float                # request start to last token at the edge
    token_times_ms: list = field(default_factory=list, repr=False)

    @property
    def edge_mj_per_token(self) -> float:
        return self.edge_energy_mj / max(len(self.token_times_ms), 1)

    @property
    def link_bytes(self) -> int:
        return self.uplink_bytes + self.downlink_bytes

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("token_times_ms")
        d["point"] = asdict(self.point)
        d["link_bytes"] = self.link_bytes
        d["edge_mj_per_token"] = self.edge_mj_per_token
        return d


def check_point(setup: SplitSetup, p: SplitPoint):
    L = setup.model.layers
    if not 0 <= p.layer <= L:
        raise ConfigError("split", "layer", f"{p.layer} out of range; allowed [0, {L}] for {setup.model.name}")
    for key, v in (("edge_weights", p.edge_weights), ("server_weights", p.server_weights)):
        if v != "-" and v not in WEIGHT_FORMATS:
            raise ConfigError("split", key, f"{v!r} is not one of: {', '.join(WEIGHT_FORMATS)}")
    if p.kv not in KV_FORMATS:
        raise ConfigError("split", "kv", f"{p.kv!r} is not one of: {', '.join(KV_FORMATS)}")
    hidden_state_bytes(setup.model.hidden, p.act_bits, p.outlier_frac)


def simulate_generation(setup: SplitSetup, p: SplitPoint) -> SplitResult:
    """One request (prefill + ``generate`` tokens) at split point ``p`` through the SimPy
    pipeline; returns latencies, throughput, edge energy and link bytes. Memoised on the
    setup per (point, link, staging, request, samples)."""
    key = (p, setup.link, setup.staging_us, setup.prompt, setup.generate, setup.samples)
    if key not in setup._results:
        setup._results[key] = _simulate_generation(setup, p)
    return setup._results[key]


def _simulate_generation(setup: SplitSetup, p: SplitPoint) -> SplitResult:
    check_point(setup, p)
    m, L, G, P = setup.model, setup.model.layers, setup.generate, setup.prompt
    k = p.layer
    ew = p.edge_weights if p.edge_weights != "-" else "bf16"
    sw = p.server_weights if p.server_weights != "-" else "bf16"
    e_steps = setup.step_times_ns("edge", k, ew, p.kv)
    s_steps = setup.step_times_ns("server", k, sw, p.kv)
    e_pre, s_pre = setup.prefill_ns("edge", k, ew, p.kv), setup.prefill_ns("server", k, sw, p.kv)
    hs = hidden_state_bytes(m.hidden, p.act_bits, p.outlier_frac)
    link = setup.link
    stage = (lambda b: staging_ns(b, setup.edge.memory["peak_gbps"], setup.staging_us)) \
        if setup.staging_us is not None else (lambda b: 0.0)

    env = simpy.Environment()
    up_link, down_link = simpy.Resource(env, 1), simpy.Resource(env, 1)
    to_server, to_edge = simpy.Store(env), simpy.Store(env)
    arrivals, edge_busy, bytes_moved = [], [0.0], {"up": 0, "down": 0}

    def send(res, store, nbytes, up, item):
        with res.request() as req:
            yield req
            rate = link.uplink_mbps if up else link.downlink_mbps
            yield env.timeout(nbytes * 8 / rate * 1e3)
        bytes_moved["up" if up else "down"] += nbytes
        yield env.timeout(link.rtt_ms * 1e6 / 2)
        store.put(item)

    def edge_compute(ns):
        edge_busy[0] += ns
        yield env.timeout(ns)

    def edge():
        if k == L:                                      # everything local
            yield from edge_compute(e_pre)
            arrivals.append(env.now)
            for j in range(G - 1):
                yield from edge_compute(e_steps[j])
                arrivals.append(env.now)
            return
        if k == 0:                                      # prompt ids up, tokens stream back
            env.process(send(up_link, to_server, P * TOKEN_ID_BYTES, True, "prefill"))
        else:
            yield from edge_compute(e_pre + stage(P * hs))
            env.process(send(up_link, to_server, P * hs, True, "prefill"))
        for j in range(G):
            yield to_edge.get()
            if k:
                yield from edge_compute(stage(TOKEN_ID_BYTES))
            arrivals.append(env.now)
            if k and j < G - 1:
                yield from edge_compute(e_steps[j] + stage(hs))
                env.process(send(up_link, to_server, hs, True, j))

    def server():
        yield to_server.get()
        yield env.timeout(s_pre)
        env.process(send(down_link, to_edge, TOKEN_ID_BYTES, False, 0))
        for j in range(G - 1):
            if k:
                yield to_server.get()
            yield env.timeout(s_steps[j])
            env.process(send(down_link, to_edge, TOKEN_ID_BYTES, False, j + 1))

    env.process(edge())
    if k < L:
        env.process(server())
    env.run()
    t = np.array(arrivals)
    gaps = np.diff(t)
    total = float(t[-1])
    busy = edge_busy[0]
    energy_j = (setup.edge.power["tdp_w"] * busy + setup.edge.power["idle_w"] * max(total - busy, 0.0)) * 1e-9
    return SplitResult(
        point=p, ttft_ms=float(t[0]) / 1e6, tpot_ms=float(gaps.mean()) / 1e6 if len(gaps) else 0.0,
        tpot_max_ms=float(gaps.max()) / 1e6 if len(gaps) else 0.0,
        tokens_per_s=float(len(gaps) / ((t[-1] - t[0]) * 1e-9)) if len(gaps) else 0.0,
        edge_ms_per_token=float(e_steps.mean()) / 1e6 if len(e_steps) else e_pre / 1e6,
        server_ms_per_token=float(s_steps.max()) / 1e6 if len(s_steps) else s_pre / 1e6,
        uplink_bytes=int(bytes_moved["up"]), downlink_bytes=int(bytes_moved["down"]), edge_energy_mj=float(energy_j * 1e3),
        total_ms=total / 1e6, token_times_ms=[float(x) for x in t / 1e6])


def simulate_split(model, context: int, k: int, edge: Device, server: Device, edge_weights="int8",
                   server_weights="bf16", link_gbps=0.1, link_latency_ms=20.0, act_bits=16,
                   edge_mode="eager", server_mode="cuda_graphs") -> StepResult:
    """One decode step at ``context`` split at layer ``k`` with its per-op timeline: the edge's
    kernels, the hidden state up (``link_gbps`` GB/s, ``link_latency_ms`` one way), the
    server's kernels, the token id down. ``k = 0`` is the server alone (the token stream back
    is off the critical path), ``k = L`` the edge alone. For whole generations, constraints
    and the search use :func:`simulate_generation` / :mod:`simulator.split.search`."""
    from ..workload import load_model
    m = load_model(model) if isinstance(model, str) else model
    lk = Link("simulate_split", link_gbps * 8000, link_gbps * 8000, 2 * link_latency_ms)
    setup = SplitSetup(m, edge, server, lk, prompt=max(context, 1), generate=1, edge_mode=edge_mode,
                       server_mode=server_mode)
    p = SplitPoint(k, edge_weights, server_weights, act_bits)
    check_point(setup, p)
    env = simpy.Environment()
    rows = []
    hs = hidden_state_bytes(m.hidden, act_bits)

    def part(side, weights):
        lo, hi, embed, head = side_layers(m, k, side)
        dev, rt, mode = setup._side(side)
        ks = [x for x in setup._lowered(side, weights, "bf16", 1, context)
              if lo <= x.layer < hi or (x.layer < 0 and embed) or (x.layer >= m.layers and head)]
        return env.process(run_segment(env, ks, dev, rt, mode, rows)) if ks else None

    def transfer(nbytes, up):
        start = env.now
        yield env.timeout(lk.transfer_ns(nbytes, up))
        rows.append(TimelineRow(op="uplink" if up else "downlink", kind="link", layer=k, device="link",
                                start_ns=start, end_ns=env.now, bytes=nbytes, flops=0, bound="link", kernels=0))

    def flow():
        e = part("edge", edge_weights)
        if e is not None:
            yield e
        if 0 < k < m.layers:
            yield env.process(transfer(hs, True))
        s = part("server", server_weights)
        if s is not None:
            yield s
        if 0 < k < m.layers:
            yield env.process(transfer(TOKEN_ID_BYTES, False))

    env.process(flow())
    env.run()
    return StepResult(pd.DataFrame(rows, columns=COLUMNS), env.now)
