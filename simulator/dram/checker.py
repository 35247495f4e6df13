"""Independent timing checker for DRAM command logs.

A plain-Python re-implementation of the rules, written separately from the
numba core (no shared code beyond reading the standard's YAML tables): it
replays a command log and lists every violation of

* the constraint table (each row: after command A at level L, command B must
  wait ``latency`` cycles; rolling windows; sibling rows between different
  nodes of a level),
* the bank state machine (ACT to a closed bank only, column commands to the
  open row only, refresh with all banks closed, split activation ACT1 -> ACT2
  of the same row within the deadline),
* the command buses (per channel, one command per bus per cycle, and a multi-cycle
  command holds its bus: the standard's ``command_buses`` / ``command_cycles``),
* WCK synchronisation (LPDDR5: a read/write after WCK went idle must follow
  its CAS command).

This is the *table replay* layer: it shares the core's constraint rows, so a
missing or wrong row passes both. :mod:`.physcheck` is the independent layer
(rules from the named JEDEC parameters); :func:`check_result` runs both.

A log row is (cycle, command name, address...) with the address laid out as
the standard's levels followed by row and column; -1 means "all" (PREab,
REFab).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    index: int          # position in the log
    cycle: int
    command: str
    rule: str           # table replay: "constraint[i]", "bank-state", "command-bus", "act2-deadline",
                        # "wck-sync"; physical layer: physcheck.RULES ("data-bus", "tRCD", ...)
    detail: str


def _match(a, b, upto):
    for lvl in range(upto + 1):
        if a[lvl] != b[lvl] and a[lvl] != -1 and b[lvl] != -1:
            return False
    return True


def check_log(std, rows) -> list:
    """Check ``rows`` (iterable of (cycle, command, *address)) against ``std``.

    Returns the list of violations (empty when the log is legal)."""
    nlev = std.n_levels
    names = std.commands
    flags = {n: frozenset(f) for n, f in zip(names, std.flags)}
    split_std = any("open_begin" in f for f in std.flags)     # then "opens" is the second half (ACT2)
    # constraint rows indexed by following command name
    by_follow = defaultdict(list)
    for ci, c in enumerate(std.constraints):
        for f in c["follow"]:
            for p in c["prec"]:
                by_follow[names[f]].append((ci, names[p], c["level"], c["latency"], c["window"], c["sibling"]))
    hist_t = defaultdict(list)      # command -> cycles (ascending)
    hist_a = defaultdict(list)      # command -> addresses
    bank_state = {}                 # bank tuple -> ("open"|"act1", row, act1 cycle)
    bus_of = {n: std.bus_names[b] for n, b in zip(names, std.cmd_bus)}
    hold = dict(zip(names, std.cmd_cycles))
    bus_free = {}                   # (channel, bus) -> first cycle the bus is free
    split = std.controller.get("split_activate")
    wck = std.controller.get("wck_sync")
    wck_expiry = defaultdict(int)
    pending_cas = {}                # channel -> (CAS before a read?, cycle)
    out = []

    for idx, row in enumerate(rows):
        t = int(row[0])
        cmd = str(row[1])
        addr = tuple(int(x) for x in row[2:2 + nlev + 2])
        if cmd not in flags:
            out.append(Violation(idx, t, cmd, "unknown-command", f"{cmd} is not a {std.name} command"))
            continue
        f = flags[cmd]
        ch = addr[0]
        # ---- command buses
        key = (ch, bus_of[cmd])
        if t < bus_free.get(key, t):
            out.append(Violation(idx, t, cmd, "command-bus",
                                 f"issued at cycle {t} while the {key[1]} bus is held until cycle {bus_free[key]}"))
        bus_free[key] = max(t + hold[cmd], bus_free.get(key, 0))
        # ---- timing constraints
        for ci, a_cmd, lvl, lat, window, sibling in by_follow[cmd]:
            ts, addrs = hist_t[a_cmd], hist_a[a_cmd]
            k = len(ts) - 1
            count = 0
            while k >= 0 and ts[k] > t - lat:
                a = addrs[k]
                if sibling:
                    ok = (_match(a, addr, lvl - 1) and a[lvl] != addr[lvl]
                          and a[lvl] != -1 and addr[lvl] != -1)
                else:
                    ok = _match(a, addr, lvl)
                if ok:
                    count += 1
                    if count >= window:
                        out.append(Violation(
                            idx, t, cmd, f"constraint[{ci}]",
                            f"{a_cmd}@{ts[k]} -> {cmd}@{t} at {std.level_names[lvl]}"
                            f"{' (sibling)' if sibling else ''}: needs {lat} cycles"
                            f"{f' over a window of {window}' if window > 1 else ''}, got {t - ts[k]}"))
                        break
                k -= 1
        # ---- bank state machine
        _bank_state_step(std, idx, t, cmd, f, addr, split_std, split, wck, bank_state, wck_expiry, pending_cas, out)
        hist_t[cmd].append(t)
        hist_a[cmd].append(addr)
    return out


def _bank_state_step(std, idx, t, cmd, f, addr, split_std, split, wck, bank_state, wck_expiry, pending_cas, out):
    """The bank state machine for one command with flag set ``f``: activations need closed banks,
    column accesses and PIM MACs an open row, precharges an open bank, refreshes closed banks;
    LPDDR5 ACT2 needs its ACT1 within the deadline and an access after WCK went idle a CAS.
    Appends violations to ``out``."""
    nlev = std.n_levels
    banks = _banks(std, addr)
    ch = addr[0]
    if "pim" in f and "opens" in f:
        if any(b in bank_state for b in banks):
            out.append(Violation(idx, t, cmd, "bank-state", "all-bank activate with a bank not closed"))
        for b in banks:
            bank_state[b] = ("open", addr[nlev], t)
    elif "pim" in f and "all_banks" in f:
        bad = [b for b in banks if bank_state.get(b, ("",))[0] != "open" or bank_state[b][1] != addr[nlev]]
        if bad:
            out.append(Violation(idx, t, cmd, "bank-state",
                                 f"all-bank MAC on row {addr[nlev]} with {len(bad)} bank(s) not open on it"))
    elif "pim" in f:
        return
    elif "open_begin" in f or ("opens" in f and not split_std):
        b = banks[0]
        if b in bank_state:
            out.append(Violation(idx, t, cmd, "bank-state", f"activate to bank {b} that is not closed"))
        bank_state[b] = ("open" if "opens" in f else "act1", addr[nlev], t)
    elif "opens" in f:
        b = banks[0]
        st = bank_state.get(b)
        if not st or st[0] != "act1" or st[1] != addr[nlev]:
            out.append(Violation(idx, t, cmd, "bank-state", f"ACT2 to bank {b} without a matching ACT1"))
        elif split and t - st[2] > split["deadline_cycles"]:
            out.append(Violation(idx, t, cmd, "act2-deadline",
                                 f"ACT2 {t - st[2]} cycles after ACT1; limit {split['deadline_cycles']}"))
        bank_state[b] = ("open", addr[nlev], t)
    elif "data" in f:
        b = banks[0]
        st = bank_state.get(b)
        if not st or st[0] != "open" or st[1] != addr[nlev]:
            out.append(Violation(idx, t, cmd, "bank-state",
                                 f"column access to row {addr[nlev]} of bank {b}, open: {st}"))
        if "closes" in f:
            bank_state.pop(b, None)
        if wck:
            is_rd = "read" in f
            cas = pending_cas.pop(ch, None)
            if t >= wck_expiry[ch] and not (cas and cas[0] == is_rd):
                out.append(Violation(idx, t, cmd, "wck-sync", "access while WCK is idle without CAS"))
            e = t + (wck["read_cycles"] if is_rd else wck["write_cycles"])
            wck_expiry[ch] = max(wck_expiry[ch], e)
    elif "wck_sync" in f:
        pending_cas[ch] = ("read" in f, t)
    elif "refresh" in f:
        open_b = [b for b in banks if b in bank_state]
        if open_b:
            out.append(Violation(idx, t, cmd, "bank-state", f"refresh with open banks {open_b[:4]}"))
    elif "closes" in f and "all_banks" in f:
        for b in banks:
            bank_state.pop(b, None)
    elif "closes" in f:
        if banks[0] not in bank_state:
            out.append(Violation(idx, t, cmd, "bank-state", f"precharge of closed bank {banks[0]}"))
        bank_state.pop(banks[0], None)


def _banks(std, addr):
    """All bank tuples (channel..bank) the address selects."""
    nlev = std.n_levels
    out = [()]
    for lvl in range(nlev):
        if addr[lvl] >= 0:
            out = [b + (addr[lvl],) for b in out]
        else:
            out = [b + (i,) for b in out for i in range(std.level_sizes[lvl])]
    return out


def check_result(res, physical=True) -> list:
    """Check the command log of a :class:`~simulator.dram.run.DramResult` (run with ``log=True``).

    Two layers: with ``physical`` (the default) first the physical rules of
    :mod:`.physcheck` (derived from the named timing parameters and JEDEC, not
    from the constraint table), then the replay of the standard's constraint
    table (:func:`check_log`). Returns the violations of both, physical first."""
    out = []
    if physical:
        from .physcheck import physical_check
        out = physical_check(res.standard, res.log, max_records=10_000).violations
    df = res.command_log()
    cols = ["cycle", "command"] + list(res.standard.level_names) + ["row", "column"]
    return out + check_log(res.standard, df[cols].itertuples(index=False, name=None))


def summarize(violations, limit=20) -> str:
    lines = [f"{len(violations)} violation(s)"]
    for v in violations[:limit]:
        lines.append(f"  #{v.index} cycle {v.cycle} {v.command}: {v.rule}: {v.detail}")
    return "\n".join(lines)


__all__ = ["Violation", "check_log", "check_result", "summarize"]
