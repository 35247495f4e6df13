"""Evaluate one sweep point (a resolved config) into a row of metrics."""

from __future__ import annotations

from ..config_io import check_keys
from ..errors import ConfigError

WORKLOAD_KEYS = {"context", "weights", "kv", "kv_window", "group_size", "batch", "mode"}


def check_point(cfg: dict, src: str, hw_cache: dict | None = None):
    """Everything about a point that can be checked without simulating it: workload keys and
    values, the hardware (name or path, overrides applied and validated like the YAML) and the
    options its backend can honour. Raises ConfigError naming ``src`` (the spec) and the key."""
    import json

    from ..hw import check_backend, load_hw
    from ..workload import Workload, load_model
    wl = cfg["workload"]
    check_keys(src, "workload", wl, {"model"}, WORKLOAD_KEYS)
    try:
        sig = json.dumps([cfg["hw"], cfg.get("overrides", {})], sort_keys=True, default=str)
        h = (hw_cache or {}).get(sig) or load_hw(cfg["hw"], cfg.get("overrides"))
        if hw_cache is not None:
            hw_cache[sig] = h
        m = load_model(wl["model"])
        Workload(m, weights=wl.get("weights", "bf16"), kv=wl.get("kv", "bf16"), kv_window=wl.get("kv_window", 0),
                 batch=wl.get("batch", 1), group_size=wl.get("group_size", 0))
        check_backend(h.kind, {"weights": wl.get("weights"), "batch": wl.get("batch"), "mode": wl.get("mode"),
                               "group_size": wl.get("group_size")}, src=f"{src}: workload")
    except ConfigError as exc:
        raise ConfigError(src, None, f"point {describe(cfg)}: {exc}") from None
    return h


def describe(cfg) -> str:
    """``key=value, ...`` of a point's configuration, for messages."""
    from .spec import flat_view
    return ", ".join(f"{k}={v}" for k, v in flat_view(cfg).items())


def evaluate(cfg: dict) -> dict:
    """Metrics of one point: latency (ms/token), energy (mJ/token), row-hit rate and
    ``frac_<part>`` = share of the latency (see :func:`simulator.pim.compare.run_one`); split
    points (a ``split`` section) by :func:`simulator.split.sweep.evaluate_point`."""
    if "split" in cfg:
        from ..split.sweep import evaluate_point
        return evaluate_point(cfg)
    from ..pim.compare import run_one
    wl = cfg["workload"]
    r = run_one(wl["model"], cfg["hw"], int(wl.get("context", 512)), weights=wl.get("weights", "bf16"),
                batch=wl.get("batch", 1), kv=wl.get("kv", "bf16"), kv_window=wl.get("kv_window", 0),
                group_size=wl.get("group_size", 0), mode=wl.get("mode"), overrides=cfg.get("overrides"),
                allow_overcommit=cfg.get("allow_overcommit", False))
    return {k: v for k, v in r.items() if k not in ("hw", "kind", "breakdown_ns", "result", "hw_result")}
