"""Hardware by name or path, resolved by content: a PIM preset or a device.

One entry point for the CLI, the sweep and the Python API:

* :func:`resolve_hw` tells the kind (a registered backend, :mod:`simulator.backends`: ``pim`` or
  ``device`` today) from the YAML's keys (the same test as ``decodesim configs check``), for
  preset names and paths alike;
* :func:`load_hw` applies dotted overrides (``--set memory.peak_gbps=3000``, a sweep's
  ``device.memory.peak_gbps`` axis) to the YAML mapping and validates the result exactly as
  a YAML file is validated;
* :func:`input_files` lists every file a result depends on (preset, DRAM table, runtime
  profile, calibration, model) for result keys (:func:`simulator.keys.inputs_key`).

Errors are :class:`~simulator.errors.ConfigError` naming the file and the dotted key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .backends import BACKENDS, backend
from .config_io import is_path, load_yaml
from .errors import ConfigError

FLAG_OF = {"weights": "--weights", "batch": "--batch", "mode": "--mode", "group_size": "--group-size",
           "kv": "--kv", "kv_window": "--kv-window"}


@dataclass
class Hardware:
    """A validated hardware config: its backend ``kind``, YAML ``path``, config object ``obj``
    (PimConfig, Device, ...) and every file it was read from."""

    kind: str                 # a registered backend: pim | device
    path: Path                # the preset's YAML file
    obj: object               # PimConfig or Device
    files: list = field(default_factory=list)   # every file the configuration was read from

    @property
    def name(self) -> str:
        return self.path.stem

    def capacity_bytes(self) -> float:
        """Bytes of memory that hold weights, KV cache and activations: the device's
        ``memory.capacity_gb`` (decimal GB), or all banks of all channels of the PIM preset's DRAM."""
        return backend(self.kind).capacity_bytes(self.obj)


def _dirs():
    return {k: b.config_dir() for k, b in BACKENDS.items()}


def resolve_hw(name_or_path, flag: str = "--hw") -> tuple:
    """(kind, path) of a PIM preset or device, by preset name or YAML path; the kind is read
    from the file's keys, so a PIM YAML anywhere is a PIM preset."""
    from .configs import _kind_of
    dirs = _dirs()
    if is_path(name_or_path):
        p = Path(str(name_or_path))
        kind = _kind_of(p, load_yaml(p))
        if kind not in BACKENDS:
            raise ConfigError(p, None, f"is a {kind} config; {flag} takes one of: {', '.join(BACKENDS)}")
        return kind, p
    for kind, folder in dirs.items():
        p = folder / f"{str(name_or_path).lower()}.yaml"
        if p.exists():
            return kind, p
    names = "; ".join(f"{k}: {', '.join(sorted(q.stem for q in d.glob('*.yaml')))}" for k, d in dirs.items())
    raise ConfigError(flag, str(name_or_path), f"unknown hardware; {names}; or a YAML path")


def set_dotted(d: dict, dotted: str, value, src, shown: str | None = None):
    """Set ``a.b.c`` in a nested mapping; only keys that exist may be set (errors name ``shown``,
    the key as the user wrote it)."""
    keys = dotted.split(".")
    shown = shown or dotted
    cur = d
    for i, k in enumerate(keys):
        here = ".".join(keys[:i])
        if not isinstance(cur, dict):
            raise ConfigError(src, shown, f"{here!r} is a value, not a mapping")
        if k not in cur:
            raise ConfigError(src, shown, f"unknown key; allowed keys{' under ' + here if here else ''}: "
                              f"{', '.join(sorted(map(str, cur)))}")
        if i == len(keys) - 1:
            cur[k] = value
        else:
            cur = cur[k]


def strip_prefix(kind: str, key: str) -> str:
    """``pim.channels`` -> ``channels`` (the sweep spec's prefix is optional on --set)."""
    return key[len(kind) + 1:] if key.startswith(kind + ".") else key


def load_hw(name_or_path, overrides: dict | None = None, flag: str = "--hw") -> Hardware:
    """A validated PIM preset or device with ``overrides`` (dotted keys, with or without the
    ``pim.``/``device.`` prefix) applied to its YAML before validation."""
    kind, p = resolve_hw(name_or_path, flag)
    raw = load_yaml(p)
    ov = overrides or {}
    for k, v in ov.items():
        other = [o for o in BACKENDS if o != kind and k.startswith(o + ".")]
        if other:
            raise ConfigError(p, k, f"a {kind} takes {kind}.* keys, not {other[0]}.*")
        set_dotted(raw, strip_prefix(kind, k), v, p, shown=k)
    src = f"{p} (with {', '.join(f'{k}={v}' for k, v in ov.items())})" if ov else p
    key = f"{p.stem}:{sorted(ov.items())}" if ov else p.stem
    b = backend(kind)
    obj = b.parse(raw, src, key, p.parent)
    return Hardware(kind, p, obj, b.files(p, obj))


def check_backend(kind: str, given: dict, src="--hw"):
    """Reject workload options a backend cannot honour (``given``: option -> value, None = not given).
    Raises ConfigError naming the option's flag and the allowed values."""
    for opt, allowed in backend(kind).limits.items():
        v = given.get(opt)
        if v is not None and v not in allowed:
            ok = [str(a) for a in allowed if a is not None]
            raise ConfigError(src, FLAG_OF.get(opt, opt), f"{v!r} cannot be honoured by a {kind} " +
                              (f"(allowed: {', '.join(ok)})" if ok else f"(a {kind} takes no {FLAG_OF.get(opt, opt)}; "
                               "leave it out)"))

