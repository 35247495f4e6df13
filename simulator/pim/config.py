"""PIM presets (hw_configs/pim/*.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config_io import check_choice, check_float, check_int, check_keys, find_config, load_yaml
from ..dram.standard import DramStandard, load_standard
from ..errors import ConfigError

PIM_DIR = Path(__file__).resolve().parents[2] / "hw_configs" / "pim"


@dataclass
class PimConfig:
    key: str
    name: str
    source: str
    std: DramStandard            # with the preset's channel count
    mac: dict
    global_buffer_bytes: int
    result_latches: int
    result_bytes: int
    asic: dict
    energy: dict
    dataflow: str = "asic_partial_sums"   # or "result_latches" (see simulator/pim/lowering.py)
    architecture: str = "aim"             # a registered architecture (simulator/pim/arch.py)
    schedule: str = "overlap"             # or "serial" (see simulator/pim/system.py)

    @property
    def banks(self) -> int:
        return self.std.banks_per_channel

    @property
    def row_elems(self) -> int:
        """bf16 elements in one bank row."""
        return self.std.columns * self.std.device_width_bits // 16

    @property
    def gb_elems(self) -> int:
        return self.global_buffer_bytes // 2

    @property
    def mac_interval_cycles(self) -> int:
        """Cycles between all-bank MAC steps (the architecture's MAC timing, nMAC for the shipped
        ones, stretched at load time when the MAC unit's clock or its sharing between banks is
        slower); 0 when the architecture paces its MACs itself."""
        from .arch import architecture
        t = architecture(self.architecture).mac_timing
        return self.std.timing[t] if t else 0


def list_pims() -> list:
    return sorted(p.stem for p in PIM_DIR.glob("*.yaml"))


DATAFLOWS = ("asic_partial_sums", "result_latches")
SCHEDULES = ("serial", "overlap")


def load_pim(name_or_path, overrides: dict | None = None) -> PimConfig:
    """A PIM preset, with ``overrides`` ({dotted key: value}) applied to its YAML mapping
    before validation, by the same dotted paths as a sweep spec's ``pim.*`` axes (the
    ``pim.`` prefix is optional: ``asic.clock_mhz``, ``channels``). String values are read
    as YAML scalars (``"100"`` -> 100). Raises ConfigError naming the file and key."""
    p = find_config(name_or_path, PIM_DIR, "--hw", "PIM preset")
    raw = load_yaml(p)
    ov = {}
    if overrides:
        import yaml

        from ..hw import set_dotted
        for k, v in overrides.items():
            k = k[4:] if k.startswith("pim.") else k
            v = yaml.safe_load(v) if isinstance(v, str) else v
            set_dotted(raw, k, v, str(p))
            ov[k] = v
    return parse_pim(raw, p, key=p.stem if not ov else f"{p.stem}:{sorted(ov.items())}", base_dir=p.parent)


def _load_dram(name, src, base_dir) -> DramStandard:
    from ..config_io import is_path
    from ..dram.standard import list_standards
    if not isinstance(name, str):
        raise ConfigError(src, "dram", f"must be a DRAM standard name or a YAML path, got {name!r}")
    if is_path(name):
        p = Path(name)
        if not p.is_absolute() and base_dir is not None:
            p = Path(base_dir) / p
        if not p.exists():
            raise ConfigError(src, "dram", f"no such file {str(p)!r} (paths are relative to the preset's folder)")
        return load_standard(p)
    if name.lower().replace("_", "-") not in list_standards():
        raise ConfigError(src, "dram", f"unknown DRAM standard {name!r}; available: {', '.join(list_standards())}"
                          " or a YAML path")
    return load_standard(name)


def parse_pim(d: dict, src, key: str, base_dir=None) -> PimConfig:
    """A PIM preset from its YAML mapping; ``key`` names it in memo signatures. A ``dram:`` path
    is relative to ``base_dir`` (the preset's folder); an unknown one is reported as ``src: dram``."""
    src = str(src)
    check_keys(src, "", d, {"name", "source", "dram", "channels", "mac", "global_buffer_bytes", "result_latches",
                            "result_bytes", "asic", "energy", "dataflow", "schedule", "architecture"},
               {"assumptions", "paper_facts"})
    from .arch import architecture
    arch = architecture(d["architecture"], src)
    check_choice(src, "dataflow", d["dataflow"], DATAFLOWS)
    check_choice(src, "schedule", d["schedule"], SCHEDULES)
    std = _load_dram(d["dram"], src, base_dir)
    arch.check(std, src, d["dram"])
    check_keys(src, "mac", d["mac"], {"lanes", "banks_per_unit", "precision", "accumulator", "clock_mhz"})
    # a MAC unit slower than the command table (clock, or shared by banks) stretches the MAC step
    unit_ns = 1e3 / check_float(src, "mac.clock_mhz", d["mac"]["clock_mhz"], 1.0, 10000.0) * \
        check_int(src, "mac.banks_per_unit", d["mac"]["banks_per_unit"], 1, 16)
    need = int(-(-unit_ns // std.tck_ns))
    mt = arch.mac_timing
    if mt and need > std.timing[mt]:
        from ..dram.standard import _resolve_extends, parse_standard
        raw = _resolve_extends(load_yaml(std.source_file), std.source_file, ())
        raw["timing"][mt] = need
        std = parse_standard(raw, f"{std.source_file} ({mt}={need} for {src})")
    std = std.with_channels(check_int(src, "channels", d["channels"], 1, 1024))
    check_int(src, "mac.lanes", d["mac"]["lanes"], 1, 256)
    check_choice(src, "mac.precision", d["mac"]["precision"], ("bf16", "fp16"))
    check_choice(src, "mac.accumulator", d["mac"]["accumulator"], ("fp32", "bf16", "fp16"))
    check_int(src, "global_buffer_bytes", d["global_buffer_bytes"], 64, 1 << 24)
    check_int(src, "result_latches", d["result_latches"], 1, 1024)
    check_int(src, "result_bytes", d["result_bytes"], 1, 8)
    check_keys(src, "asic", d["asic"], {"clock_mhz", "lanes", "stage_cycles", "chaining"}, {"source"})
    if not isinstance(d["asic"]["chaining"], bool):
        raise ConfigError(src, "asic.chaining", f"{d['asic']['chaining']!r} is not one of: true, false")
    check_int(src, "asic.stage_cycles", d["asic"]["stage_cycles"], 1, 64)
    check_float(src, "asic.clock_mhz", d["asic"]["clock_mhz"], 1.0, 10000.0)
    check_int(src, "asic.lanes", d["asic"]["lanes"], 1, 4096)
    check_keys(src, "energy", d["energy"], {"mac_pj", "asic_pj_per_op"}, {"source"})
    if d["mac"]["lanes"] * 2 != std.tx_bytes:
        raise ConfigError(src, "mac.lanes", f"{d['mac']['lanes']} lanes x 2 B must equal one column burst "
                          f"({std.tx_bytes} B)")
    return PimConfig(key=key, name=str(d["name"]), source=str(d["source"]), std=std, mac=dict(d["mac"]),
                     global_buffer_bytes=d["global_buffer_bytes"], result_latches=d["result_latches"],
                     result_bytes=d["result_bytes"], asic=dict(d["asic"]), energy=dict(d["energy"]),
                     dataflow=d["dataflow"], schedule=d["schedule"], architecture=arch.name)
