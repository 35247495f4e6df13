"""Loading and validating device, runtime and calibration YAML."""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..config_io import check_choice, check_float, check_int, check_keys, find_config, load_yaml
from ..errors import ConfigError
from ..schema import BACKENDS
from ..workload.trace import OP_KINDS

HW = Path(__file__).resolve().parents[2] / "hw_configs"
DEVICE_DIR = HW / "devices"
RUNTIME_DIR = HW / "runtime"
NUMBER_FORMATS = ("fp32", "tf32", "fp16", "bf16", "fp8", "fp4", "int8", "int4")
CALIBRATION = HW / "calibration.yaml"
_NOTED = set()          # emulation notes already printed (once per process)


@dataclass
class Device:
    """A GPU, edge SoC or CPU preset (hw_configs/devices/<key>.yaml), built by :func:`load_device` /
    :func:`parse_device`, which check every key against simulator/schema.py ``SCHEMAS["device"]``; the
    constructor itself checks nothing. ``key``: file stem; ``kind``: gpu | edge | cpu; ``source``: the
    datasheet the numbers come from; ``memory``: ``standard`` (DRAM standard name), ``channels``
    (count), ``peak_gbps`` (GB/s), ``capacity_gb`` (GB, 1e9 B); ``compute``: ``bf16_tflops`` and
    ``fp32_tflops`` (dense TFLOP/s), ``int8_tops`` (dense TOP/s), ``units`` (SMs or cores); ``power``:
    ``tdp_w``, ``idle_w`` (W); ``runtime``: default runtime profile name; ``backend``: cuda | rocm |
    metal | cpu; ``host``: ``name``, ``single_thread_ghz`` (GHz); ``native_formats``: number formats
    computed in hardware."""
    key: str
    name: str
    kind: str                    # gpu | edge | cpu
    source: str
    memory: dict                 # standard, channels, peak_gbps, capacity_gb
    compute: dict                # bf16_tflops, int8_tops, fp32_tflops, units
    cache: dict
    power: dict                  # tdp_w, idle_w
    runtime: str
    source_file: str = ""
    backend: str = "cpu"         # cuda | rocm | metal | cpu: which runtime profiles can run here (required in YAML)
    host: dict = field(default_factory=dict)   # host CPU of a GPU system: name, single_thread_ghz
    native_formats: tuple = ()   # number formats the hardware computes in (fp32, fp16, bf16, fp8, fp4, ...)

    def with_memory(self, **kw) -> "Device":
        """A deep copy of this device with ``memory`` entries replaced or added from ``kw`` (a mapping of
        memory keys: ``standard`` name, ``channels`` count, ``peak_gbps`` in GB/s, ``capacity_gb`` in GB),
        e.g. the peak set to a measured copy bandwidth (validate.py). The original is unchanged. Raises
        nothing and checks nothing: the values are not validated against the schema, so a bad one
        surfaces where it is used."""
        d = copy.deepcopy(self)
        d.memory.update(kw)
        return d

    def peak_flops(self, compute: str) -> float:
        """Peak math rate for a compute precision (``fp32``, ``int8``, else 16-bit), per s."""
        c = self.compute
        return c.get({"fp32": "fp32_tflops", "int8": "int8_tops"}.get(compute, "bf16_tflops")) * 1e12


