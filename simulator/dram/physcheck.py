"""Physical timing checker for DRAM command logs (does not read the constraint table).

``checker.check_log`` replays a log against the standard's own constraint rows,
the rows the core schedules with: a missing or wrong row passes both. This
module judges a log from the device's physics and the JEDEC definitions
instead, using only the organisation (levels and their sizes), the *named*
timing parameters (``nCL``, ``nRCD``, ``nFAW``, ...), the command flags and
scopes, and the command buses. It never reads ``constraints:``.

Rules (each a rule name in the violations; JEDEC clauses cited at
:data:`TIMINGS` and in the kernel's per-command handlers):

* ``command-bus``: one command per cycle per command bus; a command of
  ``command_cycles`` > 1 holds its bus that long (HBM's two-cycle ACT). Every other
  rule counts from a command's last clock (first clock + cycles - 1): a two-clock ACT
  needs RD >= ACT + 1 + tRCD issue to issue.
* ``data-bus``: a read burst occupies the data bus (channel, or pseudo-channel
  for HBM) from RD + nCL for nBL cycles, a write burst from WR + nCWL; no two
  bursts overlap. ``rank-switch``: bursts of different ranks are at least the
  rank-to-rank gap (nCS, JEDEC tRTRS) apart.
* ``bank-state``: ACT only to a closed bank, RD/WR only to the open row,
  refresh only with every covered bank closed, ACT2 only after ACT1.
* per bank: ``tRCD``, ``tRAS``, ``tRP`` (``tRPab`` after an all-bank
  precharge where the standard has one), ``tRC``, ``tRTP``, ``tWR`` (also
  for the implicit precharge of RDA/WRA), ``tAAD`` (LPDDR5 ACT1 -> ACT2).
* per rank (pseudo-channel; channel when there is no rank level): ``tRRD_S``/
  ``tRRD_L``, ``tFAW`` (at most four ACTs in any nFAW window), ``tCCD_S``/
  ``tCCD_L`` (read-read, write-write), ``tWTR_S``/``tWTR_L`` (end of write
  data to read; LPDDR5's same-bank-group window counts BL/n_max,
  :data:`WTR_L_BL_MAX`), ``tPPD`` (precharge to precharge).
* refresh: every covered bank precharged at least tRP (tRPab) before REFab or
  REFpb (``refresh-after-precharge``) and tRC after its last ACT (``tRC``);
  an LPDDR5 REFpb covers a bank pair (:data:`REFPB_BANK_PAIR`);
  nothing to the covered banks for ``tRFC`` (REFab) / ``tRFCpb`` (REFpb)
  after; per-bank refresh spacing ``tRREFD``/``tPBR2PBR`` and ``tPBR2ACT``;
  ``refresh-rate``: no bank goes more than 9 x tREFI without a refresh (8 may
  be postponed), also checked at the end of the log.
* PIM all-bank commands (not JEDEC; AiM / PIM-GPT): ACTab opens every bank as
  an ACT would (tRP, tRC, tRCD before MACab; no tRRD/tFAW: one command);
  MACab reads the open row of every bank (tRTP before the precharge),
  ``tMAC`` apart, not before the global-buffer write burst has landed
  (``pim-gb-data``: WRGB + nCWL + nBL); RDRES ``tMACLAT`` after the last MAC;
  WRGB and RDRES are bursts on the data bus.

Limits (left to the table layer): a same-rank RD -> WR needs, beyond non-overlapping
bursts, the DQS preamble/turnaround clocks of JESD79-4 tRTW (RL + BL/2 - WL + 2); this
layer only requires the bursts not to overlap. LPDDR5 tRCD/tRAS/tRC are measured from
ACT-1, as the presets do (not checked against JESD209-5's figures). No WCK2CK sync rule.

Sibling ranks share only the data bus and the command bus: no tRRD, tFAW,
tCCD or tWTR across ranks, only the rank-switch gap on the data bus.

The check runs in a numba kernel (one pass, O(1) state per bank and rank):
about 10^7 commands in seconds. See ``benchmarks/dram_fuzz.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..errors import ConfigError

# ---------------------------------------------------------------------------
# Timing parameters the physical rules use, each resolved from the first of
# its candidate names the standard's ``timing:`` block has. ``None`` = the rule
# is off when no candidate exists (the standard has no such constraint).
# Sources (cited by section title; the clause numbers differ between revisions):
# the "Timing Parameters by Speed Bin" / "AC timing" tables and the command
# descriptions of JESD79-4 (DDR4), JESD79-5 (DDR5), JESD209-5 (LPDDR5),
# JESD250 (GDDR6), JESD235 (HBM2) and JESD238 (HBM3).
# ---------------------------------------------------------------------------
TIMINGS = {
    # name: (candidates, required, meaning)
    "CL":      (("nCL",), True, "read latency: RD to first data beat (JESD79-4 'Read Operation': RL)"),
    "CWL":     (("nCWL",), True, "write latency: WR to first data beat (JESD79-4 'Write Operation': WL)"),
    "BL":      (("nBL", "nBL_min"), True, "data-bus cycles of one burst (BL/2 on a DDR bus; LPDDR5 BL/n_min)"),
    "RCD_RD":  (("nRCDRD", "nRCD"), True, "ACT to RD, same bank (tRCD; GDDR6/HBM tRCDRD)"),
    "RCD_WR":  (("nRCDWR", "nRCD"), True, "ACT to WR, same bank (tRCD; GDDR6/HBM tRCDWR)"),
    "RP":      (("nRP", "nRPpb"), True, "PRE to ACT/REF, same bank (tRP / tRPpb)"),
    "RP_AB":   (("nRPab", "nRP"), True, "PREab to ACT/REF (LPDDR5 tRPab, JESD209-5 core AC timing)"),
    "RAS":     (("nRAS",), True, "ACT to PRE, same bank (tRAS)"),
    "RC":      (("nRC",), True, "ACT to ACT/REF, same bank (tRC)"),
    "RTP":     (("nRTP", "nRTPL"), True, "RD to PRE, same bank (tRTP; HBM tRTP_L)"),
    "WR":      (("nWR",), True, "end of write data to PRE, same bank (tWR)"),
    "CCD_S":   (("nCCDS",), True, "CAS to CAS, same rank, other bank group (tCCD_S)"),
    "CCD_L":   (("nCCDL", "nCCDS"), True, "CAS to CAS, same bank group (tCCD_L)"),
    "CCD_S_WR": (("nCCDS_WR", "nCCDS"), True, "WR to WR, other bank group (LPDDR5 tCCD_S for writes)"),
    "CCD_L_WR": (("nCCDL_WR", "nCCDL", "nCCDS"), True, "WR to WR, same bank group (DDR5 tCCD_L_WR)"),
    "RRD_S":   (("nRRDS", "nRRD"), True, "ACT to ACT, same rank, other bank group (tRRD_S)"),
    "RRD_L":   (("nRRDL", "nRRDS", "nRRD"), True, "ACT to ACT, same bank group (tRRD_L)"),
    "FAW":     (("nFAW",), True, "four-activate window per rank (tFAW)"),
    "WTR_S":   (("nWTRS",), True, "end of write data to RD, other bank group (tWTR_S)"),
    "WTR_L":   (("nWTRL", "nWTRS"), True, "end of write data to RD, same bank group (tWTR_L)"),
    "RFC_AB":  (("nRFC", "nRFCab"), True, "REFab to any command to the refreshed banks (tRFC / tRFCab)"),
    "RFC_PB":  (("nRFCpb",), False, "REFpb to any command to that bank (tRFCpb)"),
    "RANK_SWITCH": (("nCS", "nRTRS"), False, "gap between bursts of different ranks (the system's rank-to-rank switch time, tRTRS; nCS in the presets)"),
    "PPD":     (("nPPD",), False, "PRE to PRE, same rank (LPDDR5 and GDDR6 tPPD)"),
    "PBR2PBR": (("nPBR2PBR", "nRREFD"), False, "REFpb to REFpb, same rank (LPDDR5 tpbR2pbR; GDDR6 tRREFD)"),
    "PBR2ACT": (("nPBR2ACT", "nRREFD"), False, "REFpb to ACT of another bank (LPDDR5 tpbR2act; GDDR6 tRREFD)"),
    "AAD":     (("nAAD",), False, "ACT1 to ACT2 deadline (LPDDR5 tAAD, JESD209-5 'Activate')"),
    "REFI":    (("nREFI",), False, "average refresh interval (tREFI); at most 8 refreshes postponed "
                                  "(JESD79-4 and JESD209-5 'Refresh'), so <= 9 x tREFI between two"),
    # PIM (not JEDEC): SK hynix AiM (Lee et al., ISSCC 2022), PIM-GPT (Wu et al., 2023)
    "MAC":     (("nMAC",), False, "all-bank MAC to all-bank MAC: the MAC units' issue interval"),
    "MACLAT":  (("nMACLAT",), False, "last all-bank MAC to its result readable (MAC pipeline depth)"),
}
REFRESH_POSTPONE = 8    # refreshes that may be postponed (JESD79-4, JESD209-5 'Refresh'); the same bound
                        # is applied to GDDR6 and HBM
_TNAMES = list(TIMINGS)
# the kernel unpacks the timing vector in this order
assert _TNAMES == ["CL", "CWL", "BL", "RCD_RD", "RCD_WR", "RP", "RP_AB", "RAS", "RC", "RTP", "WR", "CCD_S", "CCD_L",
                   "CCD_S_WR", "CCD_L_WR", "RRD_S", "RRD_L", "FAW", "WTR_S", "WTR_L", "RFC_AB", "RFC_PB",
                   "RANK_SWITCH", "PPD", "PBR2PBR", "PBR2ACT", "AAD", "REFI", "MAC", "MACLAT"]

# GDDR6 counts a per-bank refresh as an activate in the tFAW window (JESD250C
# 'Per-bank refresh': a REFpb counts as an activate in the tFAW window).
REFPB_IN_FAW = {"GDDR6"}

# LPDDR5 (and LPDDR5X) in BG and 16-bank mode: a per-bank refresh covers a bank pair, banks n and n + 8 of
# the rank (JESD209-5 'Per Bank Refresh'; DRAMPower's LPDDR5 model: REFP2B, bank_id + 8 mod 16); in 8-bank
# mode one bank. Family -> banks per rank of the paired modes.
REFPB_BANK_PAIR = {"LPDDR5": 16}

# LPDDR5 in bank-group mode: a write to read of the same bank group waits WL + BL/n_max + tWTR_L,
# BL/n_max (nBL_max) being the column array cycle time, not the burst's BL/n_min on the bus
# (JESD209-5B write-to-read timing tables; Ramulator 2 lpddr5.py cites Tables 330-332).
WTR_L_BL_MAX = {"LPDDR5"}


RULES = ("command-bus", "data-bus", "rank-switch", "bank-state", "tRCD", "tRAS", "tRP", "tRC",
         "tRTP", "tWR", "tAAD", "tRRD_S", "tRRD_L", "tFAW", "tCCD_S", "tCCD_L", "tWTR_S", "tWTR_L",
         "tPPD", "refresh-after-precharge", "tRFC", "tRFCpb", "tPBR2PBR", "tPBR2ACT", "refresh-rate",
         "tMAC", "pim-gb-data", "tMACLAT")
N_RULES = len(RULES)
# rule codes in the kernel (index into RULES)
(V_COMMAND_BUS, V_DATA_BUS, V_RANK_SWITCH, V_BANK_STATE, V_TRCD, V_TRAS, V_TRP, V_TRC, V_TRTP, V_TWR,
 V_TAAD, V_TRRD_S, V_TRRD_L, V_TFAW, V_TCCD_S, V_TCCD_L, V_TWTR_S, V_TWTR_L, V_TPPD, V_REF_AFTER_PRE,
 V_TRFC, V_TRFCPB, V_TPBR2PBR, V_TPBR2ACT, V_REF_RATE, V_TMAC, V_PIM_GB, V_TMACLAT) = range(N_RULES)


class MissingTiming(ConfigError):
    """A physical rule needs a timing parameter the standard does not define (a
    :class:`~simulator.errors.ConfigError`: the CLI prints it as one line, exit 2)."""


def physical_timings(std) -> dict:
    """Resolve :data:`TIMINGS` from ``std.timing``: name -> cycles, or None (rule off).

    Raises :class:`MissingTiming` naming the parameter when a required one is
    missing, or when the standard has more than one rank and no rank-switch gap."""
    out = {}
    for k, (cands, required, meaning) in TIMINGS.items():
        v = next((std.timing[c] for c in cands if c in std.timing), None)
        if v is None and required:
            raise MissingTiming(std.source_file, "timing", f"needs one of {', '.join(cands)} ({meaning})")
        out[k] = v
    if "rank" in std.level_names and std.level_sizes[std.level_names.index("rank")] > 1 \
            and out["RANK_SWITCH"] is None:
        raise MissingTiming(std.source_file, "timing",
                            "needs nCS (rank-to-rank data-bus gap, tRTRS) for more than one rank")
    if _REFPB in _kinds(std) and out["RFC_PB"] is None:
        raise MissingTiming(std.source_file, "timing",
                            "needs nRFCpb (per-bank refresh cycle time) for the per-bank refresh command")
    return out


def command_buses(std):
    """(bus index per command, cycles per command, bus names).

    From the standard's ``command_buses`` / ``command_cycles`` (data in the YAML:
    ``command_buses: {row: [ACT, PRE], column: [RD, WR]}``, ``command_cycles:
    {ACT: 2}``), as the loader stores them on :class:`~simulator.dram.standard.DramStandard`
    (``cmd_bus``, ``bus_names``, ``cmd_cycles``); absent = one bus for all commands, one
    cycle each. Bus data only: the constraint table is not read."""
    n = len(std.commands)
    bus = np.array(std.cmd_bus or [0] * n, np.int64)
    cyc = np.array(std.cmd_cycles or [1] * n, np.int64)
    bus_names = list(std.bus_names or ["command"])
    if len(bus) != n or len(cyc) != n or (bus < 0).any() or (bus >= len(bus_names)).any() or (cyc < 1).any():
        raise ValueError(f"{std.name}: command bus data does not cover its {n} commands")
    return bus, cyc, bus_names


@dataclass
class PhysicalReport:
    """Result of :func:`physical_check`: counts per rule and the first violations."""

    counts: dict            # rule -> number of violations
    violations: list        # checker.Violation, at most ``max_records`` of them
    commands: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        per = ", ".join(f"{k} {v}" for k, v in self.counts.items() if v)
        return f"physical check: {self.commands} commands, {self.total} violation(s)" + (f" ({per})" if per else "")


def physical_check(std, log, max_records=1000) -> PhysicalReport:
    """Check a command log against the physical rules (module docstring).

    ``log``: int array (n, 2 + levels + 2) of cycle, command id, address per
    level (-1 = all), row, column (extra trailing columns are ignored), as
    ``DramResult.log``; or an iterable of (cycle, command name, address...)
    rows as ``checker.check_log`` takes. Returns a :class:`PhysicalReport`.
    Raises :class:`MissingTiming` (see :func:`physical_timings`)."""
    from .checker import Violation
    nlev = std.n_levels
    arr = _as_array(std, log)
    tm = physical_timings(std)
    tvec = np.array([-1 if tm[k] is None else tm[k] for k in _TNAMES], np.int64)
    kind = _kinds(std)
    scope = np.array(std.scopes, np.int64)
    bus, cyc, bus_names = command_buses(std)
    sizes = np.array(std.level_sizes, np.int64)
    names = list(std.level_names)
    dom_lvl = 1 if nlev > 2 and names[1] in ("rank", "pseudochannel") else 0
    bus_lvl = 1 if nlev > 2 and names[1] == "pseudochannel" else 0
    bg_lvl = names.index("bankgroup") if "bankgroup" in names else nlev - 1
    refpb_faw = any(std.family.upper().startswith(f) for f in REFPB_IN_FAW)
    banks_per_rank = int(np.prod(sizes[dom_lvl + 1:]))
    refpb_pair = any(std.family.upper().startswith(f) and banks_per_rank == n for f, n in REFPB_BANK_PAIR.items())
    bl_wtr_l = std.timing["nBL_max"] if any(std.family.upper().startswith(f) for f in WTR_L_BL_MAX) \
        and "nBL_max" in std.timing else tm["BL"]
    _check_ranges(std, arr)
    order = np.argsort(arr[:, 0], kind="stable")
    counts, rec = _check_kernel(arr, order, nlev, sizes, kind, scope, bus, cyc, len(bus_names), tvec,
                                dom_lvl, bus_lvl, bg_lvl, refpb_faw, refpb_pair, bl_wtr_l,
                                min(max_records, len(arr) * N_RULES))     # at most one record per rule and command
    viol = [Violation(int(i), int(arr[i, 0]), std.commands[arr[i, 1]], RULES[r], _detail(RULES[r], ref, need, got))
            for i, r, ref, need, got in rec]
    return PhysicalReport({k: int(c) for k, c in zip(RULES, counts)}, viol, len(arr))


def _detail(rule, ref, need, got):
    if rule == "bank-state":
        return ("command does not fit the bank state (ACT to a bank not closed, column access to a closed "
                "bank or another row, refresh with an open bank, ACT2 without ACT1)")
    if rule == "command-bus":
        return f"command bus busy until cycle {ref}"
    if rule == "data-bus":
        return f"burst overlaps the burst starting at cycle {ref} on the same data bus"
    if rule == "rank-switch":
        return f"burst {got} cycle(s) from another rank's burst ending at cycle {ref}; needs {need}"
    return f"needs {need} cycles after the command at cycle {ref}, got {got}"


def _check_ranges(std, arr):
    """The kernel indexes arrays by address: reject out-of-range rows first (ValueError)."""
    nlev = std.n_levels
    bad = (arr[:, 1] < 0) | (arr[:, 1] >= len(std.commands)) | (arr[:, 2] < 0)
    for lvl, size in enumerate(std.level_sizes):
        bad |= (arr[:, 2 + lvl] < -1) | (arr[:, 2 + lvl] >= size)
    bad |= arr[:, 2 + nlev] >= std.rows
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"command log row {i} {arr[i].tolist()} is outside {std.name} "
                         f"(commands 0..{len(std.commands) - 1}, level sizes {std.level_sizes}, rows {std.rows})")


def _as_array(std, log):
    if isinstance(log, np.ndarray) and log.dtype.kind in "iu":
        return np.ascontiguousarray(log[:, :std.n_levels + 4], np.int64)
    cid = {n: i for i, n in enumerate(std.commands)}
    rows = [(int(r[0]), cid[r[1]]) + tuple(int(x) for x in r[2:std.n_levels + 4]) for r in log]
    return np.array(rows, np.int64).reshape(-1, std.n_levels + 4)


# the kernel's command kinds (see _kinds)
_ACT, _ACT2, _PRE, _PREA, _RD, _WR, _RDA, _WRA, _REFAB, _REFPB, _CAS, _ACT1 = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
_PACT, _PMAC, _PWGB, _PRES = 13, 14, 15, 16
# A command's kind from its flags (the standard's ``flags:``): the first row whose flags it has.
# A plain "opens" is an ACT, or the second half (ACT2) in a standard with a split activation.
_KIND_RULES = (
    ({"pim", "opens"}, _PACT), ({"pim", "all_banks"}, _PMAC), ({"pim", "write"}, _PWGB), ({"pim", "read"}, _PRES),
    ({"open_begin"}, _ACT1), ({"wck_sync"}, _CAS),
    ({"data", "read", "closes"}, _RDA), ({"data", "write", "closes"}, _WRA),
    ({"data", "read"}, _RD), ({"data", "write"}, _WR),
    ({"refresh", "all_banks"}, _REFAB), ({"refresh"}, _REFPB),
    ({"closes", "all_banks"}, _PREA), ({"closes"}, _PRE), ({"opens"}, _ACT),
)


def _kinds(std) -> np.ndarray:
    """The kernel's kind of every command of ``std`` from its flags: int64 (n_commands,). Raises
    ValueError for a flag set no rule covers."""
    split = any("open_begin" in f for f in std.flags)
    out = []
    for name, fl in zip(std.commands, std.flags):
        k = next((k for need, k in _KIND_RULES if need <= set(fl)), None)
        if k is None:
            raise ValueError(f"{std.source_file}: command {name} with flags {list(fl)}: the physical checker "
                             f"has no rule for it")
        out.append(_ACT2 if k == _ACT and split else k)
    return np.array(out, np.int64)
NEG = -(1 << 60)
NBURST = 16        # bursts remembered per data bus (enough: bursts start <= max(nCL, nCWL) after their command)

# The kernel's state: one table per scope, one named column per quantity (cycles unless noted; NEG = never).
# timing vector (the order of _TNAMES)
(T_CL, T_CWL, T_BL, T_RCD_RD, T_RCD_WR, T_RP, T_RP_AB, T_RAS, T_RC, T_RTP, T_WR, T_CCD_S, T_CCD_L, T_CCD_S_WR,
 T_CCD_L_WR, T_RRD_S, T_RRD_L, T_FAW, T_WTR_S, T_WTR_L, T_RFC_AB, T_RFC_PB, T_RANK_SWITCH, T_PPD, T_PBR2PBR,
 T_PBR2ACT, T_AAD, T_REFI, T_MAC, T_MACLAT) = range(len(_TNAMES))
# per bank: state (0 closed, 1 ACT1 issued, 2 open), open row, last ACT / RD / WR, last precharge and the
# earliest ACT/REF after it, last refresh and the end of its tRFC, whether it was per-bank (0/1), last refresh
# for the refresh-rate rule (the device is taken as refreshed at cycle 0)
(B_STATE, B_ROW, B_ACT, B_RD, B_WR, B_PRE_AT, B_PRE_READY, B_REF_AT, B_REF_UNTIL, B_REF_PB,
 B_LAST_REF) = range(11)
N_BANK_COLS = 11
# per rank (activation domain): last ACT / RD / WR / PRE / REFpb; the last four ACTs (tFAW) are a ring in
# columns D_FAW .. D_FAW + 3, the next slot in D_FAW_K
D_ACT, D_RD, D_WR, D_PRE, D_REFPB, D_FAW_K, D_FAW = range(7)
N_DOM_COLS = D_FAW + 4
# per bank group: last ACT / RD / WR
G_ACT, G_RD, G_WR = range(3)
# per channel: last all-bank MAC, last global-buffer write, whether the log uses the channel (0/1)
C_MAC, C_GB, C_SEEN = range(3)
# per remembered burst of a data bus: start, end, rank
U_START, U_END, U_RANK = range(3)


@njit(cache=True)
def _flag(counts, rec, nrec, i, rule, ref, need, got):
    """Count a violation of ``rule`` by log row ``i``; record it while ``rec`` has room."""
    counts[rule] += 1
    if nrec[0] < rec.shape[0]:
        k = nrec[0]
        rec[k, 0] = i
        rec[k, 1] = rule
        rec[k, 2] = ref
        rec[k, 3] = need
        rec[k, 4] = got
        nrec[0] += 1


# How the kernel is split (measured on 2e6 commands of benchmarks/dram_fuzz.py logs, numba 0.68; 0.1 s as
# written): the rule helpers are inlined (inline="always"; plain calls: 0.67 s). Numba reference-counts the
# arrays an inlined helper takes (an atomic increment and decrement per array and call); its pruning pass
# removes that only where the helper is called unconditionally and its last use of every array is
# unconditional too (helpers called from an if/elif chain: 0.26-0.39 s; without _held: 2.0 s). So the loop
# calls every helper for every command, each helper tests the command kind itself, each ends in _held
# naming its array arguments (tests/test_dram_physcheck.py checks this), and timings go in as scalars.
@njit(cache=True, inline="always")
def _held(a0, a1=None, a2=None, a3=None, a4=None, a5=None, a6=None):
    """No-op: the unconditional last use of a helper's arrays (see the note above)."""


