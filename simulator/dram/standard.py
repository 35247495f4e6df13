"""DRAM standards as data.

A standard YAML file (``hw_configs/dram/*.yaml``) holds the organisation, the
timing parameters in command-clock cycles (tCK given in ps), the command set
(each command has *flags* saying what it does: opens, closes, read, write, refresh, all banks ...,
and a *scope* level),
and the constraint table: "command B at level L may not issue until X cycles
after command A" (X an integer or an expression of timing names; ``window: 4``
makes it a rolling window such as tFAW; ``sibling: true`` applies it between
different nodes of that level, such as rank-to-rank turnaround).

Nothing standard-specific lives in code: the controller only knows flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config_io import (check_choice, find_config, check_float, check_int, check_keys,
                         check_timing_table, eval_expr, load_yaml, TIMING_AT_LEAST_ONE)
from ..errors import ConfigError
from .state import (F_DATA, F_OPEN_BEGIN, FLAG_NAMES, N_SEL, SEL_ACT, SEL_ACT1, SEL_ACT2, SEL_CASRD, SEL_CASWR,
                    SEL_PRE, SEL_PREA, SEL_RD, SEL_RDA, SEL_REFAB, SEL_REFPB, SEL_WR, SEL_WRA, SELECTOR_RULES)

CONFIG_DIR = Path(__file__).resolve().parents[2] / "hw_configs" / "dram"

# Node levels of the hierarchy, outermost first. "rank" and "pseudochannel"
# are alternatives for the level below the channel.
LEVEL_NAMES = ("channel", "rank", "pseudochannel", "bankgroup", "bank")

# What a command does is a set of flags (state.FLAG_NAMES; ``flags:`` per command in the YAML): the
# core, the checkers and the energy model read the flags, and the controller finds the command for
# each purpose (activate, precharge, read ...) by them (state.SELECTOR_RULES, command_selectors).
SEL_NAMES = {SEL_ACT: "activate", SEL_ACT1: "split-activate first half", SEL_ACT2: "split-activate second half",
             SEL_PRE: "precharge", SEL_PREA: "precharge-all", SEL_RD: "read", SEL_WR: "write",
             SEL_RDA: "read with auto-precharge", SEL_WRA: "write with auto-precharge",
             SEL_REFAB: "all-bank refresh", SEL_REFPB: "per-bank refresh", SEL_CASRD: "CAS before a read",
             SEL_CASWR: "CAS before a write"}

# A variant preset names its base with ``extends`` and patches it: mappings merge key by key,
# other values replace, ``constraints_remove`` drops base rows (matched on level, from, to, sibling),
# ``constraints_add`` appends rows, and ``fold_levels: {base level: level}`` models each node of a
# base level as a node of another (HBM-PIM: a pseudo-channel as a channel): the base's rows and
# command/refresh scopes at that level move to the other; the variant's organization omits it.
_VARIANT_KEYS = {"extends", "constraints_remove", "constraints_add", "fold_levels"}
# within a block, keys that say the same thing two ways (a variant's one replaces the base's other)
_ALTERNATIVE_KEYS = {"refresh": ({"scope", "manager"},)}
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
    flags: list                # per command: the tuple of its flag names (state.FLAG_NAMES)
    scopes: list               # scope level index per command
    constraints: list          # dicts: level, prec, follow, latency, window, sibling (ids)
    refresh_scope: int
    refresh_interval: int
    controller: dict = field(default_factory=dict)
    energy: dict = field(default_factory=dict)
    cmd_bus: list = field(default_factory=list)      # command bus index per command
    bus_names: list = field(default_factory=lambda: ["command"])
    cmd_cycles: list = field(default_factory=list)   # cycles a command holds its bus
    compat: str = ""           # the reference simulator this preset reproduces ("" = the standard)
    transfers_per_clock: int = 2   # data transfers per pin per command clock

    @property
    def refresh_unit_level(self) -> int:
        """Level index (int) whose nodes each run one per-bank refresh round robin (rank or
        pseudo-channel when present, else the channel)."""
        return _refresh_unit_level(self.level_names)

    # ---- derived sizes -------------------------------------------------
    @property
    def n_levels(self) -> int:
        """Number of node levels (channel ... bank): int."""
        return len(self.level_names)

    @property
    def channels(self) -> int:
        """Number of channels (the size of the outermost level): int."""
        return self.level_sizes[0]

    @property
    def banks_per_channel(self) -> int:
        """Banks under one channel (product of the sizes of all levels below it): int."""
        return int(np.prod(self.level_sizes[1:]))

    @property
    def column_bursts(self) -> int:
        """RD/WR bursts per row (columns / burst_length): int."""
        return self.columns // self.burst_length

    @property
    def tx_bytes(self) -> int:
        """Bytes (B) moved by one RD/WR burst on the channel: channel width x burst length / 8."""
        return self.channel_width_bits * self.burst_length // 8

    @property
    def tck_ns(self) -> float:
        """Exact command-clock period from the data rate (``tck_ps`` in the YAML is its rounded
        value): transfers per clock / data rate."""
        return self.transfers_per_clock * 1000.0 / self.data_rate_mtps

    @property
    def capacity_bytes(self) -> int:
        """Bytes addressable on all channels (every address bit the mapping uses)."""
        return self.channels * self.banks_per_channel * self.rows * self.column_bursts * self.tx_bytes

    @property
    def data_buses_per_channel(self) -> int:
        """Data buses per channel (count): pseudo-channels have their own data bus; ranks share the
        channel's."""
        if "pseudochannel" in self.level_names:
            return self.level_sizes[self.level_names.index("pseudochannel")]
        return 1

    @property
    def peak_gbps(self) -> float:
        """Peak data bandwidth of all channels in GB/s."""
        per_bus = self.channel_width_bits / 8 * self.data_rate_mtps / 1000.0
        return per_bus * self.data_buses_per_channel * self.channels

    @property
    def scheduler(self) -> str:
        """The read/write buffer scheduling policy this standard's controller uses unless the run
        names one (YAML ``controller.scheduler``; default ``frfcfs``, see policies.SCHEDULERS)."""
        return self.controller.get("scheduler", "frfcfs")

    @property
    def refresh_manager(self) -> str:
        """The refresh manager (policies.REFRESH_MANAGERS): ``per-bank`` when refresh works at the bank
        level, else ``all-bank`` (a name)."""
        return "per-bank" if self.refresh_scope == self.n_levels - 1 else "all-bank"

    @property
    def row_policy(self) -> str:
        """The row (page) policy this standard's controller uses unless the run names one (YAML
        ``controller.row_policy``; default ``open``, see policies.ROW_POLICIES)."""
        return self.controller.get("row_policy", "open")

    def fingerprint(self) -> str:
        """Hash of everything in the standard that affects a simulation result, and of the
        core's semantics version (for result caches): 16 hex characters."""
        import hashlib
        import json
        from dataclasses import asdict
        from .policies import CORE_VERSION, ROW_POLICIES, SCHEDULERS
        a = self.arrays()
        blob = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in a.items()}
        blob.update(core=CORE_VERSION, scheduler=asdict(SCHEDULERS[self.scheduler]),
                    row_policy=asdict(ROW_POLICIES[self.row_policy]), tck_ns=self.tck_ns, tx=self.tx_bytes,
                    rows=self.rows, cols=self.columns, bl=self.burst_length, rate=self.data_rate_mtps)
        return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:16]

    def command_flags(self) -> np.ndarray:
        """Per-command flag bits (state.F_*), int64 (n_commands,)."""
        return np.array([sum(FLAG_NAMES[f] for f in fl) for fl in self.flags], np.int64)

    def selectors(self) -> np.ndarray:
        """The command id the controller issues for each purpose (state.SEL_*), int64 (N_SEL,), -1
        where the standard has none (see :func:`command_selectors`)."""
        return command_selectors(self.command_flags(), self.commands)

    def command_for(self, sel: int) -> int:
        """Command id (int index into the ``commands`` list) for one purpose ``sel`` (a state.SEL_*
        index), -1 when the standard has none."""
        return int(self.selectors()[sel])

    def command_by_flags(self, flags) -> int:
        """Command id (int index into the ``commands`` list) whose flag set is exactly ``flags`` (a list
        or tuple of flag names), -1 when none: how a PIM architecture finds its commands in its DRAM
        table."""
        want = frozenset(flags)
        hits = [i for i, fl in enumerate(self.flags) if frozenset(fl) == want]
        return hits[0] if hits else -1

    def data_commands(self) -> list:
        """Ids of the commands that move one burst over the data bus (flag ``data``): list of int."""
        return [i for i, f in enumerate(self.command_flags()) if f & F_DATA]

    def with_channels(self, channels: int) -> "DramStandard":
        """A copy with ``channels`` channels (count, 1..1024). Raises ConfigError out of range."""
        check_int(self.source_file, "channels", channels, 1, 1024)
        import copy
        new = copy.copy(self)
        new.level_sizes = [channels] + list(self.level_sizes[1:])
        return new

    # ---- arrays for the numba core --------------------------------------
    def arrays(self) -> dict:
        """The int64 numpy arrays the numba core reads: level sizes (n_levels,), command flags
        (n_commands,) and the controller's command selectors (N_SEL,), constraint rows (n, 4: follow,
        latency cycles, window, sibling) indexed by ``cons_ptr`` (n_levels * n_commands + 1,), command buses and cycles, refresh scope and
        interval (cycles), read latency (cycles)."""
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
        flags = self.command_flags()
        ctrl = self.controller
        split = ctrl.get("split_activate", {})
        wck = ctrl.get("wck_sync", {})
        return dict(
            sizes=np.array(self.level_sizes, np.int64),
            cmd_flags=flags,
            sel=command_selectors(flags, self.commands),
            cons_ptr=ptr,
            cons=cons,
            read_latency=self.read_latency,
            refresh_scope=self.refresh_scope,
            refresh_interval=self.refresh_interval,
            aad_cycles=int(split.get("deadline_cycles", 0)),
            wck=np.array([wck.get("read_cycles", 0), wck.get("write_cycles", 0)], np.int64),
            wck_enabled=bool(wck),
            cmd_bus=np.array(self.cmd_bus, np.int64),
            n_buses=len(self.bus_names),
            refresh_unit_level=self.refresh_unit_level,
            cmd_cycles=np.array(self.cmd_cycles, np.int64),
        )