@dataclass
class Runtime:
    """A software runtime profile (hw_configs/runtime/<name>.yaml) with its fitted parameters from
    hw_configs/calibration.yaml, built by :func:`load_runtime` (which validates it; the constructor
    checks nothing). ``modes``: mode name -> spec (see :meth:`mode`); ``compute_efficiency``: achieved /
    peak compute (fraction); ``graph_launch_us``: one graph launch (us); ``dequant_ops_per_weight``:
    format or family -> instructions per weight; ``calibration``: parameter -> {value, fitted_on[,
    note]}; ``backends``: kernel backends it runs on; ``host_reference_ghz``: host clock (GHz) the
    dispatch cost was fitted at (0: not scaled); ``gqa_shared_kv``; ``weight_formats``: format or
    family -> backends (None: all); ``emulated_formats``: missing native format -> the one computed in."""
    name: str
    modes: dict
    compute_efficiency: float
    graph_launch_us: float
    dequant_ops_per_weight: dict
    calibration: dict = field(default_factory=dict)
    backends: tuple = ()
    host_reference_ghz: float = 0.0    # host clock the dispatch cost is calibrated for (0: not scaled)
    gqa_shared_kv: bool = True         # False: the KV cache is read once per query head
    weight_formats: dict = field(default_factory=dict)    # format or family -> backends (None: all)
    emulated_formats: dict = field(default_factory=dict)  # missing native format -> the one computed in

    def math_format(self, dev: "Device", weights: str) -> str:
        """The precision (``fp32``, ``int8`` or 16-bit, as :meth:`Device.peak_flops` takes) the math of
        weight format ``weights`` runs at on ``dev`` under this profile. Raises ConfigError when the
        engine does not run the format on ``dev``'s backend (listing the formats it runs), or the format
        needs a number format ``dev`` lacks and the engine does not emulate it. An emulated format runs at
        the peak of the format it is emulated in (bf16 on Turing via fp32: the fp32 rate)."""
        from ..workload.formats import FORMATS, resolve
        f = resolve(weights)
        ok = [k for k, b in self.weight_formats.items() if b is None or dev.backend in b]
        if f.name not in ok and f.family not in ok:
            members = {k: "/".join(n for n, x in FORMATS.items() if x.family == k) or f"{k}-<bpw>" for k in ok}
            shown = [k if k in FORMATS else f"{k} ({members[k]}{', llama.cpp mixes' * k.startswith('gguf')})"
                     for k in ok]
            hint = ("; llama.cpp (GGUF) formats run with --mode llamacpp" if f.family.startswith("gguf")
                    and not self.name.startswith("llamacpp") else "")
            raise ConfigError(f"runtime {self.name}", "weights", f"{weights!r} does not run under {self.name} on "
                              f"{dev.key} (backend {dev.backend}); allowed: {', '.join(shown)}{hint}")
        if not f.native or f.native in dev.native_formats:
            return f.compute
        via = self.emulated_formats.get(f.native)
        if via is None or via not in dev.native_formats:
            raise ConfigError(dev.source_file or dev.key, "native_formats", f"{dev.key} has no native {f.native} "
                              f"(native: {', '.join(dev.native_formats)}) and {self.name} does not emulate it; "
                              f"{weights!r} cannot run here")
        note = (f"note: {dev.key} has no native {f.native}; {self.name} computes {weights} in {via} "
                f"(modelled at the {via} peak)")
        if note not in _NOTED:
            _NOTED.add(note)
            print(f"decodesim: {note}", file=sys.stderr)
        return "fp32" if via == "fp32" else "bf16"      # 16-bit formats share the 16-bit peak

    def host_scale(self, dev: "Device") -> float:
        """Host dispatch cost on ``dev``'s host relative to the calibrated one, a dimensionless rate:
        this profile's ``host_reference_ghz`` / ``dev.host["single_thread_ghz"]`` (both in GHz, from the
        runtime and device YAML), 1.0 where either is missing or 0. Multiplies ``host_dispatch_us``
        (lowering/gpu.py). Raises nothing."""
        ghz = dev.host.get("single_thread_ghz") if dev.host else None
        return self.host_reference_ghz / ghz if ghz and self.host_reference_ghz else 1.0

    def param(self, key: str) -> float:
        """The fitted value of calibration parameter ``key`` (a name such as ``host_dispatch_us``, in the
        unit its name gives: us, or a fraction for ``memory_efficiency*``) from this profile's entries in
        hw_configs/calibration.yaml, as a float. Raises KeyError when the profile has no fitted ``key``
        (callers test ``key in calibration`` first where a parameter is optional)."""
        return float(self.calibration[key]["value"])

    def mode(self, mode: str) -> dict:
        """The spec of run mode ``mode`` (a name: ``eager``, ``cuda_graphs``, ...) from the profile's YAML
        ``modes:``, a dict: ``host_dispatch`` (bool), ``graph`` (bool), ``kernels_per_op`` (op kind or
        ``kind:fn`` -> launch count), optionally ``synchronous`` (bool) and ``backends`` (list). Raises
        ConfigError naming the runtime and ``mode`` and listing the modes it offers."""
        if mode not in self.modes:
            raise ConfigError(f"runtime {self.name}", "mode", f"{mode!r} not one of {', '.join(self.modes)}")
        return self.modes[mode]


def list_devices() -> list:
    """Names (file stems) of the device presets in hw_configs/devices, sorted: a list of str."""
    return sorted(p.stem for p in DEVICE_DIR.glob("*.yaml"))


def load_device(name_or_path) -> Device:
    """A device preset by name (``a10``) or YAML path. Raises ConfigError for an unknown name
    (listing the presets) or a bad file (naming the file and the dotted key)."""
    p = find_config(name_or_path, DEVICE_DIR, "--hw", "device")
    return parse_device(load_yaml(p), p, key=p.stem)


def parse_device(d: dict, src, key: str) -> Device:
    """A device from its YAML mapping (``src`` names it in errors). Raises ConfigError naming
    ``src`` and the dotted key (schema: simulator/schema.py ``SCHEMAS["device"]``; plus an unknown
    DRAM standard, runtime or backend, ``power.idle_w`` above ``power.tdp_w``)."""
    src = str(src)
    from ..dram.standard import list_standards
    from ..schema import check_config
    check_config("device", d, src)        # every key's presence, type and range (simulator/schema.py)
    check_choice(src, "memory.standard", d["memory"]["standard"], list_standards())
    check_float(src, "power.idle_w", d["power"]["idle_w"], 0.0, d["power"]["tdp_w"])
    check_choice(src, "runtime", d["runtime"], list_runtimes())
    backend = d["backend"]
    for i, fm in enumerate(d["native_formats"]):
        check_choice(src, f"native_formats[{i}]", fm, NUMBER_FORMATS)
    host = d.get("host") or {}
    return Device(backend=backend, host=dict(host), native_formats=tuple(d["native_formats"]), key=key,
                  name=str(d["name"]), kind=d["kind"],
                  source=str(d["source"]), memory=dict(d["memory"]),
                  compute=dict(d["compute"]), cache=dict(d["cache"] or {}), power=dict(d["power"]),
                  runtime=d["runtime"], source_file=src)


