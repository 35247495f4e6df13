"""One declarative schema per config kind: every key's type, range or choices, unit and help.

:func:`check_config` validates a YAML mapping against its kind's table (missing, unknown,
mistyped and out-of-range keys are one-line :class:`~simulator.errors.ConfigError`s naming the
file and the dotted key) and :func:`explain` prints the table (``decodesim configs explain
KIND``). Loaders call :func:`check_config` first and keep only what a table cannot say
(cross-key rules such as ``mac.lanes x 2 B = one burst``, names of other files)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .config_io import check_choice, check_float, check_int, check_keys
from .errors import ConfigError

# kernel back ends a device names and runtime profiles list (`backend:` / `backends:`)
BACKENDS = ("cuda", "rocm", "metal", "cpu")


@dataclass(frozen=True)
class Field:
    """One key: ``type`` int | float | str | bool | choice | map | any; ``lo``/``hi`` the range of
    a number; ``choices`` of a choice; ``fields`` of a map (None: any keys); ``unit``; ``help``."""

    type: str
    help: str
    unit: str = ""
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    required: bool = True
    fields: dict | None = field(default=None, hash=False)


def _opt(f: Field) -> Field:
    return Field(f.type, f.help, f.unit, f.lo, f.hi, f.choices, False, f.fields)


_NAME = Field("str", "display name")
_SOURCE = Field("str", "citation of the numbers (paper, datasheet, standard)")
_NOTES = Field("any", "free text", required=False)

SCHEMAS: dict = {
    "pim": {
        "name": _NAME, "source": _SOURCE,
        "architecture": Field("str", "registered PIM architecture (simulator/pim/arch.py) owning lowering and energy"),
        "dram": Field("str", "DRAM standard with the architecture's PIM commands: preset name or YAML path "
                             "(relative to this file)"),
        "channels": Field("int", "PIM channels working in parallel", "channels", 1, 1024),
        "mac": Field("map", "the in-bank MAC units", fields={
            "lanes": Field("int", "multiplies per bank per column access (x 2 B = one burst)", "lanes", 1, 256),
            "banks_per_unit": Field("int", "banks sharing one MAC unit", "banks", 1, 16),
            "precision": Field("choice", "multiplier input format", choices=("bf16", "fp16")),
            "accumulator": Field("choice", "accumulator format", choices=("fp32", "bf16", "fp16")),
            "clock_mhz": Field("float", "MAC unit clock (stretches the table's MAC step when slower)", "MHz",
                               1.0, 10000.0)}),
        "global_buffer_bytes": Field("int", "input-vector buffer per channel", "B", 64, 1 << 24),
        "result_latches": Field("int", "outputs a bank holds before read-out", "outputs", 1, 1024),
        "result_bytes": Field("int", "bytes per output read out", "B", 1, 8),
        "dataflow": Field("choice", "where partial sums of a tiled GEMV are reduced",
                          choices=("asic_partial_sums", "result_latches")),
        "schedule": Field("choice", "serial: one op at a time; overlap: ASIC/transfers overlap the banks",
                          choices=("serial", "overlap")),
        "asic": Field("map", "the nonlinear-op ASIC", fields={
            "source": _opt(_SOURCE),
            "clock_mhz": Field("float", "ASIC clock", "MHz", 1.0, 10000.0),
            "lanes": Field("int", "vector lanes", "lanes", 1, 4096),
            "stage_cycles": Field("int", "cycles per pipeline stage", "cycles", 1, 64),
            "chaining": Field("bool", "consume the previous op's output one lane vector at a time")}),
        "energy": Field("map", "energy per operation", fields={
            "source": _opt(_SOURCE),
            "mac_pj": Field("float", "one multiply-add in a bank", "pJ", 0.0, 1e6),
            "asic_pj_per_op": Field("float", "one ASIC operation", "pJ", 0.0, 1e6)}),
        "assumptions": _opt(_NOTES), "paper_facts": _opt(_NOTES),
    },
    "device": {
        "name": _NAME, "source": _SOURCE,
        "kind": Field("choice", "device class", choices=("gpu", "edge", "cpu")),
        "memory": Field("map", "main memory", fields={
            "standard": Field("str", "DRAM standard preset (hw_configs/dram)"),
            "channels": Field("int", "memory channels", "channels", 1, 4096),
            "peak_gbps": Field("float", "peak memory bandwidth", "GB/s", 0.1, 1e5),
            "capacity_gb": Field("float", "memory capacity", "GB (1e9 B)", 0.1, 1e5),
            "sustained_gbps": Field("float", "measured streaming bandwidth the compute units reach (cite it in "
                                    "`source`); caps the DRAM core's estimate where the path to memory, not the "
                                    "DRAM, limits it", "GB/s", 0.1, 1e5, required=False)}),
        "compute": Field("map", "peak compute", fields={
            "bf16_tflops": Field("float", "dense bf16 peak", "TFLOP/s", 1e-3, 1e5),
            "int8_tops": Field("float", "dense int8 peak", "TOP/s", 1e-3, 1e5),
            "fp32_tflops": Field("float", "fp32 peak", "TFLOP/s", 1e-3, 1e5),
            "units": Field("any", "compute units (SMs, cores)")}),
        "cache": Field("any", "on-chip caches (may be empty)"),
        "power": Field("map", "board power", fields={
            "tdp_w": Field("float", "thermal design power (energy = TDP x time, an upper bound)", "W", 0.1, 1e5),
            "idle_w": Field("float", "idle power (<= tdp_w)", "W", 0.0, 1e5)}),
        "runtime": Field("str", "runtime profile (hw_configs/runtime)"),
        "backend": Field("choice", "kernel backend: which runtime profiles (their `backends`) run here",
                         choices=BACKENDS),
        "native_formats": Field("any", "number formats the hardware computes in natively (fp32, tf32, fp16, bf16, "
                                "fp8, fp4, int8, int4; NVIDIA: by compute capability)"),
        "host": Field("map", "host CPU", required=False, fields={
            "name": Field("str", "host CPU name"),
            "single_thread_ghz": Field("float", "single-thread clock", "GHz", 0.5, 10.0)}),
        "notes": _NOTES,
    },
    "runtime": {
        "name": _NAME, "source": _SOURCE,
        "modes": Field("any", "mode -> {host_dispatch, graph, kernels_per_op[, synchronous, "
                       "backends (default: the profile's)]}"),
        "compute_efficiency": Field("float", "achieved / peak compute", "fraction", 0.01, 1.0),
        "graph_launch_us": Field("float", "one graph launch", "us", 0.0, 1e6),
        "dequant_ops_per_weight": Field("any", "dequantisation operations per weight, per format"),
        "backends": Field("any", "kernel backends this runtime runs on (cuda, rocm, metal, cpu)"),
        "host_reference_ghz": Field("float", "host clock the dispatch costs were measured at", "GHz", 0.0, 10.0,
                                    required=False),
        "kernel_structure": Field("any", "kernels per op structure", required=False),
        "gqa_shared_kv": Field("bool", "grouped-query heads share one KV read", required=False),
        "weight_formats": Field("any", "weight format or format family -> backends it runs on (~: all the profile's)"),
        "emulated_formats": Field("any", "number format the hardware lacks -> the one the engine computes it in"),
    },
    "link": {
        "name": _NAME, "source": _SOURCE,
        "uplink_mbps": Field("float", "edge -> server bandwidth", "Mbit/s", 1e-3, 1e6),
        "downlink_mbps": Field("float", "server -> edge bandwidth", "Mbit/s", 1e-3, 1e6),
        "rtt_ms": Field("float", "round-trip time", "ms", 0.0, 1e5),
        "notes": _NOTES,
    },
    "sweep": {
        "name": _NAME,
        "base": Field("any", "the base point: {hw, workload: {model, ...}[, split, link]}"),
        "axes": Field("any", "dotted config path (pim., device., workload., split., link., or hw) -> list of values"),
        "filters": Field("any", "expressions a point must satisfy", required=False),
        "outputs": Field("any", "metrics kept per point", required=False),
        "notes": _NOTES,
        "allow_overcommit": Field("bool", "run points whose workload exceeds the memory", required=False),
    },
    "dram": {
        "name": _NAME, "family": Field("str", "standard family (DDR4, HBM2, ...)"), "source": _SOURCE,
        "tck_ps": Field("int", "command clock period (rounded; exact = transfers per clock / data rate)", "ps",
                        100, 100_000),
        "data_rate_mtps": Field("int", "transfers per second per data pin", "MT/s", 100, 100_000),
        "organization": Field("map", "the hierarchy", fields={
            "levels": Field("any", "level -> size, channel first, bank last (powers of two)"),
            "rows": Field("int", "rows per bank (power of two)", "rows", 2, 1 << 24),
            "columns": Field("int", "columns per row (power of two)", "columns", 2, 1 << 16),
            "device_width_bits": Field("int", "DQ pins per device", "bits", 1, 1024),
            "channel_width_bits": Field("int", "DQ pins per channel", "bits", 1, 4096),
            "burst_length": Field("int", "transfers per access (power of two)", "transfers", 1, 64),
            "devices_per_rank": Field("int", "devices per rank (default channel / device width)", "devices",
                                      1, 1024, required=False)}),
        "timing": Field("any", "JEDEC timing name (n...) -> cycles"),
        "read_latency": Field("any", "RD to data: cycles or an expression of timing names", "cycles"),
        "commands": Field("any", "command name -> {scope, flags} (docs/dram_standards.md)"),
        "constraints": Field("any", "rows {level, from, to, latency[, window, sibling]}"),
        "refresh": Field("any", "{manager (all-bank | per-bank) or scope (level), interval}: cycles between "
                                "refreshes; per-bank: every bank (pair, flag bank_pair) one refresh per nREFI on "
                                "average"),
        "controller": Field("any", "split_activate / wck_sync protocol features; scheduler (frfcfs default, "
                                   "frfcfs-ramulator2, frfcfs-cap, fcfs); row_policy (open default, closed, "
                                   "closed-after-4)", required=False),
        "energy": Field("any", "IDD currents (mA), VDD (V), io_pj_per_bit", required=False),
        "notes": _NOTES,
        "command_buses": Field("any", "bus name -> commands on it (default: one shared bus)", required=False),
        "command_cycles": Field("any", "command -> cycles it holds its bus (default 1)", required=False),
        "compat": Field("str", "the reference simulator this preset reproduces", required=False),
        "extends": Field("str", "base preset or YAML path this variant patches", required=False),
        "constraints_remove": Field("any", "base rows {level, from, to[, sibling]} to drop", required=False),
        "constraints_add": Field("any", "rows appended to the base's", required=False),
        "fold_levels": Field("any", "{base level: level}: each node of a base level modelled as one of another",
                             required=False),
    },
}


def check_config(kind: str, data: dict, src, prefix: str = "") -> dict:
    """Validate ``data`` against ``SCHEMAS[kind]`` (or a nested field table). Returns ``data``.

    Raises ConfigError(src, dotted key, reason) for a missing required key, an unknown key, a
    value of the wrong type, out of range or not among the choices."""
    table = SCHEMAS[kind] if isinstance(kind, str) else kind
    check_keys(src, prefix, data, {k for k, f in table.items() if f.required},
               {k for k, f in table.items() if not f.required})
    for k, f in table.items():
        if k in data:
            _check_value(src, f"{prefix}.{k}" if prefix else k, f, data[k])
    return data


def _check_value(src, key, f: Field, v):
    if f.type == "int":
        check_int(src, key, v, int(f.lo), int(f.hi))
    elif f.type == "float":
        check_float(src, key, v, f.lo, f.hi)
    elif f.type == "choice":
        check_choice(src, key, v, f.choices)
    elif f.type == "bool" and not isinstance(v, bool):
        raise ConfigError(src, key, f"{v!r} is not one of: true, false")
    elif f.type == "str" and not isinstance(v, str):
        raise ConfigError(src, key, f"must be a string, got {v!r}")
    elif f.type == "map" and f.fields is not None:
        check_config(f.fields, v, src, key)


def explain(kind: str) -> str:
    """The schema of ``kind`` as text: one line per key (dotted), type, range or choices, unit,
    required/optional and help. Raises ConfigError for an unknown kind."""
    if kind not in SCHEMAS:
        raise ConfigError("configs explain", kind, f"unknown config kind; one of: {', '.join(SCHEMAS)}")
    lines = []

    def walk(table, prefix):
        for k, f in table.items():
            rng = (_range(f) if f.lo is not None else
                   "{" + ", ".join(f.choices) + "}" if f.choices else "")
            lines.append(f"{prefix + k:32s} {f.type:6s} {rng:26s} {f.unit:12s} "
                         f"{'required' if f.required else 'optional'}  {f.help}")
            if f.fields:
                walk(f.fields, prefix + k + ".")
    walk(SCHEMAS[kind], "")
    return "\n".join(lines)


def field_help(kind: str, dotted: str) -> str:
    """Help text with unit and range of one key, for CLI help where an option maps to a config key."""
    table, f = SCHEMAS[kind], None
    for part in dotted.split("."):
        f = table[part]
        table = f.fields or {}
    rng = f" {_range(f)}" if f.lo is not None else ""
    return f"{f.help} ({f.unit}{rng})" if f.unit else f.help


def _range(f) -> str:
    """``[lo, hi]`` of a field, integers written in full (2^24 as 16777216, not 1.67772e+07)."""
    def num(v):
        return str(int(v)) if float(v).is_integer() else f"{v:g}"
    return f"[{num(f.lo)}, {num(f.hi)}]"
