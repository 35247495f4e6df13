"""`decodesim configs list|check`: every shipped config, and user YAML files by kind."""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def _loaders():
    from .devices.config import list_devices, load_device, load_runtime
    from .dram.standard import list_standards, load_standard
    from .dse.spec import load_spec
    from .pim.config import list_pims, load_pim
    from .split.link import LINK_DIR, list_links, load_link
    from .workload.model import list_models, load_model
    return {
        "dram": (list_standards, load_standard, ROOT / "hw_configs" / "dram"),
        "device": (list_devices, load_device, ROOT / "hw_configs" / "devices"),
        "runtime": (lambda: sorted(p.stem for p in (ROOT / "hw_configs" / "runtime").glob("*.yaml")), load_runtime,
                    ROOT / "hw_configs" / "runtime"),
        "pim": (list_pims, load_pim, ROOT / "hw_configs" / "pim"),
        "model": (list_models, load_model, ROOT / "workloads" / "models"),
        "sweep": (lambda: sorted(p.stem for p in (ROOT / "hw_configs" / "sweeps").glob("*.yaml")),
                  lambda n: load_spec(ROOT / "hw_configs" / "sweeps" / f"{n}.yaml"), ROOT / "hw_configs" / "sweeps"),
        "link": (list_links, load_link, LINK_DIR),
    }


def list_configs() -> dict:
    return {k: lister() for k, (lister, _, _) in _loaders().items()}


def check_all() -> list:
    out = []
    for kind, (lister, loader, _) in _loaders().items():
        for name in lister():
            out.append((kind, name, _try(loader, name)))
    return out


def _kind_of(path: Path, data: dict) -> str:
    keys = set(data)
    if {"constraints", "commands", "timing"} <= keys or "extends" in keys:
        return "dram"
    from .backends import backend_of_keys
    if kind := backend_of_keys(keys):
        return kind
    if {"modes", "compute_efficiency"} <= keys:
        return "runtime"
    if {"layers", "hidden", "heads"} <= keys:
        return "model"
    if {"axes", "base"} <= keys:
        return "sweep"
    if {"uplink_mbps", "rtt_ms"} <= keys:
        return "link"
    raise ConfigError(path, None, "cannot tell what kind of config this is (dram standard, device, runtime, "
                      "pim preset, model, sweep or link)")


def check_paths(paths) -> list:
    from .config_io import load_yaml
    loaders = _loaders()
    out = []
    for p in paths:
        p = Path(p)
        try:
            kind = _kind_of(p, load_yaml(p))
        except ConfigError as exc:
            out.append(("?", str(p), str(exc)))
            continue
        loader = loaders[kind][1]
        if kind == "runtime":
            out.append((kind, str(p), "" if p.parent == loaders["runtime"][2] else "runtimes live in hw_configs/runtime/"))
            continue
        out.append((kind, str(p), _try(loader, str(p) if kind != "sweep" else p)))
    return out


def _try(loader, arg) -> str:
    try:
        loader(arg)
        return ""
    except ConfigError as exc:
        return str(exc)