def load_calibration(path=CALIBRATION) -> dict:
    """The fitted runtime parameters (hw_configs/calibration.yaml): a dict profile -> parameter ->
    {value, fitted_on[, note]}. Raises ConfigError naming the file and key for a bad entry."""
    d = load_yaml(path)
    for prof, params in d.items():
        for k, v in params.items():
            check_keys(str(path), f"{prof}.{k}", v, {"value", "fitted_on"}, {"note"})
            check_float(str(path), f"{prof}.{k}.value", v["value"], 0.0, 1e6)
    return d


def load_runtime(name: str, calibration: dict | None = None) -> Runtime:
    """Runtime profile ``name`` (hw_configs/runtime/<name>.yaml) with its calibration entries
    (``calibration``: a :func:`load_calibration` dict; default the shipped file). Times in the
    profile are in us per dispatch/launch. Raises ConfigError naming the file and dotted key."""
    p = RUNTIME_DIR / f"{name}.yaml"
    d = load_yaml(p)
    src = str(p)
    from ..schema import check_config
    check_config("runtime", d, src)
    for b in d["backends"]:
        check_choice(src, "backends", b, BACKENDS)
    from ..workload.formats import FORMATS
    names = set(FORMATS) | {f.family for f in FORMATS.values()} | {"exl2"}
    for k, b in d["weight_formats"].items():
        check_choice(src, f"weight_formats.{k}", k, sorted(names))
        for x in b or ():
            check_choice(src, f"weight_formats.{k}", x, d["backends"])
    for k, v in (d["emulated_formats"] or {}).items():
        check_choice(src, f"emulated_formats.{k}", k, NUMBER_FORMATS)
        check_choice(src, f"emulated_formats.{k}", v, NUMBER_FORMATS)
    for mname, m in d["modes"].items():
        check_keys(src, f"modes.{mname}", m, {"host_dispatch", "graph", "kernels_per_op"}, {"synchronous", "backends"})
        for b in m.get("backends", ()):
            check_choice(src, f"modes.{mname}.backends", b, d["backends"])
        for kind in OP_KINDS:
            if kind not in m["kernels_per_op"]:
                raise ConfigError(src, f"modes.{mname}.kernels_per_op.{kind}", "missing; every op kind needs a count")
        for key, count in m["kernels_per_op"].items():
            check_choice(src, f"modes.{mname}.kernels_per_op.{key}", key.split(":")[0], OP_KINDS)
            check_int(src, f"modes.{mname}.kernels_per_op.{key}", count, 0, 1000)
    cal = (calibration if calibration is not None else load_calibration()).get(name, {})
    return Runtime(name=d["name"], modes=d["modes"], compute_efficiency=float(d["compute_efficiency"]),
                   graph_launch_us=float(d["graph_launch_us"]), dequant_ops_per_weight=d["dequant_ops_per_weight"],
                   calibration=cal, backends=tuple(d["backends"]),
                   host_reference_ghz=float(d.get("host_reference_ghz", 0.0)),
                   gqa_shared_kv=bool(d.get("gqa_shared_kv", True)),
                   weight_formats=d["weight_formats"], emulated_formats=d["emulated_formats"] or {})


def list_runtimes() -> list:
    return sorted(p.stem for p in RUNTIME_DIR.glob("*.yaml"))


def runtime_for(dev: Device, mode: str, calibration: dict | None = None) -> Runtime:
    """The runtime profile (a Runtime) that runs ``mode`` (a mode name) on ``dev``: the device's
    own (``runtime:``) when it offers the mode, else the profile offering the mode for the device's backend (e.g.
    ``llamacpp`` on a Metal device -> llamacpp-metal). Raises ConfigError listing the choices
    otherwise."""
    allowed = set()
    for name in [dev.runtime] + [n for n in list_runtimes() if n != dev.runtime]:
        d = load_yaml(RUNTIME_DIR / f"{name}.yaml")
        runs = [m for m, spec in d["modes"].items() if dev.backend in spec.get("backends", d["backends"])]
        if mode in runs:
            return load_runtime(name, calibration)
        allowed |= set(runs)
    raise ConfigError(dev.source_file or dev.key, "mode", f"{mode!r} is not available on {dev.key} "
                      f"(backend {dev.backend}); allowed: {', '.join(sorted(allowed))}")