def command_selectors(flags, names) -> np.ndarray:
    """The command the controller issues for each purpose (state.SEL_*), from the commands' flags:
    int64 (N_SEL,), -1 where the standard has none. A plain activate and a split activation's second
    half share their flags; which one a standard has follows from an ``open_begin`` command. Raises
    ValueError when two commands match one purpose."""
    split = any(int(f) & F_OPEN_BEGIN for f in flags)
    sel = np.full(N_SEL, -1, np.int64)
    for s, (need, clear) in SELECTOR_RULES.items():
        if (s == SEL_ACT and split) or (s == SEL_ACT2 and not split):
            continue
        hits = [i for i, f in enumerate(flags) if int(f) & need == need and not int(f) & clear]
        if len(hits) > 1:
            names_of = lambda bits: [n for n, b in FLAG_NAMES.items() if bits & b]   # noqa: E731
            raise ValueError(f"commands {[names[i] for i in hits]} all serve one purpose, {SEL_NAMES[s]} "
                             f"(flags {names_of(need)}, none of {names_of(clear)}): give them different flags")
        if hits:
            sel[s] = hits[0]
    return sel


def list_standards() -> list:
    """Names (file stems) of the DRAM standard presets in hw_configs/dram, sorted: a list of str."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def load_standard(name_or_path) -> DramStandard:
    """Load a standard by preset name (``ddr4-3200``) or by YAML path."""
    p = _find_preset(name_or_path)
    return parse_standard(load_yaml(p), p)


def preset_dict(name_or_path) -> dict:
    """A preset's YAML mapping with ``extends`` resolved: a plain standard (every row its own)
    to patch and pass to :func:`parse_standard`. Raises ConfigError as :func:`load_standard`."""
    p = _find_preset(name_or_path)
    return _resolve_extends(load_yaml(p), p, ())


def _find_preset(name_or_path):
    return find_config(name_or_path, CONFIG_DIR, "--standard", "DRAM standard",
                       normalise=lambda n: n.lower().replace("_", "-"))


def standard_files(name_or_path) -> list:
    """Every YAML file a standard is resolved from: its own file, then each ``extends:`` base in
    turn (result caches key on all of them). Raises ConfigError for an unknown name or base."""
    out = [_find_preset(name_or_path)]
    while True:
        base = load_yaml(out[-1]).get("extends")
        if not isinstance(base, str):
            return out
        bp = find_config(base, CONFIG_DIR, f"{out[-1]}: extends", "DRAM standard")
        if bp.resolve() in {q.resolve() for q in out}:
            raise ConfigError(out[-1], "extends", f"circular: {base}")
        out.append(bp)


def _resolve_extends(d: dict, src, seen) -> dict:
    """Merge a variant preset (``extends: <preset or path>``) onto its base."""
    if "extends" not in d:
        for k in _VARIANT_KEYS - {"extends"}:
            if k in d:
                raise ConfigError(src, k, "only allowed together with 'extends'")
        return d
    base_name = d["extends"]
    if not isinstance(base_name, str):
        raise ConfigError(src, "extends", "must name a preset or a YAML file")
    bp = find_config(base_name, CONFIG_DIR, f"{src}: extends", "DRAM standard")
    if bp.resolve() in seen:
        raise ConfigError(src, "extends", f"circular: {base_name}")
    base = _resolve_extends(load_yaml(bp), bp, seen + (Path(src).resolve(),))
    out = dict(base)
    for k, v in d.items():
        if k in _VARIANT_KEYS:
            continue
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            # keys that are alternatives to one another: a variant giving one replaces the base's other
            drop = {a for group in _ALTERNATIVE_KEYS.get(k, ()) if group & set(v) for a in group}
            out[k] = {**{bk: bv for bk, bv in base[k].items() if bk not in drop}, **v}
        else:
            out[k] = v
    cons = list(out.get("constraints", []))
    for i, rm in enumerate(d.get("constraints_remove", []) or []):
        key = f"constraints_remove[{i}]"
        check_keys(src, key, rm, {"level", "from", "to"}, {"sibling"})
        sig = _row_sig(rm)
        hits = [c for c in cons if isinstance(c, dict) and _row_sig(c) == sig]
        if not hits:
            raise ConfigError(src, key, f"no row of {base_name} has level/from/to {rm}")
        cons = [c for c in cons if not (isinstance(c, dict) and _row_sig(c) == sig)]
    add = d.get("constraints_add", []) or []
    if not isinstance(add, list):
        raise ConfigError(src, "constraints_add", "must be a list")
    out["constraints"] = _fold_levels(src, out, cons, d.get("fold_levels")) + list(add)
    return out


def _fold_levels(src, out, cons, fold):
    """Apply ``fold_levels`` to the merged preset ``out`` (command and refresh scopes) and to the
    base rows ``cons``; returns the rows."""
    if fold is None:
        return cons
    levels = (out.get("organization") or {}).get("levels") or {}
    if not isinstance(fold, dict) or not fold:
        raise ConfigError(src, "fold_levels", "must map base level names to level names")
    for a, b in fold.items():
        check_choice(src, "fold_levels", a, LEVEL_NAMES)
        check_choice(src, f"fold_levels.{a}", b, list(levels))
        if a in levels:
            raise ConfigError(src, "fold_levels", f"'{a}' is folded into '{b}' but is still in organization.levels")

    def f(v):
        return fold.get(v, v)
    out["commands"] = {k: ({**v, "scope": f(v.get("scope"))} if isinstance(v, dict) else v)
                       for k, v in (out.get("commands") or {}).items()}
    if isinstance(out.get("refresh"), dict):
        out["refresh"] = {**out["refresh"], "scope": f(out["refresh"].get("scope"))}
    return [{**c, "level": f(c.get("level"))} if isinstance(c, dict) else c for c in cons]


def _row_sig(c):
    def lst(v):
        return tuple(sorted(v)) if isinstance(v, list) else (v,)
    return c.get("level"), lst(c.get("from")), lst(c.get("to")), bool(c.get("sibling", False))


def parse_standard(d: dict, src) -> DramStandard:
    """A standard from its YAML mapping ``d`` (a variant with ``extends`` is merged onto its base
    first); ``src`` names the file in errors. Raises ConfigError."""
    if isinstance(d, dict):
        d = _resolve_extends(d, src, ())
    src = str(src)
    from ..schema import check_config
    check_config("dram", {k: v for k, v in d.items() if k not in _VARIANT_KEYS}, src)
    tck_ps, rate, tpc = _parse_clock(src, d)
    names, sizes, rows, cols, dq, cw, bl, dpr = _parse_organization(src, d["organization"])
    tvals, read_latency = _parse_timing(src, d)
    cmd_names, flags, scopes, sel = _parse_commands(src, d["commands"], names)
    buses, bus_names, cyc = _parse_command_buses(src, d, cmd_names)
    cons = _parse_constraints(src, d["constraints"], names, cmd_names, tvals, cyc)
    rscope, rint = _parse_refresh(src, d["refresh"], names, sizes, sel, scopes, flags, tvals)
    ctrl = _parse_controller(src, d.get("controller", {}) or {}, tvals, sel)
    energy = _parse_energy(src, d.get("energy", {}) or {})
    return DramStandard(
        name=str(d["name"]), family=str(d["family"]), source=str(d["source"]), source_file=src, tck_ps=tck_ps,
        data_rate_mtps=rate,
        level_names=names, level_sizes=sizes, rows=rows, columns=cols,
        device_width_bits=dq, channel_width_bits=cw, burst_length=bl, devices_per_rank=dpr,
        timing=tvals, read_latency=read_latency, commands=cmd_names, flags=flags,
        scopes=scopes, constraints=cons, refresh_scope=rscope, refresh_interval=rint,
        controller=ctrl, energy=energy, cmd_bus=buses, bus_names=bus_names, cmd_cycles=cyc,
        compat=str(d.get("compat", "")), transfers_per_clock=tpc)


def _parse_clock(src, d):
    """(tck_ps, data_rate_mtps, transfers per clock) from ``tck_ps`` and ``data_rate_mtps``."""
    tck_ps = check_int(src, "tck_ps", d["tck_ps"], 100, 100_000)
    rate = check_int(src, "data_rate_mtps", d["data_rate_mtps"], 100, 100_000)
    # transfers per clock from the data rate and the (rounded) clock period; the exact
    # period used everywhere is transfers / rate, so peak bandwidth is exactly width x rate
    tpc = max(1, round(rate * tck_ps / 1e6))
    exact_ps = tpc * 1e6 / rate
    if abs(exact_ps - tck_ps) > 0.01 * exact_ps:
        raise ConfigError(src, "tck_ps", f"{tck_ps} ps does not match data_rate_mtps {rate} at a whole "
                          f"number of transfers per clock (nearest: {tpc} per clock = {exact_ps:.2f} ps)")
    return tck_ps, rate, tpc


def _parse_organization(src, org):
    """(level names, level sizes, rows, columns, device width, channel width, burst length, devices
    per rank) from the ``organization`` block."""
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
    return names, sizes, rows, cols, dq, cw, bl, dpr


def _parse_timing(src, d):
    """(timing name -> cycles, read latency in cycles) from ``timing`` and ``read_latency``."""
    timing = d["timing"]
    if not isinstance(timing, dict) or not timing:
        raise ConfigError(src, "timing", "must map timing names to cycles")
    tvals = {}
    for k, v in timing.items():
        if not isinstance(k, str) or not k.startswith("n"):
            raise ConfigError(src, f"timing.{k}", "timing names start with 'n' (cycles)")
        tvals[k] = check_int(src, f"timing.{k}", v, 1 if k in TIMING_AT_LEAST_ONE else 0, 10_000_000)
    check_timing_table(src, d, tvals)
    read_latency = eval_expr(src, "read_latency", d["read_latency"], tvals)
    if read_latency < 1:
        raise ConfigError(src, "read_latency", f"must be >= 1 cycle, got {read_latency}")
    return tvals, read_latency



def _parse_constraints(src, rows, names, cmd_names, tvals, cyc):
    """The ``constraints`` list as dicts (level index, prec / follow command indices, issue-to-issue
    latency in cycles, window, sibling)."""
    cons = []
    if not isinstance(rows, list):
        raise ConfigError(src, "constraints", "must be a list")
    for i, c in enumerate(rows):
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
        for adj, (ps, fs) in _issue_distance_groups(prec, foll, lat, cyc).items():
            cons.append(dict(level=lvl, prec=ps, follow=fs, latency=adj, window=win, sibling=sib))
    return cons


def _issue_distance_groups(prec, foll, lat, cyc):
    """{issue-to-issue distance: (from commands, to commands)} for one constraint row.

    A timing is measured from the last cycle of a multi-cycle command to the last cycle
    of the next; the log records a command's first cycle, so the issue-to-issue distance
    is latency + (cycles(from) - 1) - (cycles(to) - 1). Group rows by that distance."""
    groups = {}
    for p in prec:
        for f in foll:
            adj = max(0, lat + cyc[p] - cyc[f])
            g = groups.setdefault(adj, ([], []))
            if p not in g[0]:
                g[0].append(p)
            if f not in g[1]:
                g[1].append(f)
    return groups


def _parse_refresh(src, ref, names, sizes, sel, scopes, flags, tvals):
    """(refresh scope level index, refresh interval in cycles; 0 = off) from the ``refresh`` block:
    ``interval`` and the refresh manager (policies.REFRESH_MANAGERS) by ``manager`` or implied by
    ``scope`` (bank: per-bank, else all-bank). All-bank refresh works at the level of the all-bank
    refresh command's own scope. Raises ConfigError when neither key is given, they disagree, the scope
    is not the REFab command's, or per-bank refresh has no REFpb command."""
    from .policies import REFRESH_MANAGERS
    check_keys(src, "refresh", ref, {"interval"}, {"scope", "manager"})
    if "scope" not in ref and "manager" not in ref:
        raise ConfigError(src, "refresh", f"needs manager ({', '.join(REFRESH_MANAGERS)}) or scope (a level)")
    key = "refresh.manager" if "manager" in ref else "refresh.scope"
    rscope = names.index(check_choice(src, "refresh.scope", ref["scope"], names)) if "scope" in ref else None
    if "manager" in ref:
        per_bank = REFRESH_MANAGERS[check_choice(src, key, ref["manager"], tuple(REFRESH_MANAGERS))].per_bank
    else:
        per_bank = rscope == len(names) - 1
    refab = scopes[sel[SEL_REFAB]]
    implied = len(names) - 1 if per_bank else refab
    if rscope is not None and rscope != implied:
        why = (f"contradicts refresh.manager {ref['manager']}" if "manager" in ref else
               "is not the level of the all-bank refresh command")
        raise ConfigError(src, "refresh.scope", f"{names[rscope]} {why}; all-bank refresh works at the all-bank "
                          f"refresh command's level ({names[refab]}), per-bank at {names[-1]}")
    rscope = implied
    rint = eval_expr(src, "refresh.interval", ref["interval"], tvals)
    check_int(src, "refresh.interval", rint, 0, 100_000_000)
    if per_bank and rint > 0:
        _check_per_bank_refresh(src, key, names, sizes, sel, flags, tvals, rint, refab)
    elif rint > 0:
        rfc = next((k for k in ("nRFC", "nRFCab") if k in tvals), None)
        if rfc and rint <= tvals[rfc]:
            raise ConfigError(src, "refresh.interval", f"{rint} cycles is not longer than {rfc} "
                              f"({tvals[rfc]}): refreshes could never keep up")
    return rscope, rint


