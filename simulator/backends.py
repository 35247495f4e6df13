"""Hardware backends, chosen by the kind of a hardware YAML (Vidur-style registry).

A backend owns everything that differs between kinds of hardware: how its YAML is recognised
(``keys``), where its presets live, how a mapping is validated (``parse``), which files a result
depends on, which workload options it can honour, and how one decode step runs (``run``). Every
backend returns one :class:`HwResult`, which ``run``, ``compare``, sweeps and plots all read.

Shipped: ``pim`` (a PIM system: DRAM-PIM channels + ASIC, :mod:`simulator.pim`) and ``device``
(a GPU, edge SoC or CPU: roofline kernels through its runtime, :mod:`simulator.engine`; the
device YAML's ``kind`` tells GPU from CPU). A new backend is one subclass and one line::

    register_backend(MyBackend())
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError


@dataclass
class HwResult:
    """One decode step on one hardware config.

    latency_ms: time per token (ms); energy_mj: energy per token (mJ; a device's TDP x time is an
    upper bound); breakdown_ns: parts of the latency in ns (they sum to ``latency_ms * 1e6``);
    timeline: DataFrame with the engine's columns (:data:`simulator.engine.timeline.COLUMNS`),
    one row per op and unit; row_hit_rate: DRAM row-buffer hits / accesses (NaN where the backend
    does not simulate DRAM commands); summary: backend-specific JSON-ready extras; native: the
    backend's own result object (PimStep, StepResult)."""

    latency_ms: float
    energy_mj: float
    breakdown_ns: dict
    timeline: object = None
    row_hit_rate: float = math.nan
    summary: dict = field(default_factory=dict)
    native: object = None

    def as_dict(self) -> dict:
        """latency_ms, energy_mj, row_hit_rate, breakdown_ns and the summary's keys."""
        return {**self.summary, "latency_ms": self.latency_ms, "energy_mj": self.energy_mj,
                "row_hit_rate": self.row_hit_rate, "breakdown_ns": dict(self.breakdown_ns)}


class Backend:
    """Base class of a hardware backend; subclasses set the class attributes and the methods.

    kind: the registry name; keys: top-level YAML keys that identify its configs (all present);
    limits: workload option -> allowed values (options not listed are free)."""

    kind: str = ""
    keys: frozenset = frozenset()
    limits: dict = {}

    def config_dir(self) -> Path:
        """Folder of the shipped presets of this kind."""
        raise NotImplementedError

    def parse(self, raw: dict, src, key: str, base_dir: Path):
        """The validated config object from a YAML mapping. Raises ConfigError naming src and key."""
        raise NotImplementedError

    def files(self, path: Path, obj) -> list:
        """Every file a result on this config depends on (for result keys)."""
        return [path]

    def capacity_bytes(self, obj) -> float:
        """Bytes that hold weights, KV cache and activations."""
        raise NotImplementedError

    def run(self, obj, model, context: int, name: str, opts: dict) -> HwResult:
        """One decode step of ``model`` (ModelConfig) at ``context`` tokens; ``opts``: weights,
        batch, kv, kv_window, group_size, mode, allow_overcommit. Raises ConfigError when the
        workload does not fit."""
        raise NotImplementedError


BACKENDS: dict = {}


def register_backend(backend: Backend) -> Backend:
    """Add ``backend`` to the registry under ``backend.kind`` (replacing one of that name)."""
    if not backend.kind or not backend.keys:
        raise ValueError("a backend needs a kind and identifying keys")
    BACKENDS[backend.kind] = backend
    return backend


def backend_of_keys(keys) -> str | None:
    """Kind of the first registered backend whose identifying keys are all in ``keys``."""
    keys = set(keys)
    return next((k for k, b in BACKENDS.items() if b.keys <= keys), None)


class PimBackend(Backend):
    """A PIM system (PIM-GPT style): all-bank MACs in the DRAM channels, nonlinear ops on an ASIC."""

    kind = "pim"
    keys = frozenset({"mac", "global_buffer_bytes"})
    # PIM-GPT style presets run batch-1 bf16 GEMV in the banks and have no host runtime modes
    limits = {"weights": ("bf16",), "batch": (1,), "mode": (None,), "group_size": (0,)}

    def config_dir(self):
        from .pim.config import PIM_DIR
        return PIM_DIR

    def parse(self, raw, src, key, base_dir):
        from .pim.config import parse_pim
        return parse_pim(raw, src, key=key, base_dir=base_dir)

    def files(self, path, obj):
        from .dram.standard import standard_files
        return [path, *standard_files(Path(obj.std.source_file.split(" (")[0]))]

    def capacity_bytes(self, obj):
        return float(obj.std.capacity_bytes)      # all banks of all channels

    def run(self, obj, model, context, name, opts):
        from .checks import check_fits
        from .pim.system import result_dict, simulate_token
        from .workload import Workload
        w = Workload(model, weights="bf16", kv=opts.get("kv", "bf16"), kv_window=opts.get("kv_window", 0))
        check_fits(w, context, self.capacity_bytes(obj), name, opts.get("allow_overcommit", False))
        s = simulate_token(obj, w, context)
        d = result_dict(s)
        return HwResult(d["latency_ms"], d["energy_mj"], d["breakdown_ns"], s.timeline, d["row_hit_rate"],
                        {k: v for k, v in d.items() if k not in ("latency_ms", "energy_mj", "breakdown_ns",
                                                                   "row_hit_rate")}, s)


class DeviceBackend(Backend):
    """A GPU, edge SoC or CPU: the workload's kernels through the device's runtime profile."""

    kind = "device"
    keys = frozenset({"memory", "compute", "runtime"})

    def config_dir(self):
        from .devices.config import DEVICE_DIR
        return DEVICE_DIR

    def parse(self, raw, src, key, base_dir):
        from .devices.config import parse_device
        return parse_device(raw, src, key=key.split(":")[0])   # the preset's name (error messages)

    def files(self, path, obj):
        from .devices.config import CALIBRATION, RUNTIME_DIR
        from .dram.standard import standard_files
        return [path, *standard_files(obj.memory["standard"]), RUNTIME_DIR / f"{obj.runtime}.yaml",
                Path(CALIBRATION)]

    def capacity_bytes(self, obj):
        return float(obj.memory["capacity_gb"]) * 1e9

    def run(self, obj, model, context, name, opts):
        from .checks import check_fits
        from .engine.sim import simulate_step
        from .workload import Workload
        w = Workload(model, weights=opts.get("weights") or baseline_weights(obj), kv=opts.get("kv", "bf16"),
                     kv_window=opts.get("kv_window", 0), batch=opts.get("batch") or 1,
                     group_size=opts.get("group_size", 0))
        check_fits(w, context, self.capacity_bytes(obj), name, opts.get("allow_overcommit", False))
        r = simulate_step(w, context, obj, opts.get("mode") or "eager")
        return HwResult(r.latency_ms, obj.power["tdp_w"] * r.latency_ns * 1e-6, r.breakdown_ns(), r.timeline,
                        native=r)


def baseline_weights(dev) -> str:
    """Weight format of a baseline device: fp32 on a CPU (PyTorch's CPU default), else fp16."""
    return "fp32" if dev.kind == "cpu" else "fp16"


register_backend(PimBackend())
register_backend(DeviceBackend())


def backend(kind: str) -> Backend:
    """The registered backend ``kind``. Raises ConfigError listing the registered kinds."""
    if kind not in BACKENDS:
        raise ConfigError("hardware", kind, f"no backend of this kind; registered: {', '.join(BACKENDS)}")
    return BACKENDS[kind]
