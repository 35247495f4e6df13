"""SimPy system model of one decode step.

* eager: a host process dispatches kernels one by one (``host_ns`` each) into a
  queue; the device process runs them in order as they arrive. The device idles
  when dispatch is slower than execution (small kernels on a fast GPU), which is
  why fast GPUs reach a small fraction of their memory floor at batch 1.
* cuda_graphs / compiled: one graph launch per step puts every kernel in the
  queue at once.
* synchronous (CPU): the host runs each op itself: dispatch then compute.
* split: a prefix of layers on one device, a link, the rest on another
  (simulator/split/, which reuses :func:`run_segment`).

SimPy stays at op level; DRAM behaviour enters through the lowering's
bandwidth (from the command-level core, memoised).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import simpy

from ..devices.config import Device, Runtime, load_device, runtime_for
from ..lowering.gpu import lower
from ..workload import Workload, generate_trace, load_model
from .timeline import COLUMNS, TimelineRow


@dataclass
class StepResult:
    """One simulated decode step: ``timeline``, a DataFrame with one row per kernel (columns of
    :data:`.timeline.COLUMNS`: op, kind, layer, device, start_ns, end_ns, bytes, flops, bound,
    kernels; times in ns, bytes in bytes) and ``latency_ns``, the step's wall time in ns (when the
    last op ends: host dispatch, graph launch and, for a split step, the link included)."""
    timeline: pd.DataFrame      # op, kind, layer, device, start_ns, end_ns, bytes, flops, bound
    latency_ns: float

    @property
    def latency_ms(self) -> float:
        """The step latency in ms: ``latency_ns`` / 1e6."""
        return self.latency_ns / 1e6

    def breakdown_ns(self) -> dict:
        """Time of the step by what bounds it (``memory``, ``compute``, ``overhead`` (the fixed GPU-side
        time of kernel launches), ``dispatch`` (host dispatch of a synchronous CPU runtime), ``link``) plus ``idle``: the
        time no op runs (a GPU waiting for host dispatch, a graph launch). The parts add up to
        ``latency_ns``."""
        tl = self.timeline
        busy = {k: float(v) for k, v in (tl.end_ns - tl.start_ns).groupby(tl.bound).sum().items()}
        busy["idle"] = max(0.0, float(self.latency_ns) - sum(busy.values()))
        return busy


def _device_proc(env, q, n, name, rows):
    for _ in range(n):
        k = yield q.get()
        start = env.now
        yield env.timeout(k.device_ns)
        rows.extend(_rows(k, name, start, env.now))


def _host_proc(env, q, kernels, graph, graph_launch_ns):
    if graph:
        yield env.timeout(graph_launch_ns)
        for k in kernels:
            q.put(k)
        return
    for k in kernels:
        yield env.timeout(k.host_ns)
        q.put(k)


def _sync_proc(env, kernels, name, rows):
    """The host runs each op itself: its dispatch (a row bound ``dispatch``, no bytes or kernels), then the
    kernel (a row bound as the lowering says), so the breakdown keeps host time apart from memory time."""
    for k in kernels:
        if k.host_ns:
            start = env.now
            yield env.timeout(k.host_ns)
            rows.append(TimelineRow(op=k.op, kind=k.kind, layer=k.layer, device=name, start_ns=start,
                                    end_ns=env.now, bytes=0, flops=0.0, bound="dispatch", kernels=0))
        start = env.now
        yield env.timeout(k.device_ns)
        rows.extend(_rows(k, name, start, env.now))


def _rows(k, unit: str, start: float, end: float) -> list:
    """A kernel's timeline rows: the fixed GPU-side time of its launches (bound ``overhead``, no bytes or
    kernels; absent when zero), then its work (bound as the lowering says, with its bytes and launches)."""
    rows = []
    if k.overhead_ns:
        rows.append(TimelineRow(op=k.op, kind=k.kind, layer=k.layer, device=unit, start_ns=start,
                                end_ns=start + k.overhead_ns, bytes=0, flops=0.0, bound="overhead", kernels=0))
        start += k.overhead_ns
    rows.append(TimelineRow(op=k.op, kind=k.kind, layer=k.layer, device=unit, start_ns=start, end_ns=end,
                            bytes=k.bytes, flops=k.flops, bound=k.bound, kernels=k.kernels))
    return rows


def run_segment(env, kernels, dev: Device, rt: Runtime, mode: str, rows):
    """Generator: the ops of one device segment, as SimPy processes."""
    m = rt.mode(mode)
    if m.get("synchronous"):
        yield env.process(_sync_proc(env, kernels, dev.name, rows))
        return
    q = simpy.Store(env)
    env.process(_host_proc(env, q, kernels, m["graph"], rt.graph_launch_us * 1e3))
    yield env.process(_device_proc(env, q, len(kernels), dev.name, rows))


def simulate_step(workload: Workload, context: int, dev: Device, mode: str = "eager",
                  runtime: Runtime | None = None) -> StepResult:
    """One decode step of ``workload`` at ``context`` cached tokens on ``dev`` in runtime ``mode``
    (eager, graph, ...; ``runtime``: the profile, default :func:`runtime_for`). Returns the
    :class:`StepResult`: timeline (one row per kernel, times in ns) and latency_ns.

    Raises ConfigError for a mode the device's runtimes do not offer or a context beyond the
    model's positions."""
    rt = runtime or runtime_for(dev, mode)
    kernels = lower(generate_trace(workload, context), dev, rt, mode)
    env = simpy.Environment()
    rows = []
    env.process(run_segment(env, kernels, dev, rt, mode, rows))
    env.run()
    return StepResult(pd.DataFrame(rows, columns=COLUMNS), env.now)