def _parse_energy(src, energy):
    """The ``energy`` block (vdd_v, IDD currents in mA, I/O pJ per bit; each >= 0) as given."""
    check_keys(src, "energy", energy, set(), _ENERGY_KEYS)
    for k, v in energy.items():
        if k != "source":
            check_float(src, f"energy.{k}", v, 0.0, 1e6)
    return energy


def _parse_command_buses(src, d, cmd_names):
    """``command_buses: {bus: [commands]}`` (absent: one shared bus) and ``command_cycles:
    {command: cycles}`` (default 1). Returns (bus index per command, bus names, cycles)."""
    cb = d.get("command_buses")
    if cb is None:
        bus, bus_names = [0] * len(cmd_names), ["command"]
    else:
        if not isinstance(cb, dict) or not cb:
            raise ConfigError(src, "command_buses", "must map bus names to lists of command names")
        bus, bus_names = [-1] * len(cmd_names), list(cb)
        for i, (bname, lst) in enumerate(cb.items()):
            for c in _cmd_list(src, f"command_buses.{bname}", lst, cmd_names):
                if bus[c] >= 0:
                    raise ConfigError(src, f"command_buses.{bname}",
                                      f"{cmd_names[c]} is already on bus {bus_names[bus[c]]}")
                bus[c] = i
        missing = [cmd_names[c] for c in range(len(cmd_names)) if bus[c] < 0]
        if missing:
            raise ConfigError(src, "command_buses", f"commands on no bus: {', '.join(missing)}")
    cc = d.get("command_cycles", {}) or {}
    if not isinstance(cc, dict):
        raise ConfigError(src, "command_cycles", "must map command names to cycles")
    cyc = [1] * len(cmd_names)
    for k, v in cc.items():
        check_choice(src, "command_cycles", k, cmd_names)
        cyc[cmd_names.index(k)] = check_int(src, f"command_cycles.{k}", v, 1, 16)
    return bus, bus_names, cyc


