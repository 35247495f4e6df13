"""Sweep specs (YAML): a base configuration, axes over dotted config paths, filters.

    name: pim-dse
    base:
      hw: pim-gpt-gddr6                  # a PIM preset or a device
      workload: {model: gpt2-xl, context: 512, weights: bf16}
    axes:
      pim.channels: [4, 8, 16]           # any key of the preset YAML, by dotted path
      pim.mac.clock_mhz: [500, 1000]
      workload.context: [128, 512, 2048]
    filters:
      - "pim.channels * pim.global_buffer_bytes <= 65536"
    outputs: [latency_ms, energy_mj, row_hit_rate]

Paths start with ``pim.`` (PIM preset keys), ``device.`` (device keys), ``workload.``
(model, context, weights, kv, batch, mode) or ``hw`` itself; split-computing points (a ``split``
section in the base, see :mod:`simulator.split.sweep`) also take ``split.`` (layer, edge_weights,
server_weights, act_bits, ...) and ``link.`` (preset, mbps, down_mbps, rtt_ms).
"""

from __future__ import annotations

import ast
import copy
import itertools
import operator

from ..config_io import check_keys, load_yaml
from ..errors import ConfigError
from ..keys import inputs_key

OUTPUTS = ("latency_ms", "energy_mj", "row_hit_rate", "frac_pim_gemv", "frac_attention", "frac_asic",
           "frac_data_movement", "frac_memory", "frac_overhead", "frac_compute",
           # split computing points (simulator.split.sweep)
           "ttft_ms", "tokens_per_s", "edge_memory_gb", "server_memory_gb", "server_ms_per_token", "link_bytes",
           "max_tokens", "feasible", "violations")
SECTIONS = ("split", "link")          # config sections of split-computing points


def load_spec(path) -> dict:
    d = load_yaml(path)
    src = str(path)
    from ..schema import check_config
    check_config("sweep", d, src)
    base = d["base"]
    check_keys(src, "base", base, {"hw", "workload"}, set(SECTIONS))
    from .point import WORKLOAD_KEYS
    check_keys(src, "base.workload", base["workload"], {"model"}, WORKLOAD_KEYS)
    if not isinstance(d["axes"], dict) or not d["axes"]:
        raise ConfigError(src, "axes", "must map dotted config paths to lists of values")
    for k, v in d["axes"].items():
        if not isinstance(v, list) or not v:
            raise ConfigError(src, f"axes.{k}", "must be a non-empty list of values")
        if not (k == "hw" or k.split(".")[0] in ("pim", "device", "workload") + SECTIONS):
            raise ConfigError(src, f"axes.{k}", "paths start with pim., device., workload., split., link. "
                              "(or are 'hw')")
        if k.split(".")[0] in SECTIONS and "split" not in base:
            raise ConfigError(src, f"axes.{k}", "split./link. axes need a 'split' section in base")
    for i, f in enumerate(d.get("filters", []) or []):
        _compile_filter(src, f"filters[{i}]", f)
    for o in d.get("outputs", []) or []:
        if o not in OUTPUTS:
            raise ConfigError(src, "outputs", f"{o!r} not one of {', '.join(OUTPUTS)}")
    d["_source"] = src
    return d


def expand(spec: dict) -> list:
    """All points (resolved configs) of the spec that pass its filters, in a fixed order, each
    checked (:func:`simulator.dse.point.check_point`: keys, values, hardware, backend options)
    and keyed (:func:`point_key`) before any point runs."""
    from .point import check_point
    keys = list(spec["axes"])
    pts = []
    hw_cache = {}
    for combo in itertools.product(*(spec["axes"][k] for k in keys)):
        cfg = copy.deepcopy(spec["base"])
        cfg.setdefault("overrides", {})
        if spec.get("allow_overcommit"):
            cfg["allow_overcommit"] = True          # part of the key: such a point is another result
        for k, v in zip(keys, combo):
            if k == "hw":
                cfg["hw"] = v
            elif k.startswith("workload."):
                cfg["workload"][k.split(".", 1)[1]] = v
            elif k.split(".")[0] in SECTIONS:
                sec, key = k.split(".", 1)
                cfg.setdefault(sec, {})[key] = v
            else:
                cfg["overrides"][k] = v
        flat = flat_view(cfg)
        if all(_eval_filter(spec["_source"], f, flat) for f in spec.get("filters", []) or []):
            h = check_point(cfg, spec["_source"], hw_cache)
            cfg["key"] = point_key(cfg, h.files)
            pts.append(cfg)
    return pts


def flat_view(cfg: dict) -> dict:
    flat = {"hw": cfg["hw"]}
    flat.update({f"workload.{k}": v for k, v in cfg["workload"].items()})
    flat.update(cfg.get("overrides", {}))
    for sec in SECTIONS:
        flat.update({f"{sec}.{k}": v for k, v in cfg.get(sec, {}).items()})
    return flat


def point_key(cfg: dict, hw_files=None) -> str:
    """:func:`simulator.keys.inputs_key` of the point's config and the contents of every file it
    is computed from: hardware preset, DRAM table, runtime profile and calibration (devices),
    model config; plus the project version."""
    from ..config_io import find_config
    from ..hw import load_hw
    from ..workload.model import MODEL_DIR
    files = list(hw_files if hw_files is not None else load_hw(cfg["hw"], cfg.get("overrides")).files)
    if "server" in cfg.get("split", {}):                  # split points: the server device too
        files += load_hw(cfg["split"]["server"]).files
    files.append(find_config(cfg["workload"]["model"], MODEL_DIR, "--model", "model"))
    return inputs_key({k: v for k, v in cfg.items() if k != "key"}, files)


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
        ast.Eq: operator.eq, ast.NotEq: operator.ne}


def _compile_filter(src, key, expr):
    if not isinstance(expr, str):
        raise ConfigError(src, key, "filters are expressions such as 'pim.channels >= 8'")
    try:
        return ast.parse(expr, mode="eval")
    except SyntaxError:
        raise ConfigError(src, key, f"cannot parse {expr!r}") from None


def _eval_filter(src, expr, flat):
    tree = _compile_filter(src, "filters", expr)

    def name_of(n):
        if isinstance(n, ast.Name):
            return n.id
        if isinstance(n, ast.Attribute):
            return f"{name_of(n.value)}.{n.attr}"
        raise ConfigError(src, "filters", f"unsupported syntax in {expr!r}")

    def ev(n):
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant):
            return n.value
        if isinstance(n, (ast.Name, ast.Attribute)):
            nm = name_of(n)
            if nm not in flat:
                raise ConfigError(src, "filters", f"{nm!r} in {expr!r} is not an axis or base key "
                                  f"({', '.join(sorted(flat))})")
            return flat[nm]
        if isinstance(n, ast.BinOp) and type(n.op) in _OPS:
            return _OPS[type(n.op)](ev(n.left), ev(n.right))
        if isinstance(n, ast.Compare) and len(n.ops) == 1 and type(n.ops[0]) in _OPS:
            return _OPS[type(n.ops[0])](ev(n.left), ev(n.comparators[0]))
        if isinstance(n, ast.BoolOp):
            vals = [ev(v) for v in n.values]
            return all(vals) if isinstance(n.op, ast.And) else any(vals)
        raise ConfigError(src, "filters", f"unsupported syntax in {expr!r}")

    return bool(ev(tree))