def simulate_split(model, context: int, k: int, edge, server, *args, **kwargs) -> StepResult:
    """One split decode step with its timeline; kept here as the entry point of
    :func:`simulator.split.pipeline.simulate_split` (the split model lives in simulator/split/).
    ``model``, ``edge`` and ``server`` are names (or YAML paths) or loaded objects, as in :func:`predict`;
    ``k``: layers run on the edge; ``context``: cached tokens. Returns a :class:`StepResult` (times in
    ns). Raises ConfigError as the split model does (unknown names, a split point out of range)."""
    from ..split.pipeline import simulate_split as _simulate_split
    edge = load_device(edge) if isinstance(edge, str) else edge
    server = load_device(server) if isinstance(server, str) else server
    return _simulate_split(model, context, k, edge, server, *args, **kwargs)


def predict(model, device, context: int, weights="bf16", kv="bf16", batch=1, mode="eager",
            group_size=0) -> StepResult:
    """One decode step of ``model`` (catalog name, model YAML or Hugging Face config.json path,
    or a ModelConfig) on ``device`` (name, YAML path or Device) with ``context`` tokens in the
    KV cache. ``weights``: any name in :mod:`simulator.workload.formats` (``bf16``, ``q4_k_m``,
    ``awq``, ``exl2-4.65`` ...); ``mode``: ``eager``, ``cuda_graphs``, ``compiled`` (PyTorch),
    ``llamacpp`` (the device backend's llama.cpp profile) or an engine (``tensorrt_llm``, ``mlc``,
    ``exllamav2``, ``tinychat``, ``vllm``). Returns the StepResult (``latency_ms``,
    ``breakdown_ns()`` adding up to the latency, per-op ``timeline``). Raises ConfigError on
    unknown names, bad values, a context beyond the model's positions or a workload that does
    not fit the device's memory."""
    from ..checks import check_fits, check_positions
    m = load_model(model) if isinstance(model, str) else model
    dev = load_device(device) if isinstance(device, str) else device
    w = Workload(m, weights=weights, kv=kv, batch=batch, group_size=group_size)
    check_positions(m, context)
    check_fits(w, context, float(dev.memory["capacity_gb"]) * 1e9, dev.name)
    return simulate_step(w, context, dev, mode)


def memory_floor_ms(model: str, device: str, context: int, weights="bf16", kv="bf16") -> float:
    """Analytic floor: bytes of one step / the device's peak bandwidth."""
    w = Workload(load_model(model), weights=weights, kv=kv)
    return generate_trace(w, context).totals()["bytes"] / (load_device(device).memory["peak_gbps"] * 1e6)