def _parse_commands(src, cmds, names):
    """``commands: {name: {scope: level, flags: [flag, ...]}}``. Returns (names, flag tuples, scope level
    indices, selectors). Raises ConfigError for an unknown flag or level, two commands with the same
    flags, or a standard without a read, write, precharge, all-bank refresh and activation."""
    if not isinstance(cmds, dict) or not cmds:
        raise ConfigError(src, "commands", "must map command names to {scope, flags}")
    cmd_names, flags, scopes = [], [], []
    for cname, spec in cmds.items():
        key = f"commands.{cname}"
        if isinstance(spec, dict) and "role" in spec:
            raise ConfigError(src, f"{key}.role", f"roles were replaced by flags: give 'flags', a list of "
                              f"{', '.join(FLAG_NAMES)} (see docs/dram_standards.md)")
        check_keys(src, key, spec, {"scope", "flags"})
        fl = spec["flags"]
        if not isinstance(fl, list) or not fl or len(set(map(str, fl))) != len(fl):
            raise ConfigError(src, f"{key}.flags", f"must be a non-empty list of distinct flags from "
                              f"{', '.join(FLAG_NAMES)}")
        flags.append(tuple(check_choice(src, f"{key}.flags", f, tuple(FLAG_NAMES)) for f in fl))
        if "bank_pair" in fl and (set(fl) != {"refresh", "bank_pair"} or spec["scope"] != names[-1]):
            raise ConfigError(src, f"{key}.flags", f"bank_pair is a per-bank refresh's flag: flags [refresh, "
                              f"bank_pair] at scope {names[-1]}")
        scopes.append(names.index(check_choice(src, f"{key}.scope", spec["scope"], names)))
        cmd_names.append(cname)
    bits = np.array([sum(FLAG_NAMES[f] for f in fl) for fl in flags], np.int64)
    try:
        sel = command_selectors(bits, cmd_names)
    except ValueError as exc:
        raise ConfigError(src, "commands", str(exc)) from None
    for s in (SEL_RD, SEL_WR, SEL_PRE, SEL_REFAB):
        if sel[s] < 0:
            raise ConfigError(src, "commands", f"needs a command for {SEL_NAMES[s]} (flags: "
                              f"{', '.join(n for n, b in FLAG_NAMES.items() if SELECTOR_RULES[s][0] & b)})")
    if sel[SEL_ACT] < 0 and (sel[SEL_ACT1] < 0 or sel[SEL_ACT2] < 0):
        raise ConfigError(src, "commands", "needs an activate (flags: opens) or a split activation "
                          "(open_begin, then opens)")
    return cmd_names, flags, scopes, sel


