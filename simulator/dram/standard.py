"""DRAM standards as data.

A standard YAML file (``hw_configs/dram/*.yaml``) holds the organisation, the
timing parameters in command-clock cycles (tCK given in ps), the command set
(each command has a *role* the controller understands and a *scope* level),
and the constraint table: "command B at level L may not issue until X cycles
after command A" (X an integer or an expression of timing names; ``window: 4``
makes it a rolling window such as tFAW; ``sibling: true`` applies it between
different nodes of that level, such as rank-to-rank turnaround).

Nothing standard-specific lives in code: the controller only knows roles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config_io import (check_choice, find_config, check_float, check_int, check_keys,
                         check_timing_table, eval_expr, load_yaml)
from ..errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parents[2] / "hw_configs" / "dram"

# Node levels of the hierarchy, outermost first. "rank" and "pseudochannel"
# are alternatives for the level below the channel.
LEVEL_NAMES = ("channel", "rank", "pseudochannel", "bankgroup", "bank")

# Roles the controller understands, with their codes in the numba core.
ROLES = {
    "activate": 0,        # open a row (ACT)
    "activate1": 1,       # first half of a split activate (LPDDR5 ACT1)
    "activate2": 2,       # second half (LPDDR5 ACT2); opens the row
    "precharge": 3,       # close one bank (PREpb)
    "precharge_all": 4,   # close every bank under the scope node (PREab)
    "read": 5,
    "write": 6,
    "read_ap": 7,         # read with auto-precharge
    "write_ap": 8,
    "refresh_all": 9,     # REFab
    "refresh_bank": 10,   # REFpb
    "cas_read": 11,       # WCK2CK sync before a read (LPDDR5 CAS)
    "cas_write": 12,
    # processing in memory (all-bank commands; see hw_configs/dram/gddr6-pim.yaml)
    "pim_activate_all": 13,   # open the same row in every bank of the channel
    "pim_mac_all": 14,        # one column from every open bank x the global buffer -> bank accumulators
    "pim_write_gb": 15,       # write one burst of the input vector into the channel's global buffer
    "pim_read_result": 16,    # read one burst of bank results out of the channel
}
ROLE_NAMES = {v: k for k, v in ROLES.items()}
N_ROLES = len(ROLES)

CLOSING_ROLES = {"precharge", "precharge_all", "read_ap", "write_ap"}
REFRESH_ROLES = {"refresh_all", "refresh_bank"}
ACCESS_ROLES = {"read", "write", "read_ap", "write_ap"}
OPENING_ROLES = {"activate", "activate2"}

_TOP_REQUIRED = {"name", "family", "source", "tck_ps", "data_rate_mtps", "organization", "timing",
                 "read_latency", "commands", "constraints", "refresh"}
_TOP_OPTIONAL = {"controller", "energy", "notes"}
_ORG_REQUIRED = {"levels", "rows", "columns", "device_width_bits", "channel_width_bits",
                 "burst_length"}
_ORG_OPTIONAL = {"devices_per_rank"}
_ENERGY_KEYS = {"vdd_v", "idd0_ma", "idd2n_ma", "idd3n_ma", "idd4r_ma", "idd4w_ma",
                "idd5b_ma", "io_pj_per_bit", "source"}


@dataclass
class DramStandard:
    """A resolved DRAM standard: plain Python view plus arrays for the core."""

    name: str
    family: str
    source: str                # citation of the timing/organisation numbers
    source_file: str
    tck_ps: int
    data_rate_mtps: int        # transfers per second per data pin, in millions
    level_names: list          # node levels, outermost first (channel first)
    level_sizes: list          # size of each node level (channels first)
    rows: int
    columns: int
    device_width_bits: int
    channel_width_bits: int
    burst_length: int
    devices_per_rank: int
    timing: dict               # name -> cycles
    read_latency: int
    commands: list             # names, index = command id
    roles: list                # role name per command
    scopes: list               # scope level index per command
    constraints: list          # dicts: level, prec, follow, latency, window, sibling (ids)
    refresh_scope: int
    refresh_interval: int
    controller: dict = field(default_factory=dict)
    energy: dict = field(default_factory=dict)

    # ---- derived sizes -------------------------------------------------
    @property
    def n_levels(self) -> int:
        return len(self.level_names)

    @property
    def channels(self) -> int:
        return self.level_sizes[0]

    @property
    def banks_per_channel(self) -> int:
        return int(np.prod(self.level_sizes[1:]))

    @property
    def column_bursts(self) -> int:
        return self.columns // self.burst_length

    @property
    def tx_bytes(self) -> int:
        """Bytes moved by one RD/WR burst on the channel."""
        return self.channel_width_bits * self.burst_length // 8

    @property
    def tck_ns(self) -> float:
        return self.tck_ps / 1000.0

    @property
    def data_buses_per_channel(self) -> int:
        """Pseudo-channels have their own data bus; ranks share the channel's."""
        if "pseudochannel" in self.level_names:
            return self.level_sizes[self.level_names.index("pseudochannel")]
        return 1

    @property
    def peak_gbps(self) -> float:
        """Peak data bandwidth of all channels in GB/s."""
        per_bus = self.channel_width_bits / 8 * self.data_rate_mtps / 1000.0
        return per_bus * self.data_buses_per_channel * self.channels

    def role_command(self, role: str) -> int:
        """Command id with this role, or -1 when the standard has none."""
        return self.roles.index(role) if role in self.roles else -1

    def with_channels(self, channels: int) -> "DramStandard":
        check_int(self.source_file, "channels", channels, 1, 1024)
        import copy
        new = copy.copy(self)
        new.level_sizes = [channels] + list(self.level_sizes[1:])
        return new

    # ---- arrays for the numba core --------------------------------------
    def arrays(self) -> dict:
        nl, nc = self.n_levels, len(self.commands)
        by_key = [[] for _ in range(nl * nc)]
        for c in self.constraints:
            for p in c["prec"]:
                for f in c["follow"]:
                    by_key[c["level"] * nc + p].append((f, c["latency"], c["window"], int(c["sibling"])))
        ptr = np.zeros(nl * nc + 1, np.int64)
        flat = []
        for k, lst in enumerate(by_key):
            flat.extend(lst)
            ptr[k + 1] = len(flat)
        cons = np.array(flat, np.int64).reshape(-1, 4) if flat else np.zeros((0, 4), np.int64)
        role_cmd = np.full(N_ROLES, -1, np.int64)
        for i, r in enumerate(self.roles):
            role_cmd[ROLES[r]] = i
        ctrl = self.controller
        split = ctrl.get("split_activate", {})
        wck = ctrl.get("wck_sync", {})
        return dict(
            sizes=np.array(self.level_sizes, np.int64),
            cmd_role=np.array([ROLES[r] for r in self.roles], np.int64),
            role_cmd=role_cmd,
            cons_ptr=ptr,
            cons=cons,
            read_latency=self.read_latency,
            refresh_scope=self.refresh_scope,
            refresh_interval=self.refresh_interval,
            aad_cycles=int(split.get("deadline_cycles", 0)),
            wck=np.array([wck.get("read_cycles", 0), wck.get("write_cycles", 0)], np.int64),
            wck_enabled=bool(wck),
        )


