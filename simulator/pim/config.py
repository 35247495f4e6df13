"""PIM presets (hw_configs/pim/*.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config_io import find_config, load_yaml
from ..dram.standard import DramStandard, load_standard
from ..errors import ConfigError

PIM_DIR = Path(__file__).resolve().parents[2] / "hw_configs" / "pim"


@dataclass
class PimConfig:
    """A PIM preset (hw_configs/pim/<key>.yaml) built by :func:`load_pim` / :func:`parse_pim`, which
    validate it (simulator/schema.py ``SCHEMAS["pim"]``); the constructor checks nothing. ``std``: the
    DRAM standard with the preset's channel count (MAC step stretched for a slower MAC clock);
    ``mac``: ``lanes`` (count), ``banks_per_unit`` (count), ``precision``, ``accumulator``,
    ``clock_mhz`` (MHz); ``global_buffer_bytes`` (bytes per channel); ``result_latches`` (outputs per
    bank) and ``result_bytes`` (bytes per output); ``asic``: ``clock_mhz`` (MHz), ``lanes`` (count),
    ``stage_cycles`` (cycles), ``chaining`` (bool); ``energy``: ``mac_pj``, ``asic_pj_per_op`` (pJ);
    ``dataflow``, ``architecture``, ``schedule``: names (see their field comments)."""
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
        """Banks per channel (count), each with its MAC lanes."""
        return self.std.banks_per_channel

    @property
    def row_elems(self) -> int:
        """bf16 elements (count, 2 B each) in one bank row."""
        return self.std.columns * self.std.device_width_bits // 16

    @property
    def gb_elems(self) -> int:
        """bf16 elements (count, 2 B each) the global buffer holds."""
        return self.global_buffer_bytes // 2

    @property
    def mac_interval_cycles(self) -> int:
        """Command-clock cycles between all-bank MAC steps (the architecture's MAC timing, nMAC for the shipped
        ones, stretched at load time when the MAC unit's clock or its sharing between banks is
        slower); 0 when the architecture paces its MACs itself."""
        from .arch import architecture
        t = architecture(self.architecture).mac_timing
        return self.std.timing[t] if t else 0


def list_pims() -> list:
    """Names (file stems) of the PIM presets in hw_configs/pim, sorted: a list of str."""
    return sorted(p.stem for p in PIM_DIR.glob("*.yaml"))




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
    is relative to ``base_dir`` (the preset's folder); an unknown one is reported as ``src: dram``.

    Raises ConfigError naming ``src`` and the dotted key: schema violations (simulator/schema.py
    ``SCHEMAS["pim"]``), an unknown architecture, a DRAM table without the architecture's commands,
    and ``mac.lanes`` x 2 B not equal to one column burst."""
    src = str(src)
    from ..schema import check_config
    from .arch import architecture
    check_config("pim", d, src)           # every key's presence, type and range (simulator/schema.py)
    arch = architecture(d["architecture"], src)
    std = _load_dram(d["dram"], src, base_dir)
    arch.check(std, src, d["dram"])
    # a MAC unit slower than the command table (clock, or shared by banks) stretches the MAC step
    unit_ns = 1e3 / float(d["mac"]["clock_mhz"]) * d["mac"]["banks_per_unit"]
    need = int(-(-unit_ns // std.tck_ns))
    mt = arch.mac_timing
    if mt and need > std.timing[mt]:
        from ..dram.standard import parse_standard, preset_dict
        raw = preset_dict(std.source_file)
        raw["timing"][mt] = need
        std = parse_standard(raw, f"{std.source_file} ({mt}={need} for {src})")
    std = std.with_channels(d["channels"])
    if d["mac"]["lanes"] * 2 != std.tx_bytes:
        raise ConfigError(src, "mac.lanes", f"{d['mac']['lanes']} lanes x 2 B must equal one column burst "
                          f"({std.tx_bytes} B)")
    return PimConfig(key=key, name=str(d["name"]), source=str(d["source"]), std=std, mac=dict(d["mac"]),
                     global_buffer_bytes=d["global_buffer_bytes"], result_latches=d["result_latches"],
                     result_bytes=d["result_bytes"], asic=dict(d["asic"]), energy=dict(d["energy"]),
                     dataflow=d["dataflow"], schedule=d["schedule"], architecture=arch.name)
