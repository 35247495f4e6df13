"""One split point of a sweep spec (``simulator.dse``): ``hw`` names the edge device,
``workload.model`` the model, and two sections hold the rest::

    base:
      hw: jetson-orin-nano
      workload: {model: llama-2-7b}
      split: {server: h100-sxm5, layer: 16, edge_weights: int4, act_bits: 8, edge_memory_gb: 8}
      link: {preset: wifi-6}                 # or mbps + rtt_ms
    axes:
      split.layer: [0, 8, 16, 24, 32]
      link.mbps: [10, 100, 1000]
      device.memory.peak_gbps: [68, 102]     # device.* overrides apply to the edge device
"""

from __future__ import annotations

from ..config_io import check_int, check_keys

SPLIT_KEYS = {"server", "layer"}
SPLIT_OPTIONAL = {"edge_weights", "server_weights", "act_bits", "outlier_frac", "kv", "prompt", "generate",
                  "edge_memory_gb", "server_ms", "latency_ms", "ttft_ms", "edge_mode", "server_mode", "staging_us", "samples",
                  "edge_workspace_mb"}
LINK_KEYS = {"preset", "mbps", "down_mbps", "rtt_ms"}


def evaluate_point(cfg: dict) -> dict:
    """Metrics of one split point: latency_ms (slowest time between tokens at the edge),
    energy_mj (edge energy per generated token), ttft_ms, tokens_per_s, edge/server memory (GB),
    server_ms_per_token, link_bytes, max_tokens, feasible and the constraints broken."""
    from ..devices.config import load_device
    from ..hw import set_dotted as _set
    from ..errors import ConfigError
    from ..workload import load_model
    from .link import make_link
    from .pipeline import SplitPoint, SplitSetup
    from .search import check_request, evaluate, make_constraints
    src = "sweep"
    s, lk = cfg["split"], cfg.get("link", {})
    check_keys(src, "split", s, SPLIT_KEYS, SPLIT_OPTIONAL)
    check_keys(src, "link", lk, set(), LINK_KEYS)
    m = load_model(cfg["workload"]["model"])
    edge, server = load_device(cfg["hw"]), load_device(s["server"])
    for k, v in cfg.get("overrides", {}).items():
        if not k.startswith("device."):
            raise ConfigError(src, k, "a split point takes split.*, link.* and device.* (edge device) keys")
        _set({"memory": edge.memory, "compute": edge.compute, "power": edge.power, "cache": edge.cache}, k[7:], v,
             f"{cfg['hw']}.yaml")
    link = make_link(lk.get("preset"), lk.get("mbps"), lk.get("rtt_ms"), lk.get("down_mbps"))
    names = {f: (src, f"split.{f}") for f in
             ("prompt", "staging_us", "edge_memory_gb", "server_ms", "latency_ms", "ttft_ms")}
    check_request(names, s.get("prompt", 128), s.get("staging_us"))
    setup = SplitSetup(m, edge, server, link, s.get("prompt", 128),
                       check_int(src, "split.generate", s.get("generate", 128), 1, 1 << 20),
                       s.get("edge_mode", "eager"), s.get("server_mode", "cuda_graphs"), s.get("staging_us"),
                       check_int(src, "split.samples", s.get("samples", 5), 0, 1 << 20))
    c = make_constraints(names, edge, server, s.get("edge_memory_gb"), s.get("server_ms"), s.get("latency_ms"),
                         s.get("ttft_ms"), s.get("edge_workspace_mb"))
    p = SplitPoint(check_int(src, "split.layer", s["layer"], 0, m.layers), s.get("edge_weights", "int4"),
                   s.get("server_weights", "bf16"), int(s.get("act_bits", 16)), float(s.get("outlier_frac", 0.0)),
                   s.get("kv", cfg["workload"].get("kv", "bf16")))
    e = evaluate(setup, p, c)
    r = e.result
    return {"latency_ms": r.tpot_max_ms, "energy_mj": r.edge_mj_per_token, "ttft_ms": r.ttft_ms,
            "tokens_per_s": r.tokens_per_s, "edge_memory_gb": e.edge_memory_bytes / 1e9,
            "server_memory_gb": e.server_memory_bytes / 1e9, "server_ms_per_token": r.server_ms_per_token,
            "link_bytes": r.link_bytes, "max_tokens": e.max_tokens, "feasible": e.feasible,
            "violations": "; ".join(e.violations.values())}