def _check_per_bank_refresh(src, key, names, sizes, sel, flags, tvals, interval, refab):
    """Per-bank refresh (``key``: the refresh key that chose it): REFpb to one bank at a time (a bank
    pair with flag ``bank_pair``), round robin over the banks of each refresh unit, one command every
    ``interval`` cycles per unit. Needs a per-bank refresh command and a schedule that gives every bank
    one refresh per nREFI on average."""
    if sel[SEL_REFPB] < 0:
        raise ConfigError(src, key, "per-bank refresh needs a per-bank refresh command (REFpb, flags: "
                          f"[refresh]); this standard has none: use manager: all-bank (scope {names[refab]})")
    # banks that share one refresh schedule: all banks of the rank/pseudo-channel (or channel)
    unit = int(np.prod(sizes[_refresh_unit_level(names) + 1:]))
    paired = "bank_pair" in flags[sel[SEL_REFPB]]
    if paired and unit % 2:
        raise ConfigError(src, "commands", f"a paired per-bank refresh (flag bank_pair) needs an even number "
                          f"of banks per refresh unit; this standard has {unit}")
    commands = unit // 2 if paired else unit
    what = "a bank pair" if paired else "one bank"
    if "nREFI" in tvals and interval * commands > tvals["nREFI"]:
        raise ConfigError(src, "refresh.interval",
                          f"{interval} cycles between per-bank refreshes x {commands} refreshes to reach all "
                          f"{unit} banks = {interval * commands} > nREFI {tvals['nREFI']}: a bank would go "
                          f"unrefreshed past tREFI (REFpb refreshes {what}; use an interval <= nREFI // "
                          f"{commands} = {tvals['nREFI'] // commands})")