def list_standards() -> list:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def load_standard(name_or_path) -> DramStandard:
    """Load a standard by preset name (``ddr4-3200``) or by YAML path."""
    p = find_config(name_or_path, CONFIG_DIR, "--standard", "DRAM standard",
                    normalise=lambda n: n.lower().replace("_", "-"))
    return parse_standard(load_yaml(p), p)


def parse_standard(d: dict, src) -> DramStandard:
    src = str(src)
    check_keys(src, "", d, _TOP_REQUIRED, _TOP_OPTIONAL)
    tck_ps = check_int(src, "tck_ps", d["tck_ps"], 100, 100_000)
    rate = check_int(src, "data_rate_mtps", d["data_rate_mtps"], 100, 100_000)

    org = d["organization"]
    check_keys(src, "organization", org, _ORG_REQUIRED, _ORG_OPTIONAL)
    levels = org["levels"]
    if not isinstance(levels, dict) or not levels:
        raise ConfigError(src, "organization.levels", "must map level names to sizes")
    names = list(levels)
    for n in names:
        check_choice(src, f"organization.levels.{n}", n, LEVEL_NAMES)
    if names[0] != "channel" or names[-1] != "bank":
        raise ConfigError(src, "organization.levels", "must start with 'channel' and end with 'bank'")
    order = [LEVEL_NAMES.index(n) for n in names]
    if order != sorted(order) or len(set(order)) != len(order):
        raise ConfigError(src, "organization.levels",
                          f"levels must be in the order {', '.join(LEVEL_NAMES)} without repeats")
    sizes = [check_int(src, f"organization.levels.{n}", levels[n], 1, 1024) for n in names]
    for n, s in zip(names, sizes):
        if s & (s - 1):
            raise ConfigError(src, f"organization.levels.{n}", f"{s} must be a power of two")
    rows = check_int(src, "organization.rows", org["rows"], 2, 1 << 24)
    cols = check_int(src, "organization.columns", org["columns"], 2, 1 << 16)
    dq = check_int(src, "organization.device_width_bits", org["device_width_bits"], 1, 1024)
    cw = check_int(src, "organization.channel_width_bits", org["channel_width_bits"], 1, 4096)
    bl = check_int(src, "organization.burst_length", org["burst_length"], 1, 64)
    for key, v in (("rows", rows), ("columns", cols), ("burst_length", bl)):
        if v & (v - 1):
            raise ConfigError(src, f"organization.{key}", f"{v} must be a power of two")
    if cols % bl:
        raise ConfigError(src, "organization.columns", "must be a multiple of burst_length")
    dpr = org.get("devices_per_rank", max(1, cw // dq))
    check_int(src, "organization.devices_per_rank", dpr, 1, 1024)

    timing = d["timing"]
    if not isinstance(timing, dict) or not timing:
        raise ConfigError(src, "timing", "must map timing names to cycles")
    tvals = {}
    for k, v in timing.items():
        if not isinstance(k, str) or not k.startswith("n"):
            raise ConfigError(src, f"timing.{k}", "timing names start with 'n' (cycles)")
        tvals[k] = check_int(src, f"timing.{k}", v, 0, 10_000_000)
    check_timing_table(src, d, tvals)
    read_latency = eval_expr(src, "read_latency", d["read_latency"], tvals)
    if read_latency < 1:
        raise ConfigError(src, "read_latency", f"must be >= 1 cycle, got {read_latency}")

    cmds = d["commands"]
    if not isinstance(cmds, dict) or not cmds:
        raise ConfigError(src, "commands", "must map command names to {role, scope}")
    cmd_names, roles, scopes = [], [], []
    for cname, spec in cmds.items():
        check_keys(src, f"commands.{cname}", spec, {"role", "scope"})
        roles.append(check_choice(src, f"commands.{cname}.role", spec["role"], list(ROLES)))
        scopes.append(names.index(check_choice(src, f"commands.{cname}.scope", spec["scope"], names)))
        cmd_names.append(cname)
    if len(set(roles)) != len(roles):
        raise ConfigError(src, "commands", "each role may be used by one command only")
    for need in ("read", "write", "precharge", "refresh_all"):
        if need not in roles:
            raise ConfigError(src, "commands", f"a command with role '{need}' is required")
    if "activate" not in roles and not {"activate1", "activate2"} <= set(roles):
        raise ConfigError(src, "commands", "needs role 'activate' or both 'activate1' and 'activate2'")

    cons = []
    if not isinstance(d["constraints"], list):
        raise ConfigError(src, "constraints", "must be a list")
    for i, c in enumerate(d["constraints"]):
        key = f"constraints[{i}]"
        check_keys(src, key, c, {"level", "from", "to", "latency"}, {"window", "sibling", "note"})
        lvl = names.index(check_choice(src, f"{key}.level", c["level"], names))
        prec = _cmd_list(src, f"{key}.from", c["from"], cmd_names)
        foll = _cmd_list(src, f"{key}.to", c["to"], cmd_names)
        lat = eval_expr(src, f"{key}.latency", c["latency"], tvals)
        if lat < 0:
            raise ConfigError(src, f"{key}.latency", f"resolves to {lat}; must be >= 0")
        win = check_int(src, f"{key}.window", c.get("window", 1), 1, 16)
        sib = c.get("sibling", False)
        if not isinstance(sib, bool):
            raise ConfigError(src, f"{key}.sibling", "must be true or false")
        if sib and lvl == 0:
            raise ConfigError(src, f"{key}.sibling", "sibling constraints need a level below channel")
        cons.append(dict(level=lvl, prec=prec, follow=foll, latency=lat, window=win, sibling=sib))

    ref = d["refresh"]
    check_keys(src, "refresh", ref, {"scope", "interval"})
    rscope = names.index(check_choice(src, "refresh.scope", ref["scope"], names))
    rint = eval_expr(src, "refresh.interval", ref["interval"], tvals)
    check_int(src, "refresh.interval", rint, 0, 100_000_000)

    ctrl = _parse_controller(src, d.get("controller", {}) or {}, tvals, roles)
    energy = d.get("energy", {}) or {}
    check_keys(src, "energy", energy, set(), _ENERGY_KEYS)
    for k, v in energy.items():
        if k != "source":
            check_float(src, f"energy.{k}", v, 0.0, 1e6)

    return DramStandard(
        name=str(d["name"]), family=str(d["family"]), source=str(d["source"]), source_file=src, tck_ps=tck_ps,
        data_rate_mtps=rate,
        level_names=names, level_sizes=sizes, rows=rows, columns=cols,
        device_width_bits=dq, channel_width_bits=cw, burst_length=bl, devices_per_rank=dpr,
        timing=tvals, read_latency=read_latency, commands=cmd_names, roles=roles,
        scopes=scopes, constraints=cons, refresh_scope=rscope, refresh_interval=rint,
        controller=ctrl, energy=energy)


def _cmd_list(src, key, value, cmd_names):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ConfigError(src, key, "must be a command name or a non-empty list of them")
    return [cmd_names.index(check_choice(src, key, v, cmd_names)) for v in value]


def _parse_controller(src, ctrl, tvals, roles):
    """Protocol features some standards need (LPDDR5 split activate and WCK sync)."""
    check_keys(src, "controller", ctrl, set(), {"split_activate", "wck_sync"})
    out = {}
    if "split_activate" in ctrl:
        sa = ctrl["split_activate"]
        check_keys(src, "controller.split_activate", sa, {"deadline"})
        if not {"activate1", "activate2"} <= set(roles):
            raise ConfigError(src, "controller.split_activate", "needs activate1/activate2 commands")
        out["split_activate"] = {"deadline_cycles": eval_expr(
            src, "controller.split_activate.deadline", sa["deadline"], tvals)}
    elif "activate1" in roles:
        raise ConfigError(src, "controller.split_activate",
                          "required when the standard has an activate1 command")
    if "wck_sync" in ctrl:
        w = ctrl["wck_sync"]
        check_keys(src, "controller.wck_sync", w, {"read_window", "write_window"})
        if not {"cas_read", "cas_write"} <= set(roles):
            raise ConfigError(src, "controller.wck_sync", "needs cas_read/cas_write commands")
        out["wck_sync"] = {
            "read_cycles": eval_expr(src, "controller.wck_sync.read_window", w["read_window"], tvals),
            "write_cycles": eval_expr(src, "controller.wck_sync.write_window", w["write_window"], tvals)}
    return out