@njit(cache=True, inline="always")
def _long_short(counts, rec, nrec, i, t, last_l, need_l, rule_l, last_s, need_s, rule_s):
    """A _L / _S pair (tRRD, tCCD, tWTR): ``need_l`` cycles after ``last_l`` (same bank group), else
    ``need_s`` after ``last_s`` (same rank); one violation at most, the long rule's first."""
    if t - last_l < need_l:
        _flag(counts, rec, nrec, i, rule_l, last_l, need_l, t - last_l)
    elif t - last_s < need_s:
        _flag(counts, rec, nrec, i, rule_s, last_s, need_s, t - last_s)
    _held(counts, rec, nrec)


@njit(cache=True)
def _check_kernel(log, order, nlev, sizes, kind, scope, bus, cyc, nbus, tm, dom_lvl, bus_lvl, bg_lvl,
                  refpb_faw, refpb_pair, bl_wtr_l, maxrec):
    """Judge every row of ``log`` in cycle order (``order``): (violations per rule, records (n, 5) of
    row, rule, reference cycle, cycles needed, cycles got). One pass, O(1) state per bank and rank.
    ``refpb_pair``: a REFpb also covers the bank half its rank's banks away (:data:`REFPB_BANK_PAIR`)."""
    # the helpers take timings as scalars, not the array (no reference counting, held in registers)
    CL, CWL, BL, RP, RP_AB, RAS, RTP = tm[T_CL], tm[T_CWL], tm[T_BL], tm[T_RP], tm[T_RP_AB], tm[T_RAS], tm[T_RTP]
    WR_TO_PRE = CWL + BL + tm[T_WR]                      # end of write data + tWR
    WTR_L = CWL + bl_wtr_l + tm[T_WTR_L]                 # end of write data + tWTR_L (LPDDR5: BL/n_max)
    WTR_S = CWL + BL + tm[T_WTR_S]
    RSW = max(tm[T_RANK_SWITCH], 0)
    max_ref_gap = (REFRESH_POSTPONE + 1) * tm[T_REFI] if tm[T_REFI] > 0 else -1
    below, per_dom, per_bus, per_bg, rank_sz = _geometry(nlev, sizes, dom_lvl, bus_lvl, bg_lvl)
    nbank = below[0]
    # state tables (columns above; allocated here, not in a helper: numba reference-counts arrays
    # unpacked from a returned tuple at every use in the loop)
    bank = np.full((nbank, N_BANK_COLS), NEG, np.int64)
    bank[:, B_STATE] = 0
    bank[:, B_ROW] = -1
    bank[:, B_REF_PB] = 0
    bank[:, B_LAST_REF] = 0
    doms = np.full((nbank // per_dom, N_DOM_COLS), NEG, np.int64)
    doms[:, D_FAW_K] = 0
    groups = np.full((nbank // per_bg, 3), NEG, np.int64)
    chan = np.full((sizes[0], 3), NEG, np.int64)
    chan[:, C_SEEN] = 0
    bursts = np.full((nbank // per_bus, NBURST, 3), NEG, np.int64)
    bursts[:, :, U_RANK] = 0
    burst_k = np.zeros(nbank // per_bus, np.int64)
    cmd_busy = np.full(sizes[0] * nbus, NEG, np.int64)
    counts = np.zeros(N_RULES, np.int64)
    rec = np.zeros((maxrec, 5), np.int64)
    nrec = np.zeros(1, np.int64)
    n = log.shape[0]
    for j in range(n):
        i = order[j]
        c = log[i, 1]
        k = kind[c]
        ch = log[i, 2]
        chan[ch, C_SEEN] = 1
        r_row = log[i, 2 + nlev]
        lo, hi = _covered_banks(log, i, nlev, sizes, scope[c])
        dom = lo // per_dom
        # the paired bank of a REFpb: [plo, phi), an empty range for every other command
        plo = lo - lo % per_dom + (lo % per_dom + per_dom // 2) % per_dom
        phi = plo + 1 if k == _REFPB and refpb_pair else plo
        bgi = lo // per_bg
        t = _command_bus(counts, rec, nrec, i, cmd_busy, ch * nbus + bus[c], log[i, 0], cyc[c])
        _refresh_busy(counts, rec, nrec, i, bank, k, lo, hi, t)
        _refresh_busy(counts, rec, nrec, i, bank, k, plo, phi, t)
        _closed_and_ready(counts, rec, nrec, i, bank, k, lo, hi, t, tm[T_RC])
        _closed_and_ready(counts, rec, nrec, i, bank, k, plo, phi, t, tm[T_RC])
        _activate(counts, rec, nrec, i, bank, doms, groups, k, lo, hi, dom, bgi, t, r_row, tm[T_RRD_L], tm[T_RRD_S],
                  tm[T_PBR2ACT])
        _refresh_per_bank(counts, rec, nrec, i, doms, k, dom, t, tm[T_PBR2PBR])
        _four_activate_window(counts, rec, nrec, i, doms, k, dom, t, refpb_faw, tm[T_FAW])
        _refresh(counts, rec, nrec, i, bank, k, lo, hi, t, max_ref_gap, tm[T_RFC_AB] if k == _REFAB else tm[T_RFC_PB])
        _refresh(counts, rec, nrec, i, bank, k, plo, phi, t, max_ref_gap, tm[T_RFC_PB])
        _activate2(counts, rec, nrec, i, bank, k, lo, t, r_row, tm[T_AAD])
        _precharge(counts, rec, nrec, i, bank, doms, k, lo, hi, dom, t, RP if k == _PRE else RP_AB, tm[T_PPD], RAS,
                   RTP, WR_TO_PRE)
        _column_open(counts, rec, nrec, i, bank, k, lo, hi, t, r_row,
                     tm[T_RCD_RD] if k == _RD or k == _RDA or k == _PMAC else tm[T_RCD_WR])
        _pim_mac(counts, rec, nrec, i, chan, k, ch, t, tm[T_MAC], CWL + BL)
        _cas_read(counts, rec, nrec, i, doms, groups, k, dom, bgi, t, tm[T_CCD_L], tm[T_CCD_S], WTR_L, WTR_S)
        _cas_write(counts, rec, nrec, i, doms, groups, k, dom, bgi, t, tm[T_CCD_L_WR], tm[T_CCD_S_WR])
        _pim_result(counts, rec, nrec, i, chan, k, ch, t, tm[T_MACLAT])
        _burst(counts, rec, nrec, i, bursts, burst_k, k, lo // per_bus, dom % rank_sz, t, CL, CWL, BL, RSW)
        _column_close(bank, k, lo, hi, t, RAS, RP, t + RTP if k == _RDA else t + WR_TO_PRE)
    if max_ref_gap > 0 and n > 0:
        _refresh_rate_at_end(counts, rec, nrec, order[n - 1], log[order[n - 1], 0], bank, chan, below[1],
                             max_ref_gap)
    return counts, rec[:nrec[0]]


@njit(cache=True)
def _geometry(nlev, sizes, dom_lvl, bus_lvl, bg_lvl):
    """(banks below each level (nlev + 1,), banks per rank, per data bus, per bank group, ranks per bus).

    The flattened bank index is the mixed-radix number of the address, so a node's banks are contiguous."""
    below = np.ones(nlev + 1, np.int64)
    for l in range(nlev - 1, -1, -1):
        below[l] = below[l + 1] * sizes[l]
    per_dom = below[dom_lvl + 1] if dom_lvl > 0 else below[1]
    per_bus = below[bus_lvl + 1] if bus_lvl > 0 else below[1]
    rank_sz = sizes[1] if (dom_lvl == 1 and bus_lvl == 0) else 1
    return below, per_dom, per_bus, below[bg_lvl + 1], rank_sz


@njit(cache=True, inline="always")
def _covered_banks(log, i, nlev, sizes, scope_c):
    """Flattened bank range [lo, hi) that row ``i`` covers: its address down to its scope level."""
    lo = 0
    span = 1
    wide = False
    for l in range(nlev):
        a = log[i, 2 + l]
        if (not wide) and l <= scope_c and a >= 0:
            lo = lo * sizes[l] + a
        else:
            wide = True
            lo = lo * sizes[l]
            span *= sizes[l]
    return lo, lo + span


@njit(cache=True, inline="always")
def _command_bus(counts, rec, nrec, i, cmd_busy, cb, t, cycles):
    """One command per clock per command bus ``cb`` (JESD79-4 'Command Truth Table'; JESD235 HBM:
    separate row and column command interfaces, ACT takes two cycles). Returns the command's last clock.

    Every timing counts from the clock that completes a command: a multi-cycle command (HBM's two-clock
    ACT) takes effect on its last clock, the log's first clock + cycles - 1. JESD235 registers ACT's row
    address over two clocks; Ramulator 2 (python/ramulator/dram/spec.py, 'multi-cycle command
    adjustment') states the same convention: "JEDEC timings are measured between when the DRAM
    finishes receiving each command"."""
    busy = cmd_busy[cb]
    if t < busy:
        _flag(counts, rec, nrec, i, V_COMMAND_BUS, busy, -1, t)
    cmd_busy[cb] = max(busy, t + cycles)
    _held(counts, rec, nrec, cmd_busy)
    return t + cycles - 1


@njit(cache=True, inline="always")
def _refresh_busy(counts, rec, nrec, i, bank, k, lo, hi, t):
    """Any command but a bare CAS: tRFC / tRFCpb, only DES/NOP to refreshing banks ('Refresh Command' of
    JESD79-4, JESD209-5, JESD250, JESD235); flags the first covered bank still refreshing."""
    if k != _CAS:
        for b in range(lo, hi):
            if t < bank[b, B_REF_UNTIL]:
                _flag(counts, rec, nrec, i, V_TRFCPB if bank[b, B_REF_PB] else V_TRFC, bank[b, B_REF_AT],
                      bank[b, B_REF_UNTIL] - bank[b, B_REF_AT], t - bank[b, B_REF_AT])
                break
    _held(counts, rec, nrec, bank)


@njit(cache=True, inline="always")
def _closed_and_ready(counts, rec, nrec, i, bank, k, lo, hi, t, rc):
    """ACT, ACT-1, ACTab, REFab, REFpb: every covered bank closed (bank-state), precharged long enough
    (tRP / tRPab; refresh-after-precharge for a refresh) and tRC after its last ACT; each flagged once."""
    is_ref = k == _REFAB or k == _REFPB
    if k == _ACT or k == _ACT1 or k == _PACT or is_ref:
        for b in range(lo, hi):
            if bank[b, B_STATE] != 0:
                _flag(counts, rec, nrec, i, V_BANK_STATE, -1, -1, -1)
                break
        for b in range(lo, hi):
            if t < bank[b, B_PRE_READY]:
                _flag(counts, rec, nrec, i, V_REF_AFTER_PRE if is_ref else V_TRP, bank[b, B_PRE_AT],
                      bank[b, B_PRE_READY] - bank[b, B_PRE_AT], t - bank[b, B_PRE_AT])
                break
        for b in range(lo, hi):
            if t - bank[b, B_ACT] < rc:
                _flag(counts, rec, nrec, i, V_TRC, bank[b, B_ACT], rc, t - bank[b, B_ACT])
                break
    _held(counts, rec, nrec, bank)


@njit(cache=True, inline="always")
def _activate(counts, rec, nrec, i, bank, doms, groups, k, lo, hi, dom, bgi, t, r_row, rrd_l, rrd_s, pbr2act):
    """ACT, ACT-1 (LPDDR5): tRRD_L / tRRD_S (JESD79-4 timing table; bank group, rank) and tPBR2ACT; with
    ACTab (PIM, one command: no tRRD) opens ``r_row`` in [lo, hi)."""
    if k == _ACT or k == _ACT1:
        _long_short(counts, rec, nrec, i, t, groups[bgi, G_ACT], rrd_l, V_TRRD_L, doms[dom, D_ACT], rrd_s, V_TRRD_S)
        if pbr2act >= 0 and t - doms[dom, D_REFPB] < pbr2act:
            _flag(counts, rec, nrec, i, V_TPBR2ACT, doms[dom, D_REFPB], pbr2act, t - doms[dom, D_REFPB])
        doms[dom, D_ACT] = t
        groups[bgi, G_ACT] = t
    if k == _ACT or k == _ACT1 or k == _PACT:
        for b in range(lo, hi):
            bank[b, B_STATE] = 1 if k == _ACT1 else 2     # ACT1 leaves the bank activating until ACT2
            bank[b, B_ROW] = r_row
            bank[b, B_ACT] = t
    _held(counts, rec, nrec, bank, doms, groups)


@njit(cache=True, inline="always")
def _refresh_per_bank(counts, rec, nrec, i, doms, k, dom, t, pbr2pbr):
    """REFpb: tPBR2PBR (LPDDR5 tpbR2pbR, GDDR6 tRREFD) after the rank's last REFpb."""
    if k == _REFPB:
        if pbr2pbr >= 0 and t - doms[dom, D_REFPB] < pbr2pbr:
            _flag(counts, rec, nrec, i, V_TPBR2PBR, doms[dom, D_REFPB], pbr2pbr, t - doms[dom, D_REFPB])
        doms[dom, D_REFPB] = t
    _held(counts, rec, nrec, doms)


@njit(cache=True, inline="always")
def _four_activate_window(counts, rec, nrec, i, doms, k, dom, t, refpb_faw, faw):
    """ACT, ACT-1 (and REFpb where it counts as an activate): no more than four in any tFAW window of
    the rank (JESD79-4 timing table); ``t`` goes into the rank's ring of its last four."""
    if k == _ACT or k == _ACT1 or (k == _REFPB and refpb_faw):
        slot = D_FAW + doms[dom, D_FAW_K]
        old = doms[dom, slot]
        if t - old < faw:
            _flag(counts, rec, nrec, i, V_TFAW, old, faw, t - old)
        doms[dom, slot] = t
        doms[dom, D_FAW_K] = (doms[dom, D_FAW_K] + 1) % 4
    _held(counts, rec, nrec, doms)


@njit(cache=True, inline="always")
def _refresh(counts, rec, nrec, i, bank, k, lo, hi, t, max_ref_gap, rfc):
    """REFab / REFpb: the refresh-rate gap since each covered bank's last refresh; starts tRFC / tRFCpb."""
    if k == _REFAB or k == _REFPB:
        if max_ref_gap > 0:
            for b in range(lo, hi):
                if t - bank[b, B_LAST_REF] > max_ref_gap:
                    _flag(counts, rec, nrec, i, V_REF_RATE, bank[b, B_LAST_REF], max_ref_gap,
                          t - bank[b, B_LAST_REF])
                    break
        for b in range(lo, hi):
            bank[b, B_LAST_REF] = t
            bank[b, B_REF_AT] = t
            bank[b, B_REF_UNTIL] = t + rfc
            bank[b, B_REF_PB] = 1 if k == _REFPB else 0
    _held(counts, rec, nrec, bank)


@njit(cache=True, inline="always")
def _activate2(counts, rec, nrec, i, bank, k, b, t, r_row, aad):
    """LPDDR5 ACT-2 completes the ACT-1 of bank ``b`` for the same row (JESD209-5 'Activate') within tAAD."""
    if k == _ACT2:
        if bank[b, B_STATE] != 1 or bank[b, B_ROW] != r_row:
            _flag(counts, rec, nrec, i, V_BANK_STATE, -1, -1, -1)
        elif aad >= 0 and t - bank[b, B_ACT] > aad:
            _flag(counts, rec, nrec, i, V_TAAD, bank[b, B_ACT], aad, t - bank[b, B_ACT])
        bank[b, B_STATE] = 2
        bank[b, B_ROW] = r_row
    _held(counts, rec, nrec, bank)


@njit(cache=True, inline="always")
def _precharge(counts, rec, nrec, i, bank, doms, k, lo, hi, dom, t, rp, ppd, ras, rtp, wr_to_pre):
    """PRE / PREab: tPPD per rank; tRAS, tRTP and tWR per open bank, each flagged once; closes the banks."""
    if k == _PRE or k == _PREA:
        if ppd >= 0 and t - doms[dom, D_PRE] < ppd:
            _flag(counts, rec, nrec, i, V_TPPD, doms[dom, D_PRE], ppd, t - doms[dom, D_PRE])
        doms[dom, D_PRE] = t
        f_ras = False
        f_rtp = False
        f_wr = False
        for b in range(lo, hi):
            if bank[b, B_STATE] == 0:
                continue                 # precharge of an idle bank is a NOP (JESD79-4 'Precharge Command')
            if (not f_ras) and t - bank[b, B_ACT] < ras:
                _flag(counts, rec, nrec, i, V_TRAS, bank[b, B_ACT], ras, t - bank[b, B_ACT])
                f_ras = True
            if (not f_rtp) and t - bank[b, B_RD] < rtp:
                _flag(counts, rec, nrec, i, V_TRTP, bank[b, B_RD], rtp, t - bank[b, B_RD])
                f_rtp = True
            if (not f_wr) and t - bank[b, B_WR] < wr_to_pre:
                _flag(counts, rec, nrec, i, V_TWR, bank[b, B_WR], wr_to_pre, t - bank[b, B_WR])
                f_wr = True
            bank[b, B_STATE] = 0
            bank[b, B_PRE_AT] = t
            bank[b, B_PRE_READY] = t + rp
    _held(counts, rec, nrec, bank, doms)


@njit(cache=True, inline="always")
def _column_open(counts, rec, nrec, i, bank, k, lo, hi, t, r_row, rcd):
    """RD / WR / RDA / WRA / MACab: every covered bank open on ``r_row`` (bank-state), tRCD from its
    (first) activate."""
    if k == _RD or k == _WR or k == _RDA or k == _WRA or k == _PMAC:
        bad = False
        for b in range(lo, hi):
            if bank[b, B_STATE] != 2 or bank[b, B_ROW] != r_row:
                bad = True
        if bad:
            _flag(counts, rec, nrec, i, V_BANK_STATE, -1, -1, -1)
        for b in range(lo, hi):
            if t - bank[b, B_ACT] < rcd:
                _flag(counts, rec, nrec, i, V_TRCD, bank[b, B_ACT], rcd, t - bank[b, B_ACT])
                break
    _held(counts, rec, nrec, bank)


@njit(cache=True, inline="always")
def _column_close(bank, k, lo, hi, t, ras, rp, tp):
    """RD / WR / RDA / WRA / MACab: the banks' last read or write; RDA / WRA close the bank at their
    auto-precharge, max(RD + tRTP, ACT + tRAS) or WR + WL + BL/2 + tWR (JESD79-4 'Auto-Precharge
    Operation')."""
    if k == _RD or k == _WR or k == _RDA or k == _WRA or k == _PMAC:
        col = B_RD if k == _RD or k == _RDA or k == _PMAC else B_WR
        for b in range(lo, hi):
            bank[b, col] = t
        if k == _RDA or k == _WRA:
            if bank[lo, B_ACT] + ras > tp:
                tp = bank[lo, B_ACT] + ras
            bank[lo, B_STATE] = 0
            bank[lo, B_PRE_AT] = tp
            bank[lo, B_PRE_READY] = tp + rp
    _held(bank)


@njit(cache=True, inline="always")
def _cas_read(counts, rec, nrec, i, doms, groups, k, dom, bgi, t, ccd_l, ccd_s, wtr_l, wtr_s):
    """RD / RDA: tCCD_L / tCCD_S after the last RD of the bank group / rank (JESD79-4 timing table),
    tWTR_L / tWTR_S from the end of write data (JESD79-4 'Write to Read': WL + BL/2 + tWTR_S/_L)."""
    if k == _RD or k == _RDA:
        _long_short(counts, rec, nrec, i, t, groups[bgi, G_RD], ccd_l, V_TCCD_L, doms[dom, D_RD], ccd_s, V_TCCD_S)
        _long_short(counts, rec, nrec, i, t, groups[bgi, G_WR], wtr_l, V_TWTR_L, doms[dom, D_WR], wtr_s, V_TWTR_S)
        groups[bgi, G_RD] = t
        doms[dom, D_RD] = t
    _held(counts, rec, nrec, doms, groups)


@njit(cache=True, inline="always")
def _cas_write(counts, rec, nrec, i, doms, groups, k, dom, bgi, t, ccd_l, ccd_s):
    """WR / WRA: tCCD_L_WR / tCCD_S_WR after the last WR of the bank group / rank (as tCCD_L / tCCD_S)."""
    if k == _WR or k == _WRA:
        _long_short(counts, rec, nrec, i, t, groups[bgi, G_WR], ccd_l, V_TCCD_L, doms[dom, D_WR], ccd_s, V_TCCD_S)
        groups[bgi, G_WR] = t
        doms[dom, D_WR] = t
    _held(counts, rec, nrec, doms, groups)


@njit(cache=True, inline="always")
def _pim_mac(counts, rec, nrec, i, chan, k, ch, t, mac, gb):
    """MACab: the MAC units take one all-bank step per nMAC; the global buffer's operand must be on the
    device: its write burst ends at WRGB + nCWL + nBL."""
    if k == _PMAC:
        if mac >= 0 and t - chan[ch, C_MAC] < mac:
            _flag(counts, rec, nrec, i, V_TMAC, chan[ch, C_MAC], mac, t - chan[ch, C_MAC])
        if t - chan[ch, C_GB] < gb:
            _flag(counts, rec, nrec, i, V_PIM_GB, chan[ch, C_GB], gb, t - chan[ch, C_GB])
        chan[ch, C_MAC] = t
    _held(counts, rec, nrec, chan)


@njit(cache=True, inline="always")
def _pim_result(counts, rec, nrec, i, chan, k, ch, t, maclat):
    """WRGB marks the channel's global-buffer write; RDRES is tMACLAT after the last MAC."""
    if k == _PWGB:
        chan[ch, C_GB] = t
    elif k == _PRES and maclat >= 0 and t - chan[ch, C_MAC] < maclat:
        _flag(counts, rec, nrec, i, V_TMACLAT, chan[ch, C_MAC], maclat, t - chan[ch, C_MAC])
    _held(counts, rec, nrec, chan)


@njit(cache=True)
def _refresh_rate_at_end(counts, rec, nrec, i, t, bank, chan, per_ch, max_ref_gap):
    """At the log's last row ``i`` (cycle ``t``): the first bank of a used channel not refreshed within the gap."""
    for b in range(bank.shape[0]):
        if chan[b // per_ch, C_SEEN] and t - bank[b, B_LAST_REF] > max_ref_gap:
            _flag(counts, rec, nrec, i, V_REF_RATE, bank[b, B_LAST_REF], max_ref_gap, t - bank[b, B_LAST_REF])
            break


@njit(cache=True, inline="always")
def _burst(counts, rec, nrec, i, bursts, burst_k, k, busi, rank, t, cl, cwl, bl, rsw):
    """RD / WR / RDA / WRA (rank ``rank``) and WRGB / RDRES (rank 0): a burst on data bus ``busi`` over
    [start, start + nBL), start = t + nCL (reads) or t + nCWL (writes); no overlap with any other burst,
    ``rsw`` cycles of gap when the ranks differ (JESD79-4 tRTRS)."""
    rd = k == _RD or k == _RDA or k == _PRES
    start = t + (cl if rd else cwl)
    end = start + bl
    if rd or k == _WR or k == _WRA or k == _PWGB:
        if k == _PWGB or k == _PRES:
            rank = 0
        for q in range(bursts.shape[1]):
            s = bursts[busi, q, U_START]
            e = bursts[busi, q, U_END]
            if start < e and s < end:
                _flag(counts, rec, nrec, i, V_DATA_BUS, s, -1, start - s)
                break
            if bursts[busi, q, U_RANK] != rank and start < e + rsw and s < end + rsw:
                _flag(counts, rec, nrec, i, V_RANK_SWITCH, e, rsw, start - e if start >= e else s - end)
                break
        q = burst_k[busi]
        bursts[busi, q, U_START] = start
        bursts[busi, q, U_END] = end
        bursts[busi, q, U_RANK] = rank
        burst_k[busi] = (q + 1) % bursts.shape[1]
    _held(counts, rec, nrec, bursts, burst_k)


__all__ = ["TIMINGS", "RULES", "MissingTiming", "PhysicalReport", "physical_timings", "command_buses",
           "physical_check"]