def _cmd_list(src, key, value, cmd_names):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ConfigError(src, key, "must be a command name or a non-empty list of them")
    return [cmd_names.index(check_choice(src, key, v, cmd_names)) for v in value]


def _parse_controller(src, ctrl, tvals, sel):
    """Protocol features some standards need (LPDDR5 split activate and WCK sync), and the
    scheduling policy (``scheduler``, one of policies.SCHEDULERS; default frfcfs)."""
    from .policies import ROW_POLICIES, SCHEDULERS
    check_keys(src, "controller", ctrl, set(), {"split_activate", "wck_sync", "scheduler", "row_policy"})
    out = {}
    if "scheduler" in ctrl:
        out["scheduler"] = check_choice(src, "controller.scheduler", ctrl["scheduler"], tuple(SCHEDULERS))
    if "row_policy" in ctrl:
        out["row_policy"] = check_choice(src, "controller.row_policy", ctrl["row_policy"], tuple(ROW_POLICIES))
    if "split_activate" in ctrl:
        sa = ctrl["split_activate"]
        check_keys(src, "controller.split_activate", sa, {"deadline"})
        if sel[SEL_ACT1] < 0 or sel[SEL_ACT2] < 0:
            raise ConfigError(src, "controller.split_activate", "needs ACT1/ACT2 commands (flags open_begin, opens)")
        out["split_activate"] = {"deadline_cycles": eval_expr(
            src, "controller.split_activate.deadline", sa["deadline"], tvals)}
    elif sel[SEL_ACT1] >= 0:
        raise ConfigError(src, "controller.split_activate",
                          "required when the standard has a split activation (an open_begin command)")
    if "wck_sync" in ctrl:
        w = ctrl["wck_sync"]
        check_keys(src, "controller.wck_sync", w, {"read_window", "write_window"})
        if sel[SEL_CASRD] < 0 or sel[SEL_CASWR] < 0:
            raise ConfigError(src, "controller.wck_sync", "needs CAS commands (flags [wck_sync, read] and "
                              "[wck_sync, write])")
        out["wck_sync"] = {
            "read_cycles": eval_expr(src, "controller.wck_sync.read_window", w["read_window"], tvals),
            "write_cycles": eval_expr(src, "controller.wck_sync.write_window", w["write_window"], tvals)}
    return out


def _refresh_unit_level(names) -> int:
    return 1 if names[1] in ("rank", "pseudochannel") else 0
