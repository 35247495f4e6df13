"""Measurement harness (`decodesim measure`): real batch-1 decode on the device present.

Builds a catalog model in PyTorch with seeded random weights, fills its KV cache to
each context of a grid (cache contents do not change the timing), and times greedy
decode steps at exactly that context: warm-up first, then ``steps`` timed steps,
synchronised (CUDA events on a GPU). On a GPU each context is measured eagerly and
replayed from a captured CUDA graph. A memory-bandwidth probe (large tensor copy)
and the device, driver and library versions are recorded with every row.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import socket
import subprocess
import time
from pathlib import Path

import numpy as np

from .workload import load_model
from .workload.model import ModelConfig
from .workload.weights import init_weights

ROOT = Path(__file__).resolve().parents[1]


def bandwidth_probe_gbps(device: str, mib: int = 256, repeats: int = 5) -> float:
    """Best of ``repeats`` copies of a ``mib`` MiB buffer: (read + write bytes) / time."""
    import torch
    n = mib * (1 << 20) // 4
    src = torch.ones(n, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    best = float("inf")
    for _ in range(repeats + 1):
        t = _now(device)
        dst.copy_(src)
        best = min(best, _elapsed(device, t))
    return 2 * n * 4 / best / 1e9


def _now(device):
    import torch
    if device.startswith("cuda"):
        ev = torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        ev.record()
        return ev
    return time.perf_counter()


def _elapsed(device, start) -> float:
    import torch
    if device.startswith("cuda"):
        end = torch.cuda.Event(enable_timing=True)
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / 1e3
    return time.perf_counter() - start


def _provenance(device: str) -> dict:
    import torch
    p = {"host": socket.gethostname(), "platform": platform.platform(), "python": platform.python_version(),
         "torch": torch.__version__, "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
         "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    try:
        p["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                         text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        p["git_commit"] = ""
    if device.startswith("cuda"):
        p["device_name"] = torch.cuda.get_device_name()
        p["cuda"] = torch.version.cuda
        try:
            p["driver"] = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                         capture_output=True, text=True).stdout.strip()
        except OSError:
            p["driver"] = ""
    else:
        p["device_name"] = p["cpu"]
    return p


def _fill_cache(model, context, seed):
    import torch
    g = torch.Generator(device="cpu").manual_seed(seed)
    for blk in model.layers:
        kv = blk.attn.kv_append
        kv.k[:, :, :context] = torch.randn(kv.k[:, :, :context].shape, generator=g).to(kv.k) * 0.02
        kv.v[:, :, :context] = torch.randn(kv.v[:, :, :context].shape, generator=g).to(kv.v) * 0.02


def _set_pos(model, context):
    for blk in model.layers:
        blk.attn.kv_append.n = context


def time_steps(model, context, steps, warmup, device, graphs=False) -> np.ndarray:
    """Seconds per decode step at ``context`` (the cache pointer is reset before each step)."""
    import torch
    ids = torch.zeros(model.layers[0].attn.kv_append.k.shape[0], dtype=torch.long, device=device)
    if graphs:
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                _set_pos(model, context)
                model(ids, context)
        torch.cuda.current_stream().wait_stream(s)
        graph = torch.cuda.CUDAGraph()
        _set_pos(model, context)
        with torch.cuda.graph(graph):
            out = model(ids, context)
        step = graph.replay
    else:
        def step():
            _set_pos(model, context)
            return model(ids, context)
    times = []
    for i in range(warmup + steps):
        t = _now(device)
        r = step()
        if not graphs:
            ids = r.argmax(-1)            # greedy: the next input depends on this output
        else:
            ids.copy_(out.argmax(-1))
        e = _elapsed(device, t)
        if i >= warmup:
            times.append(e)
    return np.array(times)


def run_harness(model_name: str, contexts, steps=10, warmup=3, device=None, weights=None, seed=0,
                graphs=None, fit_first=True, device_config=None, progress=True):
    import pandas as pd
    import torch

    from .workload.torch_model import DecoderLM
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    weights = weights or ("bf16" if device.startswith("cuda") else "fp32")
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[weights]
    m = model_name if isinstance(model_name, ModelConfig) else load_model(model_name)
    model_name = m.name
    contexts = sorted(int(c) for c in contexts)
    model = DecoderLM(m, init_weights(m, seed), batch=1, max_len=max(contexts) + 1, device=device, dtype=dtype)
    probe = bandwidth_probe_gbps(device)
    prov = _provenance(device)
    modes = [("eager", False)] + ([("cuda_graphs", True)] if (graphs if graphs is not None else device.startswith("cuda")) else [])
    rows = []
    for i, ctx in enumerate(contexts):
        _fill_cache(model, ctx, seed)
        for mode, g in modes:
            t = time_steps(model, ctx, steps, warmup, device, graphs=g) * 1e3
            rows.append({"model": model_name, "weights": weights, "batch": 1, "context": ctx, "mode": mode,
                         "ms_per_step_median": float(np.median(t)), "ms_per_step_p10": float(np.percentile(t, 10)),
                         "ms_per_step_p90": float(np.percentile(t, 90)), "steps": steps, "warmup": warmup,
                         "probe_gbps": probe, "device": device,
                         "device_config": device_config or ("host-cpu" if device == "cpu" else ""),
                         "role": "fit" if (fit_first and i == 0) else "heldout", **prov})
            if progress:
                print(f"  {model_name} ctx {ctx:5d} {mode:11s} {rows[-1]['ms_per_step_median']:8.2f} ms/step "
                      f"(p10 {rows[-1]['ms_per_step_p10']:.2f}, p90 {rows[-1]['ms_per_step_p90']:.2f})", flush=True)
    return pd.DataFrame(rows)
