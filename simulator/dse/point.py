"""Evaluate one sweep point (a resolved config) into a row of metrics."""

from __future__ import annotations


from ..errors import ConfigError


def set_dotted(d: dict, dotted: str, value, src):
    """Set ``d[a][b][c] = value`` for ``dotted`` = "a.b.c"; ConfigError naming ``src`` and the key
    when a key along the path does not exist (overrides never add keys)."""
    keys = dotted.split(".")
    cur = d
    for k in keys[:-1]:
        if k not in cur or not isinstance(cur[k], dict):
            raise ConfigError(src, dotted, f"no such key {k!r}")
        cur = cur[k]
    if keys[-1] not in cur:
        raise ConfigError(src, dotted, f"no such key {keys[-1]!r}; keys here: {', '.join(cur)}")
    cur[keys[-1]] = value


def evaluate(cfg: dict) -> dict:
    """Metrics of one point: latency (ms/token), energy (mJ/token), row-hit rate, time fractions."""
    if "split" in cfg:
        from ..split.sweep import evaluate_point
        return evaluate_point(cfg)
    from ..devices.config import DEVICE_DIR, list_devices
    from ..pim.config import PIM_DIR, list_pims
    from ..workload import Workload, load_model
    wl = cfg["workload"]
    m = load_model(wl["model"])
    context = int(wl.get("context", 512))
    hw = cfg["hw"]
    ov = cfg.get("overrides", {})
    if hw in list_pims():
        from ..pim.config import load_pim
        from ..pim.system import simulate_token
        for k in ov:
            if not k.startswith("pim."):
                raise ConfigError(hw, k, "a PIM point takes pim.* overrides")
        pim = load_pim(PIM_DIR / f"{hw}.yaml", ov)
        s = simulate_token(pim, Workload(m, weights="bf16", kv=wl.get("kv", "bf16")), context)
        tot = sum(s.breakdown_ns.values())
        return {"latency_ms": s.latency_ms, "energy_mj": s.energy_mj, "row_hit_rate": s.row_hit_rate,
                **{f"frac_{k}": v / tot for k, v in s.breakdown_ns.items()}}
    if hw in list_devices():
        from ..devices.config import load_device
        from ..engine.sim import simulate_step
        dev = load_device(DEVICE_DIR / f"{hw}.yaml")
        for k, v in ov.items():
            if not k.startswith("device."):
                raise ConfigError(hw, k, "a device point takes device.* overrides")
            d = {"memory": dev.memory, "compute": dev.compute, "power": dev.power, "cache": dev.cache}
            set_dotted(d, k[7:], v, f"{hw}.yaml")
        r = simulate_step(Workload(m, weights=wl.get("weights", "bf16"), kv=wl.get("kv", "bf16"),
                                   batch=int(wl.get("batch", 1))), context, dev, wl.get("mode", "eager"))
        tl = r.timeline
        busy = (tl.end_ns - tl.start_ns)
        frac = (busy.groupby(tl.bound).sum() / max(busy.sum(), 1)).to_dict()
        return {"latency_ms": r.latency_ms, "energy_mj": dev.power["tdp_w"] * r.latency_ns * 1e-6,
                "row_hit_rate": float("nan"), **{f"frac_{k}": float(v) for k, v in frac.items()}}
    raise ConfigError("sweep", "hw", f"{hw!r} is neither a PIM preset nor a device")
