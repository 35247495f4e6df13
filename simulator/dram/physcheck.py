"""Physical timing checker for DRAM command logs (does not read the constraint table).

``checker.check_log`` replays a log against the standard's own constraint rows,
the rows the core schedules with: a missing or wrong row passes both. This
module judges a log from the device's physics and the JEDEC definitions
instead, using only the organisation (levels and their sizes), the *named*
timing parameters (``nCL``, ``nRCD``, ``nFAW``, ...), the command roles and
scopes, and the command buses. It never reads ``constraints:``.

Rules (each a rule name in the violations; JEDEC clauses cited at
:data:`TIMINGS` and in :func:`_check_kernel`):

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
from .standard import ROLES

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

# LPDDR5 in bank-group mode: a write to read of the same bank group waits WL + BL/n_max + tWTR_L,
# BL/n_max (nBL_max) being the column array cycle time, not the burst's BL/n_min on the bus
# (JESD209-5B write-to-read timing tables; Ramulator 2 lpddr5.py cites Tables 330-332).
WTR_L_BL_MAX = {"LPDDR5"}

# Internal role codes of the kernel (from the standard's role names).
_K = {
    "activate": 1, "activate1": 12, "activate2": 2, "precharge": 3, "precharge_all": 4,
    "read": 5, "write": 6, "read_ap": 7, "write_ap": 8, "refresh_all": 9, "refresh_bank": 10,
    "cas_read": 11, "cas_write": 11, "pim_activate_all": 13, "pim_mac_all": 14,
    "pim_write_gb": 15, "pim_read_result": 16,
}
assert set(_K) == set(ROLES)

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
    if "refresh_bank" in std.roles and out["RFC_PB"] is None:
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
    kind = np.array([_K[r] for r in std.roles], np.int64)
    scope = np.array(std.scopes, np.int64)
    bus, cyc, bus_names = command_buses(std)
    sizes = np.array(std.level_sizes, np.int64)
    names = list(std.level_names)
    dom_lvl = 1 if nlev > 2 and names[1] in ("rank", "pseudochannel") else 0
    bus_lvl = 1 if nlev > 2 and names[1] == "pseudochannel" else 0
    bg_lvl = names.index("bankgroup") if "bankgroup" in names else nlev - 1
    refpb_faw = any(std.family.upper().startswith(f) for f in REFPB_IN_FAW)
    bl_wtr_l = std.timing["nBL_max"] if any(std.family.upper().startswith(f) for f in WTR_L_BL_MAX) \
        and "nBL_max" in std.timing else tm["BL"]
    _check_ranges(std, arr)
    order = np.argsort(arr[:, 0], kind="stable")
    counts, rec = _check_kernel(arr, order, nlev, sizes, kind, scope, bus, cyc, len(bus_names), tvec,
                                dom_lvl, bus_lvl, bg_lvl, refpb_faw, bl_wtr_l,
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


# kernel role codes (see _K)
_ACT, _ACT2, _PRE, _PREA, _RD, _WR, _RDA, _WRA, _REFAB, _REFPB, _CAS, _ACT1 = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
_PACT, _PMAC, _PWGB, _PRES = 13, 14, 15, 16
NEG = -(1 << 60)
NBURST = 16        # bursts remembered per data bus (enough: bursts start <= max(nCL, nCWL) after their command)


@njit(cache=True)
def _flag(counts, rec, nrec, maxrec, i, rule, ref, need, got):
    counts[rule] += 1
    if nrec[0] < maxrec:
        k = nrec[0]
        rec[k, 0] = i
        rec[k, 1] = rule
        rec[k, 2] = ref
        rec[k, 3] = need
        rec[k, 4] = got
        nrec[0] += 1


@njit(cache=True)
def _check_kernel(log, order, nlev, sizes, kind, scope, bus, cyc, nbus, tm, dom_lvl, bus_lvl, bg_lvl,
                  refpb_faw, bl_wtr_l, maxrec):
    CL, CWL, BL = tm[0], tm[1], tm[2]
    RCD_RD, RCD_WR, RP, RP_AB, RAS, RC, RTP, WRc = tm[3], tm[4], tm[5], tm[6], tm[7], tm[8], tm[9], tm[10]
    CCD_S, CCD_L, CCD_S_WR, CCD_L_WR = tm[11], tm[12], tm[13], tm[14]
    RRD_S, RRD_L, FAW, WTR_S, WTR_L = tm[15], tm[16], tm[17], tm[18], tm[19]
    RFC_AB, RFC_PB, RSW, PPD, PBR2PBR, PBR2ACT, AAD = tm[20], tm[21], tm[22], tm[23], tm[24], tm[25], tm[26]
    REFI, MAC, MACLAT = tm[27], tm[28], tm[29]
    max_ref_gap = (REFRESH_POSTPONE + 1) * REFI if REFI > 0 else -1
    if RSW < 0:
        RSW = 0
    n = log.shape[0]
    # banks per node at each level (flattened bank index = mixed radix of the address)
    below = np.ones(nlev + 1, np.int64)
    for l in range(nlev - 1, -1, -1):
        below[l] = below[l + 1] * sizes[l]
    nbank = below[0]
    per_dom = below[dom_lvl + 1] if dom_lvl > 0 else below[1]
    per_bus = below[bus_lvl + 1] if bus_lvl > 0 else below[1]
    per_bg = below[bg_lvl + 1]
    nch = sizes[0]
    ndom = nbank // per_dom
    nbg = nbank // per_bg
    nbuses = nbank // per_bus
    rank_sz = sizes[1] if (dom_lvl == 1 and bus_lvl == 0) else 1
    # bank state
    st = np.zeros(nbank, np.int64)            # 0 closed, 1 ACT1 issued, 2 open
    row = np.full(nbank, -1, np.int64)
    t_act = np.full(nbank, NEG, np.int64)
    t_rd = np.full(nbank, NEG, np.int64)
    t_wr = np.full(nbank, NEG, np.int64)
    pre_ready = np.full(nbank, NEG, np.int64)     # earliest ACT/REF after the last precharge
    pre_at = np.full(nbank, NEG, np.int64)
    ref_until = np.full(nbank, NEG, np.int64)
    ref_at = np.full(nbank, NEG, np.int64)
    ref_pb = np.zeros(nbank, np.bool_)
    last_ref = np.zeros(nbank, np.int64)          # the device is taken as refreshed at cycle 0
    # PIM state per channel
    mac_ch = np.full(nch, NEG, np.int64)
    seen_ch = np.zeros(nch, np.bool_)             # channels the log uses (the end-of-log refresh check)
    gb_ch = np.full(nch, NEG, np.int64)
    # rank (activation domain) state
    faw = np.full((ndom, 4), NEG, np.int64)       # last four ACT times (ring)
    faw_k = np.zeros(ndom, np.int64)
    act_dom = np.full(ndom, NEG, np.int64)
    act_bg = np.full(nbg, NEG, np.int64)
    rd_dom = np.full(ndom, NEG, np.int64)
    rd_bg = np.full(nbg, NEG, np.int64)
    wr_dom = np.full(ndom, NEG, np.int64)
    wr_bg = np.full(nbg, NEG, np.int64)
    pre_dom = np.full(ndom, NEG, np.int64)
    refpb_dom = np.full(ndom, NEG, np.int64)
    # buses
    cmd_busy = np.full(nch * nbus, NEG, np.int64)
    b_s = np.full((nbuses, NBURST), NEG, np.int64)
    b_e = np.full((nbuses, NBURST), NEG, np.int64)
    b_r = np.zeros((nbuses, NBURST), np.int64)
    b_k = np.zeros(nbuses, np.int64)
    counts = np.zeros(N_RULES, np.int64)
    rec = np.zeros((maxrec, 5), np.int64)
    nrec = np.zeros(1, np.int64)

    for j in range(n):
        i = order[j]
        t = log[i, 0]
        c = log[i, 1]
        k = kind[c]
        ch = log[i, 2]
        seen_ch[ch] = True
        r_row = log[i, 2 + nlev]
        # bank range covered by the command: its address down to its scope level
        lo = 0
        span = 1
        wide = False
        for l in range(nlev):
            a = log[i, 2 + l]
            if (not wide) and l <= scope[c] and a >= 0:
                lo = lo * sizes[l] + a
            else:
                wide = True
                lo = lo * sizes[l]
                span *= sizes[l]
        hi = lo + span
        b0 = lo
        dom = b0 // per_dom
        bgi = b0 // per_bg
        busi = b0 // per_bus
        rank = (b0 // per_dom) % rank_sz
        # ---- command bus (JESD79-4 'Command Truth Table': one command per clock per bus;
        #      JESD235 HBM: separate row and column command interfaces, ACT takes two cycles)
        cb = ch * nbus + bus[c]
        if t < cmd_busy[cb]:
            _flag(counts, rec, nrec, maxrec, i, V_COMMAND_BUS, cmd_busy[cb], -1, t)
        if t + cyc[c] > cmd_busy[cb]:
            cmd_busy[cb] = t + cyc[c]
        # every timing counts from the clock that completes a command: a multi-cycle command (HBM's
        # two-clock ACT) takes effect on its last clock, so the log's first clock + cycles - 1.
        # JESD235 registers ACT's row address over two clocks; Ramulator 2 (python/ramulator/dram/
        # spec.py, 'multi-cycle command adjustment') states the same convention: "JEDEC timings are
        # measured between when the DRAM finishes receiving each command".
        t = t + cyc[c] - 1
        # ---- refresh in progress on any covered bank (tRFC / tRFCpb: only DES/NOP to the refreshing banks,
        #      'Refresh Command' sections of JESD79-4, JESD209-5, JESD250, JESD235)
        if k != _CAS:
            for b in range(lo, hi):
                if t < ref_until[b]:
                    _flag(counts, rec, nrec, maxrec, i, V_TRFCPB if ref_pb[b] else V_TRFC, ref_at[b],
                          ref_until[b] - ref_at[b], t - ref_at[b])
                    break
        if k == _ACT or k == _ACT1 or k == _PACT:
            for b in range(lo, hi):
                if st[b] != 0:
                    _flag(counts, rec, nrec, maxrec, i, V_BANK_STATE, -1, -1, -1)
                    break
            for b in range(lo, hi):
                if t < pre_ready[b]:      # tRP: PRE to ACT same bank
                    _flag(counts, rec, nrec, maxrec, i, V_TRP, pre_at[b], pre_ready[b] - pre_at[b], t - pre_at[b])
                    break
            for b in range(lo, hi):
                if t - t_act[b] < RC:     # tRC: ACT to ACT same bank
                    _flag(counts, rec, nrec, maxrec, i, V_TRC, t_act[b], RC, t - t_act[b])
                    break
            if k != _PACT:
                # tRRD_S / tRRD_L (JESD79-4 timing table; rank scope, bank group for _L)
                if t - act_bg[bgi] < RRD_L:
                    _flag(counts, rec, nrec, maxrec, i, V_TRRD_L, act_bg[bgi], RRD_L, t - act_bg[bgi])
                elif t - act_dom[dom] < RRD_S:
                    _flag(counts, rec, nrec, maxrec, i, V_TRRD_S, act_dom[dom], RRD_S, t - act_dom[dom])
                if PBR2ACT >= 0 and t - refpb_dom[dom] < PBR2ACT:
                    _flag(counts, rec, nrec, maxrec, i, V_TPBR2ACT, refpb_dom[dom], PBR2ACT, t - refpb_dom[dom])
                # tFAW: no more than four ACTs in any tFAW window (JESD79-4 timing table, tFAW)
                old = faw[dom, faw_k[dom]]
                if t - old < FAW:
                    _flag(counts, rec, nrec, maxrec, i, V_TFAW, old, FAW, t - old)
                faw[dom, faw_k[dom]] = t
                faw_k[dom] = (faw_k[dom] + 1) % 4
                act_dom[dom] = t
                act_bg[bgi] = t
            for b in range(lo, hi):
                st[b] = 1 if k == _ACT1 else 2     # ACT1 leaves the bank activating until ACT2
                row[b] = r_row
                t_act[b] = t
        elif k == _ACT2:
            # LPDDR5 ACT-2 completes the ACT-1 of the same bank (JESD209-5 'Activate') within tAAD
            if st[lo] != 1 or row[lo] != r_row:
                _flag(counts, rec, nrec, maxrec, i, V_BANK_STATE, -1, -1, -1)
            elif AAD >= 0 and t - t_act[lo] > AAD:
                _flag(counts, rec, nrec, maxrec, i, V_TAAD, t_act[lo], AAD, t - t_act[lo])
            st[lo] = 2
            row[lo] = r_row
        elif k == _PRE or k == _PREA:
            rp = RP if k == _PRE else RP_AB
            if PPD >= 0 and t - pre_dom[dom] < PPD:
                _flag(counts, rec, nrec, maxrec, i, V_TPPD, pre_dom[dom], PPD, t - pre_dom[dom])
            pre_dom[dom] = t
            f_ras = False
            f_rtp = False
            f_wr = False
            for b in range(lo, hi):
                if st[b] == 0:
                    continue                 # precharge of an idle bank is a NOP (JESD79-4 'Precharge Command')
                if (not f_ras) and t - t_act[b] < RAS:
                    _flag(counts, rec, nrec, maxrec, i, V_TRAS, t_act[b], RAS, t - t_act[b])
                    f_ras = True
                if (not f_rtp) and t - t_rd[b] < RTP:
                    _flag(counts, rec, nrec, maxrec, i, V_TRTP, t_rd[b], RTP, t - t_rd[b])
                    f_rtp = True
                if (not f_wr) and t - t_wr[b] < CWL + BL + WRc:
                    _flag(counts, rec, nrec, maxrec, i, V_TWR, t_wr[b], CWL + BL + WRc, t - t_wr[b])
                    f_wr = True
                st[b] = 0
                pre_at[b] = t
                pre_ready[b] = t + rp
        elif k == _RD or k == _WR or k == _RDA or k == _WRA or k == _PMAC:
            is_rd = k == _RD or k == _RDA or k == _PMAC
            bad = False
            for b in range(lo, hi):
                if st[b] != 2 or row[b] != r_row:
                    bad = True
            if bad:
                _flag(counts, rec, nrec, maxrec, i, V_BANK_STATE, -1, -1, -1)
            rcd = RCD_RD if is_rd else RCD_WR
            for b in range(lo, hi):
                if t - t_act[b] < rcd:   # tRCD from the (first) activate
                    _flag(counts, rec, nrec, maxrec, i, V_TRCD, t_act[b], rcd, t - t_act[b])
                    break
            if k == _PMAC:
                # the MAC units take one all-bank step per nMAC; the global buffer's operand must be
                # on the device: its write burst ends at WRGB + nCWL + nBL
                if MAC >= 0 and t - mac_ch[ch] < MAC:
                    _flag(counts, rec, nrec, maxrec, i, V_TMAC, mac_ch[ch], MAC, t - mac_ch[ch])
                if t - gb_ch[ch] < CWL + BL:
                    _flag(counts, rec, nrec, maxrec, i, V_PIM_GB, gb_ch[ch], CWL + BL, t - gb_ch[ch])
                mac_ch[ch] = t
            else:
                # tCCD_S / tCCD_L between CAS of the same kind, same rank (JESD79-4 timing table)
                if is_rd:
                    if t - rd_bg[bgi] < CCD_L:
                        _flag(counts, rec, nrec, maxrec, i, V_TCCD_L, rd_bg[bgi], CCD_L, t - rd_bg[bgi])
                    elif t - rd_dom[dom] < CCD_S:
                        _flag(counts, rec, nrec, maxrec, i, V_TCCD_S, rd_dom[dom], CCD_S, t - rd_dom[dom])
                    # tWTR: end of write data to RD (JESD79-4 'Write to Read': WL + BL/2 + tWTR_S/_L)
                    if t - wr_bg[bgi] < CWL + bl_wtr_l + WTR_L:
                        _flag(counts, rec, nrec, maxrec, i, V_TWTR_L, wr_bg[bgi], CWL + bl_wtr_l + WTR_L, t - wr_bg[bgi])
                    elif t - wr_dom[dom] < CWL + BL + WTR_S:
                        _flag(counts, rec, nrec, maxrec, i, V_TWTR_S, wr_dom[dom], CWL + BL + WTR_S, t - wr_dom[dom])
                    rd_bg[bgi] = t
                    rd_dom[dom] = t
                else:
                    if t - wr_bg[bgi] < CCD_L_WR:
                        _flag(counts, rec, nrec, maxrec, i, V_TCCD_L, wr_bg[bgi], CCD_L_WR, t - wr_bg[bgi])
                    elif t - wr_dom[dom] < CCD_S_WR:
                        _flag(counts, rec, nrec, maxrec, i, V_TCCD_S, wr_dom[dom], CCD_S_WR, t - wr_dom[dom])
                    wr_bg[bgi] = t
                    wr_dom[dom] = t
                _burst(counts, rec, nrec, maxrec, i, b_s, b_e, b_r, b_k, busi, rank,
                       t + (CL if is_rd else CWL), BL, RSW)
            for b in range(lo, hi):
                if is_rd:
                    t_rd[b] = t
                else:
                    t_wr[b] = t
            if k == _RDA or k == _WRA:
                # auto-precharge starts at max(RD + tRTP, ACT + tRAS) or WR + WL + BL/2 + tWR
                # (JESD79-4 'Auto-Precharge Operation')
                tp = t + RTP if k == _RDA else t + CWL + BL + WRc
                if t_act[lo] + RAS > tp:
                    tp = t_act[lo] + RAS
                st[lo] = 0
                pre_at[lo] = tp
                pre_ready[lo] = tp + RP
        elif k == _PWGB or k == _PRES:
            # PIM global-buffer write / result read: one burst on the data bus
            if k == _PWGB:
                gb_ch[ch] = t
            elif MACLAT >= 0 and t - mac_ch[ch] < MACLAT:
                _flag(counts, rec, nrec, maxrec, i, V_TMACLAT, mac_ch[ch], MACLAT, t - mac_ch[ch])
            _burst(counts, rec, nrec, maxrec, i, b_s, b_e, b_r, b_k, busi, 0,
                   t + (CL if k == _PRES else CWL), BL, RSW)
        elif k == _REFAB or k == _REFPB:
            bad = False
            for b in range(lo, hi):
                if st[b] != 0:
                    bad = True
            if bad:
                _flag(counts, rec, nrec, maxrec, i, V_BANK_STATE, -1, -1, -1)
            for b in range(lo, hi):
                if t < pre_ready[b]:   # every covered bank precharged >= tRP (tRPab) before
                    _flag(counts, rec, nrec, maxrec, i, V_REF_AFTER_PRE, pre_at[b], pre_ready[b] - pre_at[b], t - pre_at[b])
                    break
            for b in range(lo, hi):
                if t - t_act[b] < RC:
                    _flag(counts, rec, nrec, maxrec, i, V_TRC, t_act[b], RC, t - t_act[b])
                    break
            if k == _REFPB:
                if PBR2PBR >= 0 and t - refpb_dom[dom] < PBR2PBR:
                    _flag(counts, rec, nrec, maxrec, i, V_TPBR2PBR, refpb_dom[dom], PBR2PBR, t - refpb_dom[dom])
                refpb_dom[dom] = t
                if refpb_faw:
                    old = faw[dom, faw_k[dom]]
                    if t - old < FAW:
                        _flag(counts, rec, nrec, maxrec, i, V_TFAW, old, FAW, t - old)
                    faw[dom, faw_k[dom]] = t
                    faw_k[dom] = (faw_k[dom] + 1) % 4
            rfc = RFC_AB if k == _REFAB else RFC_PB
            if max_ref_gap > 0:
                for b in range(lo, hi):
                    if t - last_ref[b] > max_ref_gap:
                        _flag(counts, rec, nrec, maxrec, i, V_REF_RATE, last_ref[b], max_ref_gap, t - last_ref[b])
                        break
            for b in range(lo, hi):
                last_ref[b] = t
                ref_at[b] = t
                ref_until[b] = t + rfc
                ref_pb[b] = k == _REFPB
    if max_ref_gap > 0 and n > 0:
        i = order[n - 1]
        t = log[i, 0]
        for b in range(nbank):
            if seen_ch[b // below[1]] and t - last_ref[b] > max_ref_gap:
                _flag(counts, rec, nrec, maxrec, i, V_REF_RATE, last_ref[b], max_ref_gap, t - last_ref[b])
                break
    return counts, rec[:nrec[0]]


@njit(cache=True)
def _burst(counts, rec, nrec, maxrec, i, b_s, b_e, b_r, b_k, busi, rank, start, bl, rsw):
    """A burst on data bus ``busi`` over [start, start + bl): no overlap with any
    other burst; ``rsw`` cycles of gap when the ranks differ (JESD79-4 tRTRS)."""
    end = start + bl
    for q in range(b_s.shape[1]):
        s = b_s[busi, q]
        e = b_e[busi, q]
        if start < e and s < end:
            _flag(counts, rec, nrec, maxrec, i, V_DATA_BUS, s, -1, start - s)
            break
        if b_r[busi, q] != rank and start < e + rsw and s < end + rsw:
            _flag(counts, rec, nrec, maxrec, i, V_RANK_SWITCH, e, rsw, start - e if start >= e else s - end)
            break
    q = b_k[busi]
    b_s[busi, q] = start
    b_e[busi, q] = end
    b_r[busi, q] = rank
    b_k[busi] = (q + 1) % b_s.shape[1]


__all__ = ["TIMINGS", "RULES", "MissingTiming", "PhysicalReport", "physical_timings", "command_buses",
           "physical_check"]
